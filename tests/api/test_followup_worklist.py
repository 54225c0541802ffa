"""The follow-up worklist a centre's staff act on: sorted, paged, saying what it was
computed on (both ops backends)."""

from __future__ import annotations


def test_worklist_sorts_by_days_overdue_or_wave_and_pages(as_user):
    client = as_user("dm_sh01")
    full = client.get("/api/v1/followup/worklist?centre=SH01&limit=5000").json()
    assert full["overdue"] > 10, "too few overdue participants to test sorting"
    days = [r["days_overdue"] for r in full["rows"]]
    assert days == sorted(days, reverse=True) and full["sort"] == "overdue"

    by_wave = client.get("/api/v1/followup/worklist?centre=SH01&limit=5000&sort=wave").json()
    keys = [(r["wave"], -r["days_overdue"]) for r in by_wave["rows"]]
    assert keys == sorted(keys) and by_wave["sort"] == "wave"
    assert len({r["wave"] for r in by_wave["rows"]}) > 1, "one wave only: sort is vacuous"
    assert sorted(r["pseudonym"] for r in by_wave["rows"]) == sorted(
        r["pseudonym"] for r in full["rows"])

    first = client.get("/api/v1/followup/worklist?centre=SH01&sort=wave&limit=5").json()
    second = client.get(
        "/api/v1/followup/worklist?centre=SH01&sort=wave&limit=5&offset=5").json()
    assert [r["pseudonym"] for r in first["rows"] + second["rows"]] == [
        r["pseudonym"] for r in by_wave["rows"][:10]]
    assert second["offset"] == 5 and second["limit"] == 5
    assert second["overdue"] == full["overdue"]  # the total, not the page's rows


def test_worklist_says_what_it_was_computed_on(as_user):
    body = as_user("dm_sh01").get("/api/v1/followup/worklist?centre=SH01&limit=1").json()
    assert body["as_of"] and len(body["as_of"]) == 10
    on = body["computed_on"]
    assert on["state"] == "current" and on["latest_release"] == "r1"
    assert isinstance(on["lake_version"], int) and on["lake_version"] > 0


def test_worklist_refuses_an_unknown_order(as_user):
    response = as_user("dm_sh01").get("/api/v1/followup/worklist?centre=SH01&sort=name")
    assert response.status_code == 422
    assert "sort" in response.text
