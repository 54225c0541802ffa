"""Calibration of predicted risks against observed outcomes.

Calibration-in-the-large is the intercept of a logistic model of the outcome with
logit(p) as an offset (the slope held at 1); the calibration slope is the coefficient of
logit(p) in a logistic model with its own intercept (Cox 1958; Van Calster et al. 2016).
Both are maximum likelihood by Newton–Raphson with Wald intervals, as R's ``glm`` with
``confint.default``. The Hosmer–Lemeshow statistic groups participants at the quantiles
of predicted risk (deciles by default) as ``ResourceSelection::hoslem.test`` does: breaks
at R's type-7 quantiles, intervals closed on the right, the lowest closed on both sides.
Validated against R's ``glm`` and statsmodels' GLM (1e-8 relative) and a direct
computation of Hosmer–Lemeshow (tests/validation/test_biomarker_against_proc.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from precimed.analysis.biomarker._inputs import (
    complete,
    jsonable,
    z_value,
)
from precimed.errors import UserError


def logistic_fit(design: np.ndarray, y: np.ndarray, offset: np.ndarray, *,
                 tol: float = 1e-12, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and their covariance for a logistic model with an offset."""
    beta = np.zeros(design.shape[1])
    for _ in range(max_iter):
        p = expit(offset + design @ beta)
        information = design.T @ (design * (p * (1 - p))[:, None])
        step = np.linalg.solve(information, design.T @ (y - p))
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            p = expit(offset + design @ beta)
            information = design.T @ (design * (p * (1 - p))[:, None])
            return beta, np.linalg.inv(information)
    raise UserError("The calibration model did not converge", where="Calibration.fit",
                    hint="The outcome may be perfectly separated by the predicted risk.")


def risk_groups(p: np.ndarray, groups: int) -> np.ndarray:
    """Group index (0-based) of each risk: cut at the quantiles of ``p``; groups whose
    breaks coincide because of ties are merged."""
    breaks = np.unique(np.quantile(p, np.linspace(0, 1, groups + 1)))
    return np.clip(np.searchsorted(breaks, p, side="left") - 1, 0, len(breaks) - 2)


class Calibration:
    """Calibration intercept and slope of predicted probabilities, the Hosmer–Lemeshow
    test and the observed-versus-predicted table by risk group."""

    def fit(self, predicted_probability, outcome, *, groups: int = 10,
            conf_level: float = 0.95) -> Calibration:
        where = "Calibration.fit"
        (p,), y, kept = complete([predicted_probability], outcome, where=where)
        dropped = int((~kept).sum())
        if ((p <= 0) | (p >= 1)).any():
            raise UserError("Predicted probabilities must lie strictly between 0 and 1",
                            where=where,
                            hint="Pass risks, not scores; a risk of exactly 0 or 1 has no logit.")
        if not isinstance(groups, int) or groups < 3:
            raise UserError(f"Hosmer–Lemeshow needs at least 3 groups, not {groups}",
                            where=where, hint="Use groups=10 for deciles of risk.")
        z = z_value(conf_level, where=where)
        logit = np.log(p / (1 - p))
        outcome01 = y.astype(float)
        ones = np.ones((len(p), 1))
        (intercept,), intercept_cov = logistic_fit(ones, outcome01, logit)
        slope_beta, slope_cov = logistic_fit(np.column_stack([ones, logit]), outcome01,
                                             np.zeros(len(p)))
        self.conf_level, self.groups = conf_level, groups
        self.n_cases_, self.n_controls_, self.n_dropped_ = int(y.sum()), int((~y).sum()), dropped
        self.intercept_ = float(intercept)
        self.intercept_se_ = float(np.sqrt(intercept_cov[0, 0]))
        self.slope_ = float(slope_beta[1])
        self.slope_se_ = float(np.sqrt(slope_cov[1, 1]))
        self.intercept_ci_ = (self.intercept_ - z * self.intercept_se_,
                              self.intercept_ + z * self.intercept_se_)
        self.slope_ci_ = (self.slope_ - z * self.slope_se_, self.slope_ + z * self.slope_se_)
        self.table_ = self._table(p, outcome01, risk_groups(p, groups))
        self._hosmer_lemeshow(where)
        return self

    @staticmethod
    def _table(p, y, group) -> pd.DataFrame:
        frame = pd.DataFrame({"group": group + 1, "p": p, "y": y})
        table = frame.groupby("group").agg(n=("y", "size"), observed=("y", "sum"),
                                           expected=("p", "sum"), p_min=("p", "min"),
                                           p_max=("p", "max"))
        table["mean_predicted"] = table.expected / table.n
        table["observed_rate"] = table.observed / table.n
        return table.reset_index()

    def _hosmer_lemeshow(self, where: str) -> None:
        t = self.table_
        formed = len(t)
        if formed < 3:
            raise UserError("Too few distinct predicted risks to form Hosmer–Lemeshow groups",
                            where=where, hint="The test needs at least three risk groups.")
        cases = (t.observed - t.expected) ** 2 / t.expected
        controls = (t.observed - t.expected) ** 2 / (t.n - t.expected)
        self.hl_statistic_ = float((cases + controls).sum())
        # hoslem.test uses g - 2; when ties merge groups, g is the number formed
        self.hl_df_ = formed - 2
        self.hl_p_value_ = float(stats.chi2.sf(self.hl_statistic_, self.hl_df_))

    def _check(self) -> None:
        if not hasattr(self, "table_"):
            raise UserError("The calibration is not fitted", where="Calibration",
                            hint="Call fit(predicted_probability, outcome) first.")

    @property
    def summary(self) -> pd.DataFrame:
        self._check()
        level = f"{self.conf_level:g}"
        return pd.DataFrame({
            "estimate": [self.intercept_, self.slope_, self.hl_statistic_],
            "se": [self.intercept_se_, self.slope_se_, np.nan],
            f"lower {level}": [self.intercept_ci_[0], self.slope_ci_[0], np.nan],
            f"upper {level}": [self.intercept_ci_[1], self.slope_ci_[1], np.nan],
            "df": [np.nan, np.nan, self.hl_df_],
            "p": [np.nan, np.nan, self.hl_p_value_]},
            index=pd.Index(["calibration intercept", "calibration slope",
                            "Hosmer–Lemeshow"], name="measure"))

    def to_dict(self) -> dict:
        self._check()
        return jsonable({
            "estimator": "calibration", "n_cases": self.n_cases_,
            "n_controls": self.n_controls_, "n_dropped": self.n_dropped_,
            "conf_level": self.conf_level, "intercept": self.intercept_,
            "intercept_se": self.intercept_se_, "intercept_ci": list(self.intercept_ci_),
            "slope": self.slope_, "slope_se": self.slope_se_, "slope_ci": list(self.slope_ci_),
            "hosmer_lemeshow": {"statistic": self.hl_statistic_, "df": self.hl_df_,
                                "p_value": self.hl_p_value_, "groups_requested": self.groups},
            "groups": self.table_.drop(columns=["p_min", "p_max"]).to_dict(orient="list")})

    def plot_calibration(self, ax=None):
        """Observed event rate against mean predicted risk in each risk group, with the
        line of perfect calibration."""
        import matplotlib.pyplot as plt

        self._check()
        ax = ax or plt.subplots(figsize=(4, 4))[1]
        t = self.table_
        top = float(max(t.mean_predicted.max(), t.observed_rate.max(), 0.05)) * 1.05
        ax.plot([0, top], [0, top], linestyle=":", color="grey", linewidth=1)
        ax.plot(t.mean_predicted, t.observed_rate, marker="o", linestyle="-")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel("mean predicted risk")
        ax.set_ylabel("observed proportion")
        ax.set_title(f"slope {self.slope_:.2f}, intercept {self.intercept_:.2f}")
        return ax
