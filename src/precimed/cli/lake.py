"""``precimed lake``: what the lake holds."""

from __future__ import annotations

import click

from precimed.lake import Lake
from precimed.lake.summary import summarise
from precimed.settings import Settings


@click.group("lake")
def lake_group() -> None:
    """Inspect the lake."""


def register(cli: click.Group) -> None:
    cli.add_command(lake_group)


@lake_group.command("summary")
@click.option("--release", help="A release name (default: the current state).")
@click.pass_obj
def summary(settings_of, release: str | None) -> None:
    """Rows per table and participants per cohort and centre."""
    settings: Settings = settings_of()
    print_summary(Lake(settings.lake_dir), release)


def print_summary(lake: Lake, release: str | None) -> None:
    result = summarise(lake.snapshot(release))
    click.echo(f"lake {lake.root} — {'release ' + release if release else 'current'}"
               f" (catalog v{result.catalog_version})")
    click.echo("rows per table:")
    for table, count in result.rows.items():
        click.echo(f"  {table:<18} {count:>10,}")
    click.echo("participants per cohort and centre:")
    for (cohort, centre), count in result.participants.items():
        click.echo(f"  {cohort:<14} {centre:<8} {count:>8,}")


@lake_group.command("vacuum")
@click.pass_obj
def vacuum(settings_of) -> None:
    """Delete the lake's files nothing may read any more, once older than the erasure
    retention period (setting erasure_retention_days): the files erasures removed (a
    release that needed one can no longer be read) and files neither the current state
    nor any release needs. Cached copies of retired releases are deleted too."""
    import datetime as dt

    from precimed.lake.erasure import vacuum as run

    settings: Settings = settings_of()
    lake = Lake(settings.lake_dir)
    deleted = run(lake, retention=dt.timedelta(days=settings.erasure_retention_days))
    for name in lake.catalog().retired:
        (settings.cache_dir / f"{name}.duckdb").unlink(missing_ok=True)
    click.echo(f"{sum(deleted.values()):,} files deleted; retired releases: "
               + (", ".join(sorted(lake.catalog().retired)) or "none"))
