"""Problems found in a submission (by ingest or by QC), and the report that lists every one
of them."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from precimed.reports.masking import redact

# A broken file can produce a problem per row; past this many of one kind in one column
# the report keeps a count instead of every row.
MAX_EXAMPLES_PER_KIND = 1000
# and past this many in all (setting max_problems), only counts per kind and file
MAX_LISTED = 10_000


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a package.

    ``row`` is the spreadsheet row as a person sees it when opening the file (the header
    is row 1, the first data row is row 2); 0 when the problem concerns the whole file.
    ``column`` is the centre's header; ``field`` the standard's field when it differs.
    ``value`` is what the file holds, masked when the column is an identifier; in
    ``value`` and ``message`` anything that looks like a phone number, a resident ID or
    an e-mail address is starred out (:func:`precimed.reports.masking.redact`).
    """

    kind: str
    file: str
    row: int
    column: str
    value: str
    message: str
    hint: str
    pseudonym: str = ""  # a short pseudonym reference for rows found by QC queries
    field: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", redact(self.value))
        object.__setattr__(self, "message", redact(self.message))

    def line(self) -> str:
        where = self.file + (f", row {self.row}" if self.row else "")
        where += f", column {self.column}" if self.column else ""
        where += f" (field {self.field})" if self.field and self.field != self.column else ""
        value = f" (value {self.value!r})" if self.value else ""
        return f"{where}: {self.message}{value}. Hint: {self.hint}"


@dataclass
class Report:
    submission_id: str
    centre: str
    package: str
    status: str = "received"
    problems: list[Problem] = field(default_factory=list)
    omitted: Counter = field(default_factory=Counter)  # (kind, file, column) -> count not listed
    rows: dict[str, int] = field(default_factory=dict)
    rows_added: dict[str, int] = field(default_factory=dict)
    rows_updated: dict[str, int] = field(default_factory=dict)
    qc: dict = field(default_factory=dict)  # the QC outcome: verdict, results, distributions
    max_listed: int = MAX_LISTED  # problems listed one by one; the rest are counted
    _per_kind: Counter = field(default_factory=Counter, repr=False)

    def note_omitted(self, kind: str, file: str, column: str, count: int) -> None:
        """Count problems beyond the examples listed (QC queries count them in bulk)."""
        if count > 0:
            self._per_kind[(kind, file, column)] += count
            self.omitted[(kind, file, column)] += count

    def problem_counts(self) -> Counter:
        """(kind, file, column) -> number of problems, listed or not."""
        return Counter(self._per_kind)

    def add(self, problem: Problem) -> None:
        key = (problem.kind, problem.file, problem.column)
        self._per_kind[key] += 1
        if len(self.problems) >= self.max_listed:
            # counted per kind and file only: a file with a million bad columns must not
            # make a million entries of the report either
            self.omitted[(problem.kind, problem.file, "")] += 1
        elif self._per_kind[key] > MAX_EXAMPLES_PER_KIND:
            self.omitted[key] += 1
        else:
            self.problems.append(problem)

    @property
    def problem_count(self) -> int:
        return len(self.problems) + sum(self.omitted.values())

    def counts_by_kind(self) -> dict[str, int]:
        counts: Counter = Counter()
        for (kind, _, _), n in self._per_kind.items():
            counts[kind] += n
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict:
        return {
            "submission_id": self.submission_id,
            "centre": self.centre,
            "package": self.package,
            "status": self.status,
            "problem_count": self.problem_count,
            "problems_by_kind": self.counts_by_kind(),
            "problems": [asdict(p) for p in self.problems],
            "omitted": [{"kind": k, "file": f, "column": c, "count": n}
                        for (k, f, c), n in sorted(self.omitted.items())],
            "rows": self.rows,
            "rows_added": self.rows_added,
            "rows_updated": self.rows_updated,
            "qc": self.qc,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1),
                        encoding="utf-8")
