"""The CLI imports a command's modules only when the command runs: ``precimed --help``
imports no numba, DuckDB, pandas, plotting library, Ibis or SQLAlchemy, and the table of
lazily registered commands matches the commands themselves."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click

import precimed.cli
from precimed.cli.main import COMMANDS, cli

HEAVY = ("numba", "duckdb", "pandas", "matplotlib", "ibis", "sqlalchemy", "pyarrow",
         "fastapi", "plotly", "scipy")


def test_help_imports_no_heavy_library():
    probe = ("import sys\nfrom precimed.cli.main import main\n"
             "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
             f"print('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=120)
    assert "Commands:" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "loaded:"  # none of HEAVY


def _registered() -> dict[str, click.Command]:
    """What every CLI module's ``register`` adds, collected on a scratch group."""
    scratch = click.Group()
    for info in pkgutil.iter_modules(precimed.cli.__path__):
        module = importlib.import_module(f"precimed.cli.{info.name}")
        if hasattr(module, "register"):
            module.register(scratch)
    return scratch.commands


def test_the_command_table_names_every_command_with_its_own_help():
    registered = _registered()
    assert set(COMMANDS) == set(registered)
    ctx = click.Context(cli)
    for name, (_, _, short) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is registered[name]
        assert short == command.get_short_help_str(limit=1000), name
