"""Vectorised parsers for the cell forms Chinese exports use.

Each parser takes a string column and returns the typed column plus a mask of cells
that held something but could not be parsed, so the caller can report every bad cell.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

# 2019-03-05, 2019/3/5, 2019.3.5, 2019年3月5日 (a time part is ignored)
_SEPARATED = (r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
              r"(?:[ T].*)?$")
_COMPACT = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"
# Excel serial day numbers (1 = 1900-01-01; 25569 = 1970-01-01) between 1900 and 2100
_SERIAL = r"^(?P<n>[1-7]\d{4})(?:\.0+)?$"
_EXCEL_EPOCH_OFFSET = 25569

_NUMBER = (r"^(?P<q>[<>≤≥＜＞]?)\s*(?P<n>[-+]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][-+]?\d+)?)"
           r"\s*(?P<f>[↑↓HLhl*]*)$")


def bad_mask(raw: pa.Array, parsed: pa.Array) -> pa.Array:
    """Cells with text that did not parse."""
    return pc.and_(pc.is_valid(raw), pc.is_null(parsed))


def parse_dates(raw: pa.Array) -> pa.Array:
    """date32 column from any of the accepted forms; impossible dates become null."""
    raw = pc.cast(raw, pa.string())
    separated = pc.extract_regex(raw, _SEPARATED)
    compact = pc.extract_regex(raw, _COMPACT)
    year = pc.coalesce(pc.struct_field(separated, "y"), pc.struct_field(compact, "y"))
    month = pc.coalesce(pc.struct_field(separated, "m"), pc.struct_field(compact, "m"))
    day = pc.coalesce(pc.struct_field(separated, "d"), pc.struct_field(compact, "d"))
    iso = pc.binary_join_element_wise(
        year, pc.utf8_lpad(month, 2, "0"), pc.utf8_lpad(day, 2, "0"), "-")
    stamp = pc.strptime(iso, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2019-02-30 over to 2019-03-02: keep only dates that round-trip
    round_trip = pc.equal(pc.strftime(stamp, format="%Y-%m-%d"), iso)
    dates = pc.if_else(round_trip, pc.cast(stamp, pa.date32()), pa.scalar(None, pa.date32()))
    serial = pc.cast(pc.struct_field(pc.extract_regex(raw, _SERIAL), "n"), pa.int32())
    days = pc.cast(pc.subtract(serial, pa.scalar(_EXCEL_EPOCH_OFFSET, pa.int32())), pa.int32())
    from_serial = days.view(pa.date32()) if isinstance(days, pa.Array) else pa.chunked_array(
        [c.view(pa.date32()) for c in days.chunks], pa.date32())
    return pc.coalesce(dates, from_serial)


def parse_numbers(raw: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Numbers as labs write them: ``5.6``, ``5,6``, ``5.6↑``, ``<0.1``.

    Returns (value float64, qualifier '<' / '>' or null).
    """
    raw = pc.cast(raw, pa.string())
    parts = pc.extract_regex(raw, _NUMBER)
    text = pc.replace_substring(pc.struct_field(parts, "n"), ",", ".")
    value = pc.cast(text, pa.float64())
    qualifier = pc.struct_field(parts, "q")
    qualifier = pc.replace_substring_regex(qualifier, "[<≤＜]", "<")
    qualifier = pc.replace_substring_regex(qualifier, "[>≥＞]", ">")
    qualifier = pc.if_else(pc.equal(qualifier, ""), pa.scalar(None, pa.string()), qualifier)
    return value, qualifier


def parse_integers(raw: pa.Array) -> pa.Array:
    value, qualifier = parse_numbers(raw)
    whole = pc.and_(pc.and_(pc.equal(pc.floor(value), value), pc.is_null(qualifier)),
                    pc.less(pc.abs(value), 2**31))
    return pc.if_else(whole, pc.cast(value, pa.int32(), safe=False), pa.scalar(None, pa.int32()))


def map_codes(raw: pa.Array, lookup) -> pa.Array:
    """Map each distinct text through ``lookup`` (text -> code or None), once per value."""
    raw = pc.cast(raw, pa.string())
    encoded = pc.dictionary_encode(raw)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes = pa.array([lookup(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(codes, encoded.indices)

