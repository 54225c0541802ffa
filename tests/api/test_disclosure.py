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
