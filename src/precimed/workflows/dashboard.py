"""The dashboard's aggregates (cohorts and enrolment, retention against the 8% target,
endpoint counts, the releases), for the API and the page; every count passes through
disclosure control."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select

from precimed.cohorts.follow_up import TARGET_FOUR_YEAR_LOSS, retention, retention_summary
from precimed.ops.db import EndpointCandidate
from precimed.standard import CENTRES, COHORTS
from precimed.workflows.platform import Platform
from precimed.workflows.published import safe


def enrolment(p: Platform) -> dict:
    def compute() -> dict:
        with p.live() as con:
            t = con.table("participant")
            frame = t.group_by(["cohort", "centre"]).agg(n=t.count()).to_pandas()
        return {(r.cohort, r.centre): int(r.n) for r in frame.itertuples()}

    return p.cached("enrolment", compute)


def retention_tables(p: Platform, as_of: dt.date | None):
    if as_of is None:  # no dated data in the lake yet: nobody to assess
        return pd.DataFrame(), pd.DataFrame()

    def compute():
        with p.live() as con:
            return retention_summary(con, as_of=as_of), retention(con, as_of=as_of)

    return p.cached(("retention", as_of), compute)


def dashboard(p: Platform) -> dict:
    policy = p.policy
    counts = enrolment(p)
    cohorts = []
    for code, cohort in COHORTS.items():
        n = sum(v for (c, _), v in counts.items() if c == code)
        cohorts.append({"code": code, "zh": cohort.zh, "en": cohort.en, "kind": cohort.kind,
                        "target": cohort.target_size, "enrolled": safe(n, policy)})
    centres = [{"centre": centre, "cohort": cohort, "zh": CENTRES[centre].zh,
                "en": CENTRES[centre].en, "enrolled": safe(n, policy)}
               for (cohort, centre), n in sorted(counts.items(), key=lambda x: x[0][1])
               if centre in CENTRES]
    with p.ops.session() as session:
        rows = session.execute(select(EndpointCandidate.endpoint, EndpointCandidate.status,
                                      func.count()).group_by(EndpointCandidate.endpoint,
                                                             EndpointCandidate.status)).all()
    endpoints: dict[str, dict] = {}
    for endpoint, status, n in rows:
        endpoints.setdefault(endpoint, {})[status] = safe(n, policy)
    as_of = p.as_of()
    summary, _ = retention_tables(p, as_of)
    retention_rows = [
        {"cohort": r.cohort, "centre": r.centre, "eligible": safe(r.eligible, policy),
         "lost": safe(r.lost, policy),
         "loss": (None if safe(r.eligible, policy) is None or safe(r.lost, policy) is None
                  else round(float(r.loss), 4)),
         "flag": bool(r.flag) and safe(r.lost, policy) is not None}
        for r in summary.itertuples()]
    latest = p.releases()[0] if p.releases() else None
    return {"cohorts": cohorts, "centres": centres, "endpoints": endpoints,
            "retention": {"target": TARGET_FOUR_YEAR_LOSS,
                          "as_of": as_of.isoformat() if as_of else None,
                          "centres": retention_rows},
            "latest_release": latest, "disclosure_threshold": policy.threshold}
