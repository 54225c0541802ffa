"""From a centre's file to typed columns of a standard table, with every problem listed.

Driven by the declarations in :mod:`precimed.standard`: field types, vocabularies,
required flags, ranges, and the measurement and exposure catalogues. All conversion is
vectorised; Python loops run only over distinct values and over bad cells.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

from precimed.deid.generalise import year_month
from precimed.ingest.package import DROP, FileMapping
from precimed.ingest.parse import (
    bad_mask,
    map_codes,
    parse_dates,
    parse_integers,
    parse_numbers,
)
from precimed.ingest.readers import RawFile
from precimed.reports.masking import mask
from precimed.reports.problems import Problem, Report
from precimed.standard import (
    CENTRES,
    COHORTS,
    EXPOSURE_ITEMS,
    MEASUREMENT_ITEMS,
    vocabulary,
)
from precimed.standard.catalogue import unit_key
from precimed.standard.icd10 import parse_icd10
from precimed.standard.identity import normalise, resident_id_problem
from precimed.standard.regions import region_of
from precimed.standard.tables import IDENTIFYING_BY_NAME, Field, Table

EARLIEST_DATE = dt.date(1900, 1, 1)
# The oldest people alive when cohorts enrolled (1990s on) were born in the 1880s.
EARLIEST_BIRTH = dt.date(1880, 1, 1)


@dataclass(frozen=True)
class Converted:
    """A file's rows in standard form, still carrying the resident ID for pseudonymising.

    ``headers`` maps a standard field to the centre's header, so QC problems name the
    column the centre knows; ``invalid`` maps a field to the cells that held a value
    that did not convert (already reported), so no check calls them empty.
    """

    file: str
    table: str
    columns: dict[str, pa.Array]
    rows: pa.Array
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    invalid: dict[str, pa.Array] = dataclasses.field(default_factory=dict)


class FileConverter:
    """Converts one raw file to one standard table, reporting into ``report``."""

    def __init__(self, raw: RawFile, table: Table, mapping: FileMapping | None,
                 report: Report, *, centre: str, today: dt.date) -> None:
        self.raw, self.table, self.mapping = raw, table, mapping
        self.report, self.centre, self.today = report, centre, today
        self.file = raw.name
        self.invalid: dict[str, pa.Array] = {}
        self.field_of: dict[str, str] = {}  # the centre's header -> the standard's field

    # -- reporting ----------------------------------------------------------------
    def problems(self, kind: str, bad: pa.Array, column: str, values: pa.Array,
                 message: str | Callable[[str], str], hint: str, *,
                 identifier: bool = False) -> None:
        """One problem per True cell of ``bad``."""
        if not pc.any(bad).as_py():
            return
        indices = pc.indices_nonzero(bad)
        rows = pc.take(self.raw.rows, indices).to_pylist()
        texts = pc.take(pc.cast(values, pa.string()), indices).to_pylist()
        for row, text in zip(rows, texts, strict=True):
            shown = "" if text is None else (mask(text) if identifier else text)
            said = message(text or "") if callable(message) else message
            self.report.add(Problem(kind, self.file, row, column, shown, said, hint,
                                    field=self.field_of.get(column, "")))

    def file_problem(self, kind: str, column: str, message: str, hint: str) -> None:
        self.report.add(Problem(kind, self.file, 0, column, "", message, hint))

    # -- mapping ------------------------------------------------------------------
    def mapped_columns(self) -> dict[str, tuple[str, pa.Array]] | None:
        """Standard field -> (the centre's header, raw text); None if unusable."""
        allowed = {f.name for f in self.table.submitted_fields} | set(IDENTIFYING_BY_NAME)
        columns: dict[str, tuple[str, pa.Array]] = {}
        mapping = self.mapping.columns if self.mapping else {}
        for header in self.raw.table.column_names:
            target = mapping.get(header, header)
            if target not in allowed and target.lower() in allowed:
                target = target.lower()  # 'Sex' or 'SEX' for sex
            if target == DROP:
                continue
            if target not in allowed:
                self.file_problem(
                    "unknown_column", header,
                    f"the column is not a field of table {self.table.name}",
                    "Map it to a field in mapping.json, or map it to 'drop'.")
                continue
            if target in columns:
                self.file_problem("header", header,
                                  f"a second column maps to field {target}",
                                  "Map only one column to each field.")
                continue
            values = self.raw.table.column(header).combine_chunks()
            if self.mapping and target in self.mapping.values:
                table = self.mapping.values[target]
                values = map_codes(values, lambda v, t=table: t.get(v, v) if v else v)
            columns[target] = (header, values)
            self.field_of[header] = target
        missing = [f.name for f in self.table.submitted_fields
                   if f.required and f.name not in columns and f.name != "pseudonym"]
        if "resident_id" not in columns:
            missing.insert(0, "resident_id")
        for name in missing:
            self.file_problem("missing_column", name,
                              f"the required field {name} has no column",
                              "Add the column, or map your column to it in mapping.json.")
        return None if missing else columns

    # -- conversion ---------------------------------------------------------------
    def convert(self) -> Converted | None:
        columns = self.mapped_columns()
        if columns is None:
            return None
        out: dict[str, pa.Array] = {}
        for field in self.table.submitted_fields:
            if field.name in columns:
                header, raw = columns[field.name]
                out[field.name] = self.field(field, header, raw)
            else:
                out[field.name] = pa.nulls(len(self.raw.rows), field.arrow_type)
        header, raw = columns["resident_id"]
        out["resident_id"] = self.resident_ids(header, raw)
        special = getattr(self, f"table_{self.table.name}", None)
        if special is not None:
            special(columns, out)
        headers = {name: header for name, (header, _raw) in columns.items()}
        return Converted(self.file, self.table.name, out, self.raw.rows, headers,
                         self.invalid)

    def field(self, field: Field, header: str, raw: pa.Array) -> pa.Array:
        if field.vocabulary == "icd10":
            values = map_codes(raw, _icd10_code)
            self.problems("vocabulary", bad_mask(raw, values), header, raw,
                          "not a valid ICD-10 code", "Use a WHO ICD-10 code such as I21.9 "
                          "(national clinical-edition suffixes are accepted).")
        elif field.vocabulary in {"measurement", "exposure"}:
            values = map_codes(raw, vocabulary(field.vocabulary).code_for)
            self.problems("vocabulary", bad_mask(raw, values), header, raw,
                          f"not a code of the {field.vocabulary} catalogue",
                          f"See the {field.vocabulary} catalogue in the data dictionary "
                          "('precimed standard docs').")
        elif field.vocabulary:
            vocab = vocabulary(field.vocabulary)
            values = map_codes(raw, vocab.code_for)
            self.problems("vocabulary", bad_mask(raw, values), header, raw,
                          f"not a code of vocabulary {vocab.name}",
                          "Allowed: " + ", ".join(list(vocab.codes)[:12])
                          + (" ..." if len(vocab.codes) > 12 else "")
                          + "; or map your labels in mapping.json.")
        elif field.type == "date":
            values = self.dates(header, raw)
        elif field.type == "integer":
            values = parse_integers(raw)
            self.problems("type", bad_mask(raw, values), header, raw, "not a whole number",
                          "Write a whole number such as 2.")
        elif field.type == "float" and field.name != "value":
            values, _ = parse_numbers(raw)
            self.problems("type", bad_mask(raw, values), header, raw, "not a number",
                          "Write a number such as 2.5.")
        else:
            values = raw
        if field.type in {"integer", "float"} and field.name != "value":
            self.range_check(field, header, raw, values)
        if field.required:
            self.problems("missing_value", pc.is_null(raw), header, raw,
                          f"the required field {field.name} is empty",
                          "Fill the cell; the data dictionary says what it holds.")
        invalid = bad_mask(raw, values)
        if pc.any(invalid).as_py():
            self.invalid[field.name] = invalid
        return values

    def range_check(self, field: Field, header: str, raw: pa.Array, values: pa.Array) -> None:
        low = field.min if field.min is not None else float("-inf")
        high = field.max if field.max is not None else float("inf")
        outside = pc.fill_null(pc.or_(pc.less(values, low), pc.greater(values, high)), False)
        self.problems("out_of_range", outside, header, raw,
                      f"outside the possible range {low:g} to {high:g}",
                      "Check the value and its unit.")

    def dates(self, header: str, raw: pa.Array, earliest: dt.date = EARLIEST_DATE) -> pa.Array:
        values = parse_dates(raw)
        self.problems("date", bad_mask(raw, values), header, raw,
                      "not a valid date", "Write dates as 2019-03-05, 2019/3/5, 20190305 or "
                      "2019年3月5日; check the day exists in that month.")
        future = pc.fill_null(pc.greater(values, pa.scalar(self.today, pa.date32())), False)
        self.problems("date", future, header, raw, "the date is in the future",
                      "Check the year; dates cannot be after the day of submission.")
        ancient = pc.fill_null(pc.less(values, pa.scalar(earliest, pa.date32())), False)
        self.problems("date", ancient, header, raw, f"the date is before {earliest.year}",
                      "Check the year.")
        return pc.if_else(pc.or_(future, ancient), pa.scalar(None, pa.date32()), values)

    def resident_ids(self, header: str, raw: pa.Array) -> pa.Array:
        ids = map_codes(raw, valid_resident_id)
        self.problems("resident_id", bad_mask(raw, ids), header, raw,
                      lambda v: f"the resident ID {resident_id_problem(normalise(v))}",
                      "Correct the number from the ID card; in Excel keep the column as text "
                      "so the 18 digits are not rounded.", identifier=True)
        self.problems("missing_value", pc.is_null(raw), header, raw,
                      "the resident ID is empty", "Every row must name its participant.")
        return ids

    # -- table-specific rules -------------------------------------------------------
    def table_participant(self, columns: dict, out: dict[str, pa.Array]) -> None:
        if "birth_date" in columns:
            header, raw = columns["birth_date"]
            birth = self.dates(header, raw, earliest=EARLIEST_BIRTH)
            empty = pc.is_null(raw)  # a bad date was reported as such above
        else:  # characters 7-14 of a valid resident ID
            ids = out["resident_id"]
            birth = parse_dates(pc.utf8_slice_codeunits(ids, 6, 14))
            empty = pc.is_null(birth)
        out["birth_year_month"] = year_month(birth)
        self.problems("missing_value", pc.and_(pc.is_valid(out["resident_id"]), empty),
                      "birth_date", pa.nulls(len(birth), pa.string()),
                      "the birth date is missing", "Give the birth date or a valid resident ID.")
        out["region"] = map_codes(out["native_province"], lambda p: region_of(p) if p else None)
        centre_cohort = CENTRES[self.centre].cohort
        header = columns["cohort"][0]
        wrong = pc.fill_null(pc.not_equal(out["cohort"], centre_cohort), False)
        self.problems("cohort", wrong, header, out["cohort"],
                      f"centre {self.centre} submits to cohort {centre_cohort} only",
                      "Send participants of other cohorts through their own centre.")
        cohort = COHORTS[centre_cohort]
        if cohort.region:
            outside = pc.fill_null(pc.not_equal(out["region"], cohort.region), False)
            header = columns["native_province"][0]
            self.problems("cohort", outside, header, out["native_province"],
                          f"the native province is not in region {cohort.region}, so the "
                          f"person cannot join {cohort.code}",
                          "Regional cohorts enrol by native place (籍贯); check the code.")
        after = pc.fill_null(pc.less(out["enrolment_date"], pc.cast(
            pc.strptime(pc.binary_join_element_wise(out["birth_year_month"], "01", "-"),
                        format="%Y-%m-%d", unit="s"), pa.date32())), False)
        self.problems("date", after, columns["enrolment_date"][0],
                      out["enrolment_date"], "enrolment is before birth",
                      "Check the enrolment date and the birth date.")

    def table_measurement(self, columns: dict, out: dict[str, pa.Array]) -> None:
        codes = out["code"]
        header, raw = columns.get("value", ("value", pa.nulls(len(codes), pa.string())))
        value, qualifier = parse_numbers(raw)
        text = map_codes(raw, vocabulary("qualitative_result").code_for)
        text = pc.if_else(pc.is_valid(value), pa.scalar(None, pa.string()), text)
        self.problems("type", pc.and_(bad_mask(raw, value), pc.is_null(text)), header, raw,
                      "not a number or a qualitative result",
                      "Write a number (5.6, <0.1) or negative/positive (阴性/阳性).")
        unit_header, units = columns.get("unit", ("unit", pa.nulls(len(codes), pa.string())))
        pairs = pc.binary_join_element_wise(pc.fill_null(codes, ""), pc.fill_null(units, ""),
                                            "\x1f")
        factors = pc.cast(map_codes(pairs, _factor_text), pa.float64())
        unknown = pc.and_(pc.and_(pc.is_valid(value), pc.is_valid(codes)), pc.is_null(factors))
        self.problems("unit", unknown, unit_header, pairs,
                      lambda p: _unit_message(*p.split("\x1f")),
                      "Use one of the item's accepted units (see the data dictionary).")
        # possible and plausible ranges, and units that do not fit, are QC checks
        out["value"] = pc.multiply(value, factors)
        out["value_qualifier"] = qualifier
        out["value_text"] = text
        out["submitted_unit"] = units
        out["unit"] = map_codes(codes, lambda c: MEASUREMENT_ITEMS[c].unit if c else None)

    def table_exposure(self, columns: dict, out: dict[str, pa.Array]) -> None:
        codes = out["code"]
        header, raw = columns.get("value", ("value", pa.nulls(len(codes), pa.string())))
        kinds = map_codes(codes, lambda c: EXPOSURE_ITEMS[c].kind if c else None)
        numeric = pc.equal(kinds, "numeric")
        value, _ = parse_numbers(raw)
        value = pc.if_else(numeric, value, pa.scalar(None, pa.float64()))
        self.problems("type", pc.and_(pc.fill_null(numeric, False), bad_mask(raw, value)),
                      header, raw, "not a number", "This exposure is numeric; write a number.")
        pairs = pc.binary_join_element_wise(pc.fill_null(codes, ""), pc.fill_null(raw, ""),
                                            "\x1f")
        category = map_codes(pairs, _category_code)
        categorical = pc.fill_null(pc.equal(kinds, "categorical"), False)
        self.problems("vocabulary", pc.and_(categorical, bad_mask(raw, category)), header,
                      pairs, lambda p: f"not a category of exposure {p.split(chr(31))[0]}",
                      "Use the exposure's category codes or labels (see the data dictionary).")
        lows = pc.cast(map_codes(codes, lambda c: _exposure_limit(c, 0)), pa.float64())
        highs = pc.cast(map_codes(codes, lambda c: _exposure_limit(c, 1)), pa.float64())
        outside = pc.fill_null(pc.or_(pc.less(value, lows), pc.greater(value, highs)), False)
        self.problems("out_of_range", outside, header, raw,
                      "outside the exposure's possible range", "Check the value and its unit.")
        unit_header, units = columns.get("unit", ("unit", pa.nulls(len(codes), pa.string())))
        unit_pairs = pc.binary_join_element_wise(pc.fill_null(codes, ""),
                                                 pc.fill_null(units, ""), "\x1f")
        wrong_unit = pc.fill_null(pc.and_(numeric, pc.equal(
            map_codes(unit_pairs, _exposure_unit_ok), "no")), False)
        self.problems("unit", wrong_unit, unit_header, units,
                      "not the exposure's unit", "Convert to the unit in the data dictionary.")
        out["value"] = value
        out["value_code"] = category
        out["unit"] = map_codes(codes, lambda c: EXPOSURE_ITEMS[c].unit or None if c else None)

    def table_medication(self, columns: dict, out: dict[str, pa.Array]) -> None:
        header, raw = columns["atc_code"]
        codes = pc.utf8_upper(raw)
        valid = pc.match_substring_regex(codes, r"^[A-Z](\d{2}([A-Z]([A-Z](\d{2})?)?)?)?$")
        self.problems("vocabulary", pc.fill_null(pc.invert(valid), False), header, raw,
                      "not a WHO ATC code", "Use an ATC code such as C08CA01 (amlodipine).")
        out["atc_code"] = codes


@lru_cache(maxsize=1 << 20)
def valid_resident_id(value: str | None) -> str | None:
    """The normalised ID, or None; cached because every file of a package repeats them."""
    normal = normalise(value) if value is not None else None
    return normal if normal and not resident_id_problem(normal) else None


def _icd10_code(text: str | None) -> str | None:
    parsed = parse_icd10(text) if text else None
    return parsed.value if parsed else None


def _factor_text(pair: str) -> str | None:
    code, unit = pair.split("\x1f")
    item = MEASUREMENT_ITEMS.get(code)
    if item is None:
        return None
    factor = item.factor(unit) if unit else None
    return None if factor is None else repr(factor)


def _unit_message(code: str, unit: str) -> str:
    item = MEASUREMENT_ITEMS.get(code)
    accepted = ", ".join(item.accepted_units) if item else "?"
    if not unit:
        return f"the unit of {code} is missing (accepted: {accepted})"
    return f"{unit!r} is not an accepted unit of {code} (accepted: {accepted})"


def _category_code(pair: str) -> str | None:
    code, text = pair.split("\x1f")
    item = EXPOSURE_ITEMS.get(code)
    return item.category_for(text) if item and text else None


def _exposure_limit(code: str | None, side: int) -> str | None:
    item = EXPOSURE_ITEMS.get(code) if code else None
    return repr(item.limits[side]) if item and item.limits else None


def _exposure_unit_ok(pair: str) -> str:
    code, unit = pair.split("\x1f")
    item = EXPOSURE_ITEMS.get(code)
    if item is None or not unit or item.kind != "numeric":
        return "yes"
    return "yes" if unit_key(unit) == unit_key(item.unit) else "no"

