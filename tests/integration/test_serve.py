"""``precimed serve`` as it runs in production: a supervisor and two uvicorn workers, on a
machine whose cores are all busy. The server answers, a worker that dies is named in the
log and replaced, SIGTERM stops the workers with the parent, and a parent killed outright
takes its workers with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

import precimed

pytestmark = pytest.mark.slow

SRC = str(Path(precimed.__file__).parents[1])
ENV = {**os.environ, "PYTHONPATH": SRC, "PYTHONUNBUFFERED": "1"}
MAIN = "import sys; from precimed.cli.main import main; sys.exit(main())"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(condition, seconds: float, what: str) -> None:
    """Poll ``condition`` until it holds; the time it took is printed (shown with -rP)."""
    started = time.monotonic()
    while time.monotonic() < started + seconds:
        if condition():
            print(f"{time.monotonic() - started:6.1f} s  {what}")
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {seconds} s: {what}")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def cpu_load() -> Iterator[None]:
    """Two busy processes per core for as long as the block runs."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
               for _ in range(2 * (os.cpu_count() or 2))]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    subprocess.run([sys.executable, "-c", MAIN, "--home", str(home), "init"], env=ENV,
                   check=True, capture_output=True, timeout=600)
    return home


@contextmanager
def serving(home: Path, log: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    port = _free_port()
    with log.open("w") as out:
        parent = subprocess.Popen([sys.executable, "-c", MAIN, "--home", str(home), "serve",
                                   "--workers", "2", "--port", str(port)], env=ENV,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        yield parent, f"http://127.0.0.1:{port}/api/beacon/v2/info"
    finally:
        workers = _children(parent.pid)
        parent.kill()
        parent.wait()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _workers(parent: subprocess.Popen) -> set[int]:
    """The uvicorn workers (the supervisor's children but its resource tracker)."""
    workers = set()
    for pid in _children(parent.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_text()
        except OSError:  # it ended between the listing and the read
            continue
        if "resource_tracker" not in command:
            workers.add(pid)
    return workers


def test_two_workers_answer_under_load_and_stop_with_the_parent(home, tmp_path):
    log = tmp_path / "serve.log"
    with cpu_load(), serving(home, log) as (parent, url):
        # measured on 2 shared cores with other work running: 149 s (each worker imports
        # the app at a third of a core); on an otherwise idle CI machine far less
        _wait(lambda: _answers(url), 420, "the server answers under load")
        _wait(lambda: len(_workers(parent)) == 2, 60, "two workers")
        workers = _workers(parent)
        time.sleep(10)  # no worker is killed and restarted while it starts
        assert _workers(parent) == workers, log.read_text()
        assert _answers(url)

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        # the supervisor pings each worker in turn and waits up to its health timeout
        # (serve's default, 60 s) for a worker killed mid-ping: measured 60.4 s
        _wait(lambda: f"Child process [{victim}] died" in log.read_text(), 150,
              "the dead worker is named in the log")
        _wait(lambda: len(_workers(parent) - workers) == 1, 60, "a new worker")
        workers = _workers(parent)

        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=120)
        _wait(lambda: not any(_alive(pid) for pid in workers), 60,
              "every worker stops with the parent")
        assert not _answers(url)


def test_a_parent_killed_outright_takes_its_workers(home, tmp_path):
    with serving(home, tmp_path / "serve.log") as (parent, url):
        _wait(lambda: _answers(url), 420, "the server answers")
        _wait(lambda: len(_workers(parent)) == 2, 60, "two workers")
        workers = _workers(parent)
        parent.kill()
        parent.wait()
        _wait(lambda: not any(_alive(pid) for pid in workers), 60,
              "the workers stop when the parent is killed")
