"""API load benchmark: POST /api/v1/cohorts/count under concurrent load, on loopback, with
the real server (``precimed serve --workers 2``, uvicorn), and GET /api/v1/dashboard one
request at a time.

A platform home is built from synthetic data through the real pipeline (every centre's
package submitted, release r1), a researcher account is made, and the server is started
as a subprocess. This process is the load generator: Python, httpx on asyncio, one
keep-alive connection per concurrent client, each client sending its next request as
soon as the previous one is answered (closed loop). Each concurrency level runs a
warm-up, then a timed phase; latency is measured per request around the whole HTTP call.

    .venv/bin/python benchmarks/api.py [--participants 20000] [--seconds 20]
                                       [--concurrency 1,4,16]

Writes benchmarks/results/api.json. Not a test: numbers, not pass/fail. The machine's
load average is recorded with each phase: the numbers mean little without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import httpx

from precimed.home import initialise
from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.ops import OpsDatabase, accounts
from precimed.query import AgeAtEnrolment, Diagnosis, MeasurementIn, ParticipantIs, cohort
from precimed.query import baseline as at_baseline
from precimed.settings import load_settings
from precimed.synth import synthesise
from precimed.synth.people import DATA_CUT

RESULTS = Path(__file__).parent / "results" / "api.json"
USER, PASSWORD = "bench_researcher", "load-test-password-1"
DEFINITION = cohort(
    "hypertensive women 40-70",
    ParticipantIs("sex", ("2",)),
    AgeAtEnrolment(40, 70),
    MeasurementIn("SBP", min=140, window=at_baseline()),
    Diagnosis(("I10",)),
)


def build_home(work: Path, participants: int, seed: int) -> tuple[Path, dict]:
    home = work / "home"
    home.mkdir(parents=True)
    (home / "precimed.toml").write_text(f'as_of = "{DATA_CUT.isoformat()}"\n')
    settings = load_settings({"home": home}, environ={})
    initialise(settings)
    started = time.perf_counter()
    made = synthesise(work / "synth", participants_count=participants, seed=seed)
    synth_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for package in made.packages.values():
        result = submit(package, settings)
        assert result.accepted, (package.name, result.status)
    ingest_seconds = time.perf_counter() - started
    Lake(settings.lake_dir).create_release("r1", description="API benchmark")
    ops = OpsDatabase(settings.database_url)
    accounts.create_user(ops, USER, PASSWORD, roles=["researcher"])
    ops.dispose()
    shutil.rmtree(work / "synth")
    return home, {"participants": participants, "centres": len(made.packages),
                  "rows": sum(made.rows.values()), "rows_per_table": made.rows,
                  "synth_seconds": round(synth_seconds, 1),
                  "ingest_seconds": round(ingest_seconds, 1)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, port: int, workers: int, log: Path) -> subprocess.Popen:
    cli = Path(sys.executable).parent / "precimed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRECIMED_")}
    server = subprocess.Popen(
        [str(cli), "--home", str(home), "serve", "--port", str(port),
         "--workers", str(workers)], stdout=log.open("wb"), stderr=subprocess.STDOUT,
        env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json",
                         timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise RuntimeError("the server did not answer within 120 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # its own session: uvicorn and its workers
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def sign_in(base: str) -> str:
    with httpx.Client(base_url=base, timeout=30) as client:
        r = client.post("/api/v1/auth/login", json={"username": USER, "password": PASSWORD})
        r.raise_for_status()
        r = client.post("/api/v1/auth/tokens", json={"name": "load benchmark"})
        r.raise_for_status()
        return r.json()["token"]


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _fresh_bodies():
    """A new definition for every request (the SBP cut-off moves by 0.001 mmHg), so no
    answer comes from the server's memo of a frozen release's counts."""
    base = DEFINITION.to_dict()
    k = 0
    while True:
        k += 1
        criteria = [dict(c) for c in base["criteria"]]
        criteria[2]["min"] = 140 + k / 1000
        yield {"definition": {**base, "criteria": criteria}}


async def drive(base: str, token: str, concurrency: int, seconds: float,
                mode: str = "repeat") -> dict:
    """``concurrency`` closed-loop clients for ``seconds``. ``repeat`` asks the same
    definition every time (answered from the memo after the first); ``fresh`` asks a new
    definition every time (every count computed)."""
    same = {"definition": DEFINITION.to_dict()}
    fresh = _fresh_bodies()
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    counts: set[int] = set()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=60) as client:
        stop_at = time.perf_counter() + seconds

        async def one_client() -> None:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                body = same if mode == "repeat" else next(fresh)
                try:
                    r = await client.post("/api/v1/cohorts/count", json=body)
                    key = str(r.status_code)
                    if r.status_code == 200:
                        counts.add(r.json()["count"])
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                elapsed = time.perf_counter() - started
                statuses[key] = statuses.get(key, 0) + 1
                if key == "200":
                    latencies.append(elapsed)

        load_before = os.getloadavg()
        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    latencies.sort()
    ok = statuses.get("200", 0)
    return {"mode": mode, "concurrency": concurrency, "seconds": round(wall, 2), "requests": sum(
        statuses.values()), "ok": ok, "errors": sum(statuses.values()) - ok,
        "statuses": statuses, "requests_per_second": round(ok / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1) if latencies else None,
        "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else None,
        "max_ms": round(1000 * latencies[-1], 1) if latencies else None,
        "answers": sorted(counts), "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()]}


def dashboard(base: str, token: str, repeats: int) -> dict:
    """One request at a time. Each worker computes its own dashboard aggregates once
    (then caches them for 5 minutes), so the first two answers may be cold."""
    seconds = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                      timeout=120) as client:
        for _ in range(repeats):
            started = time.perf_counter()
            r = client.get("/api/v1/dashboard")
            seconds.append(time.perf_counter() - started)
            r.raise_for_status()
    warm = sorted(seconds[2:])
    return {"first_two_ms": [round(1000 * s, 1) for s in seconds[:2]],
            "warm_requests": len(warm), "warm_p50_ms": round(1000 * statistics.median(warm), 1),
            "warm_p99_ms": round(1000 * percentile(warm, 0.99), 1),
            "warm_mean_ms": round(1000 * statistics.fmean(warm), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="per concurrency level")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, per level")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="precimed-bench-api-"))
    server = None
    try:
        started = time.perf_counter()
        home, data = build_home(work, args.participants, args.seed)
        print(json.dumps(data), flush=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(home, port, args.workers, work / "server.log")
        token = sign_in(base)
        dash = dashboard(base, token, repeats=22)
        print(json.dumps({"dashboard": dash}), flush=True)
        levels = []
        for mode in ("fresh", "repeat"):
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                asyncio.run(drive(base, token, concurrency, args.warmup, mode))
                row = asyncio.run(drive(base, token, concurrency, args.seconds, mode))
                print(json.dumps(row), flush=True)
                levels.append(row)
        stop_server(server)
        log = (work / "server.log").read_text(errors="replace")
        out = {
            "endpoint": "POST /api/v1/cohorts/count",
            "definition": DEFINITION.to_dict(),
            "criteria": len(DEFINITION.criteria),
            "data": data,
            "server": {"command": f"precimed --home HOME serve --port {port} "
                                  f"--workers {args.workers}",
                       "workers": args.workers, "ops_database": "SQLite (the home's default)",
                       "log_errors": log.count("Traceback")},
            "load_generator": {
                "tool": f"Python {platform.python_version()}, httpx {version('httpx')} on "
                        "asyncio, in the benchmark process (the server is a separate "
                        "process tree)",
                "model": "closed loop: N clients, one keep-alive connection each, next "
                         "request when the last is answered; bearer token of a "
                         "researcher. mode fresh: a new definition per request (every "
                         "count computed); mode repeat: the same definition (answered "
                         "from the memo of the frozen release's counts)",
                "warmup_seconds": args.warmup, "seconds_per_level": args.seconds},
            "levels": levels,
            "dashboard": dash,
            "wall_seconds": round(time.perf_counter() - started, 1),
            "note": "Loopback, 2 CPUs shared by the server, the load generator and other "
                    "jobs running on the machine at the same time: see each level's load "
                    "average (1, 5, 15 min) before and after.",
            "versions": {"precimed": version("precimed"), "fastapi": version("fastapi"),
                         "uvicorn": version("uvicorn"), "duckdb": version("duckdb"),
                         "httpx": version("httpx")},
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(out, indent=1))
        print(json.dumps(out, indent=1))
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
