"""Adjudication of candidate endpoints, kept in the operational database.

Every candidate found by :func:`precimed.cohorts.endpoints.candidates` enters as
``pending``. Reviewers move it through a small state machine; each move is appended to
the decision log (:class:`~precimed.ops.AdjudicationDecision`) and never edited, so the
history of a candidate can be replayed and, later, hash-chained by the audit log.

States and moves::

    pending            -> confirmed | rejected | needs_information
    needs_information  -> confirmed | rejected | pending
    confirmed, rejected   final; only reopen() takes them back to pending

A reason is required to reject, to ask for information and to reopen. Anything else is a
:class:`~precimed.errors.Conflict` (an illegal move) or a :class:`~precimed.errors.UserError`
(a missing reviewer or reason, an unknown status).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import ibis
import pandas as pd
import pyarrow as pa
from sqlalchemy import insert, select, update

from precimed.errors import Conflict, NotFound, UserError
from precimed.lake.rows import with_row_keys
from precimed.ops import AdjudicationDecision, EndpointCandidate, OpsDatabase
from precimed.standard import CONFIRMED_ENDPOINT, STANDARD_VERSION

PENDING, CONFIRMED, REJECTED, NEEDS_INFORMATION = (
    "pending", "confirmed", "rejected", "needs_information")
STATUSES = (PENDING, CONFIRMED, REJECTED, NEEDS_INFORMATION)
FINAL = frozenset({CONFIRMED, REJECTED})

# Moves decide() allows; reopen() is the only way out of a final state.
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({CONFIRMED, REJECTED, NEEDS_INFORMATION}),
    NEEDS_INFORMATION: frozenset({CONFIRMED, REJECTED, PENDING}),
    CONFIRMED: frozenset(),
    REJECTED: frozenset(),
}
REASON_REQUIRED = frozenset({REJECTED, NEEDS_INFORMATION})

_FRAME_COLUMNS = ("candidate_id", "pseudonym", "centre", "endpoint", "first_date", "sources")
_BATCH = 500  # ids per IN (...) query: well under SQLite's variable limit


def load_candidates(ops: OpsDatabase, frame: pd.DataFrame) -> int:
    """Add the candidates of ``frame`` (as returned by ``candidates()``) not yet known.

    New candidates enter as ``pending``; a candidate whose id is already in the database
    is left exactly as it is (status, sources, decisions), so loading the same or a newer
    candidate list again is safe. Returns how many candidates were added.
    """
    missing = [c for c in _FRAME_COLUMNS if c not in frame.columns]
    if missing:
        raise UserError("The candidate table lacks columns", where=", ".join(missing),
                        hint="Pass the frame returned by precimed.cohorts.candidates().")
    frame = frame.drop_duplicates(subset="candidate_id")
    ids = frame.candidate_id.astype(str).tolist()
    now = _now()
    with ops.session() as session, session.begin():
        known: set[str] = set()
        for chunk in _chunks(ids):
            known.update(session.scalars(
                select(EndpointCandidate.id).where(EndpointCandidate.id.in_(chunk))))
        new = frame[~frame.candidate_id.astype(str).isin(known)]
        if len(new):
            rows = pd.DataFrame({
                "id": new.candidate_id.astype(str), "pseudonym": new.pseudonym.astype(str),
                "centre": new.centre.astype(str), "endpoint": new.endpoint.astype(str),
                "first_date": pd.to_datetime(new.first_date).dt.date,
                "sources": new.sources.map(lambda s: sorted(str(x) for x in s)),
                "status": PENDING, "updated_at": now,
            })
            session.execute(insert(EndpointCandidate), rows.to_dict("records"))
    return len(new)


def decide(ops: OpsDatabase, candidate_id: str, to_status: str, *, reviewer: str,
           reason: str | None = None) -> AdjudicationDecision:
    """Move a candidate to ``to_status`` and append the decision to its history.

    Raises :class:`~precimed.errors.Conflict` for a move the state machine does not allow
    (including any move out of ``confirmed`` or ``rejected``: use :func:`reopen`), and
    :class:`~precimed.errors.UserError` without a reviewer, or without a reason where one
    is required (rejected, needs_information).
    """
    if to_status not in STATUSES:
        raise UserError("Unknown adjudication status", where=f"to_status={to_status!r}",
                        hint=f"Use one of: {', '.join(STATUSES)}.")
    reviewer = _required(reviewer, "reviewer", "Name the reviewer making the decision.")
    if to_status in REASON_REQUIRED:
        reason = _required(reason, "reason",
                           f"Say why the candidate is {to_status.replace('_', ' ')}.")

    def check(current: str) -> None:
        if to_status in TRANSITIONS[current]:
            return
        if current in FINAL:
            hint = (f"A {current} candidate is final; reopen it with a reason first "
                    "(precimed.cohorts.adjudication.reopen).")
        else:
            allowed = ", ".join(sorted(TRANSITIONS[current]))
            hint = f"From {current} a candidate can move to: {allowed}."
        raise Conflict(f"A candidate cannot move from {current} to {to_status}",
                       where=f"candidate {candidate_id}", hint=hint)

    return _move(ops, candidate_id, to_status, reviewer, _clean(reason), check)


def reopen(ops: OpsDatabase, candidate_id: str, *, reviewer: str,
           reason: str) -> AdjudicationDecision:
    """Take a confirmed or rejected candidate back to ``pending``, with a reason."""
    reviewer = _required(reviewer, "reviewer", "Name the reviewer reopening the candidate.")
    reason = _required(reason, "reason", "Say why the decision is reopened.")

    def check(current: str) -> None:
        if current not in FINAL:
            raise Conflict(f"Only a confirmed or rejected candidate can be reopened; this "
                           f"one is {current}", where=f"candidate {candidate_id}",
                           hint="Decide it instead (precimed.cohorts.adjudication.decide).")

    return _move(ops, candidate_id, PENDING, reviewer, reason, check)


def queue(ops: OpsDatabase, *, centre: str | None = None, status: str | None = PENDING,
          endpoint: str | None = None, limit: int | None = None) -> list[EndpointCandidate]:
    """Candidates awaiting review: those in ``status`` (every status if None), of one
    centre and endpoint if given, oldest first; at most ``limit`` of them if given."""
    if status is not None and status not in STATUSES:
        raise UserError("Unknown adjudication status", where=f"status={status!r}",
                        hint=f"Use one of: {', '.join(STATUSES)}.")
    query = select(EndpointCandidate).order_by(EndpointCandidate.first_date,
                                               EndpointCandidate.id)
    if status is not None:
        query = query.where(EndpointCandidate.status == status)
    if centre is not None:
        query = query.where(EndpointCandidate.centre == centre)
    if endpoint is not None:
        query = query.where(EndpointCandidate.endpoint == endpoint)
    if limit is not None:
        query = query.limit(limit)
    with ops.session() as session:
        return list(session.scalars(query))


def history(ops: OpsDatabase, candidate_id: str) -> list[AdjudicationDecision]:
    """Every decision on a candidate, in the order they were made."""
    with ops.session() as session:
        if session.get(EndpointCandidate, candidate_id) is None:
            raise _not_found(candidate_id)
        query = (select(AdjudicationDecision)
                 .where(AdjudicationDecision.candidate_id == candidate_id)
                 .order_by(AdjudicationDecision.id))
        return list(session.scalars(query))


def confirmed(ops: OpsDatabase) -> pd.DataFrame:
    """The confirmed candidates: candidate_id, pseudonym, centre, endpoint, first_date."""
    query = (select(EndpointCandidate.id, EndpointCandidate.pseudonym,
                    EndpointCandidate.centre, EndpointCandidate.endpoint,
                    EndpointCandidate.first_date)
             .where(EndpointCandidate.status == CONFIRMED)
             .order_by(EndpointCandidate.id))
    with ops.session() as session:
        rows = session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["candidate_id", "pseudonym", "centre", "endpoint",
                                        "first_date"])
    frame["first_date"] = pd.to_datetime(frame.first_date)
    return frame


def confirmed_rows(ops: OpsDatabase, *, release: str) -> pa.Table:
    """The confirmed candidates as rows of the standard's ``confirmed_endpoint`` table, for
    a release to freeze (``submission_id`` names the release)."""
    frame = confirmed(ops)
    n = len(frame)
    if n == 0:
        return CONFIRMED_ENDPOINT.arrow_schema().empty_table()
    data = pa.table({
        "pseudonym": pa.array(frame.pseudonym.astype(str), pa.string()),
        "candidate_id": pa.array(frame.candidate_id.astype(str), pa.string()),
        "endpoint": pa.array(frame.endpoint.astype(str), pa.string()),
        "first_date": pa.array(frame.first_date.dt.date, pa.date32()),
        "centre": pa.array(frame.centre.astype(str), pa.string()),
        "submission_id": pa.array([f"release {release}"] * n, pa.string()),
        "standard_version": pa.array([STANDARD_VERSION] * n, pa.string()),
    })
    con = ibis.duckdb.connect()
    try:
        return with_row_keys(CONFIRMED_ENDPOINT.name, data, con)
    finally:
        con.disconnect()


# -- helpers ------------------------------------------------------------------------------
def _move(ops: OpsDatabase, candidate_id: str, to_status: str, reviewer: str,
          reason: str | None, check: Callable[[str], None]) -> AdjudicationDecision:
    now = _now()
    with ops.session() as session, session.begin():
        candidate = session.get(EndpointCandidate, candidate_id)
        if candidate is None:
            raise _not_found(candidate_id)
        current = candidate.status
        check(current)
        # Compare-and-set: a concurrent decision on the same candidate loses cleanly.
        moved = session.execute(
            update(EndpointCandidate)
            .where(EndpointCandidate.id == candidate_id, EndpointCandidate.status == current)
            .values(status=to_status, updated_at=now)
            .execution_options(synchronize_session=False))
        if moved.rowcount != 1:
            raise Conflict("The candidate was decided by someone else meanwhile",
                           where=f"candidate {candidate_id}",
                           hint="Reload the candidate and decide again.")
        decision = AdjudicationDecision(candidate_id=candidate_id, reviewer=reviewer,
                                        from_status=current, to_status=to_status,
                                        reason=reason, decided_at=now)
        session.add(decision)
    return decision


def _required(value: str | None, name: str, hint: str) -> str:
    text = _clean(value)
    if not text:
        raise UserError(f"A {name} is required", where=name, hint=hint)
    return text


def _clean(value: str | None) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _not_found(candidate_id: str) -> NotFound:
    return NotFound("No such endpoint candidate", where=f"candidate {candidate_id}",
                    hint="Load the candidates first (load_candidates) and check the id.")


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _BATCH):
        yield ids[start:start + _BATCH]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
