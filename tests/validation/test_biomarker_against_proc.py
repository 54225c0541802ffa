"""Biomarker validation on pROC's aSAH data against the numbers R produced
(tests/validation/reference/proc_asah.R: R 4.2.2, pROC 1.18.0, metafor 3.8.1), and
against statsmodels (Wilson intervals, logistic GLMs, ``combine_effects``).

Tolerances: 1e-9 relative for AUCs, DeLong variances, intervals and test statistics,
sensitivities, specificities and pooled estimates: the arithmetic is the same, and R
wrote 15 significant digits. 1e-9 too for the calibration intercept and slope against
R's ``glm`` and statsmodels' GLM, both iterated to full convergence (``glm``'s default
stopping rule leaves standard errors off by ~3e-7, so the R script tightens it).
Wilson intervals against statsmodels: 1e-12 (closed formula).
Hosmer–Lemeshow is checked against R's computation of hoslem.test's definition (the
ResourceSelection package is not packaged for Debian, so the R script computes it
directly) and against a hand computation in this file with pandas' ``qcut``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.genmod.families import Binomial
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.proportion import proportion_confint

from precimed.analysis.biomarker import (
    ROC,
    Calibration,
    delong_test,
    diagnostic_accuracy,
    multicentre_auc,
)

HERE = Path(__file__).parent
R = json.loads((HERE / "reference" / "proc_asah.json").read_text())
TOL = 1e-9


def numbers(values) -> np.ndarray:
    """R's JSON writes infinite thresholds as the strings "-Inf" and "Inf"."""
    return np.array([float(v) for v in np.atleast_1d(values)])


@pytest.fixture(scope="module")
def asah() -> pd.DataFrame:
    data = pd.read_csv(HERE / "data" / "asah.csv")
    return data.assign(poor=data.outcome == "Poor",
                       centre=data.gender + "_" + np.where(data.age > 50, "over50", "upto50"))


MARKERS = [("s100b", "s100b", "auto"), ("ndka", "ndka", "auto"), ("wfns", "wfns", "auto"),
           ("s100b_greater", "s100b", ">")]


@pytest.mark.parametrize("key, column, direction", MARKERS)
def test_auc_and_delong_interval_match_proc(asah, key, column, direction):
    reference = R[key]
    roc = ROC().fit(asah[column], asah.poor, direction=direction)
    assert roc.direction_ == reference["direction"]
    assert (roc.n_cases_, roc.n_controls_) == (reference["n_cases"], reference["n_controls"])
    assert roc.auc_ == pytest.approx(reference["auc"], rel=TOL)
    assert roc.auc_var_ == pytest.approx(reference["var_delong"], rel=TOL)
    np.testing.assert_allclose(roc.auc_ci_, reference["ci_delong"], rtol=TOL)
    ninety = ROC().fit(asah[column], asah.poor, direction=direction, conf_level=0.90)
    np.testing.assert_allclose(ninety.auc_ci_, reference["ci90_delong"], rtol=TOL)


@pytest.mark.parametrize("key, column, direction", MARKERS)
def test_curve_youden_and_coords_match_proc(asah, key, column, direction):
    reference = R[key]
    roc = ROC().fit(asah[column], asah.poor, direction=direction)
    curve = reference["all"]
    np.testing.assert_allclose(roc.roc_.threshold, numbers(curve["threshold"]), rtol=TOL)
    np.testing.assert_allclose(roc.roc_.sensitivity, curve["sensitivity"], rtol=TOL)
    np.testing.assert_allclose(roc.roc_.specificity, curve["specificity"], rtol=TOL)
    best = reference["youden"]
    np.testing.assert_allclose(roc.youden_.threshold, numbers(best["threshold"]), rtol=TOL)
    np.testing.assert_allclose(roc.youden_.sensitivity, numbers(best["sensitivity"]), rtol=TOL)
    at = reference["at_thresholds"]
    coords = roc.coords(numbers(at["threshold"]))
    np.testing.assert_allclose(coords.sensitivity, numbers(at["sensitivity"]), rtol=TOL)
    np.testing.assert_allclose(coords.specificity, numbers(at["specificity"]), rtol=TOL)
    spec90 = roc.threshold_at_specificity(0.9)
    expected = reference["spec90"]
    assert spec90.threshold == pytest.approx(numbers(expected["threshold"])[0], rel=TOL)
    assert spec90.sensitivity == pytest.approx(numbers(expected["sensitivity"])[0], rel=TOL)
    assert spec90.specificity == pytest.approx(numbers(expected["specificity"])[0], rel=TOL)


@pytest.mark.parametrize("key, first, second", [("test_s100b_ndka", "s100b", "ndka"),
                                                ("test_wfns_s100b", "wfns", "s100b")])
def test_paired_delong_test_matches_proc(asah, key, first, second):
    reference = R[key]
    result = delong_test(asah[first], asah[second], asah.poor)
    assert result.paired and reference["method"] == "DeLong's test for two correlated ROC curves"
    assert result.statistic == pytest.approx(reference["statistic"], rel=TOL)
    assert result.p_value == pytest.approx(reference["p_value"], rel=TOL)
    np.testing.assert_allclose(result.auc, reference["auc"], rtol=TOL)
    np.testing.assert_allclose(result.difference_ci, reference["conf_int"], rtol=TOL)


def test_unpaired_delong_test_matches_proc(asah):
    reference = R["test_s100b_men_women"]
    men, women = asah[asah.gender == "Male"], asah[asah.gender == "Female"]
    result = delong_test(men.s100b, women.s100b, men.poor, paired=False, outcome2=women.poor,
                         direction="<")
    assert not result.paired and reference["method"] == "DeLong's test for two ROC curves"
    assert result.statistic == pytest.approx(reference["statistic"], rel=TOL)
    assert result.df == pytest.approx(reference["df"], rel=TOL)
    assert result.p_value == pytest.approx(reference["p_value"], rel=TOL)
    np.testing.assert_allclose(result.auc, reference["auc"], rtol=TOL)


@pytest.mark.parametrize("key, column", [("s100b", "s100b"), ("ndka", "ndka"), ("wfns", "wfns")])
def test_accuracy_at_cutoffs_matches_proc_and_statsmodels_wilson(asah, key, column):
    at = R[key]["at_thresholds"]
    result = diagnostic_accuracy(asah[column], asah.poor, numbers(at["threshold"]))
    table = result.table
    np.testing.assert_allclose(table.sensitivity, numbers(at["sensitivity"]), rtol=TOL)
    np.testing.assert_allclose(table.specificity, numbers(at["specificity"]), rtol=TOL)
    assert (table.tp + table.fn == R[key]["n_cases"]).all()
    assert (table.tn + table.fp == R[key]["n_controls"]).all()
    for name, hit, miss in [("sensitivity", "tp", "fn"), ("specificity", "tn", "fp"),
                            ("ppv", "tp", "fp"), ("npv", "tn", "fn")]:
        for alpha, level in [(0.05, 0.95), (0.10, 0.90)]:
            ours = diagnostic_accuracy(asah[column], asah.poor, numbers(at["threshold"]),
                                       conf_level=level).table
            lower, upper = proportion_confint(table[hit], table[hit] + table[miss],
                                              alpha=alpha, method="wilson")
            np.testing.assert_allclose(ours[f"{name}_lower"], lower, rtol=1e-12)
            np.testing.assert_allclose(ours[f"{name}_upper"], upper, rtol=1e-12)


@pytest.mark.parametrize("key", ["multicentre_s100b", "multicentre_wfns"])
def test_multicentre_pooling_matches_metafor(asah, key):
    reference = R[key]
    result = multicentre_auc(asah[reference["marker"]], asah.poor, asah.centre, direction="<")
    table = result.per_centre
    assert list(table.centre) == reference["centres"]
    assert list(table.n_cases) == reference["n_cases"]
    assert list(table.n_controls) == reference["n_controls"]
    np.testing.assert_allclose(table.auc, reference["auc"], rtol=TOL)
    np.testing.assert_allclose(table.variance, reference["var"], rtol=TOL)
    assert result.random.estimate == pytest.approx(reference["random"], rel=TOL)
    assert result.random.se == pytest.approx(reference["random_se"], rel=TOL)
    np.testing.assert_allclose([result.random.lower, result.random.upper],
                               reference["random_ci"], rtol=TOL)
    assert result.fixed.estimate == pytest.approx(reference["fixed"], rel=TOL)
    assert result.fixed.se == pytest.approx(reference["fixed_se"], rel=TOL)
    np.testing.assert_allclose([result.fixed.lower, result.fixed.upper],
                               reference["fixed_ci"], rtol=TOL)
    assert result.tau2 == pytest.approx(reference["tau2"], rel=TOL, abs=1e-15)
    assert result.q == pytest.approx(reference["Q"], rel=TOL)
    assert result.q_p_value == pytest.approx(reference["Q_p"], rel=TOL)
    assert result.i2_percent == pytest.approx(reference["I2"], rel=TOL, abs=1e-12)
    np.testing.assert_allclose(table.weight_random, reference["weights_random"], rtol=TOL)
    np.testing.assert_allclose(table.weight_fixed, reference["weights_fixed"], rtol=TOL)


def test_multicentre_pooling_matches_statsmodels(asah):
    result = multicentre_auc(asah.wfns, asah.poor, asah.centre, direction="<")
    table = result.per_centre
    theirs = combine_effects(table.auc.to_numpy(), table.variance.to_numpy(), method_re="dl")
    assert theirs.tau2 > 0.005  # heterogeneous: the random-effects path is exercised
    assert result.random.estimate == pytest.approx(theirs.mean_effect_re, rel=TOL)
    assert result.random.se == pytest.approx(theirs.sd_eff_w_re, rel=TOL)
    assert result.fixed.estimate == pytest.approx(theirs.mean_effect_fe, rel=TOL)
    assert result.fixed.se == pytest.approx(theirs.sd_eff_w_fe, rel=TOL)
    assert result.tau2 == pytest.approx(theirs.tau2, rel=TOL)
    assert result.q == pytest.approx(theirs.q, rel=TOL)
    assert result.i2_percent == pytest.approx(100 * theirs.i2, rel=TOL)
    frame = theirs.summary_frame()
    assert result.random.lower == pytest.approx(frame.loc["random effect", "ci_low"], rel=TOL)
    assert result.random.upper == pytest.approx(frame.loc["random effect", "ci_upp"], rel=TOL)


def test_homogeneous_centres_truncate_tau2_at_zero_unlike_statsmodels(asah):
    """statsmodels 0.15 leaves DerSimonian–Laird's tau² negative when Q < df; metafor and
    DerSimonian & Laird (1986) truncate it at 0, and so the random effects equal the fixed."""
    result = multicentre_auc(asah.s100b, asah.poor, asah.centre, direction="<")
    table = result.per_centre
    with np.errstate(invalid="ignore"):
        theirs = combine_effects(table.auc.to_numpy(), table.variance.to_numpy(),
                                 method_re="dl")
    assert theirs.tau2 < 0 and result.tau2 == 0 and result.i2_percent == 0
    assert result.q == pytest.approx(theirs.q, rel=TOL)
    assert result.fixed.estimate == pytest.approx(theirs.mean_effect_fe, rel=TOL)
    assert result.random.estimate == pytest.approx(theirs.mean_effect_fe, rel=TOL)
    assert result.random.se == pytest.approx(theirs.sd_eff_w_fe, rel=TOL)


@pytest.fixture(scope="module")
def validation_risks() -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "asah_calibration.csv")


def test_calibration_matches_r_glm(validation_risks):
    reference = R["calibration"]
    cal = Calibration().fit(validation_risks.p, validation_risks.poor)
    assert cal.n_cases_ + cal.n_controls_ == reference["n"]
    assert cal.n_cases_ == reference["events"]
    for name in ("intercept", "slope"):
        assert getattr(cal, f"{name}_") == pytest.approx(reference[name], rel=TOL)
        assert getattr(cal, f"{name}_se_") == pytest.approx(reference[f"{name}_se"], rel=TOL)
        np.testing.assert_allclose(getattr(cal, f"{name}_ci_"), reference[f"{name}_ci"],
                                   rtol=TOL)


def test_hosmer_lemeshow_matches_r(validation_risks):
    reference = R["calibration"]
    cal = Calibration().fit(validation_risks.p, validation_risks.poor, groups=10)
    assert list(cal.table_.n) == reference["hl_size"]
    np.testing.assert_allclose(cal.table_.observed, reference["hl_observed"], rtol=TOL)
    np.testing.assert_allclose(cal.table_.expected, reference["hl_expected"], rtol=TOL)
    assert cal.hl_statistic_ == pytest.approx(reference["hl_statistic"], rel=TOL)
    assert cal.hl_df_ == reference["hl_df"]
    assert cal.hl_p_value_ == pytest.approx(reference["hl_p"], rel=TOL)


def hosmer_lemeshow_by_hand(p: np.ndarray, y: np.ndarray, groups: int) -> tuple[float, int]:
    """Deciles by pandas' qcut (right-closed intervals, the lowest closed), then the
    chi-square over both outcome columns of the g x 2 table."""
    group = pd.qcut(p, groups)
    frame = pd.DataFrame({"g": group, "p": p, "y": y})
    by = frame.groupby("g", observed=True)
    observed1, expected1, size = by.y.sum(), by.p.sum(), by.y.size()
    observed0, expected0 = size - observed1, size - expected1
    chi2 = (((observed1 - expected1) ** 2 / expected1)
            + ((observed0 - expected0) ** 2 / expected0)).sum()
    return float(chi2), len(size) - 2


@pytest.fixture(scope="module")
def breast_cancer_risks() -> pd.DataFrame:
    """A logistic model of malignancy on three features, fitted on the even rows of
    scikit-learn's Wisconsin breast-cancer data and applied to the odd rows."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    features = data.data[["mean radius", "mean texture", "mean smoothness"]]
    design = np.column_stack([np.ones(len(features)), features.to_numpy()])
    malignant = (data.target == 0).to_numpy().astype(float)
    train, test = np.arange(len(design)) % 2 == 0, np.arange(len(design)) % 2 == 1
    model = GLM(malignant[train], design[train], family=Binomial()).fit()
    return pd.DataFrame({"p": model.predict(design[test]), "y": malignant[test]})


def test_calibration_matches_statsmodels_glm(breast_cancer_risks):
    p, y = breast_cancer_risks.p.to_numpy(), breast_cancer_risks.y.to_numpy()
    logit = np.log(p / (1 - p))
    cal = Calibration().fit(p, y)
    intercept = GLM(y, np.ones((len(y), 1)), family=Binomial(), offset=logit).fit(tol=1e-14)
    slope = GLM(y, np.column_stack([np.ones(len(y)), logit]), family=Binomial()).fit(tol=1e-14)
    assert cal.intercept_ == pytest.approx(intercept.params[0], rel=TOL)
    assert cal.intercept_se_ == pytest.approx(intercept.bse[0], rel=TOL)
    np.testing.assert_allclose(cal.intercept_ci_, intercept.conf_int()[0], rtol=TOL)
    assert cal.slope_ == pytest.approx(slope.params[1], rel=TOL)
    assert cal.slope_se_ == pytest.approx(slope.bse[1], rel=TOL)
    np.testing.assert_allclose(cal.slope_ci_, slope.conf_int()[1], rtol=TOL)


@pytest.mark.parametrize("groups", [5, 10, 12])
def test_hosmer_lemeshow_matches_a_hand_computation(breast_cancer_risks, validation_risks,
                                                    groups):
    for p, y in [(breast_cancer_risks.p, breast_cancer_risks.y),
                 (validation_risks.p, validation_risks.poor)]:
        cal = Calibration().fit(p, y, groups=groups)
        statistic, df = hosmer_lemeshow_by_hand(p.to_numpy(), y.to_numpy(), groups)
        assert cal.hl_statistic_ == pytest.approx(statistic, rel=1e-12)
        assert cal.hl_df_ == df == groups - 2
        assert cal.hl_p_value_ == pytest.approx(stats.chi2.sf(statistic, df), rel=1e-12)
