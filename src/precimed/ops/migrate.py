"""Schema migrations of the operational database, by Alembic.

``upgrade(engine)`` brings any home to the newest revision: a new database gets every
migration; a home made before migrations existed (tables created directly, with a
``schema_version`` table) is stamped at the baseline ``0001`` first. The server runs it
once before starting workers; the CLI runs it on first use of a home.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

BASELINE = "0001"


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(config()).get_current_head() or ""


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    newest = head()
    if revision == "head" and current(engine) == newest:
        return
    cfg = config()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # one migrator at a time
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7316001)")
        cfg.attributes["connection"] = connection
        state = MigrationContext.configure(connection).get_current_revision()
        if state is None and inspect(connection).has_table("submission"):
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, revision)
