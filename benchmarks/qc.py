"""QC benchmark: every check of rule set 1.0 on one 100,000-participant package.

The platform first holds a smaller submission from the other centres (so that the
distribution-drift check has something to compare with); then one centre's package of
N participants goes through the real pipeline and the QC stage is timed check by check.

    .venv/bin/python benchmarks/qc.py [--participants 100000] [--platform 10000]

Writes benchmarks/results/qc.json. Not a test: numbers, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from precimed.home import initialise
from precimed.ingest.pipeline import submit
from precimed.settings import load_settings
from precimed.standard import CENTRES
from precimed.synth import synthesise

RESULTS = Path(__file__).parent / "results" / "qc.json"
CENTRE = "SH01"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--platform", type=int, default=10_000,
                        help="participants already on the platform, over the other centres")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="precimed-bench-qc-"))
    try:
        settings = load_settings({"home": work / "home"}, environ={})
        initialise(settings)
        others = tuple(c for c in CENTRES if c != CENTRE)
        around = synthesise(work / "platform", participants_count=args.platform,
                            seed=args.seed + 1, centres=others)
        for package in around.packages.values():
            result = submit(package, settings)
            assert result.accepted, (package.name, result.report.qc.get("results"))
        started = time.perf_counter()
        big = synthesise(work / "big", participants_count=args.participants, seed=args.seed,
                         centres=(CENTRE,))
        synth_seconds = time.perf_counter() - started
        marks: list[tuple[str, float]] = []
        peak_before = peak_rss_mib()
        rss: dict[str, int] = {}

        def mark(message: str) -> None:
            marks.append((message, time.perf_counter()))
            rss[message] = round(peak_rss_mib())

        started = time.perf_counter()
        result = submit(big.packages[CENTRE], settings, progress=mark)
        total = time.perf_counter() - started
        qc = result.report.qc
        checks = {k: v for k, v in qc["seconds"].items() if k not in {"ingest"}}
        qc_seconds = sum(checks.values())
        first_qc = next(t for m, t in marks if m.startswith("QC check"))
        staging = first_qc - next(t for m, t in marks if m == "pseudonymising")
        out = {
            "participants": args.participants,
            "rows": sum(big.rows.values()),
            "rows_per_table": big.rows,
            "platform_participants": args.platform,
            "verdict": qc["verdict"],
            "status": result.status,
            "check_instances": len(qc["results"]),
            "beyond_threshold": [(r["check"], r["instance"], r["failing"], r["checked"])
                                 for r in qc["results"] if r["status"] in {"warn", "fail"}],
            "examples": [p.line() for p in result.report.problems[:5]],
            "qc_seconds": round(qc_seconds, 2),
            "seconds_per_check": {k: round(v, 3) for k, v in
                                  sorted(checks.items(), key=lambda kv: -kv[1])},
            "pseudonymise_and_stage_seconds": round(staging, 2),
            "whole_submission_seconds": round(total, 1),
            "synth_seconds": round(synth_seconds, 1),
            "peak_rss_mib_before_submission": round(peak_before),
            "peak_rss_mib": round(peak_rss_mib()),
            "peak_rss_mib_by_stage": rss,
            "goal": "all checks on a 100,000-participant package in 30 s or less",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()},
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(out, indent=1))
        print(json.dumps(out, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
