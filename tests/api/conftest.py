"""A released platform home served by the real app, on SQLite and on PostgreSQL.

The home is built once per session: every synthetic centre submitted, release r1,
endpoint candidates queued, one account per role. The PostgreSQL variant shares the lake
and gets a copy of the ops database's rows in a fresh database on a real server.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from platform_home import PASSWORD, copy_ops, settings_for, signed_in
from precimed.api.app import create_app
from precimed.home import initialise
from precimed.ops import OpsDatabase, accounts


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request, released_home) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", ""
    url = request.getfixturevalue("postgres_server")()
    copy_ops(settings_for(released_home).database_url, url)
    return "postgresql", url


@pytest.fixture(scope="session")
def app(backend, released_home):
    return create_app(settings_for(released_home, backend[1]))


@pytest.fixture(scope="session")
def anonymous(app) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="session")
def as_user(app):
    """A signed-in client per user name, made once."""
    clients: dict[str, TestClient] = {}

    def client(name: str) -> TestClient:
        if name not in clients:
            clients[name] = signed_in(app, name)
        return clients[name]

    return client


@pytest.fixture(scope="session")
def ops_of(app) -> OpsDatabase:
    return app.state.platform.ops


@pytest.fixture(params=["sqlite", "postgresql"])
def make_fresh(request, tmp_path):
    """``make(**settings)``: the real app over an empty platform home with two data
    managers (dm_sh01, dm_js01) and an admin, with the settings given; one home per test,
    on SQLite and on PostgreSQL."""
    url = "" if request.param == "sqlite" else request.getfixturevalue("postgres_server")()
    made = []

    def make(**changes):
        settings = settings_for(tmp_path / "home", url, **changes)
        if not made:
            initialise(settings)
        app = create_app(settings)
        ops = app.state.platform.ops
        if not made:
            for name, roles, centres in (("dm_sh01", ["data_manager"], ["SH01"]),
                                         ("dm_js01", ["data_manager"], ["JS01"]),
                                         ("admin", ["admin"], [])):
                accounts.create_user(ops, name, PASSWORD, roles=roles, centres=centres)
        made.append(app)
        return app

    yield make
    for app in made:
        app.state.platform.close()


@pytest.fixture
def fresh(make_fresh):
    """An empty platform home with two data managers and an admin, served by the real app."""
    return make_fresh()
