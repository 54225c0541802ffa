"""Operational database models and access."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
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

SCHEMA_VERSION = 3  # 2: qc_scoring; 3: endpoint candidates and adjudication decisions


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)


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


class OpsDatabase:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def create(self) -> None:
        Base.metadata.create_all(self.engine)
        with self.session() as session, session.begin():
            if session.get(SchemaVersion, SCHEMA_VERSION) is None:
                session.add(SchemaVersion(version=SCHEMA_VERSION))

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
