"""No count between 1 and the threshold leaves the server: probes of the aggregate
endpoints with cohorts made small on purpose, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

THRESHOLD = 10
COUNT_KEYS = {"count", "enrolled", "eligible", "lost", "participants", "due", "reached",
              "events", "confirmed", "pending", "rejected", "needs_information"}


def _counts(value, key=None):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _counts(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _counts(v, key)
    elif key in COUNT_KEYS and isinstance(value, int) and not isinstance(value, bool):
        yield key, value


def _assert_safe(payload):
    small = [(k, v) for k, v in _counts(payload) if 0 < v < THRESHOLD]
    assert not small, small


def test_every_aggregate_endpoint_hides_small_counts(as_user):
    admin = as_user("admin")
    for path in ("/api/v1/dashboard", "/api/v1/followup/retention",
                 "/api/v1/endpoints/incidence?by=centre", "/api/v1/endpoints/incidence?by=sex"):
        r = admin.get(path)
        assert r.status_code == 200, path
        _assert_safe(r.json())


def tiny_cohort(app) -> dict:
    """A definition whose true count is between 1 and 9, found on the release itself."""
    from precimed.query import compile as engine
    from precimed.query.model import CohortDefinition

    for age in range(60, 100, 2):
        definition = {"format": "precimed-cohort", "version": 1, "name": "tiny", "criteria": [
            {"kind": "participant", "field": "centre", "values": ["SH01"]},
            {"kind": "age", "min": age, "max": 120}]}
        with app.state.platform.query_database("r1") as con:
            n = engine.count(con, CohortDefinition.from_dict(definition))
        if 0 < n < THRESHOLD:
            return definition
    raise AssertionError("no small cohort in the test release")


def test_a_cohort_of_a_few_people_shows_no_number(app, as_user):
    tiny = tiny_cohort(app)
    r = as_user("researcher").post("/api/v1/cohorts/count", json={"definition": tiny})
    assert r.status_code == 200
    body = r.json()
    _assert_safe(body)
    assert body["count"] is None and body["threshold"] == THRESHOLD
    # differencing: no two neighbouring published steps differ by 1..T-1 either
    shown = [s["count"] for s in body["attrition"] if s["count"] is not None]
    assert all(a - b == 0 or a - b >= THRESHOLD for a, b in itertools.pairwise(shown))


def test_an_extract_below_the_threshold_is_refused(app, as_user):
    r = as_user("admin").post("/api/v1/cohorts/extract", json={
        "definition": tiny_cohort(app), "variables": ["sex"], "purpose": "probe"})
    assert r.status_code == 400 and "fewer than 10" in r.json()["error"]["what"]


def test_incidence_is_in_the_callers_tier(app, as_user, ops_of):
    """A researcher's incidence is perturbed and rounded (cell keys of the people with an
    event), an administrator's exact; both one table with its margins, hiding the same
    cells for the same reasons."""
    from precimed.cohorts import adjudication

    pending = adjudication.queue(ops_of)
    common = max({c.endpoint for c in pending},
                 key=lambda e: sum(c.endpoint == e for c in pending))
    chosen = [c.id for c in pending if c.endpoint == common][:120]
    for cid in chosen:
        adjudication.decide(ops_of, cid, "confirmed", reviewer="probe")
    app.state.platform.forget()
    try:
        admin = as_user("admin").get("/api/v1/endpoints/incidence?by=sex").json()
        researcher = as_user("researcher").get("/api/v1/endpoints/incidence?by=sex").json()
    finally:  # the session's other tests see the queue as it was
        for cid in chosen:
            adjudication.reopen(ops_of, cid, reviewer="probe", reason="test done")
        app.state.platform.forget()
    assert (admin["tier"], admin["rounding"]) == ("exact", 1)
    assert (researcher["tier"], researcher["rounding"]) == ("perturbed", 5)
    _assert_safe(researcher)
    exact = {(r["endpoint"], r["sex"]): r for r in admin["rows"]}
    shown = {(r["endpoint"], r["sex"]): r for r in researcher["rows"]}
    assert exact.keys() == shown.keys() and (common, "Total") in exact
    published = [(exact[k]["events"], shown[k]["events"]) for k in exact
                 if exact[k]["events"]]
    assert published, "no published incidence to compare"
    assert all(n % 5 == 0 and abs(n - e) <= 4 for e, n in published)
    assert any(n != e for e, n in published)  # exact counts do not reach researchers
    for k in exact:
        assert (exact[k]["events"] is None) == (shown[k]["events"] is None), k
        assert exact[k]["reason"] == shown[k]["reason"], k
    # person-years: rounded to 10 for the researcher, the rates from what is published
    assert (researcher["person_years_rounding"], admin["person_years_rounding"]) == (10, 0)
    assert researcher["margin"] == {"code": "Total", "zh": "合计", "en": "Total"}
    for row in researcher["rows"]:
        assert row["person_years"] % 10 == 0
        if row["events"] is not None and row["person_years"]:
            assert abs(row["rate"] - row["events"] * 1000 / row["person_years"]) < 1e-9


def test_survival_is_in_the_callers_tier(as_user):
    """A researcher's survival counts are perturbed and rounded and the curve is the life
    table of the published counts; an administrator's are exact with Kaplan–Meier."""
    older = {"format": "precimed-cohort", "version": 1, "name": "older",
             "criteria": [{"kind": "age", "min": 50, "max": 120}]}
    ask = {"definition": older, "by": "sex"}
    admin = as_user("admin").post("/api/v1/cohorts/survival", json=ask).json()
    researcher = as_user("researcher").post("/api/v1/cohorts/survival", json=ask).json()
    assert (admin["tier"], admin["curve_estimator"]) == ("exact", "kaplan_meier")
    assert (researcher["tier"], researcher["curve_estimator"]) == (
        "perturbed", "life_table_of_published_counts")
    _assert_safe(researcher)
    pairs = [(admin["n"], researcher["n"]), (admin["events"], researcher["events"])]
    for a, r in zip(admin["groups"], researcher["groups"], strict=True):
        pairs += [(a["n"], r["n"]), (a["events"], r["events"])]
        pairs += [(p["at_risk"], q["at_risk"])
                  for p, q in zip(a.get("curve", []), r.get("curve", []), strict=False)]
    shown = [(e, n) for e, n in pairs if e is not None and n is not None and e]
    assert shown and all(n % 5 == 0 and abs(n - e) <= 4 for e, n in shown)
    assert any(n != e for e, n in shown)
    assert "observed" not in (researcher["logrank"] or {})
