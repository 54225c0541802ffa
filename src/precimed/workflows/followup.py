"""Follow-up: retention against the 8% target (aggregates, disclosure-controlled) and the
overdue worklist of a centre (row-level pseudonyms, for the centre's own staff; every read
audited), for the API and the page."""

from __future__ import annotations

import pandas as pd

from precimed.cohorts.follow_up import TARGET_FOUR_YEAR_LOSS
from precimed.cohorts.follow_up import worklist as overdue
from precimed.errors import UserError
from precimed.ops import audit
from precimed.ops.accounts import Principal, check_centre
from precimed.standard import CENTRES
from precimed.workflows.dashboard import retention_tables
from precimed.workflows.platform import Platform
from precimed.workflows.published import records, safe


def retention(p: Platform, principal: Principal) -> dict:
    policy = p.policy
    as_of = p.as_of()
    summary, by_wave = retention_tables(p, as_of)
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


def worklist(p: Platform, principal: Principal, *, centre: str, limit: int,
             client: str = "") -> dict:
    if centre not in CENTRES:
        raise UserError(f"Unknown centre {centre!r}", where="centre",
                        hint="Centres: " + ", ".join(sorted(CENTRES)))
    check_centre(principal, centre, "centre")
    as_of = p.as_of()

    def compute():
        if as_of is None:  # no dated data in the lake yet
            return pd.DataFrame()
        with p.live() as con:
            return overdue(con, centre=centre, as_of=as_of)

    rows = p.cached(("worklist", centre, as_of), compute)
    shown = rows.head(limit)
    audit.row_read(p.ops, actor=principal.username, what=f"follow-up worklist {centre}",
                   count=len(shown), client=client)
    return {"centre": centre, "as_of": as_of.isoformat() if as_of else None,
            "overdue": len(rows),
            "rows": records(shown)}
