"""Row keys and content hashes, computed in DuckDB over Arrow data."""

from __future__ import annotations

import ibis
import pyarrow as pa

from precimed.standard import TABLES

_SEPARATOR = "\x1f"
_NULL = "\x1e"  # DuckDB SQL literals cannot hold NUL


def _digest(table: ibis.Table, columns: tuple[str, ...]) -> ibis.Value:
    parts = [table[c].cast("string").fill_null(_NULL) for c in columns]
    return ibis.literal(_SEPARATOR).join(parts).hexdigest("md5")


def with_row_keys(name: str, data: pa.Table) -> pa.Table:
    """Add ``row_key`` (the natural key's digest) and ``row_hash`` (all standard fields')."""
    table = TABLES[name]
    con = ibis.duckdb.connect()
    try:
        expr = ibis.memtable(data)
        expr = expr.mutate(row_key=_digest(expr, table.key),
                           row_hash=_digest(expr, table.field_names))
        return con.to_pyarrow(expr)
    finally:
        con.disconnect()
