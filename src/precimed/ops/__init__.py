"""The operational database: submissions, their reports and QC scorings (later: users, access,
adjudication, audit). SQLAlchemy 2 on SQLite by default, PostgreSQL in production."""

from precimed.ops.db import (
    AdjudicationDecision,
    EndpointCandidate,
    OpsDatabase,
    QcScoring,
    SubmissionRecord,
)

__all__ = [
    "AdjudicationDecision",
    "EndpointCandidate",
    "OpsDatabase",
    "QcScoring",
    "SubmissionRecord",
]
