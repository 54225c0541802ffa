"""Operational database models and access."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

SCHEMA_VERSION = 1


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

    def dispose(self) -> None:
        self.engine.dispose()
