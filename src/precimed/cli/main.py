"""Entry point: global options, settings, and the one place errors are printed."""

from __future__ import annotations

import importlib
import sys
import tempfile
import traceback
from pathlib import Path

import click

from precimed import __version__
from precimed.errors import UserError, internal_reference
from precimed.settings import SETTINGS, load_settings

_HOME_HELP = next(s.help for s in SETTINGS if s.name == "home")

# Every command: name -> (module under precimed.cli, attribute, the line `precimed --help`
# shows). A command's module is imported only when the command runs (or its own --help is
# asked for), so `precimed --help` imports no numba, DuckDB, pandas or plotting library;
# tests/unit/cli/test_lazy_commands.py checks this table against the commands themselves.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("submit", "init", "Create the platform home: lake, operational database and "
                               "pseudonymisation key."),
    "submit": ("submit", "submit_command", "Submit centre PACKAGES (folders with "
                                           "manifest.json): verify, validate, pseudonymise "
                                           "and commit each atomically."),
    "submissions": ("submit", "submissions", "List submissions and their outcome, or show "
                                             "one report."),
    "synth": ("synth", "synth", "Synthesise one package per centre into OUT, with ground "
                                "truth in OUT/truth/."),
    "release": ("release", "release_group", "Named, frozen versions of every table."),
    "lake": ("lake", "lake_group", "Inspect the lake."),
    "standard": ("standard", "standard_group", "The unified data standard: data dictionary "
                                               "and JSON Schemas."),
    "qc": ("qc", "qc_group", "Data quality: rule sets, per-centre scorecards, re-scoring."),
    "cohort": ("cohort", "cohort_group", "Cohort definitions run on a release; follow-up "
                                         "and retention."),
    "endpoints": ("endpoints", "endpoints_group", "Endpoint candidates from every source, "
                                                  "their adjudication, and incidence."),
    "genomics": ("genomics", "genomics_group", "Genotype data: submit a centre's VCF, load "
                                               "a public reference callset."),
    "sharing": ("sharing", "sharing_group", "Data catalogue, access requests, the data "
                                            "access committee, provisions."),
    "participants": ("participants", "participants_group", "A participant's rights: "
                                                           "erasure (PIPL article 47)."),
    "serve": ("serve", "serve", "Serve the web platform and the API (/api/v1, docs at "
                                "/api/docs)."),
    "users": ("serve", "users", "Platform accounts (the first administrator is made here)."),
    "audit": ("serve", "audit_group", "The hash-chained audit log."),
    "demo": ("demo", "demo", "Start a fresh demo home, synthesise every centre, submit, and "
                             "release; then serve the platform with one demo account per "
                             "role."),
}

# modules whose ``register`` adds subcommands to another module's group, loaded with it
EXTENDS: dict[str, tuple[str, ...]] = {"sharing": ("projects",)}


class LazyGroup(click.Group):
    """Lists the commands from :data:`COMMANDS` and imports one only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attribute, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"precimed.cli.{module}"), attribute)
        for extension in EXTENDS.get(cmd_name, ()):
            importlib.import_module(f"precimed.cli.{extension}").register(self)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2] if name in COMMANDS
                 else self.get_command(ctx, name).get_short_help_str(formatter.width))
                for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)




@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), envvar="PRECIMED_HOME",
              help=_HOME_HELP + " [env: PRECIMED_HOME]")
@click.version_option(__version__, prog_name="precimed")
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """precimed: an open precision-medicine data platform for multi-centre cohorts."""
    # settings are built lazily so that 'synth' and 'standard' need no home
    ctx.obj = lambda: load_settings({"home": home})


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
