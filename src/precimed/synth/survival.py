"""Submission packages from two real survival datasets shipped with scikit-survival.

WHAS500, the Worcester Heart Attack Study (Hosmer DW, Lemeshow S, May S, Applied Survival
Analysis, 2nd ed., Wiley 2008): 500 patients admitted with acute myocardial infarction.
Real: sex (``gender``, 0 male, 1 female), age at admission, the admission measurements
SBP (``sysbp``), DBP (``diasbp``), HR (``hr``) and BMI (``bmi``), vital status (``fstat``)
and days from admission to death or last follow-up (``lenfol``).

flchain (Dispenzieri A et al., Mayo Clin Proc 2012;87:517-523, via the R package
survival): 7874 residents of Olmsted County, Minnesota, aged 50 or over, a general
population sample. Real: sex, age at sampling, the sample year (``sample.yr``), serum
creatinine in mg/dL (``creatinine``; missing for 1350, who get no row), vital status
(``death``) and days from sampling to death or last follow-up (``futime``).

Stand-ins (neither dataset has dates or Chinese identifiers): the enrolment date, the
baseline on which every measurement is dated (wave 0). WHAS admissions were in 1997, 1999
and 2001, but the dataset keeps no dates, so enrolment is spread evenly over 1997-2001 in
row order; flchain enrolment is in the real sample year, on day ``row % 365`` of it. The
birth date is the enrolment day ``age`` years earlier (29 February becomes 28 February), so
the age at enrolment is exactly the real age. Deaths are dated enrolment + ``lenfol`` or
``futime`` days. Resident ID, native province, ethnicity 01 and broad consent on the
enrolment date are made as for OMOP databases (:mod:`precimed.synth.omop`). Neither cohort
fits a programme cohort: there is no cardiovascular cohort, so WHAS500 goes to the
neurological disease centre and flchain to the immune disease centre, both disease cohorts
without a regional restriction.

Values are written exactly as in the data, implausible ones included (WHAS500 has diastolic
pressures of 6 and 11 mmHg): finding them is quality control's job.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from precimed.errors import UserError
from precimed.standard import CENTRES, MEASUREMENT_ITEMS
from precimed.synth.omop import _participants, _with_ids
from precimed.synth.package import CentreStyle, dress, write_manifest, write_table


def _datasets():
    """scikit-survival ships the data; it is a test dependency, not a platform one."""
    try:
        import sksurv.datasets
    except ImportError:
        raise UserError("These real datasets come with scikit-survival, which is not "
                        "installed", where="precimed.synth.survival",
                        hint="pip install scikit-survival (make test installs it).") from None
    return sksurv.datasets


OMOP_SEX = {True: 8532, False: 8507}  # what omop._participants reads: female, male
WHAS_ITEMS = {"SBP": "sysbp", "DBP": "diasbp", "HR": "hr", "BMI": "bmi"}
WHAS_START, WHAS_DAYS = pd.Timestamp("1997-01-01"), 5 * 365 + 1  # 1997-2001


def package_from_whas500(out: Path, *, centre: str = "SH-NEU", seed: int = 11) -> Path:
    """Write the WHAS500 package of ``centre`` to ``out``; returns ``out``."""
    data, outcome = _datasets().load_whas500()
    n = len(data)
    enrolment = WHAS_START + pd.to_timedelta(np.arange(n) * WHAS_DAYS // n, unit="D")
    return _package(out, centre, seed, data.assign(
        female=data.gender.astype(int) == 1, enrolment_date=enrolment,
        died=outcome["fstat"], days=outcome["lenfol"]),
        {code: (column, MEASUREMENT_ITEMS[code].unit) for code, column in WHAS_ITEMS.items()},
        "hospital_record")


def package_from_flchain(out: Path, *, centre: str = "BJ-IMM", seed: int = 11) -> Path:
    """Write the flchain package of ``centre`` to ``out``; returns ``out``."""
    data, outcome = _datasets().load_flchain()
    year = pd.to_datetime(data["sample.yr"].astype(str), format="%Y")
    enrolment = year + pd.to_timedelta(np.arange(len(data)) % 365, unit="D")
    return _package(out, centre, seed, data.assign(
        female=data.sex == "F", enrolment_date=enrolment,
        died=outcome["death"], days=outcome["futime"]),
        {"CREA": ("creatinine", "mg/dL")}, "death_registry")


def _package(out: Path, centre: str, seed: int, data: pd.DataFrame,
             items: dict[str, tuple[str, str]], death_source: str) -> Path:
    if centre not in CENTRES:
        raise UserError(f"Unknown centre {centre!r}", where="centre",
                        hint="Known centres: " + ", ".join(CENTRES))
    data = data.reset_index(drop=True).assign(person_id=lambda d: d.index)
    people = _participants(pd.DataFrame({
        "person_id": data.person_id, "birth_date": _birth_dates(data.enrolment_date, data.age),
        "gender": data.female.map(OMOP_SEX), "enrolment_date": data.enrolment_date}),
        centre, seed)
    measurements = pd.concat([
        data[["person_id", column, "enrolment_date"]].dropna().set_axis(
            ["person_id", "value", "measured_on"], axis=1).assign(code=code, unit=unit)
        for code, (column, unit) in items.items()])
    deaths = data[data.died].assign(
        death_date=lambda d: d.enrolment_date + pd.to_timedelta(d.days, unit="D"))
    tables = {
        "participant": people.drop(columns=["person_id", "male"]),
        "measurement": _with_ids(measurements.assign(wave=0)[
            ["person_id", "code", "value", "unit", "measured_on", "wave"]], people),
        "death": _with_ids(deaths[["person_id", "death_date"]].assign(source=death_source),
                           people),
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    style, files = CentreStyle(), {}
    for table, frame in tables.items():
        dressed = dress(table, frame, style)
        if "value" in frame:  # dress writes 6 significant digits; keep the data's own
            dressed["value"] = frame.value
        name, _ = write_table(out, table, dressed, style)
        files[name] = table
    write_manifest(out, centre, files, None)
    return out


def _birth_dates(enrolment: pd.Series, age: pd.Series) -> pd.Series:
    """The enrolment day ``age`` whole years earlier; 29 February becomes the 28th."""
    leap_day = (enrolment.dt.month == 2) & (enrolment.dt.day == 29)
    return pd.to_datetime(pd.DataFrame({
        "year": enrolment.dt.year - age.astype(int), "month": enrolment.dt.month,
        "day": enrolment.dt.day.where(~leap_day, 28)}))
