"""Retention on synthetic cohorts whose loss to follow-up is known.

The synthetic follow-up loses each participant at a wave with a per-centre annual
probability a (``precimed.synth.follow_up``); lost people are contacted but never reached
again and leave no linkage records. The truth written beside the data is the four-year
loss 1 - (1 - a)^4 per centre. Four centres, about 1,000 participants each, all enrolled
2018-2020 and so all past wave 4 and its grace period at the data cut.

Tolerance per centre: 3 binomial standard errors of the truth over the eligible count,
plus 0.005 for bias. The platform's classification is exact for everyone alive when
wave 4 closes (checked against the generator's draws while building this); the one
systematic difference is death inside wave 4's window (due date to due date + 180 days):
those who die unreached leave the denominator, those reached before dying stay. With
this cohort's mortality under 2% a year, that moves the share by less than
loss x 1% < 0.002; 0.005 rounds it up.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time

import pandas as pd
import pytest

from precimed.cohorts import observation, retention_summary, wave_status, worklist
from precimed.home import initialise
from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.settings import load_settings
from precimed.synth import synthesise

# every test shares one 4,000-person cohort synthesised and submitted: 21 s CPU
pytestmark = pytest.mark.slow

SEED = 11
# with this seed: two centres under the 8% target, two over it
CENTRES = ("SH01", "GD01", "SD01", "XJ01")
BIAS = 0.005


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("retention")
    started = time.perf_counter()
    synth = synthesise(root / "synth", participants_count=4000, seed=SEED, centres=CENTRES)
    settings = load_settings({"home": root / "home"}, environ={})
    initialise(settings)
    for centre, package in synth.packages.items():
        assert submit(package, settings).status == "committed", centre
    print(f"\nsynthesised and submitted in {time.perf_counter() - started:.1f} s")
    truth = json.loads((synth.out / "truth" / "ground_truth.json").read_text("utf-8"))
    con = Lake(settings.lake_dir).snapshot().connect()
    return con, truth, dt.date.fromisoformat(truth["data_cut"])


def test_four_year_loss_recovers_the_truth(cohort):
    con, truth, cut = cohort
    started = time.perf_counter()
    summary = retention_summary(con, as_of=cut).set_index("centre")
    print(f"\nretention_summary in {time.perf_counter() - started:.2f} s")
    assert sorted(summary.index) == sorted(CENTRES)
    rows = []
    for centre, row in summary.iterrows():
        true = truth["four_year_loss"][centre]
        tolerance = 3 * math.sqrt(true * (1 - true) / row.eligible) + BIAS
        rows.append({"centre": centre, "eligible": row.eligible, "lost": row.lost,
                     "observed": round(row.loss, 4), "truth": round(true, 4),
                     "difference": round(row.loss - true, 4),
                     "tolerance": round(tolerance, 4), "flag": row.flag})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    for r in rows:
        assert r["eligible"] > 800, r  # everyone is past wave 4 but the dead
        assert abs(r["difference"]) <= r["tolerance"], r
        true = r["truth"]
        if abs(true - 0.08) > r["tolerance"]:  # clearly on one side of the target
            assert r["flag"] == (true > 0.08), r
    assert table.flag.any() and not table.flag.all()


def test_living_lost_are_those_lost_at_their_latest_closed_wave(cohort):
    con, _, cut = cohort
    people = observation(con, as_of=cut).set_index("pseudonym")
    waves = wave_status(con, as_of=cut)
    latest = waves.loc[waves.groupby("pseudonym").wave.idxmax()].set_index("pseudonym")
    living = people[people.death_date.isna()]
    lost_at_latest = latest.lost.reindex(living.index, fill_value=False)
    assert living.lost.equals(lost_at_latest.astype(bool))
    assert living.lost.sum() > 100
    # the dead lost before they died count as lost at waves, but end at death
    assert not people[people.death_date.notna()].lost.any()


def test_observation_ends_and_person_time(cohort):
    con, _, cut = cohort
    people = observation(con, as_of=cut)
    assert len(people) == 4000 and people.pseudonym.is_unique
    deaths = con.table("death").count().execute()
    assert (people.end_reason == "death").sum() == deaths
    assert (people.end_date <= pd.Timestamp(cut)).all()
    assert (people.end_date >= people.enrolment_date).all()
    lost = people[people.lost]
    assert (lost.end_date == lost.last_traced).all()
    assert set(people.end_reason) == {"death", "lost", "end of follow-up"}
    expected = (people.end_date - people.enrolment_date).dt.days / 365.25
    assert (people.person_years - expected).abs().max() < 1e-9


def test_worklist_of_each_centre(cohort):
    con, _, cut = cohort
    people = observation(con, as_of=cut)
    for centre in CENTRES:
        work = worklist(con, centre=centre, as_of=cut)
        mine = people[people.centre == centre].set_index("pseudonym")
        assert work.pseudonym.isin(mine.index[mine.death_date.isna()]).all()
        assert set(mine.index[mine.lost]) <= set(work.pseudonym)
        order = work[["days_overdue", "missed_waves"]].apply(tuple, axis=1).tolist()
        assert order == sorted(order, reverse=True)
        assert (work.days_overdue >= 180).all() and (work.missed_waves >= 1).all()
