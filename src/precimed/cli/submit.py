"""``precimed init``, ``precimed submit`` and ``precimed submissions``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from precimed.cli.progress import Progress
from precimed.deid.pseudonym import create_key
from precimed.errors import Conflict, NotFound
from precimed.ingest.pipeline import SubmissionResult, submit
from precimed.lake import Lake
from precimed.ops import OpsDatabase
from precimed.settings import Settings

SHOWN_PROBLEMS = 20


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("submit")(submit_command)
    app.command("submissions")(submissions)


def init(ctx: typer.Context) -> None:
    """Create the platform home: lake, operational database and pseudonymisation key."""
    settings: Settings = ctx.obj
    initialise(settings)
    typer.echo(f"initialised {settings.home}")
    typer.echo(f"  lake      {settings.lake_dir}")
    typer.echo(f"  key       {settings.pseudonym_key_file} (back it up; keep it secret)")
    typer.echo(f"  database  {settings.database_url}")


def initialise(settings: Settings) -> None:
    if (settings.lake_dir / "catalog.json").exists():
        raise Conflict("The platform home is already initialised", where=str(settings.home),
                       hint="Use it as it is, or pass another --home.")
    settings.home.mkdir(parents=True, exist_ok=True)
    if not settings.pseudonym_key_file.exists():
        create_key(settings.pseudonym_key_file)
    Lake.create(settings.lake_dir)
    database = OpsDatabase(settings.database_url)
    database.create()
    database.dispose()


def submit_command(
    ctx: typer.Context,
    packages: Annotated[list[Path], typer.Argument(help="Package folders (with manifest.json).")],
    report: Annotated[Path | None, typer.Option(
        help="Also write the full report of the last package to this JSON file.")] = None,
) -> None:
    """Submit centre packages: verify, validate, pseudonymise and commit atomically."""
    settings: Settings = ctx.obj
    rejected = 0
    for package in packages:
        result = submit(package, settings, progress=Progress(package.name))
        print_result(result)
        rejected += not result.accepted
        if report:
            result.report.write(report)
    if rejected:
        raise typer.Exit(code=5)


def print_result(result: SubmissionResult) -> None:
    report = result.report
    typer.echo(f"{report.package}: {result.status} (submission {result.submission_id})")
    if result.accepted:
        added = sum(report.rows_added.values())
        updated = sum(report.rows_updated.values())
        typer.echo(f"  {added:,} rows added, {updated:,} updated")
        return
    typer.echo(f"  {report.problem_count} problems: " + ", ".join(
        f"{kind} {count}" for kind, count in report.counts_by_kind().items()))
    for problem in report.problems[:SHOWN_PROBLEMS]:
        typer.echo(f"  - {problem.line()}")
    if report.problem_count > SHOWN_PROBLEMS:
        typer.echo(f"  ... the full report lists all {report.problem_count} "
                   f"('precimed submissions --show {result.submission_id}')")


def submissions(
    ctx: typer.Context,
    centre: Annotated[str | None, typer.Option(help="Only this centre's.")] = None,
    show: Annotated[str | None, typer.Option(help="Print one submission's report as JSON.")]
    = None,
) -> None:
    """List submissions and their outcome, or show one report."""
    settings: Settings = ctx.obj
    database = OpsDatabase(settings.database_url)
    try:
        if show:
            record = database.submission(show)
            if record is None:
                raise NotFound(f"No submission {show!r}", where=str(settings.home),
                               hint="'precimed submissions' lists them.")
            import json

            typer.echo(json.dumps(record.report, ensure_ascii=False, indent=1))
            return
        for record in database.submissions(centre=centre):
            rows = sum(record.rows.values()) if record.rows else 0
            typer.echo(f"{record.id}  {record.centre:<8} {record.status:<9} "
                       f"rows {rows:>9,}  problems {record.problem_count}")
    finally:
        database.dispose()
