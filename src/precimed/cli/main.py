"""Entry point: global options, settings, and the one place errors are printed."""

from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path
from typing import Annotated

import click
import typer

from precimed import __version__
from precimed.cli import demo, lake, release, standard, submit, synth
from precimed.errors import UserError, internal_reference
from precimed.settings import SETTINGS, load_settings

app = typer.Typer(
    name="precimed",
    help="precimed: an open precision-medicine data platform for multi-centre cohorts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_HOME_HELP = next(s.help for s in SETTINGS if s.name == "home")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"precimed {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Annotated[Path | None, typer.Option(
        "--home", envvar="PRECIMED_HOME", help=_HOME_HELP, show_default=False)] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Global options; settings are built here and passed to every command."""
    ctx.obj = load_settings({"home": home})


for module in (lake, release, standard, submit, synth, demo):
    module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the command; a user error prints one line and exits with its stable code."""
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="precimed", standalone_mode=False)
    except UserError as exc:
        click.echo(f"error: {exc.one_line()}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except Exception:  # noqa: BLE001 - the last line of defence: never show data
        ref = internal_reference()
        log = Path(tempfile.gettempdir()) / f"precimed-internal-{ref}.log"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        log.chmod(0o600)
        click.echo(f"internal error, ref {ref} (details in {log})", err=True)
        return 70
    return 0


if __name__ == "__main__":
    sys.exit(main())
