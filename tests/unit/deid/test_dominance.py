from __future__ import annotations

import math

import pytest

from precimed.deid.dominance import dominated


def test_the_largest_contributor_may_not_exceed_k_percent():
    assert not dominated(100, 50, percent=50)
    assert dominated(100, 50.01, percent=50)
    assert not dominated(0, 0, percent=50)


def test_unreadable_contributions_count_as_dominated():
    assert dominated(100, 120, percent=50)
    assert dominated(-1, 0, percent=50)
    assert dominated(math.nan, 1, percent=50)
    with pytest.raises(ValueError):
        dominated(1, 1, percent=0)
