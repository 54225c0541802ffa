"""The cohort query model: small, frozen, typed nodes, and their JSON form.

A cohort definition is an ordered list of criteria, all of which a participant must meet;
the order gives the attrition table. The index date is the participant's enrolment date.
Every node is validated against :mod:`precimed.standard` when it is built, so a bad
definition fails with a message naming the criterion, not later inside a query.

Timing is in whole days relative to the index date, both bounds inclusive, either bound
open (None). ``before()`` is strictly before the index day, ``after()`` strictly after,
``within(n)`` is n days either side including the index day itself. ``baseline()`` is the
baseline survey (wave 0) for measurements and exposures; for a diagnosis, which has no
wave, it is the baseline condition in the epidemiological sense: a diagnosis dated on or
before the enrolment day (a history of the disease at enrolment).

ICD-10 codes are selections in the standard's sense (:mod:`precimed.standard.icd10`):
``i10``, ``I639``, ``I21.X``, ``C16-C22`` and ``I63.0-I63.5`` are accepted and stored in
canonical form; a code WHO ICD-10 does not have is refused with a hint.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import ClassVar

from precimed.errors import UserError
from precimed.standard import (
    CENTRES,
    COHORTS,
    EXPOSURE_ITEMS,
    MEASUREMENT_ITEMS,
    PROVINCES,
    REGIONS,
    vocabulary,
)
from precimed.standard.icd10 import UnknownIcd10, normalise_selection

FORMAT = "precimed-cohort"
FORMAT_VERSION = 1

PARTICIPANT_FIELDS = {
    "cohort": lambda: COHORTS, "centre": lambda: CENTRES, "region": lambda: REGIONS,
    "native_province": lambda: PROVINCES, "sex": lambda: vocabulary("sex").codes,
    "ethnicity": lambda: vocabulary("ethnicity").codes,
}


def _fail(what: str, where: str, hint: str) -> UserError:
    return UserError(what, where=where, hint=hint)


@dataclass(frozen=True)
class Window:
    """Days from the index date, inclusive; None leaves that side open.

    The index date is enrolment, or, when ``anchor`` names ICD-10 codes or prefixes, the
    participant's first diagnosis (``anchor_source`` condition or endpoint) with one of
    them; a participant without such a diagnosis has no index date and does not qualify.
    """

    start: int | None = None
    end: int | None = None
    baseline: bool = False  # the baseline survey (wave 0), whatever its date
    anchor: tuple[str, ...] = ()
    anchor_source: str = "condition"

    def __post_init__(self) -> None:
        object.__setattr__(self, "anchor", _icd10(self.anchor, "window anchor"))
        if self.start is not None and self.end is not None and self.start > self.end:
            raise _fail(f"The window starts after it ends ({self.start} > {self.end})",
                        "window", "Give start <= end, in days from the index date.")
        if self.anchor:
            if self.baseline:
                raise _fail("A baseline window has no anchor event", "window",
                            "Use days relative to the anchor event instead.")
            if self.anchor_source not in {"condition", "endpoint"}:
                raise _fail(f"Unknown anchor source {self.anchor_source!r}", "window",
                            "Use condition or endpoint.")


def baseline() -> Window:
    """The baseline survey (wave 0) of a measurement or exposure; for a diagnosis, a
    condition dated on or before the enrolment day."""
    return Window(baseline=True)


def ever() -> Window:
    return Window()


def before(days: int | None = None) -> Window:
    """Strictly before the index day; within ``days`` before it if given."""
    return Window(None if days is None else -days, -1)


def after(days: int | None = None) -> Window:
    """Strictly after the index day; within ``days`` after it if given."""
    return Window(1, days)


def within(days: int) -> Window:
    return Window(-days, days)


@dataclass(frozen=True)
class Criterion:
    kind: ClassVar[str] = ""

    def label(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class ParticipantIs(Criterion):
    field: str
    values: tuple[str, ...]
    kind: ClassVar[str] = "participant"

    def __post_init__(self) -> None:
        where = f"criterion participant {self.field}"
        if self.field not in PARTICIPANT_FIELDS:
            raise _fail(f"Unknown participant field {self.field!r}", where,
                        "Use one of: " + ", ".join(PARTICIPANT_FIELDS))
        known = PARTICIPANT_FIELDS[self.field]()
        unknown = [v for v in self.values if v not in known]
        if unknown or not self.values:
            raise _fail(f"Unknown {self.field} {unknown[0] if unknown else '(none)'}", where,
                        f"Use codes of the standard, e.g. {next(iter(known))}.")

    def label(self) -> str:
        return f"{self.field} in {', '.join(self.values)}"


@dataclass(frozen=True)
class AgeAtEnrolment(Criterion):
    """Whole years at enrolment, min inclusive, max exclusive."""

    min: int | None = None
    max: int | None = None
    kind: ClassVar[str] = "age"

    def __post_init__(self) -> None:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise _fail(f"The age range {self.min}-{self.max} is empty (min must be below "
                        "max, which is exclusive)", "criterion age",
                        f"Give min < max, e.g. min={min(self.min, self.max)}, "
                        f"max={max(self.min, self.max)}.")

    def label(self) -> str:
        return f"age at enrolment {self.min if self.min is not None else ''}-" \
               f"{self.max if self.max is not None else ''}"


@dataclass(frozen=True)
class MeasurementIn(Criterion):
    """At least one value of the item within [min, max] (canonical unit) in the window."""

    code: str
    min: float | None = None
    max: float | None = None
    window: Window = field(default_factory=ever)
    kind: ClassVar[str] = "measurement"

    def __post_init__(self) -> None:
        if self.code not in MEASUREMENT_ITEMS:
            raise _fail(f"Unknown measurement {self.code!r}", "criterion measurement",
                        "Use a code of the measurement catalogue, e.g. SBP.")
        _check_bounds(self.min, self.max, f"criterion measurement {self.code}")

    def label(self) -> str:
        unit = MEASUREMENT_ITEMS[self.code].unit
        return f"{self.code} {_range(self.min, self.max)} {unit}{_when(self.window)}"


@dataclass(frozen=True)
class ExposureIs(Criterion):
    """A categorical exposure in ``values``, or a numeric one within [min, max]."""

    code: str
    values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    window: Window = field(default_factory=ever)
    kind: ClassVar[str] = "exposure"

    def __post_init__(self) -> None:
        item = EXPOSURE_ITEMS.get(self.code)
        where = "criterion exposure"
        if item is None:
            raise _fail(f"Unknown exposure {self.code!r}", where,
                        "Use a code of the exposure catalogue, e.g. SMOKING_STATUS.")
        if item.kind == "categorical":
            bad = [v for v in self.values if v not in item.categories]
            if bad or not self.values:
                raise _fail(f"Exposure {self.code} has no category "
                            f"{bad[0] if bad else '(none given)'}", where,
                            "Categories: " + ", ".join(item.categories))
        elif self.values:
            raise _fail(f"Exposure {self.code} is numeric", where, "Give min and/or max.")
        _check_bounds(self.min, self.max, f"{where} {self.code}")

    def label(self) -> str:
        what = ", ".join(self.values) if self.values else _range(self.min, self.max)
        return f"{self.code} {what}{_when(self.window)}"


@dataclass(frozen=True)
class Diagnosis(Criterion):
    """A condition or a (candidate) endpoint event whose ICD-10 code falls in one of
    ``codes`` (I21 covers I21.0-I21.9, C16-C22 covers C16 to C22), dated in the window.
    ``baseline()`` selects a diagnosis dated on or before enrolment (history)."""

    codes: tuple[str, ...]
    source: str = "condition"  # condition or endpoint
    window: Window = field(default_factory=ever)
    kind: ClassVar[str] = "diagnosis"

    def __post_init__(self) -> None:
        where = "criterion diagnosis"
        if self.source not in {"condition", "endpoint"}:
            raise _fail(f"Unknown source {self.source!r}", where, "Use condition or endpoint.")
        object.__setattr__(self, "codes", _icd10(self.codes, where))
        if not self.codes:
            raise _fail("A diagnosis criterion needs at least one code", where,
                        "e.g. codes=('I21', 'I22')")

    def label(self) -> str:
        return f"{self.source} {' or '.join(self.codes)}{_when(self.window)}"


@dataclass(frozen=True)
class SpecimenAvailable(Criterion):
    types: tuple[str, ...]
    min_volume_ml: float | None = None
    kind: ClassVar[str] = "specimen"

    def __post_init__(self) -> None:
        known = vocabulary("specimen_type").codes
        bad = [t for t in self.types if t not in known]
        if bad or not self.types:
            raise _fail(f"Unknown specimen type {bad[0] if bad else '(none)'}",
                        "criterion specimen", "Types: " + ", ".join(known))

    def label(self) -> str:
        volume = f" ≥ {self.min_volume_ml:g} mL" if self.min_volume_ml else ""
        return f"specimen {' or '.join(self.types)}{volume}"


@dataclass(frozen=True)
class AssayAvailable(Criterion):
    """Genotype or omics data exist: an assay of one of ``types`` (genotype_array, wgs,
    proteome, ...) in the participant's assay table."""

    types: tuple[str, ...]
    kind: ClassVar[str] = "assay"

    def __post_init__(self) -> None:
        known = vocabulary("assay_type").codes
        bad = [t for t in self.types if t not in known]
        if bad or not self.types:
            raise _fail(f"Unknown assay type {bad[0] if bad else '(none)'}",
                        "criterion assay", "Types: " + ", ".join(known))

    def label(self) -> str:
        return f"assay {' or '.join(self.types)}"


@dataclass(frozen=True)
class Not(Criterion):
    criterion: Criterion
    kind: ClassVar[str] = "not"

    def label(self) -> str:
        return f"not ({self.criterion.label()})"


CRITERIA: dict[str, type[Criterion]] = {c.kind: c for c in (
    ParticipantIs, AgeAtEnrolment, MeasurementIn, ExposureIs, Diagnosis, SpecimenAvailable,
    AssayAvailable, Not)}


@dataclass(frozen=True)
class CohortDefinition:
    name: str
    criteria: tuple[Criterion, ...]
    description: str = ""

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": FORMAT_VERSION, "name": self.name,
                "description": self.description,
                "criteria": [_criterion_dict(c) for c in self.criteria]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)

    @classmethod
    def from_dict(cls, data: dict, where: str = "cohort definition") -> CohortDefinition:
        if (not isinstance(data, dict) or data.get("format") != FORMAT
                or data.get("version") != FORMAT_VERSION):
            raise _fail(f"Not a precimed cohort definition version {FORMAT_VERSION}", where,
                        f'Expected "format": "{FORMAT}", "version": {FORMAT_VERSION}.')
        if not isinstance(data.get("criteria", []), list):
            raise _fail("'criteria' must be a list of criteria", where,
                        'e.g. "criteria": [{"kind": "age", "min": 40}]')
        criteria = []
        for i, item in enumerate(data.get("criteria", []), start=1):
            criteria.append(_criterion_from(item, f"{where}, criterion {i}"))
        return cls(str(data.get("name", "")), tuple(criteria), str(data.get("description", "")))

    @classmethod
    def from_json(cls, text: str, where: str = "cohort definition") -> CohortDefinition:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _fail(f"The definition is not valid JSON: {exc}", where,
                        "Save it with 'precimed cohort' or check the brackets.") from None
        return cls.from_dict(data, where)


def cohort(name: str, *criteria: Criterion, description: str = "") -> CohortDefinition:
    return CohortDefinition(name, tuple(criteria), description)


def _criterion_dict(c: Criterion) -> dict:
    if isinstance(c, Not):
        return {"kind": "not", "criterion": _criterion_dict(c.criterion)}
    out = {"kind": c.kind}
    for f in fields(c):
        value = getattr(c, f.name)
        out[f.name] = asdict(value) if isinstance(value, Window) else (
            list(value) if isinstance(value, tuple) else value)
    return out


def _criterion_from(item: dict, where: str) -> Criterion:
    if (not isinstance(item, dict) or not isinstance(item.get("kind"), str)
            or item.get("kind") not in CRITERIA):
        kind = item.get("kind") if isinstance(item, dict) else item
        raise _fail(f"Unknown criterion kind {kind!r}", where,
                    "Kinds: " + ", ".join(CRITERIA))
    kind = CRITERIA[item["kind"]]
    if kind is Not:
        return Not(_criterion_from(item.get("criterion"), where))
    names = {f.name: f for f in fields(kind)}
    unknown = set(item) - set(names) - {"kind"}
    if unknown:
        raise _fail(f"Criterion {item['kind']} has no field {sorted(unknown)[0]!r}", where,
                    "Fields: " + ", ".join(names))
    values = {}
    for name, value in item.items():
        if name == "kind":
            continue
        if name == "window":
            if not isinstance(value, dict):
                raise _fail("A window must be an object", where,
                            'e.g. {"start": -365, "end": 0} or {"baseline": true}')
            unknown = set(value) - {f.name for f in fields(Window)}
            if unknown:
                raise _fail(f"A window has no field {sorted(unknown)[0]!r}", where,
                            "Fields: " + ", ".join(f.name for f in fields(Window)))
            value = Window(**{k: _typed(k, v, where) for k, v in value.items()})
        else:
            value = _typed(name, value, where)
        values[name] = value
    try:
        return kind(**values)
    except UserError as exc:
        raise _fail(exc.what, f"{where} ({exc.where})", exc.hint) from None
    except TypeError as exc:
        raise _fail(f"Criterion {item['kind']} is incomplete: {exc}", where,
                    "Give every required field.") from None


_NUMBERS = {"min", "max", "min_volume_ml"}
_DAYS = {"start", "end"}
_TEXTS = {"values", "codes", "types", "anchor"}
_TEXT = {"field", "code", "source", "anchor_source"}


def _typed(name: str, value: object, where: str) -> object:
    """JSON values checked against the field's type, so a bad file fails here, named."""
    def bad(kind: str) -> UserError:
        return _fail(f"Field {name!r} must be {kind}", where, "Check the definition's JSON.")

    if name in _NUMBERS | _DAYS:
        if value is None:
            return None
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or abs(value) > 1e15):
            raise bad("a finite number (at most 1e15 in size) or null")
        if name in _DAYS:
            if value != int(value):
                raise bad("a whole number of days")
            return int(value)
        return value
    if name in _TEXTS:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        return tuple(value)
    if name in _TEXT:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if name == "baseline":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    return value


def _icd10(codes: tuple[str, ...], where: str) -> tuple[str, ...]:
    """The selections in canonical form (so both engines and the JSON see one spelling),
    or a UserError naming the criterion."""
    try:
        return tuple(dict.fromkeys(normalise_selection(code) for code in codes))
    except UnknownIcd10 as exc:
        raise _fail(exc.what, where, exc.hint) from None


def _check_bounds(low: float | None, high: float | None, where: str) -> None:
    """An inverted range would silently select nobody: refuse it, naming the criterion."""
    if low is not None and high is not None and low > high:
        raise _fail(f"The range {low:g}-{high:g} is empty (min is above max)", where,
                    f"Give min <= max, e.g. min={high:g}, max={low:g}.")


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g}-{high:g}"
    if low is not None:
        return f"≥ {low:g}"
    return f"≤ {high:g}" if high is not None else "any value"


def _when(window: Window) -> str:
    if window.baseline:
        return " at baseline"
    if window.start is None and window.end is None and not window.anchor:
        return ""
    start = "…" if window.start is None else f"{window.start:+d}"
    end = "…" if window.end is None else f"{window.end:+d}"
    index = f"the first {'/'.join(window.anchor)}" if window.anchor else "enrolment"
    return f" on days {start} to {end} of {index}"
