"""The ops database's migrations on SQLite and on a real PostgreSQL server: an empty
database reaches the newest revision; the result equals the ORM models; a home made before
migrations (tables created directly, with 'schema_version') is stamped and upgraded with
its rows kept."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from precimed.ops import OpsDatabase
from precimed.ops.db import Base, SubmissionRecord
from precimed.ops.migrate import current, head


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ops.sqlite3'}"
    return request.getfixturevalue("postgres_server")()


def test_an_empty_database_reaches_head_and_equals_the_models(url):
    ops = OpsDatabase(url)
    ops.create()
    ops.create()  # idempotent
    assert current(ops.engine) == head()
    with ops.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    ops.dispose()


def test_a_home_from_before_migrations_is_stamped_and_upgraded(url):
    engine = create_engine(url)
    legacy = [Base.metadata.tables[t] for t in ("submission", "qc_scoring",
                                                "endpoint_candidate",
                                                "adjudication_decision")]
    Base.metadata.create_all(engine, tables=legacy)
    with engine.begin() as con:
        con.execute(text("CREATE TABLE schema_version (version INTEGER PRIMARY KEY)"))
        con.execute(text("INSERT INTO schema_version VALUES (3)"))
    engine.dispose()
    ops = OpsDatabase(url)
    ops.add(SubmissionRecord(id="s1", centre="SH01", digest="d", status="committed",
                             received_at=dt.datetime.now(dt.UTC), rows={}, report={}))
    ops.create()
    assert current(ops.engine) == head()
    tables = set(inspect(ops.engine).get_table_names())
    assert {"user_account", "audit_event", "audit_head", "saved_cohort", "job"} <= tables
    assert "schema_version" not in tables
    assert ops.submission("s1").centre == "SH01"
    ops.dispose()
