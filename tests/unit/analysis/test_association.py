"""Genotype files, per-variant regression, λ, plots and exposure-/phenome-wide scans on small
hand-made cases and bad input. Comparisons with PLINK 2 and R are in
tests/validation/test_association_against_plink2.py."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import special, stats
from statsmodels.stats.multitest import multipletests

from precimed.analysis.association import genomic_inflation, linear_gwas, logistic_gwas
from precimed.analysis.exposure_wide import (
    benjamini_hochberg,
    bonferroni,
    exposure_wide,
    phenome_wide,
)
from precimed.analysis.genotypes import read_bed, write_bed
from precimed.errors import UserError

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(7)
    n, m = 203, 40  # n not a multiple of 4: the last .bed byte is padded
    genotypes = rng.binomial(2, rng.uniform(0.05, 0.5, m), size=(n, m)).astype(np.int8)
    genotypes[rng.random((n, m)) < 0.03] = -1
    genotypes[:, 5] = np.where(genotypes[:, 5] < 0, -1, 1)  # constant among called samples
    covariates = pd.DataFrame({"age": rng.normal(50, 8, n), "pc1": rng.normal(size=n)})
    dosage = np.where(genotypes[:, 3] < 0, 1, genotypes[:, 3])
    y = pd.DataFrame({"a": 0.5 * dosage + 0.02 * covariates.age + rng.normal(size=n),
                      "b": rng.normal(size=n)})
    cases = (rng.random(n) < special.expit(-0.5 + 0.8 * dosage)).astype(int)
    return genotypes, covariates, y, cases


@pytest.fixture()
def bed(tmp_path, cohort):
    return read_bed(write_bed(tmp_path / "toy", cohort[0]))


def _direct_ols(g, y, covariates):
    keep = g >= 0
    x = np.column_stack([np.ones(keep.sum()), covariates[keep], g[keep]])
    return sm.OLS(y[keep], x).fit()


# -- genotype files ----------------------------------------------------------------------


def test_bed_round_trip_with_padding_and_missing(bed, cohort):
    genotypes = cohort[0]
    np.testing.assert_array_equal(bed.read(), genotypes)
    np.testing.assert_array_equal(bed.read(10, 20), genotypes[:, 10:20])
    assert bed.shape == genotypes.shape
    assert list(bed.variants.columns) == ["chrom", "id", "cm", "pos", "alt", "ref"]
    blocks = list(bed.blocks(size=16))
    assert [start for start, _ in blocks] == [0, 16, 32]
    np.testing.assert_array_equal(np.vstack([b for _, b in blocks]).T, genotypes)


def test_dosage_blocks_mark_missing_calls(bed, cohort):
    genotypes = cohort[0]
    for block in bed.dosage_blocks(size=16, dtype=np.float32):
        span = genotypes[:, block.start:block.start + len(block.dosage)].T
        np.testing.assert_array_equal(block.dosage, np.maximum(span, 0))
        np.testing.assert_array_equal(block.missing_rows, np.flatnonzero((span < 0).any(1)))
        np.testing.assert_array_equal(block.missing, span[block.missing_rows] < 0)


def test_read_bed_reports_missing_or_corrupt_files(tmp_path, cohort):
    with pytest.raises(UserError, match="missing"):
        read_bed(tmp_path / "absent")
    prefix = write_bed(tmp_path / "toy", cohort[0][:, :4])
    bed_path = tmp_path / "toy.bed"
    bed_path.write_bytes(bed_path.read_bytes()[:-1])
    with pytest.raises(UserError, match="expected"):
        read_bed(prefix)
    bed_path.write_bytes(b"\x00\x00\x00" + bed_path.read_bytes()[3:])
    with pytest.raises(UserError, match="variant-major"):
        read_bed(str(prefix) + ".bed")


def test_write_bed_rejects_values_other_than_counts(tmp_path):
    with pytest.raises(UserError, match="0, 1, 2"):
        write_bed(tmp_path / "bad", np.array([[0, 3], [1, 2]]))


# -- linear ------------------------------------------------------------------------------


def test_linear_drops_missing_calls_per_variant_like_a_direct_fit(cohort):
    genotypes, covariates, y, _ = cohort
    result = linear_gwas(genotypes, y, covariates, dtype="float64", block_size=7)
    summary = result.summary
    for j in (0, 3, 17, 39):
        for name in ("a", "b"):
            fit = _direct_ols(genotypes[:, j], y[name].to_numpy(), covariates.to_numpy())
            row = summary[summary.phenotype == name].iloc[j]
            assert row.n == (genotypes[:, j] >= 0).sum()
            np.testing.assert_allclose([row.beta, row.se, row.p],
                                       [fit.params[-1], fit.bse[-1], fit.pvalues[-1]],
                                       rtol=1e-9)


def test_linear_gives_the_same_from_a_bed_file_and_in_any_block_size(bed, cohort):
    genotypes, covariates, y, _ = cohort
    from_array = linear_gwas(genotypes, y, covariates, dtype="float64").summary
    from_file = linear_gwas(bed, y, covariates, dtype="float64", block_size=3).summary
    np.testing.assert_allclose(from_file.beta, from_array.beta, rtol=1e-12)
    np.testing.assert_allclose(from_file.p, from_array.p, rtol=1e-10)
    assert list(from_file.id[:2]) == ["v1", "v2"]


def test_linear_constant_variant_has_no_estimate(cohort):
    genotypes, covariates, y, _ = cohort
    summary = linear_gwas(genotypes, y.a, covariates).summary
    assert np.isnan(summary.loc[5, ["beta", "se", "p"]].astype(float)).all()
    assert summary.loc[5, "alt_freq"] == 0.5
    assert np.isfinite(summary.drop(index=5).p).all()


def test_linear_missing_phenotypes_and_covariates_drop_those_samples(cohort):
    genotypes, covariates, y, _ = cohort
    y = y.copy()
    covariates = covariates.copy()
    y.loc[:9, "a"] = np.nan
    covariates.loc[200:, "age"] = np.nan
    both = linear_gwas(genotypes, y, covariates, dtype="float64").summary
    keep = np.r_[10:200]
    alone = linear_gwas(genotypes[keep], y.a[keep], covariates.iloc[keep],
                        dtype="float64").summary
    part = both[both.phenotype == "a"].reset_index(drop=True)
    np.testing.assert_allclose(part.beta, alone.beta, rtol=1e-10)
    np.testing.assert_array_equal(part.n, alone.n)
    assert (both[both.phenotype == "b"].n.max()) == 200 - (genotypes[:200, :] < 0).sum(0).min()


def test_linear_rejects_bad_input(cohort):
    genotypes, covariates, y, _ = cohort
    with pytest.raises(UserError, match="rows"):
        linear_gwas(genotypes, y.a[:-1])
    with pytest.raises(UserError, match="0, 1, 2 or -1"):
        linear_gwas(np.where(genotypes == 2, 3, genotypes), y.a)
    with pytest.raises(UserError, match="integer"):
        linear_gwas(genotypes.astype(float), y.a)
    with pytest.raises(UserError, match="collinear"):
        linear_gwas(genotypes, y.a, covariates.assign(age2=2 * covariates.age))
    with pytest.raises(UserError, match="dtype"):
        linear_gwas(genotypes, y.a, dtype="float16")
    with pytest.raises(UserError, match="variant table"):
        linear_gwas(genotypes, y.a, variants=pd.DataFrame({"id": ["x"]}))


# -- logistic ----------------------------------------------------------------------------


def test_logistic_wald_rows_equal_statsmodels_and_score_rows_are_marked(cohort):
    genotypes, covariates, _, cases = cohort
    result = logistic_gwas(genotypes, cases, covariates, firth_threshold=0.05)
    summary = result.summary
    assert set(summary.method) <= {"score", "wald", "firth"}
    assert summary.loc[3, "method"] == "wald"  # the causal variant passes the screen
    keep = genotypes[:, 3] >= 0
    x = np.column_stack([np.ones(keep.sum()), covariates[keep], genotypes[keep, 3]])
    fit = sm.Logit(cases[keep], x).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(summary.loc[3, ["beta", "se", "p"]].astype(float),
                               [fit.params[-1], fit.bse[-1], fit.pvalues[-1]], rtol=1e-7)
    score = summary[summary.method == "score"]
    assert (score.p.dropna() >= 0.05).all()


def test_logistic_separated_variant_falls_back_to_firth():
    rng = np.random.default_rng(3)
    n = 300
    cases = (rng.random(n) < 0.3).astype(int)
    common = rng.binomial(2, 0.3, n)
    rare = np.zeros(n, int)
    rare[np.flatnonzero(cases)[:3]] = 1  # carriers are all cases: quasi-separation
    genotypes = np.column_stack([common, rare]).astype(np.int8)
    summary = logistic_gwas(genotypes, cases, firth_threshold=1.0).summary
    assert list(summary.method) == ["wald", "firth"]
    beta, se = summary.loc[1, ["beta", "se"]]
    assert 1 < beta < 10 and np.isfinite(se)
    # Firth's estimate solves the modified score equations X'(y - mu + h(1/2 - mu)) = 0
    x = np.column_stack([np.ones(n), rare])
    coef = _solve_intercept(x, cases, beta)
    mu = special.expit(x @ coef)
    w = mu * (1 - mu)
    inverse = np.linalg.inv(x.T @ (x * w[:, None]))
    hat = w * np.einsum("ij,jk,ik->i", x, inverse, x)
    np.testing.assert_allclose(x.T @ (cases - mu + hat * (0.5 - mu)), 0, atol=1e-6)


def _solve_intercept(x, y, beta):
    """The intercept that zeroes the first modified score equation for a fixed slope."""
    from scipy.optimize import brentq

    def equation(a):
        coef = np.array([a, beta])
        mu = special.expit(x @ coef)
        w = mu * (1 - mu)
        inverse = np.linalg.inv(x.T @ (x * w[:, None]))
        hat = w * np.einsum("ij,jk,ik->i", x, inverse, x)
        return np.sum(y - mu + hat * (0.5 - mu))

    return np.array([brentq(equation, -10, 10), beta])


def test_logistic_rejects_bad_status(cohort):
    genotypes, _, _, cases = cohort
    with pytest.raises(UserError, match="0 \\(control\\)"):
        logistic_gwas(genotypes, cases + 1)
    with pytest.raises(UserError, match="one case-control column"):
        logistic_gwas(genotypes, np.column_stack([cases, cases]))


# -- λ, result and plots -------------------------------------------------------------------


def test_genomic_inflation():
    m = 100_001
    p = (np.arange(1, m + 1) - 0.5) / m
    assert genomic_inflation(p) == pytest.approx(1, abs=1e-5)
    inflated = stats.chi2.sf(1.2 * stats.chi2.isf(p, 1), 1)
    assert genomic_inflation(np.r_[inflated, np.nan]) == pytest.approx(1.2, rel=1e-5)
    assert np.isnan(genomic_inflation([np.nan]))


def test_result_summary_dict_and_plots(cohort):
    genotypes, covariates, y, _ = cohort
    variants = pd.DataFrame({"id": [f"rs{j}" for j in range(40)], "chrom": ["1"] * 20 + ["X"] * 20,
                             "pos": np.arange(40) * 100, "ref": "C", "alt": "T"})
    result = linear_gwas(genotypes, y, covariates, variants)
    summary = result.summary
    assert list(summary.columns) == ["phenotype", "id", "chrom", "pos", "ref", "alt", "n",
                                     "alt_freq", "beta", "se", "t", "p"]
    assert len(summary) == 80 and set(result.lambda_gc_.index) == {"a", "b"}
    top = result.top_hits(3, phenotype="a")
    assert top.id[0] == "rs3" and top.p.is_monotonic_increasing
    payload = json.loads(json.dumps(result.to_dict(top=5)))
    assert payload["top_hits"]["a"][0]["id"] == "rs3" and len(payload["top_hits"]["b"]) == 5
    assert payload["lambda_gc"]["a"] == pytest.approx(result.lambda_gc_["a"])
    assert isinstance(linear_gwas(genotypes, y.a).lambda_gc_, float)
    ax = result.plot_manhattan(phenotype="b")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "X"]
    ax = result.plot_qq()
    assert len(ax.collections) == 2  # the band and the points
    with pytest.raises(UserError, match="No phenotype"):
        result.plot_qq(phenotype="c")


# -- exposure- and phenome-wide ------------------------------------------------------------


@pytest.fixture(scope="module")
def wide():
    rng = np.random.default_rng(11)
    n = 400
    data = pd.DataFrame({"age": rng.normal(55, 9, n), "sex": rng.choice(["F", "M"], n)})
    for j in range(12):
        data[f"X{j}"] = rng.normal(size=n)
    data["smoker"] = rng.integers(0, 2, n)
    data["outcome"] = 0.4 * data.X0 - 0.3 * data.smoker + 0.01 * data.age + rng.normal(size=n)
    data["case"] = (rng.random(n) < special.expit(-1 + 0.8 * data.X1)).astype(int)
    data.loc[:389, "X11"] = np.nan  # only 10 values left
    data["X10"] = 1.0
    data["site"] = "A"
    return data


def test_benjamini_hochberg_and_bonferroni_match_statsmodels():
    p = np.random.default_rng(1).uniform(size=50) ** 3
    np.testing.assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1],
                               rtol=1e-12)
    np.testing.assert_allclose(bonferroni(p), multipletests(p, method="bonferroni")[1])
    assert np.isnan(benjamini_hochberg([0.01, np.nan])[1])


def test_exposure_wide_linear_fits_each_exposure_and_reports_skips(wide):
    exposures = [f"X{j}" for j in range(12)] + ["smoker", "site"]
    scan = exposure_wide(wide, "outcome", exposures, ["age", "sex"])
    summary = scan.summary
    assert set(scan.skipped_) == {"X10", "X11", "site"}
    assert "fewer than 20" in scan.skipped_["X11"] and "vary" in scan.skipped_["X10"]
    assert summary.term[0] == "X0" and len(summary) == 11
    x = sm.add_constant(pd.get_dummies(wide[["smoker", "age", "sex"]], drop_first=True,
                                       dtype=float))
    fit = sm.OLS(wide.outcome, x).fit()
    row = summary.set_index("term").loc["smoker"]
    np.testing.assert_allclose([row.beta, row.se, row.p],
                               [fit.params.smoker, fit.bse.smoker, fit.pvalues.smoker],
                               rtol=1e-10)
    np.testing.assert_allclose(summary.q_bh, multipletests(summary.p, method="fdr_bh")[1])
    np.testing.assert_allclose(summary.p_bonferroni, np.minimum(summary.p * 11, 1))
    assert scan.significant().term.tolist()[:1] == ["X0"]
    payload = json.loads(json.dumps(scan.to_dict()))
    assert payload["skipped"]["site"].startswith("exposure is not numeric")
    assert scan.plot_volcano() is not None


def test_exposure_wide_logistic_matches_statsmodels_logit(wide):
    scan = exposure_wide(wide, "case", ["X0", "X1", "X2"], ["age"], family="logistic")
    row = scan.summary.set_index("term").loc["X1"]
    fit = sm.Logit(wide.case, sm.add_constant(wide[["X1", "age"]])).fit(disp=0)
    np.testing.assert_allclose([row.beta, row.se, row.p],
                               [fit.params.X1, fit.bse.X1, fit.pvalues.X1], rtol=1e-6)
    assert row.odds_ratio == pytest.approx(np.exp(row.beta))
    assert row.n_cases == wide.case.sum()


def test_phenome_wide_fits_each_outcome(wide):
    scan = phenome_wide(wide, "smoker", ["outcome", "X2", "X11", "case"], ["age"])
    assert set(scan.summary.term) == {"outcome", "X2", "case"}
    assert list(scan.skipped_) == ["X11"]
    fit = sm.OLS(wide.X2, sm.add_constant(wide[["smoker", "age"]])).fit()
    row = scan.summary.set_index("term").loc["X2"]
    assert row.p == pytest.approx(fit.pvalues.smoker, rel=1e-10)
    logistic = phenome_wide(wide, "X1", ["case", "outcome"], family="logistic")
    assert list(logistic.summary.term) == ["case"]
    assert logistic.skipped_["outcome"] == "outcome is not coded 0/1"


def test_scans_reject_unknown_columns_and_families(wide):
    with pytest.raises(UserError, match="not in the table"):
        exposure_wide(wide, "outcome", ["nope"])
    with pytest.raises(UserError, match="family"):
        phenome_wide(wide, "X0", ["outcome"], family="poisson")
