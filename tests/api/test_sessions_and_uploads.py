"""Sign-in, sessions and the rate limit; uploading a submission through the API; what
every aggregate shows below the disclosure threshold. Each on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from platform_home import PASSWORD, signed_in
from precimed.synth import synthesise


def test_the_session_cookie_is_httponly_and_samesite(fresh):
    client = TestClient(fresh, raise_server_exceptions=False)
    r = client.post("/api/v1/auth/login", json={"username": "dm_sh01", "password": PASSWORD})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert client.get("/api/v1/auth/me").json()["centres"] == ["SH01"]
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": r.json()["csrf_token"]})
    assert client.get("/api/v1/auth/me").status_code == 401


def test_sign_in_is_rate_limited_per_account(fresh):
    client = TestClient(fresh, raise_server_exceptions=False)
    for _ in range(5):
        r = client.post("/api/v1/auth/login", json={"username": "dm_js01", "password": "nope"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "dm_js01", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"]["kind"] == "rate_limited"
    # another account is not locked by it
    assert client.post("/api/v1/auth/login", json={"username": "dm_sh01",
                                                   "password": PASSWORD}).status_code == 200


def _zip(folder: Path, *, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in folder.rglob("*"):
            if path.is_file():
                z.write(path, f"{folder.name}/{path.relative_to(folder)}")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sh01_package(tmp_path_factory):
    out = tmp_path_factory.mktemp("upload")
    return synthesise(out, participants_count=40, seed=11, centres=("SH01",)).packages["SH01"]


def _wait(client: TestClient, job: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/jobs/{job}").json()
        if state["status"] in {"done", "failed"}:
            return state
        time.sleep(0.3)
    raise AssertionError(f"job {job} did not finish: {state}")


@pytest.mark.slow  # a package through the upload job and QC: 4.8 s CPU on SQLite
def test_a_data_manager_uploads_and_reads_the_qc_report(fresh, sh01_package):
    client = signed_in(fresh, "dm_sh01")
    r = client.post("/api/v1/submissions",
                    files={"file": ("sh01.zip", _zip(sh01_package), "application/zip")})
    assert r.status_code == 202, r.text
    state = _wait(client, r.json()["job"])
    assert state["status"] == "done" and state["progress"], state
    submission = client.get(f"/api/v1/submissions/{state['submission_id']}").json()
    assert submission["status"] == "committed" and submission["verdict"] == "pass"
    assert submission["rows"]["participant"] == 40
    report = client.get(f"/api/v1/submissions/{state['submission_id']}/report")
    assert report.status_code == 200 and "<html" in report.text.lower()
    # the other centre's manager cannot see it, nor the job
    other = signed_in(fresh, "dm_js01")
    assert other.get(f"/api/v1/submissions/{state['submission_id']}").status_code == 404
    assert other.get(f"/api/v1/jobs/{r.json()['job']}").status_code == 404
    incoming = Path(fresh.state.platform.settings.home) / "incoming" / "web"
    assert not any(incoming.iterdir())  # the unpacked upload is removed


def test_uploading_another_centres_package_is_refused(fresh, sh01_package):
    client = signed_in(fresh, "dm_js01")
    r = client.post("/api/v1/submissions",
                    files={"file": ("sh01.zip", _zip(sh01_package), "application/zip")})
    assert r.status_code == 404  # a centre outside the user's scope
    assert fresh.state.platform.lake.catalog().submissions == {}


@pytest.mark.parametrize(("payload", "message"), [
    (b"not a zip at all", "not a zip"),
    ("traversal", "unsafe path"),
    ("empty", "no manifest"),
])
def test_bad_uploads_get_a_clear_error_and_change_nothing(fresh, sh01_package, payload,
                                                          message):
    if payload == "traversal":
        payload = _zip(sh01_package, extra={"../../escape.txt": b"x"})
    elif payload == "empty":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("readme.txt", "no package here")
        payload = buffer.getvalue()
    client = signed_in(fresh, "dm_sh01")
    r = client.post("/api/v1/submissions", files={"file": ("x.zip", payload,
                                                           "application/zip")})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert message in error["what"].lower() and error["hint"]
    home = Path(fresh.state.platform.settings.home)
    assert not (home.parent / "escape.txt").exists() and not (home / "escape.txt").exists()
    assert fresh.state.platform.lake.catalog().submissions == {}
    assert client.get("/api/v1/auth/me").status_code == 200  # still serving
