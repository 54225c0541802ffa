"""The lake's per-variant summary: counted right (against a count of the VCF's call
strings, hemizygous males on X included), stored as a Delta table of the standard's
schema, replaced whole when its dataset is, frozen by releases, and refused for tables
centres submit."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from deltalake import DeltaTable
from vcf_text import write_vcf

from precimed.errors import UserError
from precimed.genomics import GenotypeStore, hwe_exact
from precimed.genomics.summary import publish_variant_summary, variant_summary
from precimed.genomics.vcf import ingest_reference
from precimed.lake import Lake
from precimed.reference.frequencies import TOTAL, build_summary
from precimed.standard import LAKE_TABLES, TABLES

N = 40
SAMPLES = [f"S{i:02d}" for i in range(N)]
SEXES = ["male" if i % 3 == 0 else "female" for i in range(N)]  # 14 males
# (chrom, pos): autosomes, X inside PAR1 (diploid for all), X outside the PARs
SITES = [("1", 1000 + 10 * j) for j in range(30)] + [("X", 100_000), ("X", 5_000_000),
                                                      ("X", 6_000_000)]


def _calls(rng, chrom: str, pos: int) -> list[str]:
    p = rng.uniform(0.05, 0.6)
    out = []
    for sex in SEXES:
        if rng.random() < 0.05:
            out.append("." if chrom == "X" and pos > 3_000_000 and sex == "male" else "./.")
        elif chrom == "X" and pos > 3_000_000 and sex == "male":
            out.append(str(int(rng.random() < p)))  # hemizygous
        else:
            g = rng.binomial(2, p)
            out.append(("0/0", "0/1", "1/1")[g])
    return out


def _records(seed: int, sites=SITES):
    rng = np.random.default_rng(seed)
    return [(c, p, f"rs{p}", "A", "G", _calls(rng, c, p)) for c, p in sites]


def _expected(records) -> dict[str, list]:
    """AC, AN, het, hom-alt and called counted from the call strings themselves."""
    out = {k: [] for k in ("allele_count", "allele_number", "het", "hom_alt", "called")}
    for *_, calls in records:
        alleles = [c.replace("|", "/").split("/") for c in calls if "." not in c]
        out["called"].append(len(alleles))
        out["allele_count"].append(sum(a.count("1") for a in alleles))
        out["allele_number"].append(sum(len(a) for a in alleles))
        out["het"].append(sum(a == ["0", "1"] for a in alleles))
        out["hom_alt"].append(sum(set(a) == {"1"} for a in alleles))
    return out


def _ingest(tmp_path, records, *, dataset="ref", replace=False):
    vcf = write_vcf(tmp_path / f"{dataset}-{len(records)}.vcf", SAMPLES, records)
    panel = tmp_path / "panel.tsv"
    panel.write_text("sample\tpop\tsuper_pop\tgender\n" + "".join(
        f"{s}\tP{i % 2}\tSP\t{g}\n" for i, (s, g) in enumerate(zip(SAMPLES, SEXES,
                                                                    strict=True))))
    return ingest_reference(vcf, tmp_path / "store", dataset=dataset, build="GRCh38",
                            panel=panel, replace=replace)


def _lake_rows(lake: Lake, snapshot=None) -> pa.Table:
    snap = snapshot or lake.snapshot()
    return snap.to_arrow("variant_summary").sort_by([("dataset", "ascending"),
                                                     ("pos", "ascending")])


def test_summary_counts_equal_the_call_strings(tmp_path):
    records = _records(1)
    store = _ingest(tmp_path, records)
    got = variant_summary(store, "ref")
    want = _expected(sorted(records, key=lambda r: (r[0] == "X", r[1])))
    for column, values in want.items():
        assert got[column].tolist() == values, column
    assert (got["samples"] == N).all()
    np.testing.assert_allclose(got["call_rate"], np.array(want["called"]) / N, rtol=1e-12)
    np.testing.assert_allclose(got["allele_frequency"],
                               np.array(want["allele_count"]) / want["allele_number"],
                               rtol=1e-12)
    # the hemizygous rows differ from a diploid count, so the rule was exercised
    hemi = got["chrom"].eq("X") & got["pos"].gt(3_000_000)
    assert (got.loc[hemi, "allele_number"] < 2 * got.loc[hemi, "called"]).all()
    # HWE on autosomes only, equal to the kernel on the same counts
    auto = got["chrom"] == "1"
    hom_ref = got["called"] - got["het"] - got["hom_alt"]
    np.testing.assert_allclose(
        got.loc[auto, "hwe_p"].astype(float),
        hwe_exact(got.loc[auto, "het"], hom_ref[auto], got.loc[auto, "hom_alt"]), rtol=1e-12)
    assert got.loc[~auto, "hwe_p"].isna().all()
    assert got["variant_id"].iloc[0] == "1-1000-A-G" and got["rsid"].iloc[0] == "rs1000"


def test_summary_totals_equal_the_reference_database_all_group(tmp_path):
    store = _ingest(tmp_path, _records(2))
    got = variant_summary(store, "ref")
    total = build_summary(store)
    total = total[total["stratum"] == TOTAL].sort_values("variant_index")
    for column in ("allele_count", "allele_number", "hom_alt", "called"):
        assert got[column].tolist() == total[column].tolist(), column


def test_published_to_the_lake_as_the_standard_declares(home, tmp_path):
    lake = Lake(home.lake_dir)
    store = _ingest(tmp_path, _records(3))
    committed, changed = publish_variant_summary(lake, store, "ref")
    assert changed and committed.rows_added == {"variant_summary": len(SITES)}
    rows = _lake_rows(lake)
    assert rows.schema.equals(LAKE_TABLES["variant_summary"].arrow_schema())
    assert set(rows["centre"].to_pylist()) == {"reference"}
    assert set(rows["dataset_kind"].to_pylist()) == {"reference"}
    assert rows.num_rows == len(SITES)
    # the same dataset again writes nothing
    again, changed = publish_variant_summary(lake, store, "ref")
    assert not changed and again.digest == committed.digest
    assert lake.catalog().version == committed.catalog_version
    # queryable with the rest of the lake through DuckDB
    con = lake.snapshot().connect()
    try:
        n = con.sql("SELECT count(*) AS n FROM variant_summary WHERE chrom = 'X'").execute()
    finally:
        con.disconnect()
    assert int(n["n"].iloc[0]) == 3


def test_a_replaced_dataset_replaces_its_rows_and_releases_keep_the_old(home, tmp_path):
    lake = Lake(home.lake_dir)
    first = _ingest(tmp_path, _records(4))
    publish_variant_summary(lake, first, "ref")
    other = _ingest(tmp_path, _records(5, SITES[:5]), dataset="other")
    publish_variant_summary(lake, other, "other")
    lake.create_release("r1")
    # the reference callset is replaced by one with fewer variants
    fewer = _records(6, SITES[10:20])
    store = _ingest(tmp_path, fewer, replace=True)
    committed, changed = publish_variant_summary(lake, store, "ref")
    assert changed and committed.rows_removed == {"variant_summary": len(SITES)}
    rows = _lake_rows(lake).to_pandas()
    assert sorted(rows.loc[rows.dataset == "ref", "pos"]) == [p for _, p in SITES[10:20]]
    assert (rows.dataset == "other").sum() == 5  # another dataset's rows untouched
    want = _expected(fewer)
    assert rows.loc[rows.dataset == "ref", "allele_count"].tolist() == want["allele_count"]
    frozen = _lake_rows(lake, lake.snapshot("r1")).to_pandas()
    assert (frozen.dataset == "ref").sum() == len(SITES)


def test_replace_rows_is_only_for_derived_tables_and_inside_its_part(home, tmp_path):
    lake = Lake(home.lake_dir)
    store = _ingest(tmp_path, _records(7))
    before = lake.catalog()
    assert "variant_summary" not in TABLES  # no package can name it
    with pytest.raises(UserError, match="not computed by the platform"):
        lake.replace_rows("participant", pa.table({}), where={}, submission_id="x",
                          centre="x", digest="x")
    summary = variant_summary(store, "ref")
    rows = pa.Table.from_pandas(summary, preserve_index=False)
    for name in ("centre", "submission_id", "standard_version", "row_key"):
        rows = rows.append_column(name, pa.array(["x"] * len(summary)))
    with pytest.raises(UserError, match="dataset other than 'elsewhere'"):
        lake.replace_rows("variant_summary", rows, where={"dataset": "elsewhere"},
                          submission_id="x", centre="x", digest="x")
    assert lake.catalog() == before  # nothing written


def test_a_lake_from_before_the_table_gains_it_on_the_next_write(home, tmp_path):
    lake = Lake(home.lake_dir)
    lake.create_release("old")
    catalog = json.loads(lake.catalog_path.read_text())
    for holder in (catalog, catalog["releases"]["old"]):
        del holder["tables"]["variant_summary"]
    lake.catalog_path.write_text(json.dumps(catalog))
    assert lake.snapshot("old").count("variant_summary") == 0  # old releases still read
    store = _ingest(tmp_path, _records(8))
    publish_variant_summary(lake, store, "ref")
    assert DeltaTable(lake.table_path("variant_summary")).count() == len(SITES)
    assert _lake_rows(lake).num_rows == len(SITES)
    assert GenotypeStore.open(tmp_path / "store").datasets == ["ref"]


def test_replaced_rows_are_matched_by_value_not_by_sql_text(home, tmp_path):
    """The dataset travels as data, not inside a predicate: a value that reads as SQL
    matches nothing and deletes nothing."""
    lake = Lake(home.lake_dir)
    publish_variant_summary(lake, _ingest(tmp_path, _records(4)), "ref")
    empty = LAKE_TABLES["variant_summary"].arrow_schema().empty_table()
    committed, _ = lake.replace_rows("variant_summary", empty,
                                     where={"dataset": "x' OR dataset <> 'x"},
                                     submission_id="x", centre="x", digest="odd")
    assert committed.rows_removed == {"variant_summary": 0}
    assert _lake_rows(lake).num_rows == len(SITES)
