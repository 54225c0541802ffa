"""The dashboard: cohorts and enrolment, retention against the 8% target, endpoint counts,
the releases. Every count passes through disclosure control."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select

from precimed.api.deps import platform, require
from precimed.api.routes.common import safe
from precimed.cohorts import published
from precimed.cohorts.follow_up import TARGET_FOUR_YEAR_LOSS, retention, retention_summary
from precimed.deid import Cell, cellkey, fields_of
from precimed.ops.accounts import Principal
from precimed.ops.db import EndpointCandidate
from precimed.standard import CENTRES, COHORTS

router = APIRouter(tags=["dashboard"])


@router.get("/releases", summary="Releases, newest first")
def releases(request: Request, _: Principal = Depends(require("dashboard.read"))) -> list:
    return platform(request).releases()


def enrolment(request: Request) -> tuple[dict, dict]:
    """Participants per (cohort, centre), and each cell's key (its members' record keys
    summed in the same query), for the perturbed tier."""
    p = platform(request)

    def compute() -> tuple[dict, dict]:
        with p.live() as con:
            cellkey.register(con, cellkey.keys_of(con, p.secret()))
            t = con.table("participant")
            k = con.table(cellkey.RECORD_KEY_TABLE)
            k = k.select(k_p=k.pseudonym, rk=k.record_key.cast("int64"))
            j = t.inner_join(k, t.pseudonym == k.k_p)
            frame = j.group_by(["cohort", "centre"]).agg(n=j.count(), k=j.rk.sum()
                                                         ).to_pandas()
        cells = [(r.cohort, r.centre) for r in frame.itertuples()]
        return ({c: int(n) for c, n in zip(cells, frame.n, strict=True)},
                {c: int(k) % cellkey.KEY_SPACE for c, k in zip(cells, frame.k, strict=True)})

    return p.cached("enrolment", compute)


def retention_tables(request: Request, as_of: dt.date | None):
    p = platform(request)
    if as_of is None:  # no dated data in the lake yet: nobody to assess
        return pd.DataFrame(), pd.DataFrame()

    def compute():
        with p.live() as con:
            return retention_summary(con, as_of=as_of), retention(con, as_of=as_of)

    return p.cached(("retention", as_of), compute)


@router.get("/dashboard", summary="Aggregates for the dashboard, disclosure-controlled")
def dashboard(request: Request, principal: Principal = Depends(require("dashboard.read"))
              ) -> dict:
    p = platform(request)
    policy = p.policy_for(principal)
    counts, keys = enrolment(request)
    by_cohort, by_centre = published.enrolment(
        {k: v for k, v in counts.items() if k[0] in COHORTS}, policy=policy, keys=keys)
    cohorts = []
    for code, cohort in COHORTS.items():
        cell = by_cohort.get(code)
        cohorts.append({"code": code, "zh": cohort.zh, "en": cohort.en, "kind": cohort.kind,
                        "target": cohort.target_size,
                        **fields_of({"enrolled": cell or Cell(0)})})
    centres = [{"centre": centre, "cohort": cohort, "zh": CENTRES[centre].zh,
                "en": CENTRES[centre].en, **fields_of({"enrolled": cell})}
               for (cohort, centre), cell in sorted(by_centre.items(), key=lambda x: x[0][1])
               if centre in CENTRES]
    with p.ops.session() as session:
        rows = session.execute(select(EndpointCandidate.endpoint, EndpointCandidate.status,
                                      func.count()).group_by(EndpointCandidate.endpoint,
                                                             EndpointCandidate.status)).all()
    endpoints: dict[str, dict] = {}
    for endpoint, status, n in rows:
        endpoints.setdefault(endpoint, {})[status] = safe(n, policy)
    as_of = p.as_of()
    summary, by_wave = retention_tables(request, as_of)
    summary_cells, _ = published.retention(summary, by_wave, policy=policy)
    retention_rows = [retention_row(r, cells) for r, cells in
                      zip(summary.itertuples(), summary_cells, strict=True)]
    latest = p.releases()[0] if p.releases() else None
    return {"cohorts": cohorts, "centres": centres, "endpoints": endpoints,
            "retention": {"target": TARGET_FOUR_YEAR_LOSS,
                          "as_of": as_of.isoformat() if as_of else None,
                          "centres": retention_rows},
            "latest_release": latest, "disclosure_threshold": policy.threshold,
            "tier": policy.tier}


def retention_row(r, cells: dict) -> dict:
    """One centre's four-year retention: its cells, and the loss share and target flag
    computed from the published cells only."""
    loss = published.ratio(cells["lost"], cells["eligible"])
    return {"cohort": r.cohort, "centre": r.centre, **fields_of(cells), "loss": loss,
            "flag": loss is not None and loss > TARGET_FOUR_YEAR_LOSS}
