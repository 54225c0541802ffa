"""Cross-site requests, security headers and cookie flags (issue 16, failure 8): a state
change with the session cookie must come from the platform's own origin and carry the
session's CSRF token; every page has a CSP with a per-request nonce and may not be framed;
cookies are Secure over TLS, behind a trusted TLS proxy, or when the setting says so.
Each on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from platform_home import PASSWORD, signed_in
from precimed.ops import accounts


def _cookie_only(app, username: str = "dm_sh01") -> TestClient:
    """Signed in by cookie, sending no CSRF token: what a forged cross-site form sends."""
    client = signed_in(app, username)
    del client.headers["X-CSRF-Token"]
    return client


def test_a_state_change_from_another_origin_is_refused(fresh):
    client = signed_in(fresh, "dm_sh01")
    evil = {"Origin": "https://evil.example"}
    r = client.post("/api/v1/auth/tokens", json={"name": "x"}, headers=evil)
    assert r.status_code == 403 and r.json()["error"]["kind"] == "forbidden"
    upload = client.post("/api/v1/submissions", headers=evil,
                         files={"file": ("x.zip", b"PK\x05\x06" + b"\0" * 18,
                                         "application/zip")})
    assert upload.status_code == 403
    # the referer stands in for a missing origin
    r = client.post("/api/v1/auth/tokens", json={"name": "x"},
                    headers={"Referer": "https://evil.example/page"})
    assert r.status_code == 403
    # a login form posted from elsewhere (login CSRF) too
    r = TestClient(fresh).post("/login", data={"username": "dm_sh01", "password": PASSWORD},
                               headers=evil, follow_redirects=False)
    assert r.status_code == 403
    assert accounts.tokens(fresh.state.platform.ops, 1) == []


def test_a_cookie_request_without_the_token_is_refused_and_with_it_accepted(fresh):
    bare = _cookie_only(fresh)
    r = bare.post("/api/v1/auth/tokens", json={"name": "forged"})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]["what"]
    r = bare.post("/api/v1/auth/tokens", json={"name": "forged"},
                  headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    # another session's token is not this one's
    other = signed_in(fresh, "dm_sh01").headers["X-CSRF-Token"]
    assert bare.post("/api/v1/auth/tokens", json={"name": "x"},
                     headers={"X-CSRF-Token": other}).status_code == 403
    mine = bare.get("/api/v1/auth/me").json()["csrf_token"]
    r = bare.post("/api/v1/auth/tokens", json={"name": "script"},
                  headers={"X-CSRF-Token": mine, "Origin": "http://testserver"})
    assert r.status_code == 201, r.text


def test_the_logout_form_carries_the_token_and_works(fresh):
    client = _cookie_only(fresh)
    page = client.get("/submissions")
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)
    assert f'<meta name="csrf-token" content="{token}">' in page.text
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert client.get("/api/v1/auth/me").status_code == 200  # still signed in
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/auth/me").status_code == 401


def test_bearer_tokens_need_no_csrf_token(fresh):
    token = signed_in(fresh, "dm_sh01").post("/api/v1/auth/tokens",
                                             json={"name": "s"}).json()["token"]
    script = TestClient(fresh)
    r = script.post("/api/v1/auth/tokens", json={"name": "t"},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201


def test_pages_get_a_nonce_csp_and_may_not_be_framed(fresh):
    client = signed_in(fresh, "dm_sh01")
    page = client.get("/submissions")
    policy = page.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy.split(
        "script-src")[1].split(";")[0]
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page.text)
    assert scripts and all(f'nonce="{nonce}"' in s for s in scripts)
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["x-content-type-options"] == "nosniff"
    second = client.get("/submissions").headers["content-security-policy"]
    assert second != policy  # a new nonce per response
    api = client.get("/api/v1/auth/me")
    assert "frame-ancestors 'none'" in api.headers["content-security-policy"]


def _session_cookie(response) -> str:
    return next(v for k, v in response.headers.multi_items()
                if k == "set-cookie" and v.startswith("precimed_session="))


def test_cookies_are_secure_behind_a_trusted_tls_proxy_or_by_setting(make_fresh):
    login = {"username": "dm_sh01", "password": PASSWORD}
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    plain = make_fresh()
    r = TestClient(plain).post("/api/v1/auth/login", json=login, headers=forwarded)
    assert "secure" not in _session_cookie(r).lower()  # nobody vouches for the header
    # the test client connects from "testclient": trusted as the proxy here
    proxied = make_fresh(trusted_proxies="testclient")
    r = TestClient(proxied).post("/api/v1/auth/login", json=login, headers=forwarded)
    assert "secure" in _session_cookie(r).lower()
    assert "strict-transport-security" in r.headers
    always = make_fresh(secure_cookies=True)
    r = TestClient(always).post("/api/v1/auth/login", json=login)
    assert "secure" in _session_cookie(r).lower()
