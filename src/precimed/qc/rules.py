"""QC rule sets: checks declared as data, versioned, with centre and region overrides.

A rule set is a TOML file. Built-in sets ship in ``precimed/qc/rulesets``; a platform
adds its own in ``HOME/qc/rulesets`` without touching code. A set may ``extend`` another
and then only says what differs. Each ``[checks.ID]`` entry names a check type (the
query it runs, see :mod:`precimed.qc.checks`), its Kahn category, its severity and its
threshold: the share of checked rows allowed to fail before the check counts as failed.

``[[override]]`` entries change a check's threshold or severity for some centres, the
centres of some regions, or centres in some provinces. ``[[range]]`` entries change a
measurement's plausible range for participants of some sexes, age bands or native
provinces (for example haemoglobin at altitude), or for some centres. Everything else a
check needs (fields, units, vocabularies, possible and plausible ranges) comes from
:mod:`precimed.standard`.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from precimed.errors import NotFound, UserError
from precimed.standard import CENTRES, COHORTS, MEASUREMENT_ITEMS, PROVINCES, REGIONS

CATEGORIES = {
    "conformance": ("value", "relational", "computational"),
    "completeness": ("",),
    "plausibility": ("atemporal", "temporal", "uniqueness"),
}
SEVERITIES = ("error", "warning")
DEFAULT_RULES = "1.0"


@dataclass(frozen=True)
class Scope:
    """Which submissions (centres) or participants (provinces, sexes, ages) a rule hits."""

    centres: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()

    def covers_centre(self, centre: str) -> bool:
        """True when the scope names this centre, its region or its province (or nothing)."""
        if not (self.centres or self.regions or self.provinces):
            return True
        known = CENTRES.get(centre)
        region = COHORTS[known.cohort].region if known else None
        province = known.province if known else None
        return (centre in self.centres or (region is not None and region in self.regions)
                or (province is not None and province in self.provinces))


@dataclass(frozen=True)
class CheckSpec:
    id: str
    type: str
    category: str
    subcategory: str
    severity: str
    threshold: float
    zh: str
    en: str
    params: dict = field(default_factory=dict)
    kinds: tuple[str, ...] = ()  # for checks made at ingest: the problem kinds they count
    # fewest failing rows that can fail an instance: a 5% threshold on 20 rows would
    # otherwise turn one tail value into a finding
    min_failing: int = 1

    @property
    def source(self) -> str:
        return "ingest" if self.type == "ingest" else "query"

    def params_hash(self, extra: str = "") -> str:
        text = json.dumps({"type": self.type, "params": self.params, "kinds": self.kinds,
                           "extra": extra}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Override:
    check: str
    scope: Scope
    threshold: float | None = None
    severity: str | None = None


@dataclass(frozen=True)
class RangeRule:
    """A plausible range for one measurement item, for some people or centres."""

    item: str
    low: float
    high: float
    sexes: tuple[str, ...] = ()
    ages: tuple[float, float] | None = None
    provinces: tuple[str, ...] = ()  # participants' native provinces
    centres: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # the submitting centre's region


@dataclass(frozen=True)
class RuleSet:
    version: str
    zh: str
    en: str
    checks: dict[str, CheckSpec]
    overrides: tuple[Override, ...] = ()
    ranges: tuple[RangeRule, ...] = ()
    source: str = ""

    def for_centre(self, centre: str) -> dict[str, CheckSpec]:
        """The checks as they apply to one centre's submissions, overrides resolved."""
        checks = dict(self.checks)
        for override in self.overrides:
            if override.scope.covers_centre(centre):
                spec = checks[override.check]
                checks[override.check] = replace(
                    spec,
                    threshold=spec.threshold if override.threshold is None
                    else override.threshold,
                    severity=override.severity or spec.severity)
        return checks

    def ranges_for_centre(self, centre: str) -> tuple[RangeRule, ...]:
        return tuple(r for r in self.ranges if Scope(r.centres, r.regions).covers_centre(centre))

    def digest(self) -> str:
        text = json.dumps([self.version, sorted(self.checks),
                           [(c.params_hash(), c.threshold, c.severity, c.min_failing)
                            for _, c in sorted(self.checks.items())],
                           [repr(o) for o in self.overrides], [repr(r) for r in self.ranges]])
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# -- loading -------------------------------------------------------------------------

def builtin_dir() -> Path:
    return Path(str(resources.files("precimed.qc") / "rulesets"))


def available(home_rules: Path | None = None) -> dict[str, Path]:
    """Rule set version -> file, built-in first, then the platform's own."""
    found: dict[str, Path] = {}
    for directory in (builtin_dir(), home_rules):
        if directory is None or not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            found[path.stem] = path
    return found


def load_ruleset(version: str, home_rules: Path | None = None) -> RuleSet:
    files = available(home_rules)
    if version not in files:
        raise NotFound(f"No QC rule set {version!r}", where=str(home_rules or builtin_dir()),
                       hint="Known rule sets: " + ", ".join(sorted(files))
                       + f". Add one as a TOML file in {home_rules or 'HOME/qc/rulesets'}.")
    return _load(files[version], files, seen=())


def _load(path: Path, files: dict[str, Path], seen: tuple[str, ...]) -> RuleSet:
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"The rule set is not valid TOML: {exc}", where=where,
                        hint="Fix the file; the built-in 1.0.toml shows the format.") from None
    version = str(data.get("version", ""))
    if version != path.stem:
        raise UserError(f"The rule set says version {version!r} but the file is {path.name}",
                        where=where, hint="Name the file after its version, e.g. 1.1.toml.")
    base = RuleSet(version, "", "", {})
    if "extends" in data:
        parent = str(data["extends"])
        if parent in seen or parent == version:
            raise UserError(f"Rule set {version} extends itself through {parent}",
                            where=where, hint="Remove the loop in the 'extends' chain.")
        if parent not in files:
            raise UserError(f"Rule set {version} extends unknown rule set {parent!r}",
                            where=where, hint="Known: " + ", ".join(sorted(files)))
        base = _load(files[parent], files, (*seen, version))
    checks = dict(base.checks)
    for check_id, entry in data.get("checks", {}).items():
        checks[check_id] = _check(check_id, entry, checks.get(check_id), where)
    overrides = base.overrides + tuple(_override(o, checks, where)
                                       for o in data.get("override", []))
    ranges = base.ranges + tuple(_range(r, where) for r in data.get("range", []))
    unknown = set(data) - {"version", "extends", "zh", "en", "checks", "override", "range"}
    if unknown:
        raise UserError(f"Unknown key {sorted(unknown)[0]!r} in the rule set", where=where,
                        hint="Allowed: version, extends, zh, en, checks, override, range.")
    return RuleSet(version, str(data.get("zh", base.zh)), str(data.get("en", base.en)),
                   checks, overrides, ranges, source=where)


def _check(check_id: str, entry: dict, inherited: CheckSpec | None, where: str) -> CheckSpec:
    from precimed.qc.checks import CHECK_TYPES  # the query implementations

    at = f"{where}, [checks.{check_id}]"
    if inherited is not None:  # an extending set may change only some keys
        entry = {"type": inherited.type, "category": inherited.category,
                 "subcategory": inherited.subcategory, "severity": inherited.severity,
                 "threshold": inherited.threshold, "zh": inherited.zh, "en": inherited.en,
                 "params": inherited.params, "kinds": list(inherited.kinds),
                 "min_failing": inherited.min_failing, **entry}
    allowed = {"type", "category", "subcategory", "severity", "threshold", "zh", "en",
               "params", "kinds", "min_failing"}
    if set(entry) - allowed:
        raise UserError(f"Unknown key {sorted(set(entry) - allowed)[0]!r}", where=at,
                        hint="Allowed: " + ", ".join(sorted(allowed)))
    kind = entry.get("type", check_id)
    if kind != "ingest" and kind not in CHECK_TYPES:
        raise UserError(f"Unknown check type {kind!r}", where=at,
                        hint="Check types: ingest, " + ", ".join(sorted(CHECK_TYPES)))
    category, sub, severity, threshold, min_failing = grading(entry, at)
    params = dict(entry.get("params", {}))
    if kind != "ingest":
        CHECK_TYPES[kind].validate(params, at)
    return CheckSpec(check_id, kind, category, sub, severity, threshold,
                     str(entry.get("zh", check_id)), str(entry.get("en", check_id)), params,
                     tuple(entry.get("kinds", ())), min_failing)


def grading(entry: dict, at: str) -> tuple[str, str, str, float, int]:
    """A check entry's Kahn category and subcategory, severity, threshold and min_failing,
    validated: shared by the clinical and the genotype rule sets."""
    category, sub = entry.get("category", ""), entry.get("subcategory", "")
    if category not in CATEGORIES or sub not in CATEGORIES[category]:
        raise UserError(f"Unknown Kahn category {category}/{sub}", where=at,
                        hint="Use conformance/value|relational|computational, completeness, "
                        "or plausibility/atemporal|temporal|uniqueness.")
    severity = entry.get("severity", "error")
    if severity not in SEVERITIES:
        raise UserError(f"Unknown severity {severity!r}", where=at,
                        hint="Use 'error' (fails the submission) or 'warning'.")
    threshold = _threshold(entry.get("threshold", 0.0), at)
    min_failing = entry.get("min_failing", 1)
    if not isinstance(min_failing, int) or min_failing < 1:
        raise UserError(f"min_failing {min_failing!r} is not a whole number of at least 1",
                        where=at, hint="Write e.g. min_failing = 3.")
    return category, sub, severity, threshold, min_failing


def _threshold(value: object, at: str) -> float:
    if not isinstance(value, int | float) or not 0 <= value <= 1:
        raise UserError(f"Threshold {value!r} is not a share between 0 and 1", where=at,
                        hint="Write the share of failing rows, samples or variants allowed, "
                             "e.g. 0.05 for 5%.")
    return float(value)


def _scope(entry: dict, at: str) -> Scope:
    centres = tuple(entry.get("centres", ()))
    regions = tuple(entry.get("regions", ()))
    provinces = tuple(str(p) for p in entry.get("provinces", ()))
    for name, values, known in (("centre", centres, CENTRES), ("region", regions, REGIONS),
                                ("province", provinces, PROVINCES)):
        for value in values:
            if value not in known:
                raise UserError(f"Unknown {name} {value!r}", where=at,
                                hint=f"Use codes of the standard, e.g. {next(iter(known))}.")
    return Scope(centres, regions, provinces)


def _override(entry: dict, checks: dict[str, CheckSpec], where: str) -> Override:
    at = f"{where}, [[override]] for {entry.get('check', '?')}"
    if entry.get("check") not in checks:
        raise UserError(f"Override of unknown check {entry.get('check')!r}", where=at,
                        hint="Name a check of this rule set: " + ", ".join(sorted(checks)))
    severity = entry.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise UserError(f"Unknown severity {severity!r}", where=at, hint="error or warning")
    threshold = entry.get("threshold")
    return Override(entry["check"], _scope(entry, at),
                    None if threshold is None else _threshold(threshold, at), severity)


def _range(entry: dict, where: str) -> RangeRule:
    at = f"{where}, [[range]] for {entry.get('item', '?')}"
    item = entry.get("item")
    if item not in MEASUREMENT_ITEMS:
        raise UserError(f"Unknown measurement item {item!r}", where=at,
                        hint="Use a code of the measurement catalogue, e.g. HB.")
    low, high = entry.get("low"), entry.get("high")
    if not isinstance(low, int | float) or not isinstance(high, int | float) or low >= high:
        raise UserError("A range needs numbers low < high", where=at,
                        hint=f"In the item's unit, {MEASUREMENT_ITEMS[item].unit}.")
    ages = entry.get("ages")
    if ages is not None and (len(ages) != 2 or ages[0] >= ages[1]):
        raise UserError("ages must be [from, to) in years", where=at, hint="e.g. ages = [60, 120]")
    scope = _scope(entry, at)
    sexes = tuple(str(s) for s in entry.get("sexes", ()))
    return RangeRule(item, float(low), float(high), sexes,
                     tuple(ages) if ages is not None else None, scope.provinces,
                     scope.centres, scope.regions)
