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
    # received, committed, unchanged, rejected or interrupted (killed before committing)
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


# -- governed sharing (precimed.sharing) -------------------------------------------------
class CatalogueEntry(Base):
    """A dataset a researcher can ask for: a release's clinical tables of one cohort, or a
    genotype dataset. ``participants`` and ``counts`` are exact and stay inside: what is
    shown passes through ``precimed.deid.disclosure``. Its data-use conditions are the
    newest :class:`CatalogueConditions` version."""

    __tablename__ = "catalogue_entry"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # standard.sharing.DATASET_KIND
    release: Mapped[str | None] = mapped_column(String(64))
    cohort: Mapped[str | None] = mapped_column(String(32))
    genotype_dataset: Mapped[str | None] = mapped_column(String(64))
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    centres: Mapped[list[Any]] = mapped_column(JSON, default=list)  # owning centres
    access_tier: Mapped[str] = mapped_column(String(16))  # standard.sharing.ACCESS_TIER
    embargo_until: Mapped[dt.date | None] = mapped_column(Date)
    variables: Mapped[list[Any]] = mapped_column(JSON, default=list)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # by centre, exact
    conditions_version: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CatalogueConditions(Base):
    """One version of an entry's DUO conditions (``["HMB", "NCU", "TS:2028-12-31"]``):
    append-only, so every version stays readable and a request cites the one it matched."""

    __tablename__ = "catalogue_conditions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("catalogue_entry.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")


class AccessRequest(Base):
    """A researcher's application for data, from draft to active and its end.

    ``status`` follows ``standard.sharing.REQUEST_TRANSITIONS``; every change is an
    :class:`AccessEvent`. ``intended_use`` is the DUO-coded research purpose
    (``precimed.sharing.matching.IntendedUse.to_dict``). The ``hgr_*`` and
    ``security_review_*`` fields are the human-genetic-resource records the hard rules
    check (``precimed.sharing.rules``). An approval fixes ``date_handling``,
    ``coarsen_allowed``, ``approved_conditions``, ``decided_on`` and ``expires_on``."""

    __tablename__ = "access_request"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    applicant_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("user_account.id"), index=True)
    applicant: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    title_zh: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    summary_zh: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    institution: Mapped[str] = mapped_column(String(200), default="")
    intended_use: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cohort_id: Mapped[str | None] = mapped_column(String(32))  # a SavedCohort
    cohort_definition: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # as submitted
    variables: Mapped[list[Any]] = mapped_column(JSON, default=list)
    ethics_number: Mapped[str] = mapped_column(String(64), default="")
    ethics_document: Mapped[str | None] = mapped_column(String(256))  # under the home
    ethics_sha256: Mapped[str | None] = mapped_column(String(64))
    foreign_party: Mapped[bool] = mapped_column(Boolean, default=False)
    foreign_sponsor: Mapped[bool] = mapped_column(Boolean, default=False)
    foreign_detail: Mapped[str] = mapped_column(Text, default="")
    duration_months: Mapped[int] = mapped_column(Integer, default=12)
    hgr_filing_number: Mapped[str | None] = mapped_column(String(64))
    hgr_filing_date: Mapped[dt.date | None] = mapped_column(Date)
    hgr_backup_receipt: Mapped[str | None] = mapped_column(String(128))
    security_review_ref: Mapped[str | None] = mapped_column(String(128))
    security_review_date: Mapped[dt.date | None] = mapped_column(Date)
    match: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    review_round: Mapped[int] = mapped_column(Integer, default=0)
    approved_conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    date_handling: Mapped[str | None] = mapped_column(String(16))
    coarsen_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    active_from: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AccessRequestDataset(Base):
    """A catalogue entry a request asks for, and the conditions version it was matched on."""

    __tablename__ = "access_request_dataset"

    request_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("access_request.id"), primary_key=True)
    entry_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("catalogue_entry.id"), primary_key=True, index=True)
    conditions_version: Mapped[int] = mapped_column(Integer, default=0)


class AccessRequestMember(Base):
    """A team member of a request. ``user_id`` links a platform account (who may then use
    the project); members without an account are named for the record only."""

    __tablename__ = "access_request_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("access_request.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("user_account.id"),
                                                index=True)
    name: Mapped[str] = mapped_column(String(128))
    institution: Mapped[str] = mapped_column(String(200), default="")
    foreign: Mapped[bool] = mapped_column(Boolean, default=False)


class AccessEvent(Base):
    """One change of a request's status, with who, when and why: append-only."""

    __tablename__ = "access_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("access_request.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class DacVote(Base):
    """A committee member's vote in one review round of a request: append-only; a member
    who votes again in the same round is counted by the newest vote."""

    __tablename__ = "dac_vote"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("access_request.id"), index=True)
    review_round: Mapped[int] = mapped_column(Integer)
    voter: Mapped[str] = mapped_column(String(64))
    vote: Mapped[str] = mapped_column(String(16))  # standard.sharing.VOTE
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Provision(Base):
    """One provision of data under an approval (who, what, how many people, when): the
    record a data centre keeps and lists every year (``precimed sharing provisions``)."""

    __tablename__ = "provision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("access_request.id"), index=True)
    entry_id: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(64))
    what: Mapped[str] = mapped_column(String(200))  # e.g. "extract: parquet"
    people: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    provided_on: Mapped[dt.date] = mapped_column(Date, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    genetic: Mapped[bool] = mapped_column(Boolean, default=False)
    foreign: Mapped[bool] = mapped_column(Boolean, default=False)
    filing_number: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ProjectExtract(Base):
    """One extract cut for a project (an active access request): where its files are,
    their SHA-256, what it holds and how it was made (``precimed.sharing.workspace``)."""

    __tablename__ = "project_extract"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("access_request.id"), index=True)
    entry_id: Mapped[str] = mapped_column(String(64))
    release: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(Integer)
    columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    files: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # name: sha256
    date_handling: Mapped[str] = mapped_column(String(16))
    coarsened: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ProjectOutput(Base):
    """A result a project submits for release (a table, model coefficients, a figure),
    the automatic check's result, and the reviewer's decision
    (``precimed.sharing.outputs``). ``status``: submitted, returned or released."""

    __tablename__ = "project_output"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("access_request.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    check: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), index=True)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    review_reason: Mapped[str] = mapped_column(Text, default="")
    released_sha256: Mapped[str | None] = mapped_column(String(64))


@event.listens_for(CatalogueConditions, "before_update")
@event.listens_for(CatalogueConditions, "before_delete")
@event.listens_for(AccessEvent, "before_update")
@event.listens_for(AccessEvent, "before_delete")
@event.listens_for(DacVote, "before_update")
@event.listens_for(DacVote, "before_delete")
@event.listens_for(Provision, "before_update")
@event.listens_for(Provision, "before_delete")
def _sharing_records_are_append_only(mapper: Any, connection: Any, target: Any) -> None:
    raise RuntimeError(f"{type(target).__tablename__} records are append-only")


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(mapper: Any, connection: Any, target: Any) -> None:
    raise RuntimeError("the audit log is append-only")


class OpsDatabase:
    def __init__(self, url: str, *, audit_anchor: Any = None) -> None:
        """``audit_anchor`` (a :class:`precimed.ops.audit.Anchor`) signs the audit chain's
        head outside the database after every event this process records."""
        self.url = url
        self.audit_anchor = audit_anchor
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
