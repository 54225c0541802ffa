"""Scorecards (per centre over time, pass rate by Kahn category) and re-scoring.

Every scoring is kept in the operational database: one per submission, and one per
centre each time the lake is re-scored under a rule set. Re-scoring reads the lake, not
the packages: the query checks run on the centre's committed rows; the checks made while
reading files are re-scored from the counts kept with each committed submission. When
nothing has changed since the centre's last scoring and the new rule set counts the same
way (only thresholds, severities or names differ), the kept counts are re-scored and no
query runs at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import ibis
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from precimed.lake import Lake
from precimed.ops import OpsDatabase, QcScoring
from precimed.qc.rules import CATEGORIES, load_ruleset
from precimed.qc.runner import (
    CheckResult,
    QcOutcome,
    check_meta,
    evaluate,
    fingerprint,
    rescore_results,
    status_of,
)
from precimed.qc.stage import lake_data
from precimed.reports.problems import Report
from precimed.settings import Settings, local_time


@dataclass(frozen=True)
class Rescored:
    centre: str
    scoring_id: str
    outcome: QcOutcome
    reused_counts: bool


def rescore(settings: Settings, version: str, *, centres: tuple[str, ...] = (),
            progress: Callable[[str], None] | None = None) -> list[Rescored]:
    """Score every centre's rows in the lake (or the named centres') under ``version``."""
    say = progress or (lambda _: None)
    ruleset = load_ruleset(version, settings.qc_rules_dir)
    lake = Lake(settings.lake_dir)
    snapshot = lake.snapshot()
    ops = OpsDatabase(settings.database_url)
    ops.create()
    con = ibis.duckdb.connect()
    done = []
    try:
        present = sorted(snapshot.to_arrow("participant", columns=["centre"])
                         .column("centre").unique().to_pylist())
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        for centre in (c for c in present if not centres or c in centres):
            say(f"re-scoring {centre} under rule set {version}")
            scorings = ops.scorings(centre=centre)
            latest = scorings[-1] if scorings else None
            results = None
            if latest is not None and latest.kind == "rescore" \
                    and latest.catalog_version == snapshot.catalog_version:
                results = rescore_results([CheckResult.from_dict(r) for r in latest.results],
                                          ruleset, centre)
            report = Report(f"rescore-{stamp}-{centre}", centre, "lake")
            if results is not None:
                outcome = QcOutcome(ruleset.version, ruleset.digest(), centre, results,
                                    checks=check_meta(ruleset.for_centre(centre)))
            else:
                data = lake_data(con, snapshot, centre, ruleset)
                outcome = evaluate(ruleset, centre, report, files={}, rows={}, data=data,
                                   progress=say)
                outcome.results = _kept_ingest_counts(scorings, ruleset, centre) + [
                    r for r in outcome.results if ruleset.checks[r.check].type != "ingest"]
            report.qc, report.status = outcome.to_dict(), "rescored"
            report.write(settings.reports_dir / f"{report.submission_id}.json")
            ops.add(QcScoring(id=report.submission_id, submission_id=None, centre=centre,
                              kind="rescore", rules_version=version, verdict=outcome.verdict,
                              scored_at=dt.datetime.now(dt.UTC),
                              catalog_version=snapshot.catalog_version,
                              pass_rates=outcome.pass_rates(),
                              results=[r.to_dict() for r in outcome.results]))
            done.append(Rescored(centre, report.submission_id, outcome, results is not None))
    finally:
        con.disconnect()
        ops.dispose()
    return done


def _kept_ingest_counts(scorings: list[QcScoring], ruleset, centre: str) -> list[CheckResult]:
    """Counts of the checks made at ingest, summed over the centre's committed
    submissions and scored under the new rule set."""
    specs = ruleset.for_centre(centre)
    totals: dict[tuple[str, str], list] = {}
    for scoring in scorings:
        if scoring.kind != "submission" or scoring.verdict == "fail":
            continue
        for r in scoring.results:
            spec = specs.get(r["check"])
            if spec is None or spec.type != "ingest":
                continue
            entry = totals.setdefault((r["check"], r["instance"]), [r, 0, 0])
            entry[1] += r["failing"]
            entry[2] += r["checked"]
    results = []
    for (check, instance), (r, failing, checked) in sorted(totals.items()):
        spec = specs[check]
        results.append(CheckResult(check, instance, r["table"], r["field"], spec.category,
                                   spec.subcategory, spec.severity, spec.threshold, failing,
                                   checked, status_of(spec, failing, checked),
                                   fingerprint(spec, ruleset, centre)))
    return results


# -- the scorecard ----------------------------------------------------------------------

def scorecard(settings: Settings, *, centre: str | None = None) -> list[dict]:
    """One row per scoring: when, what, rule set, verdict, pass rate by category."""
    ops = OpsDatabase(settings.database_url)
    ops.create()
    try:
        rows = []
        for s in ops.scorings(centre=centre):
            rows.append({"centre": s.centre, "scored_at": s.scored_at.isoformat(
                timespec="seconds"), "kind": s.kind, "id": s.id,
                "rules": s.rules_version, "verdict": s.verdict,
                **{c: s.pass_rates.get(c) for c in CATEGORIES}})
        return rows
    finally:
        ops.dispose()


def scorecard_text(rows: list[dict]) -> str:
    head = f"{'centre':<8} {'scored at':<20} {'kind':<10} {'rules':<6} {'verdict':<19}" + \
        "".join(f" {c[:12]:>12}" for c in CATEGORIES)
    lines = [head]
    for r in rows:
        rates = "".join(" " + (f"{100 * r[c]:11.1f}%" if r[c] is not None else f"{'–':>12}")
                        for c in CATEGORIES)
        lines.append(f"{r['centre']:<8} {r['scored_at'][:19]:<20} {r['kind']:<10} "
                     f"{r['rules']:<6} {r['verdict']:<19}{rates}")
    return "\n".join(lines)


def scorecard_html(rows: list[dict], zone: dt.tzinfo = dt.UTC) -> str:
    """A self-contained page: pass rate by category over time for each centre; times in
    ``zone`` (the platform's, setting time_zone) with the zone named."""
    from precimed.qc.report import environment, svg

    rows = [{**r, "scored_at_shown": local_time(r["scored_at"], zone)} for r in rows]

    plots = []
    for centre in sorted({r["centre"] for r in rows}):
        mine = [r for r in rows if r["centre"] == centre]
        fig, ax = plt.subplots(figsize=(5, 2.4), dpi=100)
        for category, colour in zip(CATEGORIES, ("#1f77b4", "#2f8132", "#c0392b"),
                                    strict=True):
            points = [(i, 100 * r[category]) for i, r in enumerate(mine)
                      if r[category] is not None]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", color=colour, label=category)
        ax.set_ylim(0, 105)
        ax.set_xticks(range(len(mine)), [r["scored_at"][:10] for r in mine], fontsize=6,
                      rotation=30)
        ax.set_ylabel("% passing", fontsize=8)
        ax.set_title(centre, fontsize=10)
        ax.legend(fontsize=7, frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        plots.append((centre, svg(fig)))
    return environment().get_template("scorecard.html").render(rows=rows, plots=plots,
                                                               categories=CATEGORIES)
