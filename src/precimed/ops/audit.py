"""The audit log: append-only and hash-chained.

Each event's hash is SHA-256 over the previous hash and the event's canonical JSON
(sequence number, time, actor, action, resource, outcome, client, detail), so changing,
removing or reordering any entry breaks every hash after it: :func:`verify` finds the first
broken link. Appending locks the one-row ``audit_head`` (an UPDATE first, which takes
SQLite's write lock and PostgreSQL's row lock), so concurrent workers extend one chain.
The ORM refuses updates and deletes of events; ``verify`` catches what is done around it.

Anchoring. A chain inside the database proves nothing against someone who can write the
database: they can edit an event and recompute every hash after it, or delete the tail
and roll ``audit_head`` back. So after every append the head (sequence number and hash) is
written, HMAC-SHA256-signed under a key that is not in the database
(``HOME/keys/audit.key``, like the pseudonymisation key), to ``HOME/keys/audit.anchor``.
:func:`verify` then also checks that the signed head is valid and that the database
still holds that event with that hash: a rewritten or truncated chain no longer matches
it. The anchor may lag by the events of writers racing it (never ahead), and a writer
that holds the key file too can forge anything; keep ``keys/`` on storage the database's
administrators cannot write, and back it up apart from the database.

Nothing row-level goes into ``detail``: names of objects, counts and reasons only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from precimed.files import write_atomically
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


@dataclass(frozen=True)
class Anchor:
    """The chain's head signed under a key outside the database (see the module)."""

    key_file: Path
    anchor_file: Path

    @classmethod
    def of(cls, settings) -> Anchor:
        return cls(settings.audit_key_file, settings.audit_anchor_file)

    def create_key(self) -> None:
        """A new random key, owner-only; an existing key is kept."""
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")

    def key(self) -> bytes | None:
        try:
            return bytes.fromhex(self.key_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _mac(self, key: bytes, seq: int, digest: str) -> str:
        return hmac.new(key, f"{seq}:{digest}".encode("ascii"), hashlib.sha256).hexdigest()

    def write(self, seq: int, digest: str) -> None:
        key = self.key()
        if key is None:
            return
        current = self.read()
        if isinstance(current, tuple) and current[0] >= seq:
            return  # a racing writer anchored a later head already
        write_atomically(self.anchor_file, json.dumps(
            {"seq": seq, "hash": digest, "mac": self._mac(key, seq, digest)}))

    def read(self) -> tuple[int, str] | str | None:
        """The signed head; None without a key or anchor; a reason when it is not valid."""
        key = self.key()
        if key is None or not self.anchor_file.exists():
            return None
        try:
            data = json.loads(self.anchor_file.read_text(encoding="utf-8"))
            seq, digest, mac = int(data["seq"]), str(data["hash"]), str(data["mac"])
        except (ValueError, KeyError, TypeError):
            return "the anchor file is damaged"
        if not hmac.compare_digest(mac, self._mac(key, seq, digest)):
            return "the anchor's signature does not match its key"
        return seq, digest


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
    anchor = getattr(ops, "audit_anchor", None)
    if anchor is not None:
        anchor.write(seq, digest)
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
    anchored: int | None = None  # events covered by the signed anchor; None: no anchor

    @property
    def proves(self) -> str:
        """What an intact result means, in words for the person reading it."""
        chain = (f"the {self.events:,} events link up: none was changed, removed or "
                 "reordered without recomputing every hash after it")
        if self.anchored is None:
            return chain + ("; there is no anchor key, so someone who can write the "
                            "database could have rewritten the chain or cut its end")
        return chain + (f"; events 1-{self.anchored:,} match the head signed outside the "
                        "database, so they were not rewritten or cut even by someone who "
                        "can write the database (but not the key)"
                        + (f"; the {self.events - self.anchored:,} newer events are not "
                           "anchored yet" if self.events > self.anchored else ""))

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "first_broken": self.first_broken,
                "reason": self.reason, "anchored": self.anchored,
                "proves": self.proves if self.ok else ""}


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
    return _against_anchor(ops, count)


def _against_anchor(ops: OpsDatabase, count: int) -> Verification:
    """The intact chain checked against the head signed outside the database."""
    anchor = getattr(ops, "audit_anchor", None)
    signed = anchor.read() if anchor is not None else None
    if signed is None:
        return Verification(True, count)
    if isinstance(signed, str):
        return Verification(False, count, None, signed)
    seq, digest = signed
    if seq > count:
        return Verification(False, count, count + 1,
                            f"the signed anchor names event {seq} but the chain ends at "
                            f"{count}: events were removed from the end")
    with ops.session() as session:
        event = session.get(AuditEvent, seq)
    if event is None or event.hash != digest:
        return Verification(False, count, seq, "the chain was rewritten: event "
                            f"{seq} no longer has the hash signed outside the database")
    return Verification(True, count, anchored=seq)


@dataclass(frozen=True)
class EventFilter:
    """Which events to list, count or export: the actor (exact), the action (a prefix:
    ``user`` finds ``user.create`` and ``user.change``), the object (``resource``, a
    case-insensitive part of it) and the days from and to (inclusive, UTC)."""

    actor: str | None = None
    action: str | None = None
    resource: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def apply(self, query):
        if self.actor:
            query = query.where(AuditEvent.actor == self.actor)
        if self.action:
            query = query.where(AuditEvent.action.startswith(self.action, autoescape=True))
        if self.resource:
            query = query.where(AuditEvent.resource.icontains(self.resource, autoescape=True))
        if self.since is not None:
            query = query.where(AuditEvent.at >= _day_start(self.since))
        if self.until is not None:
            query = query.where(AuditEvent.at < _day_start(self.until + dt.timedelta(days=1)))
        return query


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def events(ops: OpsDatabase, *, limit: int = 100, before: int | None = None,
           actor: str | None = None, action: str | None = None, offset: int = 0,
           where: EventFilter | None = None) -> list[AuditEvent]:
    """The newest events first, ``limit`` of them after skipping ``offset`` (or those
    before sequence number ``before``), of the filter (``actor`` and ``action`` are
    shorthands for one)."""
    where = where or EventFilter(actor=actor, action=action)
    query = where.apply(select(AuditEvent)).order_by(AuditEvent.seq.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    if offset:
        query = query.offset(offset)
    with ops.session() as session:
        return list(session.scalars(query))


def count(ops: OpsDatabase, where: EventFilter | None = None) -> int:
    """How many events the filter finds (for paging)."""
    from sqlalchemy import func

    query = (where or EventFilter()).apply(select(func.count()).select_from(AuditEvent))
    with ops.session() as session:
        return int(session.scalar(query) or 0)


def actions(ops: OpsDatabase) -> list[str]:
    """Every action the log holds, for the audit page's filter."""
    with ops.session() as session:
        return sorted(session.scalars(select(AuditEvent.action).distinct()))


CSV_COLUMNS = ("seq", "at", "actor", "action", "resource", "outcome", "client", "detail",
               "hash")


def csv_rows(ops: OpsDatabase, where: EventFilter | None = None, *, batch: int = 2000):
    """The filter's events as CSV lines, header first, oldest first, read in batches; the
    detail column is its JSON. A cell that a spreadsheet would run as a formula (starting
    with =, +, - or @) is prefixed with a quote (OWASP CSV injection)."""
    import csv
    import io

    def line(values) -> str:
        out = io.StringIO()
        csv.writer(out).writerow(values)
        return out.getvalue()

    def cell(value) -> str:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                               sort_keys=True)
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    yield line(CSV_COLUMNS)
    last = 0
    while True:
        query = (where or EventFilter()).apply(select(AuditEvent)).where(
            AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        with ops.session() as session:
            rows = list(session.scalars(query))
        if not rows:
            return
        for e in rows:
            d = event_dict(e)
            yield line([cell(d[c]) if c in ("actor", "resource", "client", "detail", "action")
                        else d[c] for c in CSV_COLUMNS])
        last = rows[-1].seq


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
