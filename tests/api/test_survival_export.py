"""The survival tab's workbook export: the rows the page sends come back as one Excel
sheet, numbers as numbers and text as text (a formula-looking cell never runs), for the
roles that may run the survival analysis; on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

ROWS = [["计算依据"], ["release", "r1"], [],
        ["组别", "人数", "事件数", "第 0 年"], ["1 · 男性", 310, 45, 310],
        ["2 · 女性", "<10", None, "–"],
        ["协变量", "风险比 HR", "下限", "上限", "P 值"],
        ["年龄（每增加 1 岁）", 1.0886143257587695, 1.059, 1.119, 1.59e-09],
        ["=HYPERLINK(\"http://example.org\")", "+1", "@x"]]


def test_the_rows_come_back_as_a_workbook(as_user):
    response = as_user("researcher").post("/api/v1/cohorts/survival/xlsx",
                                          json={"rows": ROWS})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "survival"
    got = [[c.value for c in row] for row in sheet.iter_rows()]
    width = max(len(r) for r in ROWS)
    sent = [[*r, *[None] * (width - len(r))] for r in ROWS]
    assert len(got) == len(sent)
    for mine, back in zip(sent, got, strict=True):
        # a float may lose its 17th significant digit in the file
        assert back == [pytest.approx(v, rel=1e-15) if isinstance(v, float) else v
                        for v in mine]
    assert sheet["B5"].data_type == "n" and sheet["B8"].data_type == "n"
    assert {sheet.cell(row=9, column=c).data_type for c in (1, 2, 3)} == {"s"}


def test_only_the_roles_of_the_survival_tab_export(anonymous, as_user):
    body = {"rows": [["a", 1]]}
    assert anonymous.post("/api/v1/cohorts/survival/xlsx", json=body).status_code == 401
    # a reviewer of endpoints may not run the survival analysis, so may not export it
    assert as_user("reviewer").post("/api/v1/cohorts/survival/xlsx",
                                    json=body).status_code == 403


def test_a_row_too_wide_is_refused_with_where_and_what_to_do(as_user):
    response = as_user("researcher").post("/api/v1/cohorts/survival/xlsx",
                                          json={"rows": [list(range(101))]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["where"] == "rows" and error["hint"]
