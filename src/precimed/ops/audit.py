"""The audit log: append-only and hash-chained.

Each event's hash is SHA-256 over the previous hash and the event's canonical JSON
(sequence number, time, actor, action, resource, outcome, client, detail), so changing,
removing or reordering any entry breaks every hash after it: :func:`verify` finds the first
broken link. Appending locks the one-row ``audit_head`` (an UPDATE first, which takes
SQLite's write lock and PostgreSQL's row lock), so concurrent workers extend one chain.
The ORM refuses updates and deletes of events; ``verify`` catches what is done around it.

Nothing row-level goes into ``detail``: names of objects, counts and reasons only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from precimed.ops.db import AuditEvent, AuditHead, OpsDatabase

GENESIS = "0" * 64


def _canonical(seq: int, at: dt.datetime, actor: str, action: str, resource: str,
               outcome: str, client: str, detail: dict[str, Any]) -> bytes:
    body = {"seq": seq, "at": _utc(at).isoformat(timespec="microseconds"), "actor": actor,
            "action": action, "resource": resource, "outcome": outcome, "client": client,
            "detail": detail}
    return json.dumps(body, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def _utc(at: dt.datetime) -> dt.datetime:
    # SQLite gives naive datetimes back; they were written in UTC
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def chain_hash(prev_hash: str, payload: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + payload).hexdigest()


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def record(ops: OpsDatabase, *, actor: str, action: str, outcome: str, resource: str = "",
           client: str = "", detail: dict[str, Any] | None = None) -> int:
    """Append one event; returns its sequence number. A NUL character (which PostgreSQL
    text cannot hold) is kept as U+FFFD, so no value a caller typed can stop the log."""
    actor, action, outcome, resource, client = (
        _storable(v) for v in (actor, action, outcome, resource, client))
    detail = _storable(json.loads(json.dumps(detail or {}, default=str)))
    with ops.session() as session, session.begin():
        bumped = session.execute(update(AuditHead).where(AuditHead.id == 1)
                                 .values(seq=AuditHead.seq + 1))
        if bumped.rowcount == 0:
            session.add(AuditHead(id=1, seq=1, hash=GENESIS))
            session.flush()
        head = session.execute(select(AuditHead).where(AuditHead.id == 1)
                               .with_for_update()).scalar_one()
        seq, prev = head.seq, head.hash
        at = dt.datetime.now(dt.UTC)
        digest = chain_hash(prev, _canonical(seq, at, actor, action, resource, outcome,
                                             client, detail))
        session.add(AuditEvent(seq=seq, at=at, actor=actor, action=action, resource=resource,
                               outcome=outcome, client=client, detail=detail, prev_hash=prev,
                               hash=digest))
        head.hash = digest
    return seq


def row_read(ops: OpsDatabase, *, actor: str, what: str, count: int, client: str = "",
             detail: dict[str, Any] | None = None, action: str = "read.row_level") -> int:
    """Record a read of row-level data (a worklist, candidates, an extract) or an export:
    the one path for the API, the pages and the CLI, so each is audited alike."""
    return record(ops, actor=actor, action=action, outcome="ok", resource=what,
                  client=client, detail={"rows": count, **(detail or {})})


def cli_actor() -> str:
    """Who runs a CLI command, as the audit log names them (``cli:<os user>``)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return "cli:unknown"


def event_dict(e: AuditEvent) -> dict[str, Any]:
    """An event as JSON, for the audit API and the admin page."""
    return {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
            "resource": e.resource, "outcome": e.outcome, "client": e.client,
            "detail": e.detail, "hash": e.hash}


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    first_broken: int | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "first_broken": self.first_broken,
                "reason": self.reason}


def verify(ops: OpsDatabase, *, batch: int = 5000) -> Verification:
    """Recompute the chain from the first event; report the first entry that fails."""
    prev, expected_seq, count = GENESIS, 1, 0
    with ops.session() as session:
        head = session.get(AuditHead, 1)
        last = 0
        while True:
            rows = session.scalars(select(AuditEvent).where(AuditEvent.seq > last)
                                   .order_by(AuditEvent.seq).limit(batch)).all()
            if not rows:
                break
            for event in rows:
                if event.seq != expected_seq:
                    return Verification(False, count, expected_seq,
                                        f"event {expected_seq} is missing")
                if event.prev_hash != prev:
                    return Verification(False, count, event.seq,
                                        "its link to the event before does not match")
                payload = _canonical(event.seq, event.at, event.actor, event.action,
                                     event.resource, event.outcome, event.client,
                                     event.detail)
                if chain_hash(prev, payload) != event.hash:
                    return Verification(False, count, event.seq,
                                        "its content does not match its hash")
                prev, expected_seq, count = event.hash, expected_seq + 1, count + 1
                last = event.seq
            session.expunge_all()
    if head is not None and (head.seq != count or head.hash != prev):
        return Verification(False, count, count + 1,
                            "the chain head does not match the last event (events removed "
                            "from the end)")
    return Verification(True, count)


def events(ops: OpsDatabase, *, limit: int = 100, before: int | None = None,
           actor: str | None = None, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    with ops.session() as session:
        return list(session.scalars(query))


def recent_failures(ops: OpsDatabase, *, action: str, since: dt.datetime,
                    actor: str | None = None, client: str | None = None) -> int:
    """How many failed events of a kind since a time (login rate limiting)."""
    from sqlalchemy import func

    query = (select(func.count()).select_from(AuditEvent)
             .where(AuditEvent.action == action, AuditEvent.outcome == "fail",
                    AuditEvent.at >= since))
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if client is not None:
        query = query.where(AuditEvent.client == client)
    with ops.session() as session:
        return int(session.scalar(query) or 0)


def last_at(ops: OpsDatabase, *, action: str, resource: str) -> dt.datetime | None:
    """When an event of a kind about a resource was last recorded (an account's unlock)."""
    from sqlalchemy import func

    query = (select(func.max(AuditEvent.at))
             .where(AuditEvent.action == action, AuditEvent.resource == resource))
    with ops.session() as session:
        found = session.scalar(query)
    return _utc(found) if found is not None else None
