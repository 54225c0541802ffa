"""Compile a cohort definition to Ibis and run it on DuckDB against a release.

Each criterion becomes a table of qualifying pseudonyms; the cohort after criterion k is
the participants semi-joined with the first k of them. Values from the definition go into
Ibis expressions as literals: no SQL text is ever built from user input.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pandas as pd

from precimed.errors import UserError
from precimed.query.model import (
    AgeAtEnrolment,
    AssayAvailable,
    CohortDefinition,
    Criterion,
    Diagnosis,
    ExposureIs,
    MeasurementIn,
    Not,
    ParticipantIs,
    SpecimenAvailable,
    Window,
)
from precimed.standard import MEASUREMENT_ITEMS
from precimed.standard.icd10 import selection_prefixes


@dataclass(frozen=True)
class Attrition:
    """One step: its label, its true count and, when record keys were given, its cell
    key (the members' record keys summed modulo 2**32; precimed.deid.cellkey)."""

    label: str
    count: int
    key: int | None = None


def age_at_enrolment(p: ibis.Table) -> ibis.Value:
    """Whole years at enrolment, to the month (birth day is kept only as year-month).
    The platform's one definition: cohort criteria, QC age bands and incidence use it."""
    # integer arithmetic on "YYYY-MM": parsing a date per row costs more than the count
    year = p.birth_year_month.substr(0, 4).cast("int32")
    month = p.birth_year_month.substr(5, 2).cast("int32")
    months = (p.enrolment_date.year() - year) * 12 + (p.enrolment_date.month() - month)
    return (months / 12).floor().cast("int64")


def _needs_dates(window: Window) -> bool:
    return bool(window.anchor) or (
        not window.baseline and (window.start is not None or window.end is not None))


def _in_window(days: ibis.Value | None, window: Window, wave: ibis.Value | None
               ) -> ibis.Value:
    if window.baseline:  # the baseline survey; for a diagnosis, on or before enrolment
        return wave.fill_null(-1) == 0 if wave is not None else days <= 0
    conditions = [ibis.literal(True)]
    if window.start is not None:
        conditions.append(days >= window.start)
    if window.end is not None:
        conditions.append(days <= window.end)
    return ibis.and_(*conditions)


def _dated(con, t: ibis.Table, date: str, window: Window, wave: str | None) -> ibis.Table:
    """Rows (already narrowed to the criterion's item) in the window. Only windows in days
    need the index date; baseline and open windows join nothing."""
    if not _needs_dates(window) and not (window.baseline and wave is None):
        return t.filter(_in_window(None, window, t[wave] if wave else None)) \
            if window.baseline else t
    index = _index_dates(con, window)
    j = t.inner_join(index, t.pseudonym == index.i_pseudonym)
    days = j[date].delta(j.i_date, unit="day")
    return j.filter(_in_window(days, window, j[wave] if wave else None))


def _index_dates(con: ibis.BaseBackend, window: Window) -> ibis.Table:
    """Each participant's index date: enrolment, or the first anchor diagnosis."""
    if not window.anchor:
        p = con.table("participant")
        return p.select(i_pseudonym=p.pseudonym, i_date=p.enrolment_date)
    table, date = (("condition", "diagnosed_on") if window.anchor_source == "condition"
                   else ("endpoint_event", "event_date"))
    a = con.table(table)
    a = a.filter(_selected(a.icd10, window.anchor), a[date].notnull())
    return a.group_by(i_pseudonym=a.pseudonym).agg(i_date=a[date].min())


def _selected(code: ibis.Value, selections: tuple[str, ...]) -> ibis.Value:
    """Codes (canonical, as the lake holds them) that fall in one of the selections: the
    standard's prefixes, whole categories by one set lookup (a range such as A00-B99 is
    some 170 of them), longer or shorter prefixes one test each."""
    prefixes = dict.fromkeys(p for s in selections for p in selection_prefixes(s))
    categories = [p for p in prefixes if len(p) == 3]
    tests = [code.startswith(p) for p in prefixes if len(p) != 3]
    if categories:
        tests.append(code.substr(0, 3).isin(categories))
    return ibis.or_(*tests)


def qualifying(con: ibis.BaseBackend, criterion: Criterion) -> ibis.Table:
    """Pseudonyms meeting one criterion (a one-column table, possibly with repeats)."""
    if isinstance(criterion, ParticipantIs):
        p = con.table("participant")
        return p.filter(p[criterion.field].isin(list(criterion.values))).select("pseudonym")
    if isinstance(criterion, AgeAtEnrolment):
        p = con.table("participant")
        age = age_at_enrolment(p)
        conditions = [age.notnull()]
        if criterion.min is not None:
            conditions.append(age >= criterion.min)
        if criterion.max is not None:
            conditions.append(age < criterion.max)
        return p.filter(*conditions).select("pseudonym")
    if isinstance(criterion, MeasurementIn):
        m = con.table("measurement")
        conditions = [m.code == criterion.code, m.value.notnull()]
        if criterion.min is not None:
            conditions.append(m.value >= criterion.min)
        if criterion.max is not None:
            conditions.append(m.value <= criterion.max)
        m = _dated(con, m.filter(*conditions), "measured_on", criterion.window, "wave")
        return m.select("pseudonym")
    if isinstance(criterion, ExposureIs):
        e = con.table("exposure")
        conditions = [e.code == criterion.code]
        if criterion.values:
            conditions.append(e.value_code.isin(list(criterion.values)))
        else:
            conditions.append(e.value.notnull())
            if criterion.min is not None:
                conditions.append(e.value >= criterion.min)
            if criterion.max is not None:
                conditions.append(e.value <= criterion.max)
        e = _dated(con, e.filter(*conditions), "assessed_on", criterion.window, "wave")
        return e.select("pseudonym")
    if isinstance(criterion, Diagnosis):
        table, date = (("condition", "diagnosed_on") if criterion.source == "condition"
                       else ("endpoint_event", "event_date"))
        d = con.table(table)
        d = d.filter(_selected(d.icd10, criterion.codes))
        return _dated(con, d, date, criterion.window, None).select("pseudonym")
    if isinstance(criterion, SpecimenAvailable):
        s = con.table("specimen")
        conditions = [s.specimen_type.isin(list(criterion.types))]
        if criterion.min_volume_ml is not None:
            conditions.append(s.volume_ml >= criterion.min_volume_ml)
        return s.filter(*conditions).select("pseudonym")
    if isinstance(criterion, AssayAvailable):
        a = con.table("assay")
        return a.filter(a.assay_type.isin(list(criterion.types))).select("pseudonym")
    if isinstance(criterion, Not):
        p = con.table("participant").select("pseudonym")
        inner = qualifying(con, criterion.criterion)
        inner = inner.select(q=inner.pseudonym)
        return p.anti_join(inner, p.pseudonym == inner.q)
    raise TypeError(f"no compiler for {type(criterion).__name__}")


def cohort_table(con: ibis.BaseBackend, definition: CohortDefinition,
                 upto: int | None = None) -> ibis.Table:
    """The participants meeting the first ``upto`` criteria (all by default)."""
    members = con.table("participant")
    for k, criterion in enumerate(definition.criteria[:upto]):
        hits = qualifying(con, criterion).view()  # a criterion may repeat
        hits = hits.select(**{f"q{k}": hits.pseudonym})
        members = members.semi_join(hits, members.pseudonym == hits[f"q{k}"])
    return members


def _sql(con: ibis.BaseBackend, definition: CohortDefinition, upto: int | None,
         keys: str | None = None) -> str:
    """The count's SQL, compiled by Ibis from the definition and kept: Ibis takes longer
    to build and compile a query than DuckDB takes to answer it. The text comes from our
    own expression, values as literals; the definition is frozen, so it keys the cache.

    With ``keys`` (the name of a registered table of pseudonym and record_key), the
    query returns the count and the sum of the members' record keys."""
    # keyed by the criteria counted, so steps shared with another definition are reused
    key = (definition.criteria[:upto] if upto is not None else definition.criteria, keys)
    if len(_SQL) > 64:  # one entry per connection; connections come and go
        _SQL.clear()
    cache = _SQL.setdefault(id(con), {})
    if key not in cache:
        if len(cache) > 512:
            cache.clear()
        cohort = cohort_table(con, definition, upto)
        if keys is None:
            expr = cohort.count()
        else:
            k = con.table(keys)
            k = k.select(k_pseudonym=k.pseudonym, k_key=k.record_key.cast("int64"))
            j = cohort.inner_join(k, cohort.pseudonym == k.k_pseudonym)
            expr = j.aggregate(n=j.count(), k=j.k_key.sum().fill_null(0))
        cache[key] = str(con.compile(expr))
    return cache[key]


_SQL: dict[int, dict] = {}


def count(con: ibis.BaseBackend, definition: CohortDefinition) -> int:
    return int(con.raw_sql(_sql(con, definition, None)).fetchone()[0])


def attrition(con: ibis.BaseBackend, definition: CohortDefinition, *,
              keys: str | None = None) -> list[Attrition]:
    """Counts after each criterion, starting from all participants (true counts: the
    caller passes them through disclosure control before they leave the platform).
    Every step's count is one subquery of a single statement: one round trip. With
    ``keys`` (a registered table of pseudonym and record_key) each step also gets its
    cell key, computed in the same query."""
    labels = ["all participants", *(c.label() for c in definition.criteria)]
    steps = [_sql(con, definition, k, keys) for k in range(len(definition.criteria) + 1)]
    if keys is None:
        row = con.raw_sql("SELECT " + ", ".join(f"({sql})" for sql in steps)).fetchone()
        return [Attrition(label, int(n)) for label, n in zip(labels, row, strict=True)]
    union = " UNION ALL ".join(f"SELECT {i} AS step, n, k FROM ({sql})"
                               for i, sql in enumerate(steps))
    rows = sorted(con.raw_sql(union).fetchall())
    return [Attrition(label, int(n), int(k) % 2 ** 32)
            for label, (_, n, k) in zip(labels, rows, strict=True)]


def members(con: ibis.BaseBackend, definition: CohortDefinition) -> list[str]:
    table = cohort_table(con, definition).select("pseudonym").order_by("pseudonym")
    return con.execute(table).pseudonym.tolist()


def extract(con: ibis.BaseBackend, definition: CohortDefinition,
            variables: list[str]) -> pd.DataFrame:
    """One row per member: participant fields, and each measurement's baseline value
    (wave 0; else the earliest) in its canonical unit."""
    cohort_rows = cohort_table(con, definition)
    cohort_rows = cohort_rows.mutate(age=age_at_enrolment(cohort_rows))
    variables = [v for v in dict.fromkeys(variables) if v != "pseudonym"]  # once each
    fields = [v for v in variables if v in cohort_rows.columns]
    codes = [v for v in variables if v in MEASUREMENT_ITEMS]
    unknown = [v for v in variables if v not in fields and v not in codes]
    if unknown:
        raise UserError(f"Unknown variable {unknown[0]!r}", where="--variables",
                        hint="Use participant fields (sex, age, region, centre, cohort, "
                             "enrolment_date, ...) or measurement codes (SBP, BMI, ...).")
    out = cohort_rows.select("pseudonym", *fields)
    m = con.table("measurement")
    for code in codes:
        values = m.filter(m.code == code, m.value.notnull())
        w = ibis.window(group_by=values.pseudonym,
                        order_by=[values.wave.fill_null(99), values.measured_on])
        first = values.mutate(_rank=ibis.row_number().over(w)).filter(lambda t: t._rank == 0)
        first = first.select(v_pseudonym=first.pseudonym, **{code: first.value})
        out = out.left_join(first, out.pseudonym == first.v_pseudonym).drop("v_pseudonym")
    return con.execute(out.order_by("pseudonym"))
