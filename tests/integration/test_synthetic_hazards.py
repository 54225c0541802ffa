"""Cox models recover the true log hazard ratios of the synthetic cohort.

:mod:`precimed.synth.follow_up` draws each endpoint time from an exponential proportional-
hazards model with the log hazard ratios of ``ENDPOINTS`` (stroke) and ``DEATH``, on six
baseline covariates defined in ``ground_truth()``. How it observes them decides the analysis:

- endpoint events are recorded only before the end of observation, ``end`` = the last wave
  reached before loss to follow-up (an exact anniversary), death, or the data cut; so stroke
  is censored at ``end``, with death a competing event, which leaves the cause-specific
  hazard, the model that generated it, intact (the latent times are independent);
- deaths come from the death registry up to the data cut whether or not a person was lost,
  so death is censored at the data cut only;
- a composite "stroke or death" would not do: its hazard is a sum of two exponentials with
  different coefficients, not proportional in one linear predictor;
- dates are whole days (ties, hence Efron), and about a third of events are reported again
  by a second source up to 5 days earlier: the first report counts.

The cohort is synthesised in process (participants and follow-up, seeded), 30,000 people,
about 1,300 strokes and 2,300 deaths. Criterion: each of the 12 true log HRs lies within its
Bonferroni-adjusted interval (family-wise 99%: z = 3.34), and for each endpoint the Wald
statistic of all six true values against the estimates is below the chi-square(6) 0.999
quantile. To show the test has power, the same criteria must reject log HRs of zero and
true values shifted by 0.15.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from precimed.analysis import CoxPH
from precimed.synth.follow_up import DEATH, ENDPOINTS, YEAR, covariates, follow, ground_truth
from precimed.synth.people import DATA_CUT, participants

COVARIATES = ["age10", "male", "smoker", "sbp20", "bmi5", "diabetes"]
FAMILY = 12
Z = stats.norm.ppf(1 - 0.01 / FAMILY / 2)
WALD = stats.chi2.ppf(0.999, len(COVARIATES))


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(20240607)
    people = participants(30_000, rng)
    history = follow(people, rng)
    truth = ground_truth(history["loss_rates"])
    assert sorted(truth["covariates"]) == sorted(COVARIATES)
    return people, history, truth


def years_since_enrolment(people: pd.DataFrame, dates: pd.Series, persons) -> np.ndarray:
    enrolment = people.enrolment_date.to_numpy()[np.asarray(persons)]
    return (pd.to_datetime(dates).to_numpy() - enrolment) / np.timedelta64(1, "D") / YEAR


def analysis_data(people, history, endpoint: str) -> pd.DataFrame:
    data = covariates(people).assign(centre=people.centre.to_numpy())
    horizon = ((pd.Timestamp(DATA_CUT) - people.enrolment_date).dt.days / YEAR).to_numpy()
    if endpoint == "death":
        deaths = history["deaths"]
        time, event = horizon.copy(), np.zeros(len(people), int)
        time[deaths.person] = years_since_enrolment(people, deaths.death_date, deaths.person)
        event[deaths.person] = 1
    else:
        events = history["events"]
        first = events[events.endpoint == endpoint].groupby("person").event_date.min()
        time, event = np.asarray(history["end"], float).copy(), np.zeros(len(people), int)
        time[first.index] = years_since_enrolment(people, first, first.index)
        event[first.index] = 1
    return data.assign(time=time, event=event)


def true_log_hr(truth: dict, endpoint: str) -> np.ndarray:
    model = truth["death"] if endpoint == "death" else truth["endpoints"][endpoint]
    return np.array([model["log_hazard_ratios"][c] for c in COVARIATES])


def covers(fit: CoxPH, beta: np.ndarray) -> tuple[bool, float]:
    estimate = fit.params_[COVARIATES].to_numpy()
    se = fit.standard_errors_[COVARIATES].to_numpy()
    inside = bool(np.all(np.abs(estimate - beta) <= Z * se))
    diff = estimate - beta
    variance = fit.variance_matrix_.loc[COVARIATES, COVARIATES].to_numpy()
    return inside, float(diff @ np.linalg.solve(variance, diff))


@pytest.mark.parametrize("endpoint, options", [
    ("stroke", {}),
    ("death", {"strata": ["centre"], "robust": True}),  # loss differs by centre
])
def test_true_log_hazard_ratios_are_recovered(cohort, endpoint, options):
    people, history, truth = cohort
    data = analysis_data(people, history, endpoint)
    assert data.event.sum() > 1000
    fit = CoxPH().fit(data, "time", "event", covariates=COVARIATES, **options)
    beta = true_log_hr(truth, endpoint)
    inside, wald = covers(fit, beta)
    table = fit.summary.assign(truth=beta)
    assert inside, f"a true log HR is outside its interval:\n{table}"
    assert wald < WALD, f"Wald {wald:.1f} >= {WALD:.1f}:\n{table}"
    assert fit.standard_errors_["age10"] < 0.05  # precise enough to mean something
    for wrong in (np.zeros(len(beta)), beta + 0.15):
        inside, wald = covers(fit, wrong)
        assert not inside and wald > WALD


def test_baseline_hazard_is_the_true_exponential_one(cohort):
    people, history, truth = cohort
    data = analysis_data(people, history, "stroke")
    fit = CoxPH().fit(data, "time", "event", covariates=COVARIATES)
    rate = truth["endpoints"]["stroke"]["baseline_rate_per_year"]
    assert rate == next(m.baseline_rate for m in ENDPOINTS if m.name == "stroke")
    cumulative = fit.baseline_cumulative_hazard_.iloc[:, 0]
    at = cumulative.index.searchsorted([1.0, 3.0, 5.0], side="right") - 1
    # log H0(t) at the reference covariates has an SE of about 0.06-0.1 here: 30% is > 3 SE
    np.testing.assert_allclose(cumulative.iloc[at], rate * np.array([1.0, 3.0, 5.0]), rtol=0.3)
    assert DEATH.baseline_rate == truth["death"]["baseline_rate_per_year"]
