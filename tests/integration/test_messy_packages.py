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
