"""``precimed endpoints``: candidate events, the adjudication queue, incidence."""

from __future__ import annotations

import click

from precimed.cli.cohort import TIER
from precimed.deid import SECONDARY, Policy, cellkey
from precimed.lake import Lake
from precimed.ops import OpsDatabase
from precimed.settings import Settings


@click.group("endpoints")
def endpoints_group() -> None:
    """Endpoint candidates from every source, their adjudication, and incidence."""


def register(cli: click.Group) -> None:
    cli.add_command(endpoints_group)


def _ops(settings: Settings) -> OpsDatabase:
    ops = OpsDatabase(settings.database_url)
    ops.create()
    return ops


@endpoints_group.command("load")
@click.option("--release", default=None, help="Release (default: the lake as it is now).")
@click.option("--episode-days", default=90, show_default=True,
              help="Reports of one endpoint within this many days of the first are one episode.")
@click.pass_obj
def load(settings_of, release: str | None, episode_days: int) -> None:
    """Merge endpoint reports (self-report, hospital records, claims, death registry) into
    one candidate per participant, endpoint and episode, and queue the new ones."""
    from precimed.cohorts import candidates, load_candidates

    settings: Settings = settings_of()
    con = Lake(settings.lake_dir).snapshot(release).connect()
    try:
        frame = candidates(con, episode_days=episode_days)
    finally:
        con.disconnect()
    ops = _ops(settings)
    try:
        added = load_candidates(ops, frame)
    finally:
        ops.dispose()
    click.echo(f"{len(frame):,} candidates from {int(frame.reports.sum()):,} reports; "
               f"{added:,} new, queued as pending")


@endpoints_group.command("queue")
@click.option("--centre", default=None)
@click.option("--status", default="pending", show_default=True,
              help="pending, needs_information, confirmed, rejected, or 'all'.")
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def show_queue(settings_of, centre: str | None, status: str, limit: int) -> None:
    """Candidates awaiting review, oldest first."""
    from precimed.cohorts import queue
    from precimed.ops import audit

    settings: Settings = settings_of()
    ops = _ops(settings)
    try:
        rows = queue(ops, centre=centre, status=None if status == "all" else status,
                     limit=limit)
        audit.row_read(ops, actor=audit.cli_actor(), what="endpoint candidates",
                       count=len(rows), client="cli",
                       detail={"status": status, "centre": centre})
    finally:
        ops.dispose()
    for c in rows:
        click.echo(f"{c.id}  {c.centre:<8} {c.endpoint:<18} {c.first_date}  {c.status:<17} "
                   f"{', '.join(c.sources)}")
    click.echo(f"{len(rows)} shown")


@endpoints_group.command("decide")
@click.argument("candidate")
@click.argument("status", type=click.Choice(["confirmed", "rejected", "needs_information",
                                             "pending", "reopen"]))
@click.option("--reviewer", required=True, help="Who decides (recorded).")
@click.option("--reason", default=None, help="Why; required except to confirm.")
@click.pass_obj
def decide_command(settings_of, candidate: str, status: str, reviewer: str,
                   reason: str | None) -> None:
    """Move CANDIDATE to STATUS (pending → confirmed / rejected / needs_information)."""
    from precimed.cohorts import decide, reopen
    from precimed.ops import audit

    settings: Settings = settings_of()
    ops = _ops(settings)
    try:
        if status == "reopen":
            reopen(ops, candidate, reviewer=reviewer, reason=reason)
        else:
            decide(ops, candidate, status, reviewer=reviewer, reason=reason)
        # the same event the API writes for a decision, by who ran the command
        audit.record(ops, actor=audit.cli_actor(), action="adjudication", outcome="ok",
                     resource=f"candidate {candidate}", client="cli",
                     detail={"to": status, "reviewer": reviewer})
    finally:
        ops.dispose()
    click.echo(f"{candidate}: {status} by {reviewer}")


@endpoints_group.command("history")
@click.argument("candidate")
@click.pass_obj
def show_history(settings_of, candidate: str) -> None:
    """Every decision on CANDIDATE: who, when, from what to what, and why."""
    from precimed.cohorts import history

    settings: Settings = settings_of()
    ops = _ops(settings)
    try:
        for d in history(ops, candidate):
            click.echo(f"{d.decided_at:%Y-%m-%d %H:%M}  {d.reviewer:<12} {d.from_status} → "
                       f"{d.to_status}  {d.reason or ''}")
    finally:
        ops.dispose()


@endpoints_group.command("incidence")
@click.option("--release", default=None, help="Release (default: the lake as it is now).")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Date to assess at (default: the data cut of the release or lake).")
@click.option("--by", default="region,sex,age_band", show_default=True)
@click.option("--endpoint", default=None, help="Only this endpoint group.")
@TIER
@click.pass_obj
def show_incidence(settings_of, release: str | None, as_of, by: str,
                   endpoint: str | None, tier: str) -> None:
    """Incidence of confirmed endpoints per 1,000 person-years with exact Poisson 95% CIs;
    counts below the disclosure threshold are suppressed, with their margins; in the
    perturbed tier the event counts carry cell-key noise and rounding."""
    from precimed.cli.cohort import as_of_for
    from precimed.cohorts import analysis_table, incidence, observation
    from precimed.cohorts.endpoints import confirmed_events

    settings: Settings = settings_of()
    snapshot = Lake(settings.lake_dir).snapshot(release)
    day, said = as_of_for(snapshot, as_of, settings)
    con = snapshot.connect()
    ops = _ops(settings)
    try:
        table = analysis_table(con, confirmed_events(snapshot, ops), as_of=day)
        people = observation(con, as_of=day)
    finally:
        con.disconnect()
        ops.dispose()
    if endpoint:
        table = table[table.endpoint == endpoint]
    groups = [b.strip() for b in by.split(",") if b.strip()]
    policy = Policy.for_tier(settings, tier)
    rates = incidence(table, people, by=groups, policy=policy,
                      secret=cellkey.platform_secret(settings))
    rounded = (f", person-years rounded to {policy.person_years}" if policy.person_years
               else "")
    click.echo(f"incidence of confirmed endpoints per 1,000 person-years, {said} "
               f"({tier} counts{rounded}; rates from the published figures)")
    for row in rates.to_dict("records"):
        cells = " ".join(f"{_margin(row[g])!s:<8}" for g in groups)
        if row["reason"] == SECONDARY:
            click.echo(f"{row['endpoint']:<18} {cells}  events hidden to protect another "
                       "cell")
            continue
        if row["suppressed"]:
            click.echo(f"{row['endpoint']:<18} {cells}  events <{settings.disclosure_threshold}")
            continue
        click.echo(f"{row['endpoint']:<18} {cells}  events {row['events']:>5}  "
                   f"{row['person_years']:>10.0f} py  {row['rate']:6.2f} "
                   f"({row['ci_lower']:.2f}-{row['ci_upper']:.2f}) per 1,000")


def _margin(value: object) -> object:
    """A group label as printed: the margin code with its names (Total 合计), codes as
    they are."""
    from precimed.standard.margins import MARGIN, MARGIN_LABEL

    return f"{MARGIN} {MARGIN_LABEL['zh']}" if value == MARGIN else value
