"""Cohort-count benchmark: a 6-criterion count at 10k, 30k and 100k participants with
1,000 measurement variables each, on three measurement layouts.

The data are generated straight into Parquet with the lake's column names (not through
ingest: 100 million measurement rows would only time the ingest again). The count runs
through the real compiler (``precimed.query.compile``) on DuckDB; the wide layout, which
the compiler does not target, is timed with the equivalent query for comparison.

    .venv/bin/python benchmarks/cohort.py [--sizes 10000,30000,100000] [--variables 1000]

Writes benchmarks/results/cohort.json. Not a test: numbers, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from precimed.query import (
    AgeAtEnrolment,
    Diagnosis,
    MeasurementIn,
    Not,
    ParticipantIs,
    baseline,
    before,
    cohort,
)
from precimed.query import compile as engine

RESULTS = Path(__file__).parent / "results" / "cohort.json"
REAL = {"SBP": (130, 20), "BMI": (24, 3.5), "GLU_FAST": (5.4, 1.3), "TC": (4.9, 1.0)}
DEFINITION = cohort(
    "six criteria",
    ParticipantIs("sex", ("2",)),
    AgeAtEnrolment(40, 70),
    MeasurementIn("SBP", min=140, window=baseline()),
    MeasurementIn("BMI", min=24, window=baseline()),
    MeasurementIn("GLU_FAST", max=7.0, window=baseline()),
    Not(Diagnosis(("I21",), window=before())),
)
WIDE_SQL = """
SELECT count(*) FROM participant p JOIN wide w USING (pseudonym)
WHERE p.sex = '2'
  AND floor(((year(p.enrolment_date) - CAST(left(p.birth_year_month, 4) AS INT)) * 12
       + month(p.enrolment_date) - CAST(right(p.birth_year_month, 2) AS INT)) / 12)
      BETWEEN 40 AND 69
  AND w.SBP >= 140 AND w.BMI >= 24 AND w.GLU_FAST <= 7.0
  AND p.pseudonym NOT IN (SELECT c.pseudonym FROM condition c JOIN participant q
       USING (pseudonym) WHERE c.icd10 LIKE 'I21%' AND c.diagnosed_on < q.enrolment_date)
"""


def generate(directory: Path, n: int, variables: int, rng: np.random.Generator) -> dict:
    directory.mkdir(parents=True)
    pseudonyms = np.array([f"{i:032x}" for i in rng.permutation(n * 7)[:n]])
    enrolled = np.datetime64("2016-01-01") + rng.integers(0, 1500, n).astype("timedelta64[D]")
    birth_year = 2016 - rng.integers(30, 80, n)
    people = pa.table({
        "pseudonym": pseudonyms, "sex": rng.choice(["1", "2"], n),
        "birth_year_month": [f"{y}-{m:02d}" for y, m in zip(birth_year, rng.integers(1, 13, n),
                                                             strict=True)],
        "enrolment_date": pa.array(enrolled, pa.date32()),
        "cohort": np.full(n, "NP-EAST"), "centre": rng.choice(["SH01", "JS01", "SD01"], n),
        "region": np.full(n, "east"), "native_province": np.full(n, "31"),
        "ethnicity": np.full(n, "01")})
    pq.write_table(people, directory / "participant.parquet")
    codes = sorted([*REAL, *(f"V{i:04d}" for i in range(variables - len(REAL)))])
    values = np.empty((len(codes), n), np.float32)
    for k, code in enumerate(codes):
        mean, sd = REAL.get(code, (50.0, 10.0))
        values[k] = rng.normal(mean, sd, n)
    code_index = np.repeat(np.arange(len(codes), dtype=np.int16), n)
    person_index = np.tile(np.arange(n, dtype=np.int32), len(codes))
    long = pa.table({
        "pseudonym": pa.DictionaryArray.from_arrays(person_index, pa.array(pseudonyms)),
        "code": pa.DictionaryArray.from_arrays(code_index, pa.array(codes)),
        "value": values.reshape(-1).astype(np.float64),
        "wave": pa.array(np.zeros(len(code_index), np.int64)),
        "measured_on": pa.array(np.tile(enrolled, len(codes)), pa.date32())})
    # long, sorted by code then participant: a criterion reads only its item's row groups
    pq.write_table(long, directory / "measurement_by_code.parquet", row_group_size=n)
    order = np.lexsort((code_index, person_index))  # as submitted: by participant
    pq.write_table(long.take(order), directory / "measurement_by_person.parquet",
                   row_group_size=n)
    wide = pa.table({"pseudonym": pseudonyms,
                     **{code: values[k].astype(np.float64) for k, code in enumerate(codes)}})
    pq.write_table(wide, directory / "wide.parquet", row_group_size=n)
    conditions = rng.choice(n, n // 20, replace=False)
    pq.write_table(pa.table({
        "pseudonym": pseudonyms[conditions],
        "icd10": rng.choice(["I21.9", "I10", "E11.9", "I63.9"], len(conditions)),
        "diagnosed_on": pa.array(enrolled[conditions] - rng.integers(-900, 900, len(
            conditions)).astype("timedelta64[D]"), pa.date32())}),
        directory / "condition.parquet")
    return {"measurement_rows": len(code_index),
            "mib": {p.name: round(p.stat().st_size / 2**20, 1) for p in directory.iterdir()}}


def connect(directory: Path, layout: str) -> ibis.BaseBackend:
    if layout == "duckdb_by_code":
        return native(directory)
    con = ibis.duckdb.connect()
    con.raw_sql("SET enable_object_cache = true")  # keep Parquet footers between queries
    con.read_parquet(directory / "participant.parquet", table_name="participant")
    con.read_parquet(directory / "condition.parquet", table_name="condition")
    if layout == "wide":
        con.read_parquet(directory / "wide.parquet", table_name="wide")
    else:
        con.read_parquet(directory / f"measurement_{layout}.parquet", table_name="measurement")
    return con


def native(directory: Path) -> ibis.BaseBackend:
    """A DuckDB database file per release: tables in DuckDB's own compressed format,
    measurements ordered by item then participant, so a criterion reads one zone."""
    path = directory / "release.duckdb"
    if not path.exists():
        con = ibis.duckdb.connect(str(path))
        for name in ("participant", "condition"):
            con.raw_sql(f"CREATE TABLE {name} AS SELECT * FROM "
                        f"read_parquet('{directory / name}.parquet')")
        con.raw_sql("CREATE TABLE measurement AS SELECT * FROM read_parquet("
                    f"'{directory / 'measurement_by_code.parquet'}') ORDER BY code, pseudonym")
        con.disconnect()
    return ibis.duckdb.connect(str(path), read_only=True)


def timed(run, repeats: int) -> dict:
    run()  # warm: file metadata and the OS cache
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    return {"result": result, "p50_ms": round(1000 * statistics.median(seconds), 2),
            "p99_ms": round(1000 * seconds[min(len(seconds) - 1, int(0.99 * len(seconds)))],
                            2), "runs": repeats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--variables", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="precimed-bench-cohort-"))
    results = []
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            rng = np.random.default_rng(n)
            started = time.perf_counter()
            info = generate(work / str(n), n, args.variables, rng)
            made = time.perf_counter() - started
            row = {"participants": n, "variables": args.variables, **info,
                   "generate_seconds": round(made, 1), "layouts": {}}
            for layout in ("duckdb_by_code", "by_code", "by_person", "wide"):
                started = time.perf_counter()
                con = connect(work / str(n), layout)
                opened = time.perf_counter() - started
                if layout == "wide":
                    run = lambda con=con: int(con.raw_sql(WIDE_SQL).fetchone()[0])  # noqa: E731
                else:
                    run = lambda con=con: engine.count(con, DEFINITION)  # noqa: E731
                repeats = args.repeats if layout != "by_person" else max(5, args.repeats // 10)
                row["layouts"][layout] = {**timed(run, repeats),
                                          "open_seconds": round(opened, 2)}
                if layout != "wide":  # a new definition each time: Ibis builds and compiles
                    engine._SQL.clear()
                    started = time.perf_counter()
                    engine.count(con, DEFINITION)
                    row["layouts"][layout]["first_count_ms"] = round(
                        1000 * (time.perf_counter() - started), 1)
                con.disconnect()
            counts = {v["result"] for v in row["layouts"].values()}
            assert len(counts) == 1, f"layouts disagree: {row['layouts']}"
            print(json.dumps(row), flush=True)
            results.append(row)
            shutil.rmtree(work / str(n))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = {"definition": DEFINITION.to_dict(), "scale": results,
           "layout_chosen": "duckdb_by_code",
           "goal": "p50 <= 50 ms and p99 <= 200 ms at 100,000 participants",
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "platform": platform.platform()}}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
