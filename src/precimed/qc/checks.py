"""Check types: each builds Ibis queries over the rows under check.

A check type is the parameterised query behind the ``[checks.ID]`` entries of a rule
set. ``build`` returns two tables, never Python loops over rows:

- ``failing``: one row per failing row, with ``instance`` (what exactly is checked, for
  example ``measurement.value[SBP]``), ``table``, ``field``, ``_file`` and ``_row`` (where
  the row came from), ``pseudonym``, ``value`` (as text) and ``detail`` (why it fails);
- ``checked``: per instance, how many rows were checked (``n``), the rate's denominator.

Ranges, units, vocabularies and fields come from :mod:`precimed.standard`; the rule set
gives only thresholds, severities, parameters and overrides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import pandas as pd
from ibis import _

from precimed.errors import UserError
from precimed.qc.rules import CheckSpec, RangeRule
from precimed.query.compile import age_at_enrolment
from precimed.standard import MEASUREMENT_ITEMS, TABLES, vocabulary
from precimed.standard.ages import AGE_BANDS
from precimed.standard.catalogue import unit_key

# What to do about a failing row, per check type.
HINTS = {
    "uniqueness": "Keep one of the rows, or correct the one that is wrong.",
    "referential": "Send the participant row first (in this package or an earlier one), "
                   "or correct the resident ID.",
    "field_reference": "Send the referenced row first (in this package or an earlier one), "
                       "or correct the ID.",
    "possible_range": "Check the value and its unit; the data dictionary gives each item's "
                      "unit and limits.",
    "plausible_range": "Check the value against the source record; if it is right, leave it: "
                       "the check only fails when many values are implausible.",
    "unit_plausibility": "Send the unit the centre's laboratory reports, or convert the value "
                         "to the unit written beside it.",
    "blood_pressure_order": "Check whether systolic and diastolic were swapped.",
    "bmi_consistency": "Recompute BMI from weight (kg) / height (m)², or correct weight or "
                       "height.",
    "date_order": "Check the date and the participant's birth, enrolment and death dates.",
    "not_null": "Fill the field where the source record has it.",
    "measurement_present": "Send the measurement if it was taken; the protocol requires it.",
    "follow_up_wave": "Record every contact attempt of the wave, reached or not.",
    "distribution_drift": "Compare this centre's method, unit and calibration with the "
                          "others; see the distribution plots in the report.",
}

FAILING_COLUMNS = ("instance", "table", "field", "_file", "_row", "pseudonym", "value",
                   "detail")


@dataclass
class QcData:
    """What the checks read: the rows under check and the platform around them.

    ``tables`` hold the rows being scored (a staged submission, or a centre's rows in the
    lake when re-scoring), each with ``_file`` and ``_row`` naming where a row came from.
    ``known`` holds the centre's rows already in the lake that are not under check (empty
    when re-scoring), so a follow-up package can refer to people enrolled earlier.
    ``others`` holds the other centres' rows in the lake. ``headers`` maps a file to its
    headers by standard field, so problems name the centre's column; ``invalid`` lists
    the cells (``_file``, ``_row``, ``field``) whose value did not convert: ingest has
    reported them, so no check here reports them again as empty.
    """

    con: ibis.BaseBackend
    centre: str
    tables: dict[str, ibis.Table]
    known: dict[str, ibis.Table]
    others: dict[str, ibis.Table]
    ranges: tuple[RangeRule, ...] = ()
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    invalid: ibis.Table | None = None
    _cache: dict = field(default_factory=dict)

    def header(self, file: str, field_name: str) -> str:
        """The centre's header of a field in a file (the field if not known)."""
        return self.headers.get(file, {}).get(field_name, field_name)

    def mine(self, table: str, *columns: str) -> ibis.Table:
        """Rows of the centre under check and already known, with the given columns."""
        parts = [t.select(*columns) for t in (self.tables.get(table), self.known.get(table))
                 if t is not None]
        return parts[0] if len(parts) == 1 else parts[0].union(parts[1], distinct=False)

    @property
    def people(self) -> ibis.Table:
        """The centre's participants: sex, age band, native province, birth, enrolment."""
        if "people" not in self._cache:
            p = self.mine("participant", "pseudonym", "sex", "birth_year_month",
                          "native_province", "enrolment_date", "_file", "_row")
            p = p.distinct(on="pseudonym", keep="first")
            birth = (p.birth_year_month + "-01").cast("date")
            age = age_at_enrolment(p)
            band = ibis.cases(*[(age >= b.low if b.high is None else age.between(b.low, b.high - 1),
                                 b.label) for b in AGE_BANDS], else_="")
            people = p.mutate(birth=birth, age=age, band=band)
            # materialised once: most checks join it
            name = f"qc_people_{id(self):x}"
            self.con.con.register(name, self.con.to_pyarrow(people))
            self._cache["people"] = self.con.table(name)
        return self._cache["people"]

    @property
    def deaths(self) -> ibis.Table:
        if "deaths" not in self._cache:
            d = self.mine("death", "pseudonym", "death_date")
            self._cache["deaths"] = d.group_by("pseudonym").agg(death_date=_.death_date.min())
        return self._cache["deaths"]


@dataclass(frozen=True)
class Built:
    failing: ibis.Table
    checked: ibis.Table


@dataclass(frozen=True)
class CheckType:
    """A parameterised query. ``reads`` names the tables whose rows it checks (None:
    every table), ``judged_by`` the tables a row is judged against: without them the
    check cannot run at all (every row would look like an orphan, or undated)."""

    name: str
    defaults: dict
    build_fn: Callable[[QcData, dict], Built | None]
    doc: str
    reads: tuple[str, ...] | Callable[[dict], tuple[str, ...]] | None = None
    judged_by: tuple[str, ...] = ()

    def tables_read(self, params: dict) -> tuple[str, ...] | None:
        """The tables whose rows this check looks at under ``params`` (None: all)."""
        reads = self.reads(params) if callable(self.reads) else self.reads
        return None if reads is None else tuple(dict.fromkeys((*reads, *self.judged_by)))

    def validate(self, params: dict, at: str) -> None:
        for key, value in params.items():
            if key not in self.defaults:
                raise UserError(f"Check type {self.name} has no parameter {key!r}", where=at,
                                hint="Parameters: " + (", ".join(self.defaults) or "none"))
            expected = type(self.defaults[key])
            if expected is float and isinstance(value, int):
                continue
            if not isinstance(value, expected):
                raise UserError(f"Parameter {key} must be a {expected.__name__}", where=at,
                                hint=f"Default: {self.defaults[key]!r}")
        for code in params.get("items", ()):
            if code not in MEASUREMENT_ITEMS:
                raise UserError(f"Unknown measurement item {code!r}", where=at,
                                hint="Use codes of the measurement catalogue.")
        if "table" in params:
            table = TABLES.get(params["table"])
            if table is None:
                raise UserError(f"Unknown table {params['table']!r}", where=at,
                                hint="Tables: " + ", ".join(TABLES))
            for name in params.get("fields", ()):
                if name not in table.field_names:
                    raise UserError(f"Table {table.name} has no field {name!r}", where=at,
                                    hint="Fields: " + ", ".join(table.field_names))

    def build(self, data: QcData, spec: CheckSpec) -> Built | None:
        return self.build_fn(data, {**self.defaults, **spec.params})


CHECK_TYPES: dict[str, CheckType] = {}


def check_type(*, reads: tuple[str, ...] | Callable[[dict], tuple[str, ...]] | None = None,
               judged_by: tuple[str, ...] = (), **defaults):
    def register(fn):
        name = fn.__name__.lstrip("_")
        CHECK_TYPES[name] = CheckType(name, defaults, fn, (fn.__doc__ or "").strip(),
                                      reads, judged_by)
        return fn
    return register


# -- helpers ---------------------------------------------------------------------------

def _text(value) -> ibis.Value:
    return value.cast("string").fill_null("")


def _failing(t: ibis.Table, *, instance, table: str, field_name, value, detail) -> ibis.Table:
    return t.select(instance=instance, table=ibis.literal(table), field=field_name,
                    _file=t._file, _row=t._row.cast("int64"),
                    pseudonym=t.pseudonym.fill_null(""), value=_text(value), detail=detail)


def _checked(t: ibis.Table, *, instance, table: str, field_name) -> ibis.Table:
    return (t.mutate(instance=instance, table=ibis.literal(table), field=field_name)
            .group_by(["instance", "table", "field"]).agg(n=_.count()))


def _union(parts: list[ibis.Table]) -> ibis.Table | None:
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out


def _combine(built: list[Built | None]) -> Built | None:
    built = [b for b in built if b is not None]
    if not built:
        return None
    return Built(_union([b.failing for b in built]), _union([b.checked for b in built]))


def _item_instance(t: ibis.Table) -> ibis.Value:
    return "measurement.value[" + t.code + "]"


def _numeric_measurements(data: QcData) -> ibis.Table | None:
    m = data.tables.get("measurement")
    return None if m is None else m.filter(m.value.notnull(), m.code.notnull())


def _fmt(value: ibis.Value) -> ibis.Value:
    """A number as people write it: 5.4, 130, not 130.0."""
    rounded = value.round(2)
    return ibis.cases((rounded == rounded.round(0), rounded.cast("int64").cast("string")),
                      else_=rounded.cast("string"))


# -- uniqueness and references -----------------------------------------------------------

NOT_ENROLLABLE = ("this person can not be enrolled at this centre; a platform "
                  "administrator can tell you why")


@check_type()
def _uniqueness(data: QcData, params: dict) -> Built | None:
    """The same record twice (same natural key) in the rows under check, or a person
    already enrolled through another centre."""
    built = []
    for name, t in data.tables.items():
        keyed = t.filter(t.pseudonym.notnull())
        # rank only the rows whose key repeats: a window over every row is the slow part
        repeated = keyed.group_by("row_key").agg(_n=_.count()).filter(_._n > 1)
        repeated = repeated.select(r_key=repeated.row_key)
        twice = keyed.semi_join(repeated, keyed.row_key == repeated.r_key)
        w = ibis.window(group_by=twice.row_key, order_by=[twice._file, twice._row])
        ranked = twice.mutate(_rank=ibis.row_number().over(w),
                              _first_file=twice._file.first().over(w),
                              _first_row=twice._row.first().over(w))
        dupes = ranked.filter(ranked._rank > 0)
        key = ", ".join(TABLES[name].key)
        what = ("the same person appears twice" if name == "participant"
                else f"the same record appears twice (same {key})")
        built.append(Built(
            _failing(dupes, instance=ibis.literal(name), table=name,
                     field_name=ibis.literal(""), value=ibis.literal(""),
                     detail=f"{what}: duplicate of " + dupes._first_file + " row "
                     + dupes._first_row.cast("string")),
            _checked(keyed, instance=ibis.literal(name), table=name,
                     field_name=ibis.literal(""))))
    incoming, elsewhere = data.tables.get("participant"), data.others.get("participant")
    if incoming is not None and elsewhere is not None:
        # The message names no centre and does not say "enrolled elsewhere": a data
        # manager could otherwise test anyone's resident ID for membership of another
        # centre's (perhaps psychiatric) cohort. An administrator sees why from the lake.
        other = elsewhere.select(o_pseudonym=elsewhere.pseudonym)
        clash = incoming.inner_join(other, incoming.pseudonym == other.o_pseudonym)
        instance = ibis.literal("participant (enrolment)")
        built.append(Built(
            _failing(clash, instance=instance, table="participant",
                     field_name=ibis.literal("resident_id"), value=ibis.literal(""),
                     detail=ibis.literal(NOT_ENROLLABLE)),
            _checked(incoming, instance=instance, table="participant",
                     field_name=ibis.literal("resident_id"))))
    return _combine(built)


@check_type(judged_by=("participant",))
def _referential(data: QcData, params: dict) -> Built | None:
    """Every row of every table names a participant of this centre (new or known)."""
    people = data.people.select(p_pseudonym=data.people.pseudonym)
    built = []
    for name, t in data.tables.items():
        if name == "participant":
            continue
        keyed = t.filter(t.pseudonym.notnull())
        orphans = keyed.anti_join(people, keyed.pseudonym == people.p_pseudonym)
        instance = ibis.literal(f"{name} → participant")
        built.append(Built(
            _failing(orphans, instance=instance, table=name,
                     field_name=ibis.literal("resident_id"), value=ibis.literal(""),
                     detail=ibis.literal("the resident ID is not a participant of this "
                                         "centre; send the participant row first")),
            _checked(keyed, instance=instance, table=name,
                     field_name=ibis.literal("resident_id"))))
    return _combine(built)


def _references() -> tuple[tuple[str, str, str, str], ...]:
    """(table, field, referenced table, referenced field) for every field of the standard
    that names a record of another table."""
    return tuple((t.name, f.name, *f.references) for t in TABLES.values() for f in t.fields
                 if f.references)


@check_type(reads=tuple(r[0] for r in _references()),
            judged_by=tuple(dict.fromkeys(r[2] for r in _references())))
def _field_reference(data: QcData, params: dict) -> Built | None:
    """Fields that name another record (assay.specimen_id) name one of this centre's,
    sent in this package or an earlier one."""
    built = []
    for name, column, target, key in _references():
        t = data.tables.get(name)
        if t is None:
            continue
        keyed = t.filter(t[column].notnull())
        known = data.mine(target, key)
        known = known.select(r_key=known[key]).distinct()
        orphans = keyed.anti_join(known, keyed[column] == known.r_key)
        instance = ibis.literal(f"{name}.{column} → {target}")
        built.append(Built(
            _failing(orphans, instance=instance, table=name, field_name=ibis.literal(column),
                     value=orphans[column],
                     detail=ibis.literal(f"no {target} of this centre has this {key}; send "
                                         f"the {target} row first, or correct the {column}")),
            _checked(keyed, instance=instance, table=name, field_name=ibis.literal(column))))
    return _combine(built)


# -- ranges and units ----------------------------------------------------------------------

def _limits_table() -> ibis.Table:
    return ibis.memtable(pd.DataFrame(
        [(c, i.limits[0], i.limits[1], i.plausible[0], i.plausible[1], i.unit)
         for c, i in MEASUREMENT_ITEMS.items()],
        columns=["l_code", "l_low", "l_high", "l_plow", "l_phigh", "l_unit"]))


@check_type(reads=("measurement",))
def _possible_range(data: QcData, params: dict) -> Built | None:
    """Measurements outside the item's physically possible limits (in its canonical unit)."""
    m = _numeric_measurements(data)
    if m is None:
        return None
    limits = _limits_table()
    j = m.inner_join(limits, m.code == limits.l_code)
    bad = j.filter((j.value < j.l_low) | (j.value > j.l_high))
    detail = (bad.code + " " + _fmt(bad.value) + " " + bad.l_unit + " is outside the possible "
              "range " + _fmt(bad.l_low) + "-" + _fmt(bad.l_high) + " " + bad.l_unit)
    return Built(
        _failing(bad, instance=_item_instance(bad), table="measurement",
                 field_name=ibis.literal("value"), value=_fmt(bad.value), detail=detail),
        _checked(m, instance=_item_instance(m), table="measurement",
                 field_name=ibis.literal("value")))


def resolved_ranges(rules: tuple[RangeRule, ...]) -> pd.DataFrame:
    """Plausible range per (item, sex, age band, native province '*' or a code).

    Starts from the standard (sex-specific where it has them) and applies the rule set's
    range rules in order, later rules winning.
    """
    sexes = [*vocabulary("sex").codes, ""]
    bands = [*AGE_BANDS, None]
    ranges: dict[tuple[str, str, str, str], tuple[float, float]] = {}
    for code, item in MEASUREMENT_ITEMS.items():
        for sex in sexes:
            plausible = {"1": item.plausible_male, "2": item.plausible_female}.get(sex)
            for band in bands:
                ranges[(code, sex, band.label if band else "", "*")] = plausible or item.plausible
    for rule in rules:
        for province in rule.provinces or ("*",):
            for sex in rule.sexes or sexes:
                for band in bands:
                    if rule.ages is not None and (band is None or not band.within(*rule.ages)):
                        continue
                    ranges[(rule.item, sex, band.label if band else "", province)] = (
                        rule.low, rule.high)
    # a province's rows start from the general ones, so every key exists for it too
    provinces = {k[3] for k in ranges} - {"*"}
    for (code, sex, band, province), value in list(ranges.items()):
        if province == "*":
            for p in provinces:
                ranges.setdefault((code, sex, band, p), value)
    return pd.DataFrame([(*k, *v) for k, v in ranges.items()],
                        columns=["r_code", "r_sex", "r_band", "r_province", "r_low", "r_high"])


@check_type(reads=("measurement",), judged_by=("participant",))
def _plausible_range(data: QcData, params: dict) -> Built | None:
    """Measurements outside the plausible range for the person's sex and age band (and
    native province where the rule set says so); values outside the possible limits are
    left to possible_range."""
    m = _numeric_measurements(data)
    if m is None:
        return None
    people = data.people.select(q_pseudonym="pseudonym", q_sex="sex", q_band="band",
                                q_province="native_province")
    limits = _limits_table()
    ranges = resolved_ranges(data.ranges)
    general = ibis.memtable(ranges[ranges.r_province == "*"])
    by_province = ranges[ranges.r_province != "*"].rename(columns=lambda c: "s" + c[1:])
    j = m.inner_join(limits, m.code == limits.l_code).left_join(
        people, m.pseudonym == people.q_pseudonym)
    j = j.mutate(q_sex=j.q_sex.fill_null(""), q_band=j.q_band.fill_null(""),
                 q_province=j.q_province.fill_null("*"))
    j = j.filter(j.value.between(j.l_low, j.l_high))
    j = j.inner_join(general, [j.code == general.r_code, j.q_sex == general.r_sex,
                               j.q_band == general.r_band])
    if not by_province.empty:
        specific = ibis.memtable(by_province)
        j = j.left_join(specific, [j.code == specific.s_code, j.q_sex == specific.s_sex,
                                   j.q_band == specific.s_band,
                                   j.q_province == specific.s_province])
        low, high = j.s_low.fill_null(j.r_low), j.s_high.fill_null(j.r_high)
    else:
        low, high = j.r_low, j.r_high
    j = j.mutate(_low=low, _high=high)
    bad = j.filter((j.value < j._low) | (j.value > j._high))
    sex = ibis.cases((bad.q_sex == "1", "men"), (bad.q_sex == "2", "women"), else_="people")
    detail = (bad.code + " " + _fmt(bad.value) + " " + bad.l_unit + " is outside the plausible "
              "range " + _fmt(bad._low) + "-" + _fmt(bad._high) + " for " + sex
              + ibis.cases((bad.q_band != "", " aged " + bad.q_band), else_=""))
    return Built(
        _failing(bad, instance=_item_instance(bad), table="measurement",
                 field_name=ibis.literal("value"), value=_fmt(bad.value), detail=detail),
        _checked(j, instance=_item_instance(j), table="measurement",
                 field_name=ibis.literal("value")))


@check_type(reads=("measurement",))
def _unit_plausibility(data: QcData, params: dict) -> Built | None:
    """Values implausible in the unit they were sent in but plausible, and typical, if
    read in another accepted unit of the item: glucose in mg/dL labelled mmol/L, height
    in m labelled cm."""
    m = _numeric_measurements(data)
    if m is None:
        return None
    m = m.filter(m.submitted_unit.notnull())
    pairs = data.con.execute(m.select("code", "submitted_unit").distinct())
    rows = []
    for code, unit in pairs.itertuples(index=False):
        item = MEASUREMENT_ITEMS.get(code)
        sent = item.factor(unit) if item else None
        if sent is None:
            continue
        for other, factor in item.accepted_units_factors():
            if unit_key(other) != unit_key(unit) and factor != sent:
                rows.append((code, unit, other, factor / sent, *item.plausible, item.unit))
    if not rows:
        return Built(_failing(m.limit(0), instance=_item_instance(m), table="measurement",
                              field_name=ibis.literal("unit"), value=m.submitted_unit,
                              detail=ibis.literal("")),
                     _checked(m, instance=_item_instance(m), table="measurement",
                              field_name=ibis.literal("unit")))
    alternatives = ibis.memtable(pd.DataFrame(rows, columns=[
        "a_code", "a_unit", "a_other", "a_ratio", "a_low", "a_high", "a_canonical"]))
    j = m.inner_join(alternatives, [m.code == alternatives.a_code,
                                    m.submitted_unit == alternatives.a_unit])
    # Implausible as sent, plausible when read in the other unit, and nearer the middle
    # of the plausible range (log scale) by more than half the conversion's own distance:
    # a tail value such as ALT 2 U/L is not taken for µkat/L.
    j = j.filter(j.value > 0).mutate(_alt=j.value * j.a_ratio)
    middle = ((j.a_low * j.a_high).sqrt()).ln()
    sent, read = (j.value.ln() - middle).abs(), (j._alt.ln() - middle).abs()
    bad = j.filter(~j.value.between(j.a_low, j.a_high), j._alt.between(j.a_low, j.a_high),
                   read + j.a_ratio.ln().abs() / 2 < sent)
    bad = bad.group_by(["_file", "_row", "pseudonym", "code", "value", "submitted_unit",
                        "a_canonical"]).agg(a_other=bad.a_other.min(), _alt=bad._alt.min())
    detail = (bad.code + " " + _fmt(bad.value) + " " + bad.a_canonical + " (sent as "
              + bad.submitted_unit + ") is implausible, but reads as a plausible "
              + _fmt(bad._alt) + " " + bad.a_canonical + " if the number is in " + bad.a_other
              + ": the unit is probably wrong")
    return Built(
        _failing(bad, instance=_item_instance(bad), table="measurement",
                 field_name=ibis.literal("unit"), value=bad.submitted_unit, detail=detail),
        _checked(m, instance=_item_instance(m), table="measurement",
                 field_name=ibis.literal("unit")))


# -- cross-field ------------------------------------------------------------------------

def _item(m: ibis.Table, code: str, prefix: str, *extra: str) -> ibis.Table:
    rows = m.filter(m.code == code)
    return rows.select(**{f"{prefix}_pseudonym": rows.pseudonym, f"{prefix}_on": rows.measured_on,
                          f"{prefix}_value": rows.value},
                       **{c: rows[c] for c in extra})


@check_type(reads=("measurement",))
def _blood_pressure_order(data: QcData, params: dict) -> Built | None:
    """Systolic pressure must exceed diastolic pressure measured the same day."""
    m = _numeric_measurements(data)
    if m is None:
        return None
    s = _item(m, "SBP", "s", "_file", "_row", "pseudonym")
    d = _item(m, "DBP", "d")
    j = s.inner_join(d, [s.s_pseudonym == d.d_pseudonym, s.s_on == d.d_on])
    bad = j.filter(j.s_value <= j.d_value)
    instance = ibis.literal("measurement[SBP > DBP]")
    detail = ("systolic " + _fmt(bad.s_value) + " mmHg is not above diastolic "
              + _fmt(bad.d_value) + " mmHg measured the same day")
    return Built(
        _failing(bad, instance=instance, table="measurement", field_name=ibis.literal("value"),
                 value=_fmt(bad.s_value), detail=detail),
        _checked(j, instance=instance, table="measurement", field_name=ibis.literal("value")))


@check_type(reads=("measurement",), tolerance=1.0)
def _bmi_consistency(data: QcData, params: dict) -> Built | None:
    """BMI must equal weight / height² (kg/m²) within the tolerance, same day."""
    m = _numeric_measurements(data)
    if m is None:
        return None
    b = _item(m, "BMI", "b", "_file", "_row", "pseudonym")
    w, h = _item(m, "WEIGHT", "w"), _item(m, "HEIGHT", "h")
    j = b.inner_join(w, [b.b_pseudonym == w.w_pseudonym, b.b_on == w.w_on])
    j = j.inner_join(h, [j.b_pseudonym == h.h_pseudonym, j.b_on == h.h_on])
    j = j.filter(j.h_value > 0).mutate(_bmi=j.w_value / (j.h_value / 100) ** 2)
    bad = j.filter((j.b_value - j._bmi).abs() > params["tolerance"])
    instance = ibis.literal("measurement[BMI = WEIGHT / HEIGHT²]")
    detail = ("BMI " + _fmt(bad.b_value) + " does not match weight " + _fmt(bad.w_value)
              + " kg and height " + _fmt(bad.h_value) + " cm (" + _fmt(bad._bmi) + ")")
    return Built(
        _failing(bad, instance=instance, table="measurement", field_name=ibis.literal("value"),
                 value=_fmt(bad.b_value), detail=detail),
        _checked(j, instance=instance, table="measurement", field_name=ibis.literal("value")))


# -- dates ----------------------------------------------------------------------------

# (table, date field, not after death, not before enrolment when wave > 0 / always)
DATE_RULES: tuple[tuple[str, str, bool, str], ...] = (
    ("measurement", "measured_on", True, "follow_up"),
    ("exposure", "assessed_on", True, "follow_up"),
    ("visit", "visit_date", True, "follow_up"),
    ("specimen", "collected_on", True, ""),
    ("assay", "performed_on", False, ""),  # stored specimens are assayed after death too
    ("medication", "start_date", True, ""),
    ("condition", "diagnosed_on", True, ""),
    ("endpoint_event", "event_date", True, ""),
    ("follow_up_contact", "contact_date", False, "always"),
    ("death", "death_date", False, "always"),
)


@check_type(reads=tuple(rule[0] for rule in DATE_RULES), judged_by=("participant",))
def _date_order(data: QcData, params: dict) -> Built | None:
    """Dates not before birth (month), not after death, and follow-up dates and deaths
    not before enrolment."""
    people = data.people.select(q_pseudonym="pseudonym", q_birth="birth",
                                q_enrolled="enrolment_date")
    deaths = data.deaths.select(x_pseudonym="pseudonym", x_died="death_date")
    built = []
    for name, column, after_death, enrolment in DATE_RULES:
        t = data.tables.get(name)
        if t is None:
            continue
        t = t.filter(t[column].notnull(), t.pseudonym.notnull())
        j = t.left_join(people, t.pseudonym == people.q_pseudonym)
        j = j.left_join(deaths, j.pseudonym == deaths.x_pseudonym)
        date = j[column]
        rules = [(date < j.q_birth, "before the birth month")]
        if after_death:
            rules.append((date > j.x_died, "after the recorded death ("
                          + j.x_died.cast("string") + ")"))
        if enrolment == "always" or (enrolment == "follow_up" and "wave" in t.columns):
            before = date < j.q_enrolled
            if enrolment == "follow_up":
                before = before & (j.wave.fill_null(0) > 0)
            rules.append((before, "before enrolment (" + j.q_enrolled.cast("string") + ")"))
        reason = ibis.cases(*[(cond.fill_null(False), text) for cond, text in rules],
                            else_=None)
        j = j.mutate(_reason=reason)
        bad = j.filter(j._reason.notnull())
        instance = ibis.literal(f"{name}.{column}")
        built.append(Built(
            _failing(bad, instance=instance, table=name, field_name=ibis.literal(column),
                     value=bad[column].cast("string"),
                     detail=f"the {column.replace('_', ' ')} is " + bad._reason),
            _checked(j, instance=instance, table=name, field_name=ibis.literal(column))))
    return _combine(built)


# -- completeness ----------------------------------------------------------------------

@check_type(reads=lambda params: (params["table"],), table="participant",
            fields=["ethnicity"])
def _not_null(data: QcData, params: dict) -> Built | None:
    """Optional fields that should nevertheless be filled in most rows."""
    t = data.tables.get(params["table"])
    if t is None:
        return None
    built = []
    for name in params["fields"]:
        instance = ibis.literal(f"{params['table']}.{name}")
        bad = t.filter(t[name].isnull())
        if data.invalid is not None:  # a value that did not convert is not an empty cell
            cells = data.invalid.filter(data.invalid.field == name)
            bad = bad.anti_join(cells, [bad._file == cells._file, bad._row == cells._row])
        built.append(Built(
            _failing(bad, instance=instance, table=params["table"],
                     field_name=ibis.literal(name), value=ibis.literal(""),
                     detail=ibis.literal(f"{name} is empty")),
            _checked(t, instance=instance, table=params["table"],
                     field_name=ibis.literal(name))))
    return _combine(built)


@check_type(reads=(), judged_by=("participant", "measurement"),
            items=["HEIGHT", "WEIGHT", "SBP", "DBP"], wave=0)
def _measurement_present(data: QcData, params: dict) -> Built | None:
    """Each participant under check has each listed item measured at the given wave."""
    people = data.tables.get("participant")
    if people is None:
        return None
    people = people.filter(people.pseudonym.notnull())
    m = data.mine("measurement", "pseudonym", "code", "wave")
    built = []
    for code in params["items"]:
        have = m.filter(m.code == code, m.wave.fill_null(0) == params["wave"])
        have = have.select(h_pseudonym=have.pseudonym).distinct()
        missing = people.anti_join(have, people.pseudonym == have.h_pseudonym)
        instance = ibis.literal(f"measurement[{code}] at wave {params['wave']}")
        built.append(Built(
            _failing(missing, instance=instance, table="participant",
                     field_name=ibis.literal(code), value=ibis.literal(""),
                     detail=ibis.literal(f"no {code} measurement at wave {params['wave']}")),
            _checked(people, instance=instance, table="participant",
                     field_name=ibis.literal(code))))
    return _combine(built)


@check_type(reads=(), judged_by=("participant", "follow_up_contact"), grace_days=90)
def _follow_up_wave(data: QcData, params: dict) -> Built | None:
    """Per annual wave: participants due (alive, wave date plus grace before the latest
    contact the centre recorded) with no contact attempt recorded for that wave."""
    contacts = data.mine("follow_up_contact", "pseudonym", "wave", "contact_date")
    latest = data.con.execute(contacts.agg(cut=contacts.contact_date.max(),
                                           waves=contacts.wave.max()))
    cut, waves = latest.cut.iloc[0], latest.waves.iloc[0]
    if pd.isna(cut) or pd.isna(waves):
        return None
    deaths = data.deaths.select(x_pseudonym="pseudonym", x_died="death_date")
    people = data.people.left_join(deaths, data.people.pseudonym == deaths.x_pseudonym)
    built = []
    for wave in range(1, int(waves) + 1):
        due_on = people.enrolment_date + ibis.interval(days=round(wave * 365.25))
        due = people.filter(due_on + ibis.interval(days=params["grace_days"]) <= cut,
                            (people.x_died.isnull()) | (people.x_died > due_on))
        seen = contacts.filter(contacts.wave == wave)
        seen = seen.select(c_pseudonym=seen.pseudonym).distinct()
        missing = due.anti_join(seen, due.pseudonym == seen.c_pseudonym)
        instance = ibis.literal(f"follow_up_contact[wave {wave}]")
        built.append(Built(
            _failing(missing, instance=instance, table="follow_up_contact",
                     field_name=ibis.literal("wave"), value=ibis.literal(str(wave)),
                     detail=ibis.literal(f"due at wave {wave} but no contact attempt "
                                         "is recorded")),
            _checked(due, instance=instance, table="follow_up_contact",
                     field_name=ibis.literal("wave"))))
    return _combine(built)


# -- distributions ------------------------------------------------------------------------

def _moments(m: ibis.Table, people: ibis.Table) -> ibis.Table:
    """Mean and SD per item and sex: a centre of one sex (a prostate cancer cohort) is
    compared with the other centres' people of that sex."""
    sexes = people.select(q_pseudonym=people.pseudonym, q_sex=people.sex)
    j = m.filter(m.value.notnull()).left_join(sexes, m.pseudonym == sexes.q_pseudonym)
    j = j.mutate(sex=j.q_sex.fill_null(""))
    return j.group_by(["code", "sex"]).agg(n=_.count(), mean=_.value.mean(), sd=_.value.std())


@check_type(reads=("measurement",), judged_by=("participant",), min_n=50, max_smd=0.75,
            max_sd_ratio=2.0)
def _distribution_drift(data: QcData, params: dict) -> Built | None:
    """Each measurement's mean and SD here against all other centres, within sex: a
    standardised mean difference above max_smd, or an SD ratio beyond max_sd_ratio, in
    either sex flags the item."""
    m, others = _numeric_measurements(data), data.others.get("measurement")
    if m is None or others is None:
        return None
    here = data.con.execute(_moments(m, data.people))
    there = data.con.execute(_moments(others, data.others["participant"]))
    both = here.merge(there, on=["code", "sex"], suffixes=("", "_p"))
    both = both[(both.n >= params["min_n"]) & (both.n_p >= params["min_n"]) & (both.sd_p > 0)]
    if both.empty:
        return None
    both = both.assign(smd=(both["mean"] - both.mean_p).abs() / both.sd_p,
                       ratio=both.sd / both.sd_p)
    limit = params["max_sd_ratio"]
    both["drift"] = (both.smd > params["max_smd"]) | (both.ratio > limit) | \
        (both.ratio < 1 / limit)
    drift = both[both.drift].sort_values("smd", ascending=False).drop_duplicates("code")
    files = data.con.execute(m.group_by("code").agg(_file=m._file.min()))
    drift = drift.merge(files, on="code")
    sex_name = {"1": "men", "2": "women"}
    failing = pd.DataFrame({
        "instance": "measurement.value[" + drift.code + "]", "table": "measurement",
        "field": "value", "_file": drift._file, "_row": 0, "pseudonym": "",
        "value": drift["mean"].map("{:.3g}".format),
        "detail": [f"{c} in {sex_name.get(x, 'people')}: mean {a:.3g} (SD {s:.3g}, n={n}) "
                   f"here against {b:.3g} (SD {t:.3g}, n={k}) at the other centres; "
                   f"standardised difference {d:.2f}, SD ratio {r:.2f}"
                   for c, x, a, s, n, b, t, k, d, r in zip(
                       drift.code, drift.sex, drift["mean"], drift.sd, drift.n, drift.mean_p,
                       drift.sd_p, drift.n_p, drift.smd, drift.ratio, strict=True)]},
        columns=list(FAILING_COLUMNS))
    codes = both.code.drop_duplicates()
    checked = pd.DataFrame({"instance": "measurement.value[" + codes + "]",
                            "table": "measurement", "field": "value", "n": 1})
    return Built(ibis.memtable(failing.astype({"_row": "int64"}), schema=_FAILING_SCHEMA),
                 ibis.memtable(checked.astype({"n": "int64"})))


_FAILING_SCHEMA = ibis.schema({"instance": "string", "table": "string", "field": "string",
                               "_file": "string", "_row": "int64", "pseudonym": "string",
                               "value": "string", "detail": "string"})
