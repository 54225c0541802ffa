"""The adjudication queue's pages: paging with a total, filters (endpoint, centre, number
of sources, status), sort orders, centre scope and refusals; on SQLite and PostgreSQL."""

from __future__ import annotations

from precimed.cohorts import adjudication

URL = "/api/v1/endpoints/candidates"


def _ids(rows):
    return [r["id"] for r in rows]


def test_pages_cover_the_queue_once_with_its_total(as_user, ops_of):
    client = as_user("reviewer")
    everything = adjudication.queue(ops_of, status=None)
    first = client.get(URL, params={"status": "all", "limit": 7}).json()
    assert first["total"] == len(everything) > 14
    assert (first["offset"], first["limit"], len(first["rows"])) == (0, 7, 7)
    second = client.get(URL, params={"status": "all", "limit": 7, "offset": 7}).json()
    assert second["total"] == first["total"]
    assert not set(_ids(first["rows"])) & set(_ids(second["rows"]))
    assert _ids(first["rows"]) + _ids(second["rows"]) == [c.id for c in everything][:14]
    past = client.get(URL, params={"status": "all", "offset": first["total"]}).json()
    assert past["rows"] == [] and past["total"] == first["total"]


def test_filters_and_sorts(as_user, ops_of):
    client = as_user("reviewer")
    everything = adjudication.queue(ops_of, status=None)
    endpoint, centre = everything[0].endpoint, everything[0].centre
    body = client.get(URL, params={"status": "all", "endpoint": endpoint,
                                   "centre": centre, "limit": 1000}).json()
    expected = [c.id for c in everything if (c.endpoint, c.centre) == (endpoint, centre)]
    assert body["total"] == len(expected) and _ids(body["rows"]) == expected
    for n, keep in (("1", lambda k: k == 1), ("2", lambda k: k == 2),
                    ("3+", lambda k: k >= 3)):
        body = client.get(URL, params={"status": "all", "sources": n, "limit": 1000}).json()
        assert body["total"] == sum(keep(len(c.sources)) for c in everything)
        assert all(keep(len(r["sources"])) for r in body["rows"])
    multi = sum(len(c.sources) >= 2 for c in everything)
    assert multi > 0  # the synthetic home has candidates reported by several sources
    pending = client.get(URL, params={"limit": 1000}).json()
    assert pending["total"] == sum(c.status == "pending" for c in everything)
    newest = client.get(URL, params={"status": "all", "sort": "-first_date",
                                     "limit": 1000}).json()["rows"]
    dates = [r["first_date"] for r in newest]
    assert dates == sorted(dates, reverse=True) and dates[0] > dates[-1]
    most = client.get(URL, params={"status": "all", "sort": "-sources",
                                   "limit": 1000}).json()["rows"]
    counts = [len(r["sources"]) for r in most]
    assert counts == sorted(counts, reverse=True)
    by_endpoint = client.get(URL, params={"status": "all", "sort": "endpoint",
                                          "limit": 1000}).json()["rows"]
    assert [r["endpoint"] for r in by_endpoint] == sorted(r["endpoint"] for r in by_endpoint)


def test_a_scoped_reviewer_pages_only_their_centre(as_user, ops_of):
    body = as_user("reviewer_sh01").get(URL, params={"status": "all", "limit": 3}).json()
    assert body["total"] == sum(c.centre == "SH01"
                                for c in adjudication.queue(ops_of, status=None))
    assert {r["centre"] for r in body["rows"]} == {"SH01"}
    other = as_user("reviewer_sh01").get(URL, params={"centre": "JS01"})
    assert other.status_code in (403, 404)


def test_bad_paging_and_filters_are_refused(as_user):
    client = as_user("reviewer")
    for params in ({"offset": -1}, {"limit": 0}, {"limit": 1001}, {"sources": "4"},
                   {"sort": "pseudonym"}, {"status": "maybe"}):
        r = client.get(URL, params=params)
        assert r.status_code == 422, (params, r.text)
    assert as_user("researcher").get(URL).status_code == 403


# -- the case view ------------------------------------------------------------------------
def _case(client, cid):
    r = client.get(f"{URL}/{cid}/case")
    assert r.status_code == 200, r.text
    return r.json()


def test_the_case_shows_every_sources_evidence_with_names(as_user, ops_of):
    from sqlalchemy import select

    from precimed.cohorts.endpoints import ENDPOINT_GROUPS
    from precimed.ops.db import AuditEvent

    client = as_user("reviewer")
    everything = adjudication.queue(ops_of, status=None)
    several = [c for c in everything if len(c.sources) >= 2][:3]
    died = [c for c in everything if "death_registry" in c.sources][:2]
    assert several and died
    for c in several + died:
        body = _case(client, c.id)
        assert body["id"] == c.id and body["endpoint"] == c.endpoint
        prefixes = ENDPOINT_GROUPS[c.endpoint]
        reported = {e["source"] for e in body["evidence"]}
        reported |= {d["source"] for d in body["death"]
                     if d["in_group"] and c.first_date.isoformat() <= d["date"]
                     <= body["episode_end"]}
        assert reported == set(c.sources), (c.id, body)
        for e in body["evidence"]:
            assert e["code"].replace(".", "").startswith(prefixes)
            assert e["name_zh"] and e["name_en"] and e["date"] >= c.first_date.isoformat()
        assert all(p["date"] is None or p["date"] < c.first_date.isoformat()
                   for p in body["prior_diagnoses"])
        assert all(m["date"] is None or m["date"] <= c.first_date.isoformat()
                   for m in body["measurements"])
        assert len(body["pseudonym"]) == 12  # never the whole pseudonym
    body = _case(client, died[0].id)
    assert body["death"] and body["death"][0]["code"] and body["death"][0]["name_zh"]
    assert any(_case(client, c.id)["measurements"] for c in several)
    with ops_of.session() as session:
        read = session.scalars(select(AuditEvent).where(
            AuditEvent.resource == f"endpoint case {died[0].id}")
            .order_by(AuditEvent.seq.desc())).first()
    assert read is not None and read.actor == "reviewer" and read.action == "read.row_level"


def test_the_case_is_refused_outside_the_reviewers_scope(as_user, ops_of):
    everything = adjudication.queue(ops_of, status=None)
    other = next(c for c in everything if c.centre != "SH01")
    mine = next(c for c in everything if c.centre == "SH01")
    assert as_user("reviewer_sh01").get(f"{URL}/{other.id}/case").status_code == 404
    assert as_user("reviewer_sh01").get(f"{URL}/{mine.id}/case").status_code == 200
    assert as_user("reviewer").get(f"{URL}/nosuchcandidate/case").status_code == 404
    assert as_user("researcher").get(f"{URL}/{mine.id}/case").status_code == 403


def test_rejecting_or_asking_without_a_reason_is_refused_and_changes_nothing(as_user, ops_of):
    # the newest pending candidate of the last centre: no other test decides it
    pending = adjudication.queue(ops_of)
    last = max(pending, key=lambda c: (c.centre, c.first_date, c.id))
    decided = len(adjudication.history(ops_of, last.id))
    for to, reason in (("rejected", None), ("rejected", "   "), ("needs_information", "")):
        r = as_user("reviewer").post(f"{URL}/{last.id}/decision",
                                     json={"to_status": to, "reason": reason})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["where"] == "reason"
    assert len(adjudication.history(ops_of, last.id)) == decided
    assert as_user("reviewer").get(f"{URL}/{last.id}").json()["status"] == "pending"
