"""Checking a marker and a binary outcome, and the conventions shared by every result."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from precimed.errors import UserError

DIRECTIONS = ("auto", "<", ">")
DIRECTION_MEANING = {"<": "controls < cases: a higher marker value indicates a case",
                     ">": "controls > cases: a lower marker value indicates a case"}


def as_outcome(outcome, *, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The outcome as booleans (True = case) and a mask of the rows where it is known."""
    series = pd.Series(np.asarray(outcome).ravel())
    if series.dtype == bool:
        return series.to_numpy(), np.ones(len(series), bool)
    known = series.notna().to_numpy()
    values = pd.to_numeric(series, errors="coerce").to_numpy(float)
    if not np.isin(values[known], (0.0, 1.0)).all():
        raise UserError("The outcome must be binary: 1 or True for a case, 0 or False for a "
                        "control", where=where,
                        hint="Code it first, for example outcome == 'Poor'.")
    return values == 1, known


def as_marker(marker, *, where: str) -> np.ndarray:
    try:
        x = np.asarray(marker, dtype=float).ravel()
    except (TypeError, ValueError) as cause:
        raise UserError("The marker must be numeric", where=where,
                        hint="Convert ordered categories to their numeric scores.") from cause
    if np.isinf(x).any():
        raise UserError("The marker has infinite values", where=where,
                        hint="Replace them by missing values or finite limits.")
    return x


def complete(markers: list, outcome, *, where: str,
             also_known: np.ndarray | None = None) -> tuple[list[np.ndarray], np.ndarray,
                                                             np.ndarray]:
    """Markers and outcome restricted to rows where all are known (and ``also_known``),
    and the mask of the rows kept. Refuses unequal lengths and data without both cases
    and controls."""
    xs = [as_marker(m, where=where) for m in markers]
    y, known = as_outcome(outcome, where=where)
    if any(len(x) != len(y) for x in xs):
        raise UserError("The marker and the outcome have different lengths", where=where,
                        hint="Pass one value of each per participant.")
    if also_known is not None:
        known &= also_known
    for x in xs:
        known &= ~np.isnan(x)
    xs, y = [x[known] for x in xs], y[known]
    require_both_classes(y, where=where)
    return xs, y, known


def require_both_classes(y: np.ndarray, *, where: str) -> None:
    if y.all() or not y.any():
        missing = "controls" if y.all() else "cases"
        raise UserError(f"No {missing} with a known marker value", where=where,
                        hint="A ROC analysis needs at least one case and one control.")


def resolve_direction(direction: str, cases: np.ndarray, controls: np.ndarray, *,
                      where: str) -> str:
    """pROC's rule for "auto": "<" when the median of the controls is at most that of the
    cases, otherwise ">"."""
    if direction not in DIRECTIONS:
        raise UserError(f"Unknown direction {direction!r}", where=where,
                        hint='Use "auto", "<" (cases higher) or ">" (cases lower).')
    if direction != "auto":
        return direction
    return "<" if np.median(controls) <= np.median(cases) else ">"


def z_value(conf_level: float, *, where: str) -> float:
    from scipy import stats

    if not 0 < conf_level < 1:
        raise UserError(f"conf_level must be between 0 and 1, not {conf_level}", where=where,
                        hint="For a 95% interval pass 0.95.")
    return float(stats.norm.ppf(0.5 + conf_level / 2))


def jsonable(value):
    """Floats as JSON allows them: infinities and NaN become None."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [jsonable(v) for v in value]
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value
