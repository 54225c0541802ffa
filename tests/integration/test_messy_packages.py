"""Packages broken the ways real ones are: each is rejected with a report that says
what, where and what to do, and the lake stays as it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from precimed.ingest.package import sha256_of
from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.standard.identity import check_character


def reseal(package: Path) -> None:
    """Recompute the manifest's sizes and checksums after editing files."""
    manifest = json.loads((package / "manifest.json").read_text("utf-8"))
    entries = [*manifest["files"], *([manifest["mapping"]] if "mapping" in manifest else [])]
    for entry in entries:
        path = package / entry["path"]
        entry["size"], entry["sha256"] = path.stat().st_size, sha256_of(path)
    (package / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


@pytest.fixture
def package(clean_packages, tmp_path) -> Path:
    return Path(shutil.copytree(clean_packages.packages["SH01"], tmp_path / "SH01"))


def rejected(package: Path, home) -> list:
    before = Lake(home.lake_dir).catalog().version
    result = submit(package, home)
    assert result.status == "rejected"
    assert Lake(home.lake_dir).catalog().version == before
    for problem in result.report.problems:
        assert problem.message and problem.hint and problem.file
    return result.report.problems


def test_null_tokens_and_header_case_are_understood(package, home):
    path = package / "participant.csv"
    lines = path.read_text().splitlines()
    header = lines[0].replace("ethnicity", "Ethnicity").replace("sex", "SEX")
    body = [line.replace(",01,", ",NULL,", 1) for line in lines[1:]]
    path.write_text("\n".join([header, *body]) + "\n")
    reseal(package)
    result = submit(package, home)
    assert result.status == "committed", result.report.problems[:3]
    ethnicity = Lake(home.lake_dir).snapshot().to_arrow("participant").column("ethnicity")
    assert ethnicity.null_count > 0


def test_a_header_only_file_adds_nothing_but_is_fine(package, home):
    path = package / "medication.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    reseal(package)
    result = submit(package, home)
    assert result.status == "committed"
    assert result.report.rows.get("medication", 0) == 0


def test_garbage_workbook_and_undecodable_csv(package, home):
    (package / "death.csv").write_bytes(bytes(range(256)) * 20)
    (package / "visit.csv").rename(package / "visit.xlsx")
    (package / "visit.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    manifest = json.loads((package / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == "visit.csv":
            entry["path"] = "visit.xlsx"
    (package / "manifest.json").write_text(json.dumps(manifest))
    reseal(package)
    kinds = {(p.file, p.kind) for p in rejected(package, home)}
    assert ("death.csv", "encoding") in kinds or ("death.csv", "file_format") in kinds
    assert ("visit.xlsx", "file_format") in kinds


def test_a_file_declared_as_the_wrong_table(package, home):
    manifest = json.loads((package / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == "measurement.csv":
            entry["table"] = "specimen"
    (package / "manifest.json").write_text(json.dumps(manifest))
    problems = rejected(package, home)
    missing = {p.column for p in problems if p.kind == "missing_column"}
    assert {"specimen_id", "specimen_type"} <= missing
    assert any(p.kind == "unknown_column" and p.column == "code" for p in problems)


def test_unknown_centre_and_wrong_standard_version(package, home):
    manifest = json.loads((package / "manifest.json").read_text())
    (package / "manifest.json").write_text(json.dumps({**manifest, "centre": "XX99"}))
    problems = rejected(package, home)
    assert "XX99" in problems[0].message
    (package / "manifest.json").write_text(json.dumps({**manifest,
                                                      "standard_version": "0.3"}))
    problems = rejected(package, home)
    assert "0.3" in problems[0].message and "export again" in problems[0].hint


def test_people_of_another_cohort_and_outside_the_region(package, home):
    path = package / "participant.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace(",NP-EAST,", ",NP-SOUTH,")
    columns = lines[0].split(",")
    province = columns.index("native_province")
    cells = lines[2].split(",")
    cells[province] = "44"  # Guangdong natives belong to the south China cohort
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    reseal(package)
    problems = [p for p in rejected(package, home) if p.kind == "cohort"]
    assert {p.row for p in problems} == {2, 3}


# -- QC that never goes silent ----------------------------------------------------------

def edit_csv(path: Path, change) -> None:
    """Rewrite a CSV in its own encoding (UTF-8 or GB18030) through ``change(rows)``."""
    data = path.read_bytes()
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("gb18030"), "gb18030"
    rows = [line.split(",") for line in text.splitlines()]
    change(rows)
    path.write_bytes(("\n".join(",".join(r) for r in rows) + "\n").encode(encoding))


def outsider() -> str:
    """A valid resident ID of nobody in the packages."""
    first17 = "31010119800101097"
    return first17 + check_character(first17)


def submitted(package: Path, home):
    result = submit(package, home)
    assert result.status == "rejected"
    return result


def by_check(result, check: str) -> list:
    return [p for p in result.report.problems if p.kind == check]


def not_run(result) -> dict[str, list]:
    return {r["instance"]: r["not_read"] for r in result.report.qc["results"]
            if r["status"] == "not_run"}


def test_a_structural_problem_leaves_every_query_check_running(package, home):
    """An unmapped column used to skip every query check: the five planted errors were
    found only on the next resubmission."""
    def plant(rows):
        header = rows[0]
        at = {name: header.index(name) for name in header}
        header.append("备注")  # a column the mapping does not know
        sbp = next(r for r in rows[1:] if r[at["code"]] == "SBP")
        dbp = next(r for r in rows[1:] if r[at["code"]] == "DBP" and
                   r[at["resident_id"]] == sbp[at["resident_id"]]
                   and r[at["measured_on"]] == sbp[at["measured_on"]])
        dbp[at["value"]] = str(float(sbp[at["value"]]) + 5)  # SBP below DBP
        duplicate = list(rows[1])
        orphan = list(rows[2])
        orphan[at["resident_id"]] = outsider()
        impossible = list(sbp)
        impossible[at["value"]], impossible[at["measured_on"]] = "900", "2021-01-01"
        before_birth = list(rows[3])
        before_birth[at["measured_on"]], before_birth[at["wave"]] = "1900-01-02", "0"
        rows += [duplicate, orphan, impossible, before_birth]
        for row in rows[1:]:
            row.append("")
    edit_csv(package / "measurement.csv", plant)
    reseal(package)
    result = submitted(package, home)
    assert by_check(result, "unknown_column")[0].column == "备注"
    for check in ("uniqueness", "referential", "possible_range", "blood_pressure_order",
                  "date_order"):
        assert by_check(result, check), check
    assert not_run(result) == {}


def test_checks_that_could_not_run_are_listed_with_why(package, home):
    def drop_cohort(rows):
        at = rows[0].index("cohort")
        for row in rows:
            del row[at]
    edit_csv(package / "participant.csv", drop_cohort)
    edit_csv(package / "measurement.csv", lambda rows: rows.append(  # SBP 900 mmHg
        [rows[1][0], "SBP", "900", rows[1][3], rows[1][4], "mmHg"]))
    reseal(package)
    result = submitted(package, home)
    skipped = not_run(result)
    for check in ("referential", "date_order", "plausible_range", "baseline_measurements"):
        assert list(skipped[check]) == ["participant.csv"], check
    assert by_check(result, "possible_range")  # run on the rows that could be read
    html = (home.reports_dir / f"{result.submission_id}.html").read_text("utf-8")
    assert "participant.csv could not be read" in html and "无法读取" in html


@pytest.fixture
def chinese_package(clean_packages, tmp_path) -> Path:
    """SD01: GB18030 CSV with Chinese headers and a mapping."""
    return Path(shutil.copytree(clean_packages.packages["SD01"], tmp_path / "SD01"))


def test_query_problems_name_the_centres_column_and_one_error_is_one_problem(
        chinese_package, home):
    def measurements(rows):
        orphan = list(rows[1])
        orphan[0] = outsider()
        impossible = list(rows[1])
        impossible[1], impossible[2], impossible[5] = "SBP", "900", "mmHg"
        rows += [orphan, impossible]

    def ethnicity(rows):
        rows[1][rows[0].index("民族")] = "火星族"  # not a code of GB 3304
    edit_csv(chinese_package / "测量与检验.csv", measurements)
    edit_csv(chinese_package / "参与者.csv", ethnicity)
    reseal(chinese_package)
    result = submitted(chinese_package, home)
    orphan, = by_check(result, "referential")
    assert (orphan.column, orphan.field) == ("居民身份证号", "resident_id")
    impossible, = by_check(result, "possible_range")
    assert (impossible.column, impossible.field) == ("数值", "value")
    assert "数值 (field value)" in impossible.line()
    html = (home.reports_dir / f"{result.submission_id}.html").read_text("utf-8")
    assert '数值 <span class="meta">(value)</span>' in html
    wrong, = [p for p in by_check(result, "vocabulary") if p.column == "民族"]
    assert wrong.field == "ethnicity"  # ingest problems name both too
    assert not [p for p in by_check(result, "ethnicity_filled") if p.row == wrong.row]


def test_phone_numbers_and_ids_in_free_text_are_never_echoed(package, home):
    secret = ("13800000001", "110101199003074514", "zhang.wei@example.com")
    def free_text(rows):
        at = rows[0].index("value")
        rows[1][at] = f"家属张伟 电话{secret[0]}"
        rows[2][at] = f"身份证{secret[1]} {secret[2]}"
    edit_csv(package / "measurement.csv", free_text)
    reseal(package)
    result = submitted(package, home)
    shown = [p.value for p in by_check(result, "type")][:2]
    assert shown == ["家属张伟 电话***********", "身份证****************** " + "*" * 21]
    for path in home.home.rglob("*"):  # report JSON and HTML, operational database, lake
        if path.is_file():
            data = path.read_bytes()
            assert not any(s.encode() in data for s in secret), path


def test_an_assay_naming_no_specimen_is_an_error(package, home):
    def unknown_specimen(rows):
        rows[1][rows[0].index("specimen_id")] = "SH01-99999999"
    edit_csv(package / "assay.csv", unknown_specimen)
    reseal(package)
    result = submitted(package, home)
    problem, = by_check(result, "field_reference")
    assert (problem.row, problem.column, problem.value) == (2, "specimen_id", "SH01-99999999")
