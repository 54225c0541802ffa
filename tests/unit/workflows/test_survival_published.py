"""The survival result as it is published, on hand-made data: in the perturbed tier every
count carries the cell key of its people and the curve is computed from the published
counts only; in the exact tier the curve is the Kaplan–Meier estimate."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from precimed.analysis import KaplanMeier, life_table
from precimed.deid import PERTURBED, Policy, cellkey
from precimed.workflows.survival import YEAR, Provenance, survival_result

SECRET = cellkey.derive_secret(b"k" * 32)
PROVENANCE = Provenance(release="r1", catalog_version=1, cohort={"name": "test"},
                        as_of="2025-06-30", precimed_version="t", standard_version="t",
                        run_at="t")
KEYED = Policy(threshold=10, rounding=1, perturb=True, tier=PERTURBED)


def people(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    time = np.minimum(rng.exponential(8.0, n), rng.uniform(0.5, 6.0, n))
    event = (rng.exponential(8.0, n) < rng.uniform(0.5, 6.0, n)).astype(int)
    names = [f"P{i:05d}" for i in range(n)]
    return pd.DataFrame({"time_days": np.round(time * YEAR), "event": event,
                         "sex": rng.choice(["1", "2"], n), "age": rng.uniform(40, 70, n),
                         "male": 0, "record_key": cellkey.record_keys(names, SECRET)
                         .astype(np.int64)})


def result(data: pd.DataFrame, policy: Policy, by: str | None = "sex",
           covariates: tuple[str, ...] = ("age",)) -> dict:
    return survival_result(data, PROVENANCE, endpoint="death", by=by, covariates=covariates,
                           years=5, policy=policy)


def test_life_table_by_hand():
    table = life_table([100, 80], [10, 8], [20, 12])
    # 1 - 10/90, then 1 - 8/74
    assert table.survival.tolist() == pytest.approx([80 / 90, 80 / 90 * 66 / 74])
    variance = 10 / (90 * 80) + 8 / (74 * 66)
    assert table.lower[1] == pytest.approx(table.survival[1] * np.exp(-1.959964 *
                                                                       np.sqrt(variance)))


def test_every_perturbed_count_is_its_peoples_noisy_count():
    data = people()
    out = result(data, KEYED)

    def published(mask) -> int:
        return KEYED.publish(int(mask.sum()), key=cellkey.cell_key(data.record_key[mask]))

    died = data.event == 1
    assert out["n"] == published(data.event >= 0) and out["events"] == published(died)
    checked = 0
    for group in out["groups"]:
        sex = data.sex == group["group"]
        assert group["n"] == published(sex) and group["events"] == published(sex & died)
        curve = group["curve"]
        assert len(curve) > 2
        for a, b in pairwise(curve):
            assert a["at_risk"] == published(sex & (data.time_days / YEAR >= a["year"]))
            between = sex & (data.time_days / YEAR >= a["year"]) & (
                data.time_days / YEAR < b["year"])
            assert b["events"] == published(between & died)
            assert b["censored"] == published(between & ~died)
            checked += 1
        assert curve[0]["at_risk"] == group["n"]  # the same people, the same noise
    assert checked > 4
    assert out["cox"]["n"] == out["n"]


def test_the_perturbed_curve_is_the_life_table_of_the_published_counts():
    out = result(people(), KEYED)
    assert out["curve_estimator"] == "life_table_of_published_counts"
    for group in out["groups"]:
        curve = group["curve"]
        life = life_table([p["at_risk"] for p in curve[:-1]],
                          [p["events"] for p in curve[1:]],
                          [p["censored"] for p in curve[1:]])
        assert [p["survival"] for p in curve] == [1.0, *life.survival.tolist()]
    assert set(out["logrank"]) == {"test", "statistic", "df", "p_value", "groups"}


def test_the_exact_curve_is_kaplan_meier():
    data = people()
    out = result(data, Policy(threshold=10))
    assert out["curve_estimator"] == "kaplan_meier"
    for group in out["groups"]:
        rows = data[data.sex == group["group"]]
        km = KaplanMeier().fit(rows.time_days / YEAR, rows.event)
        years = [p["year"] for p in group["curve"]]
        assert [p["survival"] for p in group["curve"]] == km.at(years).survival.tolist()
    assert "observed" in out["logrank"]


def test_one_person_more_is_not_an_exact_difference_of_one():
    data = people()
    died = data.index[data.event == 1]
    differences = []
    for drop in died[:20]:
        one_less = data.drop(index=drop)
        a, b = (result(data, KEYED, by=None, covariates=()),
                result(one_less, KEYED, by=None, covariates=()))
        differences.append(a["events"] - b["events"])
        assert abs(a["events"] - b["events"] - 1) <= 2 * cellkey.NOISE_MAX
    exact = [result(data, Policy(threshold=10), by=None)["events"]
             - result(data.drop(index=d), Policy(threshold=10), by=None)["events"]
             for d in died[:3]]
    assert exact == [1, 1, 1]
    # the same count a one-person smaller cohort against: its noise is drawn afresh for
    # each one left out (a difference of 1 only when both draw the same noise)
    assert differences.count(1) < len(differences) and len(set(differences)) >= 3
