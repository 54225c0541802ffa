"""synth → submit → release on small populations, with real Delta tables and DuckDB."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.qc import load_ruleset
from precimed.standard import LAKE_TABLES, TABLES
from precimed.synth import synthesise
from precimed.synth.defects import DEFECT_KINDS, EXPECTED_CHECK


def lake_rows(settings, release=None) -> dict[str, int]:
    """Rows of the tables centres submit (derived tables, such as variant_summary, are
    computed by the platform and not part of a package)."""
    snapshot = Lake(settings.lake_dir).snapshot(release)
    assert set(snapshot.tables) == set(LAKE_TABLES)
    return {t: snapshot.count(t) for t in TABLES}


def test_every_clean_package_commits_with_exact_row_counts(home, clean_packages):
    for centre, package in clean_packages.packages.items():
        result = submit(package, home)
        assert result.status == "committed", (centre, result.report.problems[:3])
        # clean data: no check of rule set 1.0 goes past its threshold
        beyond = [(r["check"], r["instance"], r["failing"], r["checked"])
                  for r in result.report.qc["results"] if r["status"] in {"warn", "fail"}]
        assert (result.verdict, beyond) == ("pass", []), centre
    assert lake_rows(home) == clean_packages.rows
    Lake(home.lake_dir).create_release("r1")
    assert lake_rows(home, "r1") == clean_packages.rows
    participants = Lake(home.lake_dir).snapshot("r1").to_arrow("participant")
    assert set(participants.column("standard_version").to_pylist()) == {"1.0.0"}
    assert participants.num_rows == 600


def test_the_same_package_twice_changes_nothing(home, clean_packages):
    package = clean_packages.packages["SH01"]
    first = submit(package, home)
    version = Lake(home.lake_dir).catalog().version
    rows = lake_rows(home)
    copy = Path(shutil.copytree(package, home.home / "copy-of-SH01"))
    for again in (package, copy):
        second = submit(again, home)
        assert second.status == "unchanged"
        assert second.committed.submission_id == first.submission_id
    assert Lake(home.lake_dir).catalog().version == version
    assert lake_rows(home) == rows


def _corrected(package: Path, out: Path) -> tuple[Path, str]:
    """A copy of a UTF-8 CSV package with the first measurement value changed, and the
    manifest's size and checksum of that file updated (a centre's corrected package)."""
    import hashlib

    copy = Path(shutil.copytree(package, out))
    path = copy / "measurement.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    cells = lines[1].split(",")
    cells[2] = f"{float(cells[2]) + 1:.1f}"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["path"] == path.name:
            data = path.read_bytes()
            entry["size"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return copy, cells[2]


def test_an_earlier_package_after_a_corrected_one_restores_its_values(home, clean_packages):
    package = clean_packages.packages["SH01"]
    first = submit(package, home)
    before = _measurements(home)
    corrected, value = _corrected(package, home.home / "SH01-corrected")
    assert submit(corrected, home).status == "committed"
    changed = _measurements(home)
    assert sum(changed[k] != before[k] for k in before) == 1 and float(value) in changed.values()
    again = submit(package, home)  # the earlier package, sent again
    assert again.status == "committed" and again.report.rows_updated["measurement"] == 1
    assert again.submission_id != first.submission_id
    assert _measurements(home) == before
    assert submit(package, home).status == "unchanged"  # twice in a row: a no-op


def _measurements(settings) -> dict[str, float]:
    rows = Lake(settings.lake_dir).snapshot().to_arrow("measurement", ["row_key", "value"])
    return dict(zip(rows.column("row_key").to_pylist(), rows.column("value").to_pylist(),
                    strict=True))


def test_gbk_package_with_chinese_headers_is_read(home, clean_packages):
    package = clean_packages.packages["SD01"]
    data_file = next(p for p in package.iterdir() if p.suffix == ".csv")
    with pytest.raises(UnicodeDecodeError):
        data_file.read_bytes().decode("utf-8")
    assert submit(package, home).status == "committed"
    assert lake_rows(home)["participant"] > 0


@pytest.mark.slow  # 400 people over three centres per kind: 11-13 s CPU each
@pytest.mark.parametrize("kind", DEFECT_KINDS)
def test_each_injected_defect_kind_is_reported_where_it_was_put(kind, tmp_path, home_at):
    settings = home_at(tmp_path / "home")
    packages = synthesise(tmp_path / "p", participants_count=400, seed=11, defect_rate=0.02,
                          defect_kinds=(kind,), centres=("SH01", "SD01", "JS01"))
    injected = packages.defects
    assert injected, "the generator injected nothing"
    before = Lake(settings.lake_dir).catalog().version
    check = load_ruleset("1.0").checks[EXPECTED_CHECK[kind]]
    for centre, package in packages.packages.items():
        result = submit(package, settings)
        assert result.status == "rejected" and result.verdict == "fail"
        fired = [r for r in result.report.qc["results"] if r["check"] == check.id]
        assert any(r["status"] == "fail" and r["failing"] > 0 for r in fired), fired
        found = {(p.file, p.row) for p in result.report.problems
                 if p.kind == check.id or p.kind in check.kinds}
        for defect in (d for d in injected if d["centre"] == centre):
            assert (defect["file"], defect["row"]) in found, defect
        for problem in result.report.problems:
            assert problem.hint and problem.message and problem.file
    assert Lake(settings.lake_dir).catalog().version == before
    assert sum(lake_rows(settings).values()) == 0


@pytest.mark.slow  # 300 people synthesised and submitted: 4 s CPU
def test_unit_mixup_message_names_the_likely_unit(tmp_path, home_at):
    settings = home_at(tmp_path / "home")
    packages = synthesise(tmp_path / "p", participants_count=300, seed=3, defect_rate=0.02,
                          defect_kinds=("unit_mixup",), centres=("SH01",))
    result = submit(packages.packages["SH01"], settings)
    messages = [p.message for p in result.report.problems if p.kind == "unit_plausibility"]
    assert messages and all("if the number is in mg/dL" in m for m in messages)


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from precimed.settings import load_settings
    from precimed.ingest.pipeline import submit
    written = []
    def die(table):
        written.append(table)
        if len(written) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
    submit(Path(sys.argv[2]), load_settings({"home": sys.argv[1]}, environ={}),
           after_table=die)
""")


def test_submission_killed_mid_commit_leaves_the_lake_unchanged(home, clean_packages):
    submit(clean_packages.packages["SH01"], home)
    catalog_before = (home.lake_dir / "catalog.json").read_text()
    rows_before = lake_rows(home)
    package = clean_packages.packages["GD01"]
    killed = subprocess.run([sys.executable, "-c", KILLER, str(home.home), str(package)],
                            capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert (home.lake_dir / "catalog.json").read_text() == catalog_before
    assert lake_rows(home) == rows_before  # readable, and the half-commit is invisible
    result = submit(package, home)
    assert result.status == "committed"
    gd01 = result.report.rows
    assert lake_rows(home) == {t: rows_before[t] + gd01.get(t, 0) for t in rows_before}


def test_no_identifier_reaches_the_lake_reports_or_output(home, clean_packages, tmp_path):
    centres = ("SH01", "SD01", "JS01", "XJ01")
    identifiers = set()
    for centre in centres:
        identifiers |= _identifiers(clean_packages.packages[centre])
    assert len(identifiers) > 100
    log = tmp_path / "out.txt"
    with open(log, "w") as handle:
        proc = subprocess.run(
            [sys.executable, "-c", "import sys; from precimed.cli.main import main; "
             "sys.exit(main())", "--home", str(home.home), "submit",
             *[str(clean_packages.packages[c]) for c in centres]],
            stdout=handle, stderr=subprocess.STDOUT)
    assert proc.returncode == 0, log.read_text()
    texts = [log.read_text()]
    for path in home.home.rglob("*"):
        if path.is_file() and path.suffix != ".parquet" and "keys" not in path.parts:
            texts.append(path.read_bytes().decode("utf-8", errors="replace"))
    haystack = "\n".join(texts)
    leaked = [i for i in identifiers if len(i) >= 8 and i in haystack]
    assert not leaked
    snapshot = Lake(home.lake_dir).snapshot()
    values = set()
    for table in snapshot.tables:
        data = snapshot.to_arrow(table)
        for column in data.column_names:
            if str(data.schema.field(column).type) == "string":
                values |= set(data.column(column).to_pylist())
    assert not (identifiers & values)


def _identifiers(package: Path) -> set[str]:
    """Resident IDs, names and phone numbers as the package holds them."""
    from precimed.ingest.package import read_manifest
    from precimed.ingest.readers import read_file
    from precimed.reports.problems import Report

    manifest = read_manifest(package)
    mapping = {}
    if manifest.mapping:
        mapping = json.loads((package / manifest.mapping.path).read_text("utf-8"))["files"]
    found = set()
    for entry in manifest.files:
        raw = read_file(package / entry.path, entry.path, Report("", "", ""))
        columns = mapping.get(entry.path, {}).get("columns", {})
        for header in raw.table.column_names:
            if columns.get(header, header) in {"resident_id", "name", "phone", "address"}:
                found |= set(raw.table.column(header).to_pylist())
    return found - {None}


def test_bad_packages_are_rejected_with_clear_reports(home, clean_packages, tmp_path):
    source = clean_packages.packages["SH01"]
    broken = Path(shutil.copytree(source, tmp_path / "broken"))
    participant = broken / "participant.csv"
    text = participant.read_text().splitlines()
    header = text[0].split(",")
    participant.write_text("\n".join([",".join([*header, "favourite_colour"]),
                                      *[line + ",blue" for line in text[1:]]]) + "\n")
    result = submit(broken, home)
    kinds = {p.kind for p in result.report.problems}
    assert result.status == "rejected" and kinds == {"checksum"}
    manifest = json.loads((broken / "manifest.json").read_text())
    from precimed.ingest.package import sha256_of

    for entry in manifest["files"]:
        entry["size"] = (broken / entry["path"]).stat().st_size
        entry["sha256"] = sha256_of(broken / entry["path"])
    (broken / "manifest.json").write_text(json.dumps(manifest))
    result = submit(broken, home)
    assert result.status == "rejected"
    unknown = [p for p in result.report.problems if p.kind == "unknown_column"]
    assert unknown and unknown[0].column == "favourite_colour" and "drop" in unknown[0].hint
    (broken / "manifest.json").unlink()
    result = submit(broken, home)
    assert result.status == "rejected" and "manifest.json" in result.report.problems[0].message
    assert sum(lake_rows(home).values()) == 0


def test_lab_values_in_mg_per_dl_and_flags_land_in_canonical_units(home, clean_packages):
    for centre in ("GX01", "SC01", "SH01"):
        assert submit(clean_packages.packages[centre], home).status == "committed"
    con = Lake(home.lake_dir).snapshot().connect()
    m = con.table("measurement")
    glucose = m.filter(m.code == "GLU_FAST").group_by(["centre", "submitted_unit"]).aggregate(
        mean=m.value.mean(), unit=m.unit.first()).to_pyarrow().to_pylist()
    by_centre = {g["centre"]: g for g in glucose}
    assert by_centre["GX01"]["submitted_unit"] == "mg/dL"
    assert by_centre["SH01"]["submitted_unit"] == "mmol/L"
    for g in glucose:  # every centre's mean near 5-6 mmol/L once converted
        assert g["unit"] == "mmol/L" and 4.0 < g["mean"] < 7.5, g
    flagged = m.filter((m.centre == "SC01") & m.value.isnull() & m.value_text.isnull())
    assert flagged.count().execute() == 0  # '5.6↑' was read as 5.6


def test_synth_is_deterministic_for_a_seed(tmp_path):
    a = synthesise(tmp_path / "a", participants_count=200, seed=5, centres=("SD01",))
    b = synthesise(tmp_path / "b", participants_count=200, seed=5, centres=("SD01",))
    for path in sorted((tmp_path / "a").rglob("*")):
        if path.is_file():
            twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
            assert path.read_bytes() == twin.read_bytes(), path.name
    assert a.rows == b.rows
    truth = json.loads((tmp_path / "a" / "truth" / "ground_truth.json").read_text())
    assert truth["endpoints"]["chd"]["log_hazard_ratios"]["smoker"] > 0
    assert max(truth["four_year_loss"].values()) > 0.08 > min(truth["four_year_loss"].values())
