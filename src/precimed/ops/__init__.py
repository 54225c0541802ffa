"""The operational database: submissions and their reports (later: users, access,
adjudication, audit). SQLAlchemy 2 on SQLite by default, PostgreSQL in production."""

from precimed.ops.db import OpsDatabase, SubmissionRecord

__all__ = ["OpsDatabase", "SubmissionRecord"]
