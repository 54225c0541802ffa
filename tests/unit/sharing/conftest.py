"""A real SQLite ops database with accounts and two catalogue entries (no lake needed:
the entries are written as publishing would write them)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from precimed.ops import OpsDatabase
from precimed.ops.accounts import Principal
from precimed.ops.db import CatalogueEntry, User


@pytest.fixture
def ops(tmp_path):
    db = OpsDatabase(f"sqlite:///{tmp_path / 'ops.sqlite3'}")
    db.create()
    for name, roles, centres in (("admin", ["admin"], []), ("dm_sh01", ["data_manager"],
                                 ["SH01"]), ("res", ["researcher"], []),
                                 ("res2", ["researcher"], []), ("dac1", ["dac"], []),
                                 ("dac2", ["dac"], []), ("chair", ["dac"], [])):
        # written directly: these tests never sign in, and hashing 7 passwords per test
        # would be most of their time
        db.add(User(username=name, display_name=name, password_hash="-", roles=roles,
                    centres=centres, active=True, created_at=dt.datetime.now(dt.UTC)))
    now = dt.datetime.now(dt.UTC)
    for entry_id, kind, people in (("clinical-r1-sh", "clinical", 600),
                                   ("genotype-wgs", "genome", 600)):
        db.add(CatalogueEntry(
            id=entry_id, kind=kind, release="r1", cohort="SH", genotype_dataset=None,
            title_zh="测试", title_en="test", description_zh="", description_en="",
            centres=["SH01"], access_tier="controlled", embargo_until=None,
            variables=["sex", "age", "SBP"] if kind == "clinical" else ["genotype"],
            participants=people, counts={"SH01": people}, conditions_version=0,
            created_by="test", created_at=now, updated_at=now))
    yield db
    db.dispose()


@pytest.fixture
def who(ops):
    """The signed-in principal of a user (built from the account, no password check)."""
    def principal(name: str) -> Principal:
        with ops.session() as session:
            user = session.scalar(select(User).where(User.username == name))
        return Principal(user.id, user.username, user.display_name, tuple(user.roles),
                         tuple(user.centres), "test")
    return principal
