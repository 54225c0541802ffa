"""ROC curves, the AUC with DeLong's variance, and DeLong's tests comparing two AUCs.

Conventions are pROC's (Robin et al. 2011) so that every number can be checked against it
(tests/validation/test_biomarker_against_proc.py, pROC 1.18, 1e-9 relative): thresholds
halfway between consecutive distinct marker values plus -Inf and +Inf; for direction "<"
a participant tests positive when the marker is >= the threshold, for ">" when it is <=;
"auto" picks "<" when the median of the controls is at most that of the cases.

DeLong's variance uses placement values (structural components): for a case, the share
of controls it outranks, ties counting half; for a control, the share of cases that
outrank it. Sun & Xu (2014) obtain them from midranks, since midrank in the pooled
sample minus midrank among the cases equals the number of controls below plus half those
tied; here the same counts come from one sort of the distinct values, so the AUC, its
variance and the covariance of several markers on the same participants cost
O(n log n), not O(cases x controls).
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
from precimed.errors import UserError


def placements(x: np.ndarray, y: np.ndarray, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's placement values of the cases (V10) and of the controls (V01), in the
    order the cases and controls appear in ``x``; their means both equal the AUC."""
    score = x if direction == "<" else -x
    values, inverse = np.unique(score, return_inverse=True)
    cases_at = np.bincount(inverse[y], minlength=len(values)).astype(float)
    controls_at = np.bincount(inverse[~y], minlength=len(values)).astype(float)
    m, n = cases_at.sum(), controls_at.sum()
    controls_below = np.cumsum(controls_at) - controls_at
    cases_above = m - np.cumsum(cases_at)
    v10 = (controls_below + controls_at / 2)[inverse[y]] / n
    v01 = (cases_above + cases_at / 2)[inverse[~y]] / m
    return v10, v01


def delong_covariance(v10: list[np.ndarray], v01: list[np.ndarray]) -> np.ndarray:
    """Covariance matrix of the AUCs of markers measured on the same cases and controls:
    S10 / m + S01 / n (DeLong et al. 1988). NaN with fewer than two cases or controls."""
    m, n = len(v10[0]), len(v01[0])
    if m < 2 or n < 2:
        return np.full((len(v10), len(v10)), np.nan)
    s10 = np.atleast_2d(np.cov(np.vstack(v10)))
    s01 = np.atleast_2d(np.cov(np.vstack(v01)))
    return s10 / m + s01 / n


def thresholds_between(values: np.ndarray, direction: str) -> np.ndarray:
    """pROC's thresholds: -Inf, the midpoints of consecutive distinct values, +Inf. Where
    two values are so close that their midpoint rounds onto one of them, the threshold
    is moved onto the value it must separate from the other, so that the >= (or <=)
    rule still splits them."""
    lower = np.concatenate([[-np.inf], values])
    upper = np.concatenate([values, [np.inf]])
    with np.errstate(over="ignore", invalid="ignore"):
        middle = (lower + upper) / 2
        halves = lower / 2 + upper / 2
    middle = np.where(np.abs(middle) > 1e100, halves, middle)
    finite = np.isfinite(middle)
    if direction == "<":
        return np.where(finite & (middle == lower), upper, middle)
    return np.where(finite & (middle == upper), lower, middle)


def confusion(cases: np.ndarray, controls: np.ndarray, thresholds: np.ndarray,
              direction: str) -> dict[str, np.ndarray]:
    """True and false positives and negatives at each threshold; ``cases`` and
    ``controls`` sorted ascending."""
    if direction == "<":  # positive when marker >= threshold
        tp = len(cases) - np.searchsorted(cases, thresholds, side="left")
        tn = np.searchsorted(controls, thresholds, side="left")
    else:  # positive when marker <= threshold
        tp = np.searchsorted(cases, thresholds, side="right")
        tn = len(controls) - np.searchsorted(controls, thresholds, side="right")
    return {"tp": tp, "fp": len(controls) - tn, "tn": tn, "fn": len(cases) - tp}


def _performance(cases, controls, thresholds, direction) -> pd.DataFrame:
    counts = confusion(cases, controls, thresholds, direction)
    table = pd.DataFrame({"threshold": np.asarray(thresholds, float),
                          "sensitivity": counts["tp"] / len(cases),
                          "specificity": counts["tn"] / len(controls)})
    for name, value in counts.items():
        table[name] = value
    return table


class ROC:
    """The empirical ROC curve of a marker, its AUC, and DeLong's standard error and
    confidence interval for the AUC (pROC's ``roc``, ``ci.auc(method = "delong")`` and
    ``coords``). Rows with a missing marker or outcome are dropped and counted.

    ``roc_`` has one row per threshold, running from everyone test-positive (sensitivity
    1) to no one (specificity 1), with the 2x2 counts; ``youden_`` holds every row where
    sensitivity + specificity is largest."""

    def fit(self, marker, outcome, *, direction: str = "auto", conf_level: float = 0.95,
            label: str = "marker") -> ROC:
        where = "ROC.fit"
        (x,), y, kept = complete([marker], outcome, where=where)
        dropped = int((~kept).sum())
        z = z_value(conf_level, where=where)
        self._cases, self._controls = np.sort(x[y]), np.sort(x[~y])
        self.direction_ = resolve_direction(direction, self._cases, self._controls,
                                            where=where)
        self.direction_chosen_by_ = "median rule (auto)" if direction == "auto" else "user"
        v10, v01 = placements(x, y, self.direction_)
        self.label, self.conf_level = label, conf_level
        self.n_cases_, self.n_controls_, self.n_dropped_ = int(y.sum()), int((~y).sum()), dropped
        self.auc_ = float(v10.mean())
        self.auc_var_ = float(delong_covariance([v10], [v01])[0, 0])
        self.auc_se_ = float(np.sqrt(self.auc_var_))
        self.auc_ci_ = tuple(float(np.clip(self.auc_ + s * z * self.auc_se_, 0, 1))
                             for s in (-1, 1))
        thresholds = thresholds_between(np.unique(x), self.direction_)
        if self.direction_ == ">":  # from everyone positive to no one, as pROC lists them
            thresholds = thresholds[::-1]
        self.roc_ = _performance(self._cases, self._controls, thresholds, self.direction_)
        youden = self.roc_.sensitivity + self.roc_.specificity
        # every threshold reaching the maximum, as pROC's coords(best.method = "youden")
        self.youden_ = self.roc_[youden == youden.max()].assign(
            youden_index=youden[youden == youden.max()] - 1).reset_index(drop=True)
        return self

    def _check(self) -> None:
        if not hasattr(self, "roc_"):
            raise UserError("The ROC estimator is not fitted", where="ROC",
                            hint="Call fit(marker, outcome) first.")

    def coords(self, threshold) -> pd.DataFrame:
        """Sensitivity, specificity and the 2x2 counts at any threshold(s), with the
        fitted direction's rule (>= for "<", <= for ">")."""
        self._check()
        thresholds = np.atleast_1d(np.asarray(threshold, dtype=float))
        return _performance(self._cases, self._controls, thresholds, self.direction_)

    def threshold_at_specificity(self, specificity: float) -> pd.Series:
        """The curve's threshold with the highest sensitivity among those whose
        specificity is at least ``specificity`` (then the highest specificity)."""
        self._check()
        if not 0 <= specificity <= 1:
            raise UserError(f"Specificity must be between 0 and 1, not {specificity}",
                            where="ROC.threshold_at_specificity", hint="For 90% pass 0.9.")
        eligible = self.roc_[self.roc_.specificity >= specificity]
        best = eligible.sort_values(["sensitivity", "specificity"], ascending=False,
                                    kind="stable")
        return best.iloc[0]

    @property
    def summary(self) -> pd.DataFrame:
        self._check()
        level = f"{self.conf_level:g}"
        return pd.DataFrame({
            "auc": [self.auc_], "se(auc)": [self.auc_se_],
            f"lower {level}": [self.auc_ci_[0]], f"upper {level}": [self.auc_ci_[1]],
            "direction": [self.direction_], "n_cases": [self.n_cases_],
            "n_controls": [self.n_controls_]}, index=pd.Index([self.label], name="marker"))

    def to_dict(self) -> dict:
        """The results as JSON-able values; thresholds of +/-Inf become None. The curve's
        thresholds lie between participants' values: disclosure is the platform's job."""
        self._check()
        return jsonable({
            "estimator": "roc", "label": self.label, "n_cases": self.n_cases_,
            "n_controls": self.n_controls_, "n_dropped": self.n_dropped_,
            "direction": self.direction_, "direction_meaning": DIRECTION_MEANING[self.direction_],
            "direction_chosen_by": self.direction_chosen_by_, "conf_level": self.conf_level,
            "auc": self.auc_, "auc_se": self.auc_se_, "auc_ci": list(self.auc_ci_),
            "ci_method": "delong",
            "youden": self.youden_[["threshold", "sensitivity", "specificity"]]
            .to_dict(orient="list"),
            "roc": self.roc_[["threshold", "sensitivity", "specificity"]].to_dict(orient="list")})

    def plot_roc(self, ax=None, *, diagonal: bool = True):
        """The curve as sensitivity against 1 - specificity, the AUC and its CI in the
        legend."""
        import matplotlib.pyplot as plt

        self._check()
        ax = ax or plt.subplots(figsize=(4, 4))[1]
        label = (f"{self.label}: AUC {self.auc_:.3f} "
                 f"({self.auc_ci_[0]:.3f}–{self.auc_ci_[1]:.3f})")
        ax.plot(1 - self.roc_.specificity, self.roc_.sensitivity, label=label)
        if diagonal:
            ax.plot([0, 1], [0, 1], linestyle=":", color="grey", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_xlabel("1 - specificity")
        ax.set_ylabel("sensitivity")
        ax.legend(loc="lower right")
        return ax


@dataclass(frozen=True)
class DeLongTest:
    """DeLong's test of equal AUCs. Paired: Z for two correlated ROC curves. Unpaired: a
    statistic referred to Student's t with Welch–Satterthwaite degrees of freedom, as
    pROC's ``roc.test`` does (``df`` is None for the paired test)."""

    statistic: float
    p_value: float
    auc: tuple[float, float]
    difference: float
    se_difference: float
    paired: bool
    directions: tuple[str, str]
    n_cases: tuple[int, int]
    n_controls: tuple[int, int]
    conf_level: float
    difference_ci: tuple[float, float] | None = None
    correlation: float | None = None
    df: float | None = None

    def to_dict(self) -> dict:
        name = "delong_paired" if self.paired else "delong_unpaired"
        return jsonable({"test": name, "statistic": self.statistic, "p_value": self.p_value,
                         "df": self.df, "auc": list(self.auc), "difference": self.difference,
                         "se_difference": self.se_difference,
                         "difference_ci": self.difference_ci, "conf_level": self.conf_level,
                         "correlation": self.correlation, "directions": list(self.directions),
                         "n_cases": list(self.n_cases), "n_controls": list(self.n_controls)})


def delong_test(marker1, marker2, outcome, *, paired: bool = True, outcome2=None,
                direction: str | tuple[str, str] = "auto",
                conf_level: float = 0.95) -> DeLongTest:
    """DeLong's two-sided test that two markers have the same AUC (pROC's
    ``roc.test(method = "delong")``).

    Paired: both markers measured on the same participants (``outcome`` for both; rows
    missing either marker are dropped). Unpaired: ``marker2`` on other participants,
    whose outcome is ``outcome2``. ``direction`` applies to each marker, or give one per
    marker; "auto" decides each by pROC's median rule.
    """
    where = "delong_test"
    directions = (direction, direction) if isinstance(direction, str) else tuple(direction)
    if len(directions) != 2:
        raise UserError("direction must be one value or one per marker", where=where,
                        hint='For example direction=("<", ">").')
    z = z_value(conf_level, where=where)
    if paired:
        if outcome2 is not None:
            raise UserError("A paired test uses one outcome for both markers", where=where,
                            hint="Drop outcome2, or pass paired=False for separate samples.")
        return _paired(marker1, marker2, outcome, directions, z, conf_level)
    if outcome2 is None:
        raise UserError("An unpaired test needs the outcome of the second sample",
                        where=where, hint="Pass outcome2=..., or paired=True.")
    return _unpaired(marker1, marker2, outcome, outcome2, directions, conf_level)


def _paired(marker1, marker2, outcome, directions, z, conf_level) -> DeLongTest:
    (x1, x2), y, _ = complete([marker1, marker2], outcome, where="delong_test")
    resolved, v10, v01 = [], [], []
    for x, wanted in zip((x1, x2), directions, strict=True):
        d = resolve_direction(wanted, x[y], x[~y], where="delong_test")
        cases, controls = placements(x, y, d)
        resolved.append(d)
        v10.append(cases)
        v01.append(controls)
    auc = (float(v10[0].mean()), float(v10[1].mean()))
    cov = delong_covariance(v10, v01)
    difference = auc[0] - auc[1]
    se = float(np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        # identical curves give 0/0, which pROC reports as Z = 0
        statistic = 0.0 if se == 0 and difference == 0 else float(np.float64(difference) / se)
        correlation = float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]))
    m, n = int(y.sum()), int((~y).sum())
    return DeLongTest(statistic, float(2 * stats.norm.sf(abs(statistic))), auc, difference,
                      se, True, tuple(resolved), (m, m), (n, n), conf_level,
                      difference_ci=(difference - z * se, difference + z * se),
                      correlation=correlation)


def _unpaired(marker1, marker2, outcome1, outcome2, directions, conf_level) -> DeLongTest:
    fits = [ROC().fit(m, o, direction=d)
            for m, o, d in zip((marker1, marker2), (outcome1, outcome2), directions,
                               strict=True)]
    auc = (fits[0].auc_, fits[1].auc_)
    variances = np.array([f.auc_var_ for f in fits])
    totals = np.array([f.n_cases_ + f.n_controls_ for f in fits])
    se = float(np.sqrt(variances.sum()))
    difference = auc[0] - auc[1]
    statistic = difference / se
    df = float(variances.sum() ** 2 / (variances ** 2 / (totals - 1)).sum())
    return DeLongTest(float(statistic), float(2 * stats.t.sf(abs(statistic), df)), auc,
                      difference, se, False, tuple(f.direction_ for f in fits),
                      tuple(f.n_cases_ for f in fits), tuple(f.n_controls_ for f in fits),
                      conf_level, df=df)
