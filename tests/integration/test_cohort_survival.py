"""A cohort's survival analysis as the platform runs it: the result names its release
and definition; its data are the cohort's members with death-registry follow-up, checked
against counts made independently from the Delta tables with pandas; the estimates equal
the validated estimators run on those data; small groups get no estimates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from platform_home import settings_for
from precimed.analysis import CoxPH, KaplanMeier
from precimed.cli.main import main
from precimed.lake import Lake
from precimed.query import AgeAtEnrolment, ParticipantIs, cohort
from precimed.workflows.survival import YEAR, cohort_survival, survival_data

OLDER = cohort("aged 50 and over", AgeAtEnrolment(50, None))


def test_the_data_are_the_members_with_their_deaths(released_home):
    settings = settings_for(released_home)
    data, provenance = survival_data(settings, OLDER, release="r1", endpoint="death")
    snapshot = Lake(settings.lake_dir).snapshot("r1")
    people = snapshot.to_arrow("participant").to_pandas()
    deaths = snapshot.to_arrow("death").to_pandas()
    born = pd.to_datetime(people.birth_year_month + "-01")
    enrolled = pd.to_datetime(people.enrolment_date)
    age = (enrolled.dt.year - born.dt.year) - (enrolled.dt.month < born.dt.month)
    members = people[age >= 50]
    assert len(data) == len(members)
    cut = pd.Timestamp(settings.as_of_given)
    died = deaths[pd.to_datetime(deaths.death_date) <= cut].pseudonym
    assert data.event.sum() == members.pseudonym.isin(died).sum()
    assert provenance.release == "r1" and provenance.cohort == OLDER.to_dict()
    assert provenance.catalog_version == snapshot.catalog_version


def test_the_result_is_the_estimators_on_those_data(released_home):
    settings = settings_for(released_home)
    result = cohort_survival(settings, OLDER, release="r1", endpoint="death", by="sex",
                             covariates=("age", "male"))
    data, _ = survival_data(settings, OLDER, release="r1", endpoint="death")
    assert result["provenance"]["cohort"]["name"] == "aged 50 and over"
    for group in result["groups"]:
        rows = data[data.sex == group["group"]]
        if not group["n"] or not group["events"]:
            assert "curve" not in group
            continue
        km = KaplanMeier().fit(rows.time_days / YEAR, rows.event)
        # the curve is published at the whole years that leave no small count to
        # subtract (events and censored between two published years are 0 or >= 10)
        years = [p["year"] for p in group["curve"]]
        assert years[0] == 0 and years == sorted(set(years))
        estimates = km.at(years)
        assert [p["survival"] for p in group["curve"]] == list(estimates.survival)
        assert all(p["at_risk"] >= 10 for p in group["curve"])
        time = rows.time_days.to_numpy() / YEAR
        event = rows.event.to_numpy().astype(bool)
        for a, b in zip(years, [*years[1:], np.inf], strict=True):
            between = (time >= a) & (time < b)
            died, censored = int(event[between].sum()), int((~event[between]).sum())
            assert died == 0 or died >= 10, (a, b, died)
            assert censored == 0 or censored >= 10, (a, b, censored)
    assert any(len(g.get("curve", [])) > 1 for g in result["groups"])
    cox = CoxPH().fit(data[["time_days", "event", "age", "male"]].dropna(), "time_days",
                      "event", covariates=["age", "male"])
    assert abs(result["cox"]["hazard_ratios"]["age"]["hr"]
               - float(cox.summary.loc["age", "exp(coef)"])) < 1e-12
    json.dumps(result)  # serialisable as it is


def test_a_tiny_cohort_gets_no_estimates(released_home):
    settings = settings_for(released_home)
    tiny = cohort("tiny", ParticipantIs("centre", ("SH01",)), AgeAtEnrolment(88, None))
    result = cohort_survival(settings, tiny, release="r1", endpoint="death")
    assert not result["n"] or not result["events"]
    assert result["cox"] is None and result["groups"] == []


def test_the_command_line_writes_the_result_with_its_provenance(released_home, tmp_path,
                                                                capsys):
    path = tmp_path / "older.json"
    path.write_text(OLDER.to_json(), encoding="utf-8")
    out = tmp_path / "result.json"
    code = main(["--home", str(released_home), "cohort", "survival", str(path),
                 "--release", "r1", "--by", "sex", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "death in 'aged 50 and over', release r1" in printed and "HR age" in printed
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["provenance"]["release"] == "r1"
