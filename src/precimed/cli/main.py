"""Entry point: global options, settings, and the one place errors are printed."""

from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path

import click

from precimed import __version__
from precimed.errors import UserError, internal_reference
from precimed.settings import SETTINGS, load_settings

_HOME_HELP = next(s.help for s in SETTINGS if s.name == "home")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), envvar="PRECIMED_HOME",
              help=_HOME_HELP + " [env: PRECIMED_HOME]")
@click.version_option(__version__, prog_name="precimed")
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """precimed: an open precision-medicine data platform for multi-centre cohorts."""
    # settings are built lazily so that 'synth' and 'standard' need no home
    ctx.obj = lambda: load_settings({"home": home})


def _register() -> None:
    from precimed.cli import (
        cohort,
        demo,
        endpoints,
        genomics,
        lake,
        projects,
        qc,
        release,
        serve,
        sharing,
        standard,
        submit,
        synth,
    )

    for module in (submit, synth, release, lake, standard, qc, cohort, endpoints,
                   genomics, sharing, projects, serve, demo):
        module.register(cli)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the command; a user error prints one line and exits with its stable code."""
    try:
        # without standalone mode, click returns the code of a ctx.exit / Exit
        code = cli.main(args=argv, prog_name="precimed", standalone_mode=False)
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
    except Exception:  # the last line of defence: report a reference, never data
        ref = internal_reference()
        log = Path(tempfile.gettempdir()) / f"precimed-internal-{ref}.log"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        log.chmod(0o600)
        click.echo(f"internal error, ref {ref} (details in {log})", err=True)
        return 70
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
