"""The layers go one way (the import-linter contracts in pyproject.toml), checked by the
test suite as well as by ``make test``: a lower layer importing a higher one, or a page
importing a route function, fails here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import precimed

ROOT = Path(__file__).parents[2]


def test_the_import_contracts_are_kept():
    linter = Path(sys.executable).parent / "lint-imports"
    src = str(Path(precimed.__file__).parents[1])
    done = subprocess.run([str(linter), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": src})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
