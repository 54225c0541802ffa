"""Follow-up status on hand-written tiny tables, every expected value worked out by hand.

The as-of date is 2025-06-30 and the grace period 180 days throughout. Wave w of a person
falls due on enrolment + floor(w × 365.25) days: 365, 730, 1095, 1461, 1826, 2191 days.
"""

from __future__ import annotations

import datetime as dt
import math

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from precimed.cohorts import (
    observation,
    person_time,
    retention,
    retention_summary,
    wave_status,
    worklist,
)
from precimed.standard import TABLES

AS_OF = dt.date(2025, 6, 30)
DAY = dt.timedelta(days=1)

_REQUIRED = {
    "participant": {"cohort": "NP-EAST", "sex": "1", "birth_year_month": "1960-01",
                    "native_province": "31", "region": "east", "consent_scope": "broad"},
    "follow_up_contact": {"method": "phone"},
    "visit": {"visit_type": "resurvey"},
    "measurement": {"code": "SBP", "value": 120.0},
    "endpoint_event": {"icd10": "I21.9", "source": "hospital_record"},
    "death": {"source": "death_registry"},
}
_SYSTEM = {"centre": "C1", "submission_id": "s1", "standard_version": "1.0.0", "row_key": "k"}


def due(enrolled: dt.date, wave: int) -> dt.date:
    return enrolled + math.floor(wave * 365.25) * DAY


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


# -- the people -------------------------------------------------------------------------
ENROLLED = {
    "A": dt.date(2020, 1, 10),  # reached at waves 1-4, the last on the day of death
    "B": dt.date(2019, 5, 1),  # reached at wave 1, reported deceased at wave 2 (no record)
    "C": dt.date(2019, 3, 1),  # reached at waves 1-2, then not reached at 3-5: lost
    "D": dt.date(2019, 6, 1),  # never contacted, a hospital record last month: not lost
    "E": AS_OF - 545 * DAY,  # wave 1 closes on the as-of date: lost
    "F": AS_OF - 544 * DAY,  # wave 1 closes the day after: still in follow-up
    "G": dt.date(2020, 1, 1),  # reached at every wave
    "H": dt.date(2019, 1, 15),  # reached 1-2, refused 3; reached and died after the as-of date
    "J": dt.date(2019, 3, 1),  # like C, but reached at wave 2 only: lost, one more missed wave
    "K": dt.date(2019, 1, 1),  # another centre, which never followed anyone up: lost
}
A_DEATH = dt.date(2024, 3, 1)
B_DECEASED = due(ENROLLED["B"], 2) + 10 * DAY
D_HOSPITAL = dt.date(2025, 5, 20)
H_DEATH = dt.date(2025, 9, 1)


def contact(person: str, wave: int, outcome: str = "reached", on: dt.date | None = None,
            shift: int = 5) -> dict:
    day = on or due(ENROLLED[person], wave) + shift * DAY
    return {"pseudonym": person, "wave": wave, "contact_date": day, "outcome": outcome}


def rows() -> dict[str, list[dict]]:
    people = [{"pseudonym": p, "enrolment_date": d} for p, d in ENROLLED.items()]
    people[-1].update(centre="C2", cohort="NP-SOUTH")
    contacts = [
        *(contact("A", w) for w in (1, 2, 3)), contact("A", 4, on=A_DEATH),
        contact("B", 1), contact("B", 2, "deceased", on=B_DECEASED),
        contact("C", 1), contact("C", 2), *(contact("C", w, "not_reached") for w in (3, 4, 5)),
        *(contact("G", w) for w in range(1, 6)),
        contact("H", 1), contact("H", 2), contact("H", 3, "refused"),
        contact("H", 6, on=dt.date(2025, 8, 1)),
        contact("J", 1, "not_reached"), contact("J", 2),
        *(contact("J", w, "not_reached") for w in (3, 4, 5)),
    ]
    return {
        "participant": people,
        "follow_up_contact": contacts,
        "visit": [{"pseudonym": p, "wave": 0, "visit_date": d, "visit_type": "baseline"}
                  for p, d in ENROLLED.items()]
        + [{"pseudonym": "G", "wave": 2, "visit_date": due(ENROLLED["G"], 2) + 5 * DAY}],
        "measurement": [{"pseudonym": "G", "measured_on": due(ENROLLED["G"], 2) + 5 * DAY,
                         "wave": 2}],
        "endpoint_event": [{"pseudonym": "D", "event_date": D_HOSPITAL}],
        "death": [{"pseudonym": "A", "death_date": A_DEATH},
                  {"pseudonym": "H", "death_date": H_DEATH}],
    }


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return connect(rows())


@pytest.fixture(scope="module")
def observed(con) -> pd.DataFrame:
    return observation(con, as_of=AS_OF).set_index("pseudonym")


def ts(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


def years(start: dt.date, end: dt.date) -> float:
    return (end - start).days / 365.25


# -- observation ------------------------------------------------------------------------
def test_one_row_per_participant_with_the_documented_columns(observed):
    assert sorted(observed.index) == sorted(ENROLLED)
    assert list(observed.reset_index().columns) == [
        "pseudonym", "centre", "cohort", "region", "sex", "birth_year_month",
        "enrolment_date", "last_traced", "death_date", "end_date", "end_reason", "lost",
        "person_years"]


def test_death_and_reached_contact_on_the_same_day(observed):
    a = observed.loc["A"]
    assert (a.death_date, a.last_traced, a.end_date) == (ts(A_DEATH),) * 3
    assert (a.end_reason, a.lost) == ("death", False)
    assert a.person_years == pytest.approx(years(ENROLLED["A"], A_DEATH))


def test_a_deceased_contact_without_a_death_record_ends_follow_up_at_death(observed):
    b = observed.loc["B"]
    assert (b.death_date, b.end_date, b.end_reason, b.lost) == (
        ts(B_DECEASED), ts(B_DECEASED), "death", False)
    assert b.last_traced == ts(due(ENROLLED["B"], 1) + 5 * DAY)


def test_reached_at_waves_one_and_two_then_not_reached_is_lost(observed):
    c = observed.loc["C"]
    last = due(ENROLLED["C"], 2) + 5 * DAY
    assert (c.lost, c.end_reason, c.last_traced, c.end_date) == (True, "lost", ts(last),
                                                                 ts(last))
    assert pd.isna(c.death_date)
    assert c.person_years == pytest.approx((730 + 5) / 365.25)


def test_no_contact_but_a_hospital_record_last_month_is_not_lost(observed):
    d = observed.loc["D"]
    assert (d.lost, d.end_reason, d.last_traced, d.end_date) == (
        False, "end of follow-up", ts(D_HOSPITAL), ts(AS_OF))


def test_grace_period_edge_one_day_either_side(observed):
    # E: wave 1 due 365 days after enrolment, + 180 days grace = the as-of date: closed
    e, f = observed.loc["E"], observed.loc["F"]
    assert (e.lost, e.end_reason, e.end_date, e.person_years) == (
        True, "lost", ts(ENROLLED["E"]), 0.0)
    # F: enrolled a day later, wave 1's grace ends tomorrow
    assert (f.lost, f.end_reason, f.end_date) == (False, "end of follow-up", ts(AS_OF))
    assert f.person_years == pytest.approx(544 / 365.25)


def test_person_years_by_hand(con, observed):
    assert observed.loc["G", "person_years"] == pytest.approx(2007 / 365.25)
    assert not observed.loc["G", "lost"]
    assert observed.loc["G", "last_traced"] == ts(due(ENROLLED["G"], 5) + 5 * DAY)
    time = person_time(con, as_of=AS_OF).set_index("pseudonym")
    assert list(time.columns) == ["enrolment_date", "end_date", "end_reason", "person_years"]
    pd.testing.assert_frame_equal(time, observed[time.columns].sort_index())
    assert time.person_years.sum() == pytest.approx(sum(
        (end.date() - ENROLLED[p]).days for p, end in time.end_date.items()) / 365.25)


def test_refusal_and_evidence_after_the_as_of_date_do_not_count(observed):
    h = observed.loc["H"]
    assert (h.lost, h.end_reason) == (True, "lost")
    assert h.last_traced == ts(due(ENROLLED["H"], 2) + 5 * DAY)
    assert pd.isna(h.death_date)  # died after the as-of date


def test_a_later_as_of_date_sees_the_later_death(con):
    later = observation(con, as_of=dt.date(2025, 9, 30)).set_index("pseudonym").loc["H"]
    assert (later.death_date, later.end_reason, later.lost) == (ts(H_DEATH), "death", False)
    assert later.last_traced == ts(dt.date(2025, 8, 1))


def test_waves_come_from_the_protocol_not_from_what_a_centre_submitted(con, observed):
    # K's centre submitted no follow-up at all: K is lost at the protocol's waves
    assert (observed.loc["K", "lost"], observed.loc["K", "end_date"]) == (
        True, ts(ENROLLED["K"]))
    told = observation(con, as_of=AS_OF, waves=0).set_index("pseudonym")
    assert (told.loc["K", "lost"], told.loc["K", "end_reason"]) == (False, "end of follow-up")


# -- retention --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def waves(con) -> pd.DataFrame:
    return wave_status(con, as_of=AS_OF).set_index(["pseudonym", "wave"])


def test_wave_by_wave_classification(waves):
    c = waves.loc["C"]
    assert list(c.reached) == [True, True, False, False, False]
    assert list(c.lost) == [False, False, True, True, True]
    assert list(c.newly_lost) == [False, False, True, False, False]
    assert list(c.due_date) == [ts(due(ENROLLED["C"], w)) for w in range(1, 6)]
    # later evidence (the hospital record) traces D at every wave, contacted or not
    d = waves.loc["D"]
    assert (list(d.reached), list(d.contacted)) == ([True] * 5, [False] * 5)
    # A was alive at wave 4's due date and reached; not due at wave 5 (dead by then)
    assert list(waves.loc["A"].index) == [1, 2, 3, 4]
    assert waves.loc["A"].reached.all()
    # B died in wave 2's window before being reached: died, not lost
    assert waves.loc[("B", 2), ["reached", "died", "lost"]].tolist() == [False, True, False]
    assert list(waves.loc["E"].index) == [1] and waves.loc[("E", 1), "lost"]
    assert "F" not in waves.index.get_level_values(0)
    assert not waves.loc[("H", 4), "contacted"] and waves.loc[("H", 3), "contacted"]


def test_retention_counts_and_cumulative_loss(con):
    table = retention(con, as_of=AS_OF).set_index(["cohort", "centre", "wave"])
    first = table.loc[("NP-EAST", "C1", 1)]
    # due at wave 1: A B C D E G H J (F not yet); J missed wave 1 but was reached at 2
    assert first[["due", "contacted", "reached", "died", "lost"]].tolist() == [8, 6, 7, 0, 1]
    assert first.cumulative_loss == pytest.approx(1 / 8)
    fourth = table.loc[("NP-EAST", "C1", 4)]
    # due at wave 4: A C D G H J; lost C H J
    assert fourth[["due", "reached", "lost", "newly_lost"]].tolist() == [6, 3, 3, 0]
    assert fourth.cumulative_loss == pytest.approx(0.5)
    assert fourth.flag
    south = table.loc[("NP-SOUTH", "C2")]  # nobody followed up, every protocol wave due
    assert list(south.index) == [1, 2, 3, 4, 5, 6] and south.lost.eq(1).all()


def test_summary_against_the_target(con):
    summary = retention_summary(con, as_of=AS_OF).set_index("centre")
    east = summary.loc["C1"]
    assert east[["participants", "eligible", "reached", "lost", "died"]].tolist() == [
        9, 6, 3, 3, 0]
    assert (east.loss, east.target, east.flag) == (0.5, 0.08, True)
    assert east.loss_se == pytest.approx(math.sqrt(0.25 / 6))
    south = summary.loc["C2"]
    assert (south.participants, south.eligible, south.lost, south.flag) == (1, 1, 1, True)
    one_year = retention_summary(con, as_of=AS_OF, years=1, target=0.2).loc[0]
    assert (one_year.eligible, one_year.lost, one_year.flag) == (8, 1, False)


def test_retention_cell_keys_are_the_sums_of_their_peoples_record_keys(con):
    """With a record-key table, each published retention cell carries the key of exactly
    its people, so the perturbed tier's noise follows the people (issue 14 (d): the as-of
    date moved by a day changes the key when one person moves, not by an exact one)."""
    from precimed.deid import cellkey

    people = con.table("participant").pseudonym.to_pandas().tolist()
    keys = cellkey.record_key_table(people, b"s" * 32)
    cellkey.register(con, keys)
    record = dict(zip(people, keys.column("record_key").to_pylist(), strict=True))
    status = wave_status(con, as_of=AS_OF)
    table = retention(con, as_of=AS_OF, keys=cellkey.RECORD_KEY_TABLE)
    assert len(table) == len(retention(con, as_of=AS_OF))
    for r in table.itertuples():
        rows = status[(status.centre == r.centre) & (status.wave == r.wave)]
        for name in ("due", "reached", "lost"):
            members = rows if name == "due" else rows[rows[name]]
            assert getattr(r, f"{name}_key") == cellkey.cell_key(
                [record[p] for p in members.pseudonym]), (r.centre, r.wave, name)
    summary = retention_summary(con, as_of=AS_OF, keys=cellkey.RECORD_KEY_TABLE)
    east = summary.set_index("centre").loc["C1"]
    four = status[(status.centre == "C1") & (status.wave == 4)]
    assert east.lost_key == cellkey.cell_key([record[p] for p in four.pseudonym[four.lost]])
    assert east.eligible_key == cellkey.cell_key(
        [record[p] for p in four.pseudonym[four.lost | four.reached]])


# -- worklist ---------------------------------------------------------------------------
def test_worklist_orders_the_overdue(con):
    work = worklist(con, centre="C1", as_of=AS_OF)
    assert list(work.columns) == ["pseudonym", "wave", "due_date", "days_overdue",
                                  "missed_waves", "last_traced", "last_outcome", "lost"]
    # D: never reached for a wave, overdue since wave 1 (2020-05-31), missed all 5 waves
    # H: last reached at 2, overdue since wave 3 (2022-01-14), missed 3, 4, 5
    # J and C: overdue since wave 3 (2022-02-28); J also missed wave 1
    # E: wave 1 just closed, 180 days after its due date
    assert list(work.pseudonym) == ["D", "H", "J", "C", "E"]
    expected_days = [(AS_OF - due(ENROLLED[p], w)).days
                     for p, w in zip("DHJCE", (1, 3, 3, 3, 1), strict=True)]
    assert list(work.days_overdue) == expected_days == [1856, 1263, 1218, 1218, 180]
    assert list(work.wave) == [1, 3, 3, 3, 1]
    assert list(work.missed_waves) == [5, 3, 4, 3, 1]
    assert list(work.lost) == [False, True, True, True, True]
    assert list(work.last_outcome.fillna("none")) == [
        "none", "refused", "not_reached", "not_reached", "none"]
    assert work.set_index("pseudonym").loc["D", "last_traced"] == ts(D_HOSPITAL)
    assert list(worklist(con, centre="C2", as_of=AS_OF).pseudonym) == ["K"]
    assert list(worklist(con, centre="C2", as_of=AS_OF, waves=0).pseudonym) == []


def test_worklist_holds_every_living_lost_participant(con, observed):
    work = worklist(con, centre="C1", as_of=AS_OF)
    lost = set(observed.index[observed.lost & (observed.centre == "C1")])
    assert lost <= set(work.pseudonym)


def test_closed_waves_at_every_leap_offset():
    # enrolled so that wave w closes on the as-of date (day 0) or the day after (day -1)
    enrolled = {f"w{w}d{d}": AS_OF - (180 + math.floor(w * 365.25) + d) * DAY
                for w in range(1, 9) for d in (0, -1)}
    people = [{"pseudonym": p, "enrolment_date": e} for p, e in enrolled.items()]
    con = connect({"participant": people})
    closed = wave_status(con, as_of=AS_OF, waves=10).groupby("pseudonym").wave.max()
    for p, e in enrolled.items():
        expected = max(w for w in range(11) if w == 0 or due(e, w) + 180 * DAY <= AS_OF)
        assert closed.get(p, 0) == expected == int(p[1]) - (p.endswith("d-1")), p


def test_a_centre_that_stops_following_up_shows_its_people_lost_and_flagged():
    """Contacts only to wave 3 (the centre stopped): wave 4 of the protocol is still due."""
    people = [f"S{i}" for i in range(20)]
    enrolled = dt.date(2019, 1, 1)
    rows = {
        "participant": [{"pseudonym": p, "enrolment_date": enrolled} for p in people],
        "follow_up_contact": [{"pseudonym": p, "wave": w, "outcome": "reached",
                               "contact_date": due(enrolled, w) + 5 * DAY}
                              for p in people for w in (1, 2, 3)],
    }
    summary = retention_summary(connect(rows), as_of=AS_OF).set_index("centre").loc["C1"]
    assert (summary.eligible, summary.lost, summary.flag) == (20, 20, True)


def test_the_dead_are_not_lost_whenever_they_died():
    """Reached at wave 1 only, then found in the death registry in 2024, long after waves
    2 and 3 closed: died, not lost, in the wave tables and in observation() alike."""
    enrolled = dt.date(2019, 1, 1)
    death = dt.date(2024, 1, 1)
    rows = {
        "participant": [{"pseudonym": "P", "enrolment_date": enrolled}],
        "follow_up_contact": [{"pseudonym": "P", "wave": 1, "outcome": "reached",
                               "contact_date": due(enrolled, 1) + 5 * DAY}],
        "death": [{"pseudonym": "P", "death_date": death}],
    }
    con = connect(rows)
    waves = wave_status(con, as_of=AS_OF).set_index("wave")
    assert list(waves.index) == [1, 2, 3, 4, 5]  # alive when wave 5 fell due (2024-01-01)
    assert not waves.lost.any() and list(waves.died) == [False, True, True, True, True]
    assert not observation(con, as_of=AS_OF).lost.any()
    summary = retention_summary(con, as_of=AS_OF).loc[0]
    assert (summary.eligible, summary.lost, summary.died) == (0, 0, 1)
