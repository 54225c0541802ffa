"""``precimed release``: freeze and list releases."""

from __future__ import annotations

from typing import Annotated

import typer

from precimed.lake import Lake
from precimed.settings import Settings

release_app = typer.Typer(help="Named, frozen versions of every table.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(release_app, name="release")


@release_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Release name, e.g. 2026-11.")],
    description: Annotated[str, typer.Option(help="What the release is for.")] = "",
) -> None:
    """Freeze the current version of every table under NAME."""
    settings: Settings = ctx.obj
    release = Lake(settings.lake_dir).create_release(name, description=description)
    typer.echo(f"release {release.name} created at catalog version {release.catalog_version}")


@release_app.command("list")
def list_releases(ctx: typer.Context) -> None:
    """Show every release with its date and table versions."""
    settings: Settings = ctx.obj
    catalog = Lake(settings.lake_dir).catalog()
    if not catalog.releases:
        typer.echo("no releases yet ('precimed release create NAME')")
    for release in sorted(catalog.releases.values(), key=lambda r: r.created_at):
        typer.echo(f"{release.name:<16} {release.created_at}  catalog v{release.catalog_version}"
                   f"  standard {release.standard_version}  {release.description}")
