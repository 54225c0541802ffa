"""Identifiers in free text are starred out of every problem a report echoes."""

from __future__ import annotations

import pytest

from precimed.reports.masking import redact
from precimed.reports.problems import Problem, Report


@pytest.mark.parametrize("text, masked", [
    ("家属张伟 电话13800000001", "家属张伟 电话***********"),
    ("手机：138-0000-0001", "手机：*************"),
    ("+86 138 0000 0001", "*****************"),
    ("１３８０００００００１", "***********"),  # full-width digits
    ("联系 010-62751234", "联系 ************"),
    ("(0755)12345678转123", "******************"),
    ("电话 62751234", "电话 ********"),  # no area code, but said to be a phone
    ("身份证110101199003074514", "身份证******************"),
    ("11010119900307451x", "******************"),
    ("１１０１０１１９９００３０７４５１Ｘ", "******************"),
    ("110101900307451", "***************"),  # first-generation, 15 digits
    ("mail zhang.wei@example.com.cn", "mail ************************"),
    ("zw＠qq．com", "*********"),
])
def test_phones_ids_and_emails_are_starred(text, masked):
    assert redact(text) == masked


@pytest.mark.parametrize("value", ["5.6↑", "<44", "2019-03-05", "20190305", "2019年3月5日",
                                   "43000", "阴性", "I21.900x001", "130", "1.2e5",
                                   "3101********14"])
def test_values_a_report_needs_are_kept(value):
    assert redact(value) == value


def test_every_problem_is_masked_when_made_whatever_its_source():
    problem = Problem("type", "m.csv", 2, "结果", "家属张伟 电话13800000001",
                      "'电话13800000001' is not a number", "Write a number.")
    assert "13800000001" not in problem.value + problem.message + problem.line()
    report = Report("s", "SH01", "p")
    report.add(problem)
    assert "13800000001" not in str(report.to_dict())
