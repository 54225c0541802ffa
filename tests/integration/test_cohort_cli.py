"""Cohort definitions run from the command line, checked against answers computed
independently from the lake's Delta tables with pandas."""

from __future__ import annotations

import pandas as pd
import pytest

from precimed.home import initialise
from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.ops import OpsDatabase, audit
from precimed.query import (
    AgeAtEnrolment,
    Diagnosis,
    MeasurementIn,
    Not,
    ParticipantIs,
    baseline,
    before,
    cohort,
)
from precimed.settings import load_settings

from .test_cli import run

# a module fixture submits 600 people through every centre (187 s on a loaded machine)
pytestmark = pytest.mark.slow

DEFINITION = cohort(
    "hypertensive women 40-69 without prior MI",
    ParticipantIs("sex", ("2",)),
    AgeAtEnrolment(40, 70),
    MeasurementIn("SBP", min=140, window=baseline()),
    Not(Diagnosis(("I21",), window=before())),
)


@pytest.fixture(scope="module")
def released(clean_packages, tmp_path_factory):
    home = load_settings({"home": tmp_path_factory.mktemp("cohort") / "home"}, environ={})
    initialise(home)
    for package in clean_packages.packages.values():
        assert submit(package, home).accepted
    Lake(home.lake_dir).create_release("r1")
    return home


def by_pandas(home) -> tuple[list[int], pd.DataFrame]:
    snapshot = Lake(home.lake_dir).snapshot("r1")
    people = snapshot.to_arrow("participant").to_pandas()
    sbp = snapshot.to_arrow("measurement").to_pandas()
    conditions = snapshot.to_arrow("condition").to_pandas()
    counts = [len(people)]
    women = people[people.sex == "2"]
    counts.append(len(women))
    birth = pd.to_datetime(women.birth_year_month + "-01")
    enrolled = pd.to_datetime(women.enrolment_date)
    age = ((enrolled.dt.year - birth.dt.year) * 12 + enrolled.dt.month - birth.dt.month) // 12
    aged = women[(age >= 40) & (age < 70)]
    counts.append(len(aged))
    high = sbp[(sbp.code == "SBP") & (sbp.wave == 0) & (sbp.value >= 140)]
    hypertensive = aged[aged.pseudonym.isin(high.pseudonym)]
    counts.append(len(hypertensive))
    mi = conditions[conditions.icd10.str.startswith("I21")].merge(
        people[["pseudonym", "enrolment_date"]], on="pseudonym")
    prior = mi[pd.to_datetime(mi.diagnosed_on) < pd.to_datetime(mi.enrolment_date)]
    final = hypertensive[~hypertensive.pseudonym.isin(prior.pseudonym)]
    counts.append(len(final))
    return counts, final


def test_count_and_attrition_from_the_command_line(released, tmp_path):
    path = tmp_path / "def.json"
    path.write_text(DEFINITION.to_json(), encoding="utf-8")
    shown = run("cohort", "count", str(path), "--release", "r1", "--tier", "exact",
                home=released.home)
    assert shown.returncode == 0, shown.stderr
    expected, _ = by_pandas(released)
    assert all(n >= 10 for n in expected)  # nothing here needs suppressing
    lines = [line for line in shown.stdout.splitlines() if line.startswith("  ")]
    assert [int(line.split()[-1].replace(",", "")) for line in lines] == expected
    assert shown.stdout.rstrip().endswith(f"count: {expected[-1]:,}")
    # the default is what a researcher sees: noisy counts rounded to 5, near the truth
    noisy = run("cohort", "count", str(path), "--release", "r1", home=released.home)
    lines = [line for line in noisy.stdout.splitlines() if line.startswith("  ")]
    published = [int(line.split()[-1].replace(",", "")) for line in lines]
    assert all(p % 5 == 0 and abs(p - n) <= 4 for p, n in zip(published, expected,
                                                               strict=True))
    again = run("cohort", "count", str(path), "--release", "r1", home=released.home)
    assert again.stdout == noisy.stdout  # the same people, the same numbers


def test_extract_has_every_member_and_their_baseline_values(released, tmp_path):
    path = tmp_path / "def.json"
    path.write_text(DEFINITION.to_json(), encoding="utf-8")
    out = tmp_path / "extract.csv"
    done = run("cohort", "extract", str(path), str(out), "--release", "r1", "--variables",
               "sex,age,region,SBP,BMI", home=released.home)
    assert done.returncode == 0, done.stderr
    extract = pd.read_csv(out, dtype={"sex": str})
    _, expected = by_pandas(released)
    assert sorted(extract.pseudonym) == sorted(expected.pseudonym)
    assert set(extract.sex) == {"2"} and extract.age.between(40, 69).all()
    assert (extract.SBP >= 140).all() and extract.BMI.notna().all()
    ops = OpsDatabase(released.database_url)  # audited as the API's extract is
    exports = audit.events(ops, action="export")
    ops.dispose()
    assert exports[0].outcome == "ok" and exports[0].client == "cli"
    assert exports[0].actor.startswith("cli:")
    assert exports[0].detail["rows"] == len(extract)
    assert exports[0].resource == "cohort extract, release r1"


def test_small_counts_are_suppressed_and_small_extracts_refused(released, tmp_path):
    people = Lake(released.lake_dir).snapshot("r1").to_arrow("participant").to_pandas()
    people = people[people.centre == "SH01"]
    birth = pd.to_datetime(people.birth_year_month + "-01")
    enrolled = pd.to_datetime(people.enrolment_date)
    ages = ((enrolled.dt.year - birth.dt.year) * 12 + enrolled.dt.month - birth.dt.month) // 12
    oldest = next(a for a in range(100, 18, -1) if 1 <= (ages >= a).sum() < 10)
    tiny = cohort("one centre's oldest", ParticipantIs("centre", ("SH01",)),
                  AgeAtEnrolment(oldest, None))
    path = tmp_path / "tiny.json"
    path.write_text(tiny.to_json(), encoding="utf-8")
    shown = run("cohort", "count", str(path), "--release", "r1", home=released.home)
    assert shown.returncode == 0 and "count: <10" in shown.stdout, shown.stdout
    refused = run("cohort", "extract", str(path), str(tmp_path / "x.csv"), "--release", "r1",
                  "--variables", "sex", home=released.home)
    assert refused.returncode != 0 and "fewer than 10 members" in refused.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "precimed-cohort", "version": 1, "criteria": '
                   '[{"kind": "measurement", "code": "XYZ"}]}', encoding="utf-8")
    refused = run("cohort", "count", str(bad), "--release", "r1", home=released.home)
    assert refused.returncode == 2 and "Unknown measurement 'XYZ'" in refused.stderr


def test_follow_up_and_endpoint_adjudication_from_the_command_line(tmp_path):
    import json

    home = tmp_path / "home"
    assert run("init", home=home).returncode == 0
    assert run("synth", str(tmp_path / "p"), "--participants", "800", "--seed", "4",
               "--centres", "SD01,SH01").returncode == 0
    for centre in ("SD01", "SH01"):
        assert run("submit", str(tmp_path / "p" / centre), home=home).returncode == 0
    cut = json.loads((tmp_path / "p" / "truth" / "ground_truth.json").read_text())["data_cut"]
    shown = run("cohort", "retention", "--as-of", cut, home=home)
    assert shown.returncode == 0 and "SD01" in shown.stdout and "SH01" in shown.stdout
    assert "target ≤ 8%" in shown.stdout
    listed = run("cohort", "worklist", "--centre", "SD01", "--as-of", cut, home=home)
    assert listed.returncode == 0 and "overdue" in listed.stdout
    loaded = run("endpoints", "load", home=home)
    assert loaded.returncode == 0 and "queued as pending" in loaded.stdout, loaded.stderr
    queue = run("endpoints", "queue", "--limit", "3", home=home)
    first, second = (line.split()[0] for line in queue.stdout.splitlines()[:2])
    assert run("endpoints", "decide", first, "confirmed", "--reviewer", "dr.li",
               home=home).returncode == 0
    refused = run("endpoints", "decide", second, "rejected", "--reviewer", "dr.li", home=home)
    assert refused.returncode == 2 and "reason" in refused.stderr.lower()
    again = run("endpoints", "decide", first, "rejected", "--reviewer", "dr.wang", "--reason",
                "x", home=home)
    assert again.returncode == 4  # confirmed is final; reopen first
    ops = OpsDatabase(load_settings({"home": home}, environ={}).database_url)
    decisions = audit.events(ops, action="adjudication")
    reads = audit.events(ops, action="read.row_level")
    ops.dispose()
    assert [(e.resource, e.detail["to"], e.client) for e in decisions] == [
        (f"candidate {first}", "confirmed", "cli")]  # the refused ones changed nothing
    assert reads and reads[0].resource == "endpoint candidates"
    history = run("endpoints", "history", first, home=home)
    assert "pending → confirmed" in history.stdout and "dr.li" in history.stdout
    rates = run("endpoints", "incidence", "--as-of", cut, "--by", "sex", home=home)
    assert rates.returncode == 0, rates.stderr
    assert "events <10" in rates.stdout  # one confirmed event: suppressed everywhere
