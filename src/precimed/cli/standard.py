"""``precimed standard``: the data dictionary and JSON Schemas, generated from code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from precimed.standard.dictionary import write_dictionaries
from precimed.standard.jsonschema import write_schemas

standard_app = typer.Typer(help="The unified data standard.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(standard_app, name="standard")


@standard_app.command("docs")
def docs(out: Annotated[Path, typer.Argument(help="Folder to write (zh/ and en/).")]) -> None:
    """Write the data dictionary in Chinese and English."""
    for path in write_dictionaries(out):
        typer.echo(f"wrote {path}")


@standard_app.command("schema")
def schema(out: Annotated[Path, typer.Argument(help="Folder to write.")]) -> None:
    """Write one JSON Schema per table."""
    for path in write_schemas(out):
        typer.echo(f"wrote {path}")
