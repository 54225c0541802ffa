"""Submissions as the API and the submissions page list them: the centres' own only.

An ``unchanged`` submission (the same package again, the lake exactly as it left it) has
no QC report of its own: it names the committed submission of the same package
(``same_as``), whose report stands for it. A QC scoring (a clinical submission's or a
genotype dataset's) lists its checks with their names for people (:func:`scoring_checks`).
"""

from __future__ import annotations

from precimed.errors import NotFound
from precimed.ops.accounts import Principal, check_centre
from precimed.ops.db import QcScoring
from precimed.workflows.platform import Platform


def summary(record, same_as: str | None = None) -> dict:
    qc = (record.report or {}).get("qc") or {}
    return {"id": record.id, "centre": record.centre, "status": record.status,
            "received_at": record.received_at.isoformat(),
            "finished_at": record.finished_at.isoformat() if record.finished_at else None,
            "problem_count": record.problem_count, "rows": record.rows,
            "verdict": qc.get("verdict"), "rules_version": qc.get("rules_version"),
            "same_as": same_as}


def summaries(records: list) -> list[dict]:
    """Summaries of records in the order received, each unchanged one naming the latest
    committed submission of the same package before it."""
    committed: dict[tuple[str, str], str] = {}
    out = []
    for r in records:
        same_as = committed.get((r.centre, r.digest)) if r.status == "unchanged" else None
        if r.status == "committed":
            committed[(r.centre, r.digest)] = r.id
        out.append(summary(r, same_as))
    return out


def same_as(p: Platform, record) -> str | None:
    """The committed submission an unchanged one repeats (None for any other)."""
    if record.status != "unchanged":
        return None
    mine = p.ops.submissions(centre=record.centre)
    before = mine[:next((i for i, r in enumerate(mine) if r.id == record.id), len(mine))]
    return summaries([*before, record])[-1]["same_as"]


def visible_submissions(p: Platform, principal: Principal, centre: str | None) -> list:
    """The submissions of the centres the principal serves (of ``centre`` if given)."""
    if centre is not None:
        check_centre(principal, centre, "centre")
    return [r for r in p.ops.submissions(centre=centre) if principal.sees_centre(r.centre)]


def scoring_checks(p: Platform, principal: Principal, scoring_id: str) -> dict:
    """One QC scoring of a centre the principal serves: its verdict and every check, not
    passing first, with the rule set's names (zh, en). Counts are of samples, variants or
    rows checked inside the platform's own QC, never of people published."""
    from precimed.genomics.qc import load_genotype_rules
    from precimed.qc import load_ruleset

    with p.ops.session() as session:
        scoring = session.get(QcScoring, scoring_id)
    if scoring is None:
        raise NotFound("No QC scoring here", where="scoring",
                       hint="Open it from the submissions page.")
    check_centre(principal, scoring.centre, "scoring")
    version = scoring.rules_version
    try:
        ruleset = (load_genotype_rules(version.removeprefix("genotype-"))
                   if scoring.kind == "genotype"
                   else load_ruleset(version, p.settings.qc_rules_dir))
        names = {cid: (spec.zh, spec.en) for cid, spec in ruleset.checks.items()}
    except NotFound:  # a rule set since removed: the checks keep their ids
        names = {}
    order = {"fail": 0, "warn": 1, "not_run": 2, "pass": 3, "n/a": 4}
    checks = sorted(scoring.results, key=lambda r: (order.get(r["status"], 5), r["check"]))
    return {"id": scoring.id, "centre": scoring.centre, "kind": scoring.kind,
            "submission_id": scoring.submission_id, "rules_version": version,
            "verdict": scoring.verdict, "scored_at": scoring.scored_at.isoformat(),
            "checks": [{**r, "name": names.get(r["check"], (r["check"], r["check"]))}
                       for r in checks]}
