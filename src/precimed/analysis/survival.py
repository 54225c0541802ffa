"""Kaplan–Meier, log-rank and Cox models, validated against R's ``survival`` (3.5.3).

Estimators follow the lifelines convention: ``fit(...)`` returns the estimator, fitted
values end in ``_``, ``summary`` is a DataFrame, ``plot_*`` draws and ``to_dict()``
serialises. Conventions follow R's ``survfit``/``survdiff``/``coxph`` so that numbers can be
checked against it: Greenwood variance, "log" confidence intervals by default, the median as
the first time the curve reaches 0.5 (the midpoint where it stays exactly at 0.5), and its
confidence limits read off the confidence curves the same way.

:class:`CoxPH` fits Efron or Breslow partial likelihoods, stratified (``strata()``) and
case-weighted, with the model-based or the robust (Lin–Wei sandwich, ``cluster()``)
variance; it gives the baseline cumulative hazard of ``basehaz(centered=FALSE)``,
predictions as ``survfit(fit, newdata=)``, Schoenfeld residuals, Harrell's concordance
(:mod:`precimed.analysis.concordance`) and :func:`cox_zph`, the proportional-hazards test of
``cox.zph``. Validated on R's veteran, lung, pbc and colon data and lifelines' Rossi data
(tests/validation): coefficients, log-likelihoods and variances to 1e-10 relative or better.
Cumulative incidence under competing risks is in :mod:`precimed.analysis.competing`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy import stats

from precimed.analysis.concordance import Concordance, concordance
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


def life_table(at_risk, events, censored, *, conf_level: float = 0.95) -> pd.DataFrame:
    """The actuarial (life-table, Cutler–Ederer) estimate from grouped counts.

    Interval k starts with ``at_risk[k]`` people, of whom ``events[k]`` have the event and
    ``censored[k]`` are censored during it; censoring is taken as spread evenly over the
    interval, so ``n' = at_risk - censored / 2`` are exposed. Returns, per interval, the
    survival at its end ``prod(1 - d / n')``, and Greenwood "log" confidence limits as
    :class:`KaplanMeier` gives them. Used where only grouped counts may be read (a curve
    computed from published, perturbed counts)."""
    n = np.asarray(at_risk, dtype=float)
    d = np.asarray(events, dtype=float)
    c = np.asarray(censored, dtype=float)
    if not (n.ndim == d.ndim == c.ndim == 1 and len(n) == len(d) == len(c)):
        raise UserError("at_risk, events and censored must be one-dimensional and of equal "
                        "length", where="life_table", hint="Pass one value per interval.")
    if (n < 0).any() or (d < 0).any() or (c < 0).any():
        raise UserError("Counts of a life table must not be negative", where="life_table",
                        hint="Pass the counts of each interval.")
    exposed = np.maximum(n - c / 2, d)  # counts that do not add up (perturbed) stay sane
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(exposed > 0, d / exposed, 0.0)
        survival = np.cumprod(1 - q)
        greenwood = np.cumsum(np.where(exposed > d, d / (exposed * (exposed - d)),
                                       np.inf * (d > 0)))
        z = stats.norm.ppf(0.5 + conf_level / 2)
        se_log = np.sqrt(greenwood)
        lower, upper = survival * np.exp(-z * se_log), survival * np.exp(z * se_log)
    defined = survival > 0
    return pd.DataFrame({"n_risk": n, "n_event": d, "n_censor": c, "survival": survival,
                         "lower": np.where(defined, np.clip(lower, 0, 1), np.nan),
                         "upper": np.where(defined, np.clip(upper, 0, 1), np.nan)})


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


def _segment_cumsum(values: np.ndarray, bounds: np.ndarray, *, reverse: bool = False):
    """Cumulative sums restarted at every stratum (``bounds`` are the strata's first rows
    plus the end); a loop over strata, not rows, so late risk sets keep full precision."""
    if len(bounds) == 2:
        return values[::-1].cumsum(0)[::-1] if reverse else values.cumsum(0)
    out = np.empty(values.shape)
    for lo, hi in pairwise(bounds):
        part = values[lo:hi]
        out[lo:hi] = part[::-1].cumsum(0)[::-1] if reverse else part.cumsum(0)
    return out


def _sum_by(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sums of the rows of ``values`` (n x p) by ``index``: a (size x p) array."""
    return np.stack([np.bincount(index, values[:, j], minlength=size)
                     for j in range(values.shape[1])], axis=1)


_CHUNK = 2048  # rows per block of a tall-skinny product


def _gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a'b for tall, narrow a and b (n x p, n large), summed over blocks of rows: each block
    stays in cache and below the BLAS library's threading threshold (threads gain nothing
    on these shapes and stall the whole product when another process holds a core)."""
    out = a[:_CHUNK].T @ b[:_CHUNK]
    for lo in range(_CHUNK, len(a), _CHUNK):
        out += a[lo:lo + _CHUNK].T @ b[lo:lo + _CHUNK]
    return out


def _take_rows(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """x[rows] with each column contiguous (Fortran order), gathered column by column."""
    out = np.empty((len(rows), x.shape[1]), order="F")
    for j in range(x.shape[1]):
        np.take(x[:, j], rows, out=out[:, j])
    return out


def _codes(data: pd.DataFrame, columns: list[str], where: str) -> tuple[np.ndarray, list]:
    """Integer codes of the combinations of ``columns`` (sorted) and their labels."""
    if not columns:
        return np.zeros(len(data), int), [None]
    frame = data[columns]
    if frame.isna().any().any():
        raise UserError(f"The {where} columns have missing values", where=", ".join(columns),
                        hint=f"Drop or fill rows without a {where} before fitting.")
    codes, uniques = pd.MultiIndex.from_frame(frame).factorize(sort=True)
    labels = list(uniques) if len(columns) > 1 else [u[0] for u in uniques]
    return np.asarray(codes), labels


def _model_inputs(data, duration, event, covariates, strata, cluster, weights):
    """Times, events, covariate matrix and case weights, or a UserError saying what is
    wrong with which column."""
    missing = [c for c in (duration, event, *covariates, *strata, cluster, weights)
               if c is not None and c not in data.columns]
    if missing:
        raise UserError(f"No column {missing[0]!r}", where="CoxPH.fit",
                        hint="Columns: " + ", ".join(map(str, data.columns)))
    t, e = _arrays(data[duration], data[event])
    x = data[covariates].to_numpy(float)
    if np.isnan(x).any():
        raise UserError("Covariates have missing values", where=", ".join(covariates),
                        hint="Drop incomplete rows (data.dropna()) before fitting.")
    if cluster is not None and data[cluster].isna().any():
        raise UserError("The cluster column has missing values", where=cluster,
                        hint="Drop rows without a cluster before fitting.")
    wt = np.ones(len(t)) if weights is None else data[weights].to_numpy(float)
    if not (np.isfinite(wt).all() and (wt > 0).all()):
        raise UserError("Weights must be positive numbers", where=weights,
                        hint="Drop rows with zero, negative or missing weights.")
    return t, e, x, wt


class _RiskSets:
    """The risk sets at one beta, all shifted by ``shift`` so that nothing overflows. Per
    row: the linear predictor and weight; per key (stratum, death time): the risk-set sums
    s0 and s1; per key with tied deaths (Efron only): the tied deaths' own covariate sums
    d1; per death term (Efron's fractions expanded): the denominator. The per-term covariate
    means are built only when asked for (residuals, cox.zph), never while fitting."""

    def __init__(self, model: CoxPH, eta, shift, w, s1, d1, den) -> None:
        self._at, self._f, self._tied_key = model._death_key, model._fraction, model._tied_key
        self.eta, self.shift, self.w, self.s1, self.d1, self.den = eta, shift, w, s1, d1, den

    @cached_property
    def mean(self) -> np.ndarray:
        """Per death term: the weighted covariate mean over its (Efron-reduced) risk set."""
        at, f = self._at, self._f
        d1 = np.zeros(self.s1.shape)
        d1[self._tied_key] = self.d1
        return (self.s1[at] - f[:, None] * d1[at]) / self.den[:, None]


class CoxPH:
    """Cox proportional hazards by Newton–Raphson, Efron (default) or Breslow ties,
    optionally stratified, weighted, and with the robust (Lin–Wei) sandwich variance.

    Risk-set sums come from cumulative sums over the data sorted by stratum and time; the
    score and the information need per death term only scalars (Efron's denominators): the
    risk-set means enter through per-key sums, and the second moments are regrouped by row
    into one weighted X'X product. Nothing loops over rows in Python, and nothing of size
    n x p x p is built: at n = 100,000 and p = 10 a fit takes about a sixth of R's coxph
    time, coefficients equal to 1e-13 (benchmarks/analysis.py).

    Weights are case weights as in R (``coxph(weights=)``): with Breslow ties an integer
    weight is that many copies of the row; with Efron ties, as in R, the tied deaths' terms
    carry their mean weight. ``robust=True`` or a ``cluster`` column gives the sandwich
    variance D'D of the weighted dfbeta residuals summed within clusters, as R does.
    """

    def fit(self, data: pd.DataFrame, duration: str, event: str, *,
            covariates: list[str] | None = None, strata: list[str] | None = None,
            cluster: str | None = None, robust: bool = False, weights: str | None = None,
            ties: str = "efron", tol: float = 1e-10, max_iter: int = 50) -> CoxPH:
        if ties not in {"efron", "breslow"}:
            raise UserError(f"Unknown ties method {ties!r}", where="CoxPH.fit",
                            hint="Use efron or breslow.")
        strata = list(strata or [])
        covariates = covariates or [c for c in data.columns
                                    if c not in {duration, event, *strata, cluster, weights}]
        t, e, x, wt = _model_inputs(data, duration, event, covariates, strata, cluster, weights)
        s, self.strata_labels_ = _codes(data, strata, "strata")
        if not e.any():
            raise UserError("No events: a Cox model needs at least one", where=event,
                            hint="Check the event column (1 = event, 0 = censored).")
        if strata:
            order = np.lexsort((t, s))
        else:  # the same stable order: non-negative floats sort as their bit patterns
            order = np.argsort((t + 0.0).view(np.int64), kind="stable")
        self._prepare(t[order], e[order], _take_rows(x, order), s[order],
                      None if weights is None else wt[order], ties)
        for cached in ("concordance_result_", "baseline_cumulative_hazard_"):
            self.__dict__.pop(cached, None)  # a refit forgets the last one
        beta = np.zeros(x.shape[1])
        loglik0, gradient0, hessian0, last = self._evaluate(beta)
        loglik, gradient, hessian = loglik0, gradient0, hessian0
        for _ in range(max_iter):
            step = np.linalg.solve(-hessian, gradient)
            candidate = beta + step
            new = self._evaluate(candidate)
            halvings = 0
            # step halving when the log-likelihood falls by more than rounding noise
            while new[0] < loglik - 1e-12 * max(1.0, abs(loglik)) and halvings < 30:
                step /= 2
                candidate = beta + step
                new = self._evaluate(candidate)
                halvings += 1
            beta, (loglik, gradient, hessian, last) = candidate, new
            if np.max(np.abs(step)) < tol:
                break
        # the last evaluation was at the final beta: its information and risk sets serve
        # the variance, the sandwich and (on first use) the baseline hazard
        covariance = np.linalg.inv(-hessian)
        self.covariates, self.ties, self.strata, self.weights = covariates, ties, strata, weights
        self.cluster, self.robust = cluster, bool(robust or cluster)
        self.n_, self.events_ = len(t), int(e.sum())
        self.params_ = pd.Series(beta, index=covariates, name="coef")
        self.naive_variance_matrix_ = pd.DataFrame(covariance, index=covariates,
                                                   columns=covariates)
        self.log_likelihood_ = float(loglik)
        self.log_likelihood_null_ = float(loglik0)
        self.score_test_ = float(gradient0 @ np.linalg.solve(-hessian0, gradient0))
        groups = None if cluster is None else pd.factorize(data[cluster])[0][order]
        if self.robust:
            covariance = self._sandwich(last, covariance, groups)
        self.variance_matrix_ = pd.DataFrame(covariance, index=covariates, columns=covariates)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(covariance)), index=covariates)
        self._final = last
        self._groups = groups
        self._buffer = self._tied_buffer = None  # later evaluations allocate their own
        return self

    @cached_property
    def baseline_cumulative_hazard_(self) -> pd.DataFrame:
        """Breslow's (or, for Efron ties, the Efron-adjusted) cumulative baseline hazard at
        covariates 0, at every distinct time (rows) of each stratum (columns): R's
        basehaz(centered=FALSE). Computed on first use from the fit's last risk sets."""
        self._check()
        return self._baseline(self._final)

    @cached_property
    def concordance_result_(self) -> Concordance:
        """Harrell's C of the linear predictor with its counts and standard error, as
        R's ``fit$concordance`` (within strata; influences summed by cluster). Computed on
        first use: it costs about as much as the fit.

        The linear predictor is computed once per distinct covariate row, so people with
        equal covariates get bit-identical risks and tie (a matrix product over all rows
        may round two equal rows differently, by 1e-17, and count a tie as discordant)."""
        self._check()
        rows, which = np.unique(self._x, axis=0, return_inverse=True)
        risk = (rows @ self.params_.to_numpy())[which.ravel()]
        return concordance(self._t, risk, self._e, strata=self._s, weights=self._wt,
                           cluster=self._groups)

    @property
    def concordance_(self) -> float:
        return self.concordance_result_.concordance

    @property
    def concordance_se_(self) -> float:
        return self.concordance_result_.std_err

    def _prepare(self, t, e, x, s, wt, ties) -> None:
        """Index the (stratum, event time) risk sets, each tied death and its Efron
        fraction; rows are sorted by stratum, then time. ``wt`` None: unweighted."""
        n, p = x.shape
        x = np.asfortranarray(x, dtype=float)
        self._weighted = wt is not None
        wt = np.ones(n) if wt is None else np.asarray(wt, dtype=float)
        self._t, self._e, self._x, self._s, self._wt, self._ties = t, e, x, s, wt, ties
        strata = np.arange(len(self.strata_labels_) + 1)
        self._bounds = np.searchsorted(s, strata)
        # groups of rows sharing stratum and time (contiguous); keys: those with a death
        first = np.empty(n, bool)
        first[0] = True
        np.not_equal(t[1:], t[:-1], out=first[1:])
        first[self._bounds[1:-1]] = True
        group = np.cumsum(first) - 1
        has_death = np.bincount(group, weights=e, minlength=group[-1] + 1) > 0
        # risk set of a key: the rows of its stratum from its first index to the stratum's end
        self._risk_start = np.flatnonzero(first)[has_death]
        self._key_bounds = np.searchsorted(s[self._risk_start], strata)
        # risk-set sums as suffix sums over blocks between risk starts (and strata): one
        # contiguous reduceat over the rows, then a cumulative sum over the few blocks
        self._block_starts = np.unique(np.concatenate([self._risk_start, self._bounds[:-1]]))
        self._block_bounds = np.searchsorted(self._block_starts, self._bounds)
        self._block_of_key = np.searchsorted(self._block_starts, self._risk_start)
        # per row: keys up to and including its own; index into the per-stratum cumulative
        # sums over keys, padded with a leading 0 for rows before their stratum's first key
        keys_through = np.cumsum(has_death)[group]
        inside = keys_through > self._key_bounds[s]
        self._through_index = np.where(inside, keys_through, 0)
        deaths = np.flatnonzero(e)
        self._death_rows = deaths
        self._death_key = keys_through[deaths] - 1
        k = len(self._risk_start)
        counts = np.bincount(self._death_key, minlength=k)
        # deaths are in key order: each key's deaths are one contiguous run
        self._death_groups = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.arange(len(deaths)) - np.repeat(self._death_groups, counts)
        self._fraction = rank / np.repeat(counts, counts) if ties == "efron" \
            else np.zeros(len(deaths))
        self._counts = counts
        # Efron's tied deaths (keys with two or more): their own sums d0, d1 enter the
        # denominators and means; elsewhere the fraction is 0 and they are not needed
        self._tied_key = np.flatnonzero(counts > 1) if ties == "efron" else np.zeros(0, int)
        tied = np.repeat(np.isin(np.arange(k), self._tied_key), counts)
        self._tied_rows = deaths[tied]
        self._x_tied = _take_rows(x, self._tied_rows)
        self._tied_buffer = np.empty(self._x_tied.shape, order="F")
        self._tied_groups = np.concatenate(
            [[0], np.cumsum(counts[self._tied_key])[:-1]]).astype(np.intp)
        self._wt_deaths = wt[deaths]
        self._death_x_sum = np.einsum("i,ij->j", wt * e, x)  # the score's constant part
        # with case weights every death term of a key counts the deaths' mean weight
        self._term_weight = (np.bincount(self._death_key, self._wt_deaths, k)
                             / counts)[self._death_key]
        # scratch reused by every step of the fit (None: allocate afresh)
        self._buffer = np.empty((n, p), order="F")

    def _through(self, per_key: np.ndarray) -> np.ndarray:
        """Per row: the sum of ``per_key`` over its stratum's keys up to its own time."""
        cumulative = _segment_cumsum(per_key, self._key_bounds)
        padded = np.concatenate([np.zeros((1, *per_key.shape[1:])), cumulative])
        return padded[self._through_index]

    def _at_risk(self, values: np.ndarray) -> np.ndarray:
        """Per key: the sum of ``values`` over its risk set (its stratum's rows from the
        key's first row on)."""
        blocks = np.add.reduceat(values, self._block_starts, axis=0)
        suffix = _segment_cumsum(blocks, self._block_bounds, reverse=True)
        return suffix[self._block_of_key]

    def _risk_sets(self, beta) -> _RiskSets:
        x = self._x
        eta = np.einsum("ij,j->i", x, np.asarray(beta, dtype=float))  # no BLAS threads
        shift = float(eta.max())
        w = eta - shift
        np.exp(w, out=w)
        if self._weighted:
            w *= self._wt
        wx = np.multiply(x, w[:, None], out=self._buffer)
        s0 = self._at_risk(w)
        s1 = self._at_risk(wx)
        at = self._death_key
        den = s0[at]
        d1 = np.zeros((0, x.shape[1]))
        if len(self._tied_key):
            w_tied = w[self._tied_rows]
            d0 = np.zeros(len(s0))
            d0[self._tied_key] = np.add.reduceat(w_tied, self._tied_groups)
            d1 = np.add.reduceat(np.multiply(self._x_tied, w_tied[:, None],
                                             out=self._tied_buffer), self._tied_groups, axis=0)
            den = den - self._fraction * d0[at]  # one term per death (Efron's fractions)
        return _RiskSets(self, eta, shift, w, s1, d1, den)

    def _evaluate(self, beta):
        """Log-likelihood, score, Hessian and the risk sets behind them, at ``beta``."""
        r = self._risk_sets(beta)
        m = self._term_weight
        loglik = float((self._wt_deaths * r.eta[self._death_rows]).sum()
                       - (m * (np.log(r.den) + r.shift)).sum())
        hessian, gradient = self._information(r, score=True)
        return loglik, gradient, -hessian, r

    def _derivatives(self, beta):
        """Log-likelihood, score and Hessian at ``beta``."""
        return self._evaluate(beta)[:3]

    def _information(self, r: _RiskSets, g: np.ndarray | None = None, *,
                     score: bool = False):
        """sum over death terms of g * (weighted covariance of x over the risk set); with
        ``score``, also the score (g = 1).

        The second-moment sums over risk sets, sum_k S2_k / den_k, regroup by row: row i
        enters every term of its stratum whose time is at or before its own, less its share
        as one of the tied deaths; then one weighted X'X product does it all. The means'
        outer products regroup by key: a term's mean is (s1 - f d1) / den, so the sum over
        a key's terms needs only the sums of g / den^2 times 1, f and f^2."""
        x, rows, at, f = self._x, self._death_rows, self._death_key, self._fraction
        mg = self._term_weight if g is None else self._term_weight * g
        inverse = mg / r.den
        k = len(self._counts)
        per_key = np.bincount(at, inverse, minlength=k)
        tied_share = np.bincount(at, f * inverse, minlength=k)
        weight = self._through(per_key)
        weight[rows] -= tied_share[at]
        np.multiply(r.w, weight, out=weight)
        xwx = _gram(np.multiply(x, weight[:, None], out=self._buffer), x)
        s1, d1, tied = r.s1, r.d1, self._tied_key
        square = inverse / r.den
        outer = _gram(s1 * np.bincount(at, square, minlength=k)[:, None], s1)
        if len(tied):
            d1_square = d1 * np.bincount(at, f * f * square, minlength=k)[tied, None]
            cross = _gram(s1[tied] * np.bincount(at, f * square, minlength=k)[tied, None], d1)
            outer += _gram(d1_square, d1) - cross - cross.T
        information = xwx - outer
        if not score:
            return information
        mean_sum = np.einsum("k,kj->j", per_key, s1)
        if len(tied):
            mean_sum -= np.einsum("k,kj->j", tied_share[tied], d1)
        return information, self._death_x_sum - mean_sum

    def _score_residuals(self, r: _RiskSets) -> np.ndarray:
        """R's score residuals (per unit case weight), rows in fitting order: for each row
        the integral of (x - mean) against its counting-process martingale; a tied death
        is at risk in its own Efron terms with weight 1 - fraction."""
        x, rows, at, f = self._x, self._death_rows, self._death_key, self._fraction
        k = len(self._counts)
        hazard = self._term_weight / r.den
        weighted_mean = hazard[:, None] * r.mean
        total = self._through(np.bincount(at, hazard, minlength=k))
        moment = self._through(_sum_by(at, weighted_mean, k))
        total[rows] -= np.bincount(at, f * hazard, minlength=k)[at]
        moment[rows] -= _sum_by(at, f[:, None] * weighted_mean, k)[at]
        risk = np.exp(r.eta - r.shift)
        residuals = -risk[:, None] * (x * total[:, None] - moment)
        average_mean = _sum_by(at, r.mean, k) / self._counts[:, None]
        residuals[rows] += x[rows] - average_mean[at]
        return residuals

    def _sandwich(self, r: _RiskSets, covariance, groups) -> np.ndarray:
        dfbeta = (self._score_residuals(r) * self._wt[:, None]) @ covariance
        if groups is not None:
            dfbeta = _sum_by(groups, dfbeta, groups.max() + 1)
        return dfbeta.T @ dfbeta

    def _baseline(self, r: _RiskSets) -> pd.DataFrame:
        """Breslow's (or, for Efron ties, the Efron-adjusted) cumulative baseline hazard at
        covariates 0, at every distinct time of each stratum: R's basehaz(centered=FALSE)."""
        k = len(self._counts)
        with np.errstate(over="ignore"):
            increment = np.bincount(self._death_key, self._term_weight / r.den, minlength=k) \
                * np.exp(-r.shift)
        cumulative = _segment_cumsum(increment, self._key_bounds)
        key_time = self._t[self._risk_start]
        times = np.unique(self._t)
        columns = {}
        for j, label in enumerate(self.strata_labels_):
            lo, hi = self._key_bounds[j], self._key_bounds[j + 1]
            if hi == lo:  # a stratum without deaths: no hazard at any time
                values = np.zeros(len(times))
            else:
                at = np.searchsorted(key_time[lo:hi], times, side="right") - 1
                values = np.where(at >= 0, cumulative[lo:hi][np.maximum(at, 0)], 0.0)
            columns["baseline cumulative hazard" if label is None else label] = values
        return pd.DataFrame(columns, index=pd.Index(times, name="time"))

    def _check(self) -> None:
        if not hasattr(self, "params_"):
            raise UserError("The model is not fitted", where="CoxPH",
                            hint="Call fit(data, duration, event) first.")

    def _design(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The covariate matrix of new data and each row's stratum (column of the
        baseline hazard)."""
        self._check()
        missing = [c for c in (*self.covariates, *self.strata) if c not in X.columns]
        if missing:
            raise UserError(f"New data have no column {missing[0]!r}", where="CoxPH.predict",
                            hint="Pass the model's covariates and strata columns.")
        if not self.strata:
            return X[self.covariates].to_numpy(float), np.zeros(len(X), int)
        labels = [tuple(v) for v in X[self.strata].itertuples(index=False)]
        if len(self.strata) == 1:
            labels = [v[0] for v in labels]
        known = {label: j for j, label in enumerate(self.strata_labels_)}
        unknown = [v for v in labels if v not in known]
        if unknown:
            raise UserError(f"Stratum {unknown[0]!r} was not in the fitted data",
                            where="CoxPH.predict", hint="Predict only for fitted strata.")
        return X[self.covariates].to_numpy(float), np.array([known[v] for v in labels], int)

    def predict_partial_hazard(self, X: pd.DataFrame) -> pd.Series:
        """exp(x'beta), not centred (R's predict(type="risk", reference="zero"))."""
        x, _ = self._design(X)
        return pd.Series(np.exp(x @ self.params_.to_numpy()), index=X.index,
                         name="partial_hazard")

    def predict_cumulative_hazard(self, X: pd.DataFrame, times=None) -> pd.DataFrame:
        """H0_s(t) * exp(x'beta) for each row of ``X`` (columns) at ``times`` (rows; the
        baseline's times by default), s the row's stratum."""
        x, stratum = self._design(X)
        base = self.baseline_cumulative_hazard_
        times = base.index.to_numpy() if times is None else np.asarray(times, float)
        at = np.searchsorted(base.index.to_numpy(), times, side="right") - 1
        h0 = np.where(at[:, None] >= 0, base.to_numpy()[np.maximum(at, 0)], 0.0)
        values = h0[:, stratum] * np.exp(x @ self.params_.to_numpy())[None, :]
        return pd.DataFrame(values, index=pd.Index(times, name="time"), columns=X.index)

    def predict_survival_function(self, X: pd.DataFrame, times=None) -> pd.DataFrame:
        """S0_s(t) ** exp(x'beta) = exp(-H(t | x)); R's survfit(fit, newdata=X)."""
        return np.exp(-self.predict_cumulative_hazard(X, times))

    @property
    def schoenfeld_residuals_(self) -> pd.DataFrame:
        """One row per death (by stratum and time): x minus the risk-set mean at its time
        (averaged over the Efron terms), R's residuals(fit, "schoenfeld")."""
        self._check()
        r = self._risk_sets(self.params_.to_numpy())
        at, rows = self._death_key, self._death_rows
        average = _sum_by(at, r.mean, len(self._counts)) / self._counts[:, None]
        return pd.DataFrame(self._x[rows] - average[at], columns=self.covariates,
                            index=pd.Index(self._t[rows], name="time"))

    @property
    def scaled_schoenfeld_residuals_(self) -> pd.DataFrame:
        """beta + d * V r (d deaths, V the model-based variance), as cox.zph's ``y`` when
        every covariate varies within every stratum."""
        residuals = self.schoenfeld_residuals_
        scaled = self.events_ * residuals.to_numpy() @ self.naive_variance_matrix_.to_numpy()
        return pd.DataFrame(scaled + self.params_.to_numpy(), columns=self.covariates,
                            index=residuals.index)

    def check_proportional_hazards(self, *, transform: str = "km") -> ProportionalHazardsTest:
        return cox_zph(self, transform=transform)

    @property
    def summary(self) -> pd.DataFrame:
        self._check()
        se = self.standard_errors_
        z = self.params_ / se
        q = stats.norm.ppf(0.975)
        table = {"coef": self.params_, "exp(coef)": np.exp(self.params_),
                 "se(coef)": np.sqrt(np.diag(self.naive_variance_matrix_))}
        if self.robust:
            table["robust se"] = se
        table |= {"z": z, "p": 2 * stats.norm.sf(np.abs(z)),
                  "lower 0.95": self.params_ - q * se, "upper 0.95": self.params_ + q * se}
        return pd.DataFrame(table, index=self.params_.index)

    def to_dict(self) -> dict:
        self._check()
        base = self.baseline_cumulative_hazard_
        return {"estimator": "cox_ph", "ties": self.ties, "covariates": self.covariates,
                "strata": self.strata, "cluster": self.cluster, "weights": self.weights,
                "robust": self.robust, "n": self.n_, "events": self.events_,
                "coef": self.params_.tolist(), "se": self.standard_errors_.tolist(),
                "se_naive": np.sqrt(np.diag(self.naive_variance_matrix_)).tolist(),
                "variance_matrix": self.variance_matrix_.to_numpy().tolist(),
                "log_likelihood": self.log_likelihood_,
                "log_likelihood_null": self.log_likelihood_null_,
                "score_test": self.score_test_,
                "concordance": self.concordance_, "concordance_se": self.concordance_se_,
                "baseline_cumulative_hazard": {
                    "time": base.index.tolist(),
                    "strata": [None if s is None else str(s) for s in self.strata_labels_],
                    "values": base.to_numpy().T.tolist()}}


@dataclass(frozen=True)
class ProportionalHazardsTest:
    """R's cox.zph: per covariate and GLOBAL, the score test of adding x * g(t)."""

    table: pd.DataFrame  # chisq, df, p; covariates then GLOBAL
    transform: str
    times: np.ndarray  # event times, in the order of the residuals
    transformed_times: np.ndarray  # g(t) before centring

    def to_dict(self) -> dict:
        return {"test": "cox.zph", "transform": self.transform,
                "terms": list(self.table.index), "chisq": self.table.chisq.tolist(),
                "df": self.table.df.astype(int).tolist(), "p": self.table.p.tolist()}


def _time_transform(t: np.ndarray, e: np.ndarray, transform: str) -> np.ndarray:
    if transform == "identity":
        return t.copy()
    if transform == "rank":
        return stats.rankdata(t)
    if transform == "log":
        return np.log(t)
    if transform == "km":  # 1 - S(t-), the pooled Kaplan-Meier (no weights, no strata)
        inverse = np.unique(t, return_inverse=True)[1]
        table = _table(t, e)
        survival = np.cumprod(1 - table.n_event.to_numpy() / table.n_risk.to_numpy())
        return 1 - np.concatenate([[1.0], survival[:-1]])[inverse]
    raise UserError(f"Unknown transform {transform!r}", where="cox_zph",
                    hint="Use km, rank, identity or log.")


def cox_zph(model: CoxPH, *, transform: str = "km") -> ProportionalHazardsTest:
    """The test of proportional hazards of R's ``cox.zph`` (survival >= 3.0): at the fitted
    beta, the score test for gamma = 0 in a model adding x * (g(t) - mean g) with the full
    information matrix of (beta, gamma); per covariate (1 df) and GLOBAL (p df)."""
    model._check()
    t, e, x = model._t, model._e, model._x
    g_raw = _time_transform(t, e, transform)
    g = g_raw - g_raw[e].mean()
    r = model._risk_sets(model.params_.to_numpy())
    rows, m = model._death_rows, model._term_weight
    g_term = g[rows]
    p = x.shape[1]
    info = np.block([[model._information(r), model._information(r, g_term)],
                     [model._information(r, g_term), model._information(r, g_term ** 2)]])
    score = (model._wt[rows] * g_term) @ x[rows] - (m * g_term) @ r.mean
    u = np.concatenate([np.zeros(p), score])
    tests, dfs = [], []
    for j in range(p):
        keep = np.r_[np.arange(p), p + j]
        tests.append(float(u[keep] @ np.linalg.solve(info[np.ix_(keep, keep)], u[keep])))
        dfs.append(1)
    tests.append(float(u @ np.linalg.solve(info, u)))
    dfs.append(p)
    table = pd.DataFrame({"chisq": tests, "df": dfs,
                          "p": stats.chi2.sf(tests, dfs)},
                         index=[*model.covariates, "GLOBAL"])
    return ProportionalHazardsTest(table, transform, t[rows], g_raw[rows])
