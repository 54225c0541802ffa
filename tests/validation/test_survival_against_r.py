"""Kaplan–Meier and log-rank on R's veteran data (shipped by scikit-survival) against the
numbers R's survival produced (tests/validation/reference/km_logrank_veteran.R, run with
R 4.2.2 and survival 3.5.3) and against lifelines. Tolerance: 1e-9 relative, the numbers
are the same arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from sksurv.datasets import load_veterans_lung_cancer

from precimed.analysis import KaplanMeier, logrank

R = json.loads((Path(__file__).parent / "reference" / "km_logrank_veteran.json").read_text())
TOL = 1e-9


@pytest.fixture(scope="module")
def veteran():
    data, outcome = load_veterans_lung_cancer()
    data = data.assign(time=outcome["Survival_in_days"], status=outcome["Status"])
    return data


def test_kaplan_meier_matches_r(veteran):
    km = KaplanMeier().fit(veteran.time, veteran.status)
    at = km.at(R["times"])
    np.testing.assert_allclose(at.survival, R["survival"], rtol=TOL)
    np.testing.assert_allclose(at.std_err, R["std_err"], rtol=1e-7)  # R prints 15 digits
    np.testing.assert_allclose(at.lower, R["lower"], rtol=1e-7)
    np.testing.assert_allclose(at.upper, R["upper"], rtol=1e-7)
    assert list(at.n_risk) == R["n_risk"]
    assert (km.median_, *km.median_ci_) == (R["median"], R["median_lower"], R["median_upper"])


def test_medians_by_treatment_including_rs_midpoint_rule(veteran):
    medians = [KaplanMeier().fit(g.time, g.status).median_
               for _, g in veteran.groupby("Treatment", sort=True, observed=True)]
    assert medians == R["median_by_trt"]  # 52.5: the curve sits at exactly 0.5


def test_log_rank_matches_r_and_lifelines(veteran):
    result = logrank(veteran.time, veteran.status, veteran.Treatment)
    assert result.statistic == pytest.approx(R["logrank_trt_chisq"], rel=1e-7)
    assert result.df == R["logrank_trt_df"]
    np.testing.assert_allclose(result.expected, R["logrank_trt_expected"], rtol=1e-12)
    cells = logrank(veteran.time, veteran.status, veteran.Celltype)
    assert cells.statistic == pytest.approx(R["logrank_celltype_chisq"], rel=1e-9)
    assert cells.df == R["logrank_celltype_df"]
    theirs = multivariate_logrank_test(veteran.time, veteran.Celltype, veteran.status)
    assert cells.statistic == pytest.approx(theirs.test_statistic, rel=1e-9)
    assert cells.p_value == pytest.approx(theirs.p_value, rel=1e-9)


def test_stratified_log_rank_matches_r(veteran):
    result = logrank(veteran.time, veteran.status, veteran.Treatment,
                     strata=veteran.Celltype)
    assert result.statistic == pytest.approx(R["stratified_trt_by_celltype_chisq"], rel=1e-9)


def test_survival_curve_matches_lifelines(veteran):
    ours = KaplanMeier().fit(veteran.time, veteran.status)
    theirs = KaplanMeierFitter().fit(veteran.time, veteran.status)
    np.testing.assert_allclose(ours.at(ours.table_.time).survival,
                               theirs.survival_function_at_times(ours.table_.time), rtol=TOL)


COX = json.loads((Path(__file__).parent / "reference" / "cox_veteran.json").read_text())


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_matches_r(veteran, ties):
    from precimed.analysis import CoxPH

    data = veteran.assign(karno=veteran.Karnofsky_score, age=veteran.Age_in_years,
                          treated=(veteran.Treatment == "test").astype(float),
                          prior=np.where(veteran.Prior_therapy == "yes", 10.0, 0.0))
    fit = CoxPH().fit(data, "time", "status", covariates=COX["covariates"], ties=ties)
    reference = COX[ties]
    np.testing.assert_allclose(fit.params_, reference["coef"], rtol=1e-9)
    np.testing.assert_allclose(fit.standard_errors_, reference["se"], rtol=1e-9)
    assert [fit.log_likelihood_null_, fit.log_likelihood_] == pytest.approx(
        reference["loglik"], rel=1e-12)
    assert fit.score_test_ == pytest.approx(reference["score_test"], rel=1e-9)
