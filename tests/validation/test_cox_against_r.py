"""Cox models, concordance, cox.zph, baseline hazards and predictions against R's survival
3.5.3 (R 4.2.2) on its lung, pbc, colon and veteran data (tests/validation/data, exported
by export_survival_data.R) and on lifelines' Rossi data, against R and lifelines.

Reference numbers: tests/validation/reference/cox_survival_data.R -> .json (15 significant
digits). R is run with coxph.control(eps = 1e-12) rather than its default 1e-9, whose early
stop leaves R's coefficients up to 2e-8 (relative) short of convergence. Tolerances, relative:
- coefficients and everything computed from them (naive and robust SEs, score test, basehaz,
  survfit predictions, cox.zph, residuals) 1e-10: the same arithmetic, summed in another
  order (observed differences are below 1e-10);
- log-likelihoods 1e-12; concordance counts exactly, the concordance and its standard error
  1e-12 (they depend only on the order of the linear predictor); KM medians exactly;
  log-rank chi-squares 1e-9;
- lifelines (its own Newton-Raphson, stopping on a 1e-7 step) 1e-6 for coefficients and
  SEs, 1e-9 for the log-likelihood, 1e-12 for the concordance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.datasets import load_rossi

from precimed.analysis import CoxPH, KaplanMeier, cox_zph, logrank

HERE = Path(__file__).parent
R = json.loads((HERE / "reference" / "cox_survival_data.json").read_text())
COEF = 1e-10
LUNG = ["age", "female", "ph.ecog"]


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / f"{name}.csv")


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    data = read("lung").assign(female=lambda d: (d.sex == 2).astype(float),
                               event=lambda d: (d.status == 2).astype(int))
    complete = data[["time", "event", *LUNG, "inst"]].dropna().reset_index(drop=True)
    return complete.assign(w=(np.arange(1, len(complete) + 1) % 3) + 1.0)


@pytest.fixture(scope="module")
def pbc() -> pd.DataFrame:
    data = read("pbc")
    data = data[["time", "status", "age", "edema", "bili", "albumin", "protime", "trt"]]
    return data.assign(event=(data.status == 2).astype(int), log_bili=np.log(data.bili),
                       log_albumin=np.log(data.albumin), log_protime=np.log(data.protime))


def check(fit: CoxPH, reference: dict) -> None:
    np.testing.assert_allclose(fit.params_, reference["coef"], rtol=COEF)
    np.testing.assert_allclose(fit.standard_errors_, reference["se"], rtol=COEF)
    if "se_naive" in reference:
        np.testing.assert_allclose(fit.summary["se(coef)"], reference["se_naive"], rtol=COEF)
        np.testing.assert_allclose(fit.summary["robust se"], reference["se"], rtol=COEF)
    assert [fit.log_likelihood_null_, fit.log_likelihood_] == pytest.approx(
        reference["loglik"], rel=1e-12)
    assert fit.score_test_ == pytest.approx(reference["score"], rel=COEF)
    assert (fit.n_, fit.events_) == (reference["n"], reference["nevent"])
    counts = fit.concordance_result_
    assert [counts.concordant, counts.discordant, counts.tied_risk, counts.tied_time,
            counts.tied_both] == reference["concordance"][:5]
    assert fit.concordance_ == pytest.approx(reference["concordance"][5], rel=1e-12)
    assert fit.concordance_se_ == pytest.approx(reference["concordance"][6], rel=1e-12)
    check_baseline(fit, reference["basehaz"])
    for transform in ("km", "rank", "identity"):
        if f"zph_{transform}" in reference:
            table = cox_zph(fit, transform=transform).table
            expected = reference[f"zph_{transform}"]
            np.testing.assert_allclose(table.chisq, expected["chisq"], rtol=COEF)
            np.testing.assert_allclose(table.p, expected["p"], rtol=1e-7)
            assert table.df.tolist() == expected["df"]


def check_baseline(fit: CoxPH, reference: dict) -> None:
    base = fit.baseline_cumulative_hazard_
    times = np.array(reference["time"])
    if reference["strata"] is None:
        assert len(base) == len(times)
        np.testing.assert_allclose(base.loc[times].iloc[:, 0], reference["hazard"], rtol=COEF)
        return
    names = list(dict.fromkeys(reference["strata"]))  # R's level order, like ours: sorted
    assert len(names) == base.shape[1]
    column = np.array([names.index(s) for s in reference["strata"]])
    mine = base.to_numpy()[base.index.get_indexer(times), column]
    np.testing.assert_allclose(mine, reference["hazard"], rtol=COEF)


def check_predictions(fit: CoxPH, newdata: pd.DataFrame, reference: dict) -> None:
    survival = fit.predict_survival_function(newdata, reference["predict_times"])
    np.testing.assert_allclose(survival.T.to_numpy(), reference["predict_survival"], rtol=COEF)
    cumulative = fit.predict_cumulative_hazard(newdata, reference["predict_times"])
    np.testing.assert_allclose(np.exp(-cumulative), survival, rtol=1e-14)


LUNG_NEW = pd.DataFrame({"age": [50.0, 65, 75], "female": [0.0, 1, 0], "ph.ecog": [0.0, 1, 2]})


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_lung_naive(lung, ties):
    fit = CoxPH().fit(lung, "time", "event", covariates=LUNG, ties=ties)
    check(fit, R["lung" if ties == "efron" else "lung_breslow"])
    check_predictions(fit, LUNG_NEW, R["lung" if ties == "efron" else "lung_breslow"])


def test_equal_covariates_tie_exactly():
    """age, sex and Karnofsky score on lung: a product over the whole (Fortran-ordered)
    design matrix gave some equal rows risks 1e-17 apart, counting 7,146 discordant and
    64 tied pairs; by the definition (equal covariates, equal risk) they are 7,145 and 65.
    The R references above still match exactly with the same computation."""
    data = read("lung").assign(female=lambda d: (d.sex == 2).astype(float),
                               event=lambda d: (d.status == 2).astype(int))
    covariates = ["age", "female", "ph.karno"]
    data = data[["time", "event", *covariates]].dropna().reset_index(drop=True)
    fit = CoxPH().fit(data, "time", "event", covariates=covariates)
    counts = fit.concordance_result_
    assert (counts.concordant, counts.discordant, counts.tied_risk) == (12578, 7145, 65)


def test_lung_residuals(lung):
    fit = CoxPH().fit(lung, "time", "event", covariates=LUNG)
    np.testing.assert_allclose(fit.schoenfeld_residuals_, R["lung"]["schoenfeld"],
                               rtol=COEF, atol=1e-9)
    np.testing.assert_allclose(fit.scaled_schoenfeld_residuals_,
                               R["lung"]["scaled_schoenfeld"], rtol=COEF, atol=1e-9)
    scores = np.empty((len(lung), 3))
    scores[np.lexsort((lung.time,))] = fit._score_residuals(fit._risk_sets(fit.params_))
    np.testing.assert_allclose(scores, R["lung"]["score_residuals"], rtol=COEF, atol=1e-9)


@pytest.mark.parametrize("options, name", [
    ({"robust": True}, "lung_robust"),
    ({"cluster": "inst"}, "lung_cluster"),
    ({"cluster": "inst", "ties": "breslow"}, "lung_breslow_cluster"),
    ({"weights": "w"}, "lung_weighted"),
    ({"weights": "w", "robust": True}, "lung_weighted_robust"),
])
def test_lung_robust_clustered_weighted(lung, options, name):
    fit = CoxPH().fit(lung, "time", "event", covariates=LUNG, **options)
    check(fit, R[name])
    if "predict_times" in R[name]:
        check_predictions(fit, LUNG_NEW, R[name])


def test_lung_stratified(lung):
    fit = CoxPH().fit(lung, "time", "event", covariates=["age", "ph.ecog"], strata=["female"])
    check(fit, R["lung_strata"])
    newdata = pd.DataFrame({"age": [50.0, 65], "ph.ecog": [0.0, 2], "female": [0.0, 1]})
    check_predictions(fit, newdata, R["lung_strata"])


def test_lung_km_and_log_rank(lung):
    data = read("lung").assign(female=lambda d: (d.sex == 2).astype(int))
    medians = [KaplanMeier().fit(g.time, g.status == 2).median_
               for _, g in data.groupby("female")]
    assert medians == R["lung_km_median_by_sex"]
    result = logrank(data.time, data.status == 2, data.female)
    assert result.statistic == pytest.approx(R["lung_logrank_sex"], rel=1e-9)


PBC = ["age", "edema", "log_bili", "log_albumin", "log_protime"]


def test_pbc_mayo_model(pbc):
    data = pbc.dropna(subset=PBC)
    check(CoxPH().fit(data, "time", "event", covariates=PBC), R["pbc"])
    stratified = CoxPH().fit(data, "time", "event", covariates=[c for c in PBC if c != "edema"],
                             strata=["edema"])
    check(stratified, R["pbc_strata"])
    randomised = pbc.dropna(subset=[*PBC, "trt"])
    check(CoxPH().fit(randomised, "time", "event", covariates=["age", "log_bili"],
                      strata=["trt"], robust=True), R["pbc_trt_strata_robust"])


def test_pbc_km_and_log_rank(pbc):
    assert KaplanMeier().fit(pbc.time, pbc.event).median_ == R["pbc_km_median"]
    randomised = pbc.dropna(subset=["trt"])
    result = logrank(randomised.time, randomised.event, randomised.trt)
    assert result.statistic == pytest.approx(R["pbc_logrank_trt"], rel=1e-9)


def test_colon_marginal_model_stratified_by_endpoint_clustered_by_patient():
    colon = read("colon").assign(lev=lambda d: (d.rx == "Lev").astype(float),
                                 lev5fu=lambda d: (d.rx == "Lev+5FU").astype(float))
    fit = CoxPH().fit(colon, "time", "status", covariates=["lev", "lev5fu", "extent", "node4"],
                      strata=["etype"], cluster="id")
    check(fit, R["colon"])
    death = colon[colon.etype == 2]
    medians = [KaplanMeier().fit(g.time, g.status).median_ for _, g in death.groupby("rx")]
    expected = [np.nan if m is None else m for m in R["colon_death_km_median_by_rx"]]
    np.testing.assert_equal(medians, expected)  # NaN (R's NA): the median is not reached
    result = logrank(death.time, death.status, death.rx)
    assert result.statistic == pytest.approx(R["colon_death_logrank_rx"], rel=1e-9)


VETERAN = ["karno", "age", "treated", "prior"]
VETERAN_NEW = pd.DataFrame({"karno": [40.0, 80], "age": [60.0, 50], "treated": [1.0, 0],
                            "prior": [0.0, 10], "celltype": ["squamous", "large"]})


def test_veteran_plain_and_stratified_by_cell_type():
    veteran = read("veteran").assign(treated=lambda d: (d.trt == 2).astype(float))
    fit = CoxPH().fit(veteran, "time", "status", covariates=VETERAN)
    check(fit, R["veteran"])
    check_predictions(fit, VETERAN_NEW, R["veteran"])
    stratified = CoxPH().fit(veteran, "time", "status", covariates=VETERAN,
                             strata=["celltype"])
    check(stratified, R["veteran_strata"])
    check_predictions(stratified, VETERAN_NEW, R["veteran_strata"])


def test_rossi_against_r_and_lifelines():
    rossi = load_rossi()
    ours = CoxPH().fit(rossi, "week", "arrest")
    check(ours, R["rossi"])
    theirs = CoxPHFitter().fit(rossi, "week", "arrest")
    np.testing.assert_allclose(ours.params_, theirs.params_[ours.covariates], rtol=1e-6)
    np.testing.assert_allclose(ours.standard_errors_,
                               theirs.standard_errors_[ours.covariates], rtol=1e-6)
    assert ours.concordance_ == pytest.approx(theirs.concordance_index_, rel=1e-12)
    assert ours.log_likelihood_ == pytest.approx(theirs.log_likelihood_, rel=1e-9)
