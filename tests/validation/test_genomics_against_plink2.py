"""The genotype store and kernels on real data: the 1000 Genomes Phase 3 chr1 test VCF
of beacon2-cbi-tools 2.0.13 (2,504 samples, 1,042 records, 2 multi-allelic) with the
Phase 3 panel's population labels (tests/validation/data/README-genomics.md).

- Allele frequencies, overall and per super-population, equal the file's INFO AF,
  EAS_AF, EUR_AF, AFR_AF, AMR_AF, SAS_AF to the precision printed there (half a unit of
  the last printed digit; exact where the file prints 0 or 1).
- PLINK 2.00a3.5 ``--freq counts``, ``--freq`` and ``--hardy`` (plain and midp) after
  ``bcftools norm -m-`` (tests/validation/reference/plink2_1kg_freq_hardy.sh): the same
  variant set, identical counts, frequencies within 5e-6 relative (six significant
  digits printed) and HWE p-values within 1e-5 relative (1e-300 absolute: PLINK prints 0
  below its floor).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from precimed.genomics import hwe_exact
from precimed.genomics.vcf import ingest_reference, trim_alleles

HERE = Path(__file__).parent
DATA = HERE / "data"
VCF = DATA / "genomics_1kg_chr1.vcf.gz"
PLINK2 = json.loads((HERE / "reference" / "plink2_1kg_freq_hardy.json").read_text())
POPULATIONS = ("EAS", "EUR", "AFR", "AMR", "SAS")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return ingest_reference(VCF, tmp_path_factory.mktemp("g") / "store", dataset="1kg-phase3",
                            build="GRCh37", panel=DATA / "genomics_1kg_panel.tsv")


@pytest.fixture(scope="module")
def keyed(store):
    v = store.variants()
    return {(c, p, r, a): i for i, c, p, r, a in
            zip(v.variant_index, v.chrom, v.pos, v.ref, v.alt, strict=True)}


def info_frequencies():
    """(chrom, pos, ref, alt) after splitting and trimming -> {AF: '0.4253', ...} as printed."""
    out = {}
    with gzip.open(VCF, "rt") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            chrom, pos, _, ref, alts = line.split("\t", 5)[:5]
            info = dict(kv.split("=", 1) for kv in line.split("\t", 8)[7].split(";") if "=" in kv)
            for k, alt in enumerate(alts.split(",")):
                key = (chrom, *trim_alleles(int(pos), ref, alt))
                out[key] = {name: info[name].split(",")[k]
                            for name in ("AF", *(f"{p}_AF" for p in POPULATIONS))}
    return out


def assert_as_printed(ours: np.ndarray, printed: list[str]):
    values = np.array([float(t) for t in printed])
    decimals = np.array([len(t.split(".")[1]) if "." in t and "e" not in t else 0
                         for t in printed])
    tolerance = np.where(decimals > 0, 0.5 * 10.0 ** -decimals.astype(float), 0) + 1e-12
    assert (np.abs(ours - values) <= tolerance).all(), np.abs(ours - values).max()


def test_the_store_holds_every_split_record(store):
    assert store.datasets == ["1kg-phase3"]
    assert len(store.variants()) == 1044  # 1,040 biallelic + 2 sites of 2 ALTs
    samples = store.samples()
    assert len(samples) == 2504
    assert samples.super_population.value_counts().to_dict() == {
        "AFR": 661, "EAS": 504, "EUR": 503, "SAS": 489, "AMR": 347}


def test_overall_frequencies_equal_info_af(store, keyed):
    info = info_frequencies()
    rows = [keyed[k] for k in info]
    c = store.counts(rows)
    assert (c["allele_number"] == 5008).all()
    assert_as_printed(c["allele_count"] / c["allele_number"], [v["AF"] for v in info.values()])


@pytest.mark.parametrize("population", POPULATIONS)
def test_super_population_frequencies_equal_info(store, keyed, population):
    info = info_frequencies()
    samples = store.samples()
    chosen = (samples.super_population == population).to_numpy()
    c = store.counts([keyed[k] for k in info], chosen)
    assert (c["allele_number"] == 2 * chosen.sum()).all()
    assert_as_printed(c["allele_count"] / c["allele_number"],
                      [v[f"{population}_AF"] for v in info.values()])


def plink_rows(keyed):
    rows, refs = [], []
    for v in PLINK2["variants"]:
        chrom, pos = v["id"].split(":")[:2]
        rows.append(keyed[(chrom, *trim_alleles(int(pos), v["ref"], v["alt"]))])
        refs.append(v)
    return np.array(rows), refs


def test_counts_and_frequencies_equal_plink2(store, keyed):
    rows, refs = plink_rows(keyed)
    assert sorted(rows) == list(range(len(store.variants())))  # the same variant set
    c = store.counts(rows)
    assert (c["allele_count"] == [r["alt_ct"] for r in refs]).all()
    assert (c["allele_number"] == [r["obs_ct"] for r in refs]).all()
    assert (c["hom_ref"] == [r["hom_a1"] for r in refs]).all()  # PLINK's A1 is REF here
    assert (c["het"] == [r["het_a1"] for r in refs]).all()
    assert (c["hom_alt"] == [r["two_ax"] for r in refs]).all()
    np.testing.assert_allclose(c["allele_count"] / c["allele_number"],
                               [float(r["alt_freq"]) for r in refs], rtol=5e-6)


@pytest.mark.parametrize(("midp", "column"), [(False, "p"), (True, "p_midp")])
def test_hwe_exact_equals_plink2_hardy(store, keyed, midp, column):
    rows, refs = plink_rows(keyed)
    c = store.counts(rows)
    ours = hwe_exact(c["het"], c["hom_ref"], c["hom_alt"], midp=midp)
    theirs = np.array([float(r[column]) for r in refs])
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-300)
    assert (theirs < 1e-100).sum() >= 5  # the tail is exercised, not only p near 1
