"""Every result is assessed at the data cut of what it reads, never at today's date, and
says the date: the release's recorded cut, or the lake's latest observation date.

The shared released home pins ``as_of`` in its precimed.toml; these tests clear it (an
empty argument or PRECIMED_AS_OF=""), which is what a deployment without the setting
sees. The machine's clock is later than the synthetic data's end, so a default read from
the clock would give other results than the cut."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pandas as pd
import pytest

from platform_home import signed_in
from precimed.api.app import create_app
from precimed.cohorts import observation, retention_summary
from precimed.lake import Lake
from precimed.query import AgeAtEnrolment, cohort
from precimed.settings import load_settings
from precimed.workflows.survival import survival_data


def unpinned(home):
    return load_settings({"home": home, "as_of": ""}, environ={})


def cli(home, *args: str) -> str:
    env = {**os.environ, "PRECIMED_AS_OF": ""}
    done = subprocess.run([sys.executable, "-c", "import sys; from precimed.cli.main import "
                           "main; sys.exit(main())", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_the_release_records_its_cut_and_results_on_it_default_to_it(released_home):
    settings = unpinned(released_home)
    assert settings.as_of_given is None
    lake = Lake(settings.lake_dir)
    snapshot = lake.snapshot("r1")
    cut = snapshot.data_cut
    assert cut is not None and cut < dt.date.today()
    assert lake.catalog().releases["r1"].data_cut == cut.isoformat()
    older = cohort("aged 50 and over", AgeAtEnrolment(50, None))
    _, provenance = survival_data(settings, older, release="r1", endpoint="death")
    assert provenance.as_of == cut.isoformat()
    con = snapshot.connect()
    try:
        at_cut = observation(con, as_of=cut)
        later = observation(con, as_of=dt.date.today())
        summary = retention_summary(con, as_of=cut)
    finally:
        con.disconnect()
    assert at_cut.end_date.max() <= pd.Timestamp(cut)  # nobody is followed past the data's end
    assert later.person_years.sum() > at_cut.person_years.sum()
    out = cli(released_home, "cohort", "retention", "--release", "r1")
    assert f"as of {cut}, the data cut of release r1" in out
    given = cli(released_home, "cohort", "retention", "--release", "r1", "--as-of",
                cut.isoformat())
    assert out.splitlines()[1:] == given.splitlines()[1:]
    assert len(out.splitlines()) == 1 + len(summary)


@pytest.mark.slow
def test_the_api_and_the_cli_on_the_lake_default_to_its_latest_observation(released_home):
    settings = unpinned(released_home)
    cut = Lake(settings.lake_dir).snapshot().data_cut
    admin = signed_in(create_app(settings), "admin")
    for path in ("/api/v1/followup/retention", "/api/v1/endpoints/incidence",
                 "/api/v1/followup/worklist?centre=SH01"):
        body = admin.get(path).json()
        assert body["as_of"] == cut.isoformat(), path
    assert admin.get("/api/v1/dashboard").json()["retention"]["as_of"] == cut.isoformat()
    assert f"as of {cut}, the data cut of the lake" in cli(
        released_home, "cohort", "worklist", "--centre", "SH01")
    assert f"as of {cut}, the data cut of the lake" in cli(
        released_home, "endpoints", "incidence", "--by", "sex")
