"""Safe administration (issue 17, item 6): several roles per user, least privilege for a
new user, disabling, unlocking and password resets, refusals an administrator cannot
slip past (their own admin role, their own account), and ``user.change`` audit entries
that say what changed; the audit log's filters, paging and CSV export. On SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from fastapi.testclient import TestClient

from platform_home import PASSWORD, signed_in
from precimed.ops import audit

USERS = "/api/v1/admin/users"
AUDIT = "/api/v1/admin/audit"
NEW_PASSWORD = "tidal-lantern-quarry-95"


def _id(admin: TestClient, username: str) -> int:
    return next(u["id"] for u in admin.get(USERS).json() if u["username"] == username)


def _login(app, username: str, password: str) -> int:
    return TestClient(app).post("/api/v1/auth/login", json={
        "username": username, "password": password}).status_code


def _changes(admin: TestClient, username: str) -> list[dict]:
    r = admin.get(AUDIT, params={"action": "user.change", "resource": f"user {username}"})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_new_user_has_least_privilege_and_keeps_several_roles(fresh):
    admin = signed_in(fresh, "admin")
    r = admin.post(USERS, json={"username": "ana", "password": NEW_PASSWORD})
    assert r.status_code == 201, r.text
    assert (r.json()["roles"], r.json()["centres"], r.json()["active"]) == ([], [], True)
    ana = signed_in(fresh, "ana", NEW_PASSWORD)  # signs in, and may do nothing
    assert ana.get("/api/v1/dashboard").status_code == 403
    created = admin.get(AUDIT, params={"action": "user.create", "resource": "user ana"}).json()
    assert created[0]["detail"]["after"] == {"roles": [], "centres": [], "active": True}

    user_id = _id(admin, "ana")
    r = admin.patch(f"{USERS}/{user_id}", json={"roles": ["researcher", "reviewer"]})
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["researcher", "reviewer"]
    r = admin.patch(f"{USERS}/{user_id}", json={"roles": ["researcher", "reviewer", "clinician"],
                                                "centres": ["SH01", "JS01"]})
    assert r.status_code == 200, r.text
    assert next(u for u in admin.get(USERS).json() if u["username"] == "ana")["roles"] == [
        "researcher", "reviewer", "clinician"]
    latest, first = _changes(admin, "ana")
    assert first["detail"]["before"]["roles"] == []
    assert first["detail"]["after"]["roles"] == ["researcher", "reviewer"]
    assert first["detail"]["changed"] == ["roles"]
    assert latest["detail"]["before"] == {"roles": ["researcher", "reviewer"], "centres": [],
                                          "active": True}
    assert latest["detail"]["after"]["centres"] == ["SH01", "JS01"]
    assert latest["detail"]["changed"] == ["roles", "centres"]
    assert latest["actor"] == "admin" and latest["outcome"] == "ok"


def test_centre_scoped_roles_and_weak_passwords_are_refused_in_words(fresh):
    admin = signed_in(fresh, "admin")
    r = admin.post(USERS, json={"username": "shorty", "password": "short"})
    # the strength check answers, not the schema: 400 on the password, with what to do
    assert r.status_code == 400, r.text
    assert r.json()["error"]["where"] == "password"
    assert "12 characters" in r.json()["error"]["hint"]
    assert _id_or_none(admin, "shorty") is None
    r = admin.post(USERS, json={"username": "bea", "password": NEW_PASSWORD})
    user_id = r.json()["id"]
    r = admin.patch(f"{USERS}/{user_id}", json={"roles": ["data_manager"]})
    assert r.status_code == 400 and r.json()["error"]["where"] == "centres", r.text
    refused = admin.get(AUDIT, params={"action": "user.change", "resource": "user bea"}).json()
    assert refused[0]["outcome"] == "deny" and refused[0]["detail"]["where"] == "centres"
    assert next(u for u in admin.get(USERS).json() if u["username"] == "bea")["roles"] == []


def _id_or_none(admin: TestClient, username: str) -> int | None:
    return next((u["id"] for u in admin.get(USERS).json() if u["username"] == username), None)


def test_an_admin_cannot_remove_their_own_admin_role_or_disable_themselves(fresh):
    admin = signed_in(fresh, "admin")
    me = _id(admin, "admin")
    r = admin.patch(f"{USERS}/{me}", json={"roles": ["researcher"]})
    assert r.status_code == 409 and r.json()["error"]["where"] == "roles", r.text
    r = admin.patch(f"{USERS}/{me}", json={"active": False})
    assert r.status_code == 409 and r.json()["error"]["where"] == "active", r.text
    r = admin.post(f"{USERS}/{me}/password", json={})
    assert r.status_code == 409 and r.json()["error"]["where"] == "password", r.text
    # adding a role to oneself is fine; the admin role stays
    r = admin.patch(f"{USERS}/{me}", json={"roles": ["admin", "dac"]})
    assert r.status_code == 200 and r.json()["roles"] == ["admin", "dac"]
    assert admin.get("/api/v1/auth/me").json()["roles"] == ["admin", "dac"]
    denied = [e for e in _changes(admin, "admin") if e["outcome"] == "deny"]
    assert {e["detail"]["where"] for e in denied} == {"roles", "active", "password"}
    # another administrator can remove it
    admin.post(USERS, json={"username": "admin2", "password": NEW_PASSWORD,
                            "roles": ["admin"]})
    other = signed_in(fresh, "admin2", NEW_PASSWORD)
    assert other.patch(f"{USERS}/{me}", json={"roles": ["dac"]}).status_code == 200


@pytest.mark.slow
def test_disable_enable_reset_and_unlock(fresh):
    admin = signed_in(fresh, "admin")
    admin.post(USERS, json={"username": "cai", "password": NEW_PASSWORD,
                            "roles": ["researcher"]})
    user_id = _id(admin, "cai")
    session = signed_in(fresh, "cai", NEW_PASSWORD)
    assert admin.patch(f"{USERS}/{user_id}", json={"active": False}).status_code == 200
    assert session.get("/api/v1/auth/me").status_code == 401
    assert _login(fresh, "cai", NEW_PASSWORD) == 401
    assert admin.patch(f"{USERS}/{user_id}", json={"active": True}).status_code == 200
    disabled, enabled = _changes(admin, "cai")[1], _changes(admin, "cai")[0]
    assert (disabled["detail"]["before"]["active"], disabled["detail"]["after"]["active"]) == (
        True, False)
    assert disabled["detail"]["sessions_and_tokens"] == "revoked"
    assert enabled["detail"]["changed"] == ["active"]

    # a one-time password, answered once; the old sessions end
    session = signed_in(fresh, "cai", NEW_PASSWORD)
    r = admin.post(f"{USERS}/{user_id}/password", json={})
    assert r.status_code == 200, r.text
    one_time = r.json()["password"]
    assert len(one_time) >= 16 and one_time not in str(_changes(admin, "cai"))
    assert session.get("/api/v1/auth/me").status_code == 401
    assert _login(fresh, "cai", NEW_PASSWORD) == 401
    assert _login(fresh, "cai", one_time) == 200
    reset = _changes(admin, "cai")[0]["detail"]
    assert reset["password"] == "reset" and reset["sessions_and_tokens"] == "revoked"
    # a temporary one the administrator sets; a weak one is refused
    r = admin.post(f"{USERS}/{user_id}/password", json={"password": "password1234"})
    assert r.status_code == 400 and r.json()["error"]["where"] == "password"
    r = admin.post(f"{USERS}/{user_id}/password", json={"password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["password"] is None

    for _ in range(5):
        _login(fresh, "cai", "wrong-password-x")
    assert next(u for u in admin.get(USERS).json() if u["username"] == "cai")["locked"]
    assert _login(fresh, "cai", NEW_PASSWORD) == 429
    r = admin.post(f"{USERS}/{user_id}/unlock")
    assert r.status_code == 200 and r.json()["locked"] is False
    assert _login(fresh, "cai", NEW_PASSWORD) == 200
    unlock = admin.get(AUDIT, params={"action": "login.unlock", "resource": "user cai"}).json()
    assert unlock[0]["detail"] == {"was_locked": True} and unlock[0]["actor"] == "admin"


def test_only_administrators_change_accounts(fresh):
    dm = signed_in(fresh, "dm_sh01")
    admin = signed_in(fresh, "admin")
    other = _id(admin, "dm_js01")
    assert dm.post(f"{USERS}/{other}/password", json={}).status_code == 403
    assert dm.post(f"{USERS}/{other}/unlock").status_code == 403
    assert dm.patch(f"{USERS}/{other}", json={"active": False}).status_code == 403
    assert dm.get(f"{AUDIT}.csv").status_code == 403
    assert _login(fresh, "dm_js01", PASSWORD) == 200


@pytest.mark.slow
def test_the_audit_log_filters_pages_and_exports(fresh):
    admin = signed_in(fresh, "admin")
    for name in ("dee", "eve"):
        admin.post(USERS, json={"username": name, "password": NEW_PASSWORD})
    _login(fresh, "=1+1", "wrong-password-x")  # a formula typed as a user name
    ops = fresh.state.platform.ops
    total = audit.count(ops)
    r = admin.get(AUDIT, params={"limit": 3})
    assert r.headers["X-Total-Count"] == str(total + 1)  # this request's permission event
    r = admin.get(AUDIT, params={"action": "user.create"})
    assert [e["resource"] for e in r.json()] == ["user eve", "user dee"]
    assert r.headers["X-Total-Count"] == "2"
    r = admin.get(AUDIT, params={"action": "user.create", "limit": 1, "offset": 1})
    assert [e["resource"] for e in r.json()] == ["user dee"]
    assert admin.get(AUDIT, params={"resource": "USER DE"}).json()[0]["resource"] == "user dee"
    assert {e["actor"] for e in admin.get(AUDIT, params={"actor": "=1+1"}).json()} == {"=1+1"}
    today = dt.datetime.now(dt.UTC).date()
    assert admin.get(AUDIT, params={"action": "user.create", "since": str(today),
                                    "until": str(today)}).headers["X-Total-Count"] == "2"
    later = admin.get(AUDIT, params={"since": str(today + dt.timedelta(days=1))})
    assert later.json() == [] and later.headers["X-Total-Count"] == "0"
    assert admin.get(AUDIT, params={"until": str(today - dt.timedelta(days=1))}).json() == []
    assert admin.get(AUDIT, params={"since": "yesterday"}).status_code == 422

    r = admin.get(f"{AUDIT}.csv", params={"action": "user.create"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["resource"] for row in rows] == ["user dee", "user eve"]  # oldest first
    assert '"after"' in rows[0]["detail"]
    r = admin.get(f"{AUDIT}.csv", params={"actor": "=1+1"})
    assert {row["actor"] for row in csv.DictReader(io.StringIO(r.text))} == {"'=1+1"}
    exports = admin.get(AUDIT, params={"action": "audit.export"}).json()
    assert exports[0]["actor"] == "admin" and exports[0]["detail"] == {"actor": "=1+1"}


@pytest.mark.slow
def test_the_audit_page_filters_and_pages_for_the_committee(fresh):
    admin = signed_in(fresh, "admin")
    admin.post(USERS, json={"username": "dac1", "password": NEW_PASSWORD, "roles": ["dac"]})
    for i in range(52):
        _login(fresh, f"nobody{i:02d}", "wrong-password-x")
    dac = signed_in(fresh, "dac1", NEW_PASSWORD)
    page = dac.get("/admin", params={"action": "login", "resource": "", "since": "not-a-day",
                                     "lang": "en"})
    assert page.status_code == 200
    assert 'id="user-table"' not in page.text  # users are the administrators' only
    assert "Page 1 of 2, 54 events" in page.text  # 52 failures, admin's and dac1's sign-in
    assert 'id="audit-next" href="?action=login&amp;page=2"' in page.text
    assert "/api/v1/admin/audit.csv?action=login" in page.text
    second = dac.get("/admin", params={"action": "login", "page": 2, "lang": "en"})
    assert "Page 2 of 2, 54 events" in second.text and "audit-previous" in second.text
    # the oldest three failures and the admin's sign-in
    assert second.text.count('data-outcome="fail"') == 3
    assert second.text.count('data-outcome="ok"') == 1
    csv_text = dac.get(f"{AUDIT}.csv", params={"action": "login"}).text
    assert len(csv_text.strip().splitlines()) == 55  # the header and 54 events
    zh = dac.get("/admin", params={"actor": "nobody00", "lang": "zh"})
    assert "第 1 / 1 页，共 1 条" in zh.text and "失败" in zh.text
