"""Property test: the Ibis compiler and the reference engine agree on generated cohorts
and data (attrition counts, every step)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from precimed.query import (
    AgeAtEnrolment,
    AssayAvailable,
    Diagnosis,
    ExposureIs,
    MeasurementIn,
    Not,
    ParticipantIs,
    SpecimenAvailable,
    Window,
    cohort,
)
from precimed.query import compile as engine
from precimed.query.reference import ReferenceEngine

from .test_cohort_language import connect

BASE = dt.date(2016, 1, 1)
days = st.integers(-400, 400)
maybe_days = st.one_of(st.none(), days)


@st.composite
def windows(draw):
    if draw(st.booleans()) and draw(st.booleans()):
        return Window(baseline=True)
    start, end = draw(maybe_days), draw(maybe_days)
    if start is not None and end is not None and start > end:
        start, end = end, start
    if draw(st.integers(0, 3)) == 0:  # relative to another event
        return Window(start, end, anchor=draw(st.sampled_from([("I21",), ("E11", "I1"),
                                                               ("i21.x", "C16-C22")])),
                      anchor_source=draw(st.sampled_from(["condition", "endpoint"])))
    return Window(start, end)


def ordered(pair: tuple, *, strict: bool = False) -> tuple:
    """Bounds low to high (an inverted range is refused when the criterion is built)."""
    low, high = pair
    if low is not None and high is not None and (low > high or (strict and low == high)):
        return (high, low) if low != high else (low, None)
    return pair


bounds = st.one_of(st.none(), st.integers(100, 180).map(float))
value_ranges = st.tuples(bounds, bounds).map(ordered)
age_ranges = st.tuples(st.one_of(st.none(), st.integers(30, 70)),
                       st.one_of(st.none(), st.integers(40, 90))).map(
    lambda pair: ordered(pair, strict=True))
codes = st.sampled_from([("I21",), ("I1",), ("E11", "I63"), ("i21.x",), ("I10-I25",),
                         ("I63.0-I63.9", "E119")])

criteria = st.recursive(st.one_of(
    st.builds(ParticipantIs, st.just("sex"), st.sampled_from([("1",), ("2",), ("1", "2")])),
    st.builds(ParticipantIs, st.just("centre"),
              st.sampled_from([("SH01",), ("JS01", "GD01")])),
    age_ranges.map(lambda pair: AgeAtEnrolment(*pair)),
    st.builds(lambda code, pair, window: MeasurementIn(code, *pair, window=window),
              st.sampled_from(["SBP", "DBP"]), value_ranges, windows()),
    st.builds(ExposureIs, st.just("SMOKING_STATUS"),
              st.sampled_from([("current",), ("never", "former")]), window=windows()),
    st.builds(Diagnosis, codes, st.sampled_from(["condition", "endpoint"]), windows()),
    st.builds(SpecimenAvailable, st.sampled_from([("serum",), ("dna", "plasma")]),
              st.one_of(st.none(), st.floats(0.1, 3.0))),
    st.builds(AssayAvailable, st.sampled_from([("wgs",), ("proteome", "genotype_array")])),
), lambda inner: st.builds(Not, inner), max_leaves=3)


@st.composite
def datasets(draw):
    n = draw(st.integers(1, 25))
    people, rows = [], {"measurement": [], "exposure": [], "condition": [],
                        "endpoint_event": [], "specimen": []}
    for i in range(n):
        who = f"p{i}"
        enrolled = BASE + dt.timedelta(days=draw(st.integers(0, 60)))
        people.append({
            "pseudonym": who, "sex": draw(st.sampled_from(["1", "2", None])),
            "centre": draw(st.sampled_from(["SH01", "JS01", "GD01"])),
            "birth_year_month": draw(st.one_of(st.none(), st.builds(
                "{}-{:02d}".format, st.integers(1930, 1990), st.integers(1, 12)))),
            "enrolment_date": enrolled})
        for _ in range(draw(st.integers(0, 4))):
            rows["measurement"].append({
                "pseudonym": who, "code": draw(st.sampled_from(["SBP", "DBP"])),
                "value": draw(st.one_of(st.none(), st.integers(60, 200).map(float))),
                "measured_on": enrolled + dt.timedelta(days=draw(days)),
                "wave": draw(st.sampled_from([0, 1, None]))})
        for _ in range(draw(st.integers(0, 2))):
            rows["exposure"].append({
                "pseudonym": who, "code": "SMOKING_STATUS",
                "value_code": draw(st.sampled_from(["current", "never", "former"])),
                "assessed_on": enrolled + dt.timedelta(days=draw(days)),
                "wave": draw(st.sampled_from([0, 1]))})
        for table, date in (("condition", "diagnosed_on"), ("endpoint_event", "event_date")):
            for _ in range(draw(st.integers(0, 2))):
                rows[table].append({
                    "pseudonym": who, "icd10": draw(st.sampled_from(
                        ["I21.9", "I10", "I63.9", "E11.9", "C34.9", "I63.5",
                         "C18.900X001"])),
                    date: enrolled + dt.timedelta(days=draw(days))})
        if draw(st.booleans()):
            rows.setdefault("assay", []).append({
                "pseudonym": who, "assay_id": f"a{i}",
                "assay_type": draw(st.sampled_from(["wgs", "proteome", "genotype_array"]))})
        if draw(st.booleans()):
            rows["specimen"].append({
                "pseudonym": who, "specimen_id": f"s{i}",
                "specimen_type": draw(st.sampled_from(["serum", "dna", "plasma"])),
                "volume_ml": draw(st.one_of(st.none(), st.floats(0.0, 4.0)))})
    return {"participant": people, **rows}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.slow
@given(datasets(), st.lists(criteria, min_size=1, max_size=4))
def test_both_engines_give_the_same_attrition(tables, chosen):
    definition = cohort("generated", *chosen)
    con = connect(tables)
    reference = ReferenceEngine(tables)
    assert [a.count for a in engine.attrition(con, definition)] == \
        reference.attrition(definition)
