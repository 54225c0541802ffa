"""The Aalen–Johansen cumulative incidence against R survival 3.5.3 (R 4.2.2) on R's mgus2
data: progression to a plasma cell malignancy and death without it as competing risks,
``survfit(Surv(etime, event) ~ 1)`` with a factor event, as in the survival package's
competing-risks vignette (tests/validation/reference/aalen_johansen_mgus2.R -> .json).

Tolerances, relative: point estimates (event-free and both cumulative incidences) at every
one of R's times 1e-12, the same arithmetic; standard errors and confidence limits 1e-11:
R's infinitesimal jackknife, which we sum in closed form over times rather than over an
n x T matrix of influences, so rounding differs (observed differences below 3e-14).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from precimed.analysis import AalenJohansen

HERE = Path(__file__).parent
R = json.loads((HERE / "reference" / "aalen_johansen_mgus2.json").read_text())
PCM, DEATH = 1, 2


@pytest.fixture(scope="module")
def mgus2() -> pd.DataFrame:
    data = pd.read_csv(HERE / "data" / "mgus2.csv")
    return data.assign(etime=np.where(data.pstat == 0, data.futime, data.ptime),
                       event=np.where(data.pstat == 0, 2 * data.death, data.pstat))


def test_point_estimates_and_std_errors_at_every_time(mgus2):
    fit = AalenJohansen().fit(mgus2.etime, mgus2.event)
    assert fit.causes == [PCM, DEATH]
    np.testing.assert_array_equal(fit.table_.time, R["time"])
    np.testing.assert_array_equal(fit.table_.n_risk, R["n_risk"])
    event_free, pcm, death = R["pstate"]
    np.testing.assert_allclose(fit.survival_, event_free, rtol=1e-12)
    np.testing.assert_allclose(fit.cumulative_incidence_[PCM], pcm, rtol=1e-12)
    np.testing.assert_allclose(fit.cumulative_incidence_[DEATH], death, rtol=1e-12)
    se_free, se_pcm, se_death = R["std_err"]
    np.testing.assert_allclose(fit.survival_std_err_, se_free, rtol=1e-11)
    np.testing.assert_allclose(fit.std_err_[PCM], se_pcm, rtol=1e-11)
    np.testing.assert_allclose(fit.std_err_[DEATH], se_death, rtol=1e-11)


def test_at_chosen_times_with_log_confidence_limits(mgus2):
    fit = AalenJohansen().fit(mgus2.etime, mgus2.event)
    at = fit.at(R["at"]["time"])
    assert R["conf_type"] == "log"
    for cause, column in ((PCM, 1), (DEATH, 2)):
        rows = at[at.cause == cause]
        np.testing.assert_allclose(rows.cumulative_incidence, R["at"]["pstate"][column],
                                   rtol=1e-12)
        np.testing.assert_allclose(rows.std_err, R["at"]["std_err"][column], rtol=1e-11)
        np.testing.assert_allclose(rows.lower, R["at"]["lower"][column], rtol=1e-11)
        np.testing.assert_allclose(rows.upper, R["at"]["upper"][column], rtol=1e-11)
        assert rows.n_risk.tolist() == R["at"]["n_risk"]


def test_by_sex_and_event_of_interest(mgus2):
    reference = R["by_sex"]
    for sex in ("F", "M"):
        group = mgus2[mgus2.sex == sex]
        fit = AalenJohansen().fit(group.etime, group.event, event_of_interest=PCM)
        keep = [s == f"sex={sex}" for s in reference["strata"]]
        times = np.array(reference["time"])[keep]
        at = fit.at(times)
        assert at.cause.unique().tolist() == [PCM]
        np.testing.assert_allclose(at.cumulative_incidence,
                                   np.array(reference["pstate"][1])[keep], rtol=1e-12)
        np.testing.assert_allclose(at.std_err, np.array(reference["std_err"][1])[keep],
                                   rtol=1e-11)


def test_the_incidences_and_the_event_free_curve_add_to_one(mgus2):
    fit = AalenJohansen().fit(mgus2.etime, mgus2.event)
    total = fit.survival_ + fit.cumulative_incidence_.sum(axis=1)
    np.testing.assert_allclose(total, 1, rtol=1e-12)
    restored = json.loads(json.dumps(fit.to_dict()))
    assert restored["cumulative_incidence"]["1"][-1] == pytest.approx(
        fit.cumulative_incidence_[PCM].iloc[-1])
