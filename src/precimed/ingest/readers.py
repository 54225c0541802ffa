"""Readers for the file formats centres send: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030)
and XLSX. Every reader returns all cells as text with the spreadsheet row of each
record; typing happens later, in one place, with every problem reported."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from precimed.reports.problems import Problem, Report

ENCODINGS = ("utf-8", "gb18030")  # GB18030 decodes GBK and GB2312 too
# What hospital and survey exports write in an empty cell.
NULL_TOKENS = ("NULL", "null", "NA", "N/A", "n/a", "#N/A", "None", "nan", "NaN", "空", "缺失")


@dataclass(frozen=True)
class ReadLimits:
    """What one data file may hold (settings max_columns, max_rows, max_line_bytes):
    a file past them is refused before it is read whole."""

    columns: int = 2000
    rows: int = 20_000_000
    line_bytes: int = 1024**2

    @classmethod
    def of(cls, settings) -> ReadLimits:
        return cls(settings.max_columns, settings.max_rows, settings.max_line_bytes)


@dataclass(frozen=True)
class RawFile:
    name: str
    table: pa.Table  # every column as string; empty cells are null
    rows: pa.Array  # spreadsheet row number of each record (header = row 1)


def read_file(path: Path, name: str, report: Report, *, encoding: str | None = None,
              limits: ReadLimits = ReadLimits()) -> RawFile | None:
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt", ".tsv"}:
        return read_csv(path, name, report, encoding=encoding, limits=limits)
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        return read_xlsx(path, name, report, limits=limits)
    report.add(Problem("file_format", name, 0, "", "", f"files of type {suffix!r} are not read",
                       "Send CSV (UTF-8 or GBK) or XLSX."))
    return None


def decode(data: bytes, name: str, report: Report, encoding: str | None) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data, encoding = data[3:], encoding or "utf-8"
    for candidate in (encoding,) if encoding else ENCODINGS:
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    tried = encoding or " or ".join(ENCODINGS)
    report.add(Problem("encoding", name, 0, "", "", f"the file cannot be decoded as {tried}",
                       "Save the file as 'CSV UTF-8' (or GBK) from Excel, or state its "
                       "encoding in manifest.json."))
    return None


def usable_header(header: list[str], name: str, report: Report) -> bool:
    """A header row must name its columns, each once."""
    if not any(header):
        report.add(Problem("empty_file", name, 0, "", "", "the file has no header row",
                           "Put the column names in the first row."))
        return False
    if len(set(header)) != len(header):
        duplicate = next(h for h in header if header.count(h) > 1)
        report.add(Problem("header", name, 1, duplicate, "", "the column name appears twice",
                           "Give every column its own name."))
        return False
    return True


def _too_wide(columns: int, name: str, report: Report, limits: ReadLimits) -> bool:
    if columns <= limits.columns:
        return False
    report.add(Problem("too_large", name, 1, "", "",
                       f"the file has more than {limits.columns:,} columns",
                       "Send one table per file with the standard's columns only; ask the "
                       "platform's administrator if a table really needs more."))
    return True


def _header_fits(path: Path, name: str, report: Report, limits: ReadLimits,
                 delimiter: str) -> bool:
    """Whether the header line is within the column and line limits, read alone: a file
    past them is refused before the rest of it is read."""
    with open(path, "rb") as handle:
        head = handle.read(limits.line_bytes + 1)
    end = head.find(b"\n")
    line = head if end < 0 else head[:end]
    if _too_wide(line.count(delimiter.encode()) + 1, name, report, limits):
        return False
    if end < 0 and len(head) > limits.line_bytes:
        report.add(Problem("too_large", name, 1, "", "",
                           f"the first line is longer than {limits.line_bytes:,} bytes",
                           "Check that the file is CSV with one record per line."))
        return False
    return True


def read_csv(path: Path, name: str, report: Report, *, encoding: str | None = None,
             limits: ReadLimits = ReadLimits()) -> RawFile | None:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    if not _header_fits(path, name, report, limits, delimiter):
        return None
    text = decode(path.read_bytes(), name, report, encoding)
    if text is None:
        return None
    first_line = text.split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    header = [h.strip() for h in header]
    if not usable_header(header, name, report):
        return None
    bad_rows: list[int] = []

    def invalid_row(row: pacsv.InvalidRow) -> str:
        # row.number counts physical lines from 1 (the header); never echo row.text.
        bad_rows.append(row.number or 0)
        report.add(Problem("row_shape", name, row.number or 0, "", "",
                           f"the row has {row.actual_columns} fields, the header "
                           f"{row.expected_columns}", "Quote cells that contain commas; "
                           "remove stray separators."))
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            # a record longer than a block cannot be parsed: the block bounds the line
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1,
                                           use_threads=False,
                                           block_size=max(1 << 24, limits.line_bytes)),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False,
                                             invalid_row_handler=invalid_row),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header},
                strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        report.add(Problem("file_format", name, 0, "", "",
                           f"the file is not readable CSV ({str(exc).split(':')[0]})",
                           "Export it again as CSV from the source system."))
        return None
    if _too_long(table.num_rows, name, report, limits):
        return None
    rows = _row_numbers(table.num_rows, sorted(bad_rows))
    return RawFile(name, _strip(table), rows)


def _too_long(rows: int, name: str, report: Report, limits: ReadLimits) -> bool:
    if rows <= limits.rows:
        return False
    report.add(Problem("too_large", name, 0, "", "", f"the file has more than "
                       f"{limits.rows:,} rows", "Split the table over several packages."))
    return True


def _row_numbers(count: int, skipped: list[int]) -> pa.Array:
    """Spreadsheet row of each kept record, given the physical rows that were skipped."""
    if not skipped:
        return pa.array(range(2, count + 2), pa.int32())
    numbers, row, skip = [], 2, iter(skipped)
    next_skip = next(skip, None)
    while len(numbers) < count:
        while next_skip is not None and row == next_skip:
            row += 1
            next_skip = next(skip, None)
        numbers.append(row)
        row += 1
    return pa.array(numbers, pa.int32())


def _strip(table: pa.Table) -> pa.Table:
    """Trim cells; empty cells and the usual null tokens become null."""
    empty = pa.array(["", *NULL_TOKENS], pa.string())
    columns = []
    for column in table.columns:
        stripped = pc.utf8_trim_whitespace(column)
        columns.append(pc.if_else(pc.is_in(stripped, value_set=empty),
                                  pa.scalar(None, pa.string()), stripped))
    return pa.table(columns, names=table.column_names)


def read_xlsx(path: Path, name: str, report: Report, *, limits: ReadLimits = ReadLimits(),
              ) -> RawFile | None:
    """The first sheet, every cell as text (fastexcel reads it straight into Arrow)."""
    try:
        reader = fastexcel.read_excel(str(path))
        first = reader.load_sheet(0, header_row=None, n_rows=1, dtypes="string").to_arrow()
        if _too_wide(first.num_columns, name, report, limits):
            return None
        sheet = reader.load_sheet(0, header_row=None, skip_rows=1, dtypes="string",
                                  n_rows=limits.rows + 1, schema_sample_rows=None).to_arrow()
        if _too_long(sheet.num_rows, name, report, limits):
            return None
    except (fastexcel.FastExcelError, OSError, ValueError) as exc:
        report.add(Problem("file_format", name, 0, "", "",
                           f"the workbook cannot be read ({type(exc).__name__})",
                           "Save it again as .xlsx from Excel or WPS."))
        return None
    header = [str(first.column(i)[0].as_py() or "").strip() for i in range(first.num_columns)]
    if not usable_header(header, name, report):
        return None
    columns = [_date_cells(sheet.column(i)) if i < sheet.num_columns
               else pa.nulls(sheet.num_rows, pa.string()) for i in range(len(header))]
    table = _strip(pa.table(columns, names=header))
    rows = pa.array(range(2, table.num_rows + 2), pa.int32())
    # rows left empty in the sheet are not records
    filled = pc.is_valid(table.column(0))
    for column in table.columns[1:]:
        filled = pc.or_(filled, pc.is_valid(column))
    return RawFile(name, table.filter(filled), rows.filter(filled.combine_chunks()))


def _date_cells(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Excel date cells come as '2019-03-05 00:00:00'; keep the date."""
    column = pc.cast(column, pa.string())
    return pc.replace_substring_regex(column, r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00$", r"\1")
