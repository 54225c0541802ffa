"""Beacon v2 allele-query benchmark: GET /api/beacon/v2/g_variants (sequence queries:
referenceName, start, referenceBases, alternateBases) by an anonymous (public-tier)
caller, at boolean and count granularity, on a simulated genotype store.

    .venv/bin/python benchmarks/beacon.py [--samples 10000] [--variants 50000]
        [--queries 2000] [--seconds 15] [--loads 32x2,16x1,64x1] [--work DIR]
        [--label after] [--skip-http] [--experiment]

Data. A platform home (``precimed.home.initialise``) whose ``genotypes/`` holds two
datasets written with ``GenotypeStore.write_dataset``: ``precimed`` (participants,
controlled, ``--samples`` people) and ``1000G`` (reference, public, 2,504 samples, typed
on 90% of the variants). Variants on chromosomes 1-22 and X, 10% indels, ~5% extra ALT
alleles at an existing position (multi-allelic sites split biallelic, as ingest does);
ALT frequencies log-uniform on 1e-4..0.5, so many variants have fewer carriers than the
disclosure threshold. Genotypes are packed in chunks like benchmarks/genomics.py.

Queries: half existing variants drawn at random, half absent (an existing position with
an ALT not at it, or a position with no variant), each at boolean or count granularity.

Measured:

- ``in_process``: the whole ASGI app (``create_app`` on the home, the real router and
  dependencies) called through ``httpx.ASGITransport`` one request at a time, latency per
  request around the call (p50/p99 over ``--queries``); and the query function alone
  (``precimed.discovery.beacon.variants`` on a parsed query, no HTTP), to separate the
  lookup from the framework.
- ``http``: ``precimed --home HOME serve --workers 2`` as a subprocess, driven by ``wrk``
  (Debian package) with a Lua script cycling through the query URLs, for each of
  ``--loads`` (keep-alive connections x wrk threads), ``--seconds`` seconds each after one
  3 s warm-up. The load generator shares the same 2 cores as the server. Load average is
  recorded before and after each run.
- with ``--experiment``, the same load on the app with the Beacon router matched before
  the /api/v1 routers (:func:`beacon_router_first`; served by uvicorn with the same
  settings as ``precimed serve``), to size a change to precimed.api.app.
- ``duckdb_peer``: one DuckDB query per request (variants and per-dataset carrier counts
  in a DuckDB table, a parameterised point query), in-process latency only.

Writes benchmarks/results/beacon.json (the section named by ``--label`` is replaced, the
others kept, so a "before" run on the old code stays beside the "after" run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from precimed.genomics import GenotypeStore, kernels
from precimed.genomics.store import DatasetFiles
from precimed.home import initialise
from precimed.settings import load_settings

RESULTS = Path(__file__).parent / "results" / "beacon.json"
SEED = 20240611
REFERENCE_SAMPLES = 2504
P = "/api/beacon/v2/g_variants"
PEERS = {"sorted_in_memory_index_req_per_s": 6400, "duckdb_query_per_request_req_per_s": 770,
         "source": "the issue's figures, same kind of machine, not re-measured here"}
BASES = np.array(list("ACGT"))


# -- data ------------------------------------------------------------------------------
def simulate_variants(n: int, rng: np.random.Generator) -> pd.DataFrame:
    chroms = [str(c) for c in range(1, 23)] + ["X"]
    n_multi = n // 20
    n_sites = n - n_multi
    chrom = rng.choice(chroms, size=n_sites)
    pos = rng.integers(10_000, 200_000_000, size=n_sites)
    ref = rng.choice(BASES, size=n_sites)
    alt = np.array([rng.choice([b for b in "ACGT" if b != r]) for r in ref], dtype=object)
    ref = ref.astype(object)
    indel = rng.random(n_sites) < 0.10
    for i in np.flatnonzero(indel):  # half deletions, half insertions
        extra = "".join(rng.choice(BASES, size=int(rng.integers(1, 6))))
        if rng.random() < 0.5:
            ref[i] = ref[i] + extra
            alt[i] = ref[i][0]
        else:
            alt[i] = ref[i] + extra
    sites = pd.DataFrame({"chrom": chrom, "pos": pos, "ref": ref, "alt": alt})
    sites = sites.drop_duplicates(["chrom", "pos"])
    # a second ALT allele at some SNV sites: multi-allelic, split into biallelic rows
    snv = sites[sites["ref"].str.len() == 1].sample(n=n - len(sites), random_state=SEED,
                                                   replace=False)
    second = snv.assign(alt=[next(b for b in "ACGT" if b not in (r, a))
                             for r, a in zip(snv["ref"], snv["alt"], strict=True)])
    frame = pd.concat([sites, second], ignore_index=True)
    frame["rsid"] = None
    return frame.sample(frac=1, random_state=SEED).reset_index(drop=True)


def packed_genotypes(n_variants: int, n_samples: int, freqs: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    out = np.empty((n_variants, kernels.row_bytes(n_samples)), dtype=np.uint8)
    for start in range(0, n_variants, 2000):
        stop = min(start + 2000, n_variants)
        p = freqs[start:stop, None]
        g = (rng.random((stop - start, n_samples)) < p).astype(np.uint8)
        g += rng.random((stop - start, n_samples)) < p
        g[rng.random(g.shape) < 0.005] = kernels.MISSING
        out[start:stop] = kernels.pack(g)
    return out


def build_home(work: Path, n_samples: int, n_variants: int) -> Path:
    home = work / "home"
    if (home / "genotypes" / "store.json").exists():
        return home
    home.mkdir(parents=True, exist_ok=True)
    settings = load_settings({"home": home}, environ={})
    initialise(settings)
    rng = np.random.default_rng(SEED)
    variants = simulate_variants(n_variants, rng)
    freqs = np.exp(rng.uniform(np.log(1e-4), np.log(0.5), size=len(variants)))
    people = pd.DataFrame({"sample_id": [f"P{i:06d}" for i in range(n_samples)],
                           "population": None, "super_population": None,
                           "sex": rng.choice(["1", "2"], size=n_samples),
                           "native_province": rng.choice(["31", "32", "44", "11"],
                                                         size=n_samples),
                           "region": None})
    GenotypeStore.write_dataset(settings.genotypes_dir, DatasetFiles(
        "precimed", "participants", people, variants,
        packed_genotypes(len(variants), n_samples, freqs, rng), "GRCh38", {"bench": True}))
    typed = np.sort(rng.choice(len(variants), size=int(0.9 * len(variants)), replace=False))
    pops = rng.choice(["CHB", "CHS", "GBR"], size=REFERENCE_SAMPLES)
    reference = pd.DataFrame({"sample_id": [f"HG{i:05d}" for i in range(REFERENCE_SAMPLES)],
                              "population": pops,
                              "super_population": np.where(pops == "GBR", "EUR", "EAS"),
                              "sex": rng.choice(["1", "2"], size=REFERENCE_SAMPLES),
                              "native_province": None, "region": None})
    GenotypeStore.write_dataset(settings.genotypes_dir, DatasetFiles(
        "1000G", "reference", reference, variants.iloc[typed].reset_index(drop=True),
        packed_genotypes(len(typed), REFERENCE_SAMPLES, freqs[typed], rng), "GRCh38",
        {"bench": True}))
    return home


def make_queries(home: Path, n: int) -> list[dict[str, str]]:
    variants = GenotypeStore.open(home / "genotypes").variants()
    rng = np.random.default_rng(SEED + 1)
    taken = set(zip(variants["chrom"], variants["pos"], variants["ref"], variants["alt"],
                    strict=True))
    queries = []
    for i in range(n):
        row = variants.iloc[int(rng.integers(len(variants)))]
        chrom, pos, ref, alt = row.chrom, int(row.pos), row.ref, row.alt
        kind = i % 4
        if kind == 2:  # absent: an ALT not at this site
            alt = next((b for b in "ACGT" if b != ref[0] and (chrom, pos, ref, b) not in taken),
                       ref + "GG")
        elif kind == 3:  # absent: no variant at this position
            pos += 1
            while any((chrom, pos, r, a) in taken for r in (ref,) for a in (alt,)):
                pos += 1
        queries.append({"referenceName": chrom, "start": str(pos - 1), "referenceBases": ref,
                        "alternateBases": alt,
                        "requestedGranularity": "count" if i % 2 else "boolean"})
    return queries


# -- in process -------------------------------------------------------------------------
def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"n": int(ms.size), "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "max_ms": round(float(ms.max()), 3), "mean_ms": round(float(ms.mean()), 3)}


def in_process(home: Path, queries: list[dict[str, str]]) -> dict:
    import httpx

    from precimed.api.app import create_app
    from precimed.discovery import beacon, models
    from precimed.discovery.granularity import Tier

    settings = load_settings({"home": home}, environ={})
    started = time.perf_counter()
    app = create_app(settings)
    startup = time.perf_counter() - started
    src = app.state.beacon.get()  # the LiveSource's current source
    urls = [P + "?" + urlencode(q) for q in queries]

    async def run(app) -> tuple[list[float], list[int], int]:
        transport = httpx.ASGITransport(app=app)
        times, statuses, exists = [], [], 0
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for url in urls[:200]:  # warm-up
                await client.get(url)
            for url in urls:
                t = time.perf_counter()
                r = await client.get(url)
                times.append(time.perf_counter() - t)
                statuses.append(r.status_code)
                exists += r.json()["responseSummary"]["exists"]
        return times, statuses, exists

    times, statuses, exists = asyncio.run(run(app))
    first_times, first_statuses, _ = asyncio.run(run(beacon_router_first(create_app(settings))))

    class Anonymous:  # what the router's Asker needs of a public caller
        tier = Tier.PUBLIC

        @staticmethod
        def audited(body):
            return body

    parsed = [models.query_from_params(q) for q in queries]
    for q in parsed[:200]:
        beacon.variants(src, q, Anonymous())
    direct = []
    for q in parsed:
        t = time.perf_counter()
        beacon.variants(src, q, Anonymous())
        direct.append(time.perf_counter() - t)
    return {"asgi_httpx_asgitransport": {**percentiles(times),
                                         "non_200": sum(s != 200 for s in statuses),
                                         "answered_exists_true": exists},
            "asgi_experiment_beacon_router_matched_first": {
                **percentiles(first_times),
                "non_200": sum(s != 200 for s in first_statuses),
                "note": "app.router.routes reordered in this process; create_app already "
                        "matches the Beacon router first, so this is now a control"},
            "query_function_beacon__variants": percentiles(direct),
            "app_startup_s": round(startup, 3)}


def beacon_router_first(app):
    """The app with the Beacon router moved before the others. This was the experiment
    that sized the change; create_app now includes the Beacon router first, so the
    reorder is a no-op kept as a control."""
    from precimed.api.routes import beacon

    routes = app.router.routes
    first = [r for r in routes
             if getattr(getattr(r, "original_router", None), "prefix", "") == beacon.PREFIX]
    for r in first:
        routes.remove(r)
    routes[0:0] = first
    return app


def router_first_app():
    """uvicorn factory for the experiment, settings from the environment as in serve."""
    from precimed.api.server import app

    return beacon_router_first(app())


# -- over HTTP --------------------------------------------------------------------------
WRK_SCRIPT = """
local urls = {}
for line in io.lines("%(urls)s") do urls[#urls + 1] = line end
local i = 0
request = function()
  i = i + 1
  if i > #urls then i = 1 end
  return wrk.format("GET", urls[i])
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"p50_us\\": %%d, \\"p99_us\\": %%d, \\"max_us\\": %%d}\\n",
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, timeout: float = 120) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/beacon/v2/info", timeout=2).status_code \
                    == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("server did not start")


def wrk(port: int, script: Path, seconds: int, connections: int, threads: int) -> dict:
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                          "--latency", "-s", str(script), f"http://127.0.0.1:{port}"],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    lat = json.loads(out.split("JSON ", 1)[1].splitlines()[0])
    return {"requests_per_s": rate, "requests": total,
            "p50_ms": lat["p50_us"] / 1000, "p99_ms": lat["p99_us"] / 1000,
            "max_ms": lat["max_us"] / 1000,
            "socket_errors": errors.group(1).strip() if errors else "none",
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "wrk_output": out}


def over_http(home: Path, queries: list[dict[str, str]], work: Path, seconds: int,
              loads: list[tuple[int, int]], *, experiment: bool = False) -> dict:
    port = free_port()
    url_file = work / "urls.txt"
    url_file.write_text("\n".join(P + "?" + urlencode(q) for q in queries) + "\n")
    script = work / "beacon.lua"
    script.write_text(WRK_SCRIPT % {"urls": url_file})
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if experiment:  # the same uvicorn settings as 'precimed serve', reordered app
        env["PRECIMED_HOME"] = str(home)
        env["PYTHONPATH"] = str(Path(__file__).parent)
        command = [sys.executable, "-m", "uvicorn", "beacon:router_first_app", "--factory",
                   "--workers", "2", "--port", str(port), "--log-level", "warning",
                   "--no-proxy-headers"]
    else:
        command = [str(Path(sys.executable).parent / "precimed"), "--home", str(home),
                   "serve", "--workers", "2", "--port", str(port)]
    server = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        wait_up(port)
        wrk(port, script, 3, loads[0][0], loads[0][1])  # warm-up
        runs = []
        for connections, threads in loads:
            load_before = os.getloadavg()
            result = wrk(port, script, seconds, connections, threads)
            runs.append({"load_generator": f"wrk {threads} thread(s), {connections} "
                                           f"connections, {seconds} s, same machine",
                         **result,
                         "load_average_before": [round(x, 2) for x in load_before],
                         "load_average_after": [round(x, 2) for x in os.getloadavg()]})
            print({k: v for k, v in runs[-1].items() if k != "wrk_output"}, flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    server_kind = ("uvicorn --workers 2 on beacon_router_first(app) (experiment)"
                   if experiment else "precimed serve --workers 2 (uvicorn, httptools, uvloop)")
    return {"server": server_kind, "runs": runs}


# -- the DuckDB peer ---------------------------------------------------------------------
def duckdb_peer(home: Path, queries: list[dict[str, str]]) -> dict:
    import duckdb

    store = GenotypeStore.open(home / "genotypes")
    table = store.variants()[["chrom", "pos", "ref", "alt"]]
    for name in store.datasets:
        counts = store.counts(None, store.samples(name)["sample_index"].to_numpy())
        table[f"carriers_{name}"] = counts["het"] + counts["hom_alt"]
    con = duckdb.connect()
    con.register("frame", table)
    con.execute("CREATE TABLE variants AS SELECT * FROM frame")
    sql = "SELECT * FROM variants WHERE chrom = ? AND pos = ? AND ref = ? AND alt = ?"
    args = [(q["referenceName"], int(q["start"]) + 1, q["referenceBases"], q["alternateBases"])
            for q in queries]
    for a in args[:200]:
        con.execute(sql, a).fetchall()
    times = []
    for a in args:
        t = time.perf_counter()
        con.execute(sql, a).fetchall()
        times.append(time.perf_counter() - t)
    return {"what": "one parameterised DuckDB point query per request (table of variants + "
                    "carrier counts per dataset, in memory), no HTTP", **percentiles(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--variants", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--loads", default="32x2,16x1,64x1",
                        help="connections x wrk threads, comma-separated")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--label", default="after")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--experiment", action="store_true",
                        help="also serve the app with the Beacon router matched first")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="beacon-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    home = build_home(work, args.samples, args.variants)
    build_s = time.perf_counter() - started
    queries = make_queries(home, args.queries)
    section = {"in_process": in_process(home, queries),
               "duckdb_peer_in_process": duckdb_peer(home, queries)}
    print(json.dumps(section, indent=1))
    if not args.skip_http:
        loads = [tuple(int(x) for x in load.split("x")) for load in args.loads.split(",")]
        section["http"] = over_http(home, queries, work, args.seconds, loads)
        if args.experiment:
            section["http_experiment_beacon_router_first"] = over_http(
                home, queries, work, args.seconds, loads, experiment=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing.update({
        "data": {"participants": args.samples, "reference_samples": REFERENCE_SAMPLES,
                 "variants": args.variants, "seed": SEED, "store_build_s": round(build_s, 1),
                 "queries": "half existing, half absent (other ALT at a site, or an "
                            "empty position); half boolean, half count; anonymous caller"},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "peers_quoted": PEERS,
        args.label: section,
    })
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(existing, indent=1) + "\n")


if __name__ == "__main__":
    main()
