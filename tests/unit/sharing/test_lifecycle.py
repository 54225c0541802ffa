"""The request lifecycle, the committee and the human-genetic-resource rules, on a real
SQLite database: refusals name the field and change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from precimed.errors import Conflict, Forbidden, NotFound, UserError
from precimed.ops import audit
from precimed.ops.db import AccessEvent, AccessRequest, CatalogueEntry, Provision
from precimed.sharing import catalogue, committee, provisions, requests
from precimed.sharing.form import RequestForm

ON = dt.date(2026, 3, 2)
FORM = {"title_zh": "高血压与心梗", "title_en": "Hypertension and MI",
        "summary_zh": "研究血压与心梗的关系。", "summary_en": "Blood pressure and MI.",
        "institution": "Fudan University", "intended_use": {"purpose": "DS", "disease": "I21"},
        "datasets": ["clinical-r1-sh"], "variables": ["sex", "age", "SBP"],
        "ethics_number": "IRB-2026-001", "duration_months": 12,
        "members": [{"username": "res2", "name": "Dr Two"}]}


def draft(ops, who, tmp_path, **changes):
    researcher = who("res")
    request = requests.create(ops, RequestForm.parse({**FORM, **changes}),
                              principal=researcher)
    pdf = tmp_path / "approval.pdf"
    pdf.write_bytes(b"%PDF-1.4 approval")
    requests.attach_ethics(ops, request.id, pdf, filename="approval.pdf",
                           sharing_dir=tmp_path / "sharing", principal=researcher)
    return requests.get(ops, request.id, principal=researcher)


def rows(ops, model) -> int:
    with ops.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def review(ops, who, request_id, *, decision="approve", **approval):
    for member in ("dac1", "dac2"):
        committee.vote(ops, request_id, "approve", principal=who(member), reason="fine")
    return committee.decide(ops, request_id, decision, principal=who("chair"),
                            reason="sound plan", on=ON, quorum=2, chair="chair",
                            approval=committee.Approval(**approval))


def test_apply_match_vote_approve_and_use(ops, who, tmp_path):
    catalogue.set_conditions(ops, "clinical-r1-sh", ["HMB", "NCU", "IRB"],
                             principal=who("dm_sh01"), reason="consent form v2")
    request = draft(ops, who, tmp_path)
    assert (tmp_path / "sharing" / request.ethics_document).read_bytes().startswith(b"%PDF")
    submitted = requests.submit(ops, request.id, principal=who("res"), on=ON)
    assert submitted.status == "submitted" and submitted.match["result"] == "consistent"
    approved = review(ops, who, request.id, date_handling="year_month",
                      conditions=("PUB",))
    assert approved.status == "active" and approved.active_from == ON
    assert approved.expires_on == dt.date(2027, 3, 2)
    assert approved.date_handling == "year_month" and approved.approved_conditions == ["PUB"]
    # a member uses the project until its expiry, then it is closed with a hint
    project = requests.active_request(ops, request.id, principal=who("res2"), on=ON)
    provisions.record(ops, project, entry_id="clinical-r1-sh", recipient="res2",
                      what="extract: parquet", people=120, rows=120, on=ON)
    with pytest.raises(Forbidden, match="expired on 2027-03-02"):
        requests.active_request(ops, request.id, principal=who("res"),
                                on=dt.date(2027, 3, 3))
    with pytest.raises(NotFound):
        requests.active_request(ops, request.id, principal=who("dac1"), on=ON)
    assert requests.expire_due(ops, on=dt.date(2027, 3, 3), actor="cli") == [request.id]
    listed = provisions.annual(ops, 2026, principal=who("dac1"))
    assert [(p["request"], p["people"], p["ethics_number"]) for p in listed] == [
        (request.id, 120, "IRB-2026-001")]
    assert provisions.annual(ops, 2027, principal=who("dac1")) == []
    history = [(e.from_status, e.to_status) for e in requests.events_of(ops, request.id)]
    assert history == [("", "draft"), ("draft", "submitted"), ("submitted", "under_review"),
                       ("under_review", "approved"), ("approved", "active"),
                       ("active", "expired")]
    actions = {e.action for e in audit.events(ops, limit=100)}
    assert {"catalogue.conditions", "sharing.request.create", "sharing.request.submit",
            "sharing.vote", "sharing.request.approved", "sharing.request.active",
            "sharing.provision", "sharing.request.expired"} <= actions
    assert audit.verify(ops).ok


def test_the_match_names_the_failing_clause_and_blocks_approval(ops, who, tmp_path):
    catalogue.set_conditions(ops, "clinical-r1-sh", ["HMB", "NCU"], principal=who("admin"))
    request = draft(ops, who, tmp_path, intended_use={"purpose": "HMB", "commercial": True})
    matched = requests.submit(ops, request.id, principal=who("res"), on=ON).match
    assert matched["result"] == "inconsistent"
    assert "NCU: commercial use requested" in [c["en"] for c in
                                               matched["datasets"][0]["clauses"]]
    with pytest.raises(Conflict, match="can not approve"):
        review(ops, who, request.id)
    returned = committee.decide(ops, request.id, "return", principal=who("chair"),
                                reason="drop commercial use", on=ON, quorum=2, chair="chair")
    assert returned.status == "returned"


def test_quorum_chair_and_self_votes(ops, who, tmp_path):
    request = draft(ops, who, tmp_path)
    requests.submit(ops, request.id, principal=who("res"), on=ON)
    committee.vote(ops, request.id, "approve", principal=who("dac1"))
    committee.vote(ops, request.id, "abstain", principal=who("dac2"))
    with pytest.raises(Conflict, match="1 of the 2 votes"):
        committee.decide(ops, request.id, "approve", principal=who("chair"), reason="ok",
                         on=ON, quorum=2, chair="chair")
    committee.vote(ops, request.id, "reject", principal=who("dac2"), reason="too broad")
    assert [v.vote for v in committee.votes(ops, request.id)] == ["approve", "reject"]
    with pytest.raises(Forbidden, match="chair"):
        committee.decide(ops, request.id, "reject", principal=who("dac1"), reason="no",
                         on=ON, quorum=2, chair="chair")
    with pytest.raises(Forbidden):
        committee.vote(ops, request.id, "approve", principal=who("res"))
    rejected = committee.decide(ops, request.id, "reject", principal=who("chair"),
                                reason="too broad", on=ON, quorum=2, chair="chair")
    assert rejected.status == "rejected"


def test_foreign_genetic_request_needs_filing_and_security_review(ops, who, tmp_path):
    catalogue.set_conditions(ops, "genotype-wgs", ["GRU"], principal=who("admin"))
    foreign = {"datasets": ["genotype-wgs"], "variables": ["genotype"],
               "foreign_party": True, "foreign_detail": "a university abroad"}
    request = draft(ops, who, tmp_path, **foreign)
    before = (rows(ops, AccessEvent), requests.get(ops, request.id,
                                                   principal=who("res")).status)
    with pytest.raises(UserError) as caught:
        requests.submit(ops, request.id, principal=who("res"), on=ON)
    assert caught.value.where == "hgr_filing_number"
    assert (rows(ops, AccessEvent), requests.get(ops, request.id,
                                                 principal=who("res")).status) == before
    requests.update(ops, request.id, RequestForm.parse({
        **FORM, **foreign, "hgr_filing_number": "2026-HGR-0042",
        "hgr_filing_date": "2026-02-01", "hgr_backup_receipt": "BK-77"}),
        principal=who("res"))
    requests.submit(ops, request.id, principal=who("res"), on=ON)
    approved = review(ops, who, request.id)
    # 600 people of genome data with a foreign party: blocked until the review is recorded
    assert approved.status == "approved"
    check = requests.hgr_state(ops, approved)
    assert check.state == "security_review_missing" and check.review_needed
    with pytest.raises(Forbidden, match="not active"):
        requests.active_request(ops, request.id, principal=who("res"), on=ON)
    with pytest.raises(Conflict, match=r"Art\. 37"):
        requests.activate(ops, request.id, actor="chair", on=ON)
    with pytest.raises(Forbidden):
        requests.record_hgr(ops, request.id, principal=who("res"), review_ref="SR-1",
                            review_date=dt.date(2026, 3, 10))
    requests.record_hgr(ops, request.id, principal=who("chair"), review_ref="SR-1",
                        review_date=dt.date(2026, 3, 10))
    active = requests.get(ops, request.id, principal=who("res"))
    assert active.status == "active" and active.active_from == dt.date(2026, 3, 10)


@pytest.mark.parametrize("changes, where", [
    ({"ethics_number": ""}, "ethics_number"),
    ({"variables": ["sex", "SBP", "LDL_C"]}, "variables[2]"),
    ({"datasets": ["nope"]}, "datasets[0]"),
    ({"intended_use": {"purpose": "XYZ"}}, "intended_use"),
    ({"members": [{"username": "nobody"}]}, "members[0].username"),
    ({"duration_months": 0}, "duration_months"),
    ({"title_en": ""}, "title_en"),
])
def test_bad_requests_name_the_field_and_change_nothing(ops, who, tmp_path, changes, where):
    before = (rows(ops, AccessRequest), rows(ops, AccessEvent))
    with pytest.raises(UserError) as caught:
        request = draft(ops, who, tmp_path, **changes)
        requests.submit(ops, request.id, principal=who("res"), on=ON)
    assert caught.value.where == where
    if where in {"ethics_number", "title_en"}:  # the draft exists; submission changed nothing
        assert rows(ops, AccessEvent) == before[1] + 1
        assert requests.get(ops, request.id, principal=who("res")).status == "draft"
    else:
        assert (rows(ops, AccessRequest), rows(ops, AccessEvent)) == before


def test_embargo_is_compared_with_the_date_given(ops, who, tmp_path):
    catalogue.update_entry(ops, "clinical-r1-sh", principal=who("admin"),
                           embargo_until=dt.date(2026, 6, 1))
    request = draft(ops, who, tmp_path)
    with pytest.raises(UserError, match="under embargo until 2026-06-01") as caught:
        requests.submit(ops, request.id, principal=who("res"), on=ON)
    assert caught.value.where == "datasets[0]"
    assert requests.submit(ops, request.id, principal=who("res"),
                           on=dt.date(2026, 6, 1)).status == "submitted"


def test_conditions_are_versioned_and_owned(ops, who):
    with pytest.raises(UserError, match="Unknown DUO code"):
        catalogue.set_conditions(ops, "clinical-r1-sh", ["HMB", "XYZ"],
                                 principal=who("admin"))
    assert catalogue.set_conditions(ops, "clinical-r1-sh", ["GRU"],
                                    principal=who("admin")) == 1
    assert catalogue.set_conditions(ops, "clinical-r1-sh", ["HMB", "NCU"],
                                    principal=who("dm_sh01")) == 2
    with pytest.raises(Forbidden):
        catalogue.set_conditions(ops, "clinical-r1-sh", ["GRU"], principal=who("res"))
    assert [str(c) for c in catalogue.conditions(ops, "clinical-r1-sh", version=1)] == ["GRU"]
    assert [h.set_by for h in catalogue.history(ops, "clinical-r1-sh")] == ["admin",
                                                                            "dm_sh01"]


def test_withdraw_and_who_sees_a_request(ops, who, tmp_path):
    request = draft(ops, who, tmp_path)
    with pytest.raises(NotFound):
        requests.get(ops, request.id, principal=who("dm_sh01"))
    assert requests.get(ops, request.id, principal=who("dac1")).id == request.id
    with pytest.raises(NotFound):
        requests.withdraw(ops, request.id, principal=who("res2"), on=ON)
    assert requests.withdraw(ops, request.id, principal=who("res"), on=ON).status == \
        "withdrawn"
    with pytest.raises(Conflict):
        requests.submit(ops, request.id, principal=who("res"), on=ON)


def test_provisions_are_append_only(ops, who, tmp_path):
    catalogue.set_conditions(ops, "clinical-r1-sh", ["GRU"], principal=who("admin"))
    request = draft(ops, who, tmp_path)
    requests.submit(ops, request.id, principal=who("res"), on=ON)
    review(ops, who, request.id)
    project = requests.active_request(ops, request.id, principal=who("res"), on=ON)
    with pytest.raises(UserError, match="not one the request"):
        provisions.record(ops, project, entry_id="genotype-wgs", recipient="res",
                          what="extract", people=1, on=ON)
    provisions.record(ops, project, entry_id="clinical-r1-sh", recipient="res",
                      what="extract", people=10, on=ON)
    with pytest.raises(RuntimeError, match="append-only"), ops.session() as session, \
            session.begin():
        session.delete(session.scalars(select(Provision)).first())


def test_a_centres_data_manager_lists_only_provisions_of_its_centres_datasets(ops, who,
                                                                              tmp_path):
    now = dt.datetime.now(dt.UTC)
    ops.add(CatalogueEntry(
        id="clinical-r1-js", kind="clinical", release="r1", cohort="JS",
        genotype_dataset=None, title_zh="江苏", title_en="JS", description_zh="",
        description_en="", centres=["JS01"], access_tier="controlled", embargo_until=None,
        variables=["sex", "age", "SBP"], participants=300, counts={"JS01": 300},
        conditions_version=0, created_by="test", created_at=now, updated_at=now))
    for entry_id in ("clinical-r1-sh", "clinical-r1-js"):
        catalogue.set_conditions(ops, entry_id, ["GRU"], principal=who("admin"))
    request = draft(ops, who, tmp_path, datasets=["clinical-r1-sh", "clinical-r1-js"],
                    intended_use={"purpose": "GRU"})
    requests.submit(ops, request.id, principal=who("res"), on=ON)
    review(ops, who, request.id)
    project = requests.active_request(ops, request.id, principal=who("res"), on=ON)
    for entry_id, people in (("clinical-r1-sh", 120), ("clinical-r1-js", 80)):
        provisions.record(ops, project, entry_id=entry_id, recipient="res",
                          what="extract", people=people, on=ON)

    def listed(name: str) -> list[str]:
        return [p["dataset"] for p in provisions.annual(ops, 2026, principal=who(name))]

    assert listed("admin") == listed("dac1") == ["clinical-r1-sh", "clinical-r1-js"]
    assert listed("dm_sh01") == ["clinical-r1-sh"]
    with pytest.raises(Forbidden):
        provisions.annual(ops, 2026, principal=who("res"))
