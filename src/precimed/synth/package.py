"""Dress standard-shaped tables as centres really send them, and write packages.

Centres differ: CSV or XLSX; UTF-8, UTF-8 with BOM or GBK; standard, Chinese or home-made
column headers (mapped by the centre's mapping.json); date forms; sex as 1/2 or 男/女;
lab values in mg/dL; flags such as ``↑`` after abnormal values.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from precimed.ingest.package import MANIFEST, PACKAGE_FORMAT
from precimed.standard import (
    CENTRES,
    MEASUREMENT_ITEMS,
    PROVINCES,
    STANDARD_VERSION,
    TABLES,
)
from precimed.standard.ethnicity import ETHNICITIES
from precimed.standard.tables import IDENTIFYING_BY_NAME

US_UNIT_ITEMS = ("GLU_FAST", "TC", "LDL_C", "HDL_C", "TG")


@dataclass(frozen=True)
class CentreStyle:
    file_format: str = "csv"  # csv or xlsx
    encoding: str = "utf-8"  # utf-8, utf-8-sig or gbk
    headers: str = "standard"  # standard, chinese or custom
    dates: str = "iso"  # iso, slash, compact or chinese
    chinese_labels: bool = False  # 男/女, province and ethnicity names
    us_units: bool = False  # glucose and lipids in mg/dL
    lab_flags: bool = False  # ↑ after values above the plausible range


STYLES: dict[str, CentreStyle] = {
    "JS01": CentreStyle(file_format="xlsx", headers="chinese", chinese_labels=True),
    "SD01": CentreStyle(encoding="gbk", headers="chinese", dates="slash", chinese_labels=True),
    "GD01": CentreStyle(encoding="utf-8-sig", dates="compact"),
    "GX01": CentreStyle(us_units=True),
    "SN01": CentreStyle(encoding="gbk", headers="chinese", dates="chinese",
                        chinese_labels=True),
    "XJ01": CentreStyle(headers="custom", dates="slash"),
    "SC01": CentreStyle(encoding="gbk", headers="chinese", dates="slash", lab_flags=True,
                        chinese_labels=True),
    "LN01": CentreStyle(encoding="utf-8-sig", dates="slash", us_units=True),
    "HL01": CentreStyle(encoding="gbk", headers="chinese", dates="compact",
                        chinese_labels=True),
    "BJ-IMM": CentreStyle(file_format="xlsx"),
    "HN-PSY": CentreStyle(encoding="gbk", headers="chinese", chinese_labels=True),
    "GD-LUC": CentreStyle(lab_flags=True),
}

def style_of(centre: str) -> CentreStyle:
    return STYLES.get(centre, CentreStyle())


def header_for(table: str, field: str, style: CentreStyle) -> str:
    if style.headers == "chinese":
        source = IDENTIFYING_BY_NAME.get(field) or TABLES[table].field(field)
        return source.zh
    if style.headers == "custom":
        return "".join(part.capitalize() for part in field.split("_"))
    return field


def file_name(table: str, style: CentreStyle) -> str:
    stem = TABLES[table].zh if style.headers == "chinese" else table
    return f"{stem}.{style.file_format}"


def format_dates(series: pd.Series, style: CentreStyle) -> pd.Series:
    dates = pd.to_datetime(series)
    if style.dates == "compact":
        text = dates.dt.strftime("%Y%m%d")
    elif style.dates == "slash":
        text = dates.dt.year.astype(str) + "/" + dates.dt.month.astype(str) + "/" + \
            dates.dt.day.astype(str)
    elif style.dates == "chinese":
        text = dates.dt.year.astype(str) + "年" + dates.dt.month.astype(str) + "月" + \
            dates.dt.day.astype(str) + "日"
    else:
        text = dates.dt.strftime("%Y-%m-%d")
    return text.where(dates.notna(), None)


def dress(table: str, frame: pd.DataFrame, style: CentreStyle) -> pd.DataFrame:
    """The frame with the centre's value conventions; columns still standard names."""
    frame = frame.copy()
    for column in frame.columns:
        kind = IDENTIFYING_BY_NAME.get(column)
        is_date = column == "birth_date" or (
            kind is None and TABLES[table].field(column).type == "date")
        if is_date and style.file_format == "csv":
            frame[column] = format_dates(frame[column], style)
    if table == "participant" and style.chinese_labels:
        frame["sex"] = frame.sex.map({"1": "男", "2": "女"})
        frame["native_province"] = frame.native_province.map(lambda p: PROVINCES[p].zh)
        frame["ethnicity"] = frame.ethnicity.map(lambda e: ETHNICITIES[e][0])
    if table == "measurement":
        frame = _lab_conventions(frame, style)
    return frame


def _lab_conventions(frame: pd.DataFrame, style: CentreStyle) -> pd.DataFrame:
    values = frame.value.astype(float)
    text = values.map(lambda v: f"{v:g}")
    if style.us_units:
        for code in US_UNIT_ITEMS:
            item = MEASUREMENT_ITEMS.get(code)
            if item is None or "mg/dL" not in item.other_units:
                continue
            rows = frame.code == code
            converted = values[rows] / item.other_units["mg/dL"]
            text[rows] = converted.round(0).map(lambda v: f"{v:g}")
            frame.loc[rows, "unit"] = "mg/dL"
    if style.lab_flags:
        high = frame.code.map(lambda c: MEASUREMENT_ITEMS[c].plausible[1]).astype(float)
        text = text.where(values <= high, text + "↑")
    frame["value"] = text
    return frame


def write_table(directory: Path, table: str, frame: pd.DataFrame, style: CentreStyle,
                ) -> tuple[str, dict[str, str]]:
    """Write one file; returns its name and its header -> field mapping."""
    name = file_name(table, style)
    headers = {c: header_for(table, c, style) for c in frame.columns}
    out = frame.rename(columns=headers)
    path = directory / name
    if style.file_format == "xlsx":
        out.to_excel(path, index=False, engine="xlsxwriter")
    else:
        encoding = "gb18030" if style.encoding == "gbk" else style.encoding
        out.to_csv(path, index=False, encoding=encoding, lineterminator="\r\n"
                   if style.encoding != "utf-8" else "\n")
    return name, {h: f for f, h in headers.items()}


def write_manifest(directory: Path, centre: str, files: dict[str, str],
                   mapping: dict[str, dict[str, str]] | None) -> None:
    entries = [_entry(directory, name, table) for name, table in files.items()]
    manifest = {"package_format": PACKAGE_FORMAT, "standard_version": STANDARD_VERSION,
                "centre": centre, "cohort": CENTRES[centre].cohort, "files": entries}
    if mapping:
        mapping_doc = {"centre": centre, "files": {
            name: {"columns": columns} for name, columns in mapping.items()}}
        (directory / "mapping.json").write_text(
            json.dumps(mapping_doc, ensure_ascii=False, indent=1), encoding="utf-8")
        manifest["mapping"] = _entry(directory, "mapping.json", "mapping")
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                      encoding="utf-8")


def _entry(directory: Path, name: str, table: str) -> dict:
    data = (directory / name).read_bytes()
    entry = {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return {**entry, "table": table} if table != "mapping" else entry
