"""Synthetic participants: who they are, where they come from, their baseline risk.

Everything is drawn with one numpy Generator so a seed reproduces the population.
Identifiers (resident ID, name, phone, address) are fake but well formed: the resident
IDs pass the GB 11643 check, so the pipeline exercises real validation.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from precimed.standard import CENTRES, COHORTS, REGIONS
from precimed.standard.identity import check_character

START = dt.date(2018, 1, 1)
ENROL_DAYS = 3 * 365  # enrolment from 2018 to 2020
DATA_CUT = dt.date(2025, 12, 31)  # the synthetic data end here

# Relative recruitment: regional centres recruit more than disease-cohort hospitals.
_REGIONAL_WEIGHT, _DISEASE_WEIGHT = 1.0, 0.5

# Region effects on BMI and blood pressure (northern China heavier and higher; CKB baseline
# reports a north-south gradient of about 5 mmHg SBP and 2 kg/m2 BMI).
REGION_BMI = {"east": 0.3, "south": -1.0, "northwest": 0.6, "southwest": -0.5, "northeast": 1.3}
REGION_SBP = {"east": 1.0, "south": -3.0, "northwest": 3.0, "southwest": -1.0, "northeast": 6.0}

# Minorities by province of native place (GB 3304 codes), share of the population.
_MINORITIES = {"65": ("05", 0.40), "45": ("08", 0.30), "53": ("07", 0.15),
               "54": ("04", 0.80), "64": ("03", 0.35), "15": ("02", 0.17)}

_MALE_SHARE = {"DC-PROSTATE": 1.0, "DC-LUNG": 0.65, "DC-LIVER": 0.75, "DC-GASTRIC": 0.68,
               "DC-COLORECTAL": 0.58, "DC-IMMUNE": 0.25, "DC-NEURO": 0.52, "DC-PSYCH": 0.45}

_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁"
                 "谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁")
_GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰志红梅海燕文")


def allocate(n: int, centres: tuple[str, ...] | None = None) -> np.ndarray:
    """Participants per centre, in CENTRES order; only ``centres`` recruit if given."""
    weights = np.array([(_REGIONAL_WEIGHT if COHORTS[c.cohort].kind == "regional"
                         else _DISEASE_WEIGHT) * (not centres or code in centres)
                        for code, c in CENTRES.items()], dtype=float)
    counts = np.floor(n * weights / weights.sum()).astype(int)
    recruiting = np.flatnonzero(weights > 0)
    counts[recruiting[: n - counts.sum()]] += 1
    return counts


def participants(n: int, rng: np.random.Generator,
                 centres: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per person with identity, demography and baseline risk factors."""
    counts = allocate(n, centres)
    centres = np.repeat(list(CENTRES), counts)
    frame = pd.DataFrame({"centre": centres})
    frame["cohort"] = frame.centre.map(lambda c: CENTRES[c].cohort)
    frame["native_province"] = _native_provinces(frame, rng)
    region_of = {p: r.code for r in REGIONS.values() for p in r.provinces}
    frame["region"] = frame.native_province.map(region_of)
    male_share = frame.cohort.map(lambda c: _MALE_SHARE.get(c, 0.45)).to_numpy()
    frame["male"] = rng.random(n) < male_share
    frame["sex"] = np.where(frame.male, "1", "2")
    disease = frame.cohort.str.startswith("DC-").to_numpy()
    age = np.where(disease, rng.normal(58, 11, n), rng.normal(52, 10, n))
    frame["age"] = np.clip(age, 30, 79)
    enrol = rng.integers(0, ENROL_DAYS, n)
    frame["enrolment_date"] = pd.to_datetime(START) + pd.to_timedelta(enrol, unit="D")
    birth = frame.enrolment_date - pd.to_timedelta(frame.age * 365.25, unit="D")
    frame["birth_date"] = birth.dt.normalize()
    frame["ethnicity"] = _ethnicities(frame.native_province.to_numpy(), rng)
    frame["consent_scope"] = np.where(rng.random(n) < 0.9, "broad", "specific")
    frame["resident_id"] = _resident_ids(frame, rng)
    frame["name"] = [_SURNAMES[i] + _GIVEN[j] + (_GIVEN[k] if k % 3 else "")
                     for i, j, k in zip(rng.integers(0, len(_SURNAMES), n),
                                        rng.integers(0, len(_GIVEN), n),
                                        rng.integers(0, len(_GIVEN), n), strict=True)]
    frame["phone"] = [f"1{a}{b:09d}" for a, b in zip(rng.integers(3, 10, n),
                                                      rng.integers(0, 10**9, n), strict=True)]
    streets = rng.choice(["人民", "解放", "中山", "建设"], n)
    frame["address"] = [f"{p}路{k}号" for p, k in zip(streets, rng.integers(1, 999, n),
                                                      strict=True)]
    _risk_factors(frame, rng)
    return frame


def _native_provinces(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    result = np.empty(len(frame), dtype=object)
    all_provinces = [p for r in REGIONS.values() for p in r.provinces]
    for i, (centre, cohort) in enumerate(zip(frame.centre, frame.cohort, strict=True)):
        home = CENTRES[centre].province
        region = COHORTS[cohort].region
        pool = REGIONS[region].provinces if region else all_provinces
        result[i] = home if rng.random() < 0.7 and home in pool else pool[rng.integers(len(pool))]
    return result


def _ethnicities(provinces: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    draws = rng.random(len(provinces))
    out = np.full(len(provinces), "01", dtype=object)
    for province, (code, share) in _MINORITIES.items():
        out[(provinces == province) & (draws < share)] = code
    return out


def _resident_ids(frame: pd.DataFrame, rng: np.random.Generator) -> list[str]:
    ids, seen = [], set()
    for province, birth, male in zip(frame.native_province, frame.birth_date, frame.male,
                                     strict=True):
        while True:
            area = f"{province}{rng.integers(1, 20):02d}{rng.integers(1, 30):02d}"
            sequence = int(rng.integers(0, 500)) * 2 + (1 if male else 0)
            first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
            value = first17 + check_character(first17)
            if value not in seen:
                seen.add(value)
                ids.append(value)
                break
    return ids


def _risk_factors(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    """Correlated baseline risk factors that differ by region, age and sex."""
    n = len(frame)
    male = frame.male.to_numpy()
    age = frame.age.to_numpy()
    region = frame.region.fillna("east")
    frame["height"] = np.where(male, rng.normal(167.5, 6.5, n), rng.normal(156.5, 6.0, n))
    bmi = 23.6 + region.map(REGION_BMI).to_numpy() + 0.03 * (age - 52) + rng.normal(0, 3.2, n)
    frame["bmi"] = np.clip(bmi, 15, 45)
    frame["weight"] = frame.bmi * (frame.height / 100) ** 2
    smoke_draw = rng.random(n)
    frame["smoking"] = np.select(
        [male & (smoke_draw < 0.55), male & (smoke_draw < 0.70),
         ~male & (smoke_draw < 0.025), ~male & (smoke_draw < 0.035)],
        ["current", "former", "current", "former"], "never")
    sbp = (122 + 0.55 * (age - 52) + 1.3 * (frame.bmi - 23.6) + 3.0 * male
           + region.map(REGION_SBP).to_numpy() + rng.normal(0, 15, n))
    frame["sbp"] = np.clip(sbp, 85, 230)
    frame["dbp"] = np.clip(0.45 * frame.sbp + 19 + rng.normal(0, 7, n), 45, frame.sbp - 15)
    log_glucose = (np.log(5.1) + 0.004 * (age - 52) + 0.012 * (frame.bmi - 23.6)
                   + rng.normal(0, 0.14, n))
    frame["glucose"] = np.clip(np.exp(log_glucose + (rng.random(n) < 0.05) * 0.45), 3.0, 25)
    frame["diabetes"] = frame.glucose >= 7.0
    frame["hypertension"] = (frame.sbp >= 140) | (frame.dbp >= 90)
