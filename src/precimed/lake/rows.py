"""Row keys and content hashes, computed in DuckDB over Arrow data."""

from __future__ import annotations

import ibis
import pyarrow as pa

from precimed.standard import LAKE_TABLES

_SEPARATOR = "\x1f"
_NULL = "\x1e"  # DuckDB SQL literals cannot hold NUL


def _digest(table: ibis.Table, columns: tuple[str, ...]) -> ibis.Value:
    parts = [table[c].cast("string").fill_null(_NULL) for c in columns]
    return ibis.literal(_SEPARATOR).join(parts).hexdigest("md5")


def with_row_keys(name: str, data: pa.Table, con: ibis.BaseBackend) -> pa.Table:
    """Add ``row_key``: the MD5 of the table's natural key (128 bits, so no collisions at
    any population size). ``con`` is a DuckDB connection the caller reuses."""
    expr = ibis.memtable(data)
    return con.to_pyarrow(expr.mutate(row_key=_digest(expr, LAKE_TABLES[name].key)))
