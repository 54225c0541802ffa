"""Recording a follow-up contact from the worklist (POST /api/v1/followup/contacts), on a
copy of the released home per test (it writes to the lake), on both ops backends."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from platform_home import copy_ops, settings_for, signed_in
from precimed.api.app import create_app
from precimed.lake import Lake
from precimed.ops import audit

URL = "/api/v1/followup/contacts"


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


def _worklist(client, centre="SH01") -> dict:
    r = client.get(f"/api/v1/followup/worklist?centre={centre}&limit=5000")
    assert r.status_code == 200, r.text
    return r.json()


def _version(app) -> int:
    return Lake(app.state.platform.settings.lake_dir).catalog().version


@pytest.mark.slow
def test_a_data_manager_records_a_reached_contact_and_the_worklist_shows_it(own_app):
    dm = signed_in(own_app, "dm_sh01")
    before = _worklist(dm)
    row = next(r for r in before["rows"] if r["last_outcome"] != "reached")
    body = {"centre": "SH01", "pseudonym": row["pseudonym"], "wave": row["wave"],
            "contact_date": before["as_of"], "method": "phone", "outcome": "reached"}
    version = _version(own_app)
    r = dm.post(URL, json=body)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["shows"] == "now" and done["lake_version"] == version + 1
    assert _version(own_app) == version + 1

    after = _worklist(dm)
    now = [x for x in after["rows"] if x["pseudonym"] == row["pseudonym"]]
    # reached at their overdue wave: off the list, or overdue at a later wave
    assert not now or (now[0]["wave"] > row["wave"] and now[0]["last_outcome"] == "reached")
    assert after["overdue"] <= before["overdue"]
    assert after["computed_on"]["lake_version"] == version + 1

    event = audit.events(own_app.state.platform.ops, limit=20, action="followup.contact")[0]
    assert event.outcome == "ok" and event.actor == "dm_sh01"
    assert row["pseudonym"] not in str(event.detail) + event.resource


@pytest.mark.slow
def test_a_second_outcome_for_the_same_attempt_updates_it(own_app):
    dm = signed_in(own_app, "dm_sh01")
    work = _worklist(dm)
    row = work["rows"][0]
    body = {"centre": "SH01", "pseudonym": row["pseudonym"], "wave": row["wave"],
            "contact_date": work["as_of"], "method": "in_person", "outcome": "not_reached"}
    assert dm.post(URL, json=body).json()["updated"] is False
    again = dm.post(URL, json={**body, "outcome": "refused"}).json()
    assert again["updated"] is True
    shown = next(x for x in _worklist(dm)["rows"] if x["pseudonym"] == row["pseudonym"])
    assert shown["last_outcome"] == "refused"


@pytest.mark.slow
def test_bad_contacts_are_refused_and_nothing_changes(own_app):
    dm = signed_in(own_app, "dm_sh01")
    work = _worklist(dm)
    row = work["rows"][0]
    theirs = _worklist(signed_in(own_app, "admin"), "JS01")["rows"][0]["pseudonym"]
    cut = dt.date.fromisoformat(work["as_of"])
    good = {"centre": "SH01", "pseudonym": row["pseudonym"], "wave": row["wave"],
            "contact_date": work["as_of"], "method": "phone", "outcome": "reached"}
    version = _version(own_app)
    cases = [
        ("dm_sh01", {"contact_date": (cut + dt.timedelta(days=1)).isoformat()}, 400,
         "contact_date"),
        ("dm_sh01", {"outcome": "happy"}, 400, "outcome"),
        ("dm_sh01", {"method": "pigeon"}, 400, "method"),
        ("dm_sh01", {"wave": 0}, 400, "wave"),
        ("dm_sh01", {"pseudonym": theirs}, 404, "pseudonym"),  # another centre's person
        ("dm_sh01", {"centre": "JS01", "pseudonym": theirs}, 404, "centre"),
        ("dm_js01", {}, 404, "centre"),  # another centre's staff
        ("admin", {}, 403, "centre"),  # not the centre's own staff
        ("researcher", {}, 403, ""),
    ]
    for user, change, status, where in cases:
        r = signed_in(own_app, user).post(URL, json={**good, **change})
        assert r.status_code == status, (user, change, r.text)
        error = r.json()["error"]
        assert error["what"] and error["hint"], error
        if where:
            assert error["where"] == where, (change, error)
        assert row["pseudonym"] not in r.text and theirs not in r.text
    assert _version(own_app) == version
    assert _worklist(dm)["rows"][0] == row
    denied = [e for e in audit.events(own_app.state.platform.ops, limit=50,
                                      action="followup.contact") if e.outcome == "deny"]
    assert len(denied) >= 7
    assert not any(row["pseudonym"] in str(e.detail) for e in denied)
