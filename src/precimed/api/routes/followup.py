"""Follow-up: retention against the 8% target (aggregates) and the overdue worklist of a
centre (row-level pseudonyms, for the centre's own staff; every read audited)."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request

from precimed.api.deps import check_centre, platform, read_rows, require
from precimed.api.routes.common import records
from precimed.api.routes.dashboard import retention_row, retention_tables
from precimed.cohorts import published
from precimed.cohorts.follow_up import TARGET_FOUR_YEAR_LOSS
from precimed.cohorts.follow_up import worklist as overdue
from precimed.deid import fields_of
from precimed.errors import UserError
from precimed.ops.accounts import Principal

router = APIRouter(prefix="/followup", tags=["follow-up"])


@router.get("/retention", summary="Loss to follow-up by centre and wave (disclosure-safe)")
def retention(request: Request, principal: Principal = Depends(require("followup.read"))
              ) -> dict:
    p = platform(request)
    policy = p.policy_for(principal)
    as_of = p.as_of()
    summary, by_wave = retention_tables(request, as_of)
    summary_cells, wave_cells = published.retention(summary, by_wave, policy=policy)
    waves = []
    for r, cells in zip(by_wave.itertuples(), wave_cells, strict=True):
        if not principal.sees_centre(r.centre):
            continue
        waves.append({"cohort": r.cohort, "centre": r.centre, "wave": int(r.wave),
                      **fields_of(cells),
                      "cumulative_loss": published.ratio(cells["lost"], cells["reached"],
                                                         cells["lost"])})
    centres = [retention_row(r, cells)
               for r, cells in zip(summary.itertuples(), summary_cells, strict=True)
               if principal.sees_centre(r.centre)]
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
