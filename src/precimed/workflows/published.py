"""Counts as they may leave the server and frames as JSON: shared by the API and the pages."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from precimed.deid import Policy, protect_count


def safe(n: int | float | None, policy: Policy) -> int | None:
    """A count as it may leave the server: None means "fewer than the threshold"."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return None
    return protect_count(int(n), policy=policy)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-able dicts: NaN/NA become null, dates ISO strings."""
    out = frame.astype(object).where(frame.notna(), None)
    rows = out.to_dict(orient="records")
    for row in rows:
        for key, value in row.items():
            if hasattr(value, "isoformat"):
                row[key] = value.isoformat()
            elif hasattr(value, "item"):
                row[key] = value.item()
    return rows
