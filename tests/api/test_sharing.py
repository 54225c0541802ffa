"""Governed sharing through the API, on SQLite and PostgreSQL: the catalogue of release
r1, a request from draft to active through the committee, and the refusals (each names
its field and changes nothing)."""

from __future__ import annotations

import pytest

from platform_home import settings_for

FORM = {"title_zh": "血压与心肌梗死", "title_en": "Blood pressure and myocardial infarction",
        "summary_zh": "研究基线血压与心梗发病的关系。",
        "summary_en": "Baseline blood pressure and incident MI.",
        "institution": "Fudan University", "intended_use": {"purpose": "DS", "disease": "I21"},
        "variables": ["sex", "age", "SBP"], "ethics_number": "IRB-2025-017",
        "duration_months": 12, "members": [{"username": "researcher2", "name": "R2"}]}


@pytest.fixture
def entry_ids(as_user):
    r = as_user("admin").post("/api/v1/catalogue/publish", json={"release": "r1"})
    assert r.status_code == 200, r.text
    ids = r.json()["entries"]
    assert ids and all(i.startswith("clinical-r1-") for i in ids)
    return ids


def error_of(r, status):
    assert r.status_code == status, r.text
    return r.json()["error"]


def draft(client, entry_id, **changes):
    r = client.post("/api/v1/sharing/requests", json={**FORM, "datasets": [entry_id],
                                                       **changes})
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    r = client.post(f"/api/v1/sharing/requests/{request_id}/ethics",
                    files={"document": ("approval.pdf", b"%PDF-1.4 signed", "application/pdf")})
    assert r.status_code == 200, r.text
    return request_id


def test_the_catalogue_lists_protected_counts_and_variables(as_user, entry_ids):
    listed = as_user("researcher").get("/api/v1/catalogue").json()
    entries = {e["id"]: e for e in listed["entries"]}
    assert set(entry_ids) <= set(entries)
    threshold = listed["threshold"]
    for e in (entries[i] for i in entry_ids):
        assert e["title"]["zh"] and e["title"]["en"] and e["access_tier"] == "controlled"
        assert {"sex", "age"} <= set(e["variables"]) and "pseudonym" not in e["variables"]
        shown = [c["participants"] for c in e["participants_by_centre"]]
        assert all(n is None or n == 0 or n >= threshold for n in shown)
    assert as_user("clinician").get(f"/api/v1/catalogue/{entry_ids[0]}").status_code == 200
    assert error_of(as_user("researcher").get("/api/v1/catalogue/nope"), 404)["kind"] == \
        "not_found"


def test_conditions_are_set_by_admin_or_owning_centre_and_versioned(as_user, entry_ids):
    admin = as_user("admin")
    r = admin.put(f"/api/v1/catalogue/{entry_ids[0]}/conditions",
                  json={"conditions": ["HMB", "NCU", "IRB"], "reason": "consent v2"})
    assert r.status_code == 200, r.text
    version = r.json()["conditions_version"]
    bad = admin.put(f"/api/v1/catalogue/{entry_ids[0]}/conditions",
                    json={"conditions": ["HMB", "XYZ"]})
    assert error_of(bad, 400)["where"] == "conditions"
    entry = admin.get(f"/api/v1/catalogue/{entry_ids[0]}").json()
    assert entry["conditions_version"] == version
    assert [c["id"] for c in entry["conditions"]] == ["DUO:0000006", "DUO:0000046",
                                                       "DUO:0000021"]
    assert entry["history"][-1]["reason"] == "consent v2"
    others = [e for e in admin.get("/api/v1/catalogue").json()["entries"]
              if e["centres"] and "SH01" not in e["centres"]]
    refused = as_user("dm_sh01").put(f"/api/v1/catalogue/{others[0]['id']}/conditions",
                                     json={"conditions": ["GRU"]})
    assert error_of(refused, 403)["kind"] == "forbidden"
    assert as_user("researcher").put(f"/api/v1/catalogue/{entry_ids[0]}/conditions",
                                     json={"conditions": ["GRU"]}).status_code == 403


def test_apply_match_vote_approve(as_user, entry_ids, released_home, backend):
    researcher, dac, admin = as_user("researcher"), as_user("dac"), as_user("admin")
    admin.put(f"/api/v1/catalogue/{entry_ids[1]}/conditions",
              json={"conditions": ["HMB", "NCU", "IRB"]})
    request_id = draft(researcher, entry_ids[1])
    kept = list((settings_for(released_home).sharing_dir / request_id).glob("ethics-*.pdf"))
    assert kept and not list((released_home / "lake").rglob("ethics-*"))
    r = researcher.post(f"/api/v1/sharing/requests/{request_id}/submit")
    assert r.status_code == 200, r.text
    assert r.json()["match"]["result"] == "consistent" and r.json()["status"] == "submitted"
    assert as_user("dac").get("/api/v1/sharing/review").status_code == 200
    assert request_id in [q["id"] for q in dac.get("/api/v1/sharing/review").json()["requests"]]
    assert researcher.get("/api/v1/sharing/review").status_code == 403
    for voter in (dac, admin):
        r = voter.post(f"/api/v1/sharing/review/{request_id}/votes",
                       json={"vote": "approve", "reason": "sound"})
        assert r.status_code == 200, r.text
    r = dac.post(f"/api/v1/sharing/review/{request_id}/decision",
                 json={"decision": "approve", "reason": "sound plan",
                       "date_handling": "year_month", "conditions": ["PUB"]})
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == "active" and decided["date_handling"] == "year_month"
    assert [v["voter"] for v in decided["votes"]] == ["dac", "admin"]
    assert [h["to"] for h in decided["history"]] == ["draft", "submitted", "under_review",
                                                     "approved", "active"]
    # the member sees it; another researcher does not
    mine = as_user("researcher2").get("/api/v1/sharing/requests").json()["requests"]
    assert request_id in [m["id"] for m in mine]
    assert as_user("clinician").get(f"/api/v1/sharing/requests/{request_id}").status_code \
        == 403
    provisions = dac.get("/api/v1/sharing/provisions", params={"year": 2025}).json()
    assert provisions["year"] == 2025 and isinstance(provisions["provisions"], list)


def test_an_inconsistent_use_names_its_clause(as_user, entry_ids):
    as_user("admin").put(f"/api/v1/catalogue/{entry_ids[2]}/conditions",
                         json={"conditions": ["HMB", "NCU"]})
    request_id = draft(as_user("researcher"), entry_ids[2],
                       intended_use={"purpose": "HMB", "commercial": True})
    matched = as_user("researcher").post(
        f"/api/v1/sharing/requests/{request_id}/submit").json()["match"]
    assert matched["result"] == "inconsistent"
    assert "NCU: commercial use requested" in [
        c["en"] for c in matched["datasets"][0]["clauses"]]


@pytest.mark.parametrize("changes, at_submit, where", [
    ({"variables": ["sex", "NO_SUCH_VARIABLE"]}, False, "variables[1]"),
    ({"intended_use": {"purpose": "XYZ"}}, False, "intended_use"),
    ({"datasets": ["no-such-dataset"]}, False, "datasets[0]"),
    ({"ethics_number": ""}, True, "ethics_number"),
])
def test_bad_requests_name_the_field(as_user, entry_ids, changes, at_submit, where):
    researcher = as_user("researcher")
    before = len(researcher.get("/api/v1/sharing/requests").json()["requests"])
    body = {**FORM, "datasets": [entry_ids[0]], **changes}
    r = researcher.post("/api/v1/sharing/requests", json=body)
    if at_submit:
        assert r.status_code == 201
        r = researcher.post(f"/api/v1/sharing/requests/{r.json()['id']}/submit")
        assert researcher.get(f"/api/v1/sharing/requests/{r.request.url.path.split('/')[-2]}"
                              ).json()["status"] == "draft"
    else:
        assert len(researcher.get("/api/v1/sharing/requests").json()["requests"]) == before
    assert error_of(r, 404 if where == "datasets[0]" else 400)["where"] == where


def test_an_embargoed_dataset_is_refused_and_a_request_withdrawn(as_user, entry_ids):
    admin, researcher = as_user("admin"), as_user("researcher")
    r = admin.patch(f"/api/v1/catalogue/{entry_ids[3]}", json={"embargo_until": "2099-01-01"})
    assert r.status_code == 200, r.text
    request_id = draft(researcher, entry_ids[3])
    refused = researcher.post(f"/api/v1/sharing/requests/{request_id}/submit")
    assert error_of(refused, 400)["where"] == "datasets[0]"
    assert "embargo" in refused.json()["error"]["what"]
    admin.patch(f"/api/v1/catalogue/{entry_ids[3]}", json={"clear_embargo": True})
    withdrawn = researcher.post(f"/api/v1/sharing/requests/{request_id}/withdraw",
                                json={"reason": "no longer needed"})
    assert withdrawn.json()["status"] == "withdrawn"


def test_the_ethics_approval_opens_for_the_applicant_and_the_committee_only(
        as_user, entry_ids, ops_of):
    from precimed.ops import audit

    researcher = as_user("researcher")
    request_id = draft(researcher, entry_ids[2])
    path = f"/api/v1/sharing/requests/{request_id}/ethics"
    for user in ("researcher", "dac", "admin"):
        r = as_user(user).get(path)
        assert r.status_code == 200, (user, r.text)
        assert r.content == b"%PDF-1.4 signed"
    assert error_of(as_user("researcher2").get(path), 403)["where"] == "ethics_document"
    assert error_of(as_user("clinician").get(path), 404)["kind"] == "not_found"
    assert error_of(as_user("dm_sh01").get(path), 404)["kind"] == "not_found"
    opened = [(e.actor, e.outcome) for e in audit.events(
        ops_of, limit=200, action="sharing.request.ethics.read")
        if e.resource == f"access request {request_id}"]
    assert {("researcher", "allow"), ("dac", "allow"), ("admin", "allow"),
            ("researcher2", "deny"), ("clinician", "deny"), ("dm_sh01", "deny")
            } <= set(opened)
    no_document = researcher.post("/api/v1/sharing/requests",
                                  json={**FORM, "datasets": [entry_ids[2]]}).json()["id"]
    assert error_of(researcher.get(f"/api/v1/sharing/requests/{no_document}/ethics"),
                    404)["where"] == "ethics_document"


def test_an_entry_is_edited_by_an_admin_or_its_owning_centre_and_refused_to_others(
        as_user, entry_ids, ops_of):
    from precimed.ops import audit

    admin = as_user("admin")
    entries = admin.get("/api/v1/catalogue").json()["entries"]
    target = entry_ids[4 % len(entry_ids)]
    body = {"access_tier": "registered", "embargo_until": "2027-06-30",
            "titles": {"title_zh": "新标题", "title_en": "New title",
                       "description_zh": "新说明", "description_en": "New description"}}
    r = admin.patch(f"/api/v1/catalogue/{target}", json=body)
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["access_tier"] == "registered" and changed["embargo_until"] == "2027-06-30"
    assert changed["title"] == {"zh": "新标题", "en": "New title"}
    assert changed["description"] == {"zh": "新说明", "en": "New description"}
    others = [e for e in entries if e["centres"] and "SH01" not in e["centres"]]
    refused = as_user("dm_sh01").patch(f"/api/v1/catalogue/{others[0]['id']}",
                                       json={"access_tier": "open"})
    assert error_of(refused, 403)["kind"] == "forbidden"
    assert admin.get(f"/api/v1/catalogue/{others[0]['id']}").json()["access_tier"] \
        == others[0]["access_tier"]
    assert as_user("researcher").patch(f"/api/v1/catalogue/{target}",
                                       json={"access_tier": "open"}).status_code == 403
    bad = admin.patch(f"/api/v1/catalogue/{target}", json={"access_tier": "secret"})
    assert error_of(bad, 400)["where"] == "access_tier"
    denied = {(e.actor, e.resource) for e in audit.events(ops_of, limit=300,
                                                          action="catalogue.update")
              if e.outcome == "deny"}
    assert ("dm_sh01", f"catalogue entry {others[0]['id']}") in denied
    admin.patch(f"/api/v1/catalogue/{target}", json={"access_tier": "controlled",
                                                     "clear_embargo": True})
