"""Survival analyses on hand-computed cases, definitions and bad input: Kaplan–Meier,
log-rank, Cox models (weights as copies of rows, strata, robust variance, predictions),
the concordance against its O(n^2) definition, Aalen–Johansen."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from precimed.analysis import CoxPH, KaplanMeier, logrank
from precimed.errors import UserError


def test_a_hand_computed_curve():
    # times 1,2,2,3,4 with the 2nd 2 and the 4 censored: S = 4/5, then 4/5*3/4, then *1/2
    km = KaplanMeier().fit([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    at = km.at([0.5, 1, 2, 3, 10])
    assert list(at.survival) == pytest.approx([1, 0.8, 0.6, 0.3, 0.3])
    assert list(at.n_risk) == [5, 5, 4, 2, 0]
    greenwood = 1 / (5 * 4) + 1 / (4 * 3) + 1 / (2 * 1)
    assert at.std_err.iloc[3] == pytest.approx(0.3 * math.sqrt(greenwood))
    assert km.median_ == 3


def test_no_events_means_no_median_and_all_censored():
    km = KaplanMeier().fit([5, 6, 7], [0, 0, 0])
    assert math.isnan(km.median_) and km.events_ == 0
    assert list(km.at([10]).survival) == [1.0]


def test_identical_groups_give_a_zero_statistic():
    result = logrank([1, 2, 3, 1, 2, 3], [1, 1, 1, 1, 1, 1], ["a", "a", "a", "b", "b", "b"])
    assert result.statistic == pytest.approx(0) and result.p_value == pytest.approx(1)


@pytest.mark.parametrize("durations, events, said", [
    ([1, -2], [1, 1], "non-negative"),
    ([1, float("nan")], [1, 1], "non-negative"),
    ([1, 2, 3], [1, 1], "equal length"),
])
def test_bad_input_says_what(durations, events, said):
    with pytest.raises(UserError) as caught:
        KaplanMeier().fit(durations, events)
    assert said in caught.value.what


def test_one_group_is_refused():
    with pytest.raises(UserError):
        logrank([1, 2], [1, 1], ["a", "a"])


def test_a_cox_model_without_events_is_refused():
    import pandas as pd

    from precimed.analysis import CoxPH

    data = pd.DataFrame({"t": [1.0, 2.0, 3.0], "e": [0, 0, 0], "x": [0.1, 0.2, 0.3]})
    with pytest.raises(UserError) as caught:
        CoxPH().fit(data, "t", "e")
    assert "No events" in caught.value.what


# --- Cox models, concordance, cumulative incidence --------------------------------------

def brute_concordance(t, risk, e, w, s):
    """R's concordance by its definition, over all O(n^2) pairs."""
    n = len(t)
    rows = np.zeros((n, 3))
    tied_time = tied_both = 0.0
    for i in range(n):
        for j in range(n):
            if i == j or s[i] != s[j] or not e[i]:
                continue
            if t[i] < t[j] or (t[i] == t[j] and not e[j]):
                column = 0 if risk[i] > risk[j] else 1 if risk[i] < risk[j] else 2
                rows[i, column] += w[j]
                rows[j, column] += w[i]
            elif t[i] == t[j] and e[j] and i < j:
                if risk[i] == risk[j]:
                    tied_both += w[i] * w[j]
                else:
                    tied_time += w[i] * w[j]
    c, d, tied = (w @ rows) / 2
    pairs = c + d + tied
    somers = (c - d) / pairs
    influence = w * ((rows[:, 0] - rows[:, 1]) / pairs - somers / pairs * rows.sum(1))
    return (somers + 1) / 2, (c, d, tied, tied_time, tied_both), influence @ influence / 4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_concordance_equals_the_quadratic_definition_with_ties_weights_strata(seed):
    from precimed.analysis import concordance

    rng = np.random.default_rng(seed)
    n = 150
    t = rng.integers(1, 25, n).astype(float)  # many tied times
    risk = rng.integers(0, 8, n).astype(float)  # many tied risks
    e = rng.random(n) < 0.6
    w = rng.integers(1, 4, n).astype(float)
    s = rng.integers(0, 3, n)
    expected, counts, variance = brute_concordance(t, risk, e, w, s)
    result = concordance(t, risk, e, weights=w, strata=s)
    assert result.concordance == pytest.approx(expected, rel=1e-12)
    assert (result.concordant, result.discordant, result.tied_risk, result.tied_time,
            result.tied_both) == pytest.approx(counts, rel=1e-12)
    assert result.variance == pytest.approx(variance, rel=1e-10)


def test_concordance_index_by_hand():
    from precimed.analysis import concordance_index

    # times 1..4, all deaths: risks 4,3,2,1 are perfectly ordered; reversing flips it
    assert concordance_index([1, 2, 3, 4], [4, 3, 2, 1], [1, 1, 1, 1]) == 1.0
    assert concordance_index([1, 2, 3, 4], [1, 2, 3, 4], [1, 1, 1, 1]) == 0.0
    # one comparable pair only (1 dies, 2 censored later), tied risk: 1/2
    assert concordance_index([1, 2], [5, 5], [1, 0]) == 0.5


def cox_data(seed: int = 3, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    time = np.ceil(rng.exponential(1 / np.exp(x @ [0.5, -0.3])) * 10)  # tied times
    censor = np.ceil(rng.exponential(2, n) * 10)
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "time": np.minimum(time, censor),
                         "event": (time <= censor).astype(int),
                         "group": rng.integers(0, 3, n), "w": rng.integers(1, 3, n)})


def test_integer_weights_are_copies_of_rows_with_breslow_ties():
    # (with Efron ties R's weights are not copies: a copied death adds an Efron term; the
    # weighted Efron fit is checked against R in tests/validation/test_cox_against_r.py)
    data = cox_data()
    weighted = CoxPH().fit(data, "time", "event", covariates=["x1", "x2"], weights="w",
                           ties="breslow")
    copies = data.loc[data.index.repeat(data.w)]
    copied = CoxPH().fit(copies, "time", "event", covariates=["x1", "x2"], ties="breslow")
    np.testing.assert_allclose(weighted.params_, copied.params_, rtol=1e-9)
    np.testing.assert_allclose(weighted.standard_errors_, copied.standard_errors_, rtol=1e-9)
    assert weighted.log_likelihood_ == pytest.approx(copied.log_likelihood_, rel=1e-12)
    pd.testing.assert_frame_equal(weighted.baseline_cumulative_hazard_,
                                  copied.baseline_cumulative_hazard_, rtol=1e-9)


def test_a_stratified_fit_sums_the_strata_log_likelihoods():
    data = cox_data()
    fit = CoxPH().fit(data, "time", "event", covariates=["x1", "x2"], strata=["group"])
    total = 0.0
    for _, part in data.groupby("group"):
        part = part.sort_values("time", kind="stable")
        one = CoxPH()
        one.strata_labels_ = [None]
        one._prepare(*(np.asarray(v) for v in (
            part.time, part.event.astype(bool), part[["x1", "x2"]].to_numpy(float),
            np.zeros(len(part), int), np.ones(len(part)))), "efron")
        total += one._derivatives(fit.params_.to_numpy())[0]
    assert fit.log_likelihood_ == pytest.approx(total, rel=1e-12)
    assert list(fit.baseline_cumulative_hazard_.columns) == [0, 1, 2]


def test_robust_with_one_row_per_cluster_is_plain_robust():
    data = cox_data().assign(row=lambda d: np.arange(len(d)))
    robust = CoxPH().fit(data, "time", "event", covariates=["x1", "x2"], robust=True)
    clustered = CoxPH().fit(data, "time", "event", covariates=["x1", "x2"], cluster="row")
    np.testing.assert_allclose(robust.standard_errors_, clustered.standard_errors_, rtol=1e-12)
    assert "robust se" in robust.summary.columns
    assert robust.summary["se(coef)"].tolist() != robust.summary["robust se"].tolist()


def test_predictions_use_the_baseline_hazard_and_the_right_stratum():
    data = cox_data()
    fit = CoxPH().fit(data, "time", "event", covariates=["x1", "x2"], strata=["group"])
    new = pd.DataFrame({"x1": [0.0, 1.0], "x2": [0.0, -1.0], "group": [2, 0]})
    survival = fit.predict_survival_function(new, [5.0, 15.0])
    base = fit.baseline_cumulative_hazard_
    h0 = base.loc[base.index <= 15.0].iloc[-1]
    risk = fit.predict_partial_hazard(new)
    assert risk[0] == 1.0 and risk[1] == pytest.approx(np.exp(fit.params_ @ [1.0, -1.0]))
    assert survival.loc[15.0, 0] == pytest.approx(np.exp(-h0[2]))
    assert survival.loc[15.0, 1] == pytest.approx(np.exp(-h0[0] * risk[1]))
    with pytest.raises(UserError) as caught:
        fit.predict_survival_function(new.assign(group=7), [5.0])
    assert "Stratum" in caught.value.what


def test_cox_results_serialise_and_bad_options_are_refused():
    import json

    from precimed.analysis import cox_zph

    fit = CoxPH().fit(cox_data(), "time", "event", covariates=["x1", "x2"], cluster="group")
    restored = json.loads(json.dumps(fit.to_dict()))
    assert restored["concordance"] == pytest.approx(fit.concordance_)
    assert restored["se"] == pytest.approx(fit.standard_errors_.tolist())
    zph = cox_zph(fit, transform="rank")
    assert list(zph.table.index) == ["x1", "x2", "GLOBAL"]
    assert json.loads(json.dumps(zph.to_dict()))["df"] == [1, 1, 2]
    with pytest.raises(UserError):
        cox_zph(fit, transform="sqrt")
    with pytest.raises(UserError):
        CoxPH().fit(cox_data().assign(x1=np.nan), "time", "event", covariates=["x1"])
    with pytest.raises(UserError):
        CoxPH().fit(cox_data().assign(w=0), "time", "event", covariates=["x1"], weights="w")


def test_aalen_johansen_with_one_cause_is_one_minus_kaplan_meier():
    from precimed.analysis import AalenJohansen

    data = cox_data()
    fit = AalenJohansen().fit(data.time, data.event)
    km = KaplanMeier().fit(data.time, data.event)
    np.testing.assert_allclose(fit.cumulative_incidence_[1], 1 - km.table_.survival,
                               rtol=1e-12)


def test_aalen_johansen_by_hand_and_bad_codes():
    from precimed.analysis import AalenJohansen

    # 4 people: cause 1 at t=1, censored at 2, cause 2 at 3, cause 1 at 4
    fit = AalenJohansen().fit([1, 2, 3, 4], [1, 0, 2, 1])
    at = fit.at([1, 3, 4]).set_index(["cause", "time"]).cumulative_incidence
    # S: 3/4 after t=1, then 3/4 * 1/2 after t=3; F1 = 1/4 + 3/8 * 1 at t=4; F2 = 3/4 * 1/2
    assert at[(1, 1.0)] == pytest.approx(0.25) and at[(1, 4.0)] == pytest.approx(0.625)
    assert at[(2, 3.0)] == pytest.approx(0.375)
    with pytest.raises(UserError):
        AalenJohansen().fit([1, 2], [0, 0])
    with pytest.raises(UserError):
        AalenJohansen().fit([1, 2], [1, 2], event_of_interest=3)


def test_a_stratum_without_deaths_has_zero_baseline_hazard():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"t": rng.exponential(1, 200), "e": rng.integers(0, 2, 200),
                         "x": rng.normal(size=200), "s": np.repeat([0, 1], 100)})
    data.loc[data.s == 1, "e"] = 0
    model = CoxPH().fit(data, "t", "e", covariates=["x"], strata=["s"])
    hazard = model.baseline_cumulative_hazard_
    assert (hazard[1] == 0).all() and hazard[0].iloc[-1] > 0
    survival = model.predict_survival_function(data.iloc[[0, 150]], times=[0.5, 1.0])
    assert np.allclose(survival.iloc[:, 1], 1.0) and (survival.iloc[:, 0] < 1).all()
