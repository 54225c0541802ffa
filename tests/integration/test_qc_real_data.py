"""Real data through QC: WHAS500 and flchain (survival studies), Eunomia (OMOP).

The WHAS500 data hold two diastolic pressures below what is physically possible (6 and
11 mmHg); rule set 1.0 fails the package on them and names their rows. A centre rule set
that lets that centre's historic data in with warnings turns the verdict round.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.settings import load_settings
from precimed.synth.survival import package_from_flchain, package_from_whas500


@pytest.fixture(scope="module")
def whas500(tmp_path_factory) -> Path:
    return package_from_whas500(tmp_path_factory.mktemp("whas") / "package")


def test_whas500_fails_on_impossible_diastolic_pressures_named_by_row(whas500, home):
    result = submit(whas500, home)
    assert (result.status, result.verdict) == ("rejected", "fail")
    assert Lake(home.lake_dir).catalog().version == 0
    failed = {r["check"] for r in result.report.qc["results"] if r["status"] == "fail"}
    assert failed == {"possible_range", "unit_plausibility"}  # 6 mmHg reads as 6 kPa
    impossible = [p for p in result.report.problems if p.kind == "possible_range"]
    assert sorted(p.value for p in impossible) == ["11", "6"]
    rows = pd.read_csv(whas500 / "measurement.csv", dtype=str)
    for problem in impossible:
        source = rows.iloc[problem.row - 2]  # the header is row 1
        assert (problem.file, source.code) == ("measurement.csv", "DBP")
        assert float(source.value) == float(problem.value)
        assert "possible range 20-200" in problem.message
    # plausible-range findings are listed but stay under the 5% threshold
    plausible = [r for r in result.report.qc["results"] if r["check"] == "plausible_range"]
    assert sum(r["failing"] for r in plausible) > 10
    assert all(r["status"] == "pass" for r in plausible)
    html = (home.reports_dir / f"{result.submission_id}.html").read_text(encoding="utf-8")
    assert 'data-verdict="fail"' in html and "<svg" in html and "DBP" in html


def test_a_centre_rule_set_lets_the_historic_data_in_with_warnings(whas500, tmp_path,
                                                                    home_at):
    home = home_at(tmp_path / "home")
    home.qc_rules_dir.mkdir(parents=True)
    (home.qc_rules_dir / "1.0-sh-neu.toml").write_text(
        'version = "1.0-sh-neu"\nextends = "1.0"\n'
        'en = "1.0 with SH-NEU historic records let in with warnings"\n'
        '[[override]]\ncheck = "possible_range"\ncentres = ["SH-NEU"]\nseverity = "warning"\n'
        '[[override]]\ncheck = "unit_plausibility"\ncentres = ["SH-NEU"]\n'
        'severity = "warning"\n', encoding="utf-8")
    settings = load_settings({"home": home.home}, environ={"PRECIMED_QC_RULES": "1.0-sh-neu"})
    result = submit(whas500, settings)
    assert (result.status, result.verdict) == ("committed", "pass_with_warnings")
    assert result.report.qc["rules_version"] == "1.0-sh-neu"
    assert Lake(home.lake_dir).snapshot().count("measurement") == 2000


def test_flchain_passes_with_warnings_and_creatinine_in_mg_dl_is_converted(tmp_path, home):
    result = submit(package_from_flchain(tmp_path / "flchain"), home)
    assert (result.status, result.verdict) == ("committed", "pass_with_warnings")
    warned = {r["check"] for r in result.report.qc["results"] if r["status"] == "warn"}
    assert warned == {"baseline_measurements"}  # a blood study: no anthropometry, no BP
    crea = Lake(home.lake_dir).snapshot().to_arrow("measurement").to_pandas()
    assert set(crea.code) == {"CREA"} and set(crea.unit) == {"µmol/L"}
    assert crea.value.median() == pytest.approx(88.4, rel=0.15)  # about 1.0 mg/dL
