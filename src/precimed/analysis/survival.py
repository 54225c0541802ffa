"""Kaplan–Meier estimates and log-rank tests, validated against R's ``survival``.

Estimators follow the lifelines convention: ``fit(...)`` returns the estimator, fitted
values end in ``_``, ``summary`` is a DataFrame, ``plot_*`` draws and ``to_dict()``
serialises. Conventions follow R's ``survfit``/``survdiff`` so that numbers can be checked
against it: Greenwood variance, "log" confidence intervals by default, the median as the
first time the curve reaches 0.5 (the midpoint where it stays exactly at 0.5), and its
confidence limits read off the confidence curves the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from precimed.errors import UserError

_EXACT = 1e-10  # S(t) = 0.5 "exactly", allowing for floating point


def _arrays(durations, events) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events).astype(bool) if events is not None else np.ones(len(t), bool)
    if t.ndim != 1 or len(t) != len(e):
        raise UserError("durations and events must be one-dimensional and of equal length",
                        where="survival data", hint="Pass one row per participant.")
    if len(t) == 0 or np.isnan(t).any() or (t < 0).any():
        raise UserError("durations must be non-negative numbers, none missing",
                        where="survival data", hint="Drop rows without follow-up time.")
    return t, e


def _table(t: np.ndarray, e: np.ndarray) -> pd.DataFrame:
    """At each distinct time: number at risk, events, censored."""
    times, inverse = np.unique(t, return_inverse=True)
    events = np.bincount(inverse, weights=e, minlength=len(times))
    total = np.bincount(inverse, minlength=len(times))
    at_risk = len(t) - np.concatenate([[0], np.cumsum(total)[:-1]])
    return pd.DataFrame({"time": times, "n_risk": at_risk, "n_event": events.astype(int),
                         "n_censor": (total - events).astype(int)})


def _quantile(times: np.ndarray, curve: np.ndarray, p: float) -> float:
    """First time the step curve reaches 1 - p; the midpoint where it stays exactly there
    (R's convention); NaN if it never does."""
    target = 1 - p
    below = np.flatnonzero(curve <= target + _EXACT)
    if len(below) == 0:
        return float("nan")
    k = below[0]
    if abs(curve[k] - target) < _EXACT:
        later = np.flatnonzero(curve < target - _EXACT)
        if len(later):
            return float((times[k] + times[later[0]]) / 2)
    return float(times[k])


class KaplanMeier:
    """The Kaplan–Meier estimate of the survival function, with Greenwood variance."""

    def fit(self, durations, events=None, *, conf_level: float = 0.95,
            conf_type: str = "log", label: str = "KM") -> KaplanMeier:
        if conf_type not in {"log", "log-log", "plain"}:
            raise UserError(f"Unknown confidence interval type {conf_type!r}",
                            where="KaplanMeier.fit", hint="Use log, log-log or plain.")
        t, e = _arrays(durations, events)
        table = _table(t, e)
        n, d = table.n_risk.to_numpy(float), table.n_event.to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            survival = np.cumprod(1 - d / n)
            greenwood = np.cumsum(np.where(n > d, d / (n * (n - d)), np.inf * (d > 0)))
        z = stats.norm.ppf(0.5 + conf_level / 2)
        se_log = np.sqrt(greenwood)
        with np.errstate(divide="ignore", invalid="ignore"):
            if conf_type == "log":
                lower, upper = survival * np.exp(-z * se_log), survival * np.exp(z * se_log)
            elif conf_type == "plain":
                lower, upper = survival - z * se_log * survival, survival + z * se_log * survival
            else:
                width = z * se_log / np.log(survival)
                lower, upper = survival ** np.exp(-width), survival ** np.exp(width)
        defined = survival > 0
        table["survival"] = survival
        table["std_err"] = survival * se_log
        table["lower"] = np.where(defined, np.clip(lower, 0, 1), np.nan)
        table["upper"] = np.where(defined, np.clip(upper, 0, 1), np.nan)
        self.label, self.conf_level, self.conf_type = label, conf_level, conf_type
        self.table_ = table
        self.n_ = len(t)
        self.events_ = int(e.sum())
        times = table.time.to_numpy()
        self.median_ = _quantile(times, survival, 0.5)
        self.median_ci_ = (_quantile(times, table.lower.fillna(0).to_numpy(), 0.5),
                           _quantile(times, table.upper.fillna(0).to_numpy(), 0.5))
        return self

    def _check(self) -> None:
        if not hasattr(self, "table_"):
            raise UserError("The estimator is not fitted", where="KaplanMeier",
                            hint="Call fit(durations, events) first.")

    def at(self, times) -> pd.DataFrame:
        """Survival, its standard error and limits, and the number at risk, at ``times``."""
        self._check()
        times = np.asarray(times, dtype=float)
        table = self.table_
        k = np.searchsorted(table.time.to_numpy(), times, side="right") - 1
        out = pd.DataFrame({"time": times})
        for column in ("survival", "std_err", "lower", "upper"):
            values = table[column].to_numpy()
            start = {"survival": 1.0, "std_err": 0.0, "lower": 1.0, "upper": 1.0}[column]
            out[column] = np.where(k >= 0, values[np.maximum(k, 0)], start)
        all_times = table.time.to_numpy()
        out["n_risk"] = [int(self.n_ - table.n_event[all_times < x].sum()
                             - table.n_censor[all_times < x].sum()) for x in times]
        return out

    @property
    def summary(self) -> pd.DataFrame:
        self._check()
        return self.table_.copy()

    def to_dict(self) -> dict:
        self._check()
        return {"estimator": "kaplan_meier", "label": self.label, "n": self.n_,
                "events": self.events_, "conf_level": self.conf_level,
                "conf_type": self.conf_type, "median": self.median_,
                "median_ci": list(self.median_ci_),
                "table": self.table_.to_dict(orient="list")}

    def plot_survival(self, ax=None, *, ci: bool = True):
        import matplotlib.pyplot as plt

        self._check()
        ax = ax or plt.subplots(figsize=(5, 3.2))[1]
        times = np.concatenate([[0], self.table_.time.to_numpy()])
        curve = np.concatenate([[1], self.table_.survival.to_numpy()])
        line = ax.step(times, curve, where="post", label=self.label)[0]
        if ci:
            ax.fill_between(times, np.concatenate([[1], self.table_.lower.to_numpy()]),
                            np.concatenate([[1], self.table_.upper.to_numpy()]), step="post",
                            alpha=0.2, color=line.get_color())
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("time")
        ax.set_ylabel("survival")
        return ax


@dataclass(frozen=True)
class LogRankResult:
    statistic: float
    df: int
    p_value: float
    groups: tuple
    observed: tuple[float, ...]
    expected: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"test": "log-rank", "statistic": self.statistic, "df": self.df,
                "p_value": self.p_value, "groups": [str(g) for g in self.groups],
                "observed": list(self.observed), "expected": list(self.expected)}


def logrank(durations, events, groups, *, strata=None) -> LogRankResult:
    """The log-rank test of equal survival across ``groups`` (R's ``survdiff`` with rho 0),
    stratified when ``strata`` is given: observed minus expected and their variance are
    summed over strata."""
    t, e = _arrays(durations, events)
    g = np.asarray(groups)
    labels = np.unique(g)
    if len(labels) < 2:
        raise UserError("The log-rank test needs at least two groups", where="groups",
                        hint="Check the grouping variable.")
    s = np.zeros(len(t), int) if strata is None else np.unique(strata, return_inverse=True)[1]
    k = len(labels)
    observed, expected = np.zeros(k), np.zeros(k)
    variance = np.zeros((k, k))
    index = np.searchsorted(labels, g)
    for stratum in np.unique(s):
        mask = s == stratum
        ts, es, gs = t[mask], e[mask], index[mask]
        times = np.unique(ts[es])
        if len(times) == 0:
            continue
        # at risk and events per distinct event time and group
        at_risk = (ts[None, :] >= times[:, None])
        died = (ts[None, :] == times[:, None]) & es[None, :]
        n_g = np.stack([at_risk[:, gs == j].sum(1) for j in range(k)], axis=1).astype(float)
        d_g = np.stack([died[:, gs == j].sum(1) for j in range(k)], axis=1).astype(float)
        n, d = n_g.sum(1), d_g.sum(1)
        share = n_g / n[:, None]
        observed += d_g.sum(0)
        expected += (d[:, None] * share).sum(0)
        factor = np.where(n > 1, d * (n - d) / np.maximum(n - 1, 1), 0.0)
        variance += np.einsum("t,ti,ij->ij", factor, share, np.eye(k)) - \
            np.einsum("t,ti,tj->ij", factor, share, share)
    diff = (observed - expected)[:-1]
    statistic = float(diff @ np.linalg.solve(variance[:-1, :-1], diff))
    df = k - 1
    return LogRankResult(statistic, df, float(stats.chi2.sf(statistic, df)), tuple(labels),
                         tuple(observed), tuple(expected))
