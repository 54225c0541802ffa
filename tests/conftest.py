"""Shared fixtures: an initialised platform home and small synthetic packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from precimed.home import initialise
from precimed.settings import Settings, load_settings
from precimed.synth import SynthResult, synthesise


def make_home(path: Path) -> Settings:
    settings = load_settings({"home": path}, environ={})
    initialise(settings)
    return settings


@pytest.fixture
def home_at():
    return make_home


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    return make_home(tmp_path / "home")


@pytest.fixture(scope="session")
def released_home(clean_packages, tmp_path_factory) -> Path:
    """The clean packages submitted and released as r1, with one account per role
    (platform_home.USERS); shared by the API and browser tests."""
    from platform_home import build_released_home

    return build_released_home(tmp_path_factory.mktemp("released") / "home", clean_packages)


@pytest.fixture(scope="session")
def clean_packages(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """About 600 people over every centre, every centre style, no defects."""
    out = tmp_path_factory.mktemp("synth") / "clean"
    return synthesise(out, participants_count=600, seed=7)


# -- the fast loop: `pytest -m "not slow"` (README, "Developer loop") ---------------------
# Besides the tests marked `slow` one by one (over ~3 s each), every test that needs one of
# the heavyweight session fixtures is slow, decided here from what it uses rather than by
# hand, so a new test on such a fixture is slow without anyone remembering to mark it:
# the released home (600 synthetic people submitted through every centre's package, minutes
# under load) and the packages it is built from, the PostgreSQL server (the API tests' second
# backend, requested through a fixture parametrised "postgresql"), Chromium, and the
# validation against reference results over real data (tests/validation). `make test` runs
# plain `pytest`: every test still runs there.
HEAVY_FIXTURES = frozenset({"released_home", "clean_packages", "postgres_server", "browser"})
HEAVY_DIRECTORIES = ("validation",)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and "postgresql" in callspec.params.values()
        heavy_directory = Path(item.path).relative_to(here).parts[0] in HEAVY_DIRECTORIES
        if (on_postgres or heavy_directory
                or HEAVY_FIXTURES.intersection(getattr(item, "fixturenames", ()))):
            item.add_marker(pytest.mark.slow)


# -- a real PostgreSQL server, started for the session when a test asks for it ------------
@pytest.fixture(scope="session")
def postgres_server():
    """A private PostgreSQL cluster on a free loopback port; yields a URL factory that
    creates a fresh database per call. Installed by scripts/system-deps.sh (make test);
    missing binaries fail the test, never skip it."""
    import glob
    import os
    import pwd
    import shutil
    import socket
    import subprocess
    import tempfile
    import uuid

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL is not installed: run scripts/system-deps.sh (make test does)")
    bin_dir = Path(found[-1]).parent
    # not under pytest's temp folder: its parents are private to root
    data = Path(tempfile.mkdtemp(prefix="precimed-pg-")) / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(data.parent, pwd.getpwnam("postgres").pw_uid)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync"], check=True,
                   capture_output=True)
    log = data.parent / "server.log"
    subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log),
                    "-w", "-o", f"-p {port} -c listen_addresses=127.0.0.1 -k {data.parent} "
                                "-c fsync=off -c max_connections=200",
                    "start"], check=True, capture_output=True)

    def new_database() -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres",
                             autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"

    try:
        yield new_database
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                        "stop"], capture_output=True)
        shutil.rmtree(data.parent, ignore_errors=True)
