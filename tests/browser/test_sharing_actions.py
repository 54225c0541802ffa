"""The governance actions of the sharing pages in Chromium, each in Chinese and once in
English, each asking first in a page dialog where it destroys something:

- the catalogue: the owning centre's data manager edits an entry's DUO conditions term by
  term (a new, audited version) and its tier, embargo and titles; a researcher sees no
  edit controls and another centre's data manager none either, and is refused (403) when
  it tries through the API;
- the committee opens a request's ethics approval (its applicant too; another researcher
  cannot) and revokes an active project with a reason; the applicant withdraws a
  submitted request;
- erasure (PIPL Art. 47): a researcher has no page, another centre's data manager finds
  no one, a cancelled confirmation sends nothing, and (slow, on a copy of the home) a
  centre's data manager erases their participant and reads the result in words.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from platform_home import settings_for
from precimed.ops import audit
from precimed.ops.accounts import principal_for
from precimed.ops.db import AccessRequest, CatalogueEntry, EndpointCandidate
from precimed.sharing import catalogue
from precimed.standard import vocabulary
from projects_home import make_project

ENTRY = "clinical-sh01-browser"
TIER = vocabulary("access_tier").codes
STATUS = vocabulary("request_status").codes
LATIN = re.compile(r"[A-Za-z]{4,}")  # a word of English (codes are short or shown with names)


def _sh01_entry(ops) -> str:
    """A clinical entry owned by SH01 alone, with HMB."""
    with ops.session() as session, session.begin():
        if session.get(CatalogueEntry, ENTRY) is None:
            now = dt.datetime.now(dt.UTC)
            session.add(CatalogueEntry(
                id=ENTRY, kind="clinical", release="r1", cohort=None, genotype_dataset=None,
                title_zh="上海中心临床数据", title_en="Shanghai clinical data",
                description_zh="上海中心的基线与随访数据。",
                description_en="Baseline and follow-up data of Shanghai.", centres=["SH01"],
                access_tier="controlled", variables=["sex", "age"], participants=120,
                counts={"SH01": 120}, conditions_version=0, created_by="test",
                created_at=now, updated_at=now))
    catalogue.set_conditions(ops, ENTRY, ["HMB"], principal=principal_for(ops, "admin"))
    return ENTRY


def _add(card, code: str, value: str = "") -> None:
    card.locator(".term-code").select_option(code)
    if value:
        card.locator(".term-value").fill(value)
    card.locator(".add-term").click()


def _api_status(page, method: str, path: str, body: dict) -> int:
    """What the API answers the page's own session (CSRF token and all)."""
    return page.evaluate("""async ([method, path, body]) => {
        try { await precimed.api(method, path, body); return 200; }
        catch (e) { return e.status; } }""", [method, path, body])


def _no_english(locator, *codes: str) -> None:
    text = locator.inner_text()
    for code in codes:  # identifiers, shown as they are
        text = text.replace(code, "")
    assert not LATIN.search(text), LATIN.findall(text)


def test_the_owning_centre_edits_an_entry_and_others_see_no_controls(signed_in, server,
                                                                     shot):
    ops = server.app.state.platform.ops
    entry = _sh01_entry(ops)
    version = catalogue.entry(ops, entry).conditions_version
    page = signed_in("dm_sh01", next="/catalogue")
    card = page.locator(f"section.entry[data-id='{entry}']")
    form = card.locator("form.conditions-form")
    expect(form.locator("li.edit-term[data-code='HMB']")).to_contain_text("DUO:0000006")
    _add(form, "DS", "I21")  # a permission replaces the permission
    expect(form.locator("li.edit-term[data-code='HMB']")).to_have_count(0)
    _add(form, "NCU")
    _add(form, "TS")  # TS takes a date: refused on the page, in Chinese
    expect(form.locator(".conditions-status")).to_have_text("此条件需要填写限定值")
    _add(form, "TS", "2028-12-31")
    form.locator("li.edit-term[data-code='NCU'] .remove-term").click()
    _add(form, "NCU")
    expect(form.locator("li.edit-term")).to_have_count(3)
    form.locator(".save-conditions").click()  # no reason
    expect(form.locator(".conditions-status")).to_have_text("请填写修改理由")
    form.locator(".conditions-reason").fill("知情同意书第 3 版")
    form.locator(".save-conditions").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-dialog-text")).to_contain_text("DS:I21, TS:2028-12-31, NCU")
    _no_english(dialog.locator("#confirm-dialog-text"))
    shot(page, "confirm-conditions")
    page.click("#confirm-cancel")  # cancelled: nothing saved
    expect(dialog).to_be_hidden()
    assert catalogue.entry(ops, entry).conditions_version == version
    form.locator(".save-conditions").click()
    with page.expect_navigation():
        page.click("#confirm-ok")
    card = page.locator(f"section.entry[data-id='{entry}']")
    expect(card.locator("ul.conditions li[data-code='DS']")).to_contain_text("DUO:0000007")
    expect(card.locator("ul.conditions li[data-code='DS']")).to_contain_text("特定疾病研究")
    expect(card.locator("ul.conditions li[data-code='TS']")).to_contain_text("2028-12-31")
    expect(card.locator("ul.conditions li")).to_have_count(3)
    latest = catalogue.history(ops, entry)[-1]
    assert latest.version == version + 1 and latest.set_by == "dm_sh01"
    assert sorted(latest.conditions) == ["DS:I21", "NCU", "TS:2028-12-31"]
    assert latest.reason == "知情同意书第 3 版"

    details = card.locator("form.entry-form")
    details.locator(".e-tier").select_option("registered")
    details.locator(".e-embargo").fill("2027-01-31")
    expect(details.locator(".e-no-embargo")).not_to_be_checked()
    details.locator(".e-title-zh").fill("上海中心临床与随访数据")
    details.locator(".e-description-en").fill("Shanghai baseline and follow-up.")
    with page.expect_navigation():
        details.locator(".save-entry").click()
    card = page.locator(f"section.entry[data-id='{entry}']")
    expect(card.locator(".tier")).to_have_text(TIER["registered"][0])
    expect(card.locator(".embargo")).to_have_text("2027-01-31")
    expect(card.locator(".entry-title")).to_have_text("上海中心临床与随访数据")
    details = card.locator("form.entry-form")
    details.locator(".e-title-zh").fill("")  # a title may not be emptied: named in Chinese
    details.locator(".save-entry").click()
    expect(details.locator(".entry-status")).to_have_text(
        "请检查并更正：标题与说明（未作任何修改）")
    _no_english(card.locator("form.conditions-form legend"))
    shot(page, "edited")
    assert not page.js_errors, page.js_errors

    researcher = signed_in("researcher", next="/catalogue")
    card = researcher.locator(f"section.entry[data-id='{entry}']")
    expect(card).to_be_visible()
    expect(card.locator("form, .remove-term, .term-code, .save-entry")).to_have_count(0)
    other = signed_in("dm_js01", next="/catalogue")
    card = other.locator(f"section.entry[data-id='{entry}']")
    expect(card.locator("form")).to_have_count(0)
    assert _api_status(other, "PATCH", f"/api/v1/catalogue/{entry}",
                       {"access_tier": "open"}) == 403
    assert _api_status(other, "PUT", f"/api/v1/catalogue/{entry}/conditions",
                       {"conditions": ["GRU"], "reason": "x"}) == 403
    assert catalogue.entry(ops, entry).access_tier == "registered"
    shot(other, "no-controls")
    events = {(e.actor, e.action, e.outcome) for e in audit.events(ops, limit=500)}
    assert {("dm_sh01", "catalogue.conditions", "ok"), ("dm_sh01", "catalogue.update", "ok"),
            ("dm_js01", "catalogue.update", "deny"),
            ("dm_js01", "catalogue.conditions", "deny")} <= events

    admin = signed_in("admin", next="/catalogue?lang=en")  # once in English
    card = admin.locator(f"section.entry[data-id='{entry}']")
    expect(card.locator("form.conditions-form legend")).to_have_text(
        "Edit the data-use conditions")
    _add(card, "PUB")
    card.locator(".conditions-reason").fill("publication required by the funder")
    card.locator(".save-conditions").click()
    expect(admin.locator("#confirm-dialog-text")).to_contain_text(
        "Save the data-use conditions as a new version: DS:I21")
    expect(admin.locator("#confirm-dialog-text")).to_contain_text(", PUB? Requests submitted")
    expect(admin.locator("#confirm-ok")).to_have_text("Confirm")
    with admin.expect_navigation():
        admin.click("#confirm-ok")
    card = admin.locator(f"section.entry[data-id='{entry}']")
    expect(card.locator("ul.conditions li[data-code='PUB']")).to_contain_text(
        "publication required")
    details = card.locator("form.entry-form")
    details.locator(".e-tier").select_option("controlled")
    details.locator(".e-no-embargo").check()
    with admin.expect_navigation():
        details.locator(".save-entry").click()
    card = admin.locator(f"section.entry[data-id='{entry}']")
    expect(card.locator(".tier")).to_have_text(TIER["controlled"][1])
    expect(card.locator(".embargo")).to_have_count(0)
    shot(admin, "english")
    assert not admin.js_errors, admin.js_errors


def _draft_with_ethics(page, entry: str, title: str) -> str:
    """A submitted request of the page's user, made through the API as the form does."""
    return page.evaluate("""async ([entry, title]) => {
        const saved = await precimed.api("POST", "/api/v1/sharing/requests", {
            title_zh: title, title_en: "Ethics and revocation", summary_zh: "摘要",
            summary_en: "Summary", institution: "复旦大学",
            intended_use: {purpose: "HMB"}, datasets: [entry], variables: ["sex"],
            ethics_number: "IRB-2026-031", duration_months: 12, members: []});
        const upload = new FormData();
        upload.append("document", new Blob(["%PDF-1.4 approval of " + title],
                                            {type: "application/pdf"}), "approval.pdf");
        const path = "/api/v1/sharing/requests/" + saved.id;
        await precimed.api("POST", path + "/ethics", upload, true);
        await precimed.api("POST", path + "/submit");
        return saved.id; }""", [entry, title])


def test_the_committee_opens_the_ethics_approval_and_revokes_the_applicant_withdraws(
        signed_in, server, shot):
    ops = server.app.state.platform.ops
    entry = _sh01_entry(ops)
    with ops.session() as session, session.begin():  # an earlier test may have set it
        session.get(CatalogueEntry, entry).embargo_until = None
    page = signed_in("researcher", next="/requests")
    request_id = _draft_with_ethics(page, entry, "伦理批件与撤回")
    dac = signed_in("dac", next="/review")
    card = dac.locator(f"section.request[data-id='{request_id}']")
    link = card.locator("a.ethics-open")
    expect(link).to_have_text("查看伦理批准文件")
    opened = dac.request.get(link.get_attribute("href"))
    assert opened.ok and opened.body().decode() == "%PDF-1.4 approval of 伦理批件与撤回"
    assert "application/pdf" in opened.headers["content-type"]
    page.reload()
    mine = page.locator(f"#requests tr[data-id='{request_id}'] a.ethics-open")
    assert page.request.get(mine.get_attribute("href")).ok
    stranger = signed_in("researcher2", next="/requests")
    assert stranger.request.get(f"/api/v1/sharing/requests/{request_id}/ethics").status \
        == 404
    shot(dac, "ethics-link")

    row = page.locator(f"#requests tr[data-id='{request_id}']")  # the applicant withdraws
    row.locator(".withdraw-reason").fill("改用其他数据集")
    row.locator("button.withdraw").click()
    expect(page.locator("#confirm-dialog-text")).to_have_text("确定撤回此申请？")
    page.click("#confirm-cancel")
    expect(row.locator("td.status")).to_contain_text(STATUS["submitted"][0])
    row.locator("button.withdraw").click()
    with page.expect_navigation():
        page.click("#confirm-ok")
    expect(page.locator(f"#requests tr[data-id='{request_id}'] td.status")).to_contain_text(
        STATUS["withdrawn"][0])
    assert not page.js_errors, page.js_errors

    settings = settings_for(server.home)
    on = settings.as_of_given or dt.date.today()
    project = make_project(ops, settings.lake_dir, on=on, applicant="researcher")
    dac.goto("/review")
    card = dac.locator(f"section.active-project[data-id='{project}']")
    expect(card.locator(".status")).to_have_text(STATUS["active"][0])
    card.locator("button.revoke").click()  # no reason
    expect(card.locator(".review-error")).to_have_text("撤销须填写理由")
    card.locator(".revoke-reason").fill("违反数据使用协议第 4 条")
    card.locator("button.revoke").click()
    expect(dac.locator("#confirm-dialog-text")).to_have_text(
        f"撤销项目“血压与心血管事件”（{project}）的数据访问？成员将立即无法再使用其数据，此操作不可撤回。")
    _no_english(dac.locator("#confirm-dialog"), project)
    shot(dac, "confirm-revoke")
    with dac.expect_navigation():
        dac.click("#confirm-ok")
    expect(dac.locator(f"section.active-project[data-id='{project}']")).to_have_count(0)
    with ops.session() as session:
        assert session.get(AccessRequest, project).status == "revoked"
    assert page.goto(f"/projects/{project}").status == 403
    assert not dac.js_errors, dac.js_errors
    assert page.goto("/review").status == 403  # a researcher has no committee page

    second = make_project(ops, settings.lake_dir, on=on, applicant="researcher")
    admin = signed_in("admin", next="/review?lang=en")  # once in English, by an admin
    card = admin.locator(f"section.active-project[data-id='{second}']")
    expect(card.locator("button.revoke")).to_have_text("Revoke access")
    card.locator(".revoke-reason").fill("the funder withdrew")
    card.locator("button.revoke").click()
    expect(admin.locator("#confirm-dialog-text")).to_contain_text(
        f"Revoke the access of project “Blood pressure and CVD” ({second})?")
    with admin.expect_navigation():
        admin.click("#confirm-ok")
    expect(admin.locator(f"section.active-project[data-id='{second}']")).to_have_count(0)
    assert not admin.js_errors, admin.js_errors
    events = {(e.actor, e.action, e.outcome, e.resource)
              for e in audit.events(ops, limit=500)}
    assert {("dac", "sharing.request.ethics.read", "allow", f"access request {request_id}"),
            ("researcher2", "sharing.request.ethics.read", "deny",
             f"access request {request_id}"),
            ("researcher", "sharing.request.withdrawn", "ok", f"access request {request_id}"),
            ("dac", "sharing.request.revoked", "ok", f"access request {project}"),
            ("admin", "sharing.request.revoked", "ok", f"access request {second}")
            } <= events


def _sh01_person(ops) -> str:
    with ops.session() as session:
        return session.scalars(select(EndpointCandidate.pseudonym).where(
            EndpointCandidate.centre == "SH01").limit(1)).one()


def test_erasure_is_refused_to_others_and_asks_first(signed_in, server, shot):
    ops = server.app.state.platform.ops
    person = _sh01_person(ops)
    researcher = signed_in("researcher", next="/catalogue")
    expect(researcher.locator("a[data-nav='erasure']")).to_have_count(0)
    assert researcher.goto("/erasure").status == 403

    page = signed_in("dm_js01", next="/erasure")
    expect(page.locator("#erasure-centre option")).to_have_count(1)  # their centre only
    expect(page.locator("#erasure-centre option")).to_have_text("江苏队列中心 (JS01)")
    page.click("#erase")
    expect(page.locator("#erasure-result")).to_have_text("请填写身份证号或假名")
    page.fill("#erasure-identifier", person)
    before = len(audit.events(ops, limit=1000, action="erase"))
    page.click("#erase")
    expect(page.locator("#confirm-dialog-text")).to_have_text(
        "永久删除此参与者（江苏队列中心 (JS01)）的全部数据？此操作不可撤回。")
    page.click("#confirm-cancel")  # nothing is sent
    assert len(audit.events(ops, limit=1000, action="erase")) == before
    page.click("#erase")
    page.click("#confirm-ok")  # an SH01 person is not JS01's: found nowhere
    expect(page.locator("#erasure-result")).to_have_text(
        "未删除：未找到此参与者（或其不属于所选中心）")
    _no_english(page.locator("main"))
    shot(page, "refused")
    assert _api_status(page, "POST", "/api/v1/participants/erase",
                       {"identifier": person, "centre": "SH01"}) == 404
    erase_events = audit.events(ops, limit=1000, action="erase")
    denied = erase_events[:len(erase_events) - before]
    assert len(denied) == 2 and {(e.actor, e.outcome) for e in denied} == {
        ("dm_js01", "deny")}
    assert person not in str([(e.resource, e.detail) for e in denied])
    assert not page.js_errors, page.js_errors

    admin = signed_in("admin", next="/erasure?lang=en")  # once in English
    expect(admin.locator("#erasure-centre option").first).to_have_text(
        "Any (found by the identifier)")
    admin.fill("#erasure-identifier", "0" * 32)
    admin.click("#erase")
    expect(admin.locator("#confirm-ok")).to_have_text("Confirm")
    admin.click("#confirm-ok")
    expect(admin.locator("#erasure-result")).to_have_text(
        "Not erased: no such participant (or not of the chosen centre)")
    assert not admin.js_errors, admin.js_errors


@pytest.fixture
def copied_server(released_home, tmp_path, server):
    """The app over a copy of the released home, which erasure may change."""
    Served = type(server)
    home = tmp_path / "home"
    shutil.copytree(released_home, home, ignore=shutil.ignore_patterns("cache"))
    with Served(home) as served:
        yield served


@pytest.mark.slow
def test_a_centres_data_manager_erases_their_participant(signed_in, copied_server, shot):
    ops = copied_server.app.state.platform.ops
    person = _sh01_person(ops)
    page = signed_in("dm_sh01", on=copied_server, next="/erasure")
    page.fill("#erasure-identifier", person)
    page.click("#erase")
    page.click("#confirm-ok")
    result = page.locator("#erasure-result")
    expect(result).to_contain_text("已删除 上海队列中心 (SH01) 的 1 名参与者", timeout=60_000)
    expect(result).to_contain_text("30 天保留期后清理")
    expect(page.locator("#erasure-identifier")).to_have_value("")
    assert person not in page.content()
    shot(page, "erased")
    with ops.session() as session:
        assert session.scalars(select(EndpointCandidate).where(
            EndpointCandidate.pseudonym == person)).all() == []
    erased = [e for e in audit.events(ops, limit=50, action="erase") if e.outcome == "allow"]
    assert erased and erased[0].actor == "dm_sh01" and erased[0].resource == "centre SH01"
    assert person not in str([(e.resource, e.detail) for e in erased])
    assert not page.js_errors, page.js_errors
