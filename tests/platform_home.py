"""A released platform home with one account per role, shared by the API and browser
tests (importable: pytest's ``pythonpath`` includes tests/)."""

from __future__ import annotations

from pathlib import Path

from precimed.cohorts import candidates, load_candidates
from precimed.home import initialise
from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.ops import OpsDatabase, accounts
from precimed.settings import load_settings
from precimed.synth.people import DATA_CUT

PASSWORD = "correct-horse-battery"
USERS = {
    "admin": (["admin"], []),
    "dm_sh01": (["data_manager"], ["SH01"]),
    "dm_js01": (["data_manager"], ["JS01"]),
    "reviewer": (["reviewer"], []),
    "reviewer_sh01": (["reviewer"], ["SH01"]),
    "researcher": (["researcher"], []),
    "researcher2": (["researcher"], []),
    "clinician": (["clinician"], ["SH01"]),
    "dac": (["dac"], []),
}


def signed_in(app, username: str, password: str = PASSWORD):
    """A TestClient of ``app`` signed in as ``username`` (its session cookie kept, and the
    session's CSRF token sent on every request, as the pages' scripts do)."""
    from fastapi.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=False)
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


def settings_for(home: Path, url: str = "", **changes):
    return load_settings({"home": home, "ops_database_url": url or None, **changes},
                         environ={})


def build_released_home(home: Path, packages) -> Path:
    """Every package submitted, release r1, endpoint candidates queued, USERS created;
    follow-up assessed at the synthetic data's cut."""
    home.mkdir(parents=True)
    (home / "precimed.toml").write_text(f'as_of = "{DATA_CUT.isoformat()}"\n')
    settings = settings_for(home)
    initialise(settings)
    for package in packages.packages.values():
        assert submit(package, settings).accepted
    Lake(settings.lake_dir).create_release("r1", description="test release")
    ops = OpsDatabase(settings.database_url)
    con = Lake(settings.lake_dir).snapshot("r1").connect()
    load_candidates(ops, candidates(con))
    con.disconnect()
    for name, (roles, centres) in USERS.items():
        accounts.create_user(ops, name, PASSWORD, roles=roles, centres=centres)
    ops.dispose()
    return home


def copy_ops(source_url: str, target_url: str) -> None:
    """Every row of the ops database at ``source_url`` into a fresh one at ``target_url``
    (a PostgreSQL database for the API tests' second backend)."""
    from sqlalchemy import create_engine

    from precimed.ops.db import Base

    target = OpsDatabase(target_url)
    target.create()
    source = create_engine(source_url)
    with source.connect() as src, target.engine.begin() as dst:
        for table in Base.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in src.execute(table.select())]
            if table.name == "audit_head":
                dst.execute(table.delete())
            if rows:
                dst.execute(table.insert(), rows)
        for name in ("user_account", "api_token", "adjudication_decision",
                     "catalogue_conditions", "access_request_member", "access_event",
                     "dac_vote", "provision"):
            # rows came with their ids: move each sequence past them
            dst.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)")
    source.dispose()
    target.dispose()
