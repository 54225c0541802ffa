"""The first half of the governed-sharing path in Chromium: an admin sets a dataset's DUO
conditions on the catalogue page, a researcher applies (refused first, in Chinese, for
the missing ethics approval number, the draft unchanged), the match is shown, two
committee members vote, the chair approves and the project appears for the researcher.
And a refusal the committee can not override: commercial use of an NCU dataset is
matched inconsistent, the clause is shown, the chair's approval is refused, and the
researcher withdraws the request. And the human-genetic-resource rules: exome data of
more than 500 people with a foreign party is refused without the filing record (named in
Chinese), and once approved waits for the security review the committee records on the
queue page."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from platform_home import PASSWORD
from precimed.ops import accounts, audit
from precimed.ops.accounts import principal_for
from precimed.ops.db import User
from precimed.sharing import catalogue
from projects_home import clinical_entry


def _setup(server):
    """r1 in the catalogue and a second committee member (dac_votes is 2)."""
    ops = server.app.state.platform.ops
    entry = clinical_entry(ops, server.app.state.platform.settings.lake_dir)
    with ops.session() as session:
        exists = session.scalar(select(User.id).where(User.username == "dac2"))
    if exists is None:
        accounts.create_user(ops, "dac2", PASSWORD, roles=["dac"])
    return ops, entry


def _fill_request(page, title: str, *, commercial: bool = False) -> None:
    page.fill("#title_zh", title)
    page.fill("#title_en", "Blood pressure and myocardial infarction")
    page.fill("#summary_zh", "研究基线血压与心梗发病的关系。")
    page.fill("#summary_en", "Baseline blood pressure and incident MI.")
    page.fill("#institution", "复旦大学")
    page.select_option("#purpose", "DS")
    page.fill("#disease", "I21")
    if commercial:
        page.check("#commercial")
    page.fill("#variables", "sex, age, SBP")
    member = page.locator("#members tr.member").first
    member.locator(".m-name").fill("研究员二")
    member.locator(".m-username").fill("researcher2")


def _apply(page, entry, tmp_path, title, **options):
    page.goto("/catalogue")
    page.click(f"section.entry[data-id='{entry}'] a.apply")
    expect(page.locator(f"input[name=entry][value='{entry}']")).to_be_checked()
    _fill_request(page, title, **options)
    page.fill("#ethics_number", "IRB-2026-017")
    (tmp_path / "approval.pdf").write_bytes(b"%PDF-1.4 signed approval")
    page.set_input_files("#ethics_document", str(tmp_path / "approval.pdf"))
    with page.expect_navigation(url="**/requests"):
        page.click("#submit-request")


def test_apply_match_vote_approve_then_the_project_appears(signed_in, server, tmp_path,
                                                           shot):
    ops, entry = _setup(server)
    admin = signed_in("admin", next="/catalogue")
    card = admin.locator(f"section.entry[data-id='{entry}']")
    for code in ("HMB", "NCU", "IRB"):  # term by term, each with its DUO ID and name
        card.locator(".term-code").select_option(code)
        card.locator(".add-term").click()
    card.locator(".conditions-reason").fill("知情同意书第 2 版")
    card.locator(".save-conditions").click()
    with admin.expect_navigation():
        admin.click("#confirm-ok")  # the page's own dialog, in Chinese
    card = admin.locator(f"section.entry[data-id='{entry}']")
    expect(card.locator("ul.conditions li[data-code='HMB']")).to_contain_text("DUO:0000006")
    expect(card.locator("ul.conditions li[data-code='HMB']")).to_contain_text(
        "健康、医学或生物医学研究")
    expect(card.locator("ul.conditions li[data-code='NCU']")).to_contain_text("仅限非商业用途")
    shot(admin, "catalogue")
    assert not admin.js_errors, admin.js_errors

    page = signed_in("researcher", next="/catalogue")
    page.click(f"section.entry[data-id='{entry}'] a.apply")
    _fill_request(page, "血压与心肌梗死")
    page.click("#submit-request")  # no ethics approval number: refused, named in Chinese
    expect(page.locator("#request-error-field")).to_have_text("请检查并更正：伦理批准文号")
    expect(page.locator("label[data-field='ethics_number']")).to_have_class("invalid")
    shot(page, "refused-no-ethics")
    draft = page.locator("#request-form").get_attribute("data-draft")
    assert draft and page.request.get(f"/api/v1/sharing/requests/{draft}").json()[
        "status"] == "draft"

    page.fill("#ethics_number", "IRB-2026-017")
    (tmp_path / "approval.pdf").write_bytes(b"%PDF-1.4 signed approval")
    page.set_input_files("#ethics_document", str(tmp_path / "approval.pdf"))
    with page.expect_navigation(url="**/requests"):
        page.click("#submit-request")
    row = page.locator(f"#requests tr[data-id='{draft}']")
    expect(row.locator("td.status")).to_contain_text("已提交")
    expect(row.locator("td.match b")).to_have_text("符合")
    shot(page, "submitted")
    assert not page.js_errors, page.js_errors

    for member in ("dac", "dac2"):
        dac = signed_in(member, next="/review")
        card = dac.locator(f"section.request[data-id='{draft}']")
        expect(card.locator(".match-result")).to_have_text("符合")
        expect(card.locator("tr.clause")).to_have_count(3)
        expect(card.locator("p.consent")).to_have_attribute("data-genetic", "false")
        card.locator(".vote-choice").select_option("approve")
        card.locator(".vote-reason").fill("用途与条件一致")
        with dac.expect_navigation():
            card.locator(".cast-vote").click()
        card = dac.locator(f"section.request[data-id='{draft}']")
        expect(card.locator(f"tr.vote[data-voter='{member}']")).to_contain_text("同意")
    shot(dac, "votes")
    card.locator(".d-decision").select_option("approve")
    card.locator(".d-reason").fill("研究方案合理，数据最小化")
    card.locator(".d-conditions").fill("PUB")
    with dac.expect_navigation():
        card.locator(".decide").click()
    expect(dac.locator(f"section.request[data-id='{draft}']")).to_have_count(0)
    assert not dac.js_errors, dac.js_errors

    page.goto("/requests")
    row = page.locator(f"#requests tr[data-id='{draft}']")
    expect(row.locator("td.status")).to_contain_text("使用中")
    expect(row).to_contain_text("PUB")
    with page.expect_navigation():
        page.click("#lang-switch")  # the same page in English
    expect(page.locator(f"#requests tr[data-id='{draft}'] td.status")).to_contain_text(
        "active")
    expect(page.locator(f"#requests tr[data-id='{draft}'] td.match b")).to_have_text(
        "consistent")
    page.goto("/projects")  # in English now: the language is kept by cookie
    expect(page.locator(f"a[href='/projects/{draft}']")).to_have_text(
        "Blood pressure and myocardial infarction")
    shot(page, "project")
    actions = {(e.action, e.outcome) for e in audit.events(ops, limit=500)}
    assert {("catalogue.conditions", "ok"), ("sharing.request.submit", "ok"),
            ("sharing.vote", "ok"), ("sharing.request.approved", "ok"),
            ("sharing.request.active", "ok")} <= actions


def test_an_inconsistent_use_is_shown_and_can_not_be_approved(signed_in, server, tmp_path,
                                                              shot):
    ops, entry = _setup(server)
    catalogue.set_conditions(ops, entry, ["HMB", "NCU", "IRB"],
                             principal=principal_for(ops, "admin"))
    page = signed_in("researcher", next="/catalogue")
    _apply(page, entry, tmp_path, "商业化风险模型", commercial=True)
    row = page.locator("#requests tr[data-id]").filter(has_text="商业化风险模型")
    expect(row.locator("td.match b")).to_have_text("不符合")
    expect(row.locator("li.clause.inconsistent")).to_have_text("NCU：申请了商业用途")
    request_id = row.get_attribute("data-id")
    shot(page, "inconsistent")

    for member in ("dac", "dac2"):
        dac = signed_in(member, next="/review")
        card = dac.locator(f"section.request[data-id='{request_id}']")
        expect(card.locator("tr.clause.inconsistent")).to_contain_text("申请了商业用途")
        card.locator(".vote-choice").select_option("approve")
        with dac.expect_navigation():
            card.locator(".cast-vote").click()
    card = dac.locator(f"section.request[data-id='{request_id}']")
    card.locator(".d-decision").select_option("approve")
    card.locator(".d-reason").fill("同意")
    card.locator(".decide").click()
    expect(card.locator(".review-error")).to_have_text("当前状态不允许此操作 — 主席决定")
    expect(card.locator(".review-error")).to_have_attribute("data-detail",
                                                             re.compile("inconsistent"))
    expect(card.locator(".status")).to_have_text("审查中")
    shot(dac, "approval-refused")

    page.goto("/requests")
    row = page.locator(f"#requests tr[data-id='{request_id}']")
    row.locator(".withdraw-reason").fill("改为非商业研究")
    row.locator("button.withdraw").click()
    expect(page.locator("#confirm-dialog-text")).to_have_text("确定撤回此申请？")
    with page.expect_navigation():
        page.click("#confirm-ok")
    expect(page.locator(f"#requests tr[data-id='{request_id}'] td.status")).to_contain_text(
        "已撤回")
    assert not page.js_errors and not dac.js_errors


def _exome_entry(ops) -> str:
    """An exome dataset of 600 people (rules Art. 37: more than 500), HMB."""
    import datetime as dt

    from precimed.ops.db import CatalogueEntry

    with ops.session() as session, session.begin():
        if session.get(CatalogueEntry, "exome-browser") is None:
            now = dt.datetime.now(dt.UTC)
            session.add(CatalogueEntry(
                id="exome-browser", kind="exome", release=None, cohort=None,
                genotype_dataset="exome-browser", title_zh="外显子组数据集",
                title_en="Exome dataset", centres=[], access_tier="controlled",
                variables=["genotype"], participants=600, counts={"SH01": 600},
                conditions_version=0, created_by="test", created_at=now, updated_at=now))
    catalogue.set_conditions(ops, "exome-browser", ["HMB"],
                             principal=principal_for(ops, "admin"))
    return "exome-browser"


def test_genetic_data_for_a_foreign_party_needs_the_filing_and_a_security_review(
        signed_in, server, tmp_path, shot):
    ops, _ = _setup(server)
    entry = _exome_entry(ops)
    page = signed_in("researcher", next=f"/requests/new?dataset={entry}")
    _fill_request(page, "外显子组与心梗的国际合作")
    page.fill("#variables", "genotype")
    page.check("#foreign_party")
    page.fill("#foreign_detail", "境外合作大学参与分析")
    page.fill("#ethics_number", "IRB-2026-099")
    (tmp_path / "approval.pdf").write_bytes(b"%PDF-1.4 signed approval")
    page.set_input_files("#ethics_document", str(tmp_path / "approval.pdf"))
    page.click("#submit-request")  # genetic data, a foreign party, no filing record
    expect(page.locator("#request-error-field")).to_have_text(
        "请检查并更正：人类遗传资源备案号")
    shot(page, "refused-no-filing")
    page.fill("#hgr_filing_number", "HGR-BA-2025-001")
    page.fill("#hgr_filing_date", "2025-11-03")
    page.fill("#hgr_backup_receipt", "BK-778")
    with page.expect_navigation(url="**/requests"):
        page.click("#submit-request")
    row = page.locator("#requests tr[data-id]").filter(has_text="外显子组与心梗的国际合作")
    request_id = row.get_attribute("data-id")
    expect(row.locator("td.status .hgr")).to_contain_text("待安全审查")

    for member in ("dac", "dac2"):
        dac = signed_in(member, next="/review")
        card = dac.locator(f"section.request[data-id='{request_id}']")
        expect(card.locator("p.consent")).to_contain_text("属遗传学研究")
        card.locator(".vote-choice").select_option("approve")
        with dac.expect_navigation():
            card.locator(".cast-vote").click()
    card = dac.locator(f"section.request[data-id='{request_id}']")
    card.locator(".d-reason").fill("方案合理")
    with dac.expect_navigation():
        card.locator(".decide").click()
    card = dac.locator(f"section.request[data-id='{request_id}']")  # approved, blocked
    expect(card.locator(".status")).to_have_text("已批准")
    expect(card.locator(".hgr-state")).to_have_text("待安全审查")
    shot(dac, "blocked-for-security-review")
    card.locator(".h-review-ref").fill("SR-2025-12")
    card.locator(".h-review-date").fill("2025-12-20")
    with dac.expect_navigation():
        card.locator(".record-hgr").click()
    expect(dac.locator(f"section.request[data-id='{request_id}']")).to_have_count(0)
    page.goto("/requests")
    expect(page.locator(f"#requests tr[data-id='{request_id}'] td.status")).to_contain_text(
        "使用中")
    assert not page.js_errors and not dac.js_errors
    actions = {(e.action, e.outcome) for e in audit.events(ops, limit=500)}
    assert {("sharing.request.blocked", "ok"), ("sharing.request.hgr", "ok")} <= actions
