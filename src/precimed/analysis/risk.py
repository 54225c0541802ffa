"""Absolute risk from Cox models, validated on other centres: discrimination, calibration
and net reclassification.

:class:`CoxRiskModel` fits :class:`~precimed.analysis.survival.CoxPH` on one set of
centres and predicts the absolute risk by a horizon, 1 - S0(horizon) ** exp(x'beta).
:meth:`CoxRiskModel.validate` reports on other data, with follow-up censored at the
horizon:

- Harrell's C (``precimed.analysis.concordance``, R survival's ``concordance``);
- calibration by group of predicted risk (deciles by default): mean predicted risk against
  the Kaplan-Meier risk at the horizon with its log confidence limits; the expected over
  observed ratio overall; and the calibration slope, the coefficient of the linear
  predictor in a Cox model refitted on the validation data (1 when predictions spread as
  outcomes do, below 1 when they are too extreme: van Houwelingen, Stat Med
  2000;19:3401-15).

:func:`net_reclassification` is the survival NRI of Pencina, D'Agostino and Steyerberg
(Stat Med 2011;30:11-21), with Kaplan-Meier risks at the horizon in place of observed
proportions: with P(up) the share moved up and P(D|up) one minus the KM survival at the
horizon among them, NRI(events) = [P(D|up)P(up) - P(D|down)P(down)] / P(D) and
NRI(non-events) = [(1-P(D|down))P(down) - (1-P(D|up))P(up)] / (1-P(D)). "Up" is a move
to a higher category given cut-offs (categorical NRI), or any increase in predicted risk
(category-free NRI). Validated against a hand-worked example and, without censoring before
the horizon where the KM risks are proportions, Hmisc's ``improveProb`` in R
(tests/unit/analysis/test_risk.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from precimed.analysis.concordance import concordance
from precimed.analysis.survival import CoxPH, KaplanMeier
from precimed.errors import UserError


class CoxRiskModel:
    """Cox proportional hazards fitted for the absolute risk of an event by ``horizon``."""

    def fit(self, data: pd.DataFrame, duration: str, event: str, *, covariates: list[str],
            horizon: float, ties: str = "efron") -> CoxRiskModel:
        if not horizon > 0:
            raise UserError("The horizon must be a positive time", where="CoxRiskModel.fit",
                            hint="Give it in the units of the duration column.")
        if not covariates:
            raise UserError("A risk model needs at least one covariate",
                            where="CoxRiskModel.fit", hint="Pass covariates=[...].")
        self.cox_ = CoxPH().fit(data, duration, event, covariates=list(covariates), ties=ties)
        if horizon > self.cox_.baseline_cumulative_hazard_.index.max():
            raise UserError("The horizon is beyond the last event time of the fitting data",
                            where="CoxRiskModel.fit",
                            hint="Choose a horizon within the follow-up of the data.")
        self.duration, self.event, self.covariates = duration, event, list(covariates)
        self.horizon_ = float(horizon)
        self.baseline_risk_ = float(1 - np.exp(-self.cox_.baseline_cumulative_hazard_
                                               .iloc[:, 0].asof(self.horizon_)))
        return self

    def _check(self) -> None:
        if not hasattr(self, "cox_"):
            raise UserError("The model is not fitted", where="CoxRiskModel",
                            hint="Call fit(data, duration, event, covariates=..., horizon=...).")

    def predict_linear_predictor(self, data: pd.DataFrame) -> pd.Series:
        self._check()
        return np.log(self.cox_.predict_partial_hazard(data)).rename("linear_predictor")

    def predict_risk(self, data: pd.DataFrame) -> pd.Series:
        """1 - S(horizon | x) for each row of ``data``."""
        self._check()
        survival = self.cox_.predict_survival_function(data, [self.horizon_])
        return pd.Series(1 - survival.iloc[0].to_numpy(), index=data.index, name="risk")

    def validate(self, data: pd.DataFrame, *, groups: int = 10,
                 conf_level: float = 0.95) -> RiskValidation:
        """Discrimination and calibration at the horizon on ``data`` (other centres)."""
        self._check()
        t, e = _follow_up(data, self.duration, self.event, self.horizon_)
        risk = self.predict_risk(data).to_numpy()
        lp = self.predict_linear_predictor(data).to_numpy()
        c = concordance(t, risk, e)
        table = _calibration_table(t, e, risk, self.horizon_, groups, conf_level)
        refit = CoxPH().fit(pd.DataFrame({"t": t, "e": e, "lp": lp}), "t", "e",
                            covariates=["lp"])
        observed = _km_risk(t, e, self.horizon_, conf_level)
        return RiskValidation(
            horizon=self.horizon_, n=len(t), events=int(e.sum()),
            c_index=c.concordance, c_index_se=c.std_err, calibration=table,
            calibration_slope=float(refit.params_["lp"]),
            calibration_slope_se=float(refit.standard_errors_["lp"]),
            expected_risk=float(risk.mean()), observed_risk=observed[0],
            observed_risk_ci=(observed[1], observed[2]))

    def net_reclassification(self, baseline: CoxRiskModel, data: pd.DataFrame, *,
                             cutoffs=None) -> NRIResult:
        """NRI of this model over ``baseline`` on ``data``, at this model's horizon."""
        self._check()
        baseline._check()
        t, e = _follow_up(data, self.duration, self.event, self.horizon_)
        return net_reclassification(baseline.predict_risk(data), self.predict_risk(data),
                                    time=t, event=e, horizon=self.horizon_, cutoffs=cutoffs)

    @property
    def summary(self) -> pd.DataFrame:
        self._check()
        return self.cox_.summary

    def to_dict(self) -> dict:
        self._check()
        return {"estimator": "cox_risk_model", "horizon": self.horizon_,
                "baseline_risk": self.baseline_risk_, "cox": self.cox_.to_dict()}


@dataclass(frozen=True)
class RiskValidation:
    horizon: float
    n: int
    events: int
    c_index: float
    c_index_se: float
    calibration: pd.DataFrame  # by group: n, events, predicted, observed and its limits
    calibration_slope: float
    calibration_slope_se: float
    expected_risk: float
    observed_risk: float
    observed_risk_ci: tuple[float, float]

    @property
    def expected_observed_ratio(self) -> float:
        return self.expected_risk / self.observed_risk

    def to_dict(self) -> dict:
        return {"statistic": "risk_validation", "horizon": self.horizon, "n": self.n,
                "events": self.events, "c_index": self.c_index, "c_index_se": self.c_index_se,
                "calibration_slope": self.calibration_slope,
                "calibration_slope_se": self.calibration_slope_se,
                "expected_risk": self.expected_risk, "observed_risk": self.observed_risk,
                "observed_risk_ci": list(self.observed_risk_ci),
                "expected_observed_ratio": self.expected_observed_ratio,
                "calibration": self.calibration.to_dict(orient="list")}

    def plot_calibration(self, ax=None):
        """Observed (Kaplan-Meier) against mean predicted risk by group, with limits."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(4, 4))[1]
        table = self.calibration
        top = float(max(table.predicted.max(), table.upper.max())) * 1.05
        ax.plot([0, top], [0, top], color="grey", linestyle=":", linewidth=1)
        ax.errorbar(table.predicted, table.observed,
                    yerr=[table.observed - table.lower, table.upper - table.observed],
                    fmt="o", capsize=2)
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel(f"predicted risk at {self.horizon:g}")
        ax.set_ylabel("observed risk (Kaplan-Meier)")
        ax.set_title(f"C = {self.c_index:.3f}, slope = {self.calibration_slope:.2f}")
        return ax


@dataclass(frozen=True)
class NRIResult:
    kind: str  # "categorical" or "category-free"
    cutoffs: tuple[float, ...]
    horizon: float
    event_nri: float
    nonevent_nri: float
    share_up: float
    share_down: float
    risk_up: float  # KM risk by the horizon among those moved up
    risk_down: float
    risk_all: float

    @property
    def nri(self) -> float:
        return self.event_nri + self.nonevent_nri

    def to_dict(self) -> dict:
        return {"statistic": "net_reclassification", "kind": self.kind,
                "cutoffs": list(self.cutoffs), "horizon": self.horizon, "nri": self.nri,
                "event_nri": self.event_nri, "nonevent_nri": self.nonevent_nri,
                "share_up": self.share_up, "share_down": self.share_down,
                "risk_up": self.risk_up, "risk_down": self.risk_down,
                "risk_all": self.risk_all}


def net_reclassification(old_risk, new_risk, *, time, event, horizon: float,
                         cutoffs=None) -> NRIResult:
    """The KM-based survival NRI of ``new_risk`` over ``old_risk`` at ``horizon``:
    categorical with ``cutoffs`` (e.g. ``[0.05, 0.10]``; a risk equal to a cut-off
    belongs to the higher category), category-free without."""
    old, new = np.asarray(old_risk, float), np.asarray(new_risk, float)
    t, e = _arrays(time, event, len(old))
    if len(new) != len(old) or np.isnan(old).any() or np.isnan(new).any():
        raise UserError("old_risk and new_risk need one non-missing value per row",
                        where="net_reclassification", hint="Predict both models on the data.")
    if cutoffs is None:
        up, down, kind, cuts = new > old, new < old, "category-free", ()
    else:
        cuts = tuple(sorted(float(c) for c in cutoffs))
        old_cat = np.searchsorted(cuts, old, side="right")
        new_cat = np.searchsorted(cuts, new, side="right")
        up, down, kind = new_cat > old_cat, new_cat < old_cat, "categorical"
    risk_all = _km_risk(t, e, horizon)[0]
    if not 0 < risk_all < 1:
        raise UserError("The NRI needs both events and survivors by the horizon",
                        where="net_reclassification", hint="Choose another horizon.")
    p_up, p_down = up.mean(), down.mean()
    risk_up = _km_risk(t[up], e[up], horizon)[0] if up.any() else 0.0
    risk_down = _km_risk(t[down], e[down], horizon)[0] if down.any() else 0.0
    event_nri = (risk_up * p_up - risk_down * p_down) / risk_all
    nonevent_nri = ((1 - risk_down) * p_down - (1 - risk_up) * p_up) / (1 - risk_all)
    return NRIResult(kind, cuts, float(horizon), float(event_nri), float(nonevent_nri),
                     float(p_up), float(p_down), float(risk_up), float(risk_down),
                     float(risk_all))


def _arrays(time, event, n: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, float)
    e = np.asarray(event).astype(bool)
    if len(t) != n or len(e) != n or np.isnan(t).any() or (t < 0).any():
        raise UserError("time and event need one value per row, times non-negative",
                        where="net_reclassification", hint="Drop rows without follow-up.")
    return t, e


def _follow_up(data: pd.DataFrame, duration: str, event: str, horizon: float):
    """Times and events censored at the horizon."""
    missing = [c for c in (duration, event) if c not in data.columns]
    if missing:
        raise UserError(f"No column {missing[0]!r}", where="CoxRiskModel",
                        hint="Validation data need the fitting data's duration and event.")
    t, e = _arrays(data[duration], data[event], len(data))
    return np.minimum(t, horizon), e & (t <= horizon)


def _km_risk(t, e, horizon: float, conf_level: float = 0.95) -> tuple[float, float, float]:
    """1 - KM survival at the horizon, with the limits from the log-scale interval."""
    at = KaplanMeier().fit(t, e, conf_level=conf_level).at([horizon]).iloc[0]
    return float(1 - at.survival), float(1 - at.upper), float(1 - at.lower)


def _calibration_table(t, e, risk, horizon, groups, conf_level) -> pd.DataFrame:
    if groups < 2 or len(risk) < 2 * groups:
        raise UserError(f"Cannot form {groups} calibration groups from {len(risk)} rows",
                        where="CoxRiskModel.validate", hint="Use fewer groups.")
    ranks = stats.rankdata(risk, method="ordinal")
    group = np.ceil(ranks * groups / len(risk)).astype(int) - 1
    rows = []
    for g in range(groups):
        mask = group == g
        observed, lower, upper = _km_risk(t[mask], e[mask], horizon, conf_level)
        rows.append({"group": g + 1, "n": int(mask.sum()), "events": int(e[mask].sum()),
                     "predicted": float(risk[mask].mean()), "observed": observed,
                     "lower": lower, "upper": upper})
    return pd.DataFrame(rows)
