"""Endpoints: the adjudication queue (reviewers; centre-scoped when the reviewer's account
lists centres; every read audited) and incidence by group (aggregates), for the API and
the page."""

from __future__ import annotations

import pandas as pd

from precimed.cohorts import adjudication
from precimed.errors import UserError
from precimed.ops import audit
from precimed.ops.accounts import Principal, check_centre
from precimed.ops.db import EndpointCandidate
from precimed.standard.margins import margin_dict
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
