"""``precimed cohort``: count, attrition and extracts of cohort definitions; retention."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from precimed.deid import EXACT, PERTURBED, Cell, Policy, publish_sequence
from precimed.errors import NotFound, UserError
from precimed.lake import Lake
from precimed.settings import Settings


@click.group("cohort")
def cohort_group() -> None:
    """Cohort definitions run on a release; follow-up and retention."""


def register(cli: click.Group) -> None:
    cli.add_command(cohort_group)


def _definition(path: Path):
    from precimed.query.model import CohortDefinition

    if not path.is_file():
        raise NotFound("No cohort definition here", where=str(path),
                       hint="Give the path of a JSON definition (CohortDefinition.to_json).")
    return CohortDefinition.from_json(path.read_text(encoding="utf-8"), where=str(path))


TIER = click.option(
    "--tier", type=click.Choice([PERTURBED, EXACT]), default=PERTURBED, show_default=True,
    help="Disclosure tier of the output: perturbed (what a researcher sees: cell-key noise "
         "and rounding) or exact (suppression only, for output that stays with people "
         "allowed to read participant rows).")


def print_attrition(rows, policy: Policy) -> str:
    """Print an attrition table through disclosure control; return the final count."""
    keys = [r.key for r in rows] if all(r.key is not None for r in rows) else None
    shown = publish_sequence([r.count for r in rows], policy=policy, keys=keys)
    width = max(len(r.label) for r in rows)
    for row, cell in zip(rows, shown, strict=True):
        click.echo(f"  {row.label:<{width}}  {_shown(cell, policy):>10}")
    return _shown(shown[-1], policy)


def _shown(n: Cell | int | None, policy: Policy) -> str:
    """A count as printed: "<T" when small, "hidden" when hidden to protect another."""
    if isinstance(n, Cell):
        if n.value is None:
            return "hidden" if n.reason == "secondary" else f"<{policy.threshold}"
        n = n.value
    return f"<{policy.threshold}" if n is None else f"{n:,}"


def as_of_for(snapshot, given, settings: Settings) -> tuple[dt.date, str]:
    """The as-of date of a result on ``snapshot`` and how it was chosen, for the output:
    ``--as-of`` or the as_of setting if given, else the snapshot's data cut (never today)."""
    day = given.date() if given else settings.as_of_given
    if day is not None:
        return day, f"as of {day}"
    where = f"release {snapshot.release}" if snapshot.release else "the lake"
    return snapshot.as_of(), f"as of {snapshot.as_of()}, the data cut of {where}"


@cohort_group.command("count")
@click.argument("definition", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--release", required=True, help="Release to count in (precimed release list).")
@TIER
@click.pass_obj
def count(settings_of, definition: Path, release: str, tier: str) -> None:
    """Count DEFINITION's members in a release, with the attrition after each criterion.

    Counts pass through disclosure control: counts below the disclosure threshold are
    shown as <T, steps hidden so that a small one cannot be worked out as "hidden"; in
    the perturbed tier the others carry the cell-key noise and rounding.
    """
    from precimed.deid import cellkey
    from precimed.query import compile as engine

    settings: Settings = settings_of()
    cohort = _definition(definition)
    con = Lake(settings.lake_dir).snapshot(release).database(settings.cache_dir)
    try:
        keys = None
        if tier == PERTURBED:
            cellkey.register(con, cellkey.keys_of(con, cellkey.platform_secret(settings)))
            keys = cellkey.RECORD_KEY_TABLE
        rows = engine.attrition(con, cohort, keys=keys)
    finally:
        con.disconnect()
    click.echo(f"{cohort.name or definition.name} in release {release} ({tier} counts)")
    final = print_attrition(rows, Policy.for_tier(settings, tier))
    click.echo(f"count: {final}")


@cohort_group.command("extract")
@click.argument("definition", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--release", required=True, help="Release to extract from.")
@click.option("--variables", required=True,
              help="Comma-separated participant fields and measurement codes, "
                   "e.g. sex,age,region,SBP,BMI.")
@click.pass_obj
def extract(settings_of, definition: Path, out: Path, release: str, variables: str) -> None:
    """Write one row per member of DEFINITION with the chosen variables to OUT (.csv or
    .parquet), pseudonymised; refused when the cohort is smaller than the threshold."""
    from precimed.query import compile as engine

    settings: Settings = settings_of()
    cohort = _definition(definition)
    names = [v.strip() for v in variables.split(",") if v.strip()]
    if out.suffix not in {".csv", ".parquet"}:
        raise UserError(f"Unknown output format {out.suffix!r}", where=str(out),
                        hint="Name the file .csv or .parquet.")
    # people who withdrew or were erased since the release are left out of its extracts
    con = Lake(settings.lake_dir).extract_snapshot(release).connect()
    try:
        frame = engine.extract(con, cohort, names)
    finally:
        con.disconnect()
    policy = Policy.from_settings(settings)
    if policy.is_small(len(frame)):
        _audit(settings, action="export", outcome="deny", resource=f"release {release}",
               detail={"reason": "cohort below threshold", "cohort": cohort.name})
        raise UserError(f"The cohort has fewer than {policy.threshold} members",
                        where=str(definition),
                        hint="An extract this small could identify people; widen the "
                             "criteria.")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    # the same audit event as the API's extract: a row-level read, written out
    _audit(settings, action="export", outcome="ok",
           resource=f"cohort extract, release {release}",
           detail={"rows": len(frame), "cohort": cohort.name, "variables": names})
    click.echo(f"{len(frame):,} members, {len(frame.columns)} columns written to {out} "
               f"(release {release})")


def _audit(settings: Settings, **event) -> None:
    """One event in the platform's audit log, by the person running the command."""
    from precimed.ops import OpsDatabase, audit

    ops = OpsDatabase(settings.database_url)
    try:
        audit.record(ops, actor=audit.cli_actor(), client="cli", **event)
    finally:
        ops.dispose()


@cohort_group.command("retention")
@click.option("--release", default=None, help="Release (default: the lake as it is now).")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date to assess at (default: the data cut of the release or lake).")
@click.option("--grace-days", default=180, show_default=True)
@TIER
@click.pass_obj
def retention(settings_of, release: str | None, as_of, grace_days: int, tier: str) -> None:
    """Cumulative 4-year loss to follow-up per centre against the programme's 8% target.

    The summary is published with the per-wave table it is part of (one table per
    centre), so a hidden count cannot be worked out from the others."""
    from precimed.cohorts import published
    from precimed.cohorts.follow_up import (
        TARGET_FOUR_YEAR_LOSS,
        retention_summary,
    )
    from precimed.cohorts.follow_up import retention as by_wave
    from precimed.deid import cellkey

    settings: Settings = settings_of()
    snapshot = Lake(settings.lake_dir).snapshot(release)
    day, said = as_of_for(snapshot, as_of, settings)
    con = snapshot.connect()
    try:  # with cell keys, for the perturbed tier's noise
        cellkey.register(con, cellkey.keys_of(con, cellkey.platform_secret(settings)))
        keys = cellkey.RECORD_KEY_TABLE
        summary = retention_summary(con, as_of=day, grace_days=grace_days, keys=keys)
        waves = by_wave(con, as_of=day, grace_days=grace_days, keys=keys)
    finally:
        con.disconnect()
    policy = Policy.for_tier(settings, tier)
    cells, _ = published.retention(summary, waves, policy=policy)
    click.echo(f"4-year loss to follow-up {said} (target ≤ 8%, {tier} counts)")
    for row, c in zip(summary.itertuples(index=False), cells, strict=True):
        loss = published.ratio(c["lost"], c["eligible"])
        share = "–" if loss is None else f"{100 * loss:.1f}%"
        flag = "  ABOVE TARGET" if loss is not None and loss > TARGET_FOUR_YEAR_LOSS else ""
        click.echo(f"  {row.cohort:<12} {row.centre:<8} eligible "
                   f"{_shown(c['eligible'], policy):>8}  lost {_shown(c['lost'], policy):>7}"
                   f"  {share:>6}{flag}")


@cohort_group.command("worklist")
@click.option("--centre", required=True, help="The centre whose overdue participants to list.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date to assess at (default: the data cut of the lake).")
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def worklist(settings_of, centre: str, as_of, limit: int) -> None:
    """Participants of CENTRE overdue for follow-up, longest overdue first (pseudonyms)."""
    from precimed.cohorts.follow_up import worklist as overdue

    settings: Settings = settings_of()
    snapshot = Lake(settings.lake_dir).snapshot()
    day, said = as_of_for(snapshot, as_of, settings)
    con = snapshot.connect()
    try:
        rows = overdue(con, centre=centre, as_of=day)
    finally:
        con.disconnect()
    click.echo(f"{len(rows):,} participants of {centre} overdue, {said}")
    for row in rows.head(limit).itertuples(index=False):
        click.echo(f"  {row.pseudonym[:12]}  wave {row.wave}  due {row.due_date}  "
                   f"{row.days_overdue:>5} days overdue  missed {row.missed_waves}  "
                   f"last traced {row.last_traced}  last outcome {row.last_outcome}")


@cohort_group.command("survival")
@click.argument("definition", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--release", required=True, help="Release to analyse.")
@click.option("--endpoint", default="death", show_default=True,
              help="death (registry) or an adjudicated endpoint group, e.g. stroke.")
@click.option("--by", default=None, help="Group curves by sex, region, centre or cohort.")
@click.option("--covariates", default="age,male", show_default=True,
              help="Cox covariates: age, male and baseline measurement codes.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the full result (with its provenance) to this JSON file.")
@TIER
@click.pass_obj
def survival(settings_of, definition: Path, release: str, endpoint: str, by: str | None,
             covariates: str, out: Path | None, tier: str) -> None:
    """Kaplan–Meier, log-rank and Cox for DEFINITION's members on a release; the result
    records the release and the definition, and its counts pass disclosure control."""
    import json

    from precimed.workflows.survival import cohort_survival

    settings: Settings = settings_of()
    names = tuple(c.strip() for c in covariates.split(",") if c.strip())
    policy = Policy.for_tier(settings, tier)
    result = cohort_survival(settings, _definition(definition), release=release,
                             endpoint=endpoint, by=by, covariates=names, policy=policy)
    print_survival(result, policy)
    if out:
        out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        click.echo(f"result with provenance written to {out}")


def print_survival(result: dict, policy: Policy) -> None:
    p = result["provenance"]
    click.echo(f"{result['endpoint']} in '{p['cohort']['name']}', release {p['release']} "
               f"(as of {p['as_of']}): n {_shown(result['n'], policy)}, events "
               f"{_shown(result['events'], policy)}")
    for g in result["groups"]:
        median = g.get("median_years")
        five = (g.get("curve") or [{}])[-1]
        click.echo(f"  {g['group']:<10} n {_shown(g['n'], policy):>8}  events "
                   f"{_shown(g['events'], policy):>6}  median "
                   f"{'not reached' if median is None or median != median else f'{median:.1f} y'}"
                   + (f"  S({five['year']} y) {five['survival']:.3f}" if five else ""))
    if result["logrank"]:
        click.echo(f"  log-rank chi2 {result['logrank']['statistic']:.2f}, "
                   f"p {result['logrank']['p_value']:.3g}")
    if result["cox"]:
        for name, hr in result["cox"]["hazard_ratios"].items():
            click.echo(f"  HR {name:<8} {hr['hr']:.3f} ({hr['lower']:.3f}-{hr['upper']:.3f})")
