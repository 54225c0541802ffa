"""The adjudication queue and case view in a real browser: a reviewer pages the queue,
filters it, opens a case in Chinese, sees the evidence and the participant's history, is
told (on the page, in Chinese, never by alert()) that rejecting needs a reason, and then
rejects with one, by keyboard."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow


def test_reviewer_pages_filters_opens_a_case_and_rejects_with_a_reason(signed_in, shot):
    page = signed_in("reviewer", next="/adjudication")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    paging = page.locator("#queue-page")
    expect(paging).to_have_text(re.compile(r"^第 1 / \d+ 页，共 \d+ 个候选事件$"))
    expect(page.locator("#adj-keys")).to_contain_text("快捷键")
    first_page = page.locator("#queue tr[data-id]").first.get_attribute("data-id")
    page.click("#queue-next")
    expect(paging).to_have_text(re.compile(r"^第 2 / "))
    assert page.locator("#queue tr[data-id]").first.get_attribute("data-id") != first_page
    shot(page, "page-2")

    # filter: candidates reported by two sources, newest first (the other browser test
    # decides the oldest pending candidate; this one never reaches it)
    for control, label in (("filter-endpoint", "终点"), ("filter-centre", "中心"),
                           ("filter-sources", "来源数"), ("filter-sort", "排序")):
        expect(page.locator(f"label:has(#{control})")).to_contain_text(label)
    page.select_option("#filter-sources", "2")
    page.select_option("#filter-sort", "-first_date")
    with page.expect_navigation():
        page.click("#apply-filter")
    expect(paging).to_have_text(re.compile(r"^第 1 / "))
    counts = page.locator("#queue td.sources").evaluate_all(
        "cells => cells.map(c => c.dataset.n)")
    assert counts and set(counts) == {"2"}
    dates = page.locator("#queue tr[data-id] td:nth-child(4)").all_inner_texts()
    assert dates == sorted(dates, reverse=True)
    shot(page, "filtered")

    # j selects the first row, o opens its case
    page.keyboard.press("j")
    row = page.locator("#queue tr.current")
    expect(row).to_have_count(1)
    candidate = row.get_attribute("data-id")
    with page.expect_navigation():
        page.keyboard.press("o")
    assert page.url.endswith(f"/adjudication/{candidate}")
    evidence = page.locator("#case-evidence tr[data-source]")
    expect(evidence.first).to_be_visible()
    case = page.request.get(f"/api/v1/endpoints/candidates/{candidate}/case").json()
    shown = {e["source"] for e in case["evidence"]}
    assert evidence.count() == len(case["evidence"]) >= 1
    first = case["evidence"][0]
    expect(page.locator("#case-evidence td.diagnosis").first).to_have_text(
        f"{first['code']} {first['name_zh']}")
    assert re.search(r"[\u4e00-\u9fff]", first["name_zh"])
    assert all(re.search(r"[\u4e00-\u9fff]", s)
               for s in page.locator("#case-evidence td.source").all_inner_texts())
    assert shown <= {"self_report", "hospital_record", "insurance_claim",
                     "disease_registry", "death_registry"}
    expect(page.locator("#case-death")).to_be_visible()
    expect(page.locator("#case-prior")).to_be_visible()
    expect(page.locator("#case-measurements")).to_be_visible()
    if case["measurements"]:
        m = case["measurements"][0]
        expect(page.locator(f"#case-measurements tr[data-code='{m['code']}'] td").first
               ).to_contain_text(m["name_zh"])
    expect(page.locator("#adj-keys")).to_contain_text("a 确认")
    # no English words on the Chinese page's own text (codes and units aside)
    body = page.locator("main").inner_text() if page.locator("main").count() else ""
    for english in ("Evidence", "Reject", "Confirm", "Reason", "Death", "Prior"):
        assert english not in body
    shot(page, "case")

    # r without a reason: refused on the page, in Chinese, nothing sent
    page.keyboard.press("r")
    error = page.locator("#case-decision .decide-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("请填写理由：否决或要求补充信息时必须说明理由。")
    expect(page.locator("#case-reason")).to_be_focused()
    assert page.request.get(
        f"/api/v1/endpoints/candidates/{candidate}").json()["status"] == "pending"
    shot(page, "reason-required")

    reason = f"browser test: one source only counted twice ({uuid.uuid4().hex[:6]})"
    page.fill("#case-reason", reason)
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(page.locator("#case-decision .status")).to_have_text("已否决")
    expect(error).to_be_hidden()
    expect(page.locator("#case-decision .decided-note")).to_be_visible()
    body = page.request.get(f"/api/v1/endpoints/candidates/{candidate}").json()
    last = body["history"][-1]
    assert (body["status"], last["reviewer"], last["to"], last["reason"]) == (
        "rejected", "reviewer", "rejected", reason)
    shot(page, "rejected")
    assert not dialogs and not page.js_errors, (dialogs, page.js_errors)
