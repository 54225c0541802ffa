"""Cumulative incidence under competing risks: the Aalen–Johansen estimator.

With causes k = 1..K and 0 for censored, the cumulative incidence of cause k is
CIF_k(t) = sum over event times s <= t of S(s-) d_k(s) / n(s), S the all-cause Kaplan–Meier
(event-free) curve. This is R survival's ``survfit(Surv(time, factor(event)) ~ 1)``
multi-state estimate for competing risks, whose point estimates it matches to 1e-12 on R's
mgus2 data (tests/validation/test_competing_risks.py).

The variance is the one R reports there, the infinitesimal jackknife: the sum over rows of
the squared derivative of the estimate with respect to the row's case weight. A row's
influence depends only on its time and cause, and after its own time it is an affine function
of CIF_k(t), so the sum comes from cumulative sums over times: O(n log n), no n x T matrix.
Confidence limits are R's default "log" ones, p * exp(+-z se / p), clipped to [0, 1].
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from precimed.errors import UserError


class AalenJohansen:
    """Cumulative incidence of each competing cause, with infinitesimal-jackknife SEs."""

    def fit(self, durations, event_codes, *, event_of_interest=None,
            conf_level: float = 0.95, label: str = "AJ") -> AalenJohansen:
        t = np.asarray(durations, dtype=float)
        codes = np.asarray(event_codes)
        if t.ndim != 1 or len(t) != len(codes) or len(t) == 0:
            raise UserError("durations and event codes must be one-dimensional and of equal "
                            "length", where="AalenJohansen.fit",
                            hint="Pass one row per participant.")
        if np.isnan(t).any() or (t < 0).any() or pd.isna(codes).any():
            raise UserError("durations must be non-negative numbers and event codes present",
                            where="AalenJohansen.fit",
                            hint="Drop rows without follow-up time or event code.")
        censored = codes == 0
        causes = list(np.unique(codes[~censored]))
        if not causes:
            raise UserError("No events of any cause", where="event codes",
                            hint="Code censored rows 0 and each cause with its own code.")
        if event_of_interest is not None and event_of_interest not in causes:
            raise UserError(f"Event {event_of_interest!r} does not occur", where="event codes",
                            hint="Causes present: " + ", ".join(map(str, causes)))
        times, index = np.unique(t, return_inverse=True)
        cause_index = np.where(censored, -1, np.searchsorted(causes, codes))
        size = len(times)
        d = np.stack([np.bincount(index[cause_index == k], minlength=size)
                      for k in range(len(causes))], axis=1).astype(float)
        total = np.bincount(index, minlength=size)
        n = (len(t) - np.concatenate([[0], np.cumsum(total)[:-1]])).astype(float)
        self.causes, self.event_of_interest = causes, event_of_interest
        self.conf_level, self.label = conf_level, label
        self.n_ = len(t)
        self.table_ = pd.DataFrame({"time": times, "n_risk": n.astype(int),
                                    "n_event": d.sum(1).astype(int),
                                    "n_censor": (total - d.sum(1)).astype(int)})
        self.events_by_cause_ = pd.DataFrame(d.astype(int), index=pd.Index(times, name="time"),
                                             columns=causes)
        survival, incidence, se_survival, se_incidence = _estimate(n, d, index, cause_index)
        frame = lambda values: pd.DataFrame(values, index=pd.Index(times, name="time"),  # noqa: E731
                                            columns=causes)
        self.survival_ = pd.Series(survival, index=pd.Index(times, name="time"),
                                   name="event_free")
        self.survival_std_err_ = pd.Series(se_survival, index=self.survival_.index)
        self.cumulative_incidence_ = frame(incidence)
        self.std_err_ = frame(se_incidence)
        return self

    def _check(self) -> None:
        if not hasattr(self, "table_"):
            raise UserError("The estimator is not fitted", where="AalenJohansen",
                            hint="Call fit(durations, event_codes) first.")

    def _wanted(self) -> list:
        return self.causes if self.event_of_interest is None else [self.event_of_interest]

    def _long(self, times: np.ndarray, at: np.ndarray) -> pd.DataFrame:
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        frames = []
        for cause in self._wanted():
            p = np.where(at >= 0, self.cumulative_incidence_[cause].to_numpy()[at], 0.0)
            se = np.where(at >= 0, self.std_err_[cause].to_numpy()[at], 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                width = np.exp(z * se / p)
            frames.append(pd.DataFrame({
                "time": times, "cause": cause, "cumulative_incidence": p, "std_err": se,
                "lower": np.where(p > 0, np.clip(p / width, 0, 1), 0.0),
                "upper": np.where(p > 0, np.clip(p * width, 0, 1), 0.0)}))
        return pd.concat(frames, ignore_index=True)

    def at(self, times) -> pd.DataFrame:
        """Per cause (long format): cumulative incidence, standard error, limits and the
        number still at risk, at ``times``."""
        self._check()
        times = np.asarray(times, dtype=float)
        grid = self.table_.time.to_numpy()
        out = self._long(times, np.searchsorted(grid, times, side="right") - 1)
        first_after = np.searchsorted(grid, times, side="left")
        at_risk = np.append(self.table_.n_risk.to_numpy(), 0)[first_after]
        out["n_risk"] = np.tile(at_risk, len(self._wanted()))
        return out

    @property
    def summary(self) -> pd.DataFrame:
        """At every distinct time and for each cause: risk set, events of the cause,
        cumulative incidence, standard error and limits."""
        self._check()
        grid = self.table_.time.to_numpy()
        out = self._long(grid, np.arange(len(grid)))
        out.insert(2, "n_risk", np.tile(self.table_.n_risk.to_numpy(), len(self._wanted())))
        out.insert(3, "n_event", np.concatenate(
            [self.events_by_cause_[c].to_numpy() for c in self._wanted()]))
        return out

    def to_dict(self) -> dict:
        self._check()
        return {"estimator": "aalen_johansen", "label": self.label, "n": self.n_,
                "causes": [str(c) for c in self.causes],
                "event_of_interest": None if self.event_of_interest is None
                else str(self.event_of_interest),
                "conf_level": self.conf_level, "variance": "infinitesimal jackknife",
                "time": self.table_.time.tolist(), "n_risk": self.table_.n_risk.tolist(),
                "n_censor": self.table_.n_censor.tolist(),
                "n_event": {str(c): self.events_by_cause_[c].tolist() for c in self.causes},
                "event_free": self.survival_.tolist(),
                "event_free_std_err": self.survival_std_err_.tolist(),
                "cumulative_incidence": {str(c): self.cumulative_incidence_[c].tolist()
                                         for c in self.causes},
                "std_err": {str(c): self.std_err_[c].tolist() for c in self.causes}}

    def plot_cumulative_incidence(self, ax=None, *, ci: bool = True):
        import matplotlib.pyplot as plt

        self._check()
        ax = ax or plt.subplots(figsize=(5, 3.2))[1]
        table = self.summary
        for cause in self._wanted():
            rows = table[table.cause == cause]
            times = np.concatenate([[0], rows.time.to_numpy()])
            curve = np.concatenate([[0], rows.cumulative_incidence.to_numpy()])
            line = ax.step(times, curve, where="post", label=f"{self.label}: {cause}")[0]
            if ci:
                ax.fill_between(times, np.concatenate([[0], rows.lower.to_numpy()]),
                                np.concatenate([[0], rows.upper.to_numpy()]), step="post",
                                alpha=0.2, color=line.get_color())
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("time")
        ax.set_ylabel("cumulative incidence")
        ax.legend(frameon=False)
        return ax


def _estimate(n, d, index, cause_index):
    """Event-free survival S, cumulative incidences F (T x K) and their
    infinitesimal-jackknife standard errors, at each distinct time."""
    hazard = d / n[:, None]  # dA_k
    all_cause = hazard.sum(1)  # dA
    survival = np.cumprod(1 - all_cause)
    before = np.concatenate([[1.0], survival[:-1]])  # S(t-)
    incidence = np.cumsum(before[:, None] * hazard, axis=0)
    # Rows still at risk after t all share one influence: weight w raises n(s) by w for s <= t.
    # d IS / S accumulates (dA / n) / (1 - dA) (no later row survives a time with dA = 1).
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(all_cause < 1, all_cause / n / (1 - all_cause), 0.0)
    ratio = np.cumsum(step)
    shared_s = survival * ratio  # influence on S(t) of a row at risk beyond t
    shared_s_before = before * np.concatenate([[0.0], ratio[:-1]])
    shared_f = np.cumsum(shared_s_before[:, None] * hazard - before[:, None] * hazard / n[:, None],
                         axis=0)
    shared_f_before = np.vstack([np.zeros((1, d.shape[1])), shared_f[:-1]])
    # a row ending at time m with cause c: its own term at m, then affine in F_k(t)
    m = index
    own = (cause_index[:, None] == np.arange(d.shape[1])[None, :]).astype(float)
    d_hazard = (own - hazard[m]) / n[m, None]
    d_all = ((cause_index >= 0) - all_cause[m]) / n[m]
    influence_f = shared_f_before[m] + shared_s_before[m, None] * hazard[m] \
        + before[m, None] * d_hazard
    influence_s = shared_s_before[m] * (1 - all_cause[m]) - before[m] * d_all
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(survival[m] > 0, influence_s / survival[m], 0.0)
    a = influence_f - q[:, None] * incidence[m]
    size = len(n)

    def through(values):  # per time: the sum over rows that ended at or before it
        return np.cumsum(np.bincount(m, values, minlength=size))

    beyond = n - np.bincount(m, minlength=size)  # rows still at risk after each time
    var_s = survival ** 2 * through(q ** 2) + beyond * shared_s ** 2
    var_f = np.stack([through(a[:, k] ** 2) + 2 * incidence[:, k] * through(a[:, k] * q)
                      + incidence[:, k] ** 2 * through(q ** 2) + beyond * shared_f[:, k] ** 2
                      for k in range(d.shape[1])], axis=1)
    return (survival, incidence, np.sqrt(np.maximum(var_s, 0)),
            np.sqrt(np.maximum(var_f, 0)))
