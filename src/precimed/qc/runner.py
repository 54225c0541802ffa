"""Run a rule set: ingest counts and query checks → results per check instance → verdict.

The gate is one rule: a check instance fails when its failing share exceeds its
threshold. A failed error check fails the submission (nothing is committed); a failed
warning check lets it in with warnings; otherwise it passes. Results keep the counts,
so re-scoring under other thresholds needs no re-run (:func:`rescore_results`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import ibis
import pandas as pd

from precimed.qc.checks import CHECK_TYPES, HINTS, QcData
from precimed.qc.rules import CATEGORIES, CheckSpec, RuleSet
from precimed.reports.problems import MAX_EXAMPLES_PER_KIND, Problem, Report
from precimed.standard import MEASUREMENT_ITEMS

VERDICTS = ("pass", "pass_with_warnings", "fail")
NOT_RUN = "not_run"
# Measurements whose distributions the report draws against the platform's.
KEY_ITEMS = ("SBP", "DBP", "BMI", "GLU_FAST", "TC", "HB")
BINS = 30


@dataclass(frozen=True)
class CheckResult:
    check: str
    instance: str
    table: str
    field: str
    category: str
    subcategory: str
    severity: str
    threshold: float
    failing: int
    checked: int
    # pass, warn, fail; n/a when nothing was there to check; not_run when the rows the
    # check needs could not be read (``not_read`` names those files; empty: the package)
    status: str
    params_hash: str = ""
    not_read: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        return min(1.0, self.failing / self.checked) if self.checked else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "rate": round(self.rate, 6)}

    @classmethod
    def from_dict(cls, data: dict) -> CheckResult:
        values = {k: v for k, v in data.items() if k != "rate"}
        values["not_read"] = tuple(values.get("not_read", ()))
        return cls(**values)


@dataclass
class QcOutcome:
    rules_version: str
    rules_digest: str
    centre: str
    results: list[CheckResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    distributions: dict[str, dict] = field(default_factory=dict)
    # check -> {"zh", "en", "kinds"}: names for people, ingest problem kinds it counts
    checks: dict[str, dict] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        statuses = {r.status for r in self.results}
        if "fail" in statuses:
            return "fail"
        return "pass_with_warnings" if "warn" in statuses else "pass"

    def pass_rates(self) -> dict[str, float | None]:
        """Share of check instances passing, by Kahn category (None: nothing checked)."""
        rates: dict[str, float | None] = {}
        for category in CATEGORIES:
            scored = [r for r in self.results if r.category == category
                      and r.status not in {"n/a", NOT_RUN}]
            rates[category] = (sum(r.status == "pass" for r in scored) / len(scored)
                               if scored else None)
        return rates

    def to_dict(self) -> dict:
        return {"rules_version": self.rules_version, "rules_digest": self.rules_digest,
                "centre": self.centre, "verdict": self.verdict,
                "pass_rates": self.pass_rates(),
                "results": [r.to_dict() for r in self.results],
                "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
                "checks": self.checks, "distributions": self.distributions}

    @classmethod
    def from_dict(cls, data: dict) -> QcOutcome:
        return cls(data["rules_version"], data.get("rules_digest", ""), data["centre"],
                   [CheckResult.from_dict(r) for r in data["results"]],
                   dict(data.get("seconds", {})), dict(data.get("distributions", {})),
                   dict(data.get("checks", {})))


def status_of(spec: CheckSpec, failing: int, checked: int) -> str:
    if checked == 0 and failing == 0:
        return "n/a"
    rate = failing / checked if checked else 1.0
    if rate <= spec.threshold or failing < spec.min_failing:
        return "pass"
    return "fail" if spec.severity == "error" else "warn"


def fingerprint(spec: CheckSpec, ruleset: RuleSet, centre: str) -> str:
    """What a check counts: its type and parameters, and for ranges the range rules."""
    extra = ""
    if spec.type == "plausible_range":
        extra = repr(ruleset.ranges_for_centre(centre))
    return spec.params_hash(extra)


def _result(spec: CheckSpec, instance: str, table: str, field_name: str, failing: int,
            checked: int, hash_: str = "") -> CheckResult:
    return CheckResult(spec.id, instance, table, field_name, spec.category, spec.subcategory,
                       spec.severity, spec.threshold, int(failing), int(checked),
                       status_of(spec, failing, checked), hash_)


# -- checks made while reading the files ---------------------------------------------------

def check_for_kind(specs: dict[str, CheckSpec], kind: str) -> str | None:
    """The ingest check that counts a problem kind; kinds no check claims count as
    structure (a package that cannot be read), so nothing goes unscored."""
    for spec in specs.values():
        if spec.type == "ingest" and kind in spec.kinds:
            return spec.id
    return "structure" if "structure" in specs else None


def ingest_results(report: Report, specs: dict[str, CheckSpec], files: dict[str, str],
                   rows: dict[str, int], hashes: dict[str, str]) -> list[CheckResult]:
    """Score the problems found at ingest. ``files`` maps a file to its table, ``rows``
    a table to the rows read. Problems of kinds no check claims count as structure."""
    ingest = [s for s in specs.values() if s.type == "ingest"]
    counts: dict[tuple[str, str], int] = {}
    for (kind, file, _column), n in report.problem_counts().items():
        check = check_for_kind(specs, kind)
        if check is None:
            continue
        table = "package" if specs[check].id == "structure" else files.get(file, "package")
        counts[(check, table)] = counts.get((check, table), 0) + n
    results = []
    for spec in ingest:
        if spec.id == "structure":
            results.append(_result(spec, "package", "package", "",
                                   counts.get((spec.id, "package"), 0), max(1, len(files)),
                                   hashes[spec.id]))
            continue
        for table in sorted(set(rows) | {t for (c, t) in counts if c == spec.id}):
            results.append(_result(spec, table, table, "", counts.get((spec.id, table), 0),
                                   rows.get(table, 0), hashes[spec.id]))
    return results


# -- checks run as queries ---------------------------------------------------------------

def run_queries(data: QcData, specs: dict[str, CheckSpec], report: Report,
                hashes: dict[str, str], *, not_read: Mapping[str, Sequence[str]] | None = None,
                progress: Callable[[str], None] | None = None,
                ) -> tuple[list[CheckResult], dict[str, float]]:
    """Run every query check on the rows that could be read. ``not_read`` maps a table
    to its files that could not be read: a check judged against such a table does not
    run, and a check reading it runs on the rest; both are listed as not_run."""
    results: list[CheckResult] = []
    seconds: dict[str, float] = {}
    for spec in specs.values():
        if spec.type == "ingest":
            continue
        skipped, blocked = _not_run(spec, not_read or {}, hashes[spec.id])
        results += skipped
        if blocked:
            continue
        if progress:
            progress(f"QC check {spec.id}")
        started = time.perf_counter()
        results += _run_one(data, spec, report, hashes[spec.id])
        seconds[spec.id] = time.perf_counter() - started
    return results, seconds


def not_run(spec: CheckSpec, instance: str, table: str, files: Sequence[str],
            hash_: str = "") -> CheckResult:
    """A check (instance) that could not run because ``files`` (none: the package)
    could not be read."""
    return CheckResult(spec.id, instance, table, "", spec.category, spec.subcategory,
                       spec.severity, spec.threshold, 0, 0, NOT_RUN, hash_,
                       tuple(sorted(files)))


def _not_run(spec: CheckSpec, unread: Mapping[str, Sequence[str]], hash_: str,
             ) -> tuple[list[CheckResult], bool]:
    """The not_run results of one check, and whether the whole check is blocked."""
    kind = CHECK_TYPES[spec.type]
    judged = [t for t in kind.judged_by if t in unread]
    if judged:
        files = [f for t in judged for f in unread[t]]
        return [not_run(spec, spec.id, judged[0], files, hash_)], True
    reads = kind.tables_read({**kind.defaults, **spec.params})
    tables = sorted(unread) if reads is None else [t for t in reads if t in unread]
    return [not_run(spec, f"{t} (not read)", t, unread[t], hash_) for t in tables], False


def _run_one(data: QcData, spec: CheckSpec, report: Report, hash_: str) -> list[CheckResult]:
    built = CHECK_TYPES[spec.type].build(data, spec)
    if built is None:
        return [_result(spec, spec.id, "", "", 0, 0, hash_)]
    con = data.con
    # Materialise the failing rows once (to Arrow), then count and sample them.
    name = "_qc_failing"
    con.con.register(name, con.to_pyarrow(built.failing))
    failing = con.table(name)
    try:
        checked = con.execute(built.checked.group_by(["instance", "table", "field"])
                              .agg(n=lambda t: t.n.sum()))
        counts = con.execute(failing.group_by("instance").agg(failing=failing.count()))
        w = ibis.window(group_by=failing.instance, order_by=[failing._file, failing._row])
        examples = con.execute(failing.mutate(_rank=ibis.row_number().over(w))
                               .filter(lambda t: t._rank < MAX_EXAMPLES_PER_KIND)
                               .order_by(["instance", "_file", "_row"]))
    finally:
        con.con.unregister(name)
    _add_examples(report, spec, examples, counts, data)
    failed = dict(zip(counts.instance, counts.failing, strict=True))
    results = [_result(spec, i, t, f, failed.pop(i, 0), n, hash_)
               for i, t, f, n in checked.itertuples(index=False)]
    # failing rows of an instance with nothing checked cannot happen, but never lose them
    results += [_result(spec, i, "", "", n, n, hash_) for i, n in failed.items()]
    if not results:  # nothing to check: say so, so every check of the rule set shows
        return [_result(spec, spec.id, "", "", 0, 0, hash_)]
    return sorted(results, key=lambda r: r.instance)


def _add_examples(report: Report, spec: CheckSpec, examples: pd.DataFrame,
                  counts: pd.DataFrame, data: QcData) -> None:
    """Failing rows as problems, named as ingest names them: the centre's column (and
    the standard's field), so one report speaks one vocabulary."""
    hint = HINTS.get(spec.type, "See the check's description in the QC report.")
    shown: dict[str, tuple[int, str, str]] = {}
    for row in examples.to_dict("records"):
        column = data.header(row["_file"], row["field"]) if row["field"] else ""
        report.add(Problem(spec.id, row["_file"], int(row["_row"]), column, row["value"],
                           row["detail"], hint, pseudonym=row["pseudonym"][:8],
                           field=row["field"]))
        n, _, _ = shown.get(row["instance"], (0, "", ""))
        shown[row["instance"]] = (n + 1, row["_file"], column)
    for instance, total in zip(counts.instance, counts.failing, strict=True):
        n, file, column = shown.get(instance, (0, "", ""))
        report.note_omitted(spec.id, file, column, int(total) - n)


# -- the distributions the report draws -------------------------------------------------

def distributions(data: QcData) -> dict[str, dict]:
    """Histograms of key measurements: the rows under check against the other centres."""
    here, there = data.tables.get("measurement"), data.others.get("measurement")
    out: dict[str, dict] = {}
    if here is None:
        return out
    for code in KEY_ITEMS:
        item = MEASUREMENT_ITEMS.get(code)
        if item is None:
            continue
        low, high = item.plausible
        width = (high - low) / BINS
        counts = {}
        for side, t in (("here", here), ("platform", there)):
            if t is None:
                counts[side] = [0] * BINS
                continue
            v = t.filter(t.code == code, t.value.notnull())
            binned = v.mutate(b=((v.value - low) / width).floor().clip(0, BINS - 1)
                              .cast("int64")).group_by("b").agg(n=lambda x: x.count())
            frame = data.con.execute(binned)
            series = [0] * BINS
            for b, n in zip(frame.b, frame.n, strict=True):
                series[int(b)] = int(n)
            counts[side] = series
        if sum(counts["here"]):
            out[code] = {"unit": item.unit, "zh": item.zh, "en": item.en,
                         "edges": [low + i * width for i in range(BINS + 1)], **counts}
    return out


# -- scoring -------------------------------------------------------------------------

def check_meta(specs: dict[str, CheckSpec]) -> dict[str, dict]:
    """What a report needs to name each check and map ingest problems to it."""
    return {i: {"zh": s.zh, "en": s.en, "kinds": list(s.kinds)} for i, s in specs.items()}


def evaluate(ruleset: RuleSet, centre: str, report: Report, *, files: dict[str, str],
             rows: dict[str, int], data: QcData | None,
             not_read: Mapping[str, Sequence[str]] | None = None,
             progress: Callable[[str], None] | None = None) -> QcOutcome:
    """Score one submission (or one centre's rows in the lake). ``data`` is None when the
    package could not be read far enough to query; ``not_read`` maps a table to its files
    that could not be read. Query checks that could not run are listed as not_run."""
    specs = ruleset.for_centre(centre)
    hashes = {i: fingerprint(s, ruleset, centre) for i, s in specs.items()}
    outcome = QcOutcome(ruleset.version, ruleset.digest(), centre, checks=check_meta(specs))
    started = time.perf_counter()
    outcome.results = ingest_results(report, specs, files, rows, hashes)
    outcome.seconds["ingest"] = time.perf_counter() - started
    if data is None:  # say so for every query check, rather than leave them out
        outcome.results += [not_run(s, i, "", (), hashes[i]) for i, s in specs.items()
                            if s.type != "ingest"]
    else:
        results, seconds = run_queries(data, specs, report, hashes, not_read=not_read,
                                       progress=progress)
        outcome.results += results
        outcome.seconds.update(seconds)
        started = time.perf_counter()
        outcome.distributions = distributions(data)
        outcome.seconds["distributions"] = time.perf_counter() - started
    return outcome


def rescore_results(results: list[CheckResult], ruleset: RuleSet, centre: str,
                    ) -> list[CheckResult] | None:
    """The same counts under another rule set's thresholds and severities, or None when
    the other rule set's checks differ in what they count (then the queries must run)."""
    specs = ruleset.for_centre(centre)
    rescored = []
    for r in results:
        spec = specs.get(r.check)
        if spec is None or fingerprint(spec, ruleset, centre) != r.params_hash:
            return None
        if r.status == NOT_RUN:
            rescored.append(not_run(spec, r.instance, r.table, r.not_read, r.params_hash))
            continue
        rescored.append(_result(spec, r.instance, r.table, r.field, r.failing, r.checked,
                                r.params_hash))
    if {i for i, s in specs.items() if s.type != "ingest"} - {r.check for r in results}:
        return None  # a check the results never ran
    return rescored
