"""Operational database models and access.

The schema is owned by the Alembic migrations in ``precimed/ops/migrations``; the models
here must equal the migrations' result (a test compares them on SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class SubmissionRecord(Base):
    """One attempt to submit a package, whatever came of it."""

    __tablename__ = "submission"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    centre: Mapped[str] = mapped_column(String(32), index=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    # received, committed, unchanged or rejected
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    catalog_version: Mapped[int | None] = mapped_column(Integer)
    problem_count: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class QcScoring(Base):
    """One scoring of a centre's data under a QC rule set: a submission or a re-score."""

    __tablename__ = "qc_scoring"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    submission_id: Mapped[str | None] = mapped_column(String(32), index=True)
    centre: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # submission or rescore
    rules_version: Mapped[str] = mapped_column(String(32))
    verdict: Mapped[str] = mapped_column(String(24))
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    catalog_version: Mapped[int | None] = mapped_column(Integer)  # the lake it saw
    pass_rates: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    results: Mapped[list[Any]] = mapped_column(JSON, default=list)


class EndpointCandidate(Base):
    """One candidate endpoint: a participant's episode of an endpoint group, as merged from
    every source that reported it (``precimed.cohorts.endpoints.candidates``), and where
    its adjudication stands (``precimed.cohorts.adjudication``)."""

    __tablename__ = "endpoint_candidate"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    centre: Mapped[str] = mapped_column(String(32), index=True)
    endpoint: Mapped[str] = mapped_column(String(32), index=True)
    first_date: Mapped[dt.date] = mapped_column(Date)
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # pending, confirmed, rejected or needs_information
    status: Mapped[str] = mapped_column(String(24), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AdjudicationDecision(Base):
    """One reviewer's decision on a candidate: append-only, never updated or deleted."""

    __tablename__ = "adjudication_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    candidate_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("endpoint_candidate.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


@event.listens_for(AdjudicationDecision, "before_update")
@event.listens_for(AdjudicationDecision, "before_delete")
def _decisions_are_append_only(mapper: Any, connection: Any, target: Any) -> None:
    raise RuntimeError("adjudication decisions are append-only")


class User(Base):
    """A person who signs in. Roles and centres decide what they may do and see."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    centres: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token for scripts; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, the table its SHA-256."""

    __tablename__ = "web_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("user_account.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """One entry of the audit log: append-only, each hash covering the one before."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    resource: Mapped[str] = mapped_column(String(256), default="")
    outcome: Mapped[str] = mapped_column(String(16))  # allow, deny, ok, fail
    client: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the chain's last sequence number and hash. Writers lock it to append."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class SavedCohort(Base):
    """A researcher's saved cohort definition (the versioned JSON of ``precimed.query``)."""

    __tablename__ = "saved_cohort"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Job(Base):
    """A long job started from the web (a submission): its progress lines and outcome."""

    __tablename__ = "job"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int] = mapped_column(Integer, ForeignKey("user_account.id"), index=True)
    centre: Mapped[str] = mapped_column(String(32), index=True)
    # queued, running, done or failed
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[list[Any]] = mapped_column(JSON, default=list)
    submission_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # what a finished job made that is not a submission: a genotype job's verdict and counts
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(mapper: Any, connection: Any, target: Any) -> None:
    raise RuntimeError("the audit log is append-only")


class OpsDatabase:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url, **_engine_options(url))
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create(self) -> None:
        """Bring the schema to the newest migration (idempotent, cheap when current)."""
        from precimed.ops.migrate import upgrade

        upgrade(self.engine)

    def session(self) -> Session:
        return self._sessions()

    def add(self, record: Base) -> None:
        with self.session() as session, session.begin():
            session.merge(record)

    def submissions(self, *, centre: str | None = None) -> list[SubmissionRecord]:
        query = select(SubmissionRecord).order_by(SubmissionRecord.received_at)
        if centre:
            query = query.where(SubmissionRecord.centre == centre)
        with self.session() as session:
            return list(session.scalars(query))

    def submission(self, submission_id: str) -> SubmissionRecord | None:
        with self.session() as session:
            return session.get(SubmissionRecord, submission_id)

    def scorings(self, *, centre: str | None = None, kind: str | None = None,
                 ) -> list[QcScoring]:
        query = select(QcScoring).order_by(QcScoring.scored_at)
        if centre:
            query = query.where(QcScoring.centre == centre)
        if kind:
            query = query.where(QcScoring.kind == kind)
        with self.session() as session:
            return list(session.scalars(query))

    def dispose(self) -> None:
        self.engine.dispose()


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # several server workers share one file: wait for the write lock, never fail at once
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}



def _sqlite_pragmas(connection: Any, _: Any) -> None:
    # write-ahead log: readers never wait for the one writer (several server workers)
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
