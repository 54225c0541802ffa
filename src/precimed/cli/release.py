"""``precimed release``: freeze and list releases."""

from __future__ import annotations

import click

from precimed.lake import Lake
from precimed.settings import Settings


@click.group("release")
def release_group() -> None:
    """Named, frozen versions of every table."""


def register(cli: click.Group) -> None:
    cli.add_command(release_group)


@release_group.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the release is for.")
@click.option("--data-cut", "data_cut", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day the release's data end (default: the latest observation date "
                   "in the lake); results on the release are assessed at it.")
@click.pass_obj
def create(settings_of, name: str, description: str, data_cut) -> None:
    """Freeze the current version of every table under NAME (e.g. 2026-11), with its
    data cut and the endpoint decisions as they stand (confirmed_endpoint)."""
    from precimed.workflows.release import create_release

    settings: Settings = settings_of()
    release = create_release(settings, name, description=description,
                             data_cut=data_cut.date() if data_cut else None)
    click.echo(f"release {release.name} created at catalog version {release.catalog_version},"
               f" data cut {release.data_cut or 'none (no dated data)'}")


@release_group.command("list")
@click.pass_obj
def list_releases(settings_of) -> None:
    """Show every release with its date and table versions."""
    from precimed.lake.consent import withdrawn_since_each

    settings: Settings = settings_of()
    lake = Lake(settings.lake_dir)
    catalog = lake.catalog()
    if not catalog.releases:
        click.echo("no releases yet ('precimed release create NAME')")
    marked = withdrawn_since_each(lake)
    for release in sorted(catalog.releases.values(), key=lambda r: r.created_at):
        cut = release.data_cut or "not recorded"
        mark = ("  [holds people who withdrew or were erased since; no extract of them]"
                if marked.get(release.name) else "")
        click.echo(f"{release.name:<16} {release.created_at}  catalog v{release.catalog_version}"
                   f"  standard {release.standard_version}  data cut {cut}"
                   f"  {release.description}{mark}")
