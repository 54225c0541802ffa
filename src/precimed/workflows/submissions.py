"""Submissions as the API and the submissions page list them: the centres' own only."""

from __future__ import annotations

from precimed.ops.accounts import Principal, check_centre
from precimed.workflows.platform import Platform


def summary(record) -> dict:
    qc = (record.report or {}).get("qc") or {}
    return {"id": record.id, "centre": record.centre, "status": record.status,
            "received_at": record.received_at.isoformat(),
            "finished_at": record.finished_at.isoformat() if record.finished_at else None,
            "problem_count": record.problem_count, "rows": record.rows,
            "verdict": qc.get("verdict"), "rules_version": qc.get("rules_version")}


def visible_submissions(p: Platform, principal: Principal, centre: str | None) -> list:
    """The submissions of the centres the principal serves (of ``centre`` if given)."""
    if centre is not None:
        check_centre(principal, centre, "centre")
    return [r for r in p.ops.submissions(centre=centre) if principal.sees_centre(r.centre)]
