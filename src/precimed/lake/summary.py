"""Counts of what a snapshot holds, computed with Ibis on DuckDB."""

from __future__ import annotations

from dataclasses import dataclass

from precimed.lake.store import Snapshot
from precimed.standard import LAKE_TABLES


@dataclass(frozen=True)
class LakeSummary:
    catalog_version: int
    rows: dict[str, int]
    participants: dict[tuple[str, str], int]  # (cohort, centre) -> people


def summarise(snapshot: Snapshot) -> LakeSummary:
    con = snapshot.connect()
    try:
        rows = {name: int(con.table(name).count().execute()) for name in LAKE_TABLES}
        people = con.table("participant")
        grouped = (people.group_by(["cohort", "centre"]).aggregate(n=people.count())
                   .order_by(["cohort", "centre"]).to_pyarrow().to_pylist())
    finally:
        con.disconnect()
    return LakeSummary(snapshot.catalog_version, rows,
                       {(g["cohort"], g["centre"]): int(g["n"]) for g in grouped})
