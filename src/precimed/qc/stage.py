"""Put rows under check into DuckDB beside the lake, as the checks expect them."""

from __future__ import annotations

import ibis
import pyarrow as pa

from precimed.lake.store import Snapshot
from precimed.qc.checks import QcData
from precimed.qc.rules import RuleSet
from precimed.standard import TABLES


def _lake_tables(con: ibis.BaseBackend, snapshot: Snapshot) -> dict[str, ibis.Table]:
    tables = {}
    for name, table in TABLES.items():
        files = snapshot.files(name)
        if files:
            t = con.read_parquet(files, table_name=f"lake_{name}")
        else:
            t = ibis.memtable(_nullable(table.arrow_schema().empty_table()))
        # a lake row is found by its submission; it has no row number in a file
        tables[name] = t.mutate(_file=t.submission_id, _row=ibis.literal(0, "int64"))
    return tables


def _nullable(table: pa.Table) -> pa.Table:
    """Staged and lake rows are unioned; their schemas must agree on nullability too."""
    return table.cast(pa.schema([f.with_nullable(True) for f in table.schema]))


def _split(tables: dict[str, ibis.Table], centre: str):
    mine = {n: t.filter(t.centre == centre) for n, t in tables.items()}
    others = {n: t.filter(t.centre != centre) for n, t in tables.items()}
    return mine, others


def staged_data(con: ibis.BaseBackend, staged: dict[str, pa.Table], snapshot: Snapshot,
                centre: str, ruleset: RuleSet, *,
                headers: dict[str, dict[str, str]] | None = None,
                invalid: pa.Table | None = None) -> QcData:
    """A submission's staged tables (with ``_file`` and ``_row``) against the lake;
    ``headers`` and ``invalid`` as :class:`QcData` takes them."""
    tables = {}
    for name, table in staged.items():
        # a view over the Arrow table, no copy (Ibis 12's create_table from Arrow trips
        # over DuckDB's DROP VIEW syntax)
        con.con.register(f"staged_{name}", _nullable(table))
        tables[name] = con.table(f"staged_{name}")
    known, others = _split(_lake_tables(con, snapshot), centre)
    cells = None
    if invalid is not None and invalid.num_rows:
        con.con.register("staged_invalid_cells", invalid)
        cells = con.table("staged_invalid_cells")
    return QcData(con, centre, tables, known, others, ruleset.ranges_for_centre(centre),
                  headers=headers or {}, invalid=cells)


def lake_data(con: ibis.BaseBackend, snapshot: Snapshot, centre: str,
              ruleset: RuleSet) -> QcData:
    """A centre's rows already in the lake, for re-scoring without re-ingesting."""
    mine, others = _split(_lake_tables(con, snapshot), centre)
    return QcData(con, centre, mine, {}, others, ruleset.ranges_for_centre(centre))
