"""Endpoints: the adjudication queue (reviewers; centre-scoped when the reviewer's account
lists centres; every read audited) and incidence by group (aggregates), for the API and
the page."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from precimed.cohorts import adjudication
from precimed.errors import NotFound, UserError
from precimed.ops import audit
from precimed.ops.accounts import Principal, check_centre
from precimed.ops.db import EndpointCandidate
from precimed.standard.margins import margin_dict
from precimed.standard.measurements import MEASUREMENTS
from precimed.workflows.platform import Platform
from precimed.workflows.published import records


def candidate_dict(c: EndpointCandidate) -> dict:
    return {"id": c.id, "pseudonym": c.pseudonym[:12], "centre": c.centre,
            "endpoint": c.endpoint, "first_date": c.first_date.isoformat(),
            "sources": c.sources, "status": c.status, "updated_at": c.updated_at.isoformat()}


SORTS = ("first_date", "-first_date", "endpoint", "centre", "-sources", "-updated_at")
SOURCE_COUNTS = ("1", "2", "3+")


def candidates(p: Platform, principal: Principal, *, status: str = "pending",
               centre: str | None = None, endpoint: str | None = None,
               sources: str | None = None, sort: str = "first_date", offset: int = 0,
               limit: int = 100, client: str = "") -> dict:
    """One page of the queue (``status`` "all" for every status), of the centres the
    principal sees, filtered by centre, endpoint and number of reporting sources ("1",
    "2" or "3+"), sorted by ``sort`` (one of :data:`SORTS`; "-" for newest or most
    first; ties by id): ``total`` matching candidates and the ``rows`` from ``offset``,
    at most ``limit``. An audited read of the rows returned."""
    if centre is not None:
        check_centre(principal, centre, "centre")
    if sort not in SORTS:
        raise UserError("Unknown sort order", where=f"sort={sort!r}",
                        hint=f"Use one of: {', '.join(SORTS)}.")
    if sources is not None and sources not in SOURCE_COUNTS:
        raise UserError("Unknown number of sources", where=f"sources={sources!r}",
                        hint=f"Use one of: {', '.join(SOURCE_COUNTS)}.")
    wanted = None if status == "all" else status
    rows = [c for c in adjudication.queue(p.ops, centre=centre, status=wanted,
                                          endpoint=endpoint)
            if principal.sees_centre(c.centre)
            and (sources is None or _source_count(c) == sources)]
    key, newest = sort.lstrip("-"), sort.startswith("-")
    value = {"sources": lambda c: len(c.sources or ())}.get(key, lambda c: getattr(c, key))
    rows.sort(key=lambda c: c.id)
    rows.sort(key=value, reverse=newest)
    page = rows[offset:offset + limit]
    audit.row_read(p.ops, actor=principal.username, what="endpoint candidates",
                   count=len(page), client=client,
                   detail={"status": status, "centre": centre, "endpoint": endpoint,
                           "sources": sources, "offset": offset})
    return {"total": len(rows), "offset": offset, "limit": limit, "sort": sort,
            "rows": [candidate_dict(c) for c in page]}


def _source_count(c: EndpointCandidate) -> str:
    n = len(c.sources or ())
    return "3+" if n >= 3 else str(n)


def incidence(p: Platform, principal: Principal, *, by: str = "region") -> dict:
    """Incidence per 1,000 person-years by one grouping on the live lake, in the caller's
    disclosure tier (:meth:`Platform.policy_for`): one table per endpoint with its
    margins, the event counts with their cell keys, person-years rounded in the perturbed
    tier and the rates computed from the published figures. Says the as-of date and the
    tier."""
    from precimed.cohorts.endpoints import analysis_table, confirmed_events
    from precimed.cohorts.endpoints import incidence as rates
    from precimed.cohorts.follow_up import observation

    as_of = p.as_of()
    policy = p.policy_for(principal)

    def compute():
        if as_of is None:  # no dated data in the lake yet
            return pd.DataFrame()
        with p.live() as con:  # the lake as it is: the decisions as they stand
            table = analysis_table(con, confirmed_events(p.lake.snapshot(), p.ops),
                                   as_of=as_of)
            seen = observation(con, as_of=as_of)
        return rates(table, seen, by=[by], policy=policy, secret=p.secret())

    rows = records(p.cached(("incidence", by, as_of, policy.tier), compute))
    return {"as_of": as_of.isoformat() if as_of else None, "by": by, "rows": rows,
            "tier": policy.tier, "rounding": policy.rounding, "threshold": policy.threshold,
            "person_years_rounding": policy.person_years, "margin": margin_dict(),
            "rates_from": "published events and person-years"}


def case(p: Platform, principal: Principal, candidate_id: str, *, client: str = "") -> dict:
    """What a reviewer decides on: the candidate and its decisions; every report of its
    episode (the endpoint_event rows of its endpoint group dated from its first date
    through the episode window, and the death record), each code with its names and the
    reporting source and centre; and the participant's history before it: diagnoses
    (condition table and earlier endpoint reports, any code) and the latest measurement
    of each item on or before the first date. Read from the live lake; an audited read
    of one participant's records. Centre-scoped like the queue (NotFound outside it)."""
    from precimed.cohorts.endpoints import ENDPOINT_GROUPS, EPISODE_DAYS
    from precimed.standard.icd10 import names

    found = find_candidate(p, principal, candidate_id)
    first = found.first_date
    last = first + dt.timedelta(days=EPISODE_DAYS)
    prefixes = tuple(c.replace(".", "") for c in ENDPOINT_GROUPS.get(found.endpoint, ()))

    def coded(code: str | None) -> dict:
        zh, en = names(code or "")
        return {"code": code, "name_zh": zh, "name_en": en}

    def in_group(code: str | None) -> bool:
        return bool(code) and str(code).replace(".", "").upper().startswith(prefixes)

    with p.live() as con:
        who = found.pseudonym
        events = _rows(con, "endpoint_event", who)
        deaths = _rows(con, "death", who)
        conditions = _rows(con, "condition", who)
        measures = _rows(con, "measurement", who)
        person = _rows(con, "participant", who)
    evidence = [{**coded(e["icd10"]), "date": _iso(e["event_date"]), "source": e["source"],
                 "centre": e.get("centre"), "kind": "endpoint_event"}
                for e in events if e["event_date"] is not None
                and first <= e["event_date"] <= last and in_group(e["icd10"])]
    death = [{**coded(d["underlying_cause"]), "date": _iso(d["death_date"]),
              "source": d["source"] or "death_registry", "centre": d.get("centre"),
              "kind": "death", "in_group": in_group(d["underlying_cause"])}
             for d in deaths]
    prior = sorted(
        [{**coded(c["icd10"]), "date": _iso(c["diagnosed_on"]), "source": c["source"],
          "kind": "condition"} for c in conditions
         if c["diagnosed_on"] is None or c["diagnosed_on"] < first]
        + [{**coded(e["icd10"]), "date": _iso(e["event_date"]), "source": e["source"],
            "kind": "endpoint_event"} for e in events
           if e["event_date"] is not None and e["event_date"] < first],
        key=lambda r: (r["date"] or "", r["code"] or ""))
    latest: dict[str, dict] = {}
    for m in sorted(measures, key=lambda m: (m["measured_on"] or dt.date.min)):
        if m["measured_on"] is None or m["measured_on"] <= first:
            latest[m["code"]] = m
    items = {i.code: i for i in MEASUREMENTS}
    measurements = [{"code": code, "name_zh": items[code].zh if code in items else "",
                     "name_en": items[code].en if code in items else "",
                     "value": m["value"], "value_text": m.get("value_text"),
                     "unit": m["unit"], "date": _iso(m["measured_on"]), "wave": m.get("wave")}
                    for code, m in sorted(latest.items())]
    enrolled = person[0]["enrolment_date"] if person else None
    history = adjudication.history(p.ops, candidate_id)
    audit.row_read(p.ops, actor=principal.username, what=f"endpoint case {candidate_id}",
                   count=len(evidence) + len(death) + len(prior) + len(measurements),
                   client=client, detail={"candidate": candidate_id})
    return {**candidate_dict(found), "episode_end": last.isoformat(),
            "enrolment_date": _iso(enrolled), "evidence": evidence, "death": death,
            "prior_diagnoses": prior, "measurements": measurements,
            "history": [{"reviewer": d.reviewer, "from": d.from_status, "to": d.to_status,
                         "reason": d.reason, "decided_at": d.decided_at.isoformat()}
                        for d in history]}


def find_candidate(p: Platform, principal: Principal, candidate_id: str) -> EndpointCandidate:
    """The candidate ``candidate_id``, or NotFound; outside the caller's centres Forbidden
    (:func:`precimed.ops.accounts.check_centre`)."""
    with p.ops.session() as session:
        found = session.get(EndpointCandidate, candidate_id)
    if found is None:
        raise NotFound("No candidate here", where="candidate",
                       hint="Open the queue to find candidates.")
    check_centre(principal, found.centre, "candidate")
    return found


def _rows(con, table: str, pseudonym: str) -> list[dict]:
    t = con.table(table)
    return con.to_pyarrow(t.filter(t.pseudonym == pseudonym)).to_pylist()


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None
