"""Absolute-risk models, the survival NRI and China-PAR's input contract.

The NRI is checked against a hand-worked example (censoring before the horizon, so the
Kaplan-Meier risks matter) and, with no censoring before the horizon, against R's Hmisc
``improveProb`` (binary-outcome NRI, which the KM version must then equal). Those numbers
came from R 4.2.2 with Hmisc 4.8.0 on the data of ``hmisc_data`` below:

    i <- 0:59; event <- as.numeric(i %% 3 == 0)
    old <- ((i * 37) %% 100) / 100 + 0.005
    new <- pmin(pmax(old + ((i * 11) %% 7 - 3) / 20 + 0.1 * event, 0.001), 0.999)
    improveProb(old, new, event)                      # nri.ev 0.55, nri.ne 0.025
    improveProb(findInterval(old, c(.2, .5)) / 2,
                findInterval(new, c(.2, .5)) / 2, event)  # nri.ev 0.1, nri.ne 0.025

(Hmisc is in Debian; no R package with the survival NRI, such as nricens, is.)
"""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from precimed.analysis.china_par import china_par, china_par_category
from precimed.analysis.risk import CoxRiskModel, net_reclassification
from precimed.analysis.survival import KaplanMeier
from precimed.errors import UserError

# Hand-worked: horizon 5. Category-free: up = rows 1-4 and 10, down = rows 5-7.
# KM risk by 5: all 1 - 0.9 * 8/9 * 7/8 * 5/6 = 5/12; up (deaths at 2, 2.5 of 5, then
# censored) 1 - 4/5 * 3/4 = 0.4; down (death at 1 of 3) 1/3. P(up) 0.5, P(down) 0.3.
# Events: (0.4 * 0.5 - 1/3 * 0.3) / (5/12) = 0.24.
# Non-events: ((2/3) * 0.3 - 0.6 * 0.5) / (7/12) = -0.1 * 12/7 = -0.171428...
# Cut-offs 0.45, 0.55: up = rows 3, 4 (KM risk 0), down = rows 5-7: events
# (0 - 0.1) / (5/12) = -0.24, non-events ((2/3) * 0.3 - 0.2) / (7/12) = 0.
HAND = pd.DataFrame({
    "time": [2, 3, 6, 7, 1, 8, 9, 4, 10, 2.5],
    "event": [1, 0, 0, 0, 1, 0, 0, 1, 0, 1],
    "old": [.10, .20, .30, .40, .50, .60, .70, .80, .15, .25],
    "new": [.30, .40, .50, .60, .20, .10, .20, .80, .15, .35],
})


def nri(frame, **kwargs):
    return net_reclassification(frame.old, frame.new, time=frame.time, event=frame.event,
                                horizon=5, **kwargs)


def test_survival_nri_by_hand():
    free = nri(HAND)
    assert free.kind == "category-free"
    assert free.risk_all == pytest.approx(5 / 12)
    assert (free.risk_up, free.risk_down) == pytest.approx((0.4, 1 / 3))
    assert free.event_nri == pytest.approx(0.24)
    assert free.nonevent_nri == pytest.approx(-0.1 * 12 / 7)
    assert free.nri == pytest.approx(0.24 - 0.1 * 12 / 7)
    categorical = nri(HAND, cutoffs=[0.55, 0.45])
    assert categorical.kind == "categorical" and categorical.cutoffs == (0.45, 0.55)
    assert categorical.event_nri == pytest.approx(-0.24)
    assert categorical.nonevent_nri == pytest.approx(0.0, abs=1e-12)
    json.dumps(categorical.to_dict())


def hmisc_data() -> pd.DataFrame:
    i = np.arange(60)
    event = (i % 3 == 0).astype(int)
    old = (i * 37 % 100) / 100 + 0.005
    new = np.clip(old + ((i * 11) % 7 - 3) / 20 + 0.1 * event, 0.001, 0.999)
    time = np.where(event == 1, 1 + (i * 7 % 4), 25.0)  # events by 5, no earlier censoring
    return pd.DataFrame({"time": time, "event": event, "old": old, "new": new})


def test_without_censoring_the_survival_nri_is_hmiscs():
    frame = hmisc_data()
    free = nri(frame)
    assert (free.event_nri, free.nonevent_nri) == pytest.approx((0.55, 0.025), abs=1e-12)
    categorical = nri(frame, cutoffs=[0.2, 0.5])
    assert (categorical.event_nri, categorical.nonevent_nri) == pytest.approx(
        (0.1, 0.025), abs=1e-12)


def test_nri_refuses_bad_input():
    with pytest.raises(UserError, match="one non-missing value"):
        net_reclassification([0.1, np.nan], [0.2, 0.3], time=[1, 2], event=[1, 0], horizon=1)
    with pytest.raises(UserError, match="both events and survivors"):
        net_reclassification([0.1, 0.2], [0.2, 0.3], time=[1, 2], event=[0, 0], horizon=1)


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(7)
    n = 3000
    x1, x2 = rng.normal(size=n), rng.binomial(1, 0.4, n)
    true = rng.exponential(1 / (0.05 * np.exp(0.7 * x1 + 0.5 * x2)))
    censor = rng.uniform(0, 15, n)
    return pd.DataFrame({"time": np.minimum(true, censor), "event": (true <= censor) * 1,
                         "x1": x1, "x2": x2, "centre": rng.integers(0, 4, n)})


def test_risk_is_one_minus_the_survival_at_the_horizon(cohort):
    model = CoxRiskModel().fit(cohort, "time", "event", covariates=["x1", "x2"], horizon=5)
    base = model.cox_.baseline_cumulative_hazard_.iloc[:, 0]
    h0 = base[base.index <= 5].iloc[-1]
    lp = cohort[["x1", "x2"]].to_numpy() @ model.cox_.params_.to_numpy()
    np.testing.assert_allclose(model.predict_risk(cohort), 1 - np.exp(-h0 * np.exp(lp)),
                               rtol=1e-12)
    assert model.baseline_risk_ == pytest.approx(1 - np.exp(-h0))
    json.dumps(model.to_dict())


def test_validation_on_other_centres(cohort):
    fit_on, other = cohort[cohort.centre < 2], cohort[cohort.centre >= 2]
    model = CoxRiskModel().fit(fit_on, "time", "event", covariates=["x1", "x2"], horizon=5)
    result = model.validate(other, groups=5)
    table = result.calibration
    assert table.n.sum() == len(other) and table.n.max() - table.n.min() <= 1
    assert table.predicted.is_monotonic_increasing
    # each group's observed risk is its Kaplan-Meier risk at the horizon
    risk = model.predict_risk(other).to_numpy()
    top = np.argsort(risk, kind="stable")[-table.n.iloc[-1]:]
    km = KaplanMeier().fit(np.minimum(other.time.to_numpy()[top], 5),
                           other.event.to_numpy()[top] * (other.time.to_numpy()[top] <= 5))
    assert table.observed.iloc[-1] == pytest.approx(1 - km.at([5]).survival.iloc[0])
    assert table.lower.iloc[-1] < table.observed.iloc[-1] < table.upper.iloc[-1]
    assert 0.6 < result.c_index < 0.8
    assert abs(result.calibration_slope - 1) < 3 * result.calibration_slope_se + 0.05
    assert 0.85 < result.expected_observed_ratio < 1.15
    _, ax = plt.subplots()
    assert result.plot_calibration(ax) is ax and ax.get_xlabel().startswith("predicted risk")
    plt.close("all")
    json.dumps(result.to_dict())


def test_risk_model_refuses_bad_use(cohort):
    with pytest.raises(UserError, match="not fitted"):
        CoxRiskModel().predict_risk(cohort)
    with pytest.raises(UserError, match="beyond the last event"):
        CoxRiskModel().fit(cohort, "time", "event", covariates=["x1"], horizon=100)
    model = CoxRiskModel().fit(cohort, "time", "event", covariates=["x1"], horizon=5)
    with pytest.raises(UserError, match="calibration groups"):
        model.validate(cohort.head(15))
    with pytest.raises(UserError, match="No column 'time'"):
        model.validate(cohort.rename(columns={"time": "t"}))


PERSON = {"sex": "2", "age": 55, "SBP": 135, "TC": 5.0, "HDL_C": 1.3, "WAIST": 82,
          "bp_treated": 0, "smoker": 0, "diabetes": 0, "north": 1, "urban": 1,
          "family_history": 0}


def test_china_par_categories():
    assert list(china_par_category([0.0499, 0.05, 0.0999, 0.10, 0.5])) == \
        ["low", "moderate", "moderate", "high", "high"]


def test_china_par_womens_equation_ignores_mens_terms():
    base = china_par(pd.DataFrame([PERSON]))
    other = china_par(pd.DataFrame([PERSON | {"urban": 0, "family_history": 1}]))
    assert other.risk.iloc[0] == base.risk.iloc[0]
    man = china_par(pd.DataFrame([PERSON | {"sex": "male"}]))
    assert man.risk.iloc[0] != base.risk.iloc[0]


@pytest.mark.parametrize(("change", "message"), [
    ({"sex": "x"}, "sex must be male or female"),
    ({"age": 80}, "derivation range"),
    ({"TC": 193.0}, "TC outside"),  # mg/dL labelled as mmol/L
    ({"SBP": None}, "SBP has missing"),
    ({"smoker": 2}, "smoker must be 0 or 1"),
])
def test_china_par_input_errors(change, message):
    with pytest.raises(UserError, match=message) as raised:
        china_par(pd.DataFrame([PERSON | change]))
    assert raised.value.hint


def test_china_par_units_and_extrapolation():
    with pytest.raises(UserError, match="needs the column"):
        china_par(pd.DataFrame([{k: v for k, v in PERSON.items() if k != "WAIST"}]))
    with pytest.raises(UserError, match="not an accepted unit"):
        china_par(pd.DataFrame([PERSON]), units={"TC": "g/L"})
    in_mg = china_par(pd.DataFrame([PERSON | {"TC": 5.0 * 38.67}]), units={"TC": "mg/dL"})
    assert in_mg.risk.iloc[0] == pytest.approx(china_par(pd.DataFrame([PERSON])).risk.iloc[0])
    old = china_par(pd.DataFrame([PERSON | {"age": 80}]), allow_any_age=True)
    assert old.risk.iloc[0] > china_par(pd.DataFrame([PERSON])).risk.iloc[0]
