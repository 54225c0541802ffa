"""The submission pipeline: verify → read → map → validate → pseudonymise → QC → commit.

A package is accepted whole or rejected whole. Quality control scores the staged rows
under the platform's rule set; a ``fail`` verdict rejects the package, which leaves the
lake as it was and gets a report listing every problem (file, row, column, value, what to
do). The report is kept either way. Idempotency is judged against the lake as it is:
the package that made the current state (recognised by its content digest) changes
nothing; any other package, even one committed before, is compared row by row, so an
earlier package resubmitted after a corrected one restores its values.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from precimed.deid.pseudonym import Pseudonymiser, load_key
from precimed.errors import SubmissionRejected
from precimed.ingest.convert import Converted, FileConverter, valid_resident_id
from precimed.ingest.package import read_manifest, read_mapping, verify_files
from precimed.ingest.parse import map_codes
from precimed.ingest.readers import ReadLimits, read_file
from precimed.lake import Lake
from precimed.lake.catalog import CommittedSubmission
from precimed.lake.rows import with_row_keys
from precimed.ops import OpsDatabase, QcScoring, SubmissionRecord
from precimed.qc import QcOutcome, evaluate, load_ruleset
from precimed.qc.report import write_html_report
from precimed.qc.stage import staged_data
from precimed.reports.problems import Problem, Report
from precimed.settings import Settings
from precimed.standard import STANDARD_VERSION, TABLES

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SubmissionResult:
    submission_id: str
    status: str  # committed, unchanged or rejected
    report: Report
    committed: CommittedSubmission | None = None

    @property
    def accepted(self) -> bool:
        return self.status in {"committed", "unchanged"}

    @property
    def verdict(self) -> str:
        """The QC gate's verdict: pass, pass_with_warnings or fail."""
        return self.report.qc.get("verdict", "fail" if self.status == "rejected" else "pass")


def new_submission_id(centre: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{centre}-{secrets.token_hex(3)}"


def submit(
    package: Path,
    settings: Settings,
    *,
    progress: Progress | None = None,
    after_table: Callable[[str], None] | None = None,
    today: dt.date | None = None,
) -> SubmissionResult:
    """Submit one centre's package. Never raises for bad data: the report says it all."""
    say = progress or (lambda _: None)
    package = Path(package)
    lake = Lake(settings.lake_dir)
    lake.catalog()  # the home must exist before anything is recorded
    pseudonymise = Pseudonymiser(load_key(settings.pseudonym_key_file))
    ops = OpsDatabase(settings.database_url)
    ops.create()  # adds tables a newer version needs to an existing home
    try:
        return _submit(package, settings, lake, ops, pseudonymise, say, after_table,
                       today or dt.date.today())
    finally:
        ops.dispose()
        valid_resident_id.cache_clear()  # hold no identifiers past the submission


def _submit(package, settings, lake, ops, pseudonymise, say, after_table, today):
    received = dt.datetime.now(dt.UTC)
    ruleset = load_ruleset(settings.qc_rules, settings.qc_rules_dir)
    try:
        manifest = read_manifest(package)
    except SubmissionRejected as exc:
        report = Report(new_submission_id("unknown"), "unknown", package.name,
                        max_listed=settings.max_problems)
        report.add(Problem("manifest", "manifest.json", 0, "", "", exc.what, exc.hint))
        report.qc = evaluate(ruleset, "unknown", report, files={}, rows={}, data=None).to_dict()
        return _finish(report, "rejected", settings, ops, received, digest="")
    report = Report(new_submission_id(manifest.centre), manifest.centre, package.name,
                    max_listed=settings.max_problems)
    ops.add(SubmissionRecord(id=report.submission_id, centre=manifest.centre,
                             digest=manifest.digest, status="received", received_at=received,
                             rows={}, report={}))
    files = {entry.path: entry.table for entry in manifest.files}
    say(f"verifying {len(manifest.files)} files")
    verify_files(package, manifest, report)
    if report.problem_count:
        report.qc = evaluate(ruleset, manifest.centre, report, files=files, rows={},
                             data=None).to_dict()
        return _finish(report, "rejected", settings, ops, received, manifest.digest)
    committed = lake.catalog().current(manifest.digest)
    if committed is not None:  # the lake is exactly as this package left it
        report.rows_added = {t: 0 for t in committed.rows_added}
        return _finish(report, "unchanged", settings, ops, received, manifest.digest,
                       committed=committed)
    mappings = read_mapping(package, manifest, report)
    converted: list[Converted] = []
    rows_read: dict[str, int] = {}
    not_read: dict[str, list[str]] = {}  # table -> its files that could not be read
    for entry in manifest.files:
        say(f"reading {entry.path}")
        raw = read_file(package / entry.path, entry.path, report, encoding=entry.encoding,
                        limits=ReadLimits.of(settings))
        if raw is None:
            not_read.setdefault(entry.table, []).append(entry.path)
            continue
        rows_read[entry.table] = rows_read.get(entry.table, 0) + raw.table.num_rows
        converter = FileConverter(raw, TABLES[entry.table], mappings.get(entry.path), report,
                                  centre=manifest.centre, today=today)
        result = converter.convert()
        if result is not None:
            converted.append(result)
        else:
            not_read.setdefault(entry.table, []).append(entry.path)
    say("pseudonymising")
    staged = _assemble(converted, pseudonymise, manifest.centre, report.submission_id)
    read = ReadFiles(not_read, {c.file: c.headers for c in converted},
                     _invalid_cells(converted))
    converted.clear()  # the staged tables are a copy; free the first one
    report.rows = {name: t.num_rows for name, t in staged.items()}
    outcome = _assess(staged, report, ruleset, lake, manifest.centre, files, rows_read,
                      read=read, say=say)
    report.qc = outcome.to_dict()
    _record_enrolment_clashes(staged, lake, manifest.centre, report.submission_id, ops)
    if outcome.verdict == "fail":
        return _finish(report, "rejected", settings, ops, received, manifest.digest)
    tables = {name: t.drop_columns(["_file", "_row"]) for name, t in staged.items()}
    say("committing to the lake")
    committed, changed = lake.commit(tables, submission_id=report.submission_id,
                                     centre=manifest.centre, digest=manifest.digest,
                                     after_table=after_table)
    report.rows_added, report.rows_updated = committed.rows_added, committed.rows_updated
    return _finish(report, "committed" if changed else "unchanged", settings, ops, received,
                   manifest.digest, committed=committed)


@dataclass(frozen=True)
class ReadFiles:
    """What reading the files left for QC besides the rows: the files that could not be
    read (by table), each file's headers (by field), and the cells whose value did not
    convert (``_file``, ``_row``, ``field``)."""

    not_read: dict[str, list[str]]
    headers: dict[str, dict[str, str]]
    invalid: pa.Table


def _record_enrolment_clashes(staged: dict[str, pa.Table], lake: Lake, centre: str,
                              submission_id: str, ops: OpsDatabase) -> None:
    """Write to the audit log (read by administrators only) which rows name a person
    enrolled through another centre, and which centre: the QC report the centre reads
    says only that the person can not be enrolled here."""
    incoming = staged.get("participant")
    if incoming is None or not incoming.num_rows:
        return
    lake_people = lake.snapshot().to_arrow("participant", ["pseudonym", "centre"])
    elsewhere = lake_people.filter(pc.not_equal(lake_people["centre"], centre))
    clash = incoming.select(["pseudonym", "_file", "_row"]).join(
        elsewhere.rename_columns(["pseudonym", "enrolled_at"]), "pseudonym", join_type="inner")
    if not clash.num_rows:
        return
    from precimed.ops import audit

    rows = sorted(zip(clash["_file"].to_pylist(), clash["_row"].to_pylist(),
                      clash["enrolled_at"].to_pylist(), strict=True))
    audit.record(ops, actor="system", action="enrolment_clash", outcome="deny",
                 resource=f"submission {submission_id}",
                 detail={"centre": centre, "rows": [{"file": f, "row": r, "enrolled_at": c}
                                                    for f, r, c in rows[:1000]]})


def _assess(staged: dict[str, pa.Table], report: Report, ruleset, lake: Lake, centre: str,
            files: dict[str, str], rows: dict[str, int], *, read: ReadFiles, say
            ) -> QcOutcome:
    """Score the staged rows. The query checks run on whatever could be read, even when
    a structural problem already rejects the package, so one report lists every problem;
    a check that needs a file that could not be read is listed as not run."""
    con = ibis.duckdb.connect()
    try:
        data = staged_data(con, staged, lake.snapshot(), centre, ruleset,
                           headers=read.headers, invalid=read.invalid)
        return evaluate(ruleset, centre, report, files=files, rows=rows, data=data,
                        not_read=read.not_read, progress=say)
    finally:
        con.disconnect()


def _finish(report: Report, status: str, settings: Settings, ops: OpsDatabase,
            received: dt.datetime, digest: str, *, committed=None) -> SubmissionResult:
    report.status = status
    report.write(settings.reports_dir / f"{report.submission_id}.json")
    if report.qc:
        outcome = QcOutcome.from_dict(report.qc)
        write_html_report(report, settings.reports_dir / f"{report.submission_id}.html")
        ops.add(QcScoring(id=report.submission_id, submission_id=report.submission_id,
                          centre=report.centre, kind="submission",
                          rules_version=outcome.rules_version, verdict=outcome.verdict,
                          scored_at=dt.datetime.now(dt.UTC), pass_rates=outcome.pass_rates(),
                          catalog_version=committed.catalog_version if committed else None,
                          results=[r.to_dict() for r in outcome.results]))
    ops.add(SubmissionRecord(
        id=report.submission_id, centre=report.centre, digest=digest, status=status,
        received_at=received, finished_at=dt.datetime.now(dt.UTC),
        catalog_version=committed.catalog_version if committed else None,
        problem_count=report.problem_count, rows=report.rows, report=report.to_dict(),
    ))
    return SubmissionResult(report.submission_id, status, report, committed)


def _assemble(converted: list[Converted], pseudonymise: Pseudonymiser, centre: str,
              submission_id: str) -> dict[str, pa.Table]:
    """Pseudonymise and add system columns; rows keep their file and row for QC."""
    pieces: dict[str, list[pa.Table]] = {}
    for item in converted:
        columns = dict(item.columns)
        ids = columns.pop("resident_id")
        columns["pseudonym"] = _pseudonyms(ids, pseudonymise)
        columns.pop("birth_date", None)
        n = len(item.rows)
        columns["centre"] = pa.array([centre] * n, pa.string())
        columns["submission_id"] = pa.array([submission_id] * n, pa.string())
        columns["standard_version"] = pa.array([STANDARD_VERSION] * n, pa.string())
        columns["_file"] = pa.array([item.file] * n, pa.string())
        columns["_row"] = pc.cast(item.rows, pa.int64())
        pieces.setdefault(item.table, []).append(pa.table(columns))
    con = ibis.duckdb.connect()
    try:
        return {name: with_row_keys(name, pa.concat_tables(parts), con)
                for name, parts in pieces.items()}
    finally:
        con.disconnect()


def _invalid_cells(converted: list[Converted]) -> pa.Table:
    """One row per cell whose value did not convert: ``_file``, ``_row``, ``field``."""
    files, rows, fields = [], [], []
    for item in converted:
        for name, bad in item.invalid.items():
            found = pc.filter(item.rows, bad).to_pylist()
            files += [item.file] * len(found)
            rows += found
            fields += [name] * len(found)
    return pa.table({"_file": pa.array(files, pa.string()), "_row": pa.array(rows, pa.int64()),
                     "field": pa.array(fields, pa.string())})


def _pseudonyms(ids: pa.Array, pseudonymise: Pseudonymiser) -> pa.Array:
    return map_codes(ids, lambda v: pseudonymise(v) if v else None)
