"""The catalog: which version of every Delta table is visible, and the releases.

Delta commits one table at a time. A submission becomes visible only when one atomic
replace of ``catalog.json`` names the new version of every table it wrote; table
versions past the catalog (a crash mid-submission) are invisible and rolled back by the
next writer. A release is a named, frozen copy of the catalog's table versions.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field

CATALOG_FORMAT = 1


@dataclass(frozen=True)
class Release:
    name: str
    created_at: str
    catalog_version: int
    standard_version: str
    tables: dict[str, int]
    description: str = ""
    # YYYY-MM-DD: the day the release's data end, recorded when it is made. Releases made
    # before it was recorded have "": their cut is computed from their frozen tables
    # (precimed.lake.Snapshot.data_cut), never from the day they are read.
    data_cut: str = ""


@dataclass(frozen=True)
class CommittedSubmission:
    submission_id: str
    centre: str
    digest: str
    committed_at: str
    catalog_version: int
    rows_added: dict[str, int]
    rows_updated: dict[str, int]
    rows_removed: dict[str, int] = field(default_factory=dict)  # derived tables' replaced rows


@dataclass(frozen=True)
class Erasure:
    """One erasure of participants (PIPL Art. 47): how many people, which centre, the rows
    and Parquet files it removed; never who (:mod:`precimed.lake.erasure`)."""

    id: str
    erased_at: str
    centre: str
    people: int
    catalog_version: int
    rows_removed: dict[str, int]
    files: dict[str, list[str]]  # table -> removed files, relative to the table's folder
    vacuumed_at: str = ""


@dataclass(frozen=True)
class Catalog:
    version: int
    standard_version: str
    tables: dict[str, int]
    submissions: dict[str, CommittedSubmission] = field(default_factory=dict)  # by digest
    releases: dict[str, Release] = field(default_factory=dict)
    updated_at: str = ""
    erasures: list[Erasure] = field(default_factory=list)
    # releases whose files an erasure's vacuum deleted: name -> why they can not be read
    retired: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {"format": CATALOG_FORMAT, **asdict(self)}
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Catalog:
        data = json.loads(text)
        if data.pop("format", None) != CATALOG_FORMAT:
            raise ValueError("unknown catalog format")
        data["submissions"] = {
            k: CommittedSubmission(**v) for k, v in data.get("submissions", {}).items()
        }
        data["releases"] = {k: Release(**v) for k, v in data.get("releases", {}).items()}
        data["erasures"] = [Erasure(**e) for e in data.get("erasures", [])]
        return cls(**data)

    def current(self, digest: str) -> CommittedSubmission | None:
        """The submission of this package digest if the lake is still as it left it.

        A package is a no-op only against the state it produced: once anything else has
        been committed (a corrected package, another centre), the same package may change
        rows again (A, then B, then A restores A's values), so it must be diffed anew.
        """
        committed = self.submissions.get(digest)
        if committed is None or committed.catalog_version != self.version:
            return None
        return committed

    def evolve(self, **changes: object) -> Catalog:
        values = {**self.__dict__, **changes, "version": self.version + 1, "updated_at": now()}
        return Catalog(**values)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
