"""Follow-up: retention against the 8% target (aggregates) and the overdue worklist of a
centre (row-level pseudonyms, for the centre's own staff; every read audited)."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request

from precimed.api.deps import check_centre, platform, read_rows, require
from precimed.api.routes.common import records, safe
from precimed.api.routes.dashboard import retention_tables
from precimed.cohorts.follow_up import TARGET_FOUR_YEAR_LOSS
from precimed.cohorts.follow_up import worklist as overdue
from precimed.errors import UserError
from precimed.ops.accounts import Principal

router = APIRouter(prefix="/followup", tags=["follow-up"])


@router.get("/retention", summary="Loss to follow-up by centre and wave (disclosure-safe)")
def retention(request: Request, principal: Principal = Depends(require("followup.read"))
              ) -> dict:
    p = platform(request)
    policy = p.policy
    as_of = p.as_of()
    summary, by_wave = retention_tables(request, as_of)
    waves = []
    for r in by_wave.itertuples():
        if not principal.sees_centre(r.centre):
            continue
        reached, lost = safe(r.reached, policy), safe(r.lost, policy)
        waves.append({"cohort": r.cohort, "centre": r.centre, "wave": int(r.wave),
                      "due": safe(r.due, policy), "reached": reached, "lost": lost,
                      "cumulative_loss": (None if reached is None or lost is None
                                          else round(float(r.cumulative_loss), 4))})
    centres = []
    for r in summary.itertuples():
        if not principal.sees_centre(r.centre):
            continue
        eligible, lost = safe(r.eligible, policy), safe(r.lost, policy)
        shown = eligible is not None and lost is not None
        centres.append({"cohort": r.cohort, "centre": r.centre,
                        "participants": safe(r.participants, policy),
                        "eligible": eligible, "lost": lost,
                        "loss": round(float(r.loss), 4) if shown and r.loss == r.loss else None,
                        "flag": bool(r.flag) and shown})
    return {"as_of": as_of.isoformat() if as_of else None, "target": TARGET_FOUR_YEAR_LOSS,
            "centres": centres, "waves": waves}


@router.get("/worklist", summary="A centre's participants overdue for follow-up (audited)")
def worklist(request: Request, centre: str = Query(min_length=2, max_length=32),
             limit: int = Query(100, ge=1, le=5000),
             principal: Principal = Depends(require("followup.read"))) -> dict:
    from precimed.standard import CENTRES

    if centre not in CENTRES:
        raise UserError(f"Unknown centre {centre!r}", where="centre",
                        hint="Centres: " + ", ".join(sorted(CENTRES)))
    check_centre(principal, centre, "centre")
    p = platform(request)
    as_of = p.as_of()

    def compute():
        if as_of is None:  # no dated data in the lake yet
            return pd.DataFrame()
        with p.live() as con:
            return overdue(con, centre=centre, as_of=as_of)

    rows = p.cached(("worklist", centre, as_of), compute)
    shown = rows.head(limit)
    read_rows(request, principal, what=f"follow-up worklist {centre}", count=len(shown))
    return {"centre": centre, "as_of": as_of.isoformat() if as_of else None,
            "overdue": len(rows),
            "rows": records(shown)}
