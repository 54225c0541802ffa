"""Endpoints: candidate events merged across sources, adjudicated, made analysis-ready.

Candidate events
    An endpoint is reported by several sources, often days apart: self-report at a
    follow-up contact, hospital record linkage, insurance claims and disease registries
    (table ``endpoint_event``, its ``source`` from the ``event_source`` vocabulary), and the
    death registry, whose underlying cause of death (table ``death``, ``underlying_cause``
    on ``death_date``, labelled with the death record's own ``source``) counts as one more
    report. Every report whose ICD-10 code falls in an endpoint group of
    :data:`ENDPOINT_GROUPS` is a report of that group; other codes are not endpoints.

Episodes
    Reports of the same group for the same participant belong to one episode when they are
    dated within ``episode_days`` (default 90) of the episode's *first* report, boundary
    included. The first report not covered starts the next episode. The window is anchored
    on the first report, not chained from report to report, so monthly claims for a chronic
    disease make one candidate per 91 days, never one endless episode. One candidate per
    participant, group and episode; its id is the first 32 hex digits of
    ``sha256("<pseudonym>|<group>|<first date YYYY-MM-DD>")``, stable as long as no report
    dated before the episode's first report arrives.

Adjudication
    See :mod:`precimed.cohorts.adjudication`: candidates are loaded as ``pending`` into the
    operational database and reviewers confirm or reject them.

Analysis table
    One row per participant enrolled by ``as_of`` and endpoint group. The earliest
    confirmed candidate of the group dated on or before ``as_of`` is the participant's
    event. A participant is *prevalent* for a group when that event is dated on or before
    the enrolment date (an event on the day of enrolment is baseline disease, and a time of
    0 cannot enter a survival model) or, with ``baseline_history``, when the ``condition``
    table holds a diagnosis of the group dated on or before enrolment. Prevalent rows keep
    ``prevalent = True`` and ``event`` / ``time_days`` null: they are excluded from the
    analysis of that group, not of the others. For everyone else, ``event`` is 1 when the
    event falls after enrolment and no later than the end of observation
    (:func:`precimed.cohorts.follow_up.observation`: death, loss or ``as_of``), and
    ``time_days`` runs from enrolment to the event; otherwise ``event`` is 0, ``time_days``
    runs to the end of observation and ``censor_reason`` says why it ended ("death",
    "lost", "end of follow-up"). The confirmed events come from
    :func:`confirmed_events`: on a release, the copy frozen when it was made.

Incidence
    Events per 1,000 person-years among those at risk (not prevalent) by region, sex and
    age band at enrolment, with exact Poisson 95% limits (Garwood 1936):
    lower = chi2.ppf(0.025, 2k) / 2, upper = chi2.ppf(0.975, 2k + 2) / 2 events, divided
    by the person-years. Event counts pass through
    :func:`precimed.deid.disclosure.protect_counts` (one table per endpoint, with margins,
    and, given the record-key secret, each cell's key from the people with an event in
    it); rates and limits are computed from the published count and are empty where it is
    suppressed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from ibis import _

from precimed.cohorts.adjudication import confirmed
from precimed.cohorts.follow_up import GRACE_DAYS, YEAR_DAYS, observation
from precimed.deid.cellkey import KEY_SPACE, record_keys
from precimed.deid.disclosure import Policy, protect_counts, publish_count
from precimed.errors import UserError
from precimed.lake import Snapshot
from precimed.standard import CONFIRMED_ENDPOINT
from precimed.standard.ages import AGE_BANDS
from precimed.standard.icd10 import UnknownIcd10, selection_prefixes
from precimed.standard.margins import MARGIN

if TYPE_CHECKING:
    from precimed.ops import OpsDatabase

# Endpoint groups as ICD-10 code prefixes (dots ignored, prefixes must not overlap). The
# ranges are the usual ones of Chinese cohort outcome definitions such as the China
# Kadoorie Biobank's, whose endpoints come from linked mortality and morbidity registries
# and health insurance records (https://www.ckbiobank.org/site/Study+Resources/
# Disease+outcome+Data; cohort profile: Chen Z et al., Int J Epidemiol 2011;40:1652-66):
# ischaemic heart disease I20-I25, stroke I60-I64, type 2 diabetes E11, cancers of the
# lung C34, stomach C16, colon and rectum C18-C20, liver C22. Published definitions vary
# at the edges (I62 in stroke, C33 with lung, E10-E14 for any diabetes): compare the
# ranges before comparing rates with a paper.
ENDPOINT_GROUPS: dict[str, tuple[str, ...]] = {
    "chd": ("I20", "I21", "I22", "I23", "I24", "I25"),
    "stroke": ("I60", "I61", "I62", "I63", "I64"),
    "t2d": ("E11",),
    "lung_cancer": ("C34",),
    "gastric_cancer": ("C16",),
    "colorectal_cancer": ("C18", "C19", "C20"),
    "liver_cancer": ("C22",),
}
EPISODE_DAYS = 90

CANDIDATE_COLUMNS = (
    "candidate_id", "pseudonym", "centre", "endpoint", "first_date", "last_date", "sources",
    "reports", "icd10",
)
ANALYSIS_COLUMNS = (
    "pseudonym", "endpoint", "prevalent", "event", "time_days", "censor_reason",
    "enrolment_date", "event_date", "exit_date",
)
INCIDENCE_BY = ("region", "sex", "age_band")
TOTAL = MARGIN  # the margin code; people read it as MARGIN_LABEL (合计 / Total)
UNKNOWN = "Unknown"
_KEY = ("pseudonym", "endpoint")


# -- candidates ---------------------------------------------------------------------------
def candidates(con: ibis.BaseBackend, *, episode_days: int = EPISODE_DAYS,
               as_of: dt.date | None = None,
               groups: Mapping[str, Sequence[str]] = ENDPOINT_GROUPS) -> pd.DataFrame:
    """One candidate per participant, endpoint group and episode, merged across sources.

    Columns: candidate_id, pseudonym, centre (the participant's centre, else the first,
    alphabetically, of the reporting centres), endpoint, first_date, last_date, sources
    (sorted distinct list), reports (how many reports), icd10 (sorted distinct codes as
    reported). Reports dated after ``as_of``, if given, are ignored. Ordered by centre,
    pseudonym, endpoint and first_date.
    """
    if isinstance(episode_days, bool) or not isinstance(episode_days, int) \
            or episode_days < 0:
        raise UserError("The episode window must be a whole number of days, 0 or more",
                        where=f"episode_days={episode_days!r}", hint="The default is 90.")
    reports = _reports(con, _checked(groups), as_of)
    episodes = _episodes(con, reports, episode_days)
    joined = reports.inner_join(episodes, ["pseudonym", "endpoint", "day"])
    merged = joined.group_by("pseudonym", "endpoint", "first_date").agg(
        last_date=_.day.max(),
        sources=_.source.collect(distinct=True).sort(),
        reports=_.count(),
        icd10=_.icd10.collect(distinct=True).sort(),
        _reporting=_.centre.min(),
    )
    people = (con.table("participant").group_by(_p=_.pseudonym)
              .agg(_home=_.centre.min()))
    merged = merged.left_join(people, merged.pseudonym == people._p)
    key = (merged.pseudonym.concat("|", merged.endpoint, "|",
                                   merged.first_date.cast("string")))
    out = merged.select(
        candidate_id=key.hexdigest("sha256").substr(0, 32),
        pseudonym=merged.pseudonym,
        centre=ibis.coalesce(merged._home, merged._reporting),
        endpoint=merged.endpoint,
        first_date=merged.first_date,
        last_date=merged.last_date,
        sources=merged.sources,
        reports=merged.reports.cast("int64"),
        icd10=merged.icd10,
    )
    table = con.to_pyarrow(out.order_by("centre", "pseudonym", "endpoint", "first_date"))
    frame = table.to_pandas(date_as_object=False)
    for column in ("sources", "icd10"):  # Python lists rather than NumPy arrays
        frame[column] = pd.Series(table.column(column).to_pylist(), dtype=object)
    return frame


def _checked(groups: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """The groups as prefixes without dots (the standard's selections: I20-I25, i21,
    I63.X are all understood); unknown codes and overlapping groups are refused."""
    clean = {str(name): tuple(p for s in prefixes for p in _prefixes(s, str(name)))
             for name, prefixes in groups.items()}
    if not clean or any(not prefixes for prefixes in clean.values()):
        raise UserError("Every endpoint group needs at least one ICD-10 prefix",
                        where="groups", hint="For example {'t2d': ('E11',)}.")
    owners = [(p, name) for name, prefixes in clean.items() for p in prefixes]
    for (p, a), (q, b) in combinations(owners, 2):
        if p.startswith(q) or q.startswith(p):
            raise UserError("Two endpoint prefixes share ICD-10 codes",
                            where=f"{a} {p} and {b} {q}",
                            hint="Make the prefixes disjoint: a code may belong to one "
                                 "group, through one prefix.")
    return clean


def _in_groups(t: ir.Table, column: str, groups: dict[str, tuple[str, ...]]) -> ir.Table:
    """The rows of ``t`` whose code in ``column`` falls in a group, with ``endpoint``.

    Codes are compared without dots, in upper case, by an equality join on their first
    characters (one join per prefix length), which DuckDB runs far faster than a chain
    of prefix tests.
    """
    code = t[column].strip().upper().replace(".", "")
    owners = [(p, name) for name, prefixes in groups.items() for p in prefixes]
    parts = []
    for length in sorted({len(p) for p, _name in owners}):
        chosen = [(p, name) for p, name in owners if len(p) == length]
        prefixes = ibis.memtable({"_prefix": [p for p, _name in chosen],
                                  "endpoint": [name for _p, name in chosen]})
        keyed = t.mutate(_prefix=code.substr(0, length))
        parts.append(keyed.inner_join(prefixes, "_prefix").drop("_prefix"))
    return ibis.union(*parts, distinct=False)


def _prefixes(selection: str, group: str) -> tuple[str, ...]:
    try:
        return tuple(p.replace(".", "") for p in selection_prefixes(str(selection)))
    except UnknownIcd10 as exc:
        raise UserError(exc.what, where=f"endpoint group {group}", hint=exc.hint) from None


def _reports(con: ibis.BaseBackend, groups: dict[str, tuple[str, ...]],
             as_of: dt.date | None) -> ir.Table:
    """Every report of an endpoint group: pseudonym, centre, icd10, day, source, endpoint."""
    event, death = con.table("endpoint_event"), con.table("death")
    parts = (
        event.select("pseudonym", "centre", icd10=event.icd10.strip(),
                     day=event.event_date, source=event.source),
        death.filter(death.underlying_cause.notnull())
        .select("pseudonym", "centre", icd10=death.underlying_cause.strip(),
                day=death.death_date, source=death.source.fill_null("death_registry")),
    )
    reports = ibis.union(*parts, distinct=False).filter(_.day.notnull())
    if as_of is not None:
        reports = reports.filter(_.day <= ibis.literal(pd.Timestamp(as_of).date()))
    return _in_groups(reports, "icd10", groups)


def _episodes(con: ibis.BaseBackend, reports: ir.Table, episode_days: int) -> ir.Table:
    """Each distinct report day of a participant and group, with its episode's first day.

    Report days are first split where the gap to the previous day exceeds the window:
    such a gap always starts a new episode, and a run whose span fits in the window is one
    episode. Only the rare longer runs are walked episode by episode, one query per
    episode (not per row), each step materialised so queries stay flat.
    """
    window = ibis.interval(days=episode_days)
    days = reports.select(*_KEY, "day").distinct()
    by_day = ibis.window(group_by=list(_KEY), order_by="day")
    gap = days.day.delta(days.day.lag().over(by_day), unit="day")
    days = days.mutate(_new=(gap.isnull() | (gap > episode_days)).cast("int64"))
    days = days.mutate(_run=days._new.cumsum(group_by=list(_KEY), order_by="day"))
    run = ibis.window(group_by=[*_KEY, "_run"])
    days = days.mutate(_start=days.day.min().over(run), _end=days.day.max().over(run))
    days = ibis.memtable(con.to_pyarrow(days.drop("_new")))
    short = days._end <= days._start + window
    pieces = [days.filter(short).select(*_KEY, "day", first_date=days._start)]
    remaining = days.filter(~short).select(*_KEY, "_run", "day")
    while True:
        step = remaining.mutate(_first=remaining.day.min().over(run))
        table = con.to_pyarrow(step)
        if table.num_rows == 0:
            break
        step = ibis.memtable(table)
        within = step.day <= step._first + window
        pieces.append(step.filter(within).select(*_KEY, "day", first_date=step._first))
        remaining = step.filter(~within).select(*_KEY, "_run", "day")
    return ibis.union(*pieces, distinct=False)


# -- analysis table -----------------------------------------------------------------------
def confirmed_events(snapshot: Snapshot, ops: OpsDatabase | None) -> pd.DataFrame:
    """The confirmed endpoint events of a result on ``snapshot``, with the columns of
    :func:`~precimed.cohorts.adjudication.confirmed`.

    On a release: the copy of the decisions frozen in its ``confirmed_endpoint`` table when
    it was made, so later decisions never change its results. On the lake as it is, and on
    a release made before endpoints were frozen (its tables lack ``confirmed_endpoint``),
    the decisions as they stand in the operational database ``ops``.
    """
    name = CONFIRMED_ENDPOINT.name
    if snapshot.release is not None and name in snapshot.tables:
        columns = ["candidate_id", "pseudonym", "centre", "endpoint", "first_date"]
        frame = snapshot.to_arrow(name, columns).to_pandas()
        frame["first_date"] = pd.to_datetime(frame.first_date)
        return frame.sort_values("candidate_id", ignore_index=True)
    if ops is None:
        raise UserError("Endpoint decisions are needed but no operational database was given",
                        where="confirmed_events",
                        hint="Pass the OpsDatabase, or read a release made with "
                             "'precimed release create'.")
    return confirmed(ops)


def analysis_table(con: ibis.BaseBackend, events: pd.DataFrame, *, as_of: dt.date,
                   grace_days: int = GRACE_DAYS, waves: int | None = None,
                   groups: Mapping[str, Sequence[str]] = ENDPOINT_GROUPS,
                   baseline_history: bool = True) -> pd.DataFrame:
    """One row per participant enrolled by ``as_of`` and endpoint group, for survival
    analysis (see the module's definitions). ``events`` are the confirmed candidates
    (:func:`confirmed_events`).

    Columns: pseudonym, endpoint, prevalent (bool), event (Int64 1/0, null when
    prevalent), time_days (Int64 days from enrolment to the event or censoring, null when
    prevalent), censor_reason ("death", "lost", "end of follow-up" when event is 0),
    enrolment_date, event_date (the incident event), exit_date (event or censoring).
    Ordered by pseudonym, then group in the order of ``groups``.
    """
    clean = _checked(groups)
    cut = pd.Timestamp(as_of)
    people = observation(con, as_of=as_of, grace_days=grace_days, waves=waves)
    order = pd.DataFrame({"endpoint": list(clean), "_order": range(len(clean))})
    grid = people[["pseudonym", "enrolment_date", "end_date", "end_reason"]].merge(
        order, how="cross")
    events = events[events.endpoint.isin(list(clean)) & (events.first_date <= cut)]
    first = events.groupby(list(_KEY), as_index=False).first_date.min()
    grid = grid.merge(first, on=list(_KEY), how="left")
    prevalent = (grid.first_date <= grid.enrolment_date).to_numpy()
    if baseline_history:
        known = _history(con, clean, as_of).assign(_history=True)
        grid = grid.merge(known, on=list(_KEY), how="left")
        prevalent = prevalent | grid._history.notna().to_numpy()
    incident = ~prevalent & (grid.first_date <= grid.end_date).to_numpy()
    censored = ~prevalent & ~incident
    exit_date = grid.first_date.where(incident, grid.end_date).where(~prevalent)
    out = pd.DataFrame({
        "pseudonym": grid.pseudonym,
        "endpoint": grid.endpoint,
        "prevalent": prevalent,
        "event": pd.array(np.where(prevalent, pd.NA, incident.astype(int)), dtype="Int64"),
        "time_days": pd.array((exit_date - grid.enrolment_date).dt.days, dtype="Int64"),
        "censor_reason": grid.end_reason.where(censored, None),
        "enrolment_date": grid.enrolment_date,
        "event_date": grid.first_date.where(incident),
        "exit_date": exit_date,
        "_order": grid._order,
    })
    out = out.sort_values(["pseudonym", "_order"], kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


def _history(con: ibis.BaseBackend, groups: dict[str, tuple[str, ...]],
             as_of: dt.date) -> pd.DataFrame:
    """(pseudonym, endpoint) with a diagnosis of the group on or before enrolment."""
    condition = con.table("condition")
    people = con.table("participant").select(_p=_.pseudonym, _enrolled=_.enrolment_date)
    rows = condition.filter(_.diagnosed_on <= ibis.literal(pd.Timestamp(as_of).date()))
    rows = _in_groups(rows.select("pseudonym", "icd10", "diagnosed_on"), "icd10", groups)
    rows = rows.inner_join(people, rows.pseudonym == people._p).filter(
        _.diagnosed_on <= _._enrolled)
    return rows.select(*_KEY).distinct().to_pandas()


# -- incidence ----------------------------------------------------------------------------
def incidence(table: pd.DataFrame, observation: pd.DataFrame, *,
              by: Sequence[str] = INCIDENCE_BY, policy: Policy,
              secret: bytes | None = None) -> pd.DataFrame:
    """Incidence per 1,000 person-years with exact Poisson 95% limits, disclosure-safe.

    ``table`` is :func:`analysis_table`'s result and ``observation`` that of
    :func:`precimed.cohorts.follow_up.observation` for the same ``as_of``; ``by`` names
    observation columns, or ``age_band`` (age at enrolment in whole years, from the birth
    year and month, banded by :data:`~precimed.standard.ages.AGE_BANDS`). Missing labels
    read "Unknown". Per endpoint, one row per group of ``by`` and one per margin
    (labelled "Total"). Columns: endpoint, the ``by`` columns, events (Int64, null when
    suppressed), person_years, rate, ci_lower, ci_upper (per 1,000 person-years, NaN when
    suppressed or without person-time), suppressed, reason (SMALL or SECONDARY when
    suppressed, else None).

    With ``secret`` (the platform's record-key secret, :mod:`precimed.deid.cellkey`) each
    event count gets its cell key: the events are people, so the key is the sum of the
    record keys of the people with an event in the cell, and a policy that perturbs adds
    the cell-key noise before rounding. Without it, such a policy only rounds.

    Person-years are published as the policy rounds them (:meth:`Policy.publish_person_years`:
    to the setting ``disclosure_person_years`` in the perturbed tier, as computed in the
    exact tier), and the rate and its limits are computed from the published events and
    person-years, so they tell nothing the published figures do not.
    """
    by = list(by)
    missing = [c for c in ("pseudonym", "endpoint", "prevalent", "event", "time_days")
               if c not in table.columns]
    if missing:
        raise UserError("The analysis table lacks columns", where=", ".join(missing),
                        hint="Pass the frame returned by precimed.cohorts.analysis_table().")
    people = _labelled(observation, by)
    at_risk = table.loc[~table.prevalent.astype(bool), ["pseudonym", "endpoint", "event",
                                                        "time_days"]]
    at_risk = at_risk.merge(people, on="pseudonym", how="inner")
    at_risk["person_years"] = at_risk.time_days.astype(float) / YEAR_DAYS
    at_risk["event"] = at_risk.event.astype("int64")
    at_risk["_key"] = np.zeros(len(at_risk), dtype=np.int64)
    if secret is not None:  # only the people with an event are members of a count
        had = at_risk.event.to_numpy() == 1
        at_risk.loc[had, "_key"] = record_keys(at_risk.pseudonym[had].tolist(),
                                               secret).astype(np.int64)
    chi2 = _chi2()
    frames = []
    for endpoint in pd.unique(table.endpoint):  # one small table per endpoint
        rows = at_risk[at_risk.endpoint == endpoint]
        if by:
            cells = (rows.groupby(by, as_index=False, sort=True)
                     .agg(events=("event", "sum"), person_years=("person_years", "sum"),
                          _key=("_key", "sum")))
            cells["_key"] = cells._key % KEY_SPACE
            published = protect_counts(cells[[*by, "events", "_key"]], by=by,
                                       count="events", policy=policy, margins=True,
                                       total_label=TOTAL,
                                       key=None if secret is None else "_key")
            published = published.merge(_with_margins(cells, by), on=by, how="left")
        else:
            events, years = int(rows.event.sum()), float(rows.person_years.sum())
            key = None if secret is None else int(rows._key.sum()) % KEY_SPACE
            cell = publish_count(events, policy=policy, key=key)
            published = pd.DataFrame({
                "events": pd.array([cell.value], "Int64"),
                "suppressed": [cell.reason is not None],
                "reason": pd.Series([cell.reason], dtype=object), "person_years": [years]})
        published.insert(0, "endpoint", endpoint)
        frames.append(published)
    columns = ["endpoint", *by, "events", "person_years", "rate", "ci_lower", "ci_upper",
               "suppressed", "reason"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    # rounded in the perturbed tier; the rates below are computed from what is published
    out["person_years"] = [policy.publish_person_years(y)
                           for y in out.person_years.fillna(0.0).tolist()]
    k = out.events.astype("float64").to_numpy()  # NaN where suppressed
    years = out.person_years.to_numpy()
    scale = np.where(years > 0, 1000.0 / np.where(years > 0, years, 1.0), np.nan)
    with np.errstate(invalid="ignore"):
        lower = np.where(k > 0, chi2.ppf(0.025, 2 * k) / 2, 0.0)
        upper = chi2.ppf(0.975, 2 * k + 2) / 2
    out["rate"] = k * scale
    out["ci_lower"] = np.where(np.isnan(k), np.nan, lower) * scale
    out["ci_upper"] = upper * scale
    return out[columns]


def age_band(birth_year_month: pd.Series, on: pd.Series) -> pd.Series:
    """The AGE_BANDS label of the age on ``on``, in whole years counted to the month (the
    birth day is not kept); "Unknown" without a birth year and month."""
    parts = birth_year_month.astype("string").str.extract(r"^(\d{4})-(\d{2})$")
    year = pd.to_numeric(parts[0], errors="coerce")
    month = pd.to_numeric(parts[1], errors="coerce")
    when = pd.to_datetime(on)
    months = (when.dt.year - year) * 12 + (when.dt.month - month)
    age = np.floor(months / 12)
    edges = [b.low for b in AGE_BANDS] + [np.inf]
    bands = pd.cut(age, edges, right=False, labels=[b.label for b in AGE_BANDS])
    return bands.astype(object).where(bands.notna(), UNKNOWN).astype(str)


def _labelled(observation: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    people = observation[["pseudonym"]].copy()
    for column in by:
        if column == "age_band":
            people[column] = age_band(observation.birth_year_month,
                                      observation.enrolment_date)
        elif column in observation.columns:
            values = observation[column]
            people[column] = values.astype(object).where(values.notna(), UNKNOWN).astype(str)
        else:
            raise UserError("Incidence cannot be split by this column", where=column,
                            hint="Use age_band or a column of observation(), such as "
                                 "region, sex, centre or cohort.")
    return people


def _with_margins(cells: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Person-years of every cell and every margin (collapsed columns read "Total")."""
    frames = []
    for size in range(len(by) + 1):
        for kept in combinations(by, size):
            if kept:
                part = cells.groupby(list(kept), as_index=False).person_years.sum()
            else:
                part = pd.DataFrame({"person_years": [cells.person_years.sum()]})
            for column in by:
                if column not in kept:
                    part[column] = TOTAL
            frames.append(part[[*by, "person_years"]])
    return pd.concat(frames, ignore_index=True)


def _chi2():
    try:
        from scipy.stats import chi2
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise UserError("Exact Poisson confidence limits need SciPy", where="incidence",
                        hint="Install it: pip install scipy") from exc
    return chi2
