"""The end of the governed-sharing path in Chromium: a member cuts an extract of an
active project, submits a table for release, the committee's reviewer releases it (the
checked version, its small count hidden), and the member downloads it; an expired
project and a non-member are refused on the pages and in the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io

from playwright.sync_api import expect

from platform_home import settings_for
from precimed.ops import audit
from projects_home import make_project

TABLE = "sex,n\n1,40\n2,3\n"


def _projects(server):
    settings = settings_for(server.home)
    ops = server.app.state.platform.ops
    on = settings.as_of_given or dt.date.today()
    return ops, (make_project(ops, settings.lake_dir, on=on, applicant="researcher"),
                 make_project(ops, settings.lake_dir, on=on, applicant="researcher",
                              expires_on=on - dt.timedelta(days=1)))


def test_extract_then_an_output_is_reviewed_and_released(signed_in, server, tmp_path, shot):
    ops, (project, _) = _projects(server)
    page = signed_in("researcher", next="/projects")
    expect(page.locator(f"a[href='/projects/{project}']")).to_have_text("血压与心血管事件")
    page.click(f"a[href='/projects/{project}']")
    expect(page.locator("#project-title")).to_have_text("血压与心血管事件")
    with page.expect_navigation():
        page.click("#cut-extract")
    rows = page.locator("#extracts tr[data-id]")
    expect(rows).to_have_count(1)
    extract = rows.first.get_attribute("data-id")
    expect(rows.first).to_contain_text("5 岁分组")  # the coarsening, in the page's language
    data = page.request.get(f"/api/v1/projects/{project}/extracts/{extract}/data.csv")
    assert data.ok
    table = list(csv.DictReader(io.StringIO(data.text())))
    assert table and "project_participant_id" in table[0] and "pseudonym" not in table[0]
    shot(page, "extract")

    (tmp_path / "by_sex.csv").write_text(TABLE)
    page.fill("#out-title", "按性别人数")
    page.set_input_files("#out-file", str(tmp_path / "by_sex.csv"))
    page.fill("#out-by", "sex")
    page.fill("#out-counts", "n")
    with page.expect_navigation():
        page.click("#submit-output")
    output = page.locator("#outputs tr[data-id]").first
    expect(output.locator("td.status")).to_have_text("待审核")
    expect(output.locator("td.check")).to_contain_text("已隐藏部分单元格")
    output_id = output.get_attribute("data-id")
    assert not page.js_errors, page.js_errors

    reviewer = signed_in("dac", next="/outputs/review")
    row = reviewer.locator(f"#review tr[data-id='{output_id}']")
    expect(row.locator("td.check")).to_contain_text("小计数")
    shot(reviewer, "queue")
    row.locator("button[data-decision='release']").click()
    expect(row.locator("td.status")).to_have_text("已发布")
    assert not reviewer.js_errors, reviewer.js_errors

    page.reload()
    link = page.locator(f"#outputs tr[data-id='{output_id}'] a.released")
    expect(link).to_be_visible()
    released = page.request.get(link.get_attribute("href"))
    assert released.ok
    counts = {r["sex"]: r["n"] for r in csv.DictReader(io.StringIO(released.text()))}
    assert counts["1"] == "" and counts["2"] == ""  # 3 hidden, and 40 with it (total)
    shot(page, "released")
    actions = {(e.action, e.outcome) for e in audit.events(ops, limit=400)}
    assert {("project.extract", "ok"), ("project.output.submit", "ok"),
            ("project.output.release", "ok"), ("sharing.provision", "ok")} <= actions


def test_an_expired_project_and_a_non_member_are_refused(signed_in, server, shot):
    ops, (project, expired) = _projects(server)
    page = signed_in("researcher", next="/projects")
    expect(page.locator(f"a[href='/projects/{expired}']")).to_have_count(0)
    response = page.goto(f"/projects/{expired}")
    assert response.status == 403
    expect(page.locator("#error-what")).to_contain_text("expired")
    shot(page, "expired")
    stranger = signed_in("researcher2", next="/projects")
    response = stranger.goto(f"/projects/{project}")
    assert response.status == 404
    shot(stranger, "not-member")
    denied = {(e.actor, e.resource) for e in audit.events(ops, limit=400)
              if e.action == "project.read" and e.outcome == "deny"}
    assert {("researcher", f"project {expired}"), ("researcher2", f"project {project}")
            } <= denied
