"""The audit log: every login, permission decision, row-level read and export is an entry;
the chain verifies; any change to an entry, a removed entry or a removed tail is found,
by the API and by ``precimed audit verify``; concurrent writers keep one chain."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from precimed.cli.main import main
from precimed.ops import OpsDatabase, audit

DEFINITION = {"format": "precimed-cohort", "version": 1, "name": "all women",
              "criteria": [{"kind": "participant", "field": "sex", "values": ["2"]}]}


def _latest(ops, **filters):
    return audit.events(ops, **{"limit": 50, **filters})


def test_logins_permissions_row_reads_and_exports_are_recorded(as_user, anonymous, ops_of):
    anonymous.post("/api/v1/auth/login", json={"username": "dac", "password": "wrong-one"})
    fails = _latest(ops_of, actor="dac", action="login")
    assert fails[0].outcome == "fail" and fails[0].client
    as_user("dac").get("/api/v1/admin/users")  # denied
    denied = _latest(ops_of, actor="dac", action="permission")[0]
    assert denied.outcome == "deny" and denied.detail["permission"] == "users.manage"
    assert denied.resource == "GET /api/v1/admin/users"
    as_user("dm_sh01").get("/api/v1/followup/worklist?centre=SH01")
    read = _latest(ops_of, actor="dm_sh01", action="read.row_level")[0]
    assert read.resource == "follow-up worklist SH01" and read.detail["rows"] >= 0
    r = as_user("admin").post("/api/v1/cohorts/extract", json={
        "definition": DEFINITION, "variables": ["sex", "age", "SBP"],
        "purpose": "audit test"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    export = _latest(ops_of, actor="admin", action="export")[0]
    assert export.outcome == "ok" and export.detail["purpose"] == "audit test"
    assert export.detail["rows"] == len(r.text.strip().splitlines()) - 1
    anonymous.get("/api/v1/dashboard")
    assert _latest(ops_of, actor="anonymous", action="permission")[0].outcome == "deny"


def test_no_identifier_or_value_reaches_the_log(as_user, ops_of):
    as_user("admin").post("/api/v1/cohorts/extract", json={
        "definition": DEFINITION, "variables": ["sex", "SBP"], "purpose": "check the log"})
    rows = as_user("admin").get("/api/v1/followup/worklist?centre=SH01").json()["rows"]
    logged = " ".join(str(e.detail) + e.resource for e in _latest(ops_of))
    for row in rows[:20]:
        assert row["pseudonym"] not in logged and row["pseudonym"][:12] not in logged


def test_the_chain_verifies_through_the_api(as_user):
    result = as_user("admin").get("/api/v1/admin/audit/verify").json()
    assert result["ok"] and result["events"] > 3
    assert as_user("dac").get("/api/v1/admin/audit/verify").json()["ok"]
    newest = as_user("dac").get("/api/v1/admin/audit?limit=5").json()
    assert [e["seq"] for e in newest] == sorted((e["seq"] for e in newest), reverse=True)


@pytest.fixture
def fresh_ops(tmp_path, postgres_server, request):
    """A separate ops database to tamper with, on each engine."""
    url = (f"sqlite:///{tmp_path / 'ops.sqlite3'}" if request.param == "sqlite"
           else postgres_server())
    ops = OpsDatabase(url)
    ops.create()
    for i in range(20):
        audit.record(ops, actor=f"user{i % 3}", action="permission", outcome="allow",
                     resource=f"GET /api/v1/thing/{i}", detail={"i": i})
    yield ops
    ops.dispose()


@pytest.mark.parametrize("fresh_ops", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize(("tamper", "broken_at"), [
    ("UPDATE audit_event SET actor = 'someone-else' WHERE seq = 7", 7),
    ("DELETE FROM audit_event WHERE seq = 12", 12),
    ("DELETE FROM audit_event WHERE seq = 20", 20),
    ("UPDATE audit_event SET detail = '{\"i\": 99}' WHERE seq = 15", 15),
])
def test_any_change_to_the_log_is_detected(fresh_ops, tamper, broken_at):
    assert audit.verify(fresh_ops).ok
    with fresh_ops.engine.begin() as con:  # around the ORM's append-only guard
        con.execute(text(tamper))
    result = audit.verify(fresh_ops)
    assert not result.ok and result.first_broken == broken_at, result


@pytest.mark.parametrize("fresh_ops", ["sqlite", "postgresql"], indirect=True)
def test_concurrent_writers_extend_one_chain(fresh_ops):
    def write(k):
        for i in range(15):
            audit.record(fresh_ops, actor=f"w{k}", action="permission", outcome="allow",
                         detail={"i": i})

    threads = [threading.Thread(target=write, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = audit.verify(fresh_ops)
    assert result.ok and result.events == 20 + 6 * 15


def test_the_orm_refuses_to_change_an_event(tmp_path):
    ops = OpsDatabase(f"sqlite:///{tmp_path / 'ops.sqlite3'}")
    ops.create()
    audit.record(ops, actor="a", action="login", outcome="ok")
    from precimed.ops.db import AuditEvent

    with pytest.raises(RuntimeError, match="append-only"), ops.session() as session, \
            session.begin():
        session.get(AuditEvent, 1).actor = "b"


def test_the_cli_verifies_and_names_the_first_broken_entry(tmp_path, capsys):
    from precimed.home import initialise
    from precimed.settings import load_settings

    settings = load_settings({"home": tmp_path / "home"}, environ={})
    initialise(settings)
    ops = OpsDatabase(settings.database_url)
    for i in range(5):
        audit.record(ops, actor="x", action="login", outcome="ok", detail={"i": i})
    assert main(["--home", str(settings.home), "audit", "verify"]) == 0
    assert "intact: 5 events" in capsys.readouterr().out
    with ops.engine.begin() as con:
        con.execute(text("UPDATE audit_event SET actor = 'y' WHERE seq = 4"))
    assert main(["--home", str(settings.home), "audit", "verify"]) == 10
    assert "BROKEN at event 4" in capsys.readouterr().err
    ops.dispose()
