"""Output checking of tables (precimed.sharing.output_check)."""

from __future__ import annotations

import pandas as pd
import pytest

from precimed.deid import Policy
from precimed.errors import UserError
from precimed.sharing.output_check import TableSpec, check_table, read_table

POLICY = Policy(threshold=10)


def _check(csv: str, **spec):
    return check_table(read_table(csv.encode()), TableSpec.from_dict(spec), policy=POLICY,
                       dominance_percent=50)


def test_a_safe_table_passes_and_gains_its_totals():
    result = _check("sex,region,n\n1,east,40\n1,west,30\n2,east,25\n2,west,50\n",
                    by=["sex", "region"], counts=["n"])
    assert result.status == "pass" and result.findings == []
    totals = result.protected[result.protected.sex == "Total"]
    assert set(totals.n) == {"65", "80", "145"}


def test_small_counts_are_hidden_with_the_cells_that_would_reveal_them():
    result = _check("sex,region,n\n1,east,4\n1,west,30\n2,east,25\n2,west,50\n",
                    by=["sex", "region"], counts=["n"])
    assert result.status == "protected"
    rules = {(f.rule, f.row) for f in result.findings}
    assert ("threshold", 0) in rules
    assert any(rule == "secondary" for rule, _ in rules)
    released = result.protected.iloc[:4]
    assert released.n[0] == ""
    assert (released.n == "").sum() >= 2  # the small cell cannot be derived from totals


def test_dominance_and_few_contributors_hide_sums_and_their_helpers_never_leave():
    csv = ("group,cost,top,people\n"
           "a,1000,600,40\n"   # dominated: the largest is 60% of the total
           "b,1000,100,40\n"
           "c,90,20,3\n")      # three contributors
    result = _check(csv, by=["group"],
                    sums=[{"column": "cost", "largest": "top", "contributors": "people"}])
    assert {(f.rule, f.row) for f in result.findings} == {("dominance", 0),
                                                          ("contributors", 2)}
    assert list(result.protected.cost) == ["", "1000", ""]
    assert "top" not in result.protected.columns and "people" not in result.protected.columns


def test_statistics_of_a_hidden_row_are_hidden():
    result = _check("group,n,mean_sbp\na,3,141.2\nb,40,130.0\nc,45,128.0\n", by=["group"],
                    counts=["n"], statistics=["mean_sbp"], margins=False)
    assert result.protected.mean_sbp[0] == ""
    assert ("row_hidden", 0) in {(f.rule, f.row) for f in result.findings}


def test_undeclared_columns_and_non_counts_fail():
    result = _check("group,n,extra\na,12,1\n", by=["group"], counts=["n"])
    assert result.status == "fail" and result.findings[0].rule == "undeclared"
    result = _check("group,n\na,12.5\nb,20\n", by=["group"], counts=["n"])
    assert result.status == "fail" and result.findings[0].rule == "not_a_count"
    assert result.protected is None


def test_without_groups_each_count_stands_alone():
    result = _check("term,estimate,n\nage,0.03,250\nsex,0.4,8\n", counts=["n"],
                    labels=["term"], statistics=["estimate"])
    assert list(result.protected.n) == ["250", ""]
    assert isinstance(result.protected, pd.DataFrame)


def test_a_description_that_is_not_understood_is_refused_naming_the_key():
    for bad, where in (({"by": "sex"}, "spec.by"), ({"colour": []}, "spec"),
                       ({"sums": [{"column": "x"}]}, "spec.sums")):
        with pytest.raises(UserError) as refused:
            TableSpec.from_dict(bad)
        assert refused.value.where == where
