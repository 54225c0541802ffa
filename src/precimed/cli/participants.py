"""``precimed participants``: what the platform does for one participant's rights."""

from __future__ import annotations

import click

from precimed.settings import Settings


@click.group("participants")
def participants_group() -> None:
    """A participant's rights: erasure (PIPL article 47)."""


def register(cli: click.Group) -> None:
    cli.add_command(participants_group)


@participants_group.command("erase")
@click.argument("identifier", required=False)
@click.option("--centre", default=None,
              help="Erase only if the person is this centre's participant (a data manager's "
                   "own centre).")
@click.pass_obj
def erase(settings_of, identifier: str | None, centre: str | None) -> None:
    """Erase one participant, named by resident ID or pseudonym (asked for, unechoed, if
    not given): their rows leave every lake table and the genotype store now, and a
    later release holds none of them; older files go at 'precimed lake vacuum' after the
    retention period. Audited with the centre and the count, never the identifier."""
    from precimed.workflows.erasure import erase_participant

    settings: Settings = settings_of()
    identifier = identifier or click.prompt("resident ID or pseudonym", hide_input=True)
    erasure, samples = erase_participant(settings, identifier, actor="cli", centre=centre)
    rows = sum(erasure.rows_removed.values())
    click.echo(f"erased {erasure.people} participant of {erasure.centre}: {rows:,} rows, "
               f"{samples} genotype sample(s) (erasure {erasure.id}); old files are deleted "
               f"by 'precimed lake vacuum' after {settings.erasure_retention_days} days")
