"""Association testing against PLINK 2, snpStats/R, scipy and statsmodels.

Data: snpStats' for.exercise (1,000 subjects, every 5th of its 28,501 chromosome-10 SNPs,
real missing calls, real case/control status and stratum, a trait simulated in R) exported
by reference/snpstats_forexercise.R, and simulated genotypes (simgeno_*, with and without
2% missing calls). PLINK v2.00a3.5 produced reference/plink2_association.json
(reference/plink2_association.sh); R 4.2.2 with snpStats 1.48.0 produced
reference/snpstats_forexercise.json.

Tolerances and why:
- Linear regression against PLINK 2: rtol 1e-4 on SE and p, and on beta up to 1e-6·SE
  (linear_gwas's default float32 products leave t with an absolute error near 1e-7, which
  is large relative to a beta that is itself ~1e-4·SE). PLINK 2 prints six significant
  digits (rounding error ≤ 5e-6 relative); the largest relative difference seen is 5e-6.
- Logistic against PLINK 2: |Δz| ≤ 2e-3, SE rtol 1e-3, |Δbeta| ≤ 2e-3·SE, |Δlog10 p| ≤ 2e-3.
  PLINK 2.00a3.5 fits logistic and Firth models in single precision (it flags ten
  for.exercise SNPs UNFINISHED for that reason), so it agrees with a double-precision fit
  to ~1e-4 (largest seen: Δz 7e-4), not to its six printed digits. Which rows fell back to
  Firth must agree exactly.
- Allele frequencies against ``plink2 --freq``: rtol 1e-5 (six printed digits).
- The .bed reader against snpStats' call and allele counts: exact.
- The score test against R's ``anova(..., test = "Rao")`` (glm with epsilon 1e-14): rtol 1e-6
  with ``dtype="float64"``; the default float32 screen to |Δz| < 2e-4 (seen: 5e-5).
- scipy ``linregress``, statsmodels OLS and Logit: rtol 1e-8 (the same arithmetic; linear
  with ``dtype="float64"``). The default float32 products stay within 5e-6 in t (seen: 1.3e-6).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from precimed.analysis.association import linear_gwas, logistic_gwas
from precimed.analysis.genotypes import read_bed

HERE = Path(__file__).parent
DATA = HERE / "data"
PLINK2 = json.loads((HERE / "reference" / "plink2_association.json").read_text())
SNPSTATS = json.loads((HERE / "reference" / "snpstats_forexercise.json").read_text())
COVARIATES = ["age", "female", "pc1", "pc2"]


@pytest.fixture(scope="module")
def forexercise():
    bed = read_bed(DATA / "forexercise")
    pheno = pd.read_csv(DATA / "forexercise.pheno", sep="\t")
    assert list(pheno.IID) == list(bed.samples.iid)
    return bed, pheno


@pytest.fixture(scope="module")
def simgeno():
    pheno = pd.read_csv(DATA / "simgeno.pheno", sep="\t")
    return {name: read_bed(DATA / f"simgeno_{name}") for name in ("complete", "missing")}, pheno


def _reference(name: str, bed) -> dict:
    ref = PLINK2[name]
    assert len(ref["p"]) == bed.n_variants
    assert (ref["first_id"], ref["last_id"]) == tuple(bed.variants.id.iloc[[0, -1]])
    out = {k: np.array(v, dtype=float) for k, v in ref.items()
           if k in {"n", "beta", "or", "se", "p"}}
    out["sign"] = np.where(np.array(ref["a1_is_alt"]) == 1, 1.0, -1.0)
    if "or" in out:
        out["beta"] = np.log(out.pop("or"))
    out["firth"] = np.array(ref.get("firth", []))
    return out


def _assert_linear_matches(summary: pd.DataFrame, ref: dict) -> None:
    defined = np.isfinite(ref["p"])
    assert np.isnan(summary.p.to_numpy()[~defined]).all()
    np.testing.assert_array_equal(summary.n.to_numpy()[defined], ref["n"][defined])
    for column in ("se", "p"):
        np.testing.assert_allclose(summary[column].to_numpy()[defined], ref[column][defined],
                                   rtol=1e-4, err_msg=column)
    beta, se = summary.beta.to_numpy()[defined], summary.se.to_numpy()[defined]
    theirs = ref["beta"][defined] * ref["sign"][defined]
    assert (np.abs(beta - theirs) <= 1e-4 * np.abs(theirs) + 1e-6 * se).all()


def _assert_logistic_matches(summary: pd.DataFrame, ref: dict) -> None:
    defined = np.isfinite(ref["p"])
    np.testing.assert_array_equal(summary.method.to_numpy()[defined] == "firth",
                                  ref["firth"][defined] == "Y")
    np.testing.assert_array_equal(summary.n.to_numpy()[defined], ref["n"][defined])
    beta, se = summary.beta.to_numpy()[defined], summary.se.to_numpy()[defined]
    their_beta = ref["beta"][defined] * ref["sign"][defined]
    np.testing.assert_allclose(se, ref["se"][defined], rtol=1e-3)
    assert np.abs(beta - their_beta).max() <= 2e-3 * se.max()
    assert (np.abs(beta - their_beta) <= 2e-3 * se).all()
    assert np.abs(beta / se - their_beta / ref["se"][defined]).max() <= 2e-3
    np.testing.assert_allclose(np.log10(summary.p.to_numpy()[defined]),
                               np.log10(ref["p"][defined]), atol=2e-3, rtol=0)


def test_bed_reader_matches_snpstats_counts(forexercise):
    bed, _ = forexercise
    genotypes = bed.read()
    assert list(bed.variants.id) == SNPSTATS["snp"]
    assert list(bed.variants.ref) == SNPSTATS["allele_b"]  # snpStats counts allele B = REF
    calls = (genotypes >= 0).sum(0)
    np.testing.assert_array_equal(calls, SNPSTATS["calls"])
    alt = np.where(genotypes >= 0, genotypes, 0).sum(0)
    np.testing.assert_array_equal(2 * calls - alt, SNPSTATS["allele_b_count"])


def test_alt_frequencies_match_plink2(forexercise):
    bed, pheno = forexercise
    summary = linear_gwas(bed, pheno.qt).summary
    ref = PLINK2["forexercise_freq"]
    np.testing.assert_array_equal(2 * summary.n, ref["n"])  # plink2 counts alleles
    np.testing.assert_allclose(summary.alt_freq, ref["alt_freq"], rtol=1e-5, atol=1e-9)


def test_linear_on_forexercise_matches_plink2(forexercise):
    bed, pheno = forexercise
    result = linear_gwas(bed, pheno[["qt"]], pheno[["stratum"]])
    ref = _reference("forexercise_qt", bed)
    assert PLINK2["forexercise_qt"]["errcode"] == {"2647": "CONST_OMITTED_ALLELE"}
    _assert_linear_matches(result.summary, ref)


def test_logistic_on_forexercise_matches_plink2(forexercise):
    bed, pheno = forexercise
    result = logistic_gwas(bed, pheno.cc - 1, pheno[["stratum"]], firth_threshold=1.0)
    ref = _reference("forexercise_cc", bed)
    assert (ref["firth"] == "Y").sum() == 3
    _assert_logistic_matches(result.summary, ref)


def test_score_screen_refits_every_plink2_hit(forexercise):
    bed, pheno = forexercise
    screened = logistic_gwas(bed, pheno.cc - 1, pheno[["stratum"]], firth_threshold=1e-2)
    ref = _reference("forexercise_cc", bed)
    hits = ref["p"] < 1e-3
    assert hits.sum() >= 3
    assert (screened.summary.method.to_numpy()[hits] != "score").all()
    full = logistic_gwas(bed, pheno.cc - 1, pheno[["stratum"]], firth_threshold=1.0)
    refitted = (screened.summary.method != "score").to_numpy()
    np.testing.assert_allclose(screened.p_[refitted], full.p_[refitted], rtol=1e-10)


def test_float32_score_screen_within_2e_4_in_z_of_r(forexercise):
    bed, pheno = forexercise
    result = logistic_gwas(bed, pheno.cc - 1, pheno[["stratum"]], firth_threshold=0)
    z = np.abs(result.summary.beta / result.summary.se).to_numpy()[SNPSTATS["rao_snp_index"]]
    assert np.abs(z - np.sqrt(SNPSTATS["rao_chisq"])).max() < 2e-4


def test_score_statistic_matches_r_rao_test(forexercise):
    bed, pheno = forexercise
    result = logistic_gwas(bed, pheno.cc - 1, pheno[["stratum"]], firth_threshold=0,
                           dtype="float64")
    chisq = ((result.summary.beta / result.summary.se) ** 2).to_numpy()
    np.testing.assert_allclose(chisq[SNPSTATS["rao_snp_index"]], SNPSTATS["rao_chisq"],
                               rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("genotypes", ["complete", "missing"])
def test_linear_on_simulated_genotypes_matches_plink2(simgeno, genotypes):
    beds, pheno = simgeno
    bed = beds[genotypes]
    # three traits in one pass; qt3 has missing values, so it forms its own sample set
    result = linear_gwas(bed, pheno[["qt1", "qt2", "qt3"]], pheno[COVARIATES], block_size=128)
    summary = result.summary
    for trait in ("qt1", "qt2", "qt3"):
        ref = _reference(f"{genotypes}_{trait}", bed)
        part = summary[summary.phenotype == trait].reset_index(drop=True)
        _assert_linear_matches(part, ref)
    assert result.lambda_gc_["qt2"] == pytest.approx(1, abs=0.2)


@pytest.mark.parametrize("genotypes", ["complete", "missing"])
def test_logistic_on_simulated_genotypes_matches_plink2(simgeno, genotypes):
    beds, pheno = simgeno
    bed = beds[genotypes]
    result = logistic_gwas(bed, pheno.cc - 1, pheno[COVARIATES], firth_threshold=1.0)
    ref = _reference(f"{genotypes}_cc", bed)
    assert (ref["firth"] == "Y").sum() == 2
    _assert_logistic_matches(result.summary, ref)


@pytest.mark.parametrize("genotypes", ["complete", "missing"])
def test_linear_without_covariates_equals_linregress(simgeno, genotypes):
    beds, pheno = simgeno
    genotypes = beds[genotypes].read()
    summary = linear_gwas(genotypes, pheno.qt1, dtype="float64").summary
    for j in range(0, genotypes.shape[1], 7):
        keep = genotypes[:, j] >= 0
        fit = stats.linregress(genotypes[keep, j], pheno.qt1[keep])
        row = summary.iloc[j]
        assert row.n == keep.sum()
        np.testing.assert_allclose([row.beta, row.se, row.p],
                                   [fit.slope, fit.stderr, fit.pvalue], rtol=1e-8)


@pytest.mark.parametrize("genotypes", ["complete", "missing"])
def test_linear_with_covariates_equals_statsmodels_ols(simgeno, genotypes):
    beds, pheno = simgeno
    genotypes = beds[genotypes].read()
    summary = linear_gwas(genotypes, pheno[["qt1", "qt2"]], pheno[COVARIATES],
                          dtype="float64").summary
    for j in (0, 10, 200, 400, 499):
        keep = genotypes[:, j] >= 0
        x = sm.add_constant(pheno[COVARIATES][keep].assign(g=genotypes[keep, j]))
        for trait in ("qt1", "qt2"):
            fit = sm.OLS(pheno[trait][keep], x).fit()
            row = summary[(summary.phenotype == trait)].iloc[j]
            np.testing.assert_allclose([row.beta, row.se, row.t, row.p],
                                       [fit.params.g, fit.bse.g, fit.tvalues.g, fit.pvalues.g],
                                       rtol=1e-8)


def test_logistic_wald_equals_statsmodels_logit(simgeno):
    beds, pheno = simgeno
    genotypes = beds["missing"].read()
    summary = logistic_gwas(genotypes, pheno.cc - 1, pheno[COVARIATES],
                            firth_threshold=1.0).summary
    for j in (0, 10, 200, 400, 499):
        keep = genotypes[:, j] >= 0
        x = sm.add_constant(pheno[COVARIATES][keep].assign(g=genotypes[keep, j]))
        fit = sm.Logit(pheno.cc[keep] - 1, x).fit(disp=0, tol=1e-12)
        row = summary.iloc[j]
        assert row.method == "wald"
        np.testing.assert_allclose([row.beta, row.se, row.p],
                                   [fit.params.g, fit.bse.g, fit.pvalues.g], rtol=1e-7)


def test_float32_products_keep_t_within_5e_6_of_float64(simgeno, forexercise):
    beds, pheno = simgeno
    for bed, y, covariates in ((beds["complete"], pheno[["qt1", "qt2"]], pheno[COVARIATES]),
                               (forexercise[0], forexercise[1].qt, forexercise[1].stratum)):
        single = linear_gwas(bed, y, covariates).summary
        double = linear_gwas(bed, y, covariates, dtype="float64").summary
        assert np.nanmax(np.abs(single.t - double.t)) < 5e-6
        np.testing.assert_allclose(single.se, double.se, rtol=1e-6)
        np.testing.assert_allclose(single.p, double.p, rtol=1e-5)
