"""POST /api/v1/participants/erase on SQLite and PostgreSQL: refusals change nothing and
are audited; a centre's own data manager erases a participant with endpoint work, whose
candidates and decisions leave the operational database, and the release made before is
marked."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from platform_home import copy_ops, settings_for, signed_in
from precimed.api.app import create_app
from precimed.lake import Lake
from precimed.ops import audit
from precimed.ops.db import EndpointCandidate


def sh01_person_with_candidates(ops) -> str:
    with ops.session() as session:
        return session.scalars(select(EndpointCandidate.pseudonym).where(
            EndpointCandidate.centre == "SH01").limit(1)).one()


def test_refusals_change_nothing_and_are_audited(as_user, ops_of, app):
    person = sh01_person_with_candidates(ops_of)
    version = Lake(app.state.platform.settings.lake_dir).catalog().version
    cases = [("researcher", {"identifier": person, "centre": "SH01"}, 403),
             ("dm_js01", {"identifier": person, "centre": "JS01"}, 404),
             ("dm_js01", {"identifier": person, "centre": "SH01"}, 404),
             ("dm_sh01", {"identifier": person}, 400),  # a scoped user names the centre
             ("admin", {"identifier": "not-an-id"}, 400),
             ("admin", {"identifier": "0" * 32}, 404)]
    for user, body, status in cases:
        r = as_user(user).post("/api/v1/participants/erase", json=body)
        assert r.status_code == status, (user, body, r.text)
        assert person not in r.text
    assert Lake(app.state.platform.settings.lake_dir).catalog().version == version
    denied = [e for e in audit.events(ops_of, limit=200, action="erase")
              if e.outcome == "deny"]
    assert denied and person not in str([(e.resource, e.detail) for e in denied])


@pytest.fixture
def own_app(backend, released_home, tmp_path, request):
    """A copy of the released home (lake and ops database) this test may change."""
    home = tmp_path / "home"
    shutil.copytree(released_home, home, ignore=shutil.ignore_patterns("cache"))
    url = ""
    if backend[0] == "postgresql":
        url = request.getfixturevalue("postgres_server")()
        copy_ops(settings_for(home).database_url, url)
    app = create_app(settings_for(home, url))
    yield app
    app.state.platform.close()


@pytest.mark.slow
def test_a_centres_data_manager_erases_their_participant(own_app):
    ops = own_app.state.platform.ops
    person = sh01_person_with_candidates(ops)
    r = signed_in(own_app, "dm_sh01").post("/api/v1/participants/erase",
                                          json={"identifier": person, "centre": "SH01"})
    assert r.status_code == 200, r.text
    assert r.json()["people"] == 1 and r.json()["centre"] == "SH01"
    with ops.session() as session:
        left = session.scalars(select(EndpointCandidate).where(
            EndpointCandidate.pseudonym == person)).all()
    assert left == []
    lake = Lake(own_app.state.platform.settings.lake_dir)
    now = lake.snapshot().including_withdrawn().to_arrow("participant", columns=["pseudonym"])
    assert person not in set(now.column("pseudonym").to_pylist())
    admin = signed_in(own_app, "admin")
    assert {r["name"]: r["holds_withdrawn"] for r in
            admin.get("/api/v1/releases").json()} == {"r1": True}
