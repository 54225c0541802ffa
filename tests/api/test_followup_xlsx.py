"""The follow-up worklist as an XLSX workbook for the centre (GET /followup/worklist.xlsx,
served with the pages): the whole worklist in the chosen order, headings in the page's
language, text never a formula, scoped to the user's centres and audited; both backends."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from precimed.ops import audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_worklist_comes_as_a_workbook_in_the_chosen_order(as_user, ops_of):
    client = as_user("dm_sh01")
    listed = client.get("/api/v1/followup/worklist?centre=SH01&sort=wave&limit=5000").json()
    r = client.get("/followup/worklist.xlsx?centre=SH01&sort=wave&lang=zh")
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith(XLSX)
    assert 'filename="worklist-SH01.xlsx"' in r.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet.title == "SH01"
    assert sheet["A1"].value == "待随访名单 · 上海队列中心 (SH01)"
    assert sheet["A2"].value.startswith(f"截至 {listed['as_of']} 计算")
    assert [c.value for c in sheet[4]] == ["假名编号", "随访轮次", "应随访日期", "逾期天数",
                                          "未随访轮次数", "最近追踪日期", "最近联系结果"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    assert [r[0] for r in rows] == [x["pseudonym"] for x in listed["rows"]]
    assert [r[1] for r in rows] == [x["wave"] for x in listed["rows"]]
    assert all(sheet.cell(row=i, column=1).data_type == "s" for i in range(5, 5 + len(rows)))
    assert sheet.cell(row=5, column=4).data_type == "n"
    outcomes = {r[6] for r in rows if r[6]}
    assert outcomes and all(o.endswith(")") and "(" in o for o in outcomes), outcomes
    event = audit.events(ops_of, limit=5, action="export")[0]
    assert event.actor == "dm_sh01" and event.resource == "follow-up worklist SH01"
    assert event.detail["rows"] == len(rows) and event.detail["format"] == "xlsx"


def test_the_workbook_speaks_english_on_english_pages(as_user):
    r = as_user("dm_sh01").get("/followup/worklist.xlsx?centre=SH01&lang=en")
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet["A1"].value == "Follow-up worklist · Shanghai cohort centre (SH01)"
    assert sheet["A4"].value == "Pseudonym" and sheet["D4"].value == "Days overdue"


def test_another_centres_workbook_is_refused(as_user):
    assert as_user("dm_sh01").get(
        "/followup/worklist.xlsx?centre=JS01").status_code == 404
    assert as_user("researcher").get(
        "/followup/worklist.xlsx?centre=SH01").status_code == 403
    assert as_user("dm_sh01").get(
        "/followup/worklist.xlsx?centre=SH01&sort=name").status_code == 400
