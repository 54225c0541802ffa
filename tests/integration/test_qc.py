"""The QC gate end to end: a threshold override turns a verdict; re-scoring and the
scorecard from the command line."""

from __future__ import annotations

import json

import pytest

from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.settings import load_settings
from precimed.synth import synthesise

from .test_cli import run


@pytest.mark.slow
def test_a_regional_threshold_override_changes_the_verdict(tmp_path, home_at):
    home = home_at(tmp_path / "home")
    packages = synthesise(tmp_path / "p", participants_count=300, seed=5, defect_rate=0.01,
                          defect_kinds=("out_of_range",), centres=("SH01",))
    package = packages.packages["SH01"]
    first = submit(package, home)
    assert (first.status, first.verdict) == ("rejected", "fail")
    share = next(r["rate"] for r in first.report.qc["results"]
                 if r["check"] == "possible_range" and r["failing"])
    assert 0 < share <= 0.02
    home.qc_rules_dir.mkdir(parents=True)
    (home.qc_rules_dir / "1.0-east.toml").write_text(
        'version = "1.0-east"\nextends = "1.0"\n[[override]]\ncheck = "possible_range"\n'
        'regions = ["east"]\nthreshold = 0.02\n', encoding="utf-8")
    lenient = load_settings({"home": home.home}, environ={"PRECIMED_QC_RULES": "1.0-east"})
    second = submit(package, lenient)
    assert (second.status, second.verdict) == ("committed", "pass")
    assert Lake(home.lake_dir).catalog().version == 1


@pytest.mark.slow  # init, synth, two submits and five QC commands in subprocesses: 43 s CPU
def test_rescore_and_scorecard_from_the_command_line(tmp_path):
    home = tmp_path / "home"
    assert run("init", home=home).returncode == 0
    assert run("synth", str(tmp_path / "p"), "--participants", "150", "--centres",
               "SH01,XJ01").returncode == 0
    for centre in ("SH01", "XJ01"):
        done = run("submit", str(tmp_path / "p" / centre), home=home)
        assert done.returncode == 0 and "QC pass" in done.stdout, done.stdout
    rules = run("qc", "rules", home=home)
    assert "1.0 (active)" in rules.stdout and "1.1" in rules.stdout
    for version, how in (("1.1", "queries run"), ("1.0", "queries run"),
                         ("1.0", "counts reused")):
        rescored = run("qc", "rescore", "--rules", version, home=home)
        assert rescored.returncode == 0, rescored.stderr
        assert rescored.stdout.count(how) == 2, rescored.stdout
    shown = run("qc", "scorecard", "--json", "--centre", "XJ01", "--html",
                str(tmp_path / "card.html"), home=home)
    rows = json.loads(shown.stdout[:shown.stdout.rindex("]") + 1])
    assert [(r["kind"], r["rules"]) for r in rows] == [
        ("submission", "1.0"), ("rescore", "1.1"), ("rescore", "1.0"), ("rescore", "1.0")]
    assert all(r["plausibility"] == 1.0 for r in rows)
    assert "<svg" in (tmp_path / "card.html").read_text(encoding="utf-8")
    unknown = run("qc", "rescore", "--rules", "9.9", home=home)
    assert unknown.returncode == 3 and "Known rule sets: 1.0, 1.1" in unknown.stderr
