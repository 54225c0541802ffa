"""Browser tests: the real app over real HTTP, driven by Debian's headless Chromium.

One uvicorn server (in a background thread) over the released home that tests/api builds,
one browser per session, a new browser context per signed-in user. The upload test gets
its own server over a fresh home, so the shared home's lake never changes under the
other tests. Every test saves full-page screenshots under test-artifacts/screenshots/.

Chromium comes from Debian (scripts/system-deps.sh installs it); Playwright is only the
driver and never downloads a browser. A missing Chromium fails the tests, never skips.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn

from precimed.api.app import create_app
from precimed.synth.people import DATA_CUT

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


from platform_home import PASSWORD, USERS, settings_for  # noqa: E402


# -- the server ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """The app served by uvicorn in a thread on 127.0.0.1."""

    def __init__(self, home: Path):
        self.home = home
        self.app = create_app(settings_for(home))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}",
                                       daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def __exit__(self, *_) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def server(released_home) -> Iterator[Served]:
    with Served(released_home) as served:
        yield served


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory) -> Iterator[Served]:
    """A new home with no submissions, no release and one data manager of SH01."""
    from precimed.home import initialise
    from precimed.ops import OpsDatabase, accounts

    home = tmp_path_factory.mktemp("browser-fresh") / "home"
    home.mkdir()
    (home / "precimed.toml").write_text(f'as_of = "{DATA_CUT.isoformat()}"\n')
    settings = settings_for(home)
    initialise(settings)
    ops = OpsDatabase(settings.database_url)
    roles, centres = USERS["dm_sh01"]
    accounts.create_user(ops, "dm_sh01", PASSWORD, roles=roles, centres=centres)
    ops.dispose()
    with Served(home) as served:
        yield served


# -- the browser --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium; "
                    "run scripts/system-deps.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_context(browser, request):
    """Make a fresh browser context (own cookies) on a server, the shared one unless told;
    closed after the test."""
    made = []

    def make(on: Served | None = None):
        served = on or request.getfixturevalue("server")
        context = browser.new_context(base_url=served.url, locale="zh-CN",
                                      viewport={"width": 1280, "height": 900})
        context.set_default_timeout(20_000)
        context.served = served
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def sign_in(page, username: str, password: str = PASSWORD, next: str = "/") -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"/login?next={next}")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("#sign-in")


@pytest.fixture
def signed_in(new_context) -> Callable:
    """A page of a new context, signed in as the user through the form (zh pages); the
    page's uncaught script errors and Content-Security-Policy violations collect in
    ``page.js_errors``."""

    def open_as(username: str, on: Served | None = None, next: str = "/"):
        context = new_context(on)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda message: errors.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.js_errors = errors
        sign_in(page, username, next=next)
        assert page.url == f"{context.served.url}{next}", page.url
        assert page.locator("#whoami").inner_text() == username
        return page

    return open_as


@pytest.fixture
def shot(request) -> Callable:
    """Save a full-page screenshot as test-artifacts/screenshots/<test>-<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")

    def save(page, step: str) -> Path:
        path = SCREENSHOTS / f"{test}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
