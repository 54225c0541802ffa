"""A submission package from a real OMOP CDM v5 database (a DuckDB file such as Eunomia).

Stand-ins: OMOP holds no Chinese identifiers, so each person gets a stand-in resident ID,
a stand-in native province and ethnicity 01 (Han), and broad consent. The province is
drawn by ``seed`` (from the cohort's region for a regional cohort, else from all
provinces); the ID is made by the synthetic-population helper from that province, the
person's real birth date (characters 7-14) and sex, persons taken in PERSON_ID order, so
one database and one seed always give the same IDs.

Everything else is the database's own data, unchanged: sex (GENDER_CONCEPT_ID), birth
date, enrolment and consent date (the start of the earliest observation period), and:

- measurement: numeric values of ``measurement`` and ``observation`` rows whose concept is
  the LOINC code of a catalogue item, with the unit as recorded if the item accepts it
  (UCUM spellings such as ``mm[Hg]`` are read as the same unit). Rows without an accepted
  unit are left out: no value here has been checked to be in the canonical unit. Wave 0
  when measured on the enrolment date, else empty.
- condition: diagnoses whose concept an ICD10 or ICD10CM concept 'Maps to' (the row's own
  source concept when it is one, else the only ICD-10 concept that maps there).
- death: rows of a ``death`` table that has PERSON_ID and DEATH_DATE columns.

Rows dated before birth, after the data cut or outside possible limits are kept: finding
them is the quality checks' job. Exact duplicate rows are written once; persons without a
birth date (no ID can be made) and rows of unknown persons are left out. A table with no
rows is not written.

Eunomia (GiBleed, Synthea, CDM 5.3): 2694 persons. Its ``measurement`` and ``observation``
rows carry no values at all (VALUE_AS_NUMBER is empty throughout), so it yields no
measurement file; its only ICD-10 concept with a 'Maps to' is K92.2 (gastrointestinal
haemorrhage); its ``death`` table holds just its header line as data, so no death file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from precimed.errors import UserError
from precimed.standard import CENTRES, COHORTS, MEASUREMENT_ITEMS, PROVINCES, REGIONS
from precimed.synth.package import CentreStyle, dress, write_manifest, write_table
from precimed.synth.people import _resident_ids

SEX = {8507: "1", 8532: "2"}  # OMOP gender concepts; anything else is 0, unknown
SOURCE = "hospital_record"
# UCUM spellings of units the catalogue writes otherwise: same unit, no conversion.
UCUM = {"mm[Hg]": "mmHg", "Cel": "°C", "{beats}/min": "/min", "{breaths}/min": "/min",
        "[iU]/L": "IU/L", "10*3/uL": "10^3/µL",
        "10*6/uL": "10^6/µL", "10*9/L": "10^9/L", "10*12/L": "10^12/L"}

_PEOPLE = """
SELECT p.person_id AS person_id,
       coalesce(make_date(p.year_of_birth, p.month_of_birth, p.day_of_birth),
                CAST(p.birth_datetime AS DATE)) AS birth_date,
       p.gender_concept_id AS gender, op.enrolment_date
FROM person p
LEFT JOIN (SELECT person_id, min(observation_period_start_date) AS enrolment_date
           FROM observation_period GROUP BY person_id) op USING (person_id)
WHERE birth_date IS NOT NULL
ORDER BY p.person_id
"""

_MEASUREMENTS = """
WITH facts AS (
    SELECT person_id, measurement_concept_id AS concept_id, measurement_date AS day,
           TRY_CAST(value_as_number AS DOUBLE) AS value, unit_source_value AS unit
    FROM measurement
    UNION ALL
    SELECT person_id, observation_concept_id, observation_date,
           TRY_CAST(value_as_number AS DOUBLE), unit_source_value
    FROM observation)
SELECT DISTINCT f.person_id AS person_id, i.code, f.value, trim(f.unit) AS unit,
       CAST(f.day AS DATE) AS measured_on
FROM facts f
JOIN concept c ON c.concept_id = f.concept_id AND c.vocabulary_id = 'LOINC'
JOIN items i ON i.loinc = c.concept_code
WHERE isfinite(f.value)
"""

_CONDITIONS = """
WITH icd AS (
    SELECT r.concept_id_1 AS source, r.concept_id_2 AS standard, c.concept_code AS icd10
    FROM concept_relationship r JOIN concept c ON c.concept_id = r.concept_id_1
    WHERE r.relationship_id = 'Maps to' AND c.vocabulary_id IN ('ICD10', 'ICD10CM')),
only_one AS (
    SELECT standard, any_value(icd10) AS icd10 FROM icd GROUP BY standard
    HAVING count(DISTINCT icd10) = 1)
SELECT DISTINCT co.person_id AS person_id, coalesce(own.icd10, one.icd10) AS icd10,
       CAST(co.condition_start_date AS DATE) AS diagnosed_on
FROM condition_occurrence co
LEFT JOIN icd own ON own.source = co.condition_source_concept_id
                 AND own.standard = co.condition_concept_id
LEFT JOIN only_one one ON one.standard = co.condition_concept_id
WHERE coalesce(own.icd10, one.icd10) IS NOT NULL
"""

_DEATHS = """
SELECT DISTINCT TRY_CAST(d.person_id AS BIGINT) AS person_id,
       TRY_CAST(d.death_date AS DATE) AS death_date, c.concept_code AS underlying_cause
FROM death d
LEFT JOIN concept c ON c.concept_id = TRY_CAST(d.cause_source_concept_id AS BIGINT)
                   AND c.vocabulary_id IN ('ICD10', 'ICD10CM')
WHERE TRY_CAST(d.death_date AS DATE) IS NOT NULL
"""


def package_from_omop(database: Path, out: Path, *, centre: str = "BJ-PRC",
                      seed: int = 11) -> Path:
    """Write the package of ``centre`` from the OMOP database; returns ``out``."""
    if centre not in CENTRES:
        raise UserError(f"Unknown centre {centre!r}", where="centre",
                        hint="Known centres: " + ", ".join(CENTRES))
    with duckdb.connect(str(database), read_only=True) as con:
        people = _participants(con.sql(_PEOPLE).df(), centre, seed)
        items = pd.DataFrame([(i.loinc, i.code) for i in MEASUREMENT_ITEMS.values()
                              if i.loinc], columns=["loinc", "code"])
        con.register("items", items)
        tables = {
            "participant": people.drop(columns=["person_id", "male"]),
            "measurement": _measurements(con.sql(_MEASUREMENTS).df(), people),
            "condition": _with_ids(con.sql(_CONDITIONS).df().assign(source=SOURCE), people),
            "death": _deaths(con, people),
        }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    style, files = CentreStyle(), {}
    for table, frame in tables.items():
        if len(frame):
            name, _ = write_table(out, table, dress(table, frame, style), style)
            files[name] = table
    write_manifest(out, centre, files, None)
    return out


def _participants(frame: pd.DataFrame, centre: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohort = COHORTS[CENTRES[centre].cohort]
    pool = REGIONS[cohort.region].provinces if cohort.region else tuple(PROVINCES)
    frame["native_province"] = rng.choice(pool, len(frame))
    frame["sex"] = frame.gender.map(SEX).fillna("0")
    frame["male"] = frame.sex == "1"
    frame["resident_id"] = _resident_ids(frame, rng)
    frame["cohort"] = cohort.code
    frame["ethnicity"] = "01"
    frame["consent_date"] = frame.enrolment_date
    frame["consent_scope"] = "broad"
    return frame[["person_id", "male", "resident_id", "birth_date", "sex", "cohort",
                  "native_province", "ethnicity", "enrolment_date", "consent_date",
                  "consent_scope"]]


def _with_ids(frame: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the person's resident ID first instead of PERSON_ID."""
    ids = people[["person_id", "resident_id"]]
    merged = ids.merge(frame, on="person_id").drop(columns="person_id")
    return merged.sort_values(list(merged.columns)).reset_index(drop=True)


def _accepted_unit(code: str, unit: str | None) -> str | None:
    unit = UCUM.get(unit, unit) if isinstance(unit, str) else None
    return unit if unit and MEASUREMENT_ITEMS[code].factor(unit) is not None else None


def _measurements(frame: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    pairs = frame[["code", "unit"]].drop_duplicates()
    pairs["accepted"] = [_accepted_unit(c, u) for c, u in pairs.itertuples(index=False)]
    frame = frame.merge(pairs, on=["code", "unit"]).dropna(subset="accepted")
    frame = frame.drop(columns="unit").rename(columns={"accepted": "unit"})
    enrolled = frame.person_id.map(people.set_index("person_id").enrolment_date)
    frame["wave"] = pd.Series(0, index=frame.index, dtype="Int64").where(
        frame.measured_on == enrolled)
    return _with_ids(frame[["person_id", "code", "value", "unit", "measured_on", "wave"]],
                     people)


def _deaths(con: duckdb.DuckDBPyConnection, people: pd.DataFrame) -> pd.DataFrame:
    columns = {c.lower() for c in con.table("death").columns}
    if not {"person_id", "death_date", "cause_source_concept_id"} <= columns:
        return pd.DataFrame()
    deaths = con.sql(_DEATHS).df().assign(source=SOURCE)
    return _with_ids(deaths, people)
