"""``precimed init``, ``precimed submit`` and ``precimed submissions``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from precimed.cli.progress import Progress
from precimed.errors import NotFound
from precimed.home import initialise
from precimed.ingest.pipeline import SubmissionResult, submit
from precimed.ops import OpsDatabase
from precimed.settings import Settings

SHOWN_PROBLEMS = 20


def register(cli: click.Group) -> None:
    cli.add_command(init)
    cli.add_command(submit_command)
    cli.add_command(submissions)


@click.command()
@click.pass_obj
def init(settings_of) -> None:
    """Create the platform home: lake, operational database and pseudonymisation key."""
    settings: Settings = settings_of()
    initialise(settings)
    click.echo(f"initialised {settings.home}")
    click.echo(f"  lake      {settings.lake_dir}")
    click.echo(f"  key       {settings.pseudonym_key_file} (back it up; keep it secret)")
    click.echo(f"  database  {settings.database_url}")


@click.command("submit")
@click.argument("packages", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--report", type=click.Path(path_type=Path),
              help="Also write the full report of the last package to this JSON file.")
@click.pass_obj
def submit_command(settings_of, packages: tuple[Path, ...], report: Path | None) -> None:
    """Submit centre PACKAGES (folders with manifest.json): verify, validate,
    pseudonymise and commit each atomically. Exits 5 if any package is rejected."""
    settings: Settings = settings_of()
    _reconcile(settings)
    rejected = 0
    for package in packages:
        result = submit(package, settings, progress=Progress(package.name))
        print_result(result)
        rejected += not result.accepted
        if report:
            result.report.write(report)
    if rejected:
        raise click.exceptions.Exit(5)


def _reconcile(settings: Settings) -> None:
    """Submissions an earlier run committed but was killed before recording: committed."""
    from precimed.ops import OpsDatabase
    from precimed.workflows.recovery import reconcile_committed

    if not (settings.lake_dir / "catalog.json").exists():
        return  # no home yet: submit reports that itself
    ops = OpsDatabase(settings.database_url)
    try:
        ops.create()
        for submission_id in reconcile_committed(settings, ops):
            click.echo(f"recovered: submission {submission_id} was committed")
    finally:
        ops.dispose()


def print_result(result: SubmissionResult) -> None:
    report = result.report
    click.echo(f"{report.package}: {result.status}, QC {result.verdict} "
               f"(submission {result.submission_id})")
    if result.accepted:
        added = sum(report.rows_added.values())
        updated = sum(report.rows_updated.values())
        click.echo(f"  {added:,} rows added, {updated:,} updated")
    warned = [r for r in report.qc.get("results", []) if r["status"] in {"warn", "fail"}]
    for r in warned:
        click.echo(f"  QC {r['status']}: {r['check']} {r['instance']}: {r['failing']} of "
                   f"{r['checked']} ({100 * r['rate']:.1f}%, threshold "
                   f"{100 * r['threshold']:.1f}%)")
    if report.qc:
        click.echo(f"  QC report: {report.submission_id}.html in the home's reports folder")
    if result.accepted:
        return
    click.echo(f"  {report.problem_count} problems: " + ", ".join(
        f"{kind} {count}" for kind, count in report.counts_by_kind().items()))
    for problem in _failed_first(report)[:SHOWN_PROBLEMS]:
        click.echo(f"  - {problem.line()}")
    if report.problem_count > SHOWN_PROBLEMS:
        click.echo(f"  ... the full report lists all {report.problem_count} "
                   f"('precimed submissions --show {result.submission_id}')")


@click.command()
@click.option("--centre", help="Only this centre's submissions.")
@click.option("--show", metavar="ID", help="Print one submission's report as JSON.")
@click.pass_obj
def submissions(settings_of, centre: str | None, show: str | None) -> None:
    """List submissions and their outcome, or show one report."""
    settings: Settings = settings_of()
    database = OpsDatabase(settings.database_url)
    try:
        if show:
            record = database.submission(show)
            if record is None:
                raise NotFound(f"No submission {show!r}", where=str(settings.home),
                               hint="'precimed submissions' lists them.")
            click.echo(json.dumps(record.report, ensure_ascii=False, indent=1))
            return
        for record in database.submissions(centre=centre):
            rows = sum(record.rows.values()) if record.rows else 0
            click.echo(f"{record.id}  {record.centre:<8} {record.status:<9} "
                       f"rows {rows:>9,}  problems {record.problem_count}")
    finally:
        database.dispose()


def _failed_first(report) -> list:
    """Problems of the checks that failed the package first, then the tolerated ones."""
    checks = report.qc.get("checks", {})
    check_of = {kind: check for check, meta in checks.items() for kind in meta["kinds"]}
    failed = {r["check"] for r in report.qc.get("results", []) if r["status"] == "fail"}
    return sorted(report.problems,
                  key=lambda p: check_of.get(p.kind, p.kind) not in failed)
