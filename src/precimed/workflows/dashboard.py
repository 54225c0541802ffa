"""The dashboard's aggregates (cohorts and enrolment, retention against the 8% target,
endpoint counts, the releases), for the API and the page; every count passes through
disclosure control."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select

from precimed.cohorts import published
from precimed.cohorts.endpoints import TOTAL
from precimed.cohorts.follow_up import TARGET_FOUR_YEAR_LOSS, retention, retention_summary
from precimed.deid import Cell, Policy, cellkey, fields_of, protect_counts
from precimed.ops.accounts import Principal
from precimed.ops.db import EndpointCandidate
from precimed.standard import CENTRES, COHORTS
from precimed.workflows.platform import Platform


def enrolment(p: Platform) -> tuple[dict, dict]:
    """Participants per (cohort, centre), and each cell's key (its members' record keys
    summed in the same query), for the perturbed tier."""
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


def retention_tables(p: Platform, as_of: dt.date | None):
    if as_of is None:  # no dated data in the lake yet: nobody to assess
        return pd.DataFrame(), pd.DataFrame()

    def compute():
        with p.live() as con:  # with cell keys, for the perturbed tier's noise
            cellkey.register(con, cellkey.keys_of(con, p.secret()))
            keys = cellkey.RECORD_KEY_TABLE
            return (retention_summary(con, as_of=as_of, keys=keys),
                    retention(con, as_of=as_of, keys=keys))

    return p.cached(("retention", as_of), compute)


def dashboard(p: Platform, principal: Principal) -> dict:
    """The dashboard in the caller's disclosure tier: enrolment as one table (cohort
    totals with their centres), retention with its per-wave table."""
    policy = p.policy_for(principal)
    counts, keys = enrolment(p)
    by_cohort, by_centre = published.enrolment(
        {k: v for k, v in counts.items() if k[0] in COHORTS}, policy=policy, keys=keys)
    cohorts = []
    for code, cohort in COHORTS.items():
        cohorts.append({"code": code, "zh": cohort.zh, "en": cohort.en, "kind": cohort.kind,
                        "target": cohort.target_size,
                        **fields_of({"enrolled": by_cohort.get(code) or Cell(0)})})
    centres = [{"centre": centre, "cohort": cohort, "zh": CENTRES[centre].zh,
                "en": CENTRES[centre].en, **fields_of({"enrolled": cell})}
               for (cohort, centre), cell in sorted(by_centre.items(), key=lambda x: x[0][1])
               if centre in CENTRES]
    endpoints = review_counts(p, policy)
    as_of = p.as_of()
    summary, by_wave = retention_tables(p, as_of)
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


def review_counts(p: Platform, policy: Policy) -> dict[str, dict]:
    """Candidates per endpoint and review status as one table with its margins (each
    endpoint's total, each status's total over endpoints, keyed TOTAL, and the grand
    total): ``{endpoint: {status: n, ..., "total": n, "suppressed": {status: reason}}}``.
    Protected together, so no hidden cell comes back as a total minus the others."""
    with p.ops.session() as session:
        rows = session.execute(select(EndpointCandidate.endpoint, EndpointCandidate.status,
                                      func.count()).group_by(EndpointCandidate.endpoint,
                                                             EndpointCandidate.status)).all()
    if not rows:
        return {}
    frame = pd.DataFrame(rows, columns=["endpoint", "status", "n"])
    shown = protect_counts(frame, by=["endpoint", "status"], count="n", policy=policy,
                           total_label=TOTAL)
    out: dict[str, dict] = {}
    for r in shown.itertuples():
        entry = out.setdefault(r.endpoint, {"suppressed": {}})
        status = "total" if r.status == TOTAL else r.status
        entry[status] = None if pd.isna(r.n) else int(r.n)
        if r.reason:
            entry["suppressed"][status] = r.reason
    return out


def retention_row(r, cells: dict) -> dict:
    """One centre's four-year retention: its cells, and the loss share and target flag
    computed from the published cells only."""
    loss = published.ratio(cells["lost"], cells["eligible"])
    return {"cohort": r.cohort, "centre": r.centre, **fields_of(cells), "loss": loss,
            "flag": loss is not None and loss > TARGET_FOUR_YEAR_LOSS}
