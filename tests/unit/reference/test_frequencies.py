"""The frequency math against a direct count per sample, and lookups by every search form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from precimed.deid import Policy
from precimed.errors import NotFound, UserError
from precimed.genomics import GenotypeStore
from precimed.genomics.alleles import count_alleles, haploid_mask
from precimed.reference import (
    ReferenceDatabase,
    build_summary,
    label_samples,
    publish,
    write_summary,
)
from precimed.reference.frequencies import SUMMARY_FORMAT
from precimed.standard.regions import region_of
from unit.reference.small_store import VARIANTS, build_small_store


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    built = build_small_store(root / "store")
    store = GenotypeStore.open(root / "store")
    return built, store, build_summary(store, chunk_variants=4), root


def _direct(genotypes: np.ndarray, males: np.ndarray, hemizygous: bool) -> dict[str, int]:
    """One group's counts, sample by sample, written out plainly."""
    out = dict.fromkeys(("allele_count", "allele_number", "hom_alt", "carriers", "called"), 0)
    for g, male in zip(genotypes, males, strict=True):
        if g < 0:
            continue
        haploid = hemizygous and male
        out["called"] += 1
        out["allele_number"] += 1 if haploid else 2
        out["allele_count"] += (1 if g > 0 else 0) if haploid else int(g)
        out["hom_alt"] += int(g > 0) if haploid else int(g == 2)
        out["carriers"] += int(g > 0)
    return out


def _labels(built, dataset: str) -> pd.DataFrame:
    if dataset == "precimed":
        frame = built.participants
        return pd.DataFrame({
            "sex": frame["sex"].to_numpy(),
            "province": frame["native_province"].to_numpy(),
            "region": [region_of(p) or "unknown" for p in frame["native_province"]]})
    frame = built.reference
    return pd.DataFrame({"sex": frame["sex"].to_numpy(),
                         "population": frame["population"].to_numpy(),
                         "super_population": frame["super_population"].to_numpy()})


def test_every_group_matches_a_direct_count(small):
    built, store, summary, _ = small
    index = store.variants().set_index(["chrom", "pos", "ref", "alt"])["variant_index"]
    checked = 0
    for dataset, genotypes in built.genotypes.items():
        labels = _labels(built, dataset)
        males = (labels["sex"] == "1").to_numpy()
        for row, variant in VARIANTS.iterrows():
            v = index[(variant.chrom, variant.pos, variant.ref, variant.alt)]
            hemizygous = variant.chrom == "X" and variant.pos > 2_781_479
            rows = summary[(summary.dataset == dataset) & (summary.variant_index == v)]
            for r in rows.itertuples():
                members = (np.ones(len(labels), bool) if r.stratum == "all"
                           else (labels[r.stratum] == r.group).to_numpy())
                want = _direct(genotypes[row][members], males[members], hemizygous)
                got = {k: getattr(r, k) for k in want}
                assert got == want, (dataset, variant.to_dict(), r.stratum, r.group)
                checked += 1
    assert checked > 100


def test_hemizygous_calls_count_once(small):
    _, store, summary, _ = small
    v = store.variants()
    outside = int(v[(v.chrom == "X") & (v.pos == 5_000_000)]["variant_index"].iloc[0])
    par = int(v[(v.chrom == "X") & (v.pos == 100_000)]["variant_index"].iloc[0])
    male = summary[(summary.dataset == "precimed") & (summary.stratum == "sex")
                   & (summary.group == "1")].set_index("variant_index")
    assert male.loc[outside, "allele_number"] == male.loc[outside, "called"]
    assert male.loc[par, "allele_number"] == 2 * male.loc[par, "called"]


def test_overall_counts_agree_with_the_store_on_autosomes(small):
    _, store, summary, _ = small
    autosomal = store.variants().query("chrom != 'X'")["variant_index"].to_numpy()
    for dataset in store.datasets:
        samples = store.samples(dataset)["sample_index"].to_numpy()
        counts = store.counts(autosomal, samples)
        overall = (summary[(summary.dataset == dataset) & (summary.stratum == "all")]
                   .set_index("variant_index").loc[autosomal])
        np.testing.assert_array_equal(overall["allele_count"], counts["allele_count"])
        np.testing.assert_array_equal(overall["allele_number"], counts["allele_number"])
        np.testing.assert_array_equal(overall["hom_alt"], counts["hom_alt"])


def test_count_alleles_is_a_sum_over_membership():
    g = np.array([[0, 1, 2, -1], [2, 2, -1, 0]], dtype=np.int8)
    membership = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=bool)
    got = count_alleles(g, np.zeros_like(g, dtype=bool), membership)
    np.testing.assert_array_equal(got["allele_count"], [[1, 2], [4, 0]])
    np.testing.assert_array_equal(got["allele_number"], [[4, 2], [4, 2]])
    np.testing.assert_array_equal(got["hom_alt"], [[0, 1], [2, 0]])
    np.testing.assert_array_equal(got["carriers"], [[1, 1], [2, 0]])


def test_haploid_mask_respects_the_pseudo_autosomal_regions():
    variants = pd.DataFrame({"chrom": ["X", "X", "1", "Y"], "pos": [10_001, 3_000_000, 5, 3e6],
                             "build": "GRCh38"})
    mask = haploid_mask(variants, np.array([True, False]))
    assert mask.tolist() == [[False, False], [True, False], [False, False], [True, False]]


def test_labels_come_from_the_lake_when_given(small):
    built, store, _, _ = small
    samples = store.samples("precimed")
    lake = pd.DataFrame({"pseudonym": [built.participants["sample_id"][0]],
                         "sex": ["女"], "native_province": ["61"]})
    labelled = label_samples(samples, lake)
    assert labelled.loc[0, ["sex", "province", "region"]].tolist() == ["2", "61", "northwest"]
    assert labelled.loc[1, "province"] == built.participants["native_province"][1]


def test_written_summary_answers_every_search_form(small):
    _, store, _, root = small
    write_summary(store, root / "summary")
    db = ReferenceDatabase.open(root / "summary")
    try:
        assert db.manifest["format"] == SUMMARY_FORMAT
        by_id = db.find("chr1-55051215-G-A")
        assert by_id["rsid"].tolist() == ["rs11591147"]
        assert db.find("GRCh38:1:55051215:G:A")["pos"].tolist() == [55051215]
        assert db.find("GRCh37:1-55051215-G-A").empty  # the store is on GRCh38
        assert db.find("RS1000")["pos"].tolist() == [90_000_000]
        assert db.find("PCSK9")["pos"].tolist() == [55051215, 55052000]
        assert db.find("chr1:55,000,000-59,999,999")["pos"].tolist() == [55051215, 55052000]
        found, published = db.search("1-90000000-A-AT", policy=Policy(threshold=5))
        assert set(published["dataset"]) == {"precimed", "1000G"}
        assert (published["variant_index"] == found["variant_index"][0]).all()
    finally:
        db.close()


def test_precomputed_publication_equals_the_computed_one(small):
    _, store, _, root = small
    policy = Policy(threshold=10)
    write_summary(store, root / "stamped", policy=policy)
    db = ReferenceDatabase.open(root / "stamped")
    try:
        assert db.manifest["published_policy"] == {"threshold": 10, "rounding": 1}
        every = store.variants()["variant_index"].tolist()
        stored = db.frequencies(every, policy=policy)
        computed = db.frequencies(every, policy=Policy(threshold=10, rounding=2))
        assert stored["suppressed"].any()
        on_the_fly = publish(db.raw_counts(every), layouts=db.layouts, policy=policy)
        key = ["variant_index", "dataset", "stratum", "group"]
        pd.testing.assert_frame_equal(stored.sort_values(key).reset_index(drop=True),
                                      on_the_fly.sort_values(key).reset_index(drop=True),
                                      check_dtype=False)
        assert (computed["allele_count"].dropna() % 2 == 0).all()  # another policy: computed
    finally:
        db.close()


def test_opening_something_else_is_a_user_error(tmp_path):
    with pytest.raises(NotFound):
        ReferenceDatabase.open(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "other/9"}')
    with pytest.raises(UserError, match="another format"):
        ReferenceDatabase.open(tmp_path)
