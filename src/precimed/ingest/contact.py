"""One follow-up contact attempt recorded by a centre's staff from the worklist.

It is written through the same path as a submitted ``follow_up_contact`` file: the row
of the standard's table, its system columns (centre, submission id, standard version,
row key of the natural key) and :meth:`precimed.lake.Lake.commit`, which appends a new
key or updates a recorded one (the same person, wave, date and method with another
outcome). It is in the lake's current state at once, so retention and the worklist on the
live lake change immediately; a release holds it only from the next release made.

Everything is checked before anything is written: the participant is one of the centre's
(in the lake, not withdrawn), the wave is one of their cohort's protocol waves, the method
and outcome are codes of the standard's vocabularies and the date is not in the future.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import ibis
import pyarrow as pa

from precimed.errors import NotFound, UserError
from precimed.lake import Lake
from precimed.lake.catalog import CommittedSubmission
from precimed.lake.rows import with_row_keys
from precimed.standard import CONTACT_METHOD, CONTACT_OUTCOME, STANDARD_VERSION
from precimed.standard.cohorts import COHORTS

TABLE = "follow_up_contact"


def contact_row(lake: Lake, *, centre: str, pseudonym: str, wave: int,
                contact_date: dt.date, method: str, outcome: str,
                today: dt.date) -> dict:
    """The checked row, or UserError naming the field (``where``) that is wrong."""
    if outcome not in CONTACT_OUTCOME:
        raise UserError(f"Unknown contact outcome {outcome!r}", where="outcome",
                        hint="Outcomes: " + ", ".join(CONTACT_OUTCOME.codes))
    if method not in CONTACT_METHOD:
        raise UserError(f"Unknown contact method {method!r}", where="method",
                        hint="Methods: " + ", ".join(CONTACT_METHOD.codes))
    if contact_date > today:
        raise UserError(f"The contact date {contact_date.isoformat()} is in the future",
                        where="contact_date",
                        hint=f"Give the day of the attempt, on or before {today.isoformat()}.")
    con = lake.snapshot().connect()
    try:
        people = con.table("participant")
        found = con.execute(people.filter((people.pseudonym == pseudonym)
                                          & (people.centre == centre))
                            .select("cohort", "enrolment_date"))
    finally:
        con.disconnect()
    if found.empty:  # another centre's participant is reported like a missing one
        raise NotFound("No such participant at this centre", where="pseudonym",
                       hint="Choose a participant from the centre's worklist.")
    cohort, enrolled = found.iloc[0]["cohort"], found.iloc[0]["enrolment_date"]
    waves = COHORTS[cohort].follow_up_waves if cohort in COHORTS else 0
    if not 1 <= wave <= waves:
        raise UserError(f"Wave {wave} is not a follow-up wave of cohort {cohort}",
                        where="wave", hint=f"Follow-up waves are 1 to {waves}.")
    if contact_date < pd_date(enrolled):
        raise UserError(f"The contact date {contact_date.isoformat()} is before enrolment",
                        where="contact_date",
                        hint="Give the day of the attempt, after the person was enrolled.")
    return {"pseudonym": pseudonym, "wave": wave, "contact_date": contact_date,
            "method": method, "outcome": outcome}


def record_contact(lake: Lake, row: dict, *, centre: str) -> CommittedSubmission:
    """Commit one checked row (:func:`contact_row`) to the lake as a one-row submission."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    submission_id = f"{stamp}-{centre}-contact-{secrets.token_hex(3)}"
    data = pa.table({
        "pseudonym": pa.array([row["pseudonym"]], pa.string()),
        "wave": pa.array([row["wave"]], pa.int32()),
        "contact_date": pa.array([row["contact_date"]], pa.date32()),
        "method": pa.array([row["method"]], pa.string()),
        "outcome": pa.array([row["outcome"]], pa.string()),
        "centre": pa.array([centre], pa.string()),
        "submission_id": pa.array([submission_id], pa.string()),
        "standard_version": pa.array([STANDARD_VERSION], pa.string()),
    })
    con = ibis.duckdb.connect()
    try:
        data = with_row_keys(TABLE, data, con)
    finally:
        con.disconnect()
    digest = hashlib.sha256(f"{submission_id}|{sorted(row.items())}".encode()).hexdigest()
    committed, _ = lake.commit({TABLE: data}, submission_id=submission_id, centre=centre,
                               digest=digest)
    return committed


def pd_date(value) -> dt.date:
    return value if type(value) is dt.date else value.date()
