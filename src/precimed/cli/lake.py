"""``precimed lake``: what the lake holds."""

from __future__ import annotations

from typing import Annotated

import typer

from precimed.lake import Lake
from precimed.lake.summary import summarise
from precimed.settings import Settings

lake_app = typer.Typer(help="Inspect the lake.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(lake_app, name="lake")


@lake_app.command("summary")
def summary(
    ctx: typer.Context,
    release: Annotated[str | None, typer.Option(help="A release (default: current).")] = None,
) -> None:
    """Rows per table and participants per cohort and centre."""
    settings: Settings = ctx.obj
    print_summary(Lake(settings.lake_dir), release)


def print_summary(lake: Lake, release: str | None) -> None:
    result = summarise(lake.snapshot(release))
    typer.echo(f"lake {lake.root} — {'release ' + release if release else 'current'}"
               f" (catalog v{result.catalog_version})")
    typer.echo("rows per table:")
    for table, count in result.rows.items():
        typer.echo(f"  {table:<18} {count:>10,}")
    typer.echo("participants per cohort and centre:")
    for (cohort, centre), count in result.participants.items():
        typer.echo(f"  {cohort:<14} {centre:<8} {count:>8,}")
