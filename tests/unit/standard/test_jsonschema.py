from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from precimed.standard import (
    EXPOSURE_ITEMS,
    MEASUREMENT_ITEMS,
    STANDARD_VERSION,
    TABLES,
    Field,
    vocabulary,
)
from precimed.standard.identity import check_character
from precimed.standard.jsonschema import table_schema, write_schemas

FIRST_17 = "11010519800101001"
RESIDENT_ID = FIRST_17 + check_character(FIRST_17)


def sample_value(field: Field) -> Any:
    """A well-formed value of ``field`` as a centre would send it."""
    if field.vocabulary == "icd10":
        return "I21.9"
    if field.vocabulary == "measurement":
        return next(iter(MEASUREMENT_ITEMS))
    if field.vocabulary == "exposure":
        return next(iter(EXPOSURE_ITEMS))
    if field.vocabulary:
        return next(iter(vocabulary(field.vocabulary).codes))
    if field.type == "date":
        return "2024-03-01"
    if field.type == "integer":
        return int(field.min or 0)
    if field.type == "float":
        return field.min if field.min is not None else 1.5
    return "text"


def sample_record(table_name: str) -> dict[str, Any]:
    record: dict[str, Any] = {"resident_id": RESIDENT_ID}
    record |= {f.name: sample_value(f) for f in TABLES[table_name].submitted_fields}
    return record


def validator(table_name: str) -> Draft202012Validator:
    return Draft202012Validator(table_schema(TABLES[table_name]),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def is_valid(table_name: str, record: dict[str, Any]) -> bool:
    return validator(table_name).is_valid(record)


@pytest.mark.parametrize("name", list(TABLES))
def test_every_schema_is_valid_draft_2020_12(name: str):
    schema = table_schema(TABLES[name])
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://precimed.example/schema/{STANDARD_VERSION}/{name}.json"
    assert schema["x-precimed-key"] == list(TABLES[name].key)
    assert "resident_id" in schema["required"]


@pytest.mark.parametrize("name", list(TABLES))
def test_a_well_formed_record_validates(name: str):
    errors = [e.message for e in validator(name).iter_errors(sample_record(name))]
    assert errors == []


@pytest.mark.parametrize("name", list(TABLES))
def test_a_record_missing_a_required_field_fails(name: str):
    for field in [f for f in TABLES[name].submitted_fields if f.required]:
        record = sample_record(name)
        del record[field.name]
        assert not is_valid(name, record), field.name
    record = sample_record(name)
    del record["resident_id"]
    assert not is_valid(name, record)


def test_properties_are_submitted_fields_and_identifiers():
    for table in TABLES.values():
        properties = set(table_schema(table)["properties"])
        submitted = {f.name for f in table.submitted_fields}
        derived = {f.name for f in table.fields if f.derived}
        assert submitted <= properties and not derived & properties, table.name
    participant = set(table_schema(TABLES["participant"])["properties"])
    assert {"resident_id", "birth_date", "name", "phone", "address"} <= participant
    assert "name" not in table_schema(TABLES["visit"])["properties"]


def test_labels_in_both_languages():
    prop = table_schema(TABLES["participant"])["properties"]["sex"]
    assert prop["title"] == "Sex" and "性别" in prop["description"]


def test_wrong_enum_value_fails():
    assert not is_valid("participant", sample_record("participant") | {"sex": "3"})
    assert not is_valid("visit", sample_record("visit") | {"visit_type": "holiday"})


def test_optional_fields_accept_null_and_required_do_not():
    record = sample_record("participant")
    assert is_valid("participant", record | {"ethnicity": None, "birth_date": None})
    assert not is_valid("participant", record | {"sex": None})
    assert not is_valid("participant", record | {"ethnicity": "99x"})


def test_types_formats_and_ranges():
    visit = sample_record("visit")
    assert not is_valid("visit", visit | {"wave": 51})
    assert not is_valid("visit", visit | {"wave": 1.5})
    assert not is_valid("visit", visit | {"visit_date": "2024-13-01"})
    assert not is_valid("visit", visit | {"visit_date": 20240301})
    assert not is_valid("visit", visit | {"unexpected": "x"})
    medication = sample_record("medication")
    assert not is_valid("medication", medication | {"daily_dose": -1})
    assert is_valid("medication", medication | {"daily_dose": 2.5})


def test_resident_id_pattern():
    visit = sample_record("visit")
    assert is_valid("visit", visit | {"resident_id": FIRST_17 + "x"})
    assert not is_valid("visit", visit | {"resident_id": FIRST_17})
    assert not is_valid("visit", visit | {"resident_id": FIRST_17 + "Y"})


def test_icd10_has_a_pattern_not_an_enum():
    schema = table_schema(TABLES["condition"])["properties"]["icd10"]
    assert "pattern" in schema and "enum" not in schema
    record = sample_record("condition")
    assert is_valid("condition", record | {"icd10": "I21.900x001"})
    assert not is_valid("condition", record | {"icd10": "heart attack"})
    catalogue = table_schema(TABLES["measurement"])["properties"]["code"]
    assert "enum" not in catalogue


def test_write_schemas_and_index(tmp_path: Path):
    paths = write_schemas(tmp_path)
    assert {p.name for p in paths} == {f"{n}.schema.json" for n in TABLES} | {"index.json"}
    index = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    assert index["standard_version"] == STANDARD_VERSION
    assert [entry["file"] for entry in index["schemas"]] == [f"{n}.schema.json" for n in TABLES]
    for name in TABLES:
        text = (tmp_path / f"{name}.schema.json").read_text(encoding="utf-8")
        assert "参与者假名" not in text  # the pseudonym is derived, never submitted
        assert json.loads(text) == table_schema(TABLES[name])
    assert "居民身份证号" in (tmp_path / "visit.schema.json").read_text(encoding="utf-8")


def test_write_schemas_is_deterministic(tmp_path: Path):
    first = write_schemas(tmp_path / "a")
    second = write_schemas(tmp_path / "b")
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes()
