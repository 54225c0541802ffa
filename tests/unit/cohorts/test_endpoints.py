"""Endpoints on hand-written tables: merging reports into candidates, the adjudication
state machine on SQLite, the analysis table and incidence, expected values worked out by
hand.

The as-of date is 2025-06-30 and the grace period 180 days throughout.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import chi2

from precimed.cohorts import (
    ENDPOINT_GROUPS,
    age_band,
    analysis_table,
    candidates,
    confirmed,
    decide,
    history,
    incidence,
    load_candidates,
    observation,
    queue,
    reopen,
)
from precimed.deid.disclosure import Policy
from precimed.errors import Conflict, NotFound, UserError
from precimed.ops import AdjudicationDecision, OpsDatabase
from precimed.standard import TABLES

AS_OF = dt.date(2025, 6, 30)
DAY = dt.timedelta(days=1)
D0 = dt.date(2022, 3, 1)

_REQUIRED = {
    "participant": {"cohort": "NP-EAST", "sex": "1", "birth_year_month": "1960-01",
                    "native_province": "31", "region": "east", "consent_scope": "broad"},
    "follow_up_contact": {"method": "phone", "outcome": "reached"},
    "endpoint_event": {"source": "hospital_record"},
    "death": {"source": "death_registry"},
    "condition": {"source": "baseline_history"},
}
_SYSTEM = {"centre": "C1", "submission_id": "s1", "standard_version": "1.0.0", "row_key": "k"}


def connect(rows: dict[str, list[dict]]) -> ibis.BaseBackend:
    """A DuckDB connection with every standard table, holding ``rows`` (lake schema)."""
    con = ibis.duckdb.connect()
    for name, table in TABLES.items():
        records = [{**_SYSTEM, **_REQUIRED.get(name, {}), **r} for r in rows.get(name, [])]
        if name == "participant":
            records = [{"consent_date": r["enrolment_date"], **r} for r in records]
        data = pa.Table.from_pylist(records, schema=table.arrow_schema())
        con.con.register(name, data)  # create_table(obj=...) fails with Ibis 12 + DuckDB 1.5
    return con


def report(person: str, icd10: str, day: dt.date, source: str = "hospital_record",
           centre: str = "C1") -> dict:
    return {"pseudonym": person, "icd10": icd10, "event_date": day, "source": source,
            "centre": centre}


def candidate_id(person: str, group: str, first: dt.date) -> str:
    return hashlib.sha256(f"{person}|{group}|{first.isoformat()}".encode()).hexdigest()[:32]


def ts(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


# -- candidates ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def found() -> pd.DataFrame:
    people = [{"pseudonym": p, "enrolment_date": dt.date(2020, 1, 1)}
              for p in ("P1", "P2", "P3", "P4", "P5", "P6")]
    people[5]["centre"] = "C2"
    events = [
        # P1: the same MI from the hospital and an insurance claim 5 days later
        report("P1", "I21.9", D0), report("P1", "I21.0", D0 + 5 * DAY, "insurance_claim"),
        # P2: a stroke self-reported, and another one 200 days later in hospital
        report("P2", "I63.9", D0, "self_report"), report("P2", "I63.9", D0 + 200 * DAY),
        # P3: CHD and stroke on the same day; hypertension and COPD are no endpoints
        report("P3", "I21.9", D0), report("P3", "I63.9", D0), report("P3", "I10", D0),
        report("P3", "J44.9", D0),
        # P4: hospital record, then the death registry 3 days later (death table below)
        report("P4", "I21.9", D0),
        # P5: codes as hospitals write them: national-edition suffix, no dot, lower case
        report("P5", "I21.900x001", D0), report("P5", "c341", D0 + DAY, "self_report"),
        # P6: two reports submitted by another centre
        report("P6", "E11.9", D0, "insurance_claim", centre="C9"),
        report("P6", "E11.9", dt.date(2025, 8, 1), "insurance_claim", centre="C9"),
    ]
    deaths = [{"pseudonym": "P4", "death_date": D0 + 3 * DAY, "underlying_cause": "I21.9"},
              {"pseudonym": "P3", "death_date": dt.date(2024, 1, 1),
               "underlying_cause": "J44.9"}]
    con = connect({"participant": people, "endpoint_event": events, "death": deaths})
    return candidates(con)


def one(found: pd.DataFrame, person: str, endpoint: str) -> pd.DataFrame:
    return found[(found.pseudonym == person) & (found.endpoint == endpoint)]


def test_columns_and_order(found):
    assert list(found.columns) == ["candidate_id", "pseudonym", "centre", "endpoint",
                                   "first_date", "last_date", "sources", "reports", "icd10"]
    assert list(found.itertuples(index=False, name=None)) == sorted(
        found.itertuples(index=False, name=None), key=lambda r: (r[2], r[1], r[3], r[4]))
    assert found.candidate_id.is_unique


def test_two_sources_five_days_apart_are_one_candidate(found):
    c = one(found, "P1", "chd")
    assert len(c) == 1
    row = c.iloc[0]
    assert (row.first_date, row.last_date, row.reports) == (ts(D0), ts(D0 + 5 * DAY), 2)
    assert list(row.sources) == ["hospital_record", "insurance_claim"]
    assert list(row.icd10) == ["I21.0", "I21.9"]
    assert row.candidate_id == candidate_id("P1", "chd", D0)
    assert row.centre == "C1"


def test_two_hundred_days_apart_are_two_episodes(found):
    c = one(found, "P2", "stroke").sort_values("first_date")
    assert list(c.first_date) == [ts(D0), ts(D0 + 200 * DAY)]
    assert [list(s) for s in c.sources] == [["self_report"], ["hospital_record"]]
    assert list(c.reports) == [1, 1]
    assert list(c.candidate_id) == [candidate_id("P2", "stroke", D0),
                                    candidate_id("P2", "stroke", D0 + 200 * DAY)]


def test_different_groups_are_different_candidates_and_other_codes_none(found):
    p3 = found[found.pseudonym == "P3"]
    assert sorted(p3.endpoint) == ["chd", "stroke"]  # I10, J44.9 and the COPD death: none


def test_the_underlying_cause_of_death_is_a_source(found):
    row = one(found, "P4", "chd").iloc[0]
    assert list(row.sources) == ["death_registry", "hospital_record"]
    assert (row.first_date, row.last_date, row.reports) == (ts(D0), ts(D0 + 3 * DAY), 2)


def test_codes_are_matched_whatever_their_format(found):
    assert list(one(found, "P5", "chd").iloc[0].icd10) == ["I21.900x001"]
    assert list(one(found, "P5", "lung_cancer").iloc[0].icd10) == ["c341"]


def test_centre_is_the_participants(found):
    p6 = one(found, "P6", "t2d")
    assert list(p6.centre) == ["C2", "C2"]  # reported by C9, enrolled at C2


def test_as_of_drops_later_reports():
    con = connect({"participant": [{"pseudonym": "P", "enrolment_date": D0}],
                   "endpoint_event": [report("P", "E11.9", D0 + DAY),
                                      report("P", "E11.9", AS_OF + DAY)]})
    assert len(candidates(con)) == 2
    assert list(candidates(con, as_of=AS_OF).first_date) == [ts(D0 + DAY)]


def test_a_report_without_a_participant_row_keeps_its_centre():
    con = connect({"endpoint_event": [report("Q", "C16.9", D0, centre="C7")]})
    assert list(candidates(con).centre) == ["C7"]


def test_the_window_is_anchored_on_the_episodes_first_report():
    # every report within 60 days of the one before; the episode window does not chain
    days = [D0, D0 + 60 * DAY, D0 + 90 * DAY, D0 + 120 * DAY, D0 + 180 * DAY, D0 + 211 * DAY]
    con = connect({"endpoint_event": [report("P", "I21.9", d) for d in days]})
    found = candidates(con).sort_values("first_date")
    assert list(found.first_date) == [ts(D0), ts(D0 + 120 * DAY), ts(D0 + 211 * DAY)]
    assert list(found.last_date) == [ts(D0 + 90 * DAY), ts(D0 + 180 * DAY),
                                     ts(D0 + 211 * DAY)]
    assert list(found.reports) == [3, 2, 1]
    one_day = candidates(con, episode_days=0)
    assert len(one_day) == len(days)
    assert len(candidates(con, episode_days=365)) == 1


def reference(days: list[dt.date], window: int) -> list[tuple[dt.date, int]]:
    """The episode rule in plain Python: (first date, reports) per episode."""
    episodes: list[list[dt.date]] = []
    for day in sorted(days):
        if episodes and (day - episodes[-1][0]).days <= window:
            episodes[-1].append(day)
        else:
            episodes.append([day])
    return [(e[0], len(e)) for e in episodes]


def test_episodes_agree_with_a_plain_python_reference():
    rng = random.Random(7)
    rows, expected = [], {}
    for i in range(60):
        person = f"R{i:02d}"
        # claims every 5 to 80 days (long runs), with the odd long gap
        day, days = D0, []
        for _ in range(rng.randint(1, 25)):
            day += rng.choice([rng.randint(5, 80), rng.randint(5, 80), 400]) * DAY
            days.extend([day] * rng.randint(1, 2))  # the same day from two sources
        sources = ["insurance_claim", "hospital_record"]
        seen = set()
        for d in days:
            src = sources[(d, person) in seen]
            seen.add((d, person))
            rows.append(report(person, "E11.9", d, src))
        expected[person] = reference(days, 90)
    found = candidates(connect({"endpoint_event": rows}))
    for person, episodes in expected.items():
        got = found[found.pseudonym == person].sort_values("first_date")
        assert [(d.date(), n) for d, n in zip(got.first_date, got.reports, strict=True)] \
            == episodes, person


def test_overlapping_groups_are_refused():
    con = connect({})
    with pytest.raises(UserError, match="share"):
        candidates(con, groups={"ihd": ("I2",), "mi": ("I21",)})
    with pytest.raises(UserError, match="share"):
        candidates(con, groups={"ihd": ("I2", "I21")})
    with pytest.raises(UserError, match="prefix"):
        candidates(con, groups={"ihd": ()})
    mixed = candidates(connect({"endpoint_event": [report("P", "I21.9", D0),
                                                   report("P", "E11.9", D0)]}),
                       groups={"mi": ("I21.9",), "dm": ("E1",)})
    assert sorted(mixed.endpoint) == ["dm", "mi"]  # prefixes of different lengths
    with pytest.raises(UserError, match="episode"):
        candidates(con, episode_days=-1)
    assert candidates(con).empty


def test_groups_take_the_standards_code_selections():
    """Groups read codes through the one normaliser the cohort language uses: a range in
    the dictionary's form, lower case and .X select; an unknown code is refused."""
    con = connect({"endpoint_event": [report("P", "C18.9", D0), report("Q", "I21.9", D0),
                                      report("R", "C22.0", D0)]})
    found = candidates(con, groups={"gi_cancer": ("C16-C20",), "mi": ("i21.x",)})
    pairs = sorted(zip(found.pseudonym, found.endpoint, strict=True))
    assert pairs == [("P", "gi_cancer"), ("Q", "mi")]
    with pytest.raises(UserError, match="not an ICD-10 code") as caught:
        candidates(con, groups={"mi": ("I21.7",)})
    assert caught.value.where == "endpoint group mi" and "I21.9" in caught.value.hint


# -- adjudication -------------------------------------------------------------------------
@pytest.fixture
def ops(tmp_path) -> OpsDatabase:
    db = OpsDatabase(f"sqlite:///{tmp_path}/ops.sqlite3")
    db.create()
    yield db
    db.dispose()


def frame(*ids: str, centre: str = "C1") -> pd.DataFrame:
    return pd.DataFrame({
        "candidate_id": list(ids), "pseudonym": [f"p-{i}" for i in ids],
        "centre": centre, "endpoint": "chd", "first_date": ts(D0),
        "sources": [["insurance_claim", "hospital_record"] for _ in ids],
    })


def status(ops: OpsDatabase, cid: str) -> str:
    return {c.id: c.status for c in queue(ops, status=None)}[cid]


def test_load_is_idempotent_and_leaves_known_candidates_alone(ops):
    assert load_candidates(ops, frame("a", "b")) == 2
    decide(ops, "a", "confirmed", reviewer="dr-li")
    changed = frame("a", "b", "c")
    changed.loc[0, "sources"] = ["self_report"]
    assert load_candidates(ops, changed) == 1
    assert load_candidates(ops, changed) == 0
    rows = {c.id: c for c in queue(ops, status=None)}
    assert sorted(rows) == ["a", "b", "c"]
    assert (rows["a"].status, rows["a"].sources) == ("confirmed",
                                                      ["hospital_record", "insurance_claim"])
    assert (rows["b"].status, rows["c"].status) == ("pending", "pending")
    assert rows["c"].first_date == D0
    assert len(history(ops, "a")) == 1 and history(ops, "b") == []
    with pytest.raises(UserError, match="lacks columns"):
        load_candidates(ops, frame("d").drop(columns="sources"))


LEGAL = [
    ("pending", "confirmed"), ("pending", "rejected"), ("pending", "needs_information"),
    ("needs_information", "confirmed"), ("needs_information", "rejected"),
    ("needs_information", "pending"),
]
STATES = ("pending", "confirmed", "rejected", "needs_information")


def bring(ops: OpsDatabase, cid: str, state: str) -> None:
    """Load a candidate and move it to ``state`` by legal moves."""
    load_candidates(ops, frame(cid))
    if state != "pending":
        decide(ops, cid, state, reviewer="setup", reason="setting up")


@pytest.mark.parametrize(("start", "end"), LEGAL)
def test_every_legal_move(ops, start, end):
    bring(ops, "x", start)
    before = len(history(ops, "x"))
    decision = decide(ops, "x", end, reviewer="dr-wang", reason="checked the discharge note")
    assert status(ops, "x") == end
    log = history(ops, "x")
    assert len(log) == before + 1
    last = log[-1]
    assert (last.id, last.candidate_id, last.reviewer, last.from_status, last.to_status,
            last.reason) == (decision.id, "x", "dr-wang", start, end,
                             "checked the discharge note")
    assert last.decided_at is not None


@pytest.mark.parametrize(("start", "end"), [
    (s, e) for s in STATES for e in STATES if (s, e) not in LEGAL])
def test_every_illegal_move_is_a_conflict(ops, start, end):
    bring(ops, "x", start)
    before = len(history(ops, "x"))
    with pytest.raises(Conflict) as caught:
        decide(ops, "x", end, reviewer="dr-wang", reason="because")
    error = caught.value
    assert f"from {start} to {end}" in error.what
    assert error.where == "candidate x"
    assert ("reopen" in error.hint) == (start in ("confirmed", "rejected"))
    assert status(ops, "x") == start
    assert len(history(ops, "x")) == before


@pytest.mark.parametrize("start", ["confirmed", "rejected"])
def test_reopen_a_final_decision_with_a_reason(ops, start):
    bring(ops, "x", start)
    with pytest.raises(UserError, match="reason"):
        reopen(ops, "x", reviewer="dr-zhao", reason="  ")
    reopen(ops, "x", reviewer="dr-zhao", reason="pathology report arrived")
    assert status(ops, "x") == "pending"
    last = history(ops, "x")[-1]
    assert (last.from_status, last.to_status, last.reviewer) == (start, "pending", "dr-zhao")
    decide(ops, "x", "confirmed", reviewer="dr-zhao")
    assert status(ops, "x") == "confirmed"


@pytest.mark.parametrize("start", ["pending", "needs_information"])
def test_only_final_decisions_can_be_reopened(ops, start):
    bring(ops, "x", start)
    with pytest.raises(Conflict, match="Only a confirmed or rejected"):
        reopen(ops, "x", reviewer="dr-zhao", reason="why not")
    assert status(ops, "x") == start


@pytest.mark.parametrize("to_status", ["rejected", "needs_information"])
def test_a_reason_is_required_to_reject_or_ask_for_information(ops, to_status):
    bring(ops, "x", "pending")
    for reason in (None, "", "   "):
        with pytest.raises(UserError, match="reason") as caught:
            decide(ops, "x", to_status, reviewer="dr-wang", reason=reason)
        assert not isinstance(caught.value, Conflict)
    assert status(ops, "x") == "pending" and history(ops, "x") == []


def test_confirming_needs_no_reason_but_a_reviewer(ops):
    bring(ops, "x", "pending")
    with pytest.raises(UserError, match="reviewer"):
        decide(ops, "x", "confirmed", reviewer=" ")
    assert decide(ops, "x", "confirmed", reviewer="dr-wang").reason is None


def test_unknown_status_and_candidate(ops):
    bring(ops, "x", "pending")
    with pytest.raises(UserError, match="Unknown adjudication status"):
        decide(ops, "x", "maybe", reviewer="dr-wang", reason="?")
    with pytest.raises(NotFound):
        decide(ops, "nope", "confirmed", reviewer="dr-wang")
    with pytest.raises(NotFound):
        history(ops, "nope")
    with pytest.raises(UserError, match="Unknown adjudication status"):
        queue(ops, status="done")


def test_history_is_append_only_and_ordered(ops):
    bring(ops, "x", "pending")
    moves = [("needs_information", "ask the hospital"), ("pending", None),
             ("rejected", "not an MI on review")]
    for to_status, reason in moves:
        decide(ops, "x", to_status, reviewer="dr-wang", reason=reason)
    reopen(ops, "x", reviewer="dr-li", reason="second opinion")
    decide(ops, "x", "confirmed", reviewer="dr-li")
    log = history(ops, "x")
    assert [(d.from_status, d.to_status) for d in log] == [
        ("pending", "needs_information"), ("needs_information", "pending"),
        ("pending", "rejected"), ("rejected", "pending"), ("pending", "confirmed")]
    assert [d.id for d in log] == sorted(d.id for d in log)
    with ops.session() as session, session.begin():  # the ORM refuses edits
        row = session.get(AdjudicationDecision, log[0].id)
        row.reason = "rewritten"
        with pytest.raises(RuntimeError, match="append-only"):
            session.flush()
        session.rollback()
    with ops.session() as session, session.begin():
        session.delete(session.get(AdjudicationDecision, log[0].id))
        with pytest.raises(RuntimeError, match="append-only"):
            session.flush()
        session.rollback()
    log = history(ops, "x")
    assert (len(log), log[0].reason) == (5, "ask the hospital")


def test_queue_by_centre_status_and_endpoint(ops):
    load_candidates(ops, frame("a", "b"))
    load_candidates(ops, frame("c", centre="C2"))
    decide(ops, "b", "needs_information", reviewer="dr-wang", reason="no discharge note")
    assert [c.id for c in queue(ops)] == ["a", "c"]
    assert [c.id for c in queue(ops, centre="C1")] == ["a"]
    assert [c.id for c in queue(ops, status="needs_information")] == ["b"]
    assert [c.id for c in queue(ops, status=None, centre="C1")] == ["a", "b"]
    assert queue(ops, endpoint="stroke") == []
    assert [c.id for c in queue(ops, status=None, limit=2)] == ["a", "b"]


# -- analysis table -----------------------------------------------------------------------
ENROLLED = dt.date(2020, 1, 10)
A_EVENT = dt.date(2022, 3, 1)  # A: a confirmed MI during follow-up
B_DEATH = dt.date(2023, 5, 1)  # B: died of COPD
C_ENROLLED = dt.date(2019, 3, 1)  # C: reached at waves 1-2, then not reached: lost
E_BEFORE = dt.date(2019, 6, 1)  # E: a confirmed MI before enrolment: prevalent CHD
F_REJECTED = dt.date(2021, 6, 1)  # F: an MI report rejected on review
G_AFTER = dt.date(2025, 8, 1)  # G: confirmed MI after the as-of date


def due(enrolled: dt.date, wave: int) -> dt.date:
    return enrolled + math.floor(wave * 365.25) * DAY


@pytest.fixture
def analysis(ops):
    people = [{"pseudonym": p, "enrolment_date": ENROLLED} for p in "ABDEFG"]
    people.append({"pseudonym": "C", "enrolment_date": C_ENROLLED})
    contacts = [{"pseudonym": p, "wave": w, "contact_date": due(ENROLLED, w) + 5 * DAY}
                for p in "ADEFG" for w in range(1, 6)]
    contacts += [{"pseudonym": "B", "wave": w, "contact_date": due(ENROLLED, w) + 5 * DAY}
                 for w in (1, 2, 3)]
    contacts += [{"pseudonym": "C", "wave": w, "contact_date": due(C_ENROLLED, w) + 5 * DAY,
                  "outcome": "reached" if w <= 2 else "not_reached"} for w in range(1, 6)]
    events = [report("A", "I21.9", A_EVENT), report("A", "I21.9", A_EVENT + 2 * DAY,
                                                     "insurance_claim"),
              report("A", "I21.9", dt.date(2024, 1, 1)),  # a second MI, also confirmed
              report("E", "I21.9", E_BEFORE), report("E", "I63.9", dt.date(2023, 2, 1)),
              report("F", "I21.9", F_REJECTED), report("G", "I21.9", G_AFTER)]
    rows = {
        "participant": people, "follow_up_contact": contacts, "endpoint_event": events,
        "death": [{"pseudonym": "B", "death_date": B_DEATH, "underlying_cause": "J44.9"}],
        # D: diabetes known at baseline; a later diagnosis of C does not count
        "condition": [{"pseudonym": "D", "icd10": "E11.9", "diagnosed_on": dt.date(2015, 1, 1)},
                      {"pseudonym": "C", "icd10": "E11.9", "diagnosed_on": dt.date(2020, 1, 1),
                       "source": "hospital_record"}],
    }
    con = connect(rows)
    found = candidates(con)
    load_candidates(ops, found)
    for cid, group in zip(found.candidate_id, found.endpoint, strict=True):
        person = found.set_index("candidate_id").loc[cid, "pseudonym"]
        if person == "F":
            decide(ops, cid, "rejected", reviewer="dr-li", reason="chest pain, not an MI")
        elif group == "chd":
            decide(ops, cid, "confirmed", reviewer="dr-li")
    # E's stroke stays pending: not an event
    return con, analysis_table(con, confirmed(ops), as_of=AS_OF)


def row(table: pd.DataFrame, person: str, endpoint: str) -> pd.Series:
    return table.set_index(["pseudonym", "endpoint"]).loc[(person, endpoint)]


def test_one_row_per_participant_and_group(analysis):
    _, table = analysis
    assert list(table.columns) == ["pseudonym", "endpoint", "prevalent", "event",
                                   "time_days", "censor_reason", "enrolment_date",
                                   "event_date", "exit_date"]
    assert len(table) == 7 * len(ENDPOINT_GROUPS)
    assert list(table.endpoint[:len(ENDPOINT_GROUPS)]) == list(ENDPOINT_GROUPS)
    assert list(table.pseudonym) == sorted(table.pseudonym)


def test_a_confirmed_event_during_follow_up(analysis):
    _, table = analysis
    a = row(table, "A", "chd")
    assert (a.prevalent, a.event, a.time_days) == (False, 1, (A_EVENT - ENROLLED).days)
    assert pd.isna(a.censor_reason)
    assert (a.event_date, a.exit_date) == (ts(A_EVENT), ts(A_EVENT))
    s = row(table, "A", "stroke")
    assert (s.event, s.time_days, s.censor_reason) == (0, (AS_OF - ENROLLED).days,
                                                       "end of follow-up")


def test_censoring_at_death_loss_and_the_end(analysis):
    con, table = analysis
    obs = observation(con, as_of=AS_OF).set_index("pseudonym")
    b = row(table, "B", "chd")
    assert (b.event, b.time_days, b.censor_reason, b.exit_date) == (
        0, (B_DEATH - ENROLLED).days, "death", ts(B_DEATH))
    c = row(table, "C", "stroke")
    last = due(C_ENROLLED, 2) + 5 * DAY
    assert obs.loc["C", "end_reason"] == "lost"
    assert (c.event, c.time_days, c.censor_reason, c.exit_date) == (
        0, (last - C_ENROLLED).days, "lost", ts(last))
    d = row(table, "D", "chd")
    assert (d.event, d.time_days, d.censor_reason) == (0, (AS_OF - ENROLLED).days,
                                                       "end of follow-up")


def test_rejected_pending_and_later_events_are_no_events(analysis):
    _, table = analysis
    assert row(table, "F", "chd").event == 0  # rejected
    assert row(table, "E", "stroke").event == 0  # still pending
    g = row(table, "G", "chd")  # confirmed, but after the as-of date
    assert (g.event, g.censor_reason) == (0, "end of follow-up")


def test_prevalent_cases_are_flagged_and_left_out_of_that_group_only(analysis):
    _, table = analysis
    e = row(table, "E", "chd")
    assert e.prevalent and pd.isna(e.event) and pd.isna(e.time_days)
    assert pd.isna(e.exit_date) and pd.isna(e.censor_reason)
    assert not row(table, "E", "stroke").prevalent
    d = row(table, "D", "t2d")  # baseline history of diabetes
    assert d.prevalent and pd.isna(d.event)
    assert not row(table, "C", "t2d").prevalent  # diagnosed after enrolment
    assert table.prevalent.sum() == 2
    assert table.event.isna().sum() == 2


def test_baseline_history_can_be_ignored(analysis, ops):
    con, _ = analysis
    table = analysis_table(con, confirmed(ops), as_of=AS_OF, baseline_history=False)
    assert not row(table, "D", "t2d").prevalent
    assert row(table, "E", "chd").prevalent  # the confirmed event before enrolment


def test_ready_for_survival_analysis(analysis):
    _, table = analysis
    at_risk = table[~table.prevalent]
    assert at_risk.event.isin([0, 1]).all()
    assert (at_risk.time_days >= 0).all()
    assert (at_risk.censor_reason.isna() == (at_risk.event == 1)).all()
    assert (at_risk.exit_date - at_risk.enrolment_date).dt.days.eq(at_risk.time_days).all()


# -- incidence ----------------------------------------------------------------------------
YEAR = 365.25
FOUR_YEARS = 1461  # days: exactly 4 person-years


def cohort(cells: dict[tuple[str, str], tuple[int, int]]) -> tuple[pd.DataFrame,
                                                                   pd.DataFrame]:
    """Analysis table and observation for people followed 4 years each: per (region,
    sex), (people, events)."""
    tables, people = [], []
    for (region, sex), (n, events) in cells.items():
        ids = [f"{region}-{sex}-{i}" for i in range(n)]
        tables.append(pd.DataFrame({
            "pseudonym": ids, "endpoint": "chd", "prevalent": False,
            "event": pd.array([1] * events + [0] * (n - events), dtype="Int64"),
            "time_days": pd.array([FOUR_YEARS] * n, dtype="Int64")}))
        people.append(pd.DataFrame({"pseudonym": ids, "region": region, "sex": sex,
                                    "birth_year_month": "1960-01",
                                    "enrolment_date": ts(ENROLLED)}))
    return pd.concat(tables, ignore_index=True), pd.concat(people, ignore_index=True)


def test_three_events_in_1500_person_years():
    # 375 people x 4 years = 1,500 person-years, 3 events: 2.0 per 1,000
    table, obs = cohort({("east", "1"): (375, 3), ("east", "2"): (750, 12)})
    prevalent = pd.DataFrame({"pseudonym": ["x"], "endpoint": ["chd"], "prevalent": [True],
                              "event": pd.array([pd.NA], "Int64"),
                              "time_days": pd.array([pd.NA], "Int64")})
    obs = pd.concat([obs, obs.iloc[[0]].assign(pseudonym="x")], ignore_index=True)
    out = incidence(pd.concat([table, prevalent]), obs, by=("sex",),
                    policy=Policy(threshold=3))
    assert list(out.columns) == ["endpoint", "sex", "events", "person_years", "rate",
                                 "ci_lower", "ci_upper", "suppressed", "reason"]
    men = out.set_index("sex").loc["1"]
    assert (men.events, men.person_years, men.suppressed) == (3, pytest.approx(1500), False)
    assert men.rate == pytest.approx(2.0)
    # exact Poisson limits for 3 events (standard tables: 0.6187 and 8.7673 events)
    low, high = chi2.ppf(0.025, 6) / 2, chi2.ppf(0.975, 8) / 2
    assert (low, high) == (pytest.approx(0.61867, abs=1e-4), pytest.approx(8.76727, abs=1e-4))
    assert men.ci_lower == pytest.approx(low / 1.5)  # 0.412 per 1,000
    assert men.ci_upper == pytest.approx(high / 1.5)  # 5.845 per 1,000
    total = out.set_index("sex").loc["Total"]
    assert (total.events, total.person_years) == (15, pytest.approx(4500))
    assert total.rate == pytest.approx(15 / 4.5)


def test_zero_events_have_a_lower_limit_of_zero():
    table, obs = cohort({("east", "1"): (250, 0), ("east", "2"): (250, 20)})
    out = incidence(table, obs, by=("sex",), policy=Policy(threshold=3)).set_index("sex")
    zero = out.loc["1"]
    assert (zero.events, zero.rate, zero.ci_lower) == (0, 0.0, 0.0)
    assert zero.ci_upper == pytest.approx(chi2.ppf(0.975, 2) / 2 / 1.0)  # 3.689 / 1,000 PY


def test_a_small_count_is_suppressed_with_its_complement():
    table, obs = cohort({("east", "1"): (375, 3), ("east", "2"): (750, 12)})
    out = incidence(table, obs, by=("sex",), policy=Policy(threshold=5)).set_index("sex")
    # 3 < 5 is hidden; 12 too, else the total 15 would give it away
    for sex in ("1", "2"):
        hidden = out.loc[sex]
        assert hidden.suppressed and pd.isna(hidden.events)
        assert np.isnan(hidden.rate) and np.isnan(hidden.ci_lower)
        assert np.isnan(hidden.ci_upper)
    assert not out.loc["Total"].suppressed
    assert out.loc["Total"].rate == pytest.approx(15 / 4.5)


def test_by_region_sex_and_age_band_with_margins():
    table, obs = cohort({("east", "1"): (300, 12), ("east", "2"): (300, 15),
                         ("west", "1"): (300, 18), ("west", "2"): (300, 21)})
    obs.loc[obs.region == "west", "birth_year_month"] = "1960-02"  # 59 at enrolment
    out = incidence(table, obs, policy=Policy(threshold=10))
    assert list(out.columns[:4]) == ["endpoint", "region", "sex", "age_band"]
    cells = out.set_index(["region", "sex", "age_band"])
    assert cells.loc[("east", "1", "60-69")].events == 12
    assert cells.loc[("west", "2", "50-59")].rate == pytest.approx(21 / 1.2)
    assert cells.loc[("Total", "Total", "Total")].events == 66
    assert cells.loc[("Total", "1", "Total")].person_years == pytest.approx(2400)
    assert not out.suppressed.any()


def test_age_band_counts_whole_years_to_the_month():
    births = pd.Series(["1960-01", "1960-02", "2005-01", None, "1930-12"])
    on = pd.Series([ts(ENROLLED)] * 5)
    assert list(age_band(births, on)) == ["60-69", "50-59", "0-17", "Unknown", "80+"]


def test_incidence_refuses_unknown_columns():
    table, obs = cohort({("east", "1"): (10, 1)})
    with pytest.raises(UserError, match="cannot be split"):
        incidence(table, obs, by=("province",), policy=Policy())
    with pytest.raises(UserError, match="lacks columns"):
        incidence(table.drop(columns="time_days"), obs, policy=Policy())


def test_incidence_in_the_perturbed_tier_keys_the_people_with_an_event():
    """With the record-key secret, each event count gets the noise of its own people:
    within ±4 of the exact count and a multiple of 5; the same people, the same number."""
    from precimed.deid import PERTURBED

    n = 400
    table = pd.DataFrame({"pseudonym": [f"p{i}" for i in range(n)], "endpoint": "t2d",
                          "prevalent": False,
                          "event": pd.array([int(i % 3 == 0) for i in range(n)], "Int64"),
                          "time_days": pd.array([1000] * n, "Int64")})
    obs = pd.DataFrame({"pseudonym": table.pseudonym, "sex": ["1", "2"] * (n // 2)})
    exact = incidence(table, obs, by=("sex",), policy=Policy(threshold=10))
    noisy = Policy(threshold=10, rounding=5, perturb=True, tier=PERTURBED)
    outs = [incidence(table, obs, by=("sex",), policy=noisy, secret=s)
            for s in (b"a" * 32, b"a" * 32, b"b" * 32)]
    assert outs[0].events.tolist() == outs[1].events.tolist()  # deterministic
    for out in outs:
        assert all(v % 5 == 0 and abs(v - e) <= 4
                   for v, e in zip(out.events, exact.events, strict=True))
    # over secrets the noise differs: the keys, not the counts alone, decide it
    many = {tuple(incidence(table, obs, by=("sex",), policy=noisy,
                            secret=bytes([k]) * 32).events) for k in range(12)}
    assert len(many) > 1


def test_perturbed_person_years_do_not_give_one_persons_follow_up(tmp_path):
    """Two cohorts one person apart: in the perturbed tier the person-years of a cell and
    of the total are rounded (to the setting disclosure_person_years), so their difference
    is not that person's follow-up, and the rates are those of the published figures."""
    from precimed.deid import PERTURBED
    from precimed.settings import load_settings

    settings = load_settings({"home": tmp_path}, environ={})
    policy = Policy.for_tier(settings, PERTURBED)
    table, obs = cohort({("east", "1"): (300, 12), ("east", "2"): (300, 15)})
    extra = ("east-1-extra", 1000)  # followed 1,000 days, no event
    more_table = pd.concat([table, pd.DataFrame({
        "pseudonym": [extra[0]], "endpoint": "chd", "prevalent": False,
        "event": pd.array([0], "Int64"), "time_days": pd.array([extra[1]], "Int64")})],
        ignore_index=True)
    more_obs = pd.concat([obs, obs.iloc[[0]].assign(pseudonym=extra[0])], ignore_index=True)
    before = incidence(table, obs, by=("sex",), policy=policy).set_index("sex")
    after = incidence(more_table, more_obs, by=("sex",), policy=policy).set_index("sex")
    for sex in ("1", "Total"):
        gap = after.person_years[sex] - before.person_years[sex]
        assert gap != pytest.approx(extra[1] / 365.25), sex
    base = settings.disclosure_person_years
    assert base == 10
    for out in (before, after):
        assert all(y % base == 0 for y in out.person_years)
        shown = out[out.events.notna()]
        assert np.allclose(shown.rate, shown.events.astype(float) * 1000 / shown.person_years)
    # the exact tier keeps the person-years as computed
    exact = incidence(more_table, more_obs, by=("sex",),
                      policy=Policy.for_tier(settings, "exact")).set_index("sex")
    assert exact.person_years["1"] == pytest.approx(1200 + 1000 / 365.25)


def test_person_years_round_half_up_and_never_to_zero():
    policy = Policy(person_years=10)
    assert [policy.publish_person_years(y) for y in (0.0, 0.4, 4.9, 5.0, 1234.9, 1235.0)] \
        == [0.0, 10.0, 10.0, 10.0, 1230.0, 1240.0]
    assert Policy().publish_person_years(1234.56) == 1234.56
    with pytest.raises(UserError, match="person-years"):
        Policy(person_years=-1)
def test_every_endpoint_group_and_death_has_a_name_in_the_standard():
    # the survival page names endpoints from the standard's vocabulary; a group added to
    # ENDPOINT_GROUPS without a Chinese and English name there would show a bare code
    from precimed.standard import vocabulary

    names = vocabulary("survival_endpoint").codes
    assert list(names) == ["death", *ENDPOINT_GROUPS]
    assert all(zh and en and zh != en for zh, en in names.values())
