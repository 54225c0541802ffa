"""Issue 14's leaks, tried on the served app as the roles that found them: each attack
reproduces one way a hidden count came back, and fails when the count is recoverable.

Counts are differenced as an attacker would who knows the published mechanism (the
threshold, the tier's noise bound and rounding stated in the response) but not the
platform's secret: :func:`precimed.deid.consistent_counts` says which true counts a
published value can come from, and a small count is recovered when one value fits.
"""

from __future__ import annotations

import itertools

import pytest

from precimed.deid import EXACT, PERTURBED, Policy, consistent_counts
from precimed.query import compile as engine
from precimed.query.model import CohortDefinition

T = 10
REGIONS = ["east", "south", "northwest", "southwest", "northeast"]


def definition(*criteria) -> dict:
    return {"format": "precimed-cohort", "version": 1, "name": "probe",
            "criteria": list(criteria)}


def region(*values):
    return {"kind": "participant", "field": "region", "values": list(values)}


def age(low):
    return {"kind": "age", "min": low, "max": 120}


def sex(value):
    return {"kind": "participant", "field": "sex", "values": [value]}


def not_(criterion):
    return {"kind": "not", "criterion": criterion}


def true_count(app, body: dict) -> int:
    with app.state.platform.query_database("r1") as con:
        return engine.count(con, CohortDefinition.from_dict(body))


def pairs(app, kind: str, wanted: int = 12) -> list[tuple[dict, dict, int]]:
    """(wider, narrower, true difference 1..T-1) on release r1, both counts >= T."""
    out = []
    for low, (a, b), s in itertools.product(range(40, 80, 3),
                                            itertools.permutations(REGIONS, 2), "12"):
        if kind == "union":  # (a): X and C vs (X or Y) and C
            wide, narrow = (definition(region(a, b), age(low)),
                            definition(region(a), age(low)))
        elif kind == "prefix":  # (b): a definition and its first step alone
            wide, narrow = (definition(region(a, b), age(low)),
                            definition(region(a, b), age(low), sex(s)))
        else:  # (g): a count and the same count with one person's attribute excluded
            wide, narrow = (definition(region(a), sex(s)),
                            definition(region(a), sex(s), not_(age(low))))
        w, n = true_count(app, wide), true_count(app, narrow)
        if n >= T and 0 < w - n < T:
            out.append((wide, narrow, w - n))
        if len(out) >= wanted:
            break
    assert out, f"no {kind} pair with a small difference on the test release"
    return out


def policy_of(body: dict) -> Policy:
    """The mechanism the response says it used (before issue 14: exact counts)."""
    if body.get("tier") == PERTURBED:
        return Policy(threshold=body["threshold"], rounding=body["rounding"], perturb=True,
                      tier=PERTURBED)
    return Policy(threshold=body["threshold"], rounding=body.get("rounding", 1), tier=EXACT)


def recovered(client, wide: dict, narrow: dict) -> int | None:
    a = client.post("/api/v1/cohorts/count", json={"definition": wide}).json()
    b = client.post("/api/v1/cohorts/count", json={"definition": narrow}).json()
    if a["count"] is None or b["count"] is None:
        return None
    policy = policy_of(a)
    fits = {x - y for x in consistent_counts(a["count"], policy=policy)
            for y in consistent_counts(b["count"], policy=policy) if 0 < x - y < T}
    return fits.pop() if len(fits) == 1 else None


@pytest.mark.parametrize("kind", ["union", "prefix", "not"])
def test_a_researcher_cannot_difference_two_definitions(app, as_user, kind):
    researcher = as_user("researcher")
    found = [(diff, recovered(researcher, wide, narrow))
             for wide, narrow, diff in pairs(app, kind)]
    leaked = [d for d, guess in found if guess == d]
    assert not leaked, f"{len(leaked)} of {len(found)} small {kind} differences recovered"


def test_the_exact_tier_is_for_row_level_roles_only(as_user):
    body = as_user("researcher").post("/api/v1/cohorts/count",
                                      json={"definition": definition(age(40))}).json()
    assert body["tier"] == PERTURBED and body["rounding"] == 5 and body["count"] % 5 == 0
    body = as_user("admin").post("/api/v1/cohorts/count",
                                 json={"definition": definition(age(40))}).json()
    assert body["tier"] == EXACT


def test_the_prefix_step_is_marked_as_hidden_to_protect_another(app, as_user):
    # (b): a step hidden because the step after it is one person fewer is not "<10"
    _, narrow, _ = pairs(app, "prefix")[0]
    body = as_user("admin").post("/api/v1/cohorts/count", json={"definition": narrow}).json()
    reasons = [s["suppressed"].get("count") for s in body["attrition"]]
    assert "secondary" in reasons and "small" not in reasons, body["attrition"]


def _sum(values):
    return sum(v for v in values if v is not None)


def test_retention_deaths_and_losses_do_not_come_back_by_subtraction(as_user):
    # (e): due = reached + lost + died, published as one table per centre
    body = as_user("admin").get("/api/v1/followup/retention").json()
    for row in body["waves"]:
        due, reached, lost = row["due"], row["reached"], row["lost"]
        if None not in (due, reached, lost):
            assert not 0 < due - reached - lost < T, row  # died, derived
        if lost is None and row["suppressed"]["lost"] == "small":
            assert due is None or reached is None, row
        if reached is None and row["suppressed"].get("reached") == "small":
            assert due is None or lost is None, row


def test_the_dashboard_total_does_not_give_away_a_hidden_centre(as_user):
    # (f): a cohort's enrolled total and its centres' counts as one table
    body = as_user("admin").get("/api/v1/dashboard").json()
    for cohort in body["cohorts"]:
        centres = [c for c in body["centres"] if c["cohort"] == cohort["code"]]
        hidden = [c for c in centres if c["enrolled"] is None]
        if cohort["enrolled"] is not None and hidden:
            assert len(hidden) > 1, cohort
            assert not 0 < cohort["enrolled"] - _sum(c["enrolled"] for c in centres) < T


def test_the_dashboard_review_counts_are_one_table_with_their_totals(as_user):
    # endpoint review counts (pending / confirmed / ...) with each endpoint's total, each
    # status's total and the grand total: no hidden cell comes back by subtraction
    endpoints = as_user("admin").get("/api/v1/dashboard").json()["endpoints"]
    assert "Total" in endpoints and all("total" in e for e in endpoints.values())
    statuses = {s for e in endpoints.values() for s in e if s not in {"total", "suppressed"}}
    lines = [[(e, s) for s in statuses] + [(e, "total")] for e in endpoints]
    lines += [[(e, s) for e in endpoints if e != "Total"] + [("Total", s)]
              for s in [*statuses, "total"]]
    for line in lines:
        cells = [endpoints[e].get(s, 0) for e, s in line]
        hidden = [c for c in cells[:-1] if c is None]
        if cells[-1] is not None and hidden:
            assert len(hidden) > 1, line
            assert not 0 < cells[-1] - _sum(c for c in cells[:-1]) < T, line
        assert not (cells[-1] is None and not hidden), line  # a total alone is derivable


@pytest.mark.slow
def test_survival_groups_do_not_give_away_the_hidden_group(app, as_user):
    # (h): the total and the groups' events, as one table
    admin = as_user("admin")
    for by in ("centre", "region"):
        body = admin.post("/api/v1/cohorts/survival", json={
            "definition": definition(age(30)), "by": by}).json()
        groups = body["groups"]
        hidden = [g for g in groups if g["events"] is None]
        if body["events"] is not None and hidden:
            assert len(hidden) > 1 or not 0 < body["events"] - _sum(
                g["events"] for g in groups) < T, (by, groups)
        for g in groups:
            assert g["n"] is None or g["events"] is None or not 0 < g["n"] - g["events"] < T


@pytest.mark.slow
def test_the_log_rank_test_gives_no_exact_event_counts(as_user):
    # the log-rank test's observed events per group are the groups' exact event counts
    # (and the expected ones add up to them): beside the perturbed ones they would undo
    # the perturbation
    body = as_user("researcher").post("/api/v1/cohorts/survival", json={
        "definition": definition(), "by": "sex"}).json()
    assert body["tier"] == PERTURBED and body["logrank"] is not None
    assert set(body["logrank"]) == {"test", "statistic", "df", "p_value", "groups"}
