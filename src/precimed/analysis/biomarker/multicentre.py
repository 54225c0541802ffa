"""A marker's AUC across centres: per-centre AUC with DeLong's standard error, pooled by
inverse variance (fixed effect) and by DerSimonian–Laird random effects, with
heterogeneity as Cochran's Q, tau² and I² (Higgins & Thompson 2002).

The AUCs are pooled on their own scale, as metafor's ``rma(yi, vi, method = "DL")`` does
with them. One direction is chosen for all centres, from the pooled data, so that no
centre's curve is flipped on its own. Centres with fewer than two cases or two controls,
or whose DeLong variance is 0 (complete separation), cannot be weighted: they are left
out of the pooling and listed with the reason. Validated against metafor 3.8 and
statsmodels' ``combine_effects(method_re="dl")`` (tests/validation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from precimed.analysis.biomarker._inputs import (
    DIRECTION_MEANING,
    complete,
    jsonable,
    resolve_direction,
    z_value,
)
from precimed.analysis.biomarker.roc import delong_covariance, placements
from precimed.errors import UserError


@dataclass(frozen=True)
class Pooled:
    estimate: float
    se: float
    lower: float
    upper: float

    def to_dict(self) -> dict:
        return {"estimate": self.estimate, "se": self.se, "ci": [self.lower, self.upper]}


@dataclass(frozen=True)
class MulticentreAUC:
    """Per-centre AUCs (``per_centre``), centres left out (``excluded``), the fixed- and
    random-effects pooled AUC, tau², Cochran's Q with its p-value and I² in percent."""

    per_centre: pd.DataFrame
    excluded: pd.DataFrame
    fixed: Pooled
    random: Pooled
    tau2: float
    q: float
    q_df: int
    q_p_value: float
    i2_percent: float
    direction: str
    conf_level: float
    n_dropped: int

    @property
    def summary(self) -> pd.DataFrame:
        rows = self.per_centre.set_index("centre")[["n_cases", "n_controls", "auc", "se",
                                                    "lower", "upper"]]
        pooled = pd.DataFrame(
            [[self.per_centre.n_cases.sum(), self.per_centre.n_controls.sum(), p.estimate,
              p.se, p.lower, p.upper] for p in (self.fixed, self.random)],
            columns=rows.columns, index=["pooled, fixed effect", "pooled, random effects (DL)"])
        return pd.concat([rows, pooled])

    def to_dict(self) -> dict:
        return jsonable({
            "analysis": "multicentre_auc", "direction": self.direction,
            "direction_meaning": DIRECTION_MEANING[self.direction],
            "conf_level": self.conf_level, "n_dropped": self.n_dropped,
            "n_cases": int(self.per_centre.n_cases.sum()),
            "n_controls": int(self.per_centre.n_controls.sum()),
            "per_centre": self.per_centre.to_dict(orient="records"),
            "excluded": self.excluded.to_dict(orient="records"),
            "fixed": self.fixed.to_dict(), "random": self.random.to_dict(),
            "method_re": "dersimonian-laird", "tau2": self.tau2, "q": self.q,
            "q_df": self.q_df, "q_p_value": self.q_p_value, "i2_percent": self.i2_percent})

    def plot_forest(self, ax=None):
        """Each centre's AUC and interval (squares sized by random-effects weight), the
        pooled estimates as diamonds, and the line of no discrimination at 0.5."""
        import matplotlib.pyplot as plt

        t = self.per_centre
        k = len(t)
        ax = ax or plt.subplots(figsize=(5, 1.2 + 0.35 * (k + 2)))[1]
        rows = np.arange(k, 0, -1) + 1.0
        ax.hlines(rows, t.lower, t.upper, color="black", linewidth=1)
        ax.scatter(t.auc, rows, marker="s", color="black",
                   s=20 + 180 * t.weight_random / t.weight_random.max())
        for y, pooled, colour in ((0.5, self.random, "tab:blue"), (1.0, self.fixed, "grey")):
            ax.fill([pooled.lower, pooled.estimate, pooled.upper, pooled.estimate],
                    [y, y + 0.2, y, y - 0.2], color=colour)
        ax.axvline(0.5, linestyle=":", color="grey", linewidth=1)
        ax.set_yticks([*rows, 1.0, 0.5])
        ax.set_yticklabels([*map(str, t.centre), "fixed effect",
                            f"random effects (I² {self.i2_percent:.0f}%)"])
        ax.set_xlabel("AUC")
        return ax


def dersimonian_laird(effects: np.ndarray, variances: np.ndarray, z: float) -> dict:
    """Inverse-variance fixed-effect and DerSimonian–Laird random-effects pooling."""
    w = 1 / variances
    fixed = float(np.sum(w * effects) / w.sum())
    q = float(np.sum(w * (effects - fixed) ** 2))
    df = len(effects) - 1
    tau2 = max(0.0, (q - df) / (w.sum() - np.sum(w ** 2) / w.sum()))
    w_random = 1 / (variances + tau2)
    random = float(np.sum(w_random * effects) / w_random.sum())
    se_fixed, se_random = float(np.sqrt(1 / w.sum())), float(np.sqrt(1 / w_random.sum()))
    return {"fixed": Pooled(fixed, se_fixed, fixed - z * se_fixed, fixed + z * se_fixed),
            "random": Pooled(random, se_random, random - z * se_random, random + z * se_random),
            "tau2": tau2, "q": q, "q_df": df, "q_p_value": float(stats.chi2.sf(q, df)),
            "i2_percent": 100 * max(0.0, (q - df) / q) if q > 0 else 0.0,
            "weight_fixed": 100 * w / w.sum(), "weight_random": 100 * w_random / w_random.sum()}


def multicentre_auc(marker, outcome, centre, *, direction: str = "auto",
                    conf_level: float = 0.95) -> MulticentreAUC:
    where = "multicentre_auc"
    labels = pd.Series(np.asarray(centre, dtype=object).ravel())
    if len(labels) != len(np.asarray(outcome).ravel()):
        raise UserError("The centre and the outcome have different lengths", where=where,
                        hint="Pass one centre per participant.")
    (x,), y, kept = complete([marker], outcome, where=where,
                             also_known=labels.notna().to_numpy())
    labels = labels.to_numpy()[kept]
    z = z_value(conf_level, where=where)
    chosen = resolve_direction(direction, x[y], x[~y], where=where)
    rows, excluded = [], []
    for name in sorted(set(labels), key=str):
        at = labels == name
        m, n = int(y[at].sum()), int((~y[at]).sum())
        if m < 2 or n < 2:
            excluded.append((name, m, n, "fewer than 2 cases or 2 controls"))
            continue
        v10, v01 = placements(x[at], y[at], chosen)
        variance = float(delong_covariance([v10], [v01])[0, 0])
        if variance == 0:
            excluded.append((name, m, n, "DeLong variance 0 (complete separation)"))
            continue
        rows.append((name, m, n, float(v10.mean()), variance))
    if len(rows) < 2:
        raise UserError(f"Only {len(rows)} centre(s) can be pooled", where=where,
                        hint="Pooling needs at least two centres with two or more cases and "
                             "controls each and some overlap of their marker values.")
    table = pd.DataFrame(rows, columns=["centre", "n_cases", "n_controls", "auc", "variance"])
    table["se"] = np.sqrt(table.variance)
    table["lower"] = np.clip(table.auc - z * table.se, 0, 1)
    table["upper"] = np.clip(table.auc + z * table.se, 0, 1)
    pooled = dersimonian_laird(table.auc.to_numpy(), table.variance.to_numpy(), z)
    table["weight_fixed"] = pooled.pop("weight_fixed")
    table["weight_random"] = pooled.pop("weight_random")
    return MulticentreAUC(
        per_centre=table,
        excluded=pd.DataFrame(excluded, columns=["centre", "n_cases", "n_controls", "reason"]),
        direction=chosen, conf_level=conf_level, n_dropped=int((~kept).sum()),
        **pooled)
