"""Sensitivity, specificity, PPV and NPV at chosen cut-offs, each with a Wilson score
interval (validated against statsmodels' ``proportion_confint(method="wilson")``).

PPV and NPV are computed at the prevalence of the sample; in a case-control sample they
do not describe any population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from precimed.analysis.biomarker._inputs import (
    DIRECTION_MEANING,
    complete,
    jsonable,
    resolve_direction,
    z_value,
)
from precimed.analysis.biomarker.roc import confusion
from precimed.errors import UserError

MEASURES = {"sensitivity": ("tp", "fn"), "specificity": ("tn", "fp"),
            "ppv": ("tp", "fp"), "npv": ("tn", "fn")}


def wilson_interval(successes, trials, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's score interval for a binomial proportion (Wilson 1927); NaN where there
    are no trials."""
    x = np.asarray(successes, float)
    n = np.asarray(trials, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (x + z * z / 2) / (n + z * z)
        half = z / (n + z * z) * np.sqrt(x * (n - x) / n + z * z / 4)
    return np.where(n > 0, centre - half, np.nan), np.where(n > 0, centre + half, np.nan)


@dataclass(frozen=True)
class DiagnosticAccuracy:
    """One row per cut-off: the 2x2 counts, each measure and its Wilson interval."""

    table: pd.DataFrame
    direction: str
    n_cases: int
    n_controls: int
    n_dropped: int
    conf_level: float

    @property
    def summary(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict:
        return jsonable({"analysis": "diagnostic_accuracy", "direction": self.direction,
                         "direction_meaning": DIRECTION_MEANING[self.direction],
                         "n_cases": self.n_cases, "n_controls": self.n_controls,
                         "n_dropped": self.n_dropped, "conf_level": self.conf_level,
                         "ci_method": "wilson", "table": self.table.to_dict(orient="list")})


def diagnostic_accuracy(marker, outcome, cutoffs, *, direction: str = "auto",
                        conf_level: float = 0.95) -> DiagnosticAccuracy:
    """Accuracy of "positive when marker >= cut-off" (direction "<", cases higher) or
    "positive when marker <= cut-off" (direction ">"), at each of ``cutoffs``; "auto"
    chooses the direction as :class:`ROC` does (pROC's median rule)."""
    where = "diagnostic_accuracy"
    (x,), y, kept = complete([marker], outcome, where=where)
    dropped = int((~kept).sum())
    z = z_value(conf_level, where=where)
    try:
        points = np.atleast_1d(np.asarray(cutoffs, dtype=float))
    except (TypeError, ValueError) as cause:
        raise UserError("Cut-offs must be numbers", where=where,
                        hint="Pass a list such as [0.2, 0.5].") from cause
    if len(points) == 0 or np.isnan(points).any():
        raise UserError("Give at least one cut-off, none missing", where=where,
                        hint="Pass a list such as [0.2, 0.5].")
    cases, controls = np.sort(x[y]), np.sort(x[~y])
    chosen = resolve_direction(direction, cases, controls, where=where)
    counts = confusion(cases, controls, points, chosen)
    table = pd.DataFrame({"cutoff": points, **counts})
    for name, (hit, miss) in MEASURES.items():
        total = table[hit] + table[miss]
        with np.errstate(divide="ignore", invalid="ignore"):
            table[name] = np.where(total > 0, table[hit] / total, np.nan)
        table[f"{name}_lower"], table[f"{name}_upper"] = wilson_interval(table[hit], total, z)
    return DiagnosticAccuracy(table, chosen, len(cases), len(controls), dropped, conf_level)
