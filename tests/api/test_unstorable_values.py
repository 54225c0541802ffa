"""A value the database cannot store is the request's fault: a NUL character in the URL
is refused before any route runs, and a NUL that reaches PostgreSQL another way (a JSON
body) answers 400 in the one error shape, not 500. Found by schemathesis on
GET /api/v1/qc/scorecard?centre=...%00... (PostgreSQL text cannot hold 0x00)."""

from __future__ import annotations

import pytest

from precimed.ops import audit


@pytest.mark.parametrize("url", [
    "/api/v1/qc/scorecard?centre=SH%0001",
    "/api/v1/submissions?centre=%00",
    "/api/beacon/v2/g_variants?referenceName=1%00&start=100",
])
def test_a_nul_in_the_url_is_refused_with_the_error_shape(as_user, url):
    r = as_user("admin").get(url)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["kind"] == "invalid_input" and "NUL" in error["what"]
    assert error["where"] == "query string" and "%00" in error["hint"]
    assert as_user("admin").get("/api/v1/qc/scorecard?centre=SH01").status_code == 200


def test_a_nul_in_a_json_body_is_a_client_error_on_every_engine(anonymous):
    r = anonymous.post("/api/v1/auth/login",
                       json={"username": "ad\u0000min", "password": "whatever-long-1"})
    assert r.status_code == 422  # refused before any lookup or audit entry
    assert r.json()["error"]["where"] == "body.username"
    assert anonymous.get("/api/v1/auth/me").status_code == 401  # still serving


def test_the_audit_log_stores_what_a_caller_typed_and_its_chain_verifies(ops_of):
    seq = audit.record(ops_of, actor="someone\x00else", action="login", outcome="fail",
                       detail={"typed": ["a\x00b", {"k\x00": "v"}]})
    event = next(e for e in audit.events(ops_of, limit=5) if e.seq == seq)
    assert event.actor == "someone\ufffdelse"
    assert event.detail == {"typed": ["a\ufffdb", {"k\ufffd": "v"}]}
    assert audit.verify(ops_of).ok
