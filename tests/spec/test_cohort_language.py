"""Spec tests of the cohort language on hand-written tables, run on both engines.

Every criterion kind, and the temporal edges: same-day events, open windows, baseline by
wave rather than by date, the day before and the day after the index date.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest

from precimed.errors import UserError
from precimed.query import (
    AgeAtEnrolment,
    AssayAvailable,
    CohortDefinition,
    Diagnosis,
    ExposureIs,
    MeasurementIn,
    Not,
    ParticipantIs,
    SpecimenAvailable,
    Window,
    after,
    baseline,
    before,
    cohort,
    within,
)
from precimed.query import compile as engine
from precimed.query.reference import ReferenceEngine
from precimed.standard import TABLES

D = dt.date
E = D(2016, 3, 10)  # everyone's enrolment day


def arrow(name: str, rows: list[dict]) -> pa.Table:
    schema = TABLES[name].arrow_schema()
    return pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema})


def connect(tables: dict[str, list[dict]]) -> ibis.BaseBackend:
    con = ibis.duckdb.connect()
    for name in TABLES:
        con.con.register(name, arrow(name, tables.get(name, [])))
    return con


PEOPLE = [
    {"pseudonym": "a", "sex": "1", "birth_year_month": "1956-03", "enrolment_date": E,
     "cohort": "NP-EAST", "centre": "SH01", "region": "east", "native_province": "31"},
    {"pseudonym": "b", "sex": "2", "birth_year_month": "1956-04", "enrolment_date": E,
     "cohort": "NP-EAST", "centre": "JS01", "region": "east", "native_province": "32"},
    {"pseudonym": "c", "sex": "2", "birth_year_month": "1980-01", "enrolment_date": E,
     "cohort": "NP-SOUTH", "centre": "GD01", "region": "south", "native_province": "44"},
    {"pseudonym": "d", "sex": "1", "birth_year_month": None, "enrolment_date": E,
     "cohort": "DC-LUC", "centre": "GD-LUC", "region": None, "native_province": None},
]


def m(who, code, value, on, wave=None):
    return {"pseudonym": who, "code": code, "value": value, "measured_on": on, "wave": wave}


TABLES_ = {
    "participant": PEOPLE,
    "measurement": [
        m("a", "SBP", 150, E, 0), m("a", "SBP", 120, D(2018, 3, 10), 2),
        m("b", "SBP", 139.9, E, 0), m("b", "SBP", 160, D(2016, 3, 9), None),  # day before
        m("c", "SBP", 140, D(2016, 3, 20), 0),  # baseline survey, ten days after enrolment
        m("d", "SBP", None, E, 0),
    ],
    "exposure": [
        {"pseudonym": "a", "code": "SMOKING_STATUS", "value_code": "current",
         "assessed_on": E, "wave": 0},
        {"pseudonym": "b", "code": "SMOKING_STATUS", "value_code": "never",
         "assessed_on": E, "wave": 0},
        {"pseudonym": "c", "code": "CIG_PER_DAY", "value": 20.0, "assessed_on": E, "wave": 0},
    ],
    "condition": [
        {"pseudonym": "a", "icd10": "I10", "diagnosed_on": D(2010, 1, 1)},
        {"pseudonym": "b", "icd10": "I21.9", "diagnosed_on": E},  # same day
        {"pseudonym": "c", "icd10": "E11.9", "diagnosed_on": D(2016, 3, 11)},  # day after
    ],
    "endpoint_event": [
        {"pseudonym": "a", "icd10": "I63.9", "event_date": D(2019, 1, 1),
         "source": "hospital_record"},
    ],
    "specimen": [
        {"pseudonym": "a", "specimen_id": "S1", "specimen_type": "serum", "volume_ml": 0.5},
        {"pseudonym": "c", "specimen_id": "S2", "specimen_type": "dna", "volume_ml": 2.0},
    ],
    "assay": [
        {"pseudonym": "c", "assay_id": "A1", "assay_type": "wgs", "performed_on": E},
        {"pseudonym": "a", "assay_id": "A2", "assay_type": "proteome", "performed_on": E},
    ],
}


@pytest.fixture(scope="module")
def both():
    con = connect(TABLES_)
    reference = ReferenceEngine({k: [dict(r) for r in v] for k, v in TABLES_.items()})
    return con, reference


CASES = [
    ("sex", [ParticipantIs("sex", ("2",))], {"b", "c"}),
    ("region", [ParticipantIs("region", ("east",))], {"a", "b"}),
    ("centre", [ParticipantIs("centre", ("GD01", "GD-LUC"))], {"c", "d"}),
    # a: 60 years exactly on the month; b: one month short of 60; d: birth unknown
    ("age", [AgeAtEnrolment(60, None)], {"a"}),
    ("age band", [AgeAtEnrolment(None, 60)], {"b", "c"}),
    ("SBP ever", [MeasurementIn("SBP", min=140)], {"a", "b", "c"}),
    ("SBP baseline", [MeasurementIn("SBP", min=140, window=baseline())], {"a", "c"}),
    ("SBP on the index day", [MeasurementIn("SBP", min=140, window=within(0))], {"a"}),
    ("SBP the day before", [MeasurementIn("SBP", min=140, window=before(1))], {"b"}),
    ("SBP after, open", [MeasurementIn("SBP", max=130, window=after())], {"a"}),
    ("bounds inclusive", [MeasurementIn("SBP", min=139.9, max=139.9)], {"b"}),
    ("smokers", [ExposureIs("SMOKING_STATUS", values=("current",))], {"a"}),
    ("cigarettes", [ExposureIs("CIG_PER_DAY", min=10)], {"c"}),
    ("I21 prefix any time", [Diagnosis(("I21",))], {"b"}),
    ("same day is not before", [Diagnosis(("I21",), window=before())], set()),
    ("same day is within 0", [Diagnosis(("I21",), window=within(0))], {"b"}),
    ("day after is after", [Diagnosis(("E11",), window=after())], {"c"}),
    ("history of I10", [Diagnosis(("I10", "I11"), window=before())], {"a"}),
    ("endpoint after enrolment", [Diagnosis(("I6",), source="endpoint", window=after())],
     {"a"}),
    ("serum", [SpecimenAvailable(("serum",))], {"a"}),
    ("DNA of 1 mL", [SpecimenAvailable(("dna", "serum"), min_volume_ml=1.0)], {"c"}),
    ("not", [Not(ParticipantIs("sex", ("2",)))], {"a", "d"}),
    ("genome sequenced", [AssayAvailable(("wgs", "genotype_array"))], {"c"}),
    ("any omics", [AssayAvailable(("proteome", "metabolome"))], {"a"}),
    # relative to another event: b's MI is on the enrolment day, a's I10 in 2010
    ("SBP on the day of the first MI", [MeasurementIn("SBP", min=100, window=Window(
        0, 0, anchor=("I21",)))], {"b"}),
    ("SBP within 2000 days after hypertension", [MeasurementIn("SBP", window=Window(
        0, 2000, anchor=("I10",)))], set()),
    ("SBP 6-9 years after hypertension", [MeasurementIn("SBP", window=Window(
        2190, 3650, anchor=("I10",)))], {"a"}),
    ("stroke endpoint after the first I10", [Diagnosis(("I63",), source="endpoint",
                                                       window=Window(1, None,
                                                                     anchor=("I10",)))],
     {"a"}),
    ("combined", [ParticipantIs("cohort", ("NP-EAST",)), MeasurementIn("SBP", min=140),
                  Not(Diagnosis(("I21",)))], {"a"}),
    # codes as people write them: every spelling selects what the canonical code does
    ("lower case", [Diagnosis(("i21",))], {"b"}),
    ("no dot", [Diagnosis(("I219",))], {"b"}),
    ("I21.X", [Diagnosis(("I21.X",))], {"b"}),
    ("range of categories", [Diagnosis(("I10-I25",))], {"a", "b"}),
    ("range, the dictionary's form", [Diagnosis(("E10-E14",))], {"c"}),
    ("range within a category", [Diagnosis(("I63.0-I63.9",), source="endpoint")], {"a"}),
    ("range excluding the code", [Diagnosis(("I63.0-I63.5",), source="endpoint")], set()),
    ("anchor in lower case", [MeasurementIn("SBP", min=100, window=Window(
        0, 0, anchor=("i21.x",)))], {"b"}),
    # a baseline condition is a history at enrolment: dated on or before the enrolment day
    ("baseline history", [Diagnosis(("I10", "I21", "E11"), window=baseline())], {"a", "b"}),
    ("baseline endpoint", [Diagnosis(("I63",), source="endpoint", window=baseline())],
     set()),
]


@pytest.mark.parametrize("name, criteria, expected", CASES, ids=[c[0] for c in CASES])
def test_every_criterion_kind_on_both_engines(both, name, criteria, expected):
    con, reference = both
    definition = cohort(name, *criteria)
    assert set(engine.members(con, definition)) == expected
    assert set(reference.members(definition)) == expected
    assert [a.count for a in engine.attrition(con, definition)] == \
        reference.attrition(definition)


def test_definitions_round_trip_through_json():
    for _, criteria, _ in CASES:
        definition = cohort("x", *criteria, description="a test")
        again = CohortDefinition.from_json(definition.to_json())
        assert again == definition


@pytest.mark.parametrize("text, said", [
    ('{"format": "precimed-cohort", "version": 1, "criteria": [{"kind": "measurement", '
     '"code": "NOPE"}]}', "Unknown measurement 'NOPE'"),
    ('{"format": "precimed-cohort", "version": 1, "criteria": [{"kind": "magic"}]}',
     "Unknown criterion kind 'magic'"),
    ('{"format": "precimed-cohort", "version": 1, "criteria": [{"kind": "diagnosis", '
     '"codes": ["Q"]}]}', "not an ICD-10 code"),
    ('{"format": "precimed-cohort", "version": 1, "criteria": [{"kind": "participant", '
     '"field": "sex", "values": ["7"]}]}', "Unknown sex 7"),
    ('{"format": "precimed-cohort", "version": 1, "criteria": [{"kind": "measurement", '
     '"code": "SBP", "colour": 1}]}', "has no field 'colour'"),
    ('{"format": "other"}', "Not a precimed cohort definition"),
    ("{nope", "not valid JSON"),
])
def test_a_bad_definition_says_what_and_where(text, said):
    with pytest.raises(UserError) as caught:
        CohortDefinition.from_json(text, where="def.json")
    assert said in caught.value.what and "def.json" in caught.value.where


def test_windows_refuse_to_end_before_they_start():
    with pytest.raises(UserError):
        Window(5, 1)


@pytest.mark.parametrize("make, where", [
    (lambda: AgeAtEnrolment(70, 40), "criterion age"),
    (lambda: AgeAtEnrolment(40, 40), "criterion age"),
    (lambda: MeasurementIn("SBP", min=160, max=140), "criterion measurement SBP"),
    (lambda: ExposureIs("CIG_PER_DAY", min=20, max=10), "criterion exposure CIG_PER_DAY"),
])
def test_inverted_ranges_are_refused_naming_the_criterion(make, where):
    """An empty range used to count 0 in silence."""
    with pytest.raises(UserError) as caught:
        make()
    assert caught.value.where == where and "empty" in caught.value.what


def test_an_inverted_range_in_json_names_the_criterion():
    with pytest.raises(UserError) as caught:
        CohortDefinition.from_dict({"format": "precimed-cohort", "version": 1, "criteria": [
            {"kind": "participant", "field": "sex", "values": ["1"]},
            {"kind": "age", "min": 70, "max": 40}]}, where="def.json")
    assert "criterion 2" in caught.value.where and "criterion age" in caught.value.where


@pytest.mark.parametrize("written, canonical", [
    ("i10", ("I10",)), ("I639", ("I63.9",)), ("I21.X", ("I21",)), ("c16-c22", ("C16-C22",)),
])
def test_codes_are_stored_in_the_standards_spelling(written, canonical):
    assert Diagnosis((written,)).codes == canonical


@pytest.mark.parametrize("code, hint", [
    ("I63.7", "I63.9"), ("I99.9", "use I99"), ("C22-C16", "C16-C22"), ("Q", "C16-C22"),
    ("C16-C18.2", "I63.0-I63.5"),
])
def test_an_unknown_code_is_refused_with_a_hint(code, hint):
    with pytest.raises(UserError) as caught:
        Diagnosis((code,))
    assert caught.value.where == "criterion diagnosis" and hint in caught.value.hint


def test_a_value_is_a_literal_never_sql(both):
    con, _ = both
    sneaky = ParticipantIs.__new__(ParticipantIs)  # bypass validation on purpose
    object.__setattr__(sneaky, "field", "sex")
    object.__setattr__(sneaky, "values", ("1') OR 1=1 --",))
    assert engine.members(con, cohort("x", sneaky)) == []


@pytest.mark.parametrize("bad", [
    {"criteria": 5},
    {"criteria": None},
    {"criteria": [{"kind": {}, "types": []}]},
    {"criteria": [{"kind": "not", "criterion": {"kind": [], "types": []}}]},
    {"criteria": [{"kind": "age", "min": 9223372036854775808}]},
    {"criteria": [{"kind": "measurement", "code": "SBP", "window": {"start": 2**70}}]},
])
def test_malformed_definitions_are_user_errors(bad):
    """Found by schemathesis: each of these once raised a TypeError (a 500 on the API)."""
    with pytest.raises(UserError):
        CohortDefinition.from_dict({"format": "precimed-cohort", "version": 1, "name": "x",
                                    **bad})
    with pytest.raises(UserError):
        CohortDefinition.from_dict([bad])
