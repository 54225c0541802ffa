"""VCF ingest (splitting, trimming, calls), the store's reads, participants and assays."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pyarrow as pa
import pytest
from vcf_text import write_vcf

from precimed.deid.pseudonym import Pseudonymiser, load_key
from precimed.errors import UserError
from precimed.genomics import GenotypeStore
from precimed.genomics.vcf import (
    ingest_participants,
    ingest_reference,
    record_assays,
    trim_alleles,
)
from precimed.lake import Lake
from precimed.lake.rows import with_row_keys

SAMPLES = ["s1", "s2", "s3"]
RECORDS = [
    ("chr1", 100, "rs1", "A", "G", ["0/0", "0/1", "1|1"]),
    ("1", 200, ".", "C", "T,G", ["1/2", "2/2", "./."]),  # multi-allelic
    ("1", 300, "rs3", "CTT", "CT", ["0/1", "0/0", "0/."]),  # indel to trim; a half-call
    ("X", 5000000, "rs4", "G", "A", ["1", "0", "0/1"]),  # haploid calls
    ("1", 150, "rs5", "T", "C", ["0/0", "0/0", "0/0"]),  # out of order in the file
]


@pytest.fixture
def vcf(tmp_path):
    return write_vcf(tmp_path / "ref.vcf", SAMPLES, RECORDS)


def test_trim_drops_shared_suffix_then_prefix():
    assert trim_alleles(300, "CTT", "CT") == (300, "CT", "C")
    assert trim_alleles(66381, "TATATA", "AATATA") == (66381, "T", "A")
    assert trim_alleles(10, "GCA", "GTA") == (11, "C", "T")
    assert trim_alleles(10, "A", "AC") == (10, "A", "AC")


def test_reference_ingest_splits_trims_sorts_and_codes_calls(vcf, tmp_path):
    store = ingest_reference(vcf, tmp_path / "store", dataset="ref", build="GRCh38")
    v = store.variants()
    assert list(zip(v.chrom, v.pos, v.ref, v.alt, strict=True)) == [
        ("1", 100, "A", "G"), ("1", 150, "T", "C"), ("1", 200, "C", "G"), ("1", 200, "C", "T"),
        ("1", 300, "CT", "C"), ("X", 5000000, "G", "A")]
    assert v.rsid.tolist() == ["rs1", "rs5", None, None, "rs3", "rs4"]
    assert (v.build == "GRCh38").all() and v.variant_index.tolist() == list(range(6))
    expected = np.array([[0, 0, 1, 1, 1, 2],    # s1: 1/2 is het for G and for T
                         [1, 0, 2, 0, 0, 0],    # s2: 2/2 -> two G, no T
                         [2, 0, -1, -1, 0, 1]], dtype=np.int8)  # 0/. typed as hom-REF
    assert (store.genotypes() == expected).all()
    assert (store.genotypes([5, 0], [2, 0]) == expected[[2, 0]][:, [5, 0]]).all()
    c = store.counts([0, 2, 4], [True, True, False])
    assert c["allele_count"].tolist() == [1, 3, 1]
    assert c["allele_number"].tolist() == [4, 4, 4]
    assert c["missing"].tolist() == [0, 0, 0]


def test_a_second_dataset_widens_the_variant_table(vcf, tmp_path):
    ingest_reference(vcf, tmp_path / "store", dataset="ref", build="GRCh38")
    other = write_vcf(tmp_path / "b.vcf", ["t1"], [("1", 100, "rs1", "A", "G", ["1/1"]),
                                                  ("1", 120, "rsN", "G", "T", ["0/1"])])
    store = ingest_reference(other, tmp_path / "store", dataset="other", build="GRCh38")
    assert store.datasets == ["ref", "other"]
    assert store.samples("other").sample_index.tolist() == [3]
    v = store.variants()
    new = v.index[v.pos == 120][0]
    g = store.genotypes([0, new])
    assert g[:3, 1].tolist() == [-1, -1, -1]  # not typed in 'ref': missing there
    assert g[3].tolist() == [2, 1]
    assert store.counts([new])["missing"].tolist() == [3]
    with pytest.raises(UserError, match="already in the store"):
        ingest_reference(other, tmp_path / "store", dataset="other", build="GRCh38")
    with pytest.raises(UserError, match="GRCh37") as caught:
        ingest_reference(other, tmp_path / "store", dataset="old", build="GRCh37")
    assert "Lift" in caught.value.hint


def test_reopened_store_reads_the_same(vcf, tmp_path):
    first = ingest_reference(vcf, tmp_path / "store", dataset="ref", build="GRCh38")
    again = GenotypeStore.open(tmp_path / "store")
    assert (again.genotypes() == first.genotypes()).all()
    with pytest.raises(UserError, match="No genotype store"):
        GenotypeStore.open(tmp_path / "nowhere")


# -- participants -----------------------------------------------------------------------

IDS = {"s1": "110101198001010010", "s2": "310101199002020028", "s3": "440101197003030033"}


def enrol(settings, ids):
    """Commit participant rows for these resident IDs straight to the lake."""
    pseudonymise = Pseudonymiser(load_key(settings.pseudonym_key_file))
    n = len(ids)
    rows = pa.table({
        "pseudonym": [pseudonymise(i) for i in ids], "cohort": ["NP-EAST"] * n,
        "sex": ["1", "2", "1"][:n], "birth_year_month": ["1980-01"] * n,
        "native_province": ["11", "31", "44"][:n], "region": ["north", "east", "south"][:n],
        "ethnicity": ["01"] * n, "enrolment_date": [dt.date(2020, 1, 1)] * n,
        "consent_date": [dt.date(2020, 1, 1)] * n, "consent_scope": ["broad"] * n,
        "centre": ["SH01"] * n, "submission_id": ["test"] * n, "standard_version": ["1.0.0"] * n,
    })
    con = ibis.duckdb.connect()
    Lake(settings.lake_dir).commit({"participant": with_row_keys("participant", rows, con)},
                                   submission_id="test", centre="SH01", digest="enrol")
    return pseudonymise


def sheet(path, pairs):
    path.write_text("sample_id,resident_id\n" + "".join(f"{s},{r}\n" for s, r in pairs))
    return path


def test_participant_ingest_stores_pseudonyms_and_commits_assays(home, vcf, tmp_path):
    pseudonymise = enrol(home, list(IDS.values()))
    lake = Lake(home.lake_dir)
    store, rows = ingest_participants(
        vcf, tmp_path / "store", sample_sheet=sheet(tmp_path / "s.csv", IDS.items()),
        build="GRCh38", lake=lake, pseudonymise=pseudonymise, centre="SH01",
        performed_on=dt.date(2024, 5, 1), assay_type="wgs")
    samples = store.samples("precimed")
    assert samples.sample_id.tolist() == [pseudonymise(r) for r in IDS.values()]
    assert samples.sex.tolist() == ["1", "2", "1"]
    assert samples.native_province.tolist() == ["11", "31", "44"]
    stored = b"".join(p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file())
    assert not any(r.encode() in stored for r in IDS.values())  # no resident ID on disk
    assert rows.num_rows == 3 and set(rows["assay_type"].to_pylist()) == {"wgs"}
    committed, changed = record_assays(lake, rows, centre="SH01", digest="vcf-sha")
    assert changed and committed.rows_added == {"assay": 3}
    assert lake.snapshot().count("assay") == 3
    assert record_assays(lake, rows, centre="SH01", digest="vcf-sha")[1] is False


def test_a_sample_missing_from_the_sheet_is_named(home, vcf, tmp_path):
    pseudonymise = enrol(home, list(IDS.values()))
    with pytest.raises(UserError) as caught:
        ingest_participants(vcf, tmp_path / "store",
                            sample_sheet=sheet(tmp_path / "s.csv", list(IDS.items())[:2]),
                            build="GRCh38", lake=Lake(home.lake_dir), pseudonymise=pseudonymise,
                            centre="SH01", performed_on=dt.date(2024, 5, 1))
    assert "s3" in caught.value.what and "sheet" in caught.value.hint
    assert not (tmp_path / "store" / "store.json").exists()


def test_a_person_who_is_not_a_participant_is_refused(home, vcf, tmp_path):
    pseudonymise = enrol(home, list(IDS.values())[:2])
    with pytest.raises(UserError) as caught:
        ingest_participants(vcf, tmp_path / "store",
                            sample_sheet=sheet(tmp_path / "s.csv", IDS.items()),
                            build="GRCh38", lake=Lake(home.lake_dir), pseudonymise=pseudonymise,
                            centre="SH01", performed_on=dt.date(2024, 5, 1))
    assert "s3" in caught.value.what and "not a participant" in caught.value.what
    assert IDS["s3"] not in caught.value.one_line()


def test_an_invalid_resident_id_is_refused_without_echoing_it(home, vcf, tmp_path):
    pseudonymise = enrol(home, list(IDS.values()))
    bad = [("s1", "110101198001010011"), *list(IDS.items())[1:]]
    with pytest.raises(UserError) as caught:
        ingest_participants(vcf, tmp_path / "store", sample_sheet=sheet(tmp_path / "s.csv", bad),
                            build="GRCh38", lake=Lake(home.lake_dir), pseudonymise=pseudonymise,
                            centre="SH01", performed_on=dt.date(2024, 5, 1))
    assert "check digit" in caught.value.what and "row 2" in caught.value.where
    assert "110101198001010011" not in caught.value.one_line()


def test_an_undeclared_build_is_refused(vcf, tmp_path):
    with pytest.raises(UserError, match="hg19"):
        ingest_reference(vcf, tmp_path / "store", dataset="ref", build="hg19")


def direct_counts(g: np.ndarray) -> dict[str, list[int]]:
    """Counts from the int8 genotype matrix (samples x variants, -1 missing)."""
    return {"hom_ref": (g == 0).sum(0).tolist(), "het": (g == 1).sum(0).tolist(),
            "hom_alt": (g == 2).sum(0).tolist(), "missing": (g == -1).sum(0).tolist(),
            "allele_count": np.where(g > 0, g, 0).sum(0).tolist()}


def test_counts_over_every_path_equal_the_genotype_matrix(vcf, tmp_path):
    """A dataset that types every store variant (a run of its rows counted in place) and,
    once a second dataset widens the store, looked up by key; all samples or a subset,
    variants in a run or scattered."""
    first = ingest_reference(vcf, tmp_path / "store", dataset="ref", build="GRCh38")
    other = write_vcf(tmp_path / "b.vcf", ["t1", "t2"],
                      [("1", 100, "rs1", "A", "G", ["1/1", "0/1"]),
                       ("1", 120, "rsN", "G", "T", ["0/1", "./."])])
    ingest_reference(other, tmp_path / "store", dataset="other", build="GRCh38")
    second = GenotypeStore.open(tmp_path / "store")
    assert (first.n_samples, first.n_variants) == (3, 6)
    assert (second.n_samples, second.n_variants) == (5, 7)
    for store in (first, second):
        for variants in (None, [1, 2, 3], [2, 3, 4], [5, 0, 3]):
            for samples in (None, [0, 2], [True, False, True] + [True] * (store.n_samples - 3)):
                g = store.genotypes(variants, samples)
                got = store.counts(variants, samples)
                for key, want in direct_counts(g).items():
                    assert got[key].tolist() == want, (variants, samples, key)
                assert (got["allele_number"] == 2 * (g >= 0).sum(0)).all()
        assert store.counts(None)["het"].sum() > 0 and store.counts(None)["missing"].sum() > 0


def test_packing_types_calls_as_cyvcf2_does(tmp_path):
    """The compiled packing of a biallelic record equals cyvcf2's gt_types (gts012), the
    typing that ingest used before, on every kind of diploid and haploid call."""
    from cyvcf2 import VCF

    from precimed.genomics import kernels

    calls = ["0/0", "0/1", "1/0", "1/1", "./.", "0/.", "./0", "1/.", "./1", ".", "0", "1",
             "0|1", "1|1", ".|.", "0|.", ".|1"]
    names = [f"s{i}" for i in range(len(calls))]
    path = write_vcf(tmp_path / "calls.vcf", names, [("1", 10, ".", "A", "G", calls)])
    record = next(iter(VCF(str(path), gts012=True)))
    row = np.zeros(kernels.row_bytes(len(calls)), dtype=np.uint8)
    kernels.pack_typed(record.genotype.array(), row)
    assert kernels.unpack(row[None], len(calls))[0].tolist() == record.gt_types.tolist()


BAD_NAMES = ["../x", "sh01-../../x", "a/b", "x' OR '1'='1", "a b", "sh01-数据", "x" * 65, ".."]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_dataset_name_is_checked_in_the_domain_as_in_the_api(vcf, tmp_path, name):
    """The CLI passes --dataset straight to ingest: the name, used as a folder and matched in
    the lake, is refused there with the same error the upload route gives."""
    from precimed.api.routes.genotypes import _checked_options

    with pytest.raises(UserError) as domain:
        ingest_reference(vcf, tmp_path / "store", dataset=name, build="GRCh38")
    assert domain.value.where == "dataset"
    assert not (tmp_path / "store").exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "ref.vcf"]
    with pytest.raises(UserError) as api:
        _checked_options("SH01", build="GRCh38", dataset=name, assay_type="genotype_array")
    assert (api.value.what, api.value.where, api.value.hint) == (
        domain.value.what, domain.value.where, domain.value.hint)
