"""Generalisation of quasi-identifiers before they reach the lake."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def year_month(dates: pa.Array) -> pa.Array:
    """Birth dates kept only as ``YYYY-MM``."""
    return pc.strftime(pc.cast(dates, pa.timestamp("s")), format="%Y-%m")
