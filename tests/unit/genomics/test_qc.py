"""Genotype QC checks on a simulated dataset with planted defects, under the built-in
genotype rule set."""

from __future__ import annotations

import numpy as np
import pytest
from vcf_text import write_vcf

from precimed.errors import UserError
from precimed.genomics.qc import genotype_qc, load_genotype_rules
from precimed.genomics.vcf import ingest_reference

GT = {0: "0/0", 1: "0/1", 2: "1/1", -1: "./."}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """200 people (first 100 male), 300 autosomal and 300 X variants. Planted: sample 5
    misses 10% of calls, sample 7 is male but recorded female, variant 0 is all het."""
    tmp = tmp_path_factory.mktemp("qc")
    rng = np.random.default_rng(5)
    n = 200
    male = np.arange(n) < 100
    records = []
    for v in range(600):
        p = rng.uniform(0.1, 0.5)
        g = rng.binomial(2, p, n)
        chrom, pos = ("1", 1000 + v) if v < 300 else ("X", 5_000_000 + v)
        if chrom == "X":
            g = np.where(male, 2 * rng.binomial(1, p, n), g)
        if v == 0:
            g[:] = 1
        if rng.random() < 0.1:
            g[5] = -1
        records.append((chrom, pos, f"v{v}", "A", "G", [GT[x] for x in g]))
    samples = [f"p{i}" for i in range(n)]
    vcf = write_vcf(tmp / "c.vcf", samples, records)
    sex = np.where(male, "male", "female")
    sex[7] = "female"
    panel = tmp / "panel.tsv"
    panel.write_text("sample\tpop\tsuper_pop\tgender\n" + "".join(
        f"{s}\tCHS\tEAS\t{x}\n" for s, x in zip(samples, sex, strict=True)))
    return ingest_reference(vcf, tmp / "store", dataset="precimed", build="GRCh38", panel=panel)


def by_check(results):
    return {r.check: r for r in results}


def test_the_built_in_rule_set_finds_the_planted_defects(store):
    results = by_check(genotype_qc(store, load_genotype_rules()))
    assert results["sample_call_rate"].failing == 1
    assert results["sample_call_rate"].checked == 200
    assert results["genetic_sex"].failing == 1 and results["genetic_sex"].status == "fail"
    assert results["hardy_weinberg"].failing >= 1  # the all-het variant
    assert results["hardy_weinberg"].checked == 300  # autosomes only
    assert results["variant_call_rate"].failing == 0 and results["variant_call_rate"].checked == 600
    assert results["reference_frequency"].status == "n/a"  # no reference dataset here
    assert results["heterozygosity"].checked == 200


def test_a_stricter_rule_set_fails_more(store, tmp_path):
    (tmp_path / "2.0.toml").write_text(
        'version = "2.0"\n[checks.strict_calls]\ntype = "sample_call_rate"\n'
        'category = "completeness"\nthreshold = 0.0\nparams = { min_call_rate = 0.999 }\n')
    results = by_check(genotype_qc(store, load_genotype_rules("2.0", tmp_path)))
    assert results["strict_calls"].status == "fail" and results["strict_calls"].failing == 1


def test_an_unknown_parameter_is_named(tmp_path):
    (tmp_path / "3.0.toml").write_text(
        '[checks.x]\ntype = "hardy_weinberg"\ncategory = "plausibility"\n'
        'subcategory = "atemporal"\nparams = { min_pvalue = 1e-6 }\n')
    with pytest.raises(UserError, match="min_pvalue") as caught:
        load_genotype_rules("3.0", tmp_path)
    assert "min_p" in caught.value.hint and "3.0.toml" in caught.value.where
