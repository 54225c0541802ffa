"""An internal error answers 500 with a reference id only: no traceback, no data; the
traceback goes to the server log under that reference; the server keeps serving."""

from __future__ import annotations

import logging

from fastapi import Depends
from fastapi.testclient import TestClient

from platform_home import settings_for
from precimed.api.app import create_app
from precimed.api.deps import require
from precimed.home import initialise


def test_an_internal_error_reports_a_reference_and_nothing_else(tmp_path, caplog):
    settings = settings_for(tmp_path / "home")
    initialise(settings)
    app = create_app(settings)

    def broken(thing: str, _=Depends(require("dictionary.read"))):
        raise RuntimeError("secret row value 310101199001011234")

    app.add_api_route("/api/v1/broken/{thing}", broken)
    from precimed.ops import accounts

    accounts.create_user(app.state.platform.ops, "someone", "a-long-password-1",
                         roles=["researcher"])
    client = TestClient(app, raise_server_exceptions=False)
    client.post("/api/v1/auth/login", json={"username": "someone",
                                            "password": "a-long-password-1"})
    with caplog.at_level(logging.ERROR, logger="precimed.api"):
        r = client.get("/api/v1/broken/p-4f0c2a9d")  # a path can hold a pseudonym
    assert r.status_code == 500
    error = r.json()["error"]
    assert error["kind"] == "internal" and "310101" not in r.text and "Traceback" not in r.text
    reference = error["hint"].split("reference ")[1].split()[0]
    logged = next(rec.getMessage() for rec in caplog.records if reference in rec.getMessage())
    assert "/api/v1/broken/{thing}" in logged and "p-4f0c2a9d" not in logged
    assert client.get("/api/v1/auth/me").status_code == 200  # still serving
