"""Project workspaces and output checking over the API, on SQLite and PostgreSQL:
extracts for members only, until expiry; outputs checked, reviewed and released."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json

import pytest

from platform_home import settings_for
from precimed.ops import audit
from projects_home import make_project


@pytest.fixture(scope="module")
def projects(app, ops_of, released_home):
    settings = settings_for(released_home)
    lake, on = settings.lake_dir, settings.as_of_given or dt.date.today()
    yesterday = on - dt.timedelta(days=1)
    return {
        "one": make_project(ops_of, lake, on=on, applicant="researcher"),
        "two": make_project(ops_of, lake, on=on, applicant="researcher"),
        "expired": make_project(ops_of, lake, on=on, applicant="researcher",
                                expires_on=yesterday),
        "revoked": make_project(ops_of, lake, on=on, applicant="researcher",
                                status="revoked"),
        "whole": make_project(ops_of, lake, on=on, applicant="researcher", definition=None,
                              variables=("age", "region", "SBP", "BMI")),
    }


@pytest.fixture(scope="module")
def extracts(as_user, projects):
    """One extract of each active project, as the researcher."""
    made = {}
    for name in ("one", "two"):
        r = as_user("researcher").post(f"/api/v1/projects/{projects[name]}/extracts",
                                       json={})
        assert r.status_code == 201, r.text
        made[name] = r.json()
    return made


def _csv(client, project, extract) -> list[dict]:
    r = client.get(f"/api/v1/projects/{project}/extracts/{extract}/data.csv")
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.text)))


def test_an_extract_has_project_ids_checksums_and_is_a_provision(as_user, projects,
                                                                   extracts, ops_of):
    client = as_user("researcher")
    got = extracts["one"]
    assert got["rows"] >= 10 and got["date_handling"] == "shifted"
    assert got["columns"][0] == "project_participant_id"
    rows = _csv(client, projects["one"], got["id"])
    assert len(rows) == got["rows"] and "pseudonym" not in rows[0]
    manifest = client.get(f"/api/v1/projects/{projects['one']}/extracts/{got['id']}/"
                          "manifest.json").json()
    for name in ("data.csv", "data.parquet"):
        body = client.get(f"/api/v1/projects/{projects['one']}/extracts/{got['id']}/{name}")
        assert hashlib.sha256(body.content).hexdigest() == manifest["files"][name]
    assert manifest["request"] == projects["one"] and manifest["release"] == "r1"
    workspace = client.get(f"/api/v1/projects/{projects['one']}").json()
    assert [e["id"] for e in workspace["extracts"]] == [got["id"]]
    actions = [(e.action, e.outcome) for e in audit.events(ops_of, limit=300)]
    assert ("sharing.provision", "ok") in actions and ("project.extract", "ok") in actions
    assert ("project.download", "ok") in actions


def test_a_project_approved_for_a_whole_dataset_extracts_its_cohort(as_user, projects):
    r = as_user("researcher").post(f"/api/v1/projects/{projects['whole']}/extracts",
                                   json={})
    assert r.status_code == 201, r.text
    assert set(r.json()["columns"]) >= {"project_participant_id", "age", "region", "SBP"}


def test_two_projects_extracts_share_no_id(as_user, projects, extracts):
    client = as_user("researcher")
    ids = [{r["project_participant_id"] for r in _csv(client, projects[n],
                                                      extracts[n]["id"])}
           for n in ("one", "two")]
    assert len(ids[0]) == len(ids[1]) > 0
    assert not ids[0] & ids[1]


def test_non_members_and_other_projects_extracts_are_not_found(as_user, projects,
                                                               extracts, ops_of):
    stranger = as_user("researcher2")
    for r in (stranger.get(f"/api/v1/projects/{projects['one']}"),
              stranger.post(f"/api/v1/projects/{projects['one']}/extracts", json={}),
              stranger.get(f"/api/v1/projects/{projects['one']}/extracts/"
                           f"{extracts['one']['id']}/data.csv")):
        assert r.status_code == 404, r.text
        assert r.json()["error"]["kind"] == "not_found"
    # project two's extract through project one's path: not there
    r = as_user("researcher").get(f"/api/v1/projects/{projects['one']}/extracts/"
                                  f"{extracts['two']['id']}/data.csv")
    assert r.status_code == 404
    denied = [e for e in audit.events(ops_of, limit=300, actor="researcher2")
              if e.action.startswith("project.") and e.outcome == "deny"]
    assert len(denied) >= 3


def test_an_expired_or_revoked_project_answers_403_with_a_hint(as_user, projects, ops_of):
    client = as_user("researcher")
    for name, word in (("expired", "expired"), ("revoked", "revoked")):
        for r in (client.get(f"/api/v1/projects/{projects[name]}"),
                  client.post(f"/api/v1/projects/{projects[name]}/extracts", json={})):
            assert r.status_code == 403, r.text
            assert word in r.json()["error"]["what"] and r.json()["error"]["hint"]
    denied = [e for e in audit.events(ops_of, limit=300, actor="researcher")
              if e.action.startswith("project.") and e.outcome == "deny"
              and e.resource == f"project {projects['expired']}"]
    assert denied


TABLE = "sex,n\n1,40\n2,3\n"


def _submit(client, project, content=TABLE, spec=None, kind="table", name="t.csv"):
    return client.post(f"/api/v1/projects/{project}/outputs",
                       data={"kind": kind, "title": "Counts by sex",
                             "spec": json.dumps(spec or {"by": ["sex"], "counts": ["n"]})},
                       files={"file": (name, content.encode(), "text/csv")})


def test_an_output_is_checked_reviewed_and_released(as_user, projects):
    researcher, dac = as_user("researcher"), as_user("dac")
    r = _submit(researcher, projects["one"])
    assert r.status_code == 201, r.text
    output = r.json()
    assert output["status"] == "submitted" and output["check"]["status"] == "protected"
    assert {f["rule"] for f in output["check"]["findings"]} >= {"threshold"}
    assert output["id"] in [o["id"] for o in dac.get("/api/v1/outputs").json()]
    assert researcher.get("/api/v1/outputs").status_code == 403
    assert researcher.post(f"/api/v1/outputs/{output['id']}/review",
                           json={"decision": "release"}).status_code == 403
    checked = dac.get(f"/api/v1/outputs/{output['id']}/checked").text
    assert "3" not in [row.get("n") for row in csv.DictReader(io.StringIO(checked))]
    r = dac.post(f"/api/v1/outputs/{output['id']}/review", json={"decision": "release"})
    assert r.status_code == 200 and r.json()["status"] == "released"
    again = dac.post(f"/api/v1/outputs/{output['id']}/review", json={"decision": "return",
                                                                     "reason": "late"})
    assert again.status_code == 409
    released = researcher.get(f"/api/v1/projects/{projects['one']}/outputs/{output['id']}/"
                              "released")
    assert released.status_code == 200 and released.text == checked
    assert hashlib.sha256(released.content).hexdigest() == r.json()["released_sha256"]


def test_a_failing_output_cannot_be_released_and_a_return_needs_a_reason(as_user, projects):
    researcher, dac = as_user("researcher"), as_user("dac")
    output = _submit(researcher, projects["one"], content="sex,n,secret\n1,40,x\n").json()
    assert output["check"]["status"] == "fail"
    r = dac.post(f"/api/v1/outputs/{output['id']}/review", json={"decision": "release"})
    assert r.status_code == 409
    r = dac.post(f"/api/v1/outputs/{output['id']}/review", json={"decision": "return"})
    assert r.status_code == 400 and r.json()["error"]["where"] == "reason"
    r = dac.post(f"/api/v1/outputs/{output['id']}/review",
                 json={"decision": "return", "reason": "declare the column 'secret'"})
    assert r.json()["status"] == "returned"


def test_outputs_of_closed_projects_and_bad_files_are_refused(as_user, projects):
    researcher = as_user("researcher")
    assert _submit(researcher, projects["expired"]).status_code == 403
    assert _submit(as_user("researcher2"), projects["one"]).status_code == 404
    r = _submit(researcher, projects["one"], kind="figure", name="plot.exe")
    assert r.status_code == 400 and r.json()["error"]["where"] == "file"


def test_a_centres_data_manager_lists_only_provisions_of_its_centres_datasets(
        app, as_user, projects, extracts, ops_of):
    from platform_home import PASSWORD, signed_in
    from precimed.errors import NotFound
    from precimed.ops import accounts

    year = app.state.platform.settings.action_date.year
    everything = as_user("dac").get("/api/v1/sharing/provisions",
                                    params={"year": year}).json()["provisions"]
    datasets = {p["dataset"] for p in everything}
    assert {e["dataset"] for e in extracts.values()} <= datasets
    owners = {d: as_user("admin").get(f"/api/v1/catalogue/{d}").json()["centres"]
              for d in datasets}
    try:
        accounts.principal_for(ops_of, "dm_gd01")
    except NotFound:
        accounts.create_user(ops_of, "dm_gd01", PASSWORD, roles=["data_manager"],
                             centres=["GD01"])
    for name, centre in (("dm_sh01", "SH01"), ("dm_gd01", "GD01")):
        client = as_user(name) if name == "dm_sh01" else signed_in(app, name)
        seen = client.get("/api/v1/sharing/provisions", params={"year": year})
        assert seen.status_code == 200, seen.text
        assert seen.json()["provisions"] == [p for p in everything
                                             if centre in owners[p["dataset"]]]
    assert as_user("researcher").get("/api/v1/sharing/provisions",
                                     params={"year": year}).status_code == 403
