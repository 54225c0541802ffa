"""Rewriting the audit chain by whoever can write the database (issue 16, failure 7):
cutting the tail and rolling ``audit_head`` back, or editing an event and recomputing
every hash after it, both verify as intact without an anchor; with the head signed under
a key outside the database both are detected. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from precimed.cli.main import main
from precimed.ops import OpsDatabase, audit
from precimed.ops.audit import Anchor, _canonical, chain_hash
from precimed.ops.db import AuditEvent


@pytest.fixture(params=["sqlite", "postgresql"])
def anchored(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'ops.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_server")())
    anchor = Anchor(tmp_path / "keys" / "audit.key", tmp_path / "keys" / "audit.anchor")
    anchor.create_key()
    ops = OpsDatabase(url, audit_anchor=anchor)
    ops.create()
    for i in range(20):
        audit.record(ops, actor=f"user{i % 3}", action="permission", outcome="allow",
                     resource=f"GET /api/v1/thing/{i}", detail={"i": i})
    yield ops
    ops.dispose()


def _cut_tail(ops: OpsDatabase, keep: int) -> None:
    with ops.engine.begin() as con:
        last = con.execute(text("SELECT hash FROM audit_event WHERE seq = :s"),
                           {"s": keep}).scalar_one()
        con.execute(text("DELETE FROM audit_event WHERE seq > :s"), {"s": keep})
        con.execute(text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": keep, "h": last})


def _edit_and_rehash(ops: OpsDatabase, seq: int) -> None:
    """What a database writer does to hide an edit: recompute every hash after it."""
    with ops.session() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    prev = audit.GENESIS
    with ops.engine.begin() as con:
        for e in events:
            actor = "someone-else" if e.seq == seq else e.actor
            digest = chain_hash(prev, _canonical(e.seq, e.at, actor, e.action, e.resource,
                                                 e.outcome, e.client, e.detail))
            con.execute(text("UPDATE audit_event SET actor = :a, prev_hash = :p, hash = :h "
                             "WHERE seq = :s"), {"a": actor, "p": prev, "h": digest,
                                                 "s": e.seq})
            prev = digest
        con.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})


def test_an_intact_anchored_chain_says_what_it_proves(anchored):
    result = audit.verify(anchored)
    assert result.ok and result.anchored == 20
    assert "signed outside the database" in result.proves


def test_cutting_the_tail_and_rolling_the_head_back_is_detected(anchored):
    _cut_tail(anchored, 16)
    unanchored = OpsDatabase(anchored.url)  # what verify saw before anchoring
    assert audit.verify(unanchored).ok  # the failure: the chain alone looks intact
    result = audit.verify(anchored)
    assert not result.ok and "removed from the end" in result.reason, result
    unanchored.dispose()


def test_editing_an_event_and_recomputing_the_hashes_is_detected(anchored):
    _edit_and_rehash(anchored, 7)
    unanchored = OpsDatabase(anchored.url)
    assert audit.verify(unanchored).ok  # the failure: recomputed, it verifies
    result = audit.verify(anchored)
    assert not result.ok and "rewritten" in result.reason, result
    unanchored.dispose()


def test_a_forged_anchor_is_detected(anchored):
    anchor = anchored.audit_anchor
    anchor.anchor_file.write_text('{"seq": 5, "hash": "' + "0" * 64 + '", "mac": "00"}')
    result = audit.verify(anchored)
    assert not result.ok and "signature" in result.reason


def test_the_cli_explains_what_verify_proves(tmp_path, capsys):
    from precimed.home import initialise
    from precimed.settings import load_settings

    settings = load_settings({"home": tmp_path / "home"}, environ={})
    initialise(settings)
    ops = OpsDatabase(settings.database_url, audit_anchor=Anchor.of(settings))
    for i in range(5):
        audit.record(ops, actor="x", action="login", outcome="ok", detail={"i": i})
    assert main(["--home", str(settings.home), "audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "intact: 5 events" in out and "this proves" in out and "1-5" in out
    _cut_tail(ops, 3)
    assert main(["--home", str(settings.home), "audit", "verify"]) == 10
    assert "removed from the end" in capsys.readouterr().err
    ops.dispose()
