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

In the perturbed tier every count carries its cell key (:mod:`precimed.deid.cellkey`): the
sum of the record keys of the people it counts (a group's people and events, the number at
risk at each published year, the events and censored between published years, the Cox
model's complete cases), so the same people always get the same noise and two answers one
person apart do not differ by exactly one. The curve is then not the Kaplan–Meier estimate
of the exact data, which would give the exact counts back (1 - 3/412 is one number), but
the actuarial (life-table) estimate computed from the published counts alone; the median
is read off that published curve, and the log-rank test is given without its observed and
expected events (they are the exact counts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from precimed import __version__
from precimed.analysis.survival import CoxPH, KaplanMeier, life_table, logrank
from precimed.deid import Cell, CountTable, Policy, cellkey, fields_of, publish_table
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
                  endpoint: str, covariates: tuple[str, ...] = (),
                  secret: bytes | None = None) -> tuple[pd.DataFrame, Provenance]:
    """One row per cohort member at risk: time_days, event, sex, region, centre, cohort,
    age and the baseline value of each measurement in ``covariates``; with ``secret`` (the
    platform's record-key secret) also each member's ``record_key``."""
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
    if secret is not None:
        data["record_key"] = cellkey.record_keys(data.pseudonym.tolist(),
                                                 secret).astype(np.int64)
    provenance = Provenance(release=release, catalog_version=snapshot.catalog_version,
                            cohort=definition.to_dict(), as_of=as_of.isoformat(),
                            precimed_version=__version__, standard_version=STANDARD_VERSION,
                            run_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    return data.drop(columns=["pseudonym"]).reset_index(drop=True), provenance


def _key(keys: np.ndarray | None, mask: np.ndarray | None = None) -> int | None:
    """The cell key of the people ``mask`` selects (None when the data carry no keys)."""
    if keys is None:
        return None
    return cellkey.cell_key(keys if mask is None else keys[mask])


class _Table:
    """Cells and sums of one table, with their keys, for :class:`CountTable`."""

    def __init__(self, keys: np.ndarray | None) -> None:
        self.keys = keys  # the record keys of the rows the masks select from
        self.values: list[int] = []
        self.cell_keys: list[int] = []
        self.latent: list[bool] = []
        self.relations: list[tuple[int, np.ndarray]] = []

    def cell(self, mask: np.ndarray, *, latent: bool = False) -> int:
        """A count of the people ``mask`` selects; its key, the sum of theirs."""
        self.values.append(int(mask.sum()))
        self.cell_keys.append(_key(self.keys, mask) or 0)
        self.latent.append(latent)
        return len(self.values) - 1

    def sums(self, total: int, cells: list[int]) -> None:
        self.relations.append((total, np.array(cells, dtype=int)))

    def publish(self, policy: Policy) -> list[Cell]:
        return publish_table(CountTable(
            np.array(self.values, dtype=np.int64), self.relations,
            None if self.keys is None else np.array(self.cell_keys, dtype=np.uint64),
            latent=np.array(self.latent, dtype=bool)), policy=policy)


def _years(km: KaplanMeier, times: np.ndarray, events: np.ndarray, years: int,
           policy: Policy) -> list[int]:
    """The whole years a curve is published at, those only that leave no small count to
    subtract: between two published years the events and the people censored must each
    be 0 or at least T, and so must the events and censored after the last one."""
    at_risk = km.at(np.arange(0, years + 1, dtype=float)).n_risk.astype(int).tolist()
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
    return chosen


def _curve(rows: pd.DataFrame, years: int, policy: Policy) -> tuple[list[dict], float | None]:
    """The published curve of one group and its median (None: not reached).

    The counts behind it are one table through the gate: the number at risk at each
    published year (people followed to that year or beyond), the events and censored
    between two published years (published) and after the last (latent), and the group's
    events; ``at risk = at risk a year later + events + censored`` between them. In the
    exact tier the points are the Kaplan–Meier estimate at those years; when the policy
    perturbs they are the life-table estimate computed from the published counts only,
    because the exact estimate would give the exact counts back."""
    times = (rows.time_days / YEAR).to_numpy()
    events = rows.event.to_numpy().astype(bool)
    km = KaplanMeier().fit(times, events)
    chosen = _years(km, times, events, years, policy)
    table = _Table(rows.record_key.to_numpy() if "record_key" in rows.columns else None)
    risk = [table.cell(times >= y) for y in chosen]
    nobody = np.zeros(len(times), dtype=bool)  # nothing happens before year 0
    died, lost = [table.cell(nobody)], [table.cell(nobody)]
    ends = [*chosen[1:], np.inf]
    for i, (a, b) in enumerate(zip(chosen, ends, strict=True)):
        between = (times >= a) & (times < b)
        tail = b == np.inf
        died.append(table.cell(events & between, latent=tail))
        lost.append(table.cell(~events & between, latent=tail))
        table.sums(risk[i], [*([risk[i + 1]] if not tail else []), died[-1], lost[-1]])
    table.sums(table.cell(events), died[1:])
    cells = table.publish(policy)
    points = []
    for i, year in enumerate(chosen):
        shown = [cells[risk[i]], cells[died[i]], cells[lost[i]]]
        if any(c.value is None for c in shown):
            break  # not expected (every count is 0 or >= T), but never publish around one
        points.append({"year": year, "at_risk": shown[0].value, "events": shown[1].value,
                       "censored": shown[2].value})
    if not policy.perturb:
        estimates = km.at([p["year"] for p in points])
        for point, (_, e) in zip(points, estimates.iterrows(), strict=True):
            point |= {"survival": float(e.survival), "lower": float(e.lower),
                      "upper": float(e.upper)}
        median = km.median_
        return points, None if np.isnan(median) else float(median)
    life = life_table([p["at_risk"] for p in points[:-1]],
                      [p["events"] for p in points[1:]], [p["censored"] for p in points[1:]])
    points[0] |= {"survival": 1.0, "lower": 1.0, "upper": 1.0}
    for point, (_, e) in zip(points[1:], life.iterrows(), strict=True):
        point |= {"survival": float(e.survival), "lower": _number(e.lower),
                  "upper": _number(e.upper)}
    return points, _median(points)


def _number(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _median(points: list[dict]) -> float | None:
    """The median read off a published curve: linear between the two published years
    around survival 0.5 (the actuarial convention); None when not reached."""
    for a, b in pairwise(points):
        if b["survival"] <= 0.5:
            drop = a["survival"] - b["survival"]
            share = (a["survival"] - 0.5) / drop if drop > 0 else 0.0
            return float(a["year"] + share * (b["year"] - a["year"]))
    return None


def _count_table(data: pd.DataFrame, groups: list[tuple[object, pd.DataFrame]],
                 complete: pd.DataFrame, policy: Policy) -> list[Cell]:
    """People and events overall, per group and in the Cox model's complete cases, as one
    table: a reader knows the groups add up to the total, that people minus events are
    censored, and that the complete cases are the total less those with a missing
    covariate. Cells: n, events, then per group n, events, then Cox n, events. Each has
    its cell key when the data carry record keys."""
    table = _Table(data.record_key.to_numpy() if "record_key" in data.columns else None)
    event = data.event.to_numpy() == 1
    everyone = np.ones(len(data), dtype=bool)
    n, e = table.cell(everyone), table.cell(event)
    members = [data.index.isin(rows.index) for _, rows in groups]
    ns = [table.cell(m) for m in members]
    es = [table.cell(m & event) for m in members]
    in_cox = data.index.isin(complete.index)
    cox_n, cox_e = table.cell(in_cox), table.cell(in_cox & event)
    c = table.cell(~event, latent=True)
    cs = []
    for m, gn, ge in zip(members, ns, es, strict=True):
        cs.append(table.cell(m & ~event, latent=True))
        table.sums(gn, [ge, cs[-1]])
    table.sums(n, [e, c])
    table.sums(n, ns)
    table.sums(e, es)
    table.sums(c, cs)
    table.sums(n, [cox_n, table.cell(~in_cox, latent=True)])
    table.sums(e, [cox_e, table.cell(~in_cox & event, latent=True)])
    cells = table.publish(policy)
    return [cells[n], cells[e], *[x for pair in zip((cells[i] for i in ns),
                                                     (cells[i] for i in es), strict=True)
                                   for x in pair], cells[cox_n], cells[cox_e]]


def cohort_survival(settings: Settings, definition: CohortDefinition, *, release: str,
                    endpoint: str, by: str | None = None,
                    covariates: tuple[str, ...] = ("age", "male"), years: int = 5,
                    policy: Policy | None = None, secret: bytes | None = None) -> dict:
    """Kaplan–Meier by group, the log-rank test, and a Cox model on the covariates, with
    the provenance of the run; counts disclosure-controlled as one table (a group with
    fewer people or events than the threshold is reported without estimates). ``policy``
    is the caller's tier; the exact tier by default. A policy that perturbs gets every
    count with its cell key (``secret``, the record-key secret, is read from the platform's
    key when not given) and the curve computed from the published counts."""
    if by is not None and by not in BY:
        raise UserError(f"Cannot group by {by!r}", where="by", hint="Use " + ", ".join(BY))
    policy = policy or Policy.from_settings(settings)
    if policy.perturb and secret is None:
        secret = cellkey.platform_secret(settings)
    data, provenance = survival_data(settings, definition, release=release,
                                     endpoint=endpoint, covariates=covariates,
                                     secret=secret if policy.perturb else None)
    return survival_result(data, provenance, endpoint=endpoint, by=by,
                           covariates=covariates, years=years, policy=policy)


def survival_result(data: pd.DataFrame, provenance: Provenance, *, endpoint: str,
                    by: str | None, covariates: tuple[str, ...], years: int,
                    policy: Policy) -> dict:
    """The published result of :func:`cohort_survival` on :func:`survival_data`'s rows
    (with ``record_key`` when the policy perturbs)."""
    if policy.perturb and "record_key" not in data.columns:
        raise UserError("Perturbed survival counts need the members' record keys",
                        where="survival data",
                        hint="Pass the platform's record-key secret to survival_data.")
    data = data.reset_index(drop=True)
    groups = [("all", data)] if by is None else list(data.groupby(by, sort=True))
    usable = [c for c in covariates if c in data.columns and data[c].notna().any()]
    frame = data[["time_days", "event", *usable]].dropna()
    cells = _count_table(data, groups, frame, policy)
    result: dict = {"analysis": "cohort_survival", "endpoint": endpoint, "by": by,
                    "provenance": provenance.to_dict(), "tier": policy.tier,
                    "rounding": policy.rounding, "threshold": policy.threshold,
                    "curve_estimator": "life_table_of_published_counts" if policy.perturb
                    else "kaplan_meier",
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
            curve, median = _curve(rows, years, policy)
            entry |= {"median_years": median, "curve": curve}
            shown.append(label)
        result["groups"].append(entry)
    if by is not None and len(shown) > 1:
        kept = data[data[by].isin(shown)]
        test = logrank(kept.time_days, kept.event, kept[by]).to_dict()
        if policy.perturb:  # observed and expected events add up to the exact counts
            test = {k: v for k, v in test.items() if k not in ("observed", "expected")}
        result["logrank"] = test
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
