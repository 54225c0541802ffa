"""Survival analysis of a cohort on a release, as the platform runs it (a use case: the
cohort from the query engine, follow-up and endpoints from the cohort modules, the
estimators from the analysis package): the result records the release, the cohort
definition and the versions that produced it, and every count in it passes through
disclosure control before it leaves.

The analysis data come from the cohort modules: members from the cohort definition
(``precimed.query``), follow-up from ``precimed.cohorts.follow_up.observation``, events
either all-cause death (the death registry, no adjudication) or an adjudicated endpoint
group (``precimed.cohorts.endpoints.analysis_table``: confirmed events only; prevalent
cases left out). Curves are published as survival at whole years with the number at risk,
not as the step function, whose steps would reveal single events; a year whose number at
risk is below the threshold is not published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from precimed import __version__
from precimed.analysis.survival import CoxPH, KaplanMeier, logrank
from precimed.deid import Policy, protect_count
from precimed.errors import UserError
from precimed.lake import Lake
from precimed.ops import OpsDatabase
from precimed.query import compile as engine
from precimed.query.model import CohortDefinition
from precimed.settings import Settings
from precimed.standard import MEASUREMENT_ITEMS, STANDARD_VERSION

YEAR = 365.25
BY = ("sex", "region", "centre", "cohort")


@dataclass(frozen=True)
class Provenance:
    release: str
    catalog_version: int
    cohort: dict
    as_of: str
    precimed_version: str
    standard_version: str
    run_at: str

    def to_dict(self) -> dict:
        return asdict(self)


def survival_data(settings: Settings, definition: CohortDefinition, *, release: str,
                  endpoint: str, covariates: tuple[str, ...] = ()) -> tuple[pd.DataFrame,
                                                                            Provenance]:
    """One row per cohort member at risk: time_days, event, sex, region, centre, cohort,
    age and the baseline value of each measurement in ``covariates``."""
    from precimed.cohorts.endpoints import ENDPOINT_GROUPS, analysis_table, confirmed_events
    from precimed.cohorts.follow_up import observation

    if endpoint != "death" and endpoint not in ENDPOINT_GROUPS:
        raise UserError(f"Unknown endpoint {endpoint!r}", where="endpoint",
                        hint="Use death or one of: " + ", ".join(ENDPOINT_GROUPS))
    unknown = [c for c in covariates if c not in {"age", "male"} | set(MEASUREMENT_ITEMS)]
    if unknown:
        raise UserError(f"Unknown covariate {unknown[0]!r}", where="covariates",
                        hint="Use age, male or measurement codes such as SBP, BMI.")
    lake = Lake(settings.lake_dir)
    snapshot = lake.snapshot(release)
    as_of = snapshot.as_of(settings.as_of_given)
    codes = [c for c in covariates if c in MEASUREMENT_ITEMS]
    db = snapshot.database(settings.cache_dir)
    try:
        members = engine.extract(db, definition, ["sex", "age", *codes])
    finally:
        db.disconnect()
    con = snapshot.connect()
    ops = OpsDatabase(settings.database_url)
    try:
        seen = observation(con, as_of=as_of)
        if endpoint == "death":
            rows = seen.assign(
                event=(seen.end_reason == "death").astype(int),
                time_days=(pd.to_datetime(seen.end_date)
                           - pd.to_datetime(seen.enrolment_date)).dt.days)
        else:
            table = analysis_table(con, confirmed_events(snapshot, ops), as_of=as_of)
            table = table[(table.endpoint == endpoint) & ~table.prevalent.astype(bool)]
            rows = table[["pseudonym", "event", "time_days"]].merge(
                seen.drop(columns=["end_reason"]), on="pseudonym")
    finally:
        con.disconnect()
        ops.dispose()
    data = members.merge(rows[["pseudonym", "event", "time_days", "region", "centre",
                               "cohort"]], on="pseudonym")
    data = data[data.time_days.notna() & (data.time_days >= 0)].copy()
    data["event"] = data.event.astype(int)
    data["time_days"] = data.time_days.astype(float)
    data["male"] = (data.sex == "1").astype(int)
    provenance = Provenance(release=release, catalog_version=snapshot.catalog_version,
                            cohort=definition.to_dict(), as_of=as_of.isoformat(),
                            precimed_version=__version__, standard_version=STANDARD_VERSION,
                            run_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    return data.drop(columns=["pseudonym"]).reset_index(drop=True), provenance


def _curve(km: KaplanMeier, years: int, policy: Policy) -> list[dict]:
    """Survival at whole years (the estimator is fitted on years)."""
    points = km.at(np.arange(0, years + 1, dtype=float))
    out = []
    for year, row in enumerate(points.itertuples()):
        at_risk = protect_count(int(row.n_risk), policy=policy)
        if not at_risk:
            break  # hidden or nobody left: later years rest on fewer people still
        out.append({"year": year, "survival": float(row.survival),
                    "lower": float(row.lower), "upper": float(row.upper),
                    "at_risk": at_risk})
    return out


def cohort_survival(settings: Settings, definition: CohortDefinition, *, release: str,
                    endpoint: str, by: str | None = None,
                    covariates: tuple[str, ...] = ("age", "male"), years: int = 5) -> dict:
    """Kaplan–Meier by group, the log-rank test, and a Cox model on the covariates, with
    the provenance of the run; counts disclosure-controlled (a group with fewer people or
    events than the threshold is reported without estimates)."""
    if by is not None and by not in BY:
        raise UserError(f"Cannot group by {by!r}", where="by", hint="Use " + ", ".join(BY))
    policy = Policy.from_settings(settings)
    data, provenance = survival_data(settings, definition, release=release,
                                     endpoint=endpoint, covariates=covariates)
    result: dict = {"analysis": "cohort_survival", "endpoint": endpoint, "by": by,
                    "provenance": provenance.to_dict(),
                    "n": protect_count(len(data), policy=policy),
                    "events": protect_count(int(data.event.sum()), policy=policy),
                    "groups": [], "logrank": None, "cox": None}
    if not result["n"] or not result["events"]:  # hidden, or none at all
        result["note"] = f"fewer than {policy.threshold} members or events: no estimates"
        return result
    groups = [("all", data)] if by is None else list(data.groupby(by, sort=True))
    shown = []
    for label, rows in groups:
        n, events = (protect_count(len(rows), policy=policy),
                     protect_count(int(rows.event.sum()), policy=policy))
        entry = {"group": str(label), "n": n, "events": events}
        if n and events:
            km = KaplanMeier().fit(rows.time_days / YEAR, rows.event, label=str(label))
            entry |= {"median_years": km.median_, "curve": _curve(km, years, policy)}
            shown.append(label)
        result["groups"].append(entry)
    if by is not None and len(shown) > 1:
        kept = data[data[by].isin(shown)]
        result["logrank"] = logrank(kept.time_days, kept.event, kept[by]).to_dict()
    usable = [c for c in covariates if c in data.columns and data[c].notna().any()]
    frame = data[["time_days", "event", *usable]].dropna()
    if usable and protect_count(int(frame.event.sum()), policy=policy) is not None:
        cox = CoxPH().fit(frame, "time_days", "event", covariates=usable)
        summary = cox.summary
        result["cox"] = {"n": protect_count(len(frame), policy=policy),
                         "events": protect_count(int(frame.event.sum()), policy=policy),
                         "hazard_ratios": {c: {"hr": float(summary.loc[c, "exp(coef)"]),
                                               "lower": float(np.exp(summary.loc[c,
                                                                                 "lower 0.95"])),
                                               "upper": float(np.exp(summary.loc[c,
                                                                                 "upper 0.95"])),
                                               "p": float(summary.loc[c, "p"])}
                                           for c in usable}}
    return result
