"""Follow-up: annual waves, loss to follow-up by centre, deaths and incident endpoints.

Endpoint times are drawn from proportional-hazards models whose true log hazard ratios
are :data:`ENDPOINTS` (written beside the data as ground truth), with exponential
baseline hazards. Loss to follow-up is a per-centre annual probability chosen so that
some centres miss the programme's 8% four-year target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from precimed.standard import CENTRES
from precimed.standard.cohorts import FOLLOW_UP_WAVES
from precimed.synth.people import DATA_CUT

WAVES = FOLLOW_UP_WAVES  # the protocol's annual waves, as far as the data cut allows
YEAR = 365.25


@dataclass(frozen=True)
class EndpointModel:
    name: str
    icd10: str
    baseline_rate: float  # events per person-year at the reference covariates
    log_hr: dict[str, float]  # covariate -> true log hazard ratio


# Covariates, centred: age per 10 years from 52, male, current smoker, SBP per 20 mmHg
# from 130, BMI per 5 kg/m2 from 24, diabetes at baseline. Magnitudes follow published
# Chinese cohort estimates (China Kadoorie Biobank, China-PAR) in direction and size.
ENDPOINTS: tuple[EndpointModel, ...] = (
    EndpointModel("chd", "I21.9", 0.0025,
                  {"age10": 0.60, "male": 0.45, "smoker": 0.40, "sbp20": 0.35, "bmi5": 0.15,
                   "diabetes": 0.50}),
    EndpointModel("stroke", "I63.9", 0.0045,
                  {"age10": 0.65, "male": 0.20, "smoker": 0.25, "sbp20": 0.55, "bmi5": 0.10,
                   "diabetes": 0.40}),
    EndpointModel("t2d", "E11.9", 0.0090,
                  {"age10": 0.25, "male": 0.10, "smoker": 0.15, "sbp20": 0.10, "bmi5": 0.55,
                   "diabetes": 0.0}),
    EndpointModel("lung_cancer", "C34.9", 0.0007,
                  {"age10": 0.75, "male": 0.35, "smoker": 1.00, "sbp20": 0.0, "bmi5": -0.10,
                   "diabetes": 0.0}),
    EndpointModel("gastric_cancer", "C16.9", 0.0005,
                  {"age10": 0.60, "male": 0.60, "smoker": 0.30, "sbp20": 0.0, "bmi5": 0.0,
                   "diabetes": 0.0}),
    EndpointModel("colorectal_cancer", "C18.9", 0.0004,
                  {"age10": 0.55, "male": 0.25, "smoker": 0.15, "sbp20": 0.0, "bmi5": 0.20,
                   "diabetes": 0.15}),
    EndpointModel("liver_cancer", "C22.0", 0.0003,
                  {"age10": 0.40, "male": 0.85, "smoker": 0.20, "sbp20": 0.0, "bmi5": 0.10,
                   "diabetes": 0.30}),
)
DEATH = EndpointModel("death", "", 0.0045,
                      {"age10": 0.90, "male": 0.40, "smoker": 0.35, "sbp20": 0.20, "bmi5": 0.0,
                       "diabetes": 0.45})

_OTHER_CAUSES = ("I64", "J44.9", "C34.9", "I21.9", "C22.0", "C16.9", "N18.9", "W19")


def covariates(people: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "age10": (people.age - 52) / 10,
        "male": people.male.astype(float),
        "smoker": (people.smoking == "current").astype(float),
        "sbp20": (people.sbp - 130) / 20,
        "bmi5": (people.bmi - 24) / 5,
        "diabetes": people.diabetes.astype(float),
    })


def loss_rates(rng: np.random.Generator) -> dict[str, float]:
    """Annual probability of becoming lost, by centre (4-year loss 2.5% to 16%)."""
    four_year = rng.uniform(0.025, 0.16, len(CENTRES))
    return {c: float(1 - (1 - p) ** 0.25) for c, p in zip(CENTRES, four_year, strict=True)}


def _exponential(rate: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.exponential(1.0, len(rate)) / rate


def follow(people: pd.DataFrame, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Contacts, visits, deaths and endpoint reports for every participant (years from
    enrolment are converted to calendar dates against the data cut)."""
    n = len(people)
    x = covariates(people)
    enrol = people.enrolment_date.to_numpy()
    horizon = ((pd.Timestamp(DATA_CUT) - people.enrolment_date).dt.days / YEAR).to_numpy()
    rates = loss_rates(rng)
    annual_loss = people.centre.map(rates).to_numpy()
    # the wave at which a person becomes lost (no contact from then on); inf = never
    lost_wave = np.where(rng.random((n, WAVES)) < annual_loss[:, None], 1, 0)
    first_lost = np.where(lost_wave.any(1), lost_wave.argmax(1) + 1, np.inf)
    death_time = _exponential(DEATH.baseline_rate * np.exp(_lp(x, DEATH)), rng)
    observed_death = (death_time < horizon)
    # observation ends at the last wave reached before loss, at death, or at the data cut
    end = np.where(np.isfinite(first_lost), np.minimum(first_lost - 1, horizon), horizon)
    end = np.minimum(end, death_time)
    contacts, visits = _contacts(people, first_lost, death_time, horizon, rng)
    events = _events(people, x, end, rng)
    deaths = pd.DataFrame({
        "person": np.flatnonzero(observed_death),
        "death_date": enrol[observed_death] + _days(death_time[observed_death]),
    })
    deaths["underlying_cause"] = rng.choice(_OTHER_CAUSES, len(deaths))
    return {"contacts": contacts, "visits": visits, "events": events, "deaths": deaths,
            "loss_rates": rates, "end": end}


def _lp(x: pd.DataFrame, model: EndpointModel) -> np.ndarray:
    return sum(x[k].to_numpy() * b for k, b in model.log_hr.items())


def _days(years: np.ndarray) -> np.ndarray:
    return (np.asarray(years) * YEAR).astype("timedelta64[D]")


def _contacts(people, first_lost, death_time, horizon, rng):
    rows, visit_rows = [], []
    enrol = people.enrolment_date.to_numpy()
    dead_before = np.zeros(len(people), dtype=bool)
    for wave in range(1, WAVES + 1):
        due = wave <= horizon
        lost = first_lost <= wave
        jitter = rng.integers(-20, 40, len(people))
        date = enrol + _days(np.full(len(people), float(wave))) + jitter.astype("timedelta64[D]")
        dead = death_time < wave + jitter / YEAR  # died before this wave's contact date
        method = rng.choice(["phone", "in_person", "app"], len(people), p=[0.6, 0.3, 0.1])
        outcome = np.where(dead, "deceased", np.where(lost, "not_reached", "reached"))
        method = np.where(dead, "registry", method)
        # the dead are recorded once, at the first wave after death
        first_after_death = dead & ~dead_before
        dead_before = dead
        keep = due & (~dead | first_after_death) & (date <= np.datetime64(DATA_CUT))
        idx = np.flatnonzero(keep)
        rows.append(pd.DataFrame({"person": idx, "wave": wave, "contact_date": date[idx],
                                  "method": method[idx], "outcome": outcome[idx]}))
        revisit = keep & (outcome == "reached") & (method == "in_person") & (wave % 2 == 0)
        idx = np.flatnonzero(revisit)
        visit_rows.append(pd.DataFrame({"person": idx, "wave": wave, "visit_date": date[idx],
                                        "visit_type": "resurvey"}))
    baseline = pd.DataFrame({"person": np.arange(len(people)), "wave": 0,
                             "visit_date": enrol, "visit_type": "baseline"})
    return (pd.concat(rows, ignore_index=True),
            pd.concat([baseline, *visit_rows], ignore_index=True))


def _events(people, x, end, rng):
    frames = []
    enrol = people.enrolment_date.to_numpy()
    for model in ENDPOINTS:
        time = _exponential(model.baseline_rate * np.exp(_lp(x, model)), rng)
        at_risk = ~people.diabetes.to_numpy() if model.name == "t2d" else np.ones(len(x), bool)
        seen = at_risk & (time < end)
        idx = np.flatnonzero(seen)
        date = enrol[idx] + _days(time[idx])
        source = rng.choice(["hospital_record", "self_report", "insurance_claim"], len(idx),
                            p=[0.6, 0.25, 0.15])
        frames.append(pd.DataFrame({"person": idx, "icd10": model.icd10, "event_date": date,
                                    "source": source, "endpoint": model.name}))
        # about a third of events are reported again by a second source, days apart
        again = rng.random(len(idx)) < 0.3
        shift = rng.integers(-5, 30, again.sum()).astype("timedelta64[D]")
        frames.append(pd.DataFrame({
            "person": idx[again], "icd10": model.icd10,
            # never after the end of observation (death, loss or the data cut)
            "event_date": np.minimum(date[again] + shift, enrol[idx[again]]
                                     + _days(end[idx[again]])),
            "source": np.where(source[again] == "hospital_record", "insurance_claim",
                               "hospital_record"),
            "endpoint": model.name}))
    return pd.concat(frames, ignore_index=True)


def ground_truth(rates: dict[str, float]) -> dict:
    return {
        "covariates": {"age10": "(age at enrolment - 52) / 10", "male": "1 if male",
                       "smoker": "1 if current smoker at baseline",
                       "sbp20": "(baseline SBP - 130) / 20", "bmi5": "(baseline BMI - 24) / 5",
                       "diabetes": "1 if baseline fasting glucose >= 7.0 mmol/L"},
        "endpoints": {m.name: {"icd10": m.icd10, "baseline_rate_per_year": m.baseline_rate,
                               "log_hazard_ratios": m.log_hr} for m in ENDPOINTS},
        "death": {"baseline_rate_per_year": DEATH.baseline_rate,
                  "log_hazard_ratios": DEATH.log_hr},
        "annual_loss_probability": rates,
        "four_year_loss": {c: 1 - (1 - p) ** 4 for c, p in rates.items()},
        "data_cut": DATA_CUT.isoformat(),
    }
