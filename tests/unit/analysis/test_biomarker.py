"""Biomarker validation on hand-computed cases, a naive O(cases x controls) DeLong as a
property test, and bad input. Comparisons with pROC, metafor and statsmodels are in
tests/validation/test_biomarker_against_proc.py."""

from __future__ import annotations

import json
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from precimed.analysis.biomarker import (
    ROC,
    Calibration,
    delong_test,
    diagnostic_accuracy,
    multicentre_auc,
)
from precimed.errors import UserError

matplotlib.use("Agg")


def naive_delong(markers: list[np.ndarray], y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUCs and their covariance straight from DeLong et al. (1988): the kernel over every
    case-control pair, 1 if the case is higher, 1/2 if tied."""
    v10, v01, aucs = [], [], []
    for x in markers:
        cases, controls = x[y], x[~y]
        kernel = (cases[:, None] > controls[None, :]) + 0.5 * (cases[:, None] == controls[None, :])
        aucs.append(kernel.mean())
        v10.append(kernel.mean(axis=1))
        v01.append(kernel.mean(axis=0))
    m, n = y.sum(), (~y).sum()
    covariance = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return np.array(aucs), covariance


samples = st.lists(st.tuples(st.integers(0, 6), st.integers(-3, 3), st.booleans()),
                   min_size=4, max_size=60)


@settings(max_examples=150, deadline=None)
@given(samples)
def test_fast_delong_equals_the_naive_pairwise_computation(rows):
    x1 = np.array([r[0] for r in rows], float) / 2  # few distinct values: many ties
    x2 = np.array([r[1] for r in rows], float)
    y = np.array([r[2] for r in rows])
    assume(2 <= y.sum() <= len(y) - 2)
    aucs, covariance = naive_delong([x1, x2], y)
    roc = ROC().fit(x1, y, direction="<")
    assert roc.auc_ == pytest.approx(aucs[0], abs=1e-12)
    assert roc.auc_var_ == pytest.approx(covariance[0, 0], abs=1e-12)
    flipped = ROC().fit(x1, y, direction=">")
    assert flipped.auc_ == pytest.approx(1 - aucs[0], abs=1e-12)
    assert flipped.auc_var_ == pytest.approx(covariance[0, 0], abs=1e-12)
    test = delong_test(x1, x2, y, direction="<")
    se = math.sqrt(max(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1], 0))
    assert test.se_difference == pytest.approx(se, abs=1e-9)
    if se > 1e-9:
        assert test.statistic == pytest.approx((aucs[0] - aucs[1]) / se, rel=1e-9)


def test_a_hand_computed_auc_with_ties():
    # cases 2, 3, 3; controls 1, 3: pairs won 1 + 1 + 1 + 0.5 + 0.5 of 6
    roc = ROC().fit([2, 3, 3, 1, 3], [1, 1, 1, 0, 0])
    assert roc.auc_ == pytest.approx(4 / 6)
    assert roc.direction_ == "<" and (roc.n_cases_, roc.n_controls_) == (3, 2)
    assert list(roc.roc_.threshold) == [-np.inf, 1.5, 2.5, np.inf]
    assert list(roc.roc_.sensitivity) == [1, 1, 2 / 3, 0]
    assert list(roc.roc_.specificity) == [0, 0.5, 0.5, 1]
    assert list(roc.youden_.threshold) == [1.5]


def test_auto_direction_follows_the_medians_and_is_reported():
    roc = ROC().fit([5, 6, 7, 1, 2, 3], [0, 0, 0, 1, 1, 1])
    assert roc.direction_ == ">" and roc.auc_ == 1.0
    out = roc.to_dict()
    assert out["direction"] == ">" and out["direction_chosen_by"] == "median rule (auto)"
    assert "controls > cases" in out["direction_meaning"]
    assert (out["n_cases"], out["n_controls"]) == (3, 3)
    assert roc.auc_se_ == 0 and roc.auc_ci_ == (1.0, 1.0)


def test_perfect_separation_and_one_case_per_class_are_handled():
    tiny = ROC().fit([1, 2], [0, 1])
    assert tiny.auc_ == 1 and math.isnan(tiny.auc_se_)
    json.dumps(tiny.to_dict(), allow_nan=False)


def test_thresholds_separate_values_one_float_apart():
    a = 1.0
    b = np.nextafter(a, 2)
    for direction in ("<", ">"):
        roc = ROC().fit([a, b, a, b], [0, 1, 0, 1], direction=direction)
        assert roc.auc_ == (1.0 if direction == "<" else 0.0)
        middle = roc.roc_.iloc[1]
        positive_above = direction == "<"
        assert middle.sensitivity == (1.0 if positive_above else 0.0)
        assert middle.specificity == (1.0 if positive_above else 0.0)


def test_missing_values_are_dropped_and_counted():
    roc = ROC().fit([1, 2, np.nan, 4, 5], [0, 0, 1, None, 1])
    assert roc.n_dropped_ == 2 and (roc.n_cases_, roc.n_controls_) == (1, 2)


def test_coords_and_threshold_at_specificity():
    marker = np.arange(10.0)
    outcome = marker >= 5
    roc = ROC().fit(marker, outcome)
    at = roc.coords([4.5, 7])
    assert list(at.tp) == [5, 3] and list(at.fp) == [0, 0]
    best = roc.threshold_at_specificity(0.9)
    assert best.threshold == 4.5 and best.sensitivity == 1 and best.specificity == 1
    with pytest.raises(UserError):
        roc.threshold_at_specificity(90)


def test_diagnostic_accuracy_counts_and_wilson_intervals():
    marker = [1, 2, 3, 4, 5, 6, 7, 8]
    outcome = [0, 0, 0, 1, 0, 1, 1, 1]
    result = diagnostic_accuracy(marker, outcome, [4, 9])
    row = result.table.iloc[0]
    assert (row.tp, row.fp, row.tn, row.fn) == (4, 1, 3, 0)
    assert row.sensitivity == 1 and row.ppv == pytest.approx(0.8)
    # Wilson for 4/4 at 95%: lower = n / (n + z^2)
    z = 1.959963984540054
    assert row.sensitivity_lower == pytest.approx(4 / (4 + z * z))
    assert row.sensitivity_upper == pytest.approx(1)
    nobody = result.table.iloc[1]
    assert nobody.tp + nobody.fp == 0 and math.isnan(nobody.ppv)
    assert math.isnan(nobody.ppv_lower)
    out = result.to_dict()
    assert (out["n_cases"], out["n_controls"]) == (4, 4)
    json.dumps(out, allow_nan=False)


def test_a_model_is_perfectly_calibrated_on_its_own_training_data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=400)
    y = rng.random(400) < 1 / (1 + np.exp(-(0.3 + 1.2 * x)))
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM

    fitted = GLM(y.astype(float), np.column_stack([np.ones(400), x]),
                 family=Binomial()).fit(tol=1e-14)
    cal = Calibration().fit(fitted.fittedvalues, y)
    # the score equations of a logistic model with an intercept make both exact
    assert cal.intercept_ == pytest.approx(0, abs=1e-8)
    assert cal.slope_ == pytest.approx(1, abs=1e-8)
    assert cal.table_.n.sum() == 400 and len(cal.table_) == 10
    out = cal.to_dict()
    assert out["n_cases"] + out["n_controls"] == 400
    json.dumps(out, allow_nan=False)


def test_overconfident_risks_have_a_slope_below_one():
    rng = np.random.default_rng(5)
    true = 1 / (1 + np.exp(-rng.normal(size=2000)))
    y = rng.random(2000) < true
    logit = np.log(true / (1 - true))
    cal = Calibration().fit(1 / (1 + np.exp(-2 * logit)), y)
    assert cal.slope_ == pytest.approx(0.5, abs=0.1)
    assert cal.slope_ci_[1] < 1


@pytest.mark.parametrize("p, said", [([0.2, 1.0, 0.5, 0.4], "strictly between"),
                                     ([0.2, 0.3, 0.5, 0.4], "binary")])
def test_calibration_refuses_bad_input(p, said):
    outcome = [0, 1, 1, 0] if said != "binary" else [0, 1, 2, 0]
    with pytest.raises(UserError) as caught:
        Calibration().fit(p, outcome)
    assert said in caught.value.what


def test_ties_that_merge_risk_groups_reduce_the_degrees_of_freedom():
    p = np.repeat([0.1, 0.2, 0.3, 0.4, 0.5], 20)
    y = np.tile([1, 0, 0, 0, 0], 20).astype(bool)
    cal = Calibration().fit(p, y, groups=10)
    assert len(cal.table_) == 5 and cal.hl_df_ == 3


def centres_data(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for name, shift, size in [("A", 1.0, 80), ("B", 0.3, 60), ("C", 1.5, 70)]:
        y = rng.random(size) < 0.4
        frames.append(pd.DataFrame({"centre": name, "y": y,
                                    "x": rng.normal(size=size) + shift * y}))
    return pd.concat(frames, ignore_index=True)


def test_multicentre_weights_and_exclusions():
    data = centres_data()
    small = pd.DataFrame({"centre": "D", "y": [True, False, False], "x": [1.0, 0.0, 0.5]})
    separated = pd.DataFrame({"centre": "E", "y": [True, True, False, False],
                              "x": [5.0, 6.0, 0.0, 1.0]})
    data = pd.concat([data, small, separated], ignore_index=True)
    result = multicentre_auc(data.x, data.y, data.centre)
    assert list(result.per_centre.centre) == ["A", "B", "C"]
    assert list(result.excluded.centre) == ["D", "E"]
    assert "fewer than 2" in result.excluded.reason[0]
    assert "variance 0" in result.excluded.reason[1]
    assert result.per_centre.weight_random.sum() == pytest.approx(100)
    for name, group in data[data.centre.isin(["A", "B", "C"])].groupby("centre"):
        single = ROC().fit(group.x, group.y, direction=result.direction)
        row = result.per_centre.set_index("centre").loc[name]
        assert row.auc == pytest.approx(single.auc_) and row.se == pytest.approx(single.auc_se_)
    out = result.to_dict()
    assert out["n_cases"] == int(result.per_centre.n_cases.sum())
    assert {"n_cases", "n_controls"} <= set(out["per_centre"][0])
    json.dumps(out, allow_nan=False)
    assert list(result.summary.index[-2:]) == ["pooled, fixed effect",
                                               "pooled, random effects (DL)"]


def test_one_centre_cannot_be_pooled():
    data = centres_data()
    with pytest.raises(UserError) as caught:
        multicentre_auc(data.x, data.y, ["A"] * len(data))
    assert "centre" in caught.value.what


def test_plots_draw():
    data = centres_data()
    roc = ROC().fit(data.x, data.y)
    assert roc.plot_roc().get_lines()
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 300)
    assert Calibration().fit(p, rng.random(300) < p).plot_calibration().get_lines()
    forest = multicentre_auc(data.x, data.y, data.centre).plot_forest()
    assert len(forest.get_yticklabels()) == 5


@pytest.mark.parametrize("marker, outcome, said", [
    ([1, 2, 3], [0, 1], "different lengths"),
    ([1, 2, 3], [0, 1, 2], "binary"),
    ([1, 2, 3], ["a", "b", "a"], "binary"),
    ([1, 2, 3], [1, 1, 1], "No controls"),
    (["x", "y"], [0, 1], "numeric"),
    ([1, np.inf], [0, 1], "infinite"),
])
def test_bad_input_says_what(marker, outcome, said):
    with pytest.raises(UserError) as caught:
        ROC().fit(marker, outcome)
    assert said in caught.value.what and caught.value.hint


def test_bad_options_are_refused():
    with pytest.raises(UserError):
        ROC().fit([1, 2], [0, 1], direction="up")
    with pytest.raises(UserError):
        ROC().fit([1, 2], [0, 1], conf_level=95)
    with pytest.raises(UserError):
        ROC().summary  # noqa: B018  (not fitted)
    with pytest.raises(UserError):
        delong_test([1, 2], [2, 1], [0, 1], paired=False)
    with pytest.raises(UserError):
        delong_test([1, 2], [2, 1], [0, 1], outcome2=[0, 1])
