"""The submission pipeline: verify → read → map → validate → pseudonymise → commit.

A package is accepted whole or rejected whole. A rejected package leaves the lake as it
was and gets a report listing every problem (file, row, column, value, what to do); a
package already committed is recognised by its content digest and changes nothing.
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
from precimed.ingest.problems import Problem, Report
from precimed.ingest.readers import read_file
from precimed.lake import Lake
from precimed.lake.catalog import CommittedSubmission
from precimed.lake.rows import with_row_keys
from precimed.ops import OpsDatabase, SubmissionRecord
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
    try:
        return _submit(package, settings, lake, ops, pseudonymise, say, after_table,
                       today or dt.date.today())
    finally:
        ops.dispose()
        valid_resident_id.cache_clear()  # hold no identifiers past the submission


def _submit(package, settings, lake, ops, pseudonymise, say, after_table, today):
    received = dt.datetime.now(dt.UTC)
    try:
        manifest = read_manifest(package)
    except SubmissionRejected as exc:
        report = Report(new_submission_id("unknown"), "unknown", package.name)
        report.add(Problem("manifest", "manifest.json", 0, "", "", exc.what, exc.hint))
        return _finish(report, "rejected", settings, ops, received, digest="")
    report = Report(new_submission_id(manifest.centre), manifest.centre, package.name)
    ops.add(SubmissionRecord(id=report.submission_id, centre=manifest.centre,
                             digest=manifest.digest, status="received", received_at=received,
                             rows={}, report={}))
    say(f"verifying {len(manifest.files)} files")
    verify_files(package, manifest, report)
    if report.problem_count:
        return _finish(report, "rejected", settings, ops, received, manifest.digest)
    committed = lake.catalog().submissions.get(manifest.digest)
    if committed is not None:
        report.rows_added = {t: 0 for t in committed.rows_added}
        return _finish(report, "unchanged", settings, ops, received, manifest.digest,
                       committed=committed)
    mappings = read_mapping(package, manifest, report)
    converted: list[Converted] = []
    for entry in manifest.files:
        say(f"reading {entry.path}")
        raw = read_file(package / entry.path, entry.path, report, encoding=entry.encoding)
        if raw is None:
            continue
        converter = FileConverter(raw, TABLES[entry.table], mappings.get(entry.path), report,
                                  centre=manifest.centre, today=today)
        result = converter.convert()
        if result is not None:
            converted.append(result)
    say("pseudonymising and checking links between files")
    tables = _assemble(converted, report, pseudonymise, lake, manifest.centre,
                       report.submission_id)
    report.rows = {name: t.num_rows for name, t in tables.items()}
    if report.problem_count:
        return _finish(report, "rejected", settings, ops, received, manifest.digest)
    say("committing to the lake")
    committed, changed = lake.commit(tables, submission_id=report.submission_id,
                                     centre=manifest.centre, digest=manifest.digest,
                                     after_table=after_table)
    report.rows_added, report.rows_updated = committed.rows_added, committed.rows_updated
    return _finish(report, "committed" if changed else "unchanged", settings, ops, received,
                   manifest.digest, committed=committed)


def _finish(report: Report, status: str, settings: Settings, ops: OpsDatabase,
            received: dt.datetime, digest: str, *, committed=None) -> SubmissionResult:
    report.status = status
    report.write(settings.reports_dir / f"{report.submission_id}.json")
    ops.add(SubmissionRecord(
        id=report.submission_id, centre=report.centre, digest=digest, status=status,
        received_at=received, finished_at=dt.datetime.now(dt.UTC),
        catalog_version=committed.catalog_version if committed else None,
        problem_count=report.problem_count, rows=report.rows, report=report.to_dict(),
    ))
    return SubmissionResult(report.submission_id, status, report, committed)


def _assemble(converted: list[Converted], report: Report, pseudonymise: Pseudonymiser,
              lake: Lake, centre: str, submission_id: str) -> dict[str, pa.Table]:
    """Pseudonymise, add system columns, and check keys and links across files."""
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
        columns["_row"] = item.rows
        pieces.setdefault(item.table, []).append(pa.table(columns))
    con = ibis.duckdb.connect()
    try:
        tables = {name: with_row_keys(name, pa.concat_tables(parts), con)
                  for name, parts in pieces.items()}
    finally:
        con.disconnect()
    for name, table in tables.items():
        _check_duplicates(name, table, report)
    _check_people(tables, report, lake, centre)
    return {name: t.drop_columns(["_file", "_row"]) for name, t in tables.items()}


def _pseudonyms(ids: pa.Array, pseudonymise: Pseudonymiser) -> pa.Array:
    return map_codes(ids, lambda v: pseudonymise(v) if v else None)


def _check_duplicates(name: str, table: pa.Table, report: Report) -> None:
    keyed = table.filter(pc.is_valid(table.column("pseudonym")))
    first = keyed.group_by("row_key", use_threads=False).aggregate(
        [("_row", "min"), ("_file", "first"), ("row_key", "count")])
    repeated = first.filter(pc.greater(first.column("row_key_count"), 1))
    if repeated.num_rows == 0:
        return
    firsts = {k: (f, r) for k, f, r in zip(repeated.column("row_key").to_pylist(),
                                           repeated.column("_file_first").to_pylist(),
                                           repeated.column("_row_min").to_pylist(), strict=True)}
    dupes = keyed.filter(pc.is_in(keyed.column("row_key"),
                                  value_set=repeated.column("row_key")))
    what = "the same person appears twice" if name == "participant" else \
        "the same record appears twice (same " + ", ".join(TABLES[name].key) + ")"
    for key, file, row in zip(dupes.column("row_key").to_pylist(),
                              dupes.column("_file").to_pylist(),
                              dupes.column("_row").to_pylist(), strict=True):
        first_file, first_row = firsts[key]
        if (file, row) == (first_file, first_row):
            continue
        report.add(Problem("duplicate", file, row, "", "",
                           f"{what}: duplicate of {first_file} row {first_row}",
                           "Keep one of the rows, or correct the one that is wrong."))


def _check_people(tables: dict[str, pa.Table], report: Report, lake: Lake, centre: str) -> None:
    """Every row must name a participant of this centre, new in this package or known."""
    known = lake.snapshot().to_arrow("participant", columns=["pseudonym", "centre"])
    mine = known.filter(pc.equal(known.column("centre"), centre)).column("pseudonym")
    others = known.filter(pc.not_equal(known.column("centre"), centre))
    incoming = tables.get("participant")
    if incoming is not None:
        clash = pc.is_in(incoming.column("pseudonym"), value_set=others.column("pseudonym"))
        _report_rows(incoming, clash, report, "duplicate",
                     "this person is already enrolled through another centre",
                     "A person joins one cohort through one centre; check the resident ID.")
        mine = pa.concat_arrays([mine.combine_chunks(),
                                 incoming.column("pseudonym").combine_chunks()])
    for name, table in tables.items():
        if name == "participant":
            continue
        unknown = pc.and_(pc.is_valid(table.column("pseudonym")),
                          pc.invert(pc.is_in(table.column("pseudonym"), value_set=mine)))
        _report_rows(table, unknown, report, "unknown_participant",
                     "the resident ID is not a participant of this centre",
                     "Send the participant row first (in this package or an earlier one).")


def _report_rows(table: pa.Table, mask: pa.ChunkedArray, report: Report, kind: str,
                 message: str, hint: str) -> None:
    rows = table.filter(mask)
    for file, row in zip(rows.column("_file").to_pylist(), rows.column("_row").to_pylist(),
                         strict=True):
        report.add(Problem(kind, file, row, "resident_id", "", message, hint))
