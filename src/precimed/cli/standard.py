"""``precimed standard``: the data dictionary and JSON Schemas, generated from code."""

from __future__ import annotations

from pathlib import Path

import click

from precimed.standard.dictionary import write_dictionaries
from precimed.standard.jsonschema import write_schemas


@click.group("standard")
def standard_group() -> None:
    """The unified data standard: data dictionary and JSON Schemas."""


def register(cli: click.Group) -> None:
    cli.add_command(standard_group)


@standard_group.command("docs")
@click.argument("out", type=click.Path(path_type=Path))
def docs(out: Path) -> None:
    """Write the data dictionary in Chinese and English into OUT/zh and OUT/en."""
    for path in write_dictionaries(out):
        click.echo(f"wrote {path}")


@standard_group.command("schema")
@click.argument("out", type=click.Path(path_type=Path))
def schema(out: Path) -> None:
    """Write one JSON Schema per table into OUT."""
    for path in write_schemas(out):
        click.echo(f"wrote {path}")
