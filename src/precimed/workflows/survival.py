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
from precimed.deid import Cell, CountTable, Policy, fields_of, publish_table
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


def _curve(km: KaplanMeier, times: np.ndarray, events: np.ndarray, years: int,
           policy: Policy) -> list[dict]:
    """Survival at whole years (the estimator is fitted on years), at those years only
    that leave no small count to subtract: between two published years the events and
    the people censored must each be 0 or at least T (the number at risk and the survival
    of both years give them), and so must the events and censored after the last one."""
    points = km.at(np.arange(0, years + 1, dtype=float))
    at_risk = points.n_risk.astype(int).tolist()
    # events before each whole year (an event at exactly year y happens at year y)
    before = [int(events[times < y].sum()) for y in range(years + 1)]
    total = int(events.sum())
    ok = policy.is_small
    chosen = [0]
    for year in range(1, years + 1):
        last = chosen[-1]
        happened = before[year] - before[last]
        censored = at_risk[last] - at_risk[year] - happened
        if at_risk[year] < policy.threshold:
            break  # hidden or nobody left: later years rest on fewer people still
        if not ok(happened) and not ok(censored):
            chosen.append(year)
    while len(chosen) > 1:
        last = chosen[-1]
        tail_events = total - before[last]
        if not ok(tail_events) and not ok(at_risk[last] - tail_events):
            break
        chosen.pop()
    return [{"year": y, "survival": float(points.survival.iloc[y]),
             "lower": float(points.lower.iloc[y]), "upper": float(points.upper.iloc[y]),
             "at_risk": policy.publish(at_risk[y])} for y in chosen]


def _count_table(data: pd.DataFrame, groups: list[tuple[object, pd.DataFrame]],
                 complete: pd.DataFrame, policy: Policy) -> list[Cell]:
    """People and events overall, per group and in the Cox model's complete cases, as one
    table: a reader knows the groups add up to the total, that people minus events are
    censored, and that the complete cases are the total less those with a missing
    covariate. Cells: n, events, then per group n, events, then Cox n, events."""
    values: list[int] = []
    latent: list[bool] = []
    relations: list[tuple[int, np.ndarray]] = []

    def cell(v: int, hidden: bool = False) -> int:
        values.append(int(v))
        latent.append(hidden)
        return len(values) - 1

    n, e = cell(len(data)), cell(int(data.event.sum()))
    ns, es, cs = [], [], []
    for _, rows in groups:
        ns.append(cell(len(rows)))
        es.append(cell(int(rows.event.sum())))
    cox_n, cox_e = cell(len(complete)), cell(int(complete.event.sum()))
    c = cell(values[n] - values[e], True)
    for gn, ge in zip(ns, es, strict=True):
        cs.append(cell(values[gn] - values[ge], True))
        relations.append((gn, np.array([ge, cs[-1]])))
    relations += [(n, np.array([e, c])), (n, np.array(ns)), (e, np.array(es)),
                  (c, np.array(cs)),
                  (n, np.array([cox_n, cell(values[n] - values[cox_n], True)])),
                  (e, np.array([cox_e, cell(values[e] - values[cox_e], True)]))]
    return publish_table(CountTable(np.array(values, dtype=np.int64), relations,
                                    latent=np.array(latent)), policy=policy)


def cohort_survival(settings: Settings, definition: CohortDefinition, *, release: str,
                    endpoint: str, by: str | None = None,
                    covariates: tuple[str, ...] = ("age", "male"), years: int = 5,
                    policy: Policy | None = None) -> dict:
    """Kaplan–Meier by group, the log-rank test, and a Cox model on the covariates, with
    the provenance of the run; counts disclosure-controlled as one table (a group with
    fewer people or events than the threshold is reported without estimates). ``policy``
    is the caller's tier; the exact tier by default."""
    if by is not None and by not in BY:
        raise UserError(f"Cannot group by {by!r}", where="by", hint="Use " + ", ".join(BY))
    policy = policy or Policy.from_settings(settings)
    data, provenance = survival_data(settings, definition, release=release,
                                     endpoint=endpoint, covariates=covariates)
    groups = [("all", data)] if by is None else list(data.groupby(by, sort=True))
    usable = [c for c in covariates if c in data.columns and data[c].notna().any()]
    frame = data[["time_days", "event", *usable]].dropna()
    cells = _count_table(data, groups, frame, policy)
    result: dict = {"analysis": "cohort_survival", "endpoint": endpoint, "by": by,
                    "provenance": provenance.to_dict(), "tier": policy.tier,
                    **fields_of({"n": cells[0], "events": cells[1]}),
                    "groups": [], "logrank": None, "cox": None}
    if not result["n"] or not result["events"]:  # hidden, or none at all
        result["note"] = f"fewer than {policy.threshold} members or events: no estimates"
        return result
    shown = []
    for i, (label, rows) in enumerate(groups):
        n, events = cells[2 + 2 * i], cells[3 + 2 * i]
        entry = {"group": str(label), **fields_of({"n": n, "events": events})}
        if n.value and events.value:
            km = KaplanMeier().fit(rows.time_days / YEAR, rows.event, label=str(label))
            entry |= {"median_years": km.median_,
                      "curve": _curve(km, (rows.time_days / YEAR).to_numpy(),
                                      rows.event.to_numpy(), years, policy)}
            shown.append(label)
        result["groups"].append(entry)
    if by is not None and len(shown) > 1:
        kept = data[data[by].isin(shown)]
        result["logrank"] = logrank(kept.time_days, kept.event, kept[by]).to_dict()
    cox_n, cox_events = cells[2 + 2 * len(groups)], cells[3 + 2 * len(groups)]
    if usable and cox_n.value and cox_events.value:
        cox = CoxPH().fit(frame, "time_days", "event", covariates=usable)
        summary = cox.summary
        result["cox"] = {**fields_of({"n": cox_n, "events": cox_events}),
                         "hazard_ratios": {c: {"hr": float(summary.loc[c, "exp(coef)"]),
                                               "lower": float(np.exp(summary.loc[c,
                                                                                 "lower 0.95"])),
                                               "upper": float(np.exp(summary.loc[c,
                                                                                 "upper 0.95"])),
                                               "p": float(summary.loc[c, "p"])}
                                           for c in usable}}
    return result
