"""The pages in a real browser: sign-in and the sections of each role, the dashboard's
charts and disclosure control, upload with live progress, the cohort builder's counts,
adjudication, language switching, follow-up scope and the audit log."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zipfile
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from precimed.deid import Policy, protect_sequence
from precimed.query.model import CohortDefinition
from precimed.synth import synthesise

from .conftest import PASSWORD, USERS, sign_in

HREF = {"dashboard": "/", "submissions": "/submissions", "cohorts": "/cohorts",
        "followup": "/followup", "adjudication": "/adjudication",
        "dictionary": "/dictionary", "reference": "/reference", "catalogue": "/catalogue",
        "requests": "/requests", "review": "/review", "projects": "/projects",
        "output_review": "/outputs/review", "erasure": "/erasure", "admin": "/admin"}
NAV_OF = {
    "admin": list(HREF),
    "dm_sh01": ["dashboard", "submissions", "cohorts", "followup", "dictionary", "reference",
                "catalogue", "erasure"],
    "reviewer": ["dashboard", "adjudication", "dictionary", "reference", "catalogue"],
    "researcher": ["dashboard", "cohorts", "dictionary", "reference", "catalogue",
                   "requests", "projects"],
    "clinician": ["dashboard", "cohorts", "followup", "dictionary", "reference", "catalogue"],
    "dac": ["dashboard", "cohorts", "dictionary", "reference", "catalogue", "review",
            "output_review", "admin"],
}
THRESHOLD = 10
VERDICT_ZH = {"pass": "质控通过", "pass_with_warnings": "质控通过（有警告）",
              "fail": "质控未通过"}


def rows(page, table: str):
    """The body rows (those with cells) of a table."""
    return page.locator(f"{table} tr:has(td)")


def number(text: str) -> int | None:
    """A shown count: None for a suppressed one ('<10', or hidden to protect another
    cell), else the integer."""
    text = text.strip()
    if text in {f"<{THRESHOLD}", "为保护其他单元格而隐藏", "hidden to protect another cell"}:
        return None
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", text), f"not a count: {text!r}"
    return int(text.replace(",", ""))


# -- 1. sign-in and the sections of each role ---------------------------------------------
@pytest.mark.parametrize("username", list(NAV_OF))
def test_each_role_sees_exactly_its_sections(username, new_context, server, shot):
    assert username in USERS
    page = new_context().new_page()
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.locator("h1")).to_have_text("登录")
    shot(page, "login")
    sign_in(page, username)
    assert page.url == f"{server.url}/"
    expect(page.locator("#whoami")).to_have_text(username)

    nav = page.locator("header nav a[data-nav]")
    assert [a.get_attribute("data-nav") for a in nav.all()] == NAV_OF[username]
    assert [a.get_attribute("href") for a in nav.all()] == [HREF[k] for k in NAV_OF[username]]
    shot(page, "dashboard")

    for key in NAV_OF[username]:
        response = page.goto(HREF[key])
        assert response.status == 200, (key, response.status)
        assert page.locator("#error-what").count() == 0, key
        expect(page.locator(f"header nav a[data-nav={key}]")).to_have_class("on")

    forbidden = [k for k in HREF if k not in NAV_OF[username]]
    assert forbidden or username == "admin"
    for i, key in enumerate(forbidden):
        response = page.goto(HREF[key])
        assert response.status == 403, (key, response.status)
        expect(page.locator("main h1")).to_contain_text("出错了")
        expect(page.locator("main h1")).to_contain_text("forbidden")
        expect(page.locator("#error-what")).not_to_be_empty()
        expect(page.locator("#whoami")).to_have_text(username)  # still signed in
        if i == 0:
            shot(page, f"forbidden-{key}")


def test_wrong_password_shows_the_error_on_the_login_page(new_context, server, shot):
    page = new_context().new_page()
    page.goto("/login")
    page.fill("#username", "researcher2")
    page.fill("#password", PASSWORD + "-wrong")
    with page.expect_navigation() as navigation:
        page.click("#sign-in")
    assert navigation.value.status == 401
    assert page.url.startswith(f"{server.url}/login")
    expect(page.locator("#login-error")).to_contain_text("Wrong user name or password")
    expect(page.locator("#whoami")).to_have_count(0)
    expect(page.locator("header nav a")).to_have_count(0)
    shot(page, "error")
    assert not any(c["name"] == "precimed_session" for c in page.context.cookies())
    # the right password still works afterwards, and a signed-out visit comes back here
    page.goto("/cohorts")
    assert page.url == f"{server.url}/login?next=/cohorts"
    sign_in(page, "researcher2", next="/cohorts")
    assert page.url == f"{server.url}/cohorts"
    expect(page.locator("#whoami")).to_have_text("researcher2")


# -- 2. dashboard -------------------------------------------------------------------------
def test_dashboard_draws_charts_and_hides_small_counts(signed_in, shot):
    page = signed_in("researcher")
    expect(page.locator("#cohort-heading")).to_have_text("队列 · 已入组")
    expect(page.locator("#retention-chart svg.main-svg").first).to_be_visible()
    expect(page.locator("#retention-chart .bars .point").first).to_be_attached()
    expect(page.locator("#incidence-chart svg.main-svg").first).to_be_visible()
    # axis titles are drawn, in the page's language (an axis title given as a bare string
    # is ignored by the bundled plotly.js)
    expect(page.locator("#retention-chart .g-ytitle")).to_have_text("四年失访率（%）")
    expect(page.locator("#incidence-chart .g-ytitle")).to_have_text("每千人年发生率")
    shot(page, "charts")

    cohorts = rows(page, "#cohort-table")
    assert cohorts.count() >= 2
    api = page.request.get("/api/v1/dashboard").json()
    enrolled = [number(t) for t in page.locator("#cohort-table td.num:nth-child(2)")
                .all_inner_texts()]
    assert enrolled == [c["enrolled"] for c in api["cohorts"]]
    assert any(n is not None and n >= THRESHOLD for n in enrolled)
    endpoints = rows(page, "#endpoint-table")
    assert endpoints.count() >= 1
    for row in endpoints.all():
        name, *counts = row.locator("td").all_inner_texts()
        by = api["endpoints"][name]
        assert [number(c) for c in counts] == [by.get(s, 0) for s in
                                               ("pending", "confirmed", "rejected", "total")], name

    shown = page.locator("#cohort-table td.num, #endpoint-table td.num").all_inner_texts()
    assert len(shown) >= 2 * cohorts.count()
    for text in shown:
        n = number(text)
        assert n is None or n == 0 or n >= THRESHOLD, f"a small count is shown: {text!r}"
    assert not page.js_errors, page.js_errors


# -- 3. upload ----------------------------------------------------------------------------
def test_upload_shows_progress_verdict_and_report(signed_in, fresh_server, tmp_path, shot):
    package = synthesise(tmp_path / "synth", participants_count=60, seed=99,
                         centres=("SH01",)).packages["SH01"]
    archive = tmp_path / "sh01.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(package.rglob("*")):
            if path.is_file():
                bundle.write(path, f"{package.name}/{path.relative_to(package)}")

    page = signed_in("dm_sh01", on=fresh_server, next="/submissions")
    assert rows(page, "#submission-table").count() == 0
    page.set_input_files("#upload-file", str(archive))
    page.click("#upload-button")
    expect(page.locator("#job")).to_be_visible()
    verdict = page.locator("#job-verdict")
    expect(verdict).to_be_visible(timeout=120_000)
    assert not page.locator("#job-result.error").count(), page.inner_text("#job-result")
    status, qc_word = re.fullmatch(r"(\S+) · (\S+)", verdict.inner_text()).groups()
    qc = verdict.get_attribute("class").removeprefix("verdict-")
    assert status == "已入库" and qc in {"pass", "pass_with_warnings"}, (status, qc)
    assert qc_word == VERDICT_ZH[qc]
    expect(page.locator("#job-progress")).not_to_be_empty()
    shot(page, "done")

    link = page.locator("#job-report")
    submission_id = re.fullmatch(r"/api/v1/submissions/([^/]+)/report",
                                 link.get_attribute("href")).group(1)
    with page.context.expect_page() as opened:
        link.click()
    report = opened.value
    report.wait_for_load_state()
    expect(report.locator("h1")).to_contain_text("数据质控报告")
    assert report.locator("#verdict").get_attribute("data-verdict") == qc
    assert rows(report, "#checks").count() > 5
    shot(report, "report")

    page.goto("/submissions")
    new = page.locator(f"#submission-table tr[data-id='{submission_id}']")
    expect(new).to_have_count(1)
    cells = new.locator("td").all_inner_texts()
    assert cells[1:4] == ["SH01", status, qc_word], cells
    expect(new.locator("a.report-link")).to_have_attribute(
        "href", f"/api/v1/submissions/{submission_id}/report")
    shot(page, "table")

    # the same package again: the page says in words that nothing changed and links the
    # original's report (an unchanged submission has no QC report of its own)
    page.set_input_files("#upload-file", str(archive))
    page.click("#upload-button")
    expect(page.locator("#job-unchanged")).to_be_visible(timeout=120_000)
    expect(page.locator("#job-verdict")).to_have_text("无变化")
    expect(page.locator("#job-unchanged")).to_have_text(
        f"· 数据包与已入库的提交 {submission_id} 完全相同，数据未作任何更改。")
    expect(page.locator("#job-report")).to_have_text("原提交的质控报告")
    expect(page.locator("#job-report")).to_have_attribute(
        "href", f"/api/v1/submissions/{submission_id}/report")
    assert "null" not in page.inner_text("#job-result")
    shot(page, "unchanged")
    page.goto("/submissions")
    again = page.locator("#submission-table tr:has(td)").first
    assert again.get_attribute("data-id") != submission_id
    cells = again.locator("td").all_inner_texts()
    assert cells[2:4] == ["无变化", ""], cells
    expect(again.locator("a.original-report")).to_have_attribute(
        "href", f"/api/v1/submissions/{submission_id}/report")
    # its own report address leads to the original's report, not to an error
    report = page.request.get(f"/api/v1/submissions/{again.get_attribute('data-id')}/report")
    assert report.ok and report.url.endswith(f"/api/v1/submissions/{submission_id}/report")
    assert "数据质控报告" in report.text()
    shot(page, "table-unchanged")
    assert not page.js_errors, page.js_errors


# -- 4. cohort builder --------------------------------------------------------------------
def add_criterion(page, kind: str):
    page.select_option("#new-kind", kind)
    page.click("#add-criterion")
    return page.locator("#criteria .criterion").last


def attrition(page) -> list[tuple[str, int | None]]:
    return [(r.locator("td").nth(0).inner_text(), number(r.locator("td").nth(1).inner_text()))
            for r in page.locator("#attrition tr.step").all()]


def test_cohort_builder_counts_match_the_api_and_survive_save_and_load(
        signed_in, server, shot):
    page = signed_in("researcher", next="/cohorts")
    expect(page.locator("#attrition tr.step")).to_have_count(1)  # all participants
    expect(page.locator("#cohort-release")).to_have_value("r1")

    sex = add_criterion(page, "participant")
    expect(sex.locator("select.field")).to_have_value("sex")
    sex.locator("select.value").select_option("2")
    age = add_criterion(page, "age").locator("input")
    age.nth(0).fill("40")
    age.nth(1).fill("70")
    sbp = add_criterion(page, "measurement")
    sbp.locator("select.code").select_option("SBP")
    sbp.locator("input[type=number]").nth(0).fill("140")
    expect(sbp.locator("input[type=checkbox]")).to_be_checked()

    name = f"browser women 40-70 SBP>=140 {uuid.uuid4().hex[:6]}"
    page.fill("#cohort-name", name)
    definition = {"format": "precimed-cohort", "version": 1, "name": name, "description": "",
                  "criteria": [
                      {"kind": "participant", "field": "sex", "values": ["2"]},
                      {"kind": "age", "min": 40, "max": 70},
                      {"kind": "measurement", "code": "SBP", "min": 140, "max": None,
                       "window": {"baseline": True}}]}
    # the page's own session: a POST with its cookie carries its CSRF token
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    api = page.request.post("/api/v1/cohorts/count", headers={"X-CSRF-Token": token},
                            data={"definition": definition, "release": "r1"})
    assert api.ok, api.text()
    expected = [step["count"] for step in api.json()["attrition"]]
    # the same numbers straight from the query engine, through disclosure control
    platform = server.app.state.platform
    steps = platform.attrition("r1", CohortDefinition.from_dict(definition))
    raw = [r.count for r in steps]
    tier = Policy.for_tier(platform.settings, api.json()["tier"])  # researcher: perturbed
    assert expected == protect_sequence(raw, policy=tier, keys=[r.key for r in steps])
    assert len(expected) == 4 and expected[-1] is not None and expected[-1] >= THRESHOLD
    assert raw[0] > raw[1] > raw[2] > raw[3], raw  # every criterion narrows the cohort

    def see_counts():
        cells = page.locator("#attrition tr.step td.num")
        expect(cells).to_have_text([f"{n:,}" if n is not None else f"<{THRESHOLD}"
                                    for n in expected], timeout=20_000)
        expect(page.locator("#final-count")).to_have_text(f"{expected[-1]:,}")
        expect(page.locator("#cohort-error")).to_be_hidden()
        assert [n for _, n in attrition(page)] == expected

    see_counts()
    labels = [label for label, _ in attrition(page)]
    assert labels[0] == "全部参与者"
    shot(page, "counted")

    page.click("#save-cohort")
    saved = page.locator("#saved-list option", has_text=name)
    expect(saved).to_have_count(1)

    page.reload()
    expect(page.locator("#criteria .criterion")).to_have_count(0)
    expect(page.locator("#attrition tr.step")).to_have_count(1)
    page.select_option("#saved-list", label=name)
    page.click("#load-cohort")
    expect(page.locator("#criteria .criterion")).to_have_count(3)
    expect(page.locator("#cohort-name")).to_have_value(name)
    see_counts()
    assert [label for label, _ in attrition(page)] == labels
    shot(page, "loaded")
    assert not page.js_errors, page.js_errors


# -- 5. adjudication ----------------------------------------------------------------------
def test_reviewer_confirms_a_candidate_with_a_reason(signed_in, shot):
    page = signed_in("reviewer", next="/adjudication")
    first = page.locator("#queue tr[data-id]").first
    expect(first).to_be_visible()
    candidate = first.get_attribute("data-id")
    expect(first.locator("td.status")).to_have_text("待评审")
    shot(page, "queue")

    reason = f"browser test: discharge letter confirms the event ({uuid.uuid4().hex[:6]})"
    first.locator("input.reason").fill(reason)
    first.locator("button.decide[data-to=confirmed]").click()
    expect(first.locator("td.status")).to_have_text("已确认")
    expect(first).to_have_class(re.compile(r"\bdecided\b"))
    expect(first.locator("button.decide").first).to_be_disabled()
    shot(page, "decided")

    found = page.request.get(f"/api/v1/endpoints/candidates/{candidate}")
    assert found.ok, found.text()
    body = found.json()
    assert body["status"] == "confirmed"
    last = body["history"][-1]
    assert (last["reviewer"], last["from"], last["to"], last["reason"]) == (
        "reviewer", "pending", "confirmed", reason)

    page.goto("/adjudication")
    expect(page.locator(f"#queue tr[data-id='{candidate}']")).to_have_count(0)
    page.goto("/adjudication?status=confirmed")
    row = page.locator(f"#queue tr[data-id='{candidate}']")
    expect(row.locator("td.status")).to_have_text("已确认")
    expect(row.locator("button.decide")).to_have_count(0)
    assert not page.js_errors, page.js_errors


# -- 6. language --------------------------------------------------------------------------
def test_language_switch_is_kept_by_cookie(signed_in, server, shot):
    page = signed_in("dm_sh01")
    nav = page.locator("header nav a[data-nav]")
    expect(nav.first).to_have_text("总览")
    with page.expect_navigation():
        page.click("#lang-switch")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(nav).to_have_text(["Dashboard", "Submissions", "Cohort builder", "Follow-up",
                              "Data dictionary", "Population reference",
                              "Data catalogue", "Erase a participant"])
    expect(page.locator("#lang-switch")).to_have_text("中文")
    expect(page.locator("#retention-chart svg.main-svg").first).to_be_visible()
    shot(page, "english")

    page.reload()
    expect(nav.nth(1)).to_have_text("Submissions")
    page.goto("/submissions")  # no ?lang=: only the cookie can say English
    expect(nav.nth(1)).to_have_text("Submissions")
    expect(page.locator("main h1")).to_have_text("Submissions")
    expect(page.locator("footer")).to_contain_text("Counts below 10")
    shot(page, "english-submissions")

    with page.expect_navigation():
        page.click("#lang-switch")
    expect(nav.nth(1)).to_have_text("数据提交")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(nav.first).to_have_text("总览")
    shot(page, "chinese")
    assert not page.js_errors, page.js_errors


# -- 7. follow-up -------------------------------------------------------------------------
def test_followup_worklist_is_limited_to_the_users_centres(signed_in, new_context, shot):
    page = signed_in("dm_sh01", next="/followup")
    expect(page.locator("#waves-chart svg.main-svg").first).to_be_visible()
    expect(page.locator("#waves-chart .scatterlayer .trace").first).to_be_attached()
    expect(page.locator("#waves-chart .g-xtitle")).to_have_text("随访轮次")
    assert rows(page, "#retention-table").locator("td:first-child").all_inner_texts() == [
        "SH01"]
    expect(page.locator("#worklist-centre")).to_have_value("SH01")
    own = rows(page, "#worklist").locator("td:first-child code").all_inner_texts()
    assert own, "the SH01 worklist is empty"
    assert all(re.fullmatch(r"[0-9a-f]{12}", p) for p in own), own[:5]
    due = rows(page, "#worklist").locator("td:nth-child(3)").all_inner_texts()
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in due), due[:5]
    shot(page, "sh01")

    page.goto("/followup?centre=JS01")
    assert page.locator("#worklist-centre option").all_inner_texts() == ["SH01"]
    expect(page.locator("#worklist-centre")).to_have_value("SH01")
    shown = rows(page, "#worklist").locator("td:first-child code").all_inner_texts()
    assert shown == own
    refused = page.request.get("/api/v1/followup/worklist?centre=JS01")
    assert refused.status == 404  # another centre's worklist is reported as missing
    shot(page, "js01-asked")

    admin = new_context().new_page()
    sign_in(admin, "admin")
    js01 = admin.request.get("/api/v1/followup/worklist?centre=JS01&limit=5000")
    assert js01.ok, js01.text()
    theirs = {r["pseudonym"][:12] for r in js01.json()["rows"]}
    assert theirs, "JS01 has no overdue participants: the scope check would be vacuous"
    assert not theirs & set(shown)
    assert not page.js_errors, page.js_errors


# -- 8. administration --------------------------------------------------------------------
def test_admin_sees_logins_and_an_intact_audit_chain(signed_in, shot):
    page = signed_in("admin", next="/admin")
    # every test account is listed (API tests on the shared home may have added more)
    user_rows = page.locator("#user-table tr[data-id]")
    expect(user_rows.nth(len(USERS) - 1)).to_be_attached(timeout=5_000)
    listed = {user_rows.nth(i).get_attribute("data-username")
              for i in range(user_rows.count())}
    assert set(USERS) <= listed, listed
    events = rows(page, "#audit-table")
    assert events.count() > 0
    logins = page.locator("#audit-table tr:has(td:nth-child(4):text-is('login'))")
    assert logins.count() >= 1
    mine = logins.filter(has=page.locator("td:nth-child(3):text-is('admin')"))
    expect(mine.first.locator("td:nth-child(6)")).to_have_attribute("data-outcome", "ok")
    expect(mine.first.locator("td:nth-child(6)")).to_have_text("成功")  # the code in words
    # times in the platform's zone (Asia/Shanghai by default) with the zone named; the
    # API keeps UTC
    seq, shown_at = events.first.locator("td").all_inner_texts()[:2]
    stored = page.request.get(f"/api/v1/admin/audit?limit=1&before={int(seq) + 1}").json()[0]
    assert stored["seq"] == int(seq)
    at = dt.datetime.fromisoformat(stored["at"]).replace(tzinfo=dt.UTC)
    assert shown_at == at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M CST")

    page.click("#verify-chain")
    result = page.locator("#chain-result")
    expect(result).to_have_text(re.compile(r"^✓ \d+ 条记录完整$"))
    assert int(re.search(r"\d+", result.inner_text()).group()) >= events.count()
    shot(page, "verified")
    assert not page.js_errors, page.js_errors
