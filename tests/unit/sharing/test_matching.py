"""DUOS-style matching: each DUO condition against a DUO-coded intended use."""

from __future__ import annotations

import datetime as dt

import pytest

from precimed.errors import UserError
from precimed.sharing.matching import Facts, IntendedUse, match_dataset, match_request
from precimed.standard.duo import parse_conditions

FACTS = Facts(ethics=True, foreign=False, use_until=dt.date(2027, 6, 30))


def result(conditions: list[str], use: IntendedUse, facts: Facts = FACTS):
    m = match_dataset(use, parse_conditions(conditions), facts, entry_id="e",
                      conditions_version=1)
    return m.result, [c.en for c in m.clauses if c.result != "consistent"]


def test_general_research_use_allows_any_purpose():
    for use in (IntendedUse("HMB"), IntendedUse("DS", "I21"), IntendedUse("POA"),
                IntendedUse("GRU", methods=True, ancestry=True)):
        assert result(["GRU"], use) == ("consistent", [])


def test_ncu_names_the_commercial_clause():
    assert result(["HMB", "NCU"], IntendedUse("HMB", commercial=True)) == (
        "inconsistent", ["NCU: commercial use requested"])


def test_npu_and_npuncu_refuse_for_profit_organisations():
    assert result(["GRU", "NPU"], IntendedUse("GRU", for_profit=True))[0] == "inconsistent"
    assert result(["GRU", "NPUNCU"], IntendedUse("GRU", commercial=True))[0] == "inconsistent"
    assert result(["GRU", "NPU"], IntendedUse("GRU", commercial=True))[0] == "consistent"


def test_hmb_excludes_ancestry_research():
    assert result(["HMB"], IntendedUse("HMB", ancestry=True))[0] == "inconsistent"
    assert result(["HMB"], IntendedUse("POA"))[0] == "inconsistent"


def test_disease_specific_needs_a_disease_within_the_condition():
    assert result(["DS:I20-I25"], IntendedUse("DS", "I21.9"))[0] == "consistent"
    assert result(["DS:I21"], IntendedUse("DS", "I21"))[0] == "consistent"
    state, why = result(["DS:I21"], IntendedUse("DS", "E11"))
    assert state == "inconsistent" and "E11" in why[0]
    assert result(["DS:I21"], IntendedUse("HMB"))[0] == "inconsistent"
    assert result(["DS:MONDO:0005068"], IntendedUse("DS", "I21"))[0] == "needs_review"


def test_methods_and_ancestry_modifiers():
    assert result(["HMB", "NMDS"], IntendedUse("HMB", methods=True)) == (
        "inconsistent", ["NMDS: methods development requested"])
    assert result(["GRU", "NPOA"], IntendedUse("POA"))[0] == "inconsistent"
    assert result(["POA"], IntendedUse("HMB"))[0] == "inconsistent"
    assert result(["POA"], IntendedUse("GRU", ancestry=True))[0] == "consistent"


def test_irb_needs_ethics_and_ts_compares_with_the_period_of_use():
    no_ethics = Facts(ethics=False, foreign=False, use_until=dt.date(2027, 1, 1))
    assert result(["HMB", "IRB"], IntendedUse("HMB"), no_ethics)[0] == "inconsistent"
    assert result(["HMB", "TS:2027-06-30"], IntendedUse("HMB"))[0] == "consistent"
    state, why = result(["HMB", "TS:2027-06-29"], IntendedUse("HMB"))
    assert state == "inconsistent" and why == ["TS: use until 2027-06-30 is past the limit "
                                               "2027-06-29"]


def test_committee_judged_conditions_need_review():
    for code in ("COL", "US", "PS", "IS", "GSO"):
        assert result(["HMB", code], IntendedUse("HMB"))[0] == "needs_review", code
    foreign = Facts(ethics=True, foreign=True, use_until=dt.date(2027, 1, 1))
    assert result(["HMB", "GS:CN"], IntendedUse("HMB"), foreign)[0] == "needs_review"
    assert result(["HMB", "GS:CN"], IntendedUse("HMB"))[0] == "consistent"


def test_requirements_are_consistent_and_no_conditions_need_review():
    assert result(["HMB", "PUB", "RTN", "MOR:2027-01-01"], IntendedUse("HMB"))[0] == \
        "consistent"
    assert result([], IntendedUse("HMB"))[0] == "needs_review"


def test_the_request_takes_the_worst_dataset():
    use = IntendedUse("HMB", commercial=True)
    ok = match_dataset(use, parse_conditions(["GRU"]), FACTS, entry_id="a",
                       conditions_version=1)
    bad = match_dataset(use, parse_conditions(["HMB", "NCU"]), FACTS, entry_id="b",
                        conditions_version=2)
    matched = match_request([ok, bad])
    assert matched["result"] == "inconsistent"
    assert [d["result"] for d in matched["datasets"]] == ["consistent", "inconsistent"]
    assert matched["datasets"][1]["clauses"][1]["zh"] == "NCU：申请了商业用途"


@pytest.mark.parametrize("data, where", [
    ({"purpose": "XYZ"}, "intended_use"),
    ({"purpose": "DS"}, "intended_use.disease"),
    ({"purpose": "DS", "disease": "not-a-code"}, "intended_use.disease"),
    ({"purpose": "HMB", "disease": "I21"}, "intended_use.disease"),
    ({"purpose": "HMB", "commercial": "maybe"}, "intended_use.commercial"),
])
def test_a_bad_intended_use_names_its_field(data, where):
    with pytest.raises(UserError) as caught:
        IntendedUse.parse(data)
    assert caught.value.where == where


def test_an_intended_use_takes_duo_ids():
    assert IntendedUse.parse({"purpose": "DUO:0000006"}).purpose == "HMB"
    assert IntendedUse.parse({"purpose": "ds", "disease": "i219"}).disease == "I21.9"
