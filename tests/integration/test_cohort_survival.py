"""A cohort's survival analysis as the platform runs it: the result names its release
and definition; its data are the cohort's members with death-registry follow-up, checked
against counts made independently from the Delta tables with pandas; the estimates equal
the validated estimators run on those data; small groups get no estimates."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from platform_home import settings_for
from precimed.analysis import CoxPH, KaplanMeier
from precimed.cli.main import main
from precimed.deid import PERTURBED, Policy, cellkey
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


# -- the perturbed tier: cell keys (issue 14 (h)) ------------------------------------------
KEYED = Policy(threshold=10, rounding=1, perturb=True, tier=PERTURBED)  # noise, no rounding


def _members(settings, as_of: str | None = None) -> pd.DataFrame:
    """OLDER's members from the Delta tables, independently of the workflow: pseudonym,
    sex, died (by ``as_of``, default the pinned date) and their record keys."""
    snapshot = Lake(settings.lake_dir).snapshot("r1")
    people = snapshot.to_arrow("participant").to_pandas()
    deaths = snapshot.to_arrow("death").to_pandas()
    born = pd.to_datetime(people.birth_year_month + "-01")
    enrolled = pd.to_datetime(people.enrolment_date)
    age = (enrolled.dt.year - born.dt.year) - (enrolled.dt.month < born.dt.month)
    cut = pd.Timestamp(as_of or settings.as_of_given)
    members = people[(age >= 50) & (enrolled <= cut)].copy()
    died = deaths[pd.to_datetime(deaths.death_date) <= cut].pseudonym
    members["died"] = members.pseudonym.isin(died)
    members["key"] = cellkey.record_keys(members.pseudonym.tolist(),
                                         cellkey.platform_secret(settings))
    return members


def test_perturbed_survival_counts_carry_their_peoples_cell_keys(released_home):
    settings = settings_for(released_home)
    members = _members(settings)
    result = cohort_survival(settings, OLDER, release="r1", endpoint="death", by="sex",
                             policy=KEYED)
    assert result["tier"] == PERTURBED

    def published(rows: pd.DataFrame) -> int:  # what the gate makes of these people
        return KEYED.publish(len(rows), key=cellkey.cell_key(rows.key.to_numpy()))

    assert (result["n"], result["events"]) == (published(members),
                                               published(members[members.died]))
    for group in result["groups"]:
        rows = members[members.sex == group["group"]]
        assert group["n"] == published(rows), group["group"]
        assert group["events"] in (None, published(rows[rows.died])), group["group"]
    # the same question on the same release gives the same answer
    again = cohort_survival(settings, OLDER, release="r1", endpoint="death", by="sex",
                            policy=KEYED)
    assert {k: v for k, v in again.items() if k != "provenance"} == \
        {k: v for k, v in result.items() if k != "provenance"}


@pytest.mark.slow
def test_a_one_day_move_of_as_of_gives_no_exact_one_death_difference(released_home):
    settings = settings_for(released_home)
    members = _members(settings)
    deaths = Lake(settings.lake_dir).snapshot("r1").to_arrow("death").to_pandas()
    deaths = deaths[deaths.pseudonym.isin(members.pseudonym)]
    days = pd.to_datetime(deaths.death_date).dt.date.value_counts()
    enrolled = set(pd.to_datetime(members.enrolment_date).dt.date)
    single = sorted(d for d, n in days.items() if n == 1 and d not in enrolled)[-6:]
    assert len(single) >= 5
    differences, exact = [], []
    for day in single:
        counts = []
        for when in (day - dt.timedelta(days=1), day):
            moved = settings_for(released_home, as_of=when.isoformat())
            for policy, out in ((KEYED, counts), (None, exact)):
                r = cohort_survival(moved, OLDER, release="r1", endpoint="death",
                                    covariates=(), policy=policy)
                out.append(r["events"])
        differences.append(counts[1] - counts[0])
    assert [b - a for a, b in zip(exact[::2], exact[1::2], strict=True)] == [1] * len(single)
    # each published count is within the noise of the true one, and the one death is not
    # read off as a difference of exactly one every time
    assert all(abs(d - 1) <= 2 * cellkey.NOISE_MAX for d in differences)
    assert differences.count(1) < len(differences), differences
