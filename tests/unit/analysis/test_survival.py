"""Kaplan–Meier and log-rank on hand-computed cases and bad input."""

from __future__ import annotations

import math

import pytest

from precimed.analysis import KaplanMeier, logrank
from precimed.errors import UserError


def test_a_hand_computed_curve():
    # times 1,2,2,3,4 with the 2nd 2 and the 4 censored: S = 4/5, then 4/5*3/4, then *1/2
    km = KaplanMeier().fit([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    at = km.at([0.5, 1, 2, 3, 10])
    assert list(at.survival) == pytest.approx([1, 0.8, 0.6, 0.3, 0.3])
    assert list(at.n_risk) == [5, 5, 4, 2, 0]
    greenwood = 1 / (5 * 4) + 1 / (4 * 3) + 1 / (2 * 1)
    assert at.std_err.iloc[3] == pytest.approx(0.3 * math.sqrt(greenwood))
    assert km.median_ == 3


def test_no_events_means_no_median_and_all_censored():
    km = KaplanMeier().fit([5, 6, 7], [0, 0, 0])
    assert math.isnan(km.median_) and km.events_ == 0
    assert list(km.at([10]).survival) == [1.0]


def test_identical_groups_give_a_zero_statistic():
    result = logrank([1, 2, 3, 1, 2, 3], [1, 1, 1, 1, 1, 1], ["a", "a", "a", "b", "b", "b"])
    assert result.statistic == pytest.approx(0) and result.p_value == pytest.approx(1)


@pytest.mark.parametrize("durations, events, said", [
    ([1, -2], [1, 1], "non-negative"),
    ([1, float("nan")], [1, 1], "non-negative"),
    ([1, 2, 3], [1, 1], "equal length"),
])
def test_bad_input_says_what(durations, events, said):
    with pytest.raises(UserError) as caught:
        KaplanMeier().fit(durations, events)
    assert said in caught.value.what


def test_one_group_is_refused():
    with pytest.raises(UserError):
        logrank([1, 2], [1, 1], ["a", "a"])


def test_a_cox_model_without_events_is_refused():
    import pandas as pd

    from precimed.analysis import CoxPH

    data = pd.DataFrame({"t": [1.0, 2.0, 3.0], "e": [0, 0, 0], "x": [0.1, 0.2, 0.3]})
    with pytest.raises(UserError) as caught:
        CoxPH().fit(data, "t", "e")
    assert "No events" in caught.value.what
