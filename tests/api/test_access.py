"""Who may do what, on SQLite and PostgreSQL: 401 without a session, 403 for a role
without the permission, 404 for another centre's or another user's objects (OWASP API1),
and every /api/v1 route behind the one permission gate."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from precimed.ops.roles import ROLE_PERMISSIONS

DEFINITION = {"format": "precimed-cohort", "version": 1, "name": "women 40-70",
              "criteria": [{"kind": "participant", "field": "sex", "values": ["2"]},
                           {"kind": "age", "min": 40, "max": 70}]}
OPEN = {"/api/v1/auth/login", "/api/v1/auth/logout"}


def _routes(app):
    return [r for r in app.routes if isinstance(r, APIRoute) and r.path.startswith("/api/v1")]


def test_every_api_route_declares_a_permission(app):
    for route in _routes(app):
        if route.path in OPEN:
            continue
        gates = [d.call.__name__ for d in route.dependant.dependencies
                 if d.call.__name__.startswith("require_")]
        assert len(gates) == 1, f"{route.methods} {route.path} has no permission gate"


def test_signed_out_callers_get_401_everywhere(app, anonymous):
    for route in _routes(app):
        if route.path in OPEN:
            continue
        path = route.path.replace("{", "").replace("}", "")  # any id: the gate comes first
        for method in route.methods:
            r = anonymous.request(method, path, json={})
            assert r.status_code == 401, f"{method} {path}: {r.status_code}"
            assert r.json()["error"]["kind"] == "unauthenticated"


@pytest.mark.parametrize(("user", "method", "path", "permission"), [
    ("researcher", "GET", "/api/v1/admin/users", "users.manage"),
    ("researcher", "GET", "/api/v1/admin/audit", "audit.read"),
    ("dm_sh01", "GET", "/api/v1/admin/users", "users.manage"),
    ("dm_sh01", "GET", "/api/v1/endpoints/candidates", "endpoints.review"),
    ("reviewer", "GET", "/api/v1/submissions", "submissions.read"),
    ("reviewer", "POST", "/api/v1/cohorts/count", "cohorts.count"),
    ("researcher", "POST", "/api/v1/cohorts/extract", "cohorts.extract"),
    ("dac", "GET", "/api/v1/admin/users", "users.manage"),
    ("clinician", "GET", "/api/v1/followup/worklist?centre=SH01", None),
])
def test_roles_without_the_permission_get_403(as_user, user, method, path, permission):
    r = as_user(user).request(method, path, json={"definition": DEFINITION,
                                                  "variables": ["sex"], "purpose": "test"})
    if permission is None:  # allowed: the clinician of SH01 works its worklist
        assert r.status_code == 200, r.text
        return
    assert permission not in ROLE_PERMISSIONS[user.split("_")[0].replace("dm", "data_manager")
                                               if user.startswith("dm") else
                                               user.rstrip("2").split("_")[0]]
    assert r.status_code == 403, r.text
    assert r.json()["error"]["kind"] == "forbidden"


def test_a_data_manager_sees_only_their_centres_submissions(as_user, ops_of):
    mine = as_user("dm_sh01").get("/api/v1/submissions").json()
    assert mine and {s["centre"] for s in mine} == {"SH01"}
    other = next(s for s in ops_of.submissions() if s.centre != "SH01")
    for path in (f"/api/v1/submissions/{other.id}", f"/api/v1/submissions/{other.id}/report"):
        r = as_user("dm_sh01").get(path)
        assert r.status_code == 404  # the same answer as an id that does not exist
        assert r.json()["error"]["kind"] == "not_found"
    assert as_user("dm_sh01").get(f"/api/v1/submissions/{mine[0]['id']}").status_code == 200
    assert as_user("dm_sh01").get("/api/v1/submissions?centre=JS01").status_code == 404
    assert as_user("dm_sh01").get("/api/v1/qc/scorecard?centre=JS01").status_code == 404
    card = as_user("dm_sh01").get("/api/v1/qc/scorecard").json()
    assert card and {row["centre"] for row in card} == {"SH01"}


def test_worklists_and_retention_are_scoped_to_the_users_centres(as_user):
    assert as_user("dm_sh01").get("/api/v1/followup/worklist?centre=JS01").status_code == 404
    ok = as_user("dm_sh01").get("/api/v1/followup/worklist?centre=SH01")
    assert ok.status_code == 200
    retention = as_user("dm_sh01").get("/api/v1/followup/retention").json()
    assert {r["centre"] for r in retention["centres"]} == {"SH01"}
    everyone = as_user("admin").get("/api/v1/followup/retention").json()
    assert len({r["centre"] for r in everyone["centres"]}) > 10


def test_a_scoped_reviewer_cannot_reach_other_centres_candidates(as_user, ops_of):
    from precimed.cohorts import adjudication

    queue = adjudication.queue(ops_of, status=None)
    other = next(c for c in queue if c.centre != "SH01")
    decided = len(adjudication.history(ops_of, other.id))
    r = as_user("reviewer_sh01").get(f"/api/v1/endpoints/candidates/{other.id}")
    assert r.status_code == 404
    r = as_user("reviewer_sh01").post(f"/api/v1/endpoints/candidates/{other.id}/decision",
                                      json={"to_status": "rejected", "reason": "probe"})
    assert r.status_code == 404
    assert len(adjudication.history(ops_of, other.id)) == decided  # nothing was decided
    seen = as_user("reviewer_sh01").get("/api/v1/endpoints/candidates?status=all").json()
    seen = seen["rows"]
    assert seen and {c["centre"] for c in seen} == {"SH01"}


def test_saved_cohorts_belong_to_their_owner(as_user):
    mine = as_user("researcher").post("/api/v1/cohorts/saved",
                                      json={"name": "mine", "definition": DEFINITION})
    assert mine.status_code == 201
    cohort_id = mine.json()["id"]
    thief = as_user("researcher2")
    assert thief.get(f"/api/v1/cohorts/saved/{cohort_id}").status_code == 404
    assert thief.put(f"/api/v1/cohorts/saved/{cohort_id}",
                     json={"name": "stolen", "definition": DEFINITION}).status_code == 404
    assert thief.delete(f"/api/v1/cohorts/saved/{cohort_id}").status_code == 404
    assert all(s["id"] != cohort_id for s in thief.get("/api/v1/cohorts/saved").json())
    owner = as_user("researcher").get(f"/api/v1/cohorts/saved/{cohort_id}").json()
    assert owner["name"] == "mine" and owner["definition"]["criteria"] == DEFINITION["criteria"]


def test_api_tokens_work_for_scripts_and_can_be_revoked(as_user, anonymous):
    import uuid

    name = f"script-{uuid.uuid4().hex[:8]}"
    issued = as_user("researcher").post("/api/v1/auth/tokens", json={"name": name}).json()
    header = {"Authorization": f"Bearer {issued['token']}"}
    me = anonymous.get("/api/v1/auth/me", headers=header)
    assert me.status_code == 200 and me.json()["username"] == "researcher"
    listed = as_user("researcher").get("/api/v1/auth/tokens").json()
    token_id = next(t["id"] for t in listed if t["name"] == name)
    assert "token" not in listed[0]  # the secret is shown once only
    assert as_user("researcher2").delete(f"/api/v1/auth/tokens/{token_id}").status_code == 404
    assert as_user("researcher").delete(f"/api/v1/auth/tokens/{token_id}").status_code == 200
    assert anonymous.get("/api/v1/auth/me", headers=header).status_code == 401
    assert anonymous.get("/api/v1/auth/me", headers={"Authorization": "Bearer nonsense"}
                         ).status_code == 401


def test_jobs_are_visible_only_to_who_started_them(as_user, ops_of):
    import datetime as dt

    from sqlalchemy import text

    from precimed.ops.db import Job

    with ops_of.session() as session, session.begin():
        owner = session.execute(
            text("SELECT id FROM user_account WHERE username = 'dm_js01'")).scalar_one()
        session.merge(Job(id="job-of-js01", kind="submission", owner_id=owner, centre="JS01",
                          status="done", progress=[], created_at=dt.datetime.now(dt.UTC)))
    assert as_user("dm_sh01").get("/api/v1/jobs/job-of-js01").status_code == 404
    assert as_user("dm_js01").get("/api/v1/jobs/job-of-js01").status_code == 200


def test_errors_have_one_shape(as_user, anonymous):
    for r in (anonymous.get("/api/v1/no/such/route"),
              as_user("researcher").post("/api/v1/cohorts/count", json={"definition": {}}),
              as_user("researcher").post("/api/v1/cohorts/count", content=b"{not json",
                                         headers={"Content-Type": "application/json"}),
              as_user("researcher").get("/api/v1/dictionary/tables/nope")):
        error = r.json()["error"]
        assert set(error) == {"kind", "what", "where", "hint"}, r.text
        assert r.status_code in {400, 404, 422}
    bad = as_user("researcher").post("/api/v1/cohorts/count", json={"definition": {
        **DEFINITION, "criteria": [{"kind": "measurement", "code": "SBP", "min": "high"}]}})
    assert bad.status_code == 400
    assert "min" in bad.json()["error"]["what"] and "criterion 1" in bad.json()["error"]["where"]
