"""Cost of the disclosure gate on a typical request: the 6-criterion attrition of
benchmarks/cohort.py counted with and without the cell keys (the members' record keys
summed in the same DuckDB query), the one-off record-key table of a release, and the
gate itself on an attrition table, a retention table and a survival count table.

    .venv/bin/python benchmarks/disclosure.py [--sizes 10000,100000] [--variables 50]

Writes benchmarks/results/disclosure.json. Not a test: numbers, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from cohort import DEFINITION, generate, native, timed

from precimed.cohorts import published
from precimed.deid import (
    PERTURBED,
    CountTable,
    Policy,
    cellkey,
    publish_sequence,
    publish_table,
)
from precimed.query import compile as engine

RESULTS = Path(__file__).parent / "results" / "disclosure.json"
POLICY = Policy(threshold=10, rounding=5, perturb=True, tier=PERTURBED)


def retention_frames(rng: np.random.Generator, centres: int = 13, waves: int = 4):
    rows = []
    for c in range(centres):
        for w in range(1, waves + 1):
            due = int(rng.integers(5, 800))
            reached = int(due * rng.uniform(0.8, 1))
            died = int(rng.integers(0, 12))
            rows.append({"cohort": f"K{c % 5}", "centre": f"C{c:02d}", "wave": w,
                         "due": due, "reached": reached,
                         "lost": max(due - reached - died, 0)})
    by_wave = pd.DataFrame(rows)
    four = by_wave[by_wave.wave == waves]
    summary = pd.DataFrame({"cohort": four.cohort, "centre": four.centre,
                            "participants": four.due + 50,
                            "eligible": four.reached + four.lost, "lost": four.lost})
    return summary.reset_index(drop=True), by_wave


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--variables", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="precimed-bench-disclosure-"))
    scale = []
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            generate(work / str(n), n, args.variables, np.random.default_rng(n))
            con = native(work / str(n))
            started = time.perf_counter()
            keys = cellkey.keys_of(con, cellkey.derive_secret(b"k" * 32))
            key_table_ms = round(1000 * (time.perf_counter() - started), 1)
            cellkey.register(con, keys)
            plain = timed(lambda con=con: engine.attrition(con, DEFINITION), args.repeats)
            keyed = timed(lambda con=con: engine.attrition(
                con, DEFINITION, keys=cellkey.RECORD_KEY_TABLE), args.repeats)
            rows = keyed["result"]
            gate = timed(lambda rows=rows: publish_sequence(
                [r.count for r in rows], policy=POLICY, keys=[r.key for r in rows]),
                args.repeats)
            assert [r.count for r in rows] == [r.count for r in plain["result"]]
            row = {"participants": n, "record_key_table_ms": key_table_ms,
                   "attrition_p50_ms": plain["p50_ms"],
                   "attrition_with_cell_keys_p50_ms": keyed["p50_ms"],
                   "publish_sequence_p50_ms": gate["p50_ms"]}
            print(json.dumps(row), flush=True)
            scale.append(row)
            con.disconnect()
            shutil.rmtree(work / str(n))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rng = np.random.default_rng(14)
    summary, by_wave = retention_frames(rng)
    retention = timed(lambda: published.retention(summary, by_wave, policy=POLICY),
                      args.repeats)
    values = np.array([900, 120, *rng.integers(0, 200, 8)])
    table = CountTable(values, [(0, np.arange(2, 10))])
    small = timed(lambda: publish_table(table, policy=POLICY), args.repeats)
    out = {"scale": scale,
           "retention_table_13_centres_4_waves_p50_ms": retention["p50_ms"],
           "ten_cell_table_p50_ms": small["p50_ms"],
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "platform": platform.platform()}}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
