"""A release freezes the endpoint decisions as they stand when it is made: confirming
more candidates afterwards changes results on the lake as it is, never on the release."""

from __future__ import annotations

import datetime as dt
import json

import ibis
import pyarrow as pa
import pytest

from precimed.cohorts import analysis_table, candidates, decide, load_candidates, queue
from precimed.cohorts.endpoints import confirmed_events
from precimed.lake import Lake
from precimed.lake.rows import with_row_keys
from precimed.ops import OpsDatabase
from precimed.standard import CONFIRMED_ENDPOINT, STANDARD_VERSION
from precimed.workflows.release import create_release

PEOPLE = 30


def rows(table: str, columns: dict) -> pa.Table:
    n = len(next(iter(columns.values())))
    data = pa.table({**columns, "centre": ["SH01"] * n, "submission_id": ["s"] * n,
                     "standard_version": [STANDARD_VERSION] * n})
    return with_row_keys(table, data, ibis.duckdb.connect())


@pytest.fixture
def lake(home) -> Lake:
    ids = [f"p{i:02d}" for i in range(PEOPLE)]
    day = pa.array([dt.date(2019, 1, 1)] * PEOPLE, pa.date32())
    people = rows("participant", {
        "pseudonym": ids, "cohort": ["NP-EAST"] * PEOPLE, "sex": ["1"] * PEOPLE,
        "birth_year_month": ["1960-01"] * PEOPLE, "native_province": ["31"] * PEOPLE,
        "region": ["east"] * PEOPLE, "ethnicity": ["01"] * PEOPLE, "enrolment_date": day,
        "consent_date": day, "consent_scope": ["broad"] * PEOPLE})
    strokes = rows("endpoint_event", {
        "pseudonym": ids, "icd10": ["I63.9"] * PEOPLE,
        "event_date": pa.array([dt.date(2021, 3, 1) + dt.timedelta(days=i)
                                for i in range(PEOPLE)], pa.date32()),
        "source": ["hospital_record"] * PEOPLE})
    lake = Lake(home.lake_dir)
    lake.commit({"participant": people, "endpoint_event": strokes}, submission_id="s",
                centre="SH01", digest="d")
    return lake


def stroke_events(lake: Lake, ops: OpsDatabase, release: str | None) -> int:
    snapshot = lake.snapshot(release)
    con = snapshot.connect()
    try:
        table = analysis_table(con, confirmed_events(snapshot, ops), as_of=snapshot.as_of())
    finally:
        con.disconnect()
    return int(table[table.endpoint == "stroke"].event.sum())


def confirm(ops: OpsDatabase, ids: list[str]) -> None:
    for candidate in ids:
        decide(ops, candidate, "confirmed", reviewer="dr-li")


def test_confirming_after_the_release_does_not_change_its_result(home, lake):
    ops = OpsDatabase(home.database_url)
    con = lake.snapshot().connect()
    ids = sorted(candidates(con).candidate_id)
    con.disconnect()
    load_candidates(ops, candidates(lake.snapshot().connect()))
    confirm(ops, ids[:10])
    release = create_release(home, "r1")
    assert release.data_cut == "2021-03-30"
    assert lake.snapshot("r1").count(CONFIRMED_ENDPOINT.name) == 10
    assert stroke_events(lake, ops, "r1") == 10
    confirm(ops, ids[10:21])
    assert stroke_events(lake, ops, "r1") == 10  # the release stays as it was made
    assert stroke_events(lake, ops, None) == 21  # the lake as it is: decisions as they stand
    create_release(home, "r2")
    assert stroke_events(lake, ops, "r2") == 21 and stroke_events(lake, ops, "r1") == 10
    ops.dispose()


def test_a_release_made_before_endpoints_were_frozen_reads_the_decisions(home, lake):
    ops = OpsDatabase(home.database_url)
    load_candidates(ops, candidates(lake.snapshot().connect()))
    confirm(ops, [c.id for c in queue(ops)][:5])
    create_release(home, "old")
    data = json.loads(lake.catalog_path.read_text())
    del data["releases"]["old"]["tables"][CONFIRMED_ENDPOINT.name]  # as older versions wrote
    lake.catalog_path.write_text(json.dumps(data))
    assert stroke_events(lake, ops, "old") == 5
    with pytest.raises(Exception, match="operational database"):
        confirmed_events(lake.snapshot("old"), None)
    ops.dispose()
