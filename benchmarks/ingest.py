"""Ingest benchmark: synthesise N participants with 5+ years of follow-up, submit every
centre's package through the real pipeline, and report rows/s and peak memory.

    .venv/bin/python benchmarks/ingest.py [--participants 100000] [--seed 1]

Writes benchmarks/results/ingest.json. Not a test: numbers, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from precimed.home import initialise
from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.settings import load_settings
from precimed.synth import synthesise

RESULTS = Path(__file__).parent / "results" / "ingest.json"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="precimed-bench-"))
    try:
        settings = load_settings({"home": work / "home"}, environ={})
        initialise(settings)
        started = time.perf_counter()
        packages = synthesise(work / "packages", participants_count=args.participants,
                              seed=args.seed)
        synth_seconds = time.perf_counter() - started
        package_bytes = sum(f.stat().st_size for f in (work / "packages").rglob("*")
                            if f.is_file())
        per_centre = {}
        started = time.perf_counter()
        for centre, package in packages.packages.items():
            t0 = time.perf_counter()
            result = submit(package, settings)
            assert result.status == "committed", (centre, result.report.counts_by_kind())
            per_centre[centre] = round(time.perf_counter() - t0, 2)
            print(f"{centre:<8} {per_centre[centre]:6.2f} s", flush=True)
        ingest_seconds = time.perf_counter() - started
        rows = sum(packages.rows.values())
        snapshot = Lake(settings.lake_dir).snapshot()
        assert sum(snapshot.count(t) for t in snapshot.tables) == rows
        result = {
            "participants": args.participants,
            "rows": rows,
            "rows_per_table": packages.rows,
            "package_mib": round(package_bytes / 2**20, 1),
            "synth_seconds": round(synth_seconds, 1),
            "ingest_seconds": round(ingest_seconds, 1),
            "rows_per_second": round(rows / ingest_seconds),
            "peak_rss_mib": round(peak_rss_mib()),
            "seconds_per_centre": per_centre,
            "goal": "whole ingest of 100,000 participants in 60 s or less",
            "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=1))
        print(json.dumps({k: v for k, v in result.items() if k != "seconds_per_centre"},
                         indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
