"""JSON Schemas (draft 2020-12) for submitted records, generated from the standard.

One schema per table describes one record as a centre sends it: the table's submitted
(non-derived) fields plus the identifying fields that travel with that table, in the
standard's coded form. Ingest is more forgiving than the schema (Chinese labels for
codes, other date forms, other units); the schema states what a clean record looks like.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from precimed.standard import STANDARD_VERSION, TABLES, vocabulary
from precimed.standard.tables import IDENTIFYING_FIELDS, Field, SubmittedField, Table

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://precimed.example/schema"

RESIDENT_ID_PATTERN = "^[0-9]{17}[0-9Xx]$"
# The shape ingest parses (case-insensitive, dot optional, clinical-edition suffix
# allowed); whether the WHO classification has the code is checked at ingest, not here.
ICD10_PATTERN = "^[A-Za-z][0-9]{2}(\\.?[0-9A-Za-z]+)?$"
YEAR_MONTH_PATTERN = "^[0-9]{4}-(0[1-9]|1[0-2])$"

# Catalogue vocabularies are too large and too often extended to freeze into an enum;
# ICD-10 is validated by rule.
UNLISTED_VOCABULARIES = frozenset({"icd10", "measurement", "exposure"})

PERSON_TABLE = "participant"

_JSON_TYPES = {
    "string": "string",
    "integer": "integer",
    "float": "number",
    "date": "string",
    "year_month": "string",
}


def submitted_identifiers(table: Table) -> tuple[SubmittedField, ...]:
    """The identifying fields a centre sends with records of ``table``.

    Every record names its person by resident ID; birth date, name, telephone and
    address belong with the participant record only.
    """
    if table.name == PERSON_TABLE:
        return IDENTIFYING_FIELDS
    return tuple(f for f in IDENTIFYING_FIELDS if f.name == "resident_id")


def schema_id(table: Table) -> str:
    return f"{SCHEMA_BASE}/{STANDARD_VERSION}/{table.name}.json"


def schema_file_name(table: Table) -> str:
    return f"{table.name}.schema.json"


def table_schema(table: Table) -> dict[str, Any]:
    """The JSON Schema of one submitted record of ``table``.

    Properties are the table's non-derived fields and its identifying fields; optional
    properties also accept null; no other property is allowed, as ingest rejects columns
    that are not fields. ``x-precimed-key`` is the table's natural key as stored (the
    pseudonym stands for the resident ID).
    """
    properties: dict[str, Any] = {}
    required: list[str] = []
    for identifier in submitted_identifiers(table):
        properties[identifier.name] = identifier_property(identifier)
        if identifier.name == "resident_id":
            required.append(identifier.name)
    for field in table.submitted_fields:
        properties[field.name] = field_property(field)
        if field.required:
            required.append(field.name)
    return {
        "$schema": DRAFT,
        "$id": schema_id(table),
        "title": table.en,
        "description": f"{table.zh} — {table.description}",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "x-precimed-table": table.name,
        "x-precimed-key": list(table.key),
        "x-precimed-standard-version": STANDARD_VERSION,
    }


def field_property(field: Field) -> dict[str, Any]:
    """The property schema of one standard field."""
    prop: dict[str, Any] = {
        "title": field.en,
        "description": f"{field.zh} — {field.description}",
        "type": _nullable(_JSON_TYPES[field.type], field.required),
    }
    if field.type == "date":
        prop["format"] = "date"
    elif field.type == "year_month":
        prop["pattern"] = YEAR_MONTH_PATTERN
    if field.min is not None:
        prop["minimum"] = _json_number(field.min, field.type)
    if field.max is not None:
        prop["maximum"] = _json_number(field.max, field.type)
    if field.vocabulary:
        prop.update(vocabulary_constraint(field.vocabulary, field.required))
    return prop


def vocabulary_constraint(name: str, required: bool) -> dict[str, Any]:
    """``enum`` for a listed vocabulary, ``pattern`` for ICD-10, a reference otherwise."""
    constraint: dict[str, Any] = {"x-precimed-vocabulary": name}
    if name == "icd10":
        constraint["pattern"] = ICD10_PATTERN
    elif name not in UNLISTED_VOCABULARIES:
        codes: list[str | None] = list(vocabulary(name).codes)
        # An enum is checked independently of "type", so null must be listed too.
        constraint["enum"] = codes if required else [*codes, None]
    return constraint


def identifier_property(identifier: SubmittedField) -> dict[str, Any]:
    """The property schema of one identifying field; only the resident ID is required."""
    required = identifier.name == "resident_id"
    prop: dict[str, Any] = {
        "title": identifier.en,
        "description": f"{identifier.zh} — {identifier.description}",
        "type": _nullable("string", required),
        "x-precimed-identifying": identifier.action,
    }
    if identifier.name == "resident_id":
        prop["pattern"] = RESIDENT_ID_PATTERN
    elif identifier.name == "birth_date":
        prop["format"] = "date"
    return prop


def write_schemas(out: Path) -> list[Path]:
    """Write ``<table>.schema.json`` per table and ``index.json`` into ``out``.

    Files are UTF-8 with sorted keys, so the same standard gives the same bytes.
    Returns the paths written, the index last.
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES.values():
        written.append(_write_json(out / schema_file_name(table), table_schema(table)))
    written.append(_write_json(out / "index.json", schema_index()))
    return written


def schema_index() -> dict[str, Any]:
    return {
        "standard_version": STANDARD_VERSION,
        "schemas": [
            {"table": t.name, "title": t.en, "file": schema_file_name(t), "$id": schema_id(t)}
            for t in TABLES.values()
        ],
    }


def _write_json(path: Path, document: dict[str, Any]) -> Path:
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def _nullable(json_type: str, required: bool) -> str | list[str]:
    return json_type if required else [json_type, "null"]


def _json_number(value: float, field_type: str) -> int | float:
    # Integer fields get integer bounds, and whole bounds print without ".0".
    return int(value) if field_type == "integer" or float(value).is_integer() else value
