"""Exposure-wide and phenome-wide association over a wide participant table.

The table is one row per participant, as a cohort ``extract`` gives it: baseline
measurement values by item code, exposures, age, sex and so on. :func:`exposure_wide` fits
``outcome ~ exposure + covariates`` once per exposure; :func:`phenome_wide` fits
``outcome ~ exposure + covariates`` once per outcome. Each model is fitted by statsmodels
(OLS, or Logit for a 0/1 outcome) on the participants with no missing value among its
columns; columns with too few such participants, no variation or a failed fit are skipped
and reported, not silently dropped. P-values are adjusted over the models actually fitted
by Benjamini–Hochberg (q-values, checked against statsmodels' ``multipletests``) and
Bonferroni. Text covariates (e.g. sex as "F"/"M") are indicator-coded.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from precimed.errors import UserError

_FAMILIES = ("linear", "logistic")


def benjamini_hochberg(pvalues) -> np.ndarray:
    """Benjamini–Hochberg q-values (step-up, capped at 1); NaN stays NaN."""
    p = np.asarray(pvalues, dtype=float)
    q = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = len(finite)
    if m == 0:
        return q
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return q


def bonferroni(pvalues) -> np.ndarray:
    p = np.asarray(pvalues, dtype=float)
    return np.minimum(p * np.isfinite(p).sum(), 1.0)


@dataclass
class AssociationScan:
    """One row per fitted model in ``summary``; skipped columns with reasons in ``skipped_``."""

    scan: str
    family: str
    fixed: str
    summary: pd.DataFrame
    skipped_: dict[str, str] = field(default_factory=dict)

    def significant(self, *, q: float = 0.05) -> pd.DataFrame:
        return self.summary[self.summary.q_bh < q].reset_index(drop=True)

    def to_dict(self) -> dict:
        rows = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                 for k, v in row.items()} for row in self.summary.to_dict(orient="records")]
        return {"analysis": self.scan, "family": self.family, "fixed": self.fixed,
                "results": rows, "skipped": dict(self.skipped_)}

    def plot_volcano(self, ax=None, *, q: float = 0.05):
        """Effect (beta) against −log10 p, models with q < ``q`` highlighted and labelled."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(5, 4))[1]
        frame = self.summary
        hit = frame.q_bh < q
        ax.scatter(frame.beta, -np.log10(frame.p), s=12, c=np.where(hit, "#b2182b", "grey"))
        for _, row in frame[hit].iterrows():
            ax.annotate(str(row.term), (row.beta, -np.log10(row.p)), fontsize=7)
        ax.set_xlabel("beta" if self.family == "linear" else "log odds ratio")
        ax.set_ylabel(r"$-\log_{10} p$")
        return ax


def exposure_wide(data: pd.DataFrame, outcome: str, exposures: Sequence[str],
                  covariates: Sequence[str] = (), *, family: str = "linear",
                  min_count: int = 20) -> AssociationScan:
    """``outcome ~ exposure + covariates`` for each exposure in turn."""
    _check(data, [outcome, *exposures, *covariates], family)
    rows, skipped = [], {}
    for exposure in exposures:
        _fit_one(data, outcome, exposure, covariates, family, min_count, exposure, rows,
                 skipped)
    return AssociationScan("exposure_wide", family, outcome, _adjusted(rows), skipped)


def phenome_wide(data: pd.DataFrame, exposure: str, outcomes: Sequence[str],
                 covariates: Sequence[str] = (), *, family: str = "linear",
                 min_count: int = 20) -> AssociationScan:
    """``outcome ~ exposure + covariates`` for each outcome in turn."""
    _check(data, [exposure, *outcomes, *covariates], family)
    rows, skipped = [], {}
    for outcome in outcomes:
        _fit_one(data, outcome, exposure, covariates, family, min_count, outcome, rows,
                 skipped)
    return AssociationScan("phenome_wide", family, exposure, _adjusted(rows), skipped)


def _check(data: pd.DataFrame, columns: list[str], family: str) -> None:
    if family not in _FAMILIES:
        raise UserError(f"Unknown family {family!r}", where="family",
                        hint="Use 'linear' or 'logistic'.")
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise UserError(f"Columns not in the table: {', '.join(map(str, absent[:10]))}",
                        where="data", hint="Check the item codes against the extract.")


def _fit_one(data, outcome, exposure, covariates, family, min_count, term, rows, skipped):
    frame = data[list(dict.fromkeys([outcome, exposure, *covariates]))].dropna()
    reason = _unusable(frame, outcome, exposure, family, min_count)
    if reason:
        skipped[str(term)] = reason
        return
    x = pd.get_dummies(frame[[exposure, *covariates]], drop_first=True, dtype=float)
    x = sm.add_constant(x.astype(float), has_constant="add")
    y = frame[outcome].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation and convergence are checked below
        try:
            if family == "linear":
                fit = sm.OLS(y, x).fit()
            else:
                fit = sm.Logit(y, x).fit(disp=0, maxiter=100)
        except (np.linalg.LinAlgError, ValueError) as error:
            skipped[str(term)] = f"fit failed: {error}"
            return
    converged = family == "linear" or fit.mle_retvals.get("converged", False)
    beta, se = fit.params[exposure], fit.bse[exposure]
    if not converged or not np.isfinite(se):
        skipped[str(term)] = "fit did not converge (separation?)"
        return
    z = stats.norm.ppf(0.975) if family == "logistic" else stats.t.ppf(0.975, fit.df_resid)
    row = {"term": term, "outcome": outcome, "exposure": exposure, "n": int(fit.nobs),
           "beta": float(beta), "se": float(se), "statistic": float(fit.tvalues[exposure]),
           "p": float(fit.pvalues[exposure]), "ci_lower": float(beta - z * se),
           "ci_upper": float(beta + z * se)}
    if family == "logistic":
        row["n_cases"] = int(y.sum())
        row["odds_ratio"] = float(np.exp(beta))
    rows.append(row)


def _unusable(frame, outcome, exposure, family, min_count) -> str | None:
    if len(frame) < min_count:
        return f"{len(frame)} complete rows, fewer than {min_count}"
    if not (pd.api.types.is_numeric_dtype(frame[exposure])
            or pd.api.types.is_bool_dtype(frame[exposure])):
        return "exposure is not numeric; code it as indicator columns"
    if frame[exposure].nunique() < 2:
        return "exposure does not vary among the complete rows"
    if family == "logistic":
        values = set(pd.unique(frame[outcome].astype(float)))
        if not values <= {0.0, 1.0}:
            return "outcome is not coded 0/1"
        smaller = min((frame[outcome] == 1).sum(), (frame[outcome] == 0).sum())
        if smaller < min_count // 2:
            return f"only {smaller} in the smaller outcome group"
    elif not pd.api.types.is_numeric_dtype(frame[outcome]):
        return "outcome is not numeric"
    elif frame[outcome].nunique() < 2:
        return "outcome does not vary among the complete rows"
    return None


def _adjusted(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["term", "outcome", "exposure", "n", "beta", "se",
                                        "statistic", "p", "ci_lower", "ci_upper"]
                         + (["n_cases", "odds_ratio"] if rows and "n_cases" in rows[0] else []))
    frame["q_bh"] = benjamini_hochberg(frame.p.to_numpy(float))
    frame["p_bonferroni"] = bonferroni(frame.p.to_numpy(float))
    return frame.sort_values("p", kind="stable").reset_index(drop=True)
