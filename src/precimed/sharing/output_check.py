"""Output checking: what a project's results must pass before they leave the platform.

As in OpenSAFELY's output checking, a result (a table as CSV, model coefficients as CSV,
a figure) is submitted for release and checked before a reviewer sees it. A table says
what each column is (:class:`TableSpec`): grouping columns, row labels, counts, sums (each with the
column of its largest single contribution and of its number of contributors), and other
statistics (means, ratios, coefficients). The checker then, cell by cell:

* counts: primary and secondary suppression through
  :func:`precimed.deid.disclosure.protect_counts` (with the row, column and grand totals
  when ``margins``: the released table then carries them, so a reader can derive nothing
  the check did not see);
* sums: fewer contributors than the threshold, or dominance (:mod:`precimed.deid.dominance`,
  the largest contributor above ``percent`` of the total), hides the cell; the columns of
  largest contributions and contributor counts never leave;
* statistics of a row whose counts are hidden by the threshold are hidden too (a mean of
  three people is about those three people).

The result lists every finding (row, column, rule) and the protected table, which is
what is released if a reviewer approves. A column the spec does not declare, or a count
that is not a whole number, fails the check: nothing is guessed. Figures cannot be read
by the checker and go to the reviewer as ``manual``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from precimed.deid import Policy, protect_count, protect_counts
from precimed.deid.dominance import dominated
from precimed.errors import UserError
from precimed.standard.margins import MARGIN

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
TOTAL = MARGIN  # the margin code; people read it as MARGIN_LABEL (合计 / Total)
OUTPUT_KINDS = ("table", "coefficients", "figure")
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
# rules a finding can name; the first four are fixed by hiding the cell
HIDDEN_RULES = ("threshold", "secondary", "dominance", "contributors", "row_hidden")
FAILING_RULES = ("undeclared", "not_a_count", "not_a_number", "unreadable")


@dataclass(frozen=True)
class SumSpec:
    column: str
    largest: str  # the largest single contribution to the sum, per row
    contributors: str  # how many people (or units) contribute, per row


@dataclass(frozen=True)
class TableSpec:
    by: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    sums: tuple[SumSpec, ...] = ()
    statistics: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # text naming a row that is not a group (a model term)
    margins: bool = True

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TableSpec:
        data = data or {}
        unknown = sorted(set(data) - {"by", "labels", "counts", "sums", "statistics",
                                      "margins"})
        if unknown:
            raise UserError(f"Unknown key {unknown[0]!r} in the table description",
                            where="spec", hint=_SPEC_HINT)
        sums = data.get("sums", [])
        if not isinstance(sums, list) or not all(
                isinstance(x, dict) and set(x) == {"column", "largest", "contributors"}
                and all(isinstance(v, str) for v in x.values()) for x in sums):
            raise UserError("The sums of the table description are not understood",
                            where="spec.sums", hint=_SPEC_HINT)
        return cls(by=_names(data, "by"), labels=_names(data, "labels"),
                   counts=_names(data, "counts"), statistics=_names(data, "statistics"),
                   sums=tuple(SumSpec(**x) for x in sums),
                   margins=bool(data.get("margins", True)))

    def to_dict(self) -> dict[str, Any]:
        return {"by": list(self.by), "counts": list(self.counts),
                "sums": [vars(s) for s in self.sums], "statistics": list(self.statistics),
                "labels": list(self.labels), "margins": self.margins}

    @property
    def declared(self) -> list[str]:
        sums = [c for s in self.sums for c in (s.column, s.largest, s.contributors)]
        return [*self.by, *self.labels, *self.counts, *sums, *self.statistics]


_SPEC_HINT = ("Give by, labels, counts, statistics as lists of column names, sums as "
              "objects with column, largest and contributors, and margins as true/false.")


def _names(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{key} of the table description is not a list of column names",
                        where=f"spec.{key}", hint=_SPEC_HINT)
    return tuple(value)


@dataclass(frozen=True)
class Finding:
    rule: str
    column: str
    row: int | None = None  # 0-based data row of the submitted table; None: the table

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "column": self.column, "row": self.row}


@dataclass
class CheckResult:
    """``status``: ``pass`` (nothing to hide), ``protected`` (releasable with the
    findings' cells hidden), ``fail`` (cannot be released; fix and resubmit) or
    ``manual`` (a figure: the reviewer judges it)."""

    status: str
    findings: list[Finding] = field(default_factory=list)
    protected: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "findings": [f.to_dict() for f in self.findings],
                "hidden_cells": sum(f.rule in HIDDEN_RULES for f in self.findings)}


def check_figure() -> CheckResult:
    return CheckResult("manual")


def read_table(content: bytes) -> pd.DataFrame:
    if len(content) > MAX_BYTES:
        raise UserError("The table is larger than 5 MB", where="file",
                        hint="Submit aggregated results, not rows.")
    try:
        frame = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        raise UserError("The table is not a readable UTF-8 CSV file", where="file",
                        hint="Save it as CSV (UTF-8) with a header row.") from None
    if len(frame) > MAX_ROWS:
        raise UserError(f"The table has more than {MAX_ROWS:,} rows", where="file",
                        hint="Submit aggregated results, not rows.")
    return frame


def check_table(frame: pd.DataFrame, spec: TableSpec, *, policy: Policy,
                dominance_percent: float) -> CheckResult:
    """Check every cell of ``frame`` (all values as text, as read) against ``spec``."""
    findings = [Finding("undeclared", c) for c in frame.columns if c not in spec.declared]
    findings += [Finding("unreadable", c) for c in spec.declared if c not in frame.columns]
    numbers: dict[str, pd.Series] = {}
    for column in [c for c in spec.declared
                   if c in frame.columns and c not in (*spec.by, *spec.labels)]:
        values = pd.to_numeric(frame[column].replace("", None), errors="coerce")
        bad = values.isna() & (frame[column] != "")
        is_count = column in spec.counts or column in [s.contributors for s in spec.sums]
        if is_count:
            bad |= values.notna() & ((values < 0) | (values % 1 != 0))
        findings += [Finding("not_a_count" if is_count else "not_a_number", column, int(i))
                     for i in bad[bad].index]
        numbers[column] = values
    if any(f.rule in FAILING_RULES for f in findings):
        return CheckResult("fail", findings)
    if frame[list(spec.by)].duplicated().any() if spec.by else False:
        return CheckResult("fail", [Finding("unreadable", ", ".join(spec.by))])
    protected = frame[[c for c in frame.columns if c in (*spec.by, *spec.labels, *spec.counts,
                                                          *(s.column for s in spec.sums),
                                                          *spec.statistics)]].copy()
    row_hidden = pd.Series(False, index=frame.index)
    margins = None
    for column in spec.counts:
        try:
            hidden, shown, margin_rows = _protect(frame, numbers[column], column, spec,
                                                  policy)
        except UserError:  # e.g. a group labelled like the totals
            return CheckResult("fail", [*findings, Finding("unreadable", column)])
        for i in hidden[hidden].index:
            rule = "threshold" if policy.is_small(int(numbers[column][i])) else "secondary"
            findings.append(Finding(rule, column, int(i)))
        row_hidden |= hidden & (numbers[column].fillna(0) < policy.threshold)
        protected[column] = shown
        if margin_rows is not None:
            margins = margin_rows if margins is None else margins.merge(margin_rows)
    for s in spec.sums:
        few = numbers[s.contributors].fillna(0).apply(lambda n: policy.is_small(int(n)))
        heavy = pd.Series([dominated(t, g, percent=dominance_percent)
                           for t, g in zip(numbers[s.column].fillna(0),
                                           numbers[s.largest].fillna(0), strict=True)],
                          index=frame.index)
        findings += [Finding("contributors", s.column, int(i)) for i in few[few].index]
        findings += [Finding("dominance", s.column, int(i))
                     for i in heavy[heavy & ~few].index]
        protected[s.column] = frame[s.column].where(~(few | heavy), "")
    for column in spec.statistics:
        findings += [Finding("row_hidden", column, int(i))
                     for i in row_hidden[row_hidden & (frame[column] != "")].index]
        protected[column] = frame[column].where(~row_hidden, "")
    if margins is not None:
        protected = pd.concat([protected, margins], ignore_index=True)
    return CheckResult("protected" if findings else "pass", findings,
                       protected.fillna(""))


def _protect(frame: pd.DataFrame, values: pd.Series, column: str, spec: TableSpec,
             policy: Policy) -> tuple[pd.Series, pd.Series, pd.DataFrame | None]:
    """Which cells of one count column to hide, the column as released, and its margin
    rows (the ``by`` columns and this count) when the spec publishes totals."""
    present = values.notna()
    if not spec.by:
        shown = [protect_count(int(v), policy=policy) if ok else None
                 for v, ok in zip(values, present, strict=True)]
        hidden = pd.Series([ok and s is None for s, ok in zip(shown, present, strict=True)],
                           index=frame.index)
        return hidden, pd.Series(["" if s is None else str(s) for s in shown],
                                 index=frame.index), None
    table = frame.loc[present, list(spec.by)].copy()
    table["count"] = values[present].astype("int64")
    safe = protect_counts(table, by=list(spec.by), count="count", policy=policy,
                          margins=spec.margins, total_label=TOTAL)
    inner = safe.iloc[:len(table)]
    hidden = pd.Series(False, index=frame.index)
    hidden[table.index] = inner["suppressed"].to_numpy()
    shown = pd.Series("", index=frame.index)
    shown[table.index] = [("" if pd.isna(v) else str(int(v))) for v in inner["count"]]
    margin_rows = None
    if spec.margins:
        rest = safe.iloc[len(table):]
        margin_rows = rest[list(spec.by)].copy()
        margin_rows[column] = ["" if pd.isna(v) else str(int(v)) for v in rest["count"]]
    return hidden, shown, margin_rows
