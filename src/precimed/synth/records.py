"""Standard-shaped record tables for a synthetic population (before centre formatting).

Each frame uses the standard's field names, with ``resident_id`` naming the person, so
that :mod:`precimed.synth.package` only has to dress them as a centre would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from precimed.standard import COHORTS, EXPOSURE_ITEMS, MEASUREMENT_ITEMS
from precimed.synth.distributions import EXPOSURE_TYPICAL, TYPICAL

# Measurements driven by the correlated risk-factor model rather than drawn alone.
MODELLED = {"HEIGHT": "height", "WEIGHT": "weight", "BMI": "bmi", "SBP": "sbp", "DBP": "dbp",
            "GLU_FAST": "glucose"}
BASELINE_CATEGORIES = ("anthropometry", "blood_pressure", "glucose", "lipids", "renal",
                       "liver", "blood_count")
RESURVEY_CODES = ("HEIGHT", "WEIGHT", "BMI", "SBP", "DBP", "GLU_FAST", "TC")

_SPECIMENS_REGIONAL = (("serum", 1.0), ("plasma", 1.0), ("buffy_coat", 0.5))
_SPECIMENS_CANCER = (("tissue_ffpe", 0.0), ("tissue_frozen", 0.5))


def baseline_codes() -> list[str]:
    return [m.code for m in MEASUREMENT_ITEMS.values() if m.category in BASELINE_CATEGORIES]


def _draw(code: str, people: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    if code in MODELLED:
        return people[MODELLED[code]].to_numpy(dtype=float)
    item = MEASUREMENT_ITEMS[code]
    male = people.male.to_numpy()
    (m_mean, m_sd), (f_mean, f_sd) = TYPICAL[code]["male"], TYPICAL[code]["female"]
    values = np.where(male, _lognormal(m_mean, m_sd, len(people), rng),
                      _lognormal(f_mean, f_sd, len(people), rng))
    low, high = item.limits
    return np.clip(values, max(low, 0.1 * max(m_mean, f_mean)), high)


def _lognormal(mean: float, sd: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Log-normal draws with the given mean and SD: laboratory values are positive and
    right-skewed (triglycerides, enzymes, insulin), and near-normal when SD/mean is small."""
    sigma2 = np.log1p((sd / mean) ** 2)
    return rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), n)


def measurements(people: pd.DataFrame, visits: pd.DataFrame,
                 rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    ids = people.resident_id.to_numpy()
    for code in baseline_codes():
        values = _draw(code, people, rng)
        frames.append(pd.DataFrame({"resident_id": ids, "code": code, "value": values,
                                    "measured_on": people.enrolment_date.to_numpy(),
                                    "wave": 0}))
    resurvey = visits[visits.wave > 0]
    drawn: dict[str, np.ndarray] = {}
    for code in RESURVEY_CODES:
        if code not in MEASUREMENT_ITEMS:
            continue
        base = _draw(code, people, rng)[resurvey.person.to_numpy()]
        drift = 1 + rng.normal(0.01, 0.04, len(resurvey)) * (code not in {"HEIGHT"})
        drawn[code] = base * drift
        if code == "BMI":  # the same day's weight and height define it
            drawn[code] = drawn["WEIGHT"] / (drawn["HEIGHT"] / 100) ** 2
        frames.append(pd.DataFrame({"resident_id": ids[resurvey.person.to_numpy()],
                                    "code": code, "value": drawn[code],
                                    "measured_on": resurvey.visit_date.to_numpy(),
                                    "wave": resurvey.wave.to_numpy()}))
    frame = pd.concat(frames, ignore_index=True)
    frame["unit"] = frame.code.map(lambda c: MEASUREMENT_ITEMS[c].unit)
    decimals = frame.code.map(lambda c: MEASUREMENT_ITEMS[c].decimals)
    frame["value"] = [round(v, d) for v, d in zip(frame.value, decimals, strict=True)]
    return frame


def exposures(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    n = len(people)
    male = people.male.to_numpy()
    for code, item in EXPOSURE_ITEMS.items():
        typical = EXPOSURE_TYPICAL[code]
        if code == "SMOKING_STATUS":
            values = people.smoking.to_numpy()
        elif item.kind == "categorical":
            values = np.where(male, _choose(typical["male"], n, rng),
                              _choose(typical["female"], n, rng))
        else:
            (m_mean, m_sd), (f_mean, f_sd) = typical["male"], typical["female"]
            raw = np.where(male, rng.normal(m_mean, m_sd, n), rng.normal(f_mean, f_sd, n))
            values = np.round(np.clip(raw, *item.limits), 1)
        frames.append(pd.DataFrame({"resident_id": people.resident_id.to_numpy(), "code": code,
                                    "value": values, "unit": item.unit or None,
                                    "assessed_on": people.enrolment_date.to_numpy(),
                                    "wave": 0}))
    return pd.concat(frames, ignore_index=True)


def _choose(probabilities: dict[str, float], n: int, rng: np.random.Generator) -> np.ndarray:
    codes = list(probabilities)
    p = np.array([probabilities[c] for c in codes], dtype=float)
    return np.array(codes, dtype=object)[rng.choice(len(codes), n, p=p / p.sum())]


def conditions(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Baseline history: known hypertension and diabetes, and disease cohorts' diagnoses."""
    frames = []
    enrol = people.enrolment_date.to_numpy()
    before = rng.integers(30, 3000, len(people)).astype("timedelta64[D]")
    for flag, code, known in (("hypertension", "I10", 0.45), ("diabetes", "E11.9", 0.6)):
        idx = np.flatnonzero(people[flag].to_numpy() & (rng.random(len(people)) < known))
        frames.append(pd.DataFrame({"resident_id": people.resident_id.to_numpy()[idx],
                                    "icd10": code, "diagnosed_on": enrol[idx] - before[idx],
                                    "source": "baseline_history"}))
    cohort_codes = {c.code: _cohort_icd10(c.icd10) for c in COHORTS.values() if c.icd10}
    disease = people.cohort.isin(list(cohort_codes)).to_numpy()
    idx = np.flatnonzero(disease)
    codes = [cohort_codes[c][rng.integers(len(cohort_codes[c]))]
             for c in people.cohort.to_numpy()[idx]]
    recent = rng.integers(7, 700, len(idx)).astype("timedelta64[D]")
    frames.append(pd.DataFrame({"resident_id": people.resident_id.to_numpy()[idx],
                                "icd10": codes, "diagnosed_on": enrol[idx] - recent,
                                "source": "hospital_record"}))
    return pd.concat(frames, ignore_index=True)


def _cohort_icd10(specs: tuple[str, ...]) -> list[str]:
    """A concrete code for each qualifying range (the first category of a range)."""
    return [spec.split("-")[0] for spec in specs]


def medications(people: pd.DataFrame, history: pd.DataFrame,
                rng: np.random.Generator) -> pd.DataFrame:
    treated = {"I10": (("C08CA01", "amlodipine", 5.0, "mg"), ("C09AA02", "enalapril", 10.0, "mg")),
               "E11.9": (("A10BA02", "metformin", 1500.0, "mg"),)}
    frames = []
    for code, drugs in treated.items():
        rows = history[(history.icd10 == code) & (rng.random(len(history)) < 0.6)]
        choice = rng.integers(len(drugs), size=len(rows))
        frames.append(pd.DataFrame({
            "resident_id": rows.resident_id.to_numpy(),
            "atc_code": [drugs[i][0] for i in choice],
            "drug_name": [drugs[i][1] for i in choice],
            "start_date": rows.diagnosed_on.to_numpy() + np.timedelta64(14, "D"),
            "daily_dose": [drugs[i][2] for i in choice],
            "dose_unit": [drugs[i][3] for i in choice]}))
    return pd.concat(frames, ignore_index=True)


def specimens(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    cancer = people.cohort.isin(["DC-LUNG", "DC-PROSTATE", "DC-LIVER", "DC-COLORECTAL",
                                 "DC-GASTRIC"]).to_numpy()
    for kind, volume in (*_SPECIMENS_REGIONAL, *_SPECIMENS_CANCER):
        keep = cancer if kind.startswith("tissue") else np.ones(len(people), bool)
        idx = np.flatnonzero(keep)
        frames.append(pd.DataFrame({
            "resident_id": people.resident_id.to_numpy()[idx],
            "centre": people.centre.to_numpy()[idx],
            "specimen_type": kind,
            "collected_on": people.enrolment_date.to_numpy()[idx],
            "volume_ml": np.round(volume * rng.uniform(0.6, 1.0, len(idx)), 2) if volume
            else np.nan,
            "wave": 0}))
    frame = pd.concat(frames, ignore_index=True)
    sequence = frame.groupby("centre").cumcount() + 1
    frame["specimen_id"] = frame.centre + "-" + sequence.map("{:08d}".format)
    n = len(frame)
    frame["storage_location"] = [
        f"F{f:02d}-R{r}-B{b:02d}-{chr(65 + p // 9)}{p % 9 + 1}"
        for f, r, b, p in zip(rng.integers(1, 21, n), rng.integers(1, 9, n),
                              rng.integers(1, 51, n), rng.integers(0, 81, n), strict=True)]
    return frame.drop(columns=["centre"])


# Share of participants with each assay (regional cohorts genotype widely; a few have
# sequencing and omics panels), and the specimen each is run on.
_ASSAYS = (("genotype_array", 0.40, "dna", "Illumina Infinium Asian Screening Array"),
           ("wgs", 0.08, "dna", "Illumina NovaSeq 6000"),
           ("proteome", 0.05, "plasma", "Olink Explore 3072"),
           ("metabolome", 0.05, "serum", "Nightingale NMR"),
           ("microbiome_16s", 0.04, "stool", "Illumina MiSeq"))


def assays(people: pd.DataFrame, specimens: pd.DataFrame,
           rng: np.random.Generator) -> pd.DataFrame:
    """Assays run within about a year of enrolment on the participant's specimens."""
    frames = []
    for kind, share, specimen, platform in _ASSAYS:
        idx = np.flatnonzero(rng.random(len(people)) < share)
        frames.append(pd.DataFrame({
            "resident_id": people.resident_id.to_numpy()[idx],
            "centre": people.centre.to_numpy()[idx],
            "assay_type": kind, "specimen_type": specimen, "platform": platform,
            "performed_on": people.enrolment_date.to_numpy()[idx]
            + rng.integers(60, 400, len(idx)).astype("timedelta64[D]")}))
    frame = pd.concat(frames, ignore_index=True)
    tubes = specimens.drop_duplicates(["resident_id", "specimen_type"])
    frame = frame.merge(tubes[["resident_id", "specimen_type", "specimen_id"]],
                        on=["resident_id", "specimen_type"], how="left")
    sequence = frame.groupby("centre").cumcount() + 1
    frame["assay_id"] = frame.centre + "-A" + sequence.map("{:08d}".format)
    return frame.drop(columns=["centre", "specimen_type"])
