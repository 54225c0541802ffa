"""Erasure of participants (PIPL Art. 47, the right to deletion): their rows leave the
lake's current state at once, and its files after a retention period.

:func:`erase` deletes every row of the people from every table that has people (a Delta
delete per table, published in one catalog write, so a release made after holds none of
them) and records an :class:`Erasure`: how many people, the centre, the rows and the
Parquet files removed, never who. Releases made before still read the old files until
:func:`vacuum` deletes, once the retention period has passed, the files erasures removed
(and files no release and not the current state needs); a release that needed one of them
is *retired*: it answers that it can no longer be read. Withdrawal is different: it keeps
the rows (:mod:`precimed.lake.consent`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable

from precimed.errors import NotFound
from precimed.files import write_atomically
from precimed.lake.catalog import Erasure, now
from precimed.lake.consent import PARTICIPANT, PSEUDONYM, personal
from precimed.standard import LAKE_TABLES, STANDARD_VERSION

if TYPE_CHECKING:
    from precimed.lake.store import Lake


def erase(lake: Lake, pseudonyms: Iterable[str], *, centre: str | None = None) -> Erasure:
    """Delete every row of ``pseudonyms`` from the current state of the lake.

    With ``centre``, only participants of that centre may be erased; a person who is not
    a participant (of that centre) is NotFound, like any object out of reach, and nothing
    changes.
    """
    people = sorted(set(pseudonyms))
    with lake.writer() as catalog:
        centres = _centres_of(lake, catalog.tables, people, centre=centre)
        predicate = f"{PSEUDONYM} IN (" + ", ".join(_quoted(p) for p in people) + ")"
        properties = CommitProperties(custom_metadata={
            "precimed.standard_version": STANDARD_VERSION, "precimed.operation": "erase"})
        versions, rows, files = dict(catalog.tables), {}, {}
        for name in LAKE_TABLES:
            if not personal(name) or name not in versions:
                continue
            path = lake.table_path(name)
            before = set(DeltaTable(path).file_uris())
            removed = DeltaTable(path).delete(predicate, commit_properties=properties)
            table = DeltaTable(path)
            versions[name] = table.version()
            rows[name] = int(removed.get("num_deleted_rows", 0))
            gone = before - set(table.file_uris())
            files[name] = sorted(str(Path(f).relative_to(path)) for f in gone)
        erasure = Erasure(id=secrets.token_hex(8), erased_at=now(), centre=",".join(centres),
                          people=len(people), catalog_version=catalog.version + 1,
                          rows_removed=rows, files=files)
        new = catalog.evolve(tables=versions, erasures=[*catalog.erasures, erasure])
        write_atomically(lake.catalog_path, new.to_json())
        return erasure


def _centres_of(lake: Lake, versions: dict[str, int], people: list[str], *,
                centre: str | None) -> list[str]:
    """The centres of ``people``; NotFound unless every one is a participant (of
    ``centre``, if given)."""
    table = DeltaTable(lake.table_path(PARTICIPANT), version=versions[PARTICIPANT])
    rows = table.to_pyarrow_table(columns=[PSEUDONYM, "centre"])
    found = rows.filter(pc.is_in(rows[PSEUDONYM], value_set=pa.array(people, pa.string())))
    allowed = {r[PSEUDONYM]: r["centre"] for r in found.to_pylist()
               if centre is None or r["centre"] == centre}
    if not people or set(people) - set(allowed):
        raise NotFound("No such participant" + (f" at centre {centre}" if centre else ""),
                       where="participant",
                       hint="Check the resident ID or pseudonym; a data manager can erase "
                            "only their own centre's participants.")
    return sorted(set(allowed.values()))


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def vacuum(lake: Lake, *, retention: dt.timedelta, at: dt.datetime | None = None
           ) -> dict[str, int]:
    """Delete the lake's files that nothing may read any more, older than ``retention``:
    files erasures removed (retiring the releases that needed them), and files neither
    the current state nor any release needs. Returns the files deleted per table."""
    at = at or dt.datetime.now(dt.UTC)
    with lake.writer() as catalog:
        due = [e for e in catalog.erasures if not e.vacuumed_at
               and at - dt.datetime.fromisoformat(e.erased_at) >= retention]
        erased = {(t, f) for e in due for t, names in e.files.items() for f in names}
        retired = dict(catalog.retired)
        for name, release in catalog.releases.items():
            if name in retired:
                continue
            needed = {(t, f) for t, v in release.tables.items() for f in _files(lake, t, v)}
            if needed & erased:
                retired[name] = (f"It held rows of a participant erased on "
                                 f"{min(e.erased_at for e in due)[:10]}; their files were "
                                 "deleted.")
        keep = {(t, f) for t, v in catalog.tables.items() for f in _files(lake, t, v)}
        for name, release in catalog.releases.items():
            if name not in retired:
                keep |= {(t, f) for t, v in release.tables.items() for f in _files(lake, t, v)}
        deleted = {}
        for table in catalog.tables:
            root = Path(lake.table_path(table))
            count = 0
            for path in root.rglob("*.parquet"):
                key = (table, str(path.relative_to(root)))
                old = at - dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC) >= retention
                if (key in erased) or (old and key not in keep):
                    path.unlink()
                    count += 1
            deleted[table] = count
        done = {e.id for e in due}
        erasures = [replace(e, vacuumed_at=now()) if e.id in done else e
                    for e in catalog.erasures]
        new = catalog.evolve(erasures=erasures, retired=retired)
        write_atomically(lake.catalog_path, new.to_json())
        return deleted


def _files(lake: Lake, table: str, version: int) -> set[str]:
    path = lake.table_path(table)
    return {str(Path(f).relative_to(path))
            for f in DeltaTable(path, version=version).file_uris()}
