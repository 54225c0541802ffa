"""Disclosure control: attack the published tables with a checker of our own.

The checker rebuilds the sum relations a reader knows and asks, without the module's
code, whether any hidden cell is pinned down: by rank over the reals, and for 1-D and
2-D tables by enumerating whole-number fillings, which also uses "counts are >= 0".
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from precimed.deid.disclosure import Policy, protect_count, protect_counts, protect_sequence
from precimed.errors import UserError
from precimed.settings import load_settings

TOTAL = "Total"
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

counts_st = st.one_of(st.integers(0, 12), st.integers(0, 12), st.integers(0, 90))
policy_st = st.builds(Policy, threshold=st.sampled_from([2, 3, 5, 10]),
                      rounding=st.sampled_from([1, 1, 5, 10]))


def table(shape: tuple[int, ...], values: list[int]) -> pd.DataFrame:
    names = [f"d{i}" for i in range(len(shape))]
    rows = [dict(zip(names, (f"L{k}" for k in key), strict=True))
            for key in itertools.product(*(range(n) for n in shape))]
    frame = pd.DataFrame(rows)
    frame["count"] = values
    return frame


def full_truth(frame: pd.DataFrame, by: list[str]) -> dict[tuple, int]:
    """Every cell and margin of the true table, keyed like the published one."""
    truth: dict[tuple, int] = {}
    for row in frame.itertuples(index=False):
        key = tuple(getattr(row, b) for b in by)
        for mask in itertools.product([False, True], repeat=len(by)):
            margin = tuple(TOTAL if m else k for k, m in zip(key, mask, strict=True))
            truth[margin] = truth.get(margin, 0) + int(row.count)
    return truth


def relations(keys: list[tuple]) -> list[tuple[tuple, list[tuple]]]:
    """(total, cells) for every margin cell and every axis on which it is a total."""
    known = set(keys)
    out = []
    for key in keys:
        for axis, part in enumerate(key):
            if part != TOTAL:
                continue
            cells = [k for k in keys if k[axis] != TOTAL
                     and all(k[a] == key[a] for a in range(len(key)) if a != axis)]
            assert all(c in known for c in cells)
            out.append((key, cells))
    return out


def published(result: pd.DataFrame, by: list[str]) -> dict[tuple, int | None]:
    return {tuple(r[b] for b in by): (None if r["suppressed"] else int(r["count"]))
            for _, r in result.iterrows()}


def rank_derivable(keys, rels, hidden) -> list[tuple]:
    """Hidden cells whose unit vector lies in the row space of the hidden columns."""
    if not hidden or not rels:
        return []
    col = {k: j for j, k in enumerate(hidden)}
    a = np.zeros((len(rels), len(hidden)))
    for r, (total, cells) in enumerate(rels):
        if total in col:
            a[r, col[total]] = 1
        for c in cells:
            if c in col:
                a[r, col[c]] = -1
    base = np.linalg.matrix_rank(a)
    found = []
    for k, j in col.items():
        unit = np.zeros((1, len(hidden)))
        unit[0, j] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == base:
            found.append(k)
    return found


def enumerated_fixed(rels, hidden, truth) -> list[tuple]:
    """Hidden cells that take one value across all non-negative whole-number fillings.

    For 1-D and 2-D tables with margins the relations form a totally unimodular system,
    so if any other filling exists, one exists within 1 of the truth in every cell;
    enumerating that box is therefore exact.
    """
    order = list(hidden)
    position = {k: i for i, k in enumerate(order)}
    checks: list[list[tuple[list[tuple[int, int]], int]]] = [[] for _ in order]
    for total, cells in rels:
        terms = [(position[k], s) for k, s in [(total, 1), *((c, -1) for c in cells)]
                 if k in position]
        if not terms:
            continue
        rhs = -sum(s * truth[k] for k, s in [(total, 1), *((c, -1) for c in cells)]
                   if k not in position)
        checks[max(i for i, _ in terms)].append((terms, rhs))
    seen: list[set[int]] = [set() for _ in order]
    values = [0] * len(order)

    def search(i: int) -> bool:
        if i == len(order):
            for j, v in enumerate(values):
                seen[j].add(v)
            return all(len(s) > 1 for s in seen)
        true = truth[order[i]]
        for v in (true, true - 1, true + 1):
            if v < 0:
                continue
            values[i] = v
            if all(sum(s * values[j] for j, s in terms) == rhs for terms, rhs in checks[i]) \
                    and search(i + 1):
                return True
        return False

    search(0)
    return [k for k, s in zip(order, seen, strict=True) if len(s) < 2]


def assert_rounded(shown: int, true: int, policy: Policy) -> None:
    base = policy.rounding
    assert (shown == 0) == (true == 0)
    if base == 1:
        assert shown == true
        return
    assert shown % base == 0
    nearest = abs(shown - true) * 2 <= base
    raised_to_threshold = true < shown and shown - base < policy.threshold
    assert nearest or raised_to_threshold


def check_table(frame: pd.DataFrame, policy: Policy, *, enumerate_: bool) -> pd.DataFrame:
    by = [c for c in frame.columns if c != "count"]
    result = protect_counts(frame, by=by, policy=policy)
    truth = full_truth(frame, by)
    shown = published(result, by)
    assert set(shown) == set(truth)
    for key, value in shown.items():
        if value is None:
            assert truth[key] > 0  # zeros are never hidden
            continue
        assert value == 0 or value >= policy.threshold  # (a)
        assert_rounded(value, truth[key], policy)  # (c)
        assert not 0 < truth[key] < policy.threshold
    keys = list(truth)
    rels = relations(keys)
    hidden = [k for k in keys if shown[k] is None]
    assert rank_derivable(keys, rels, hidden) == []  # (b) over the reals
    if enumerate_:
        assert enumerated_fixed(rels, hidden, truth) == []  # (b) whole numbers >= 0
    for total, cells in rels:  # a published total must not reveal a small hidden sum
        rest = [c for c in cells if shown[c] is None]
        if shown[total] is not None and rest:
            assert not 0 < sum(truth[c] for c in rest) < policy.threshold
    return result


@FAST
@given(st.lists(counts_st, min_size=1, max_size=7), policy_st)
def test_one_dimensional_tables_leak_nothing(values, policy):
    check_table(table((len(values),), values), policy, enumerate_=True)


@st.composite
def grids(draw, max_side: int):
    shape = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    values = draw(st.lists(counts_st, min_size=shape[0] * shape[1],
                           max_size=shape[0] * shape[1]))
    return shape, values


@FAST
@given(grids(max_side=3), policy_st)
def test_two_dimensional_tables_leak_nothing(grid, policy):
    shape, values = grid
    check_table(table(shape, values), policy, enumerate_=True)


@settings(max_examples=25, deadline=None)
@given(grids(max_side=6), policy_st)
def test_larger_two_dimensional_tables_pass_the_rank_check(grid, policy):
    shape, values = grid
    check_table(table(shape, values), policy, enumerate_=False)


@settings(max_examples=25, deadline=None)
@given(st.lists(counts_st, min_size=8, max_size=8), policy_st)
def test_three_dimensional_tables_pass_the_rank_check(values, policy):
    check_table(table((2, 2, 2), values), policy, enumerate_=False)


@st.composite
def attrition(draw):
    start = draw(st.integers(0, 300))
    sequence = [start]
    for step in draw(st.lists(st.one_of(st.integers(0, 12), st.integers(0, 80)), max_size=8)):
        sequence.append(max(0, sequence[-1] - step))
    return sequence


@FAST
@given(attrition(), policy_st)
def test_attrition_steps_cannot_be_recovered(sequence, policy):
    shown = protect_sequence(sequence, policy=policy)
    assert len(shown) == len(sequence)
    kept = [i for i, v in enumerate(shown) if v is not None]
    for i in kept:
        assert shown[i] == 0 or shown[i] >= policy.threshold
        assert_rounded(shown[i], sequence[i], policy)
    for a, b in itertools.pairwise(kept):  # what a reader subtracts
        assert not 0 < sequence[a] - sequence[b] < policy.threshold
    for i, n in enumerate(sequence):
        if shown[i] is not None:
            continue
        before = [sequence[j] for j in kept if j < i]
        after = [sequence[j] for j in kept if j > i]
        high = before[-1] if before else float("inf")
        low = after[0] if after else 0
        assert low < high, "a hidden count is pinned between equal neighbours"
        assert low <= n <= high
    for i in range(1, len(sequence)):
        if 0 < sequence[i - 1] - sequence[i] < policy.threshold:
            assert shown[i - 1] is None or shown[i] is None


def test_one_small_cell_takes_a_second_cell_with_it():
    frame = pd.DataFrame({"site": ["a", "b", "c"], "count": [3, 50, 60]})
    result = protect_counts(frame, by=["site"], policy=Policy())
    assert result["site"].tolist() == ["a", "b", "c", TOTAL]
    assert result["suppressed"].tolist() == [True, True, False, False]
    assert result["count"].tolist() == [pd.NA, pd.NA, 60, 113]
    assert str(result["count"].dtype) == "Int64"


def test_small_hidden_cells_cannot_hide_behind_each_other():
    frame = pd.DataFrame({"site": ["a", "b", "c"], "count": [3, 4, 50]})
    result = protect_counts(frame, by=["site"], policy=Policy())
    assert result["suppressed"].tolist() == [True, True, True, False]  # 3 + 4 is small


def test_a_table_without_small_cells_is_unchanged():
    frame = pd.DataFrame({"site": ["a", "b", "c"], "count": [10, 0, 30]})
    result = protect_counts(frame, by=["site"], policy=Policy())
    assert result["count"].tolist() == [10, 0, 30, 40]
    assert not result["suppressed"].any()
    assert protect_counts(frame, by=["site"], policy=Policy(), margins=False)[
        "count"].tolist() == [10, 0, 30]


def test_threshold_two_still_hides_ones():
    frame = pd.DataFrame({"site": ["a", "b", "c"], "count": [1, 5, 7]})
    result = protect_counts(frame, by=["site"], policy=Policy(threshold=2))
    assert result["count"].tolist() == [pd.NA, pd.NA, 7, 13]
    assert protect_count(1, policy=Policy(threshold=2)) is None
    assert protect_count(2, policy=Policy(threshold=2)) == 2


def test_a_small_interior_cell_hides_a_rectangle():
    frame = pd.DataFrame({"sex": ["m", "m", "f", "f"], "age": ["<50", "50+"] * 2,
                          "count": [3, 40, 50, 60]})
    result = protect_counts(frame, by=["sex", "age"], policy=Policy())
    assert result["suppressed"].tolist()[:4] == [True, True, True, True]
    assert result["count"].tolist()[4:] == [43, 110, 53, 100, 153]


def test_rounding_to_five_comes_after_suppression():
    policy = Policy(rounding=5)
    frame = pd.DataFrame({"site": ["a", "b", "c", "d"], "count": [12, 23, 40, 4]})
    result = protect_counts(frame, by=["site"], policy=policy)
    assert result["count"].tolist() == [pd.NA, 25, 40, pd.NA, 80]
    assert protect_count(12, policy=policy) == 10
    assert protect_count(13, policy=policy) == 15
    assert protect_count(4, policy=policy) is None
    assert protect_count(0, policy=policy) == 0
    assert protect_count(11, policy=Policy(threshold=11, rounding=5)) == 15  # not 10
    assert protect_count(12, policy=Policy(threshold=10, rounding=50)) == 50  # not 0


def test_attrition_example():
    shown = protect_sequence([1000, 995, 990, 985, 980, 400, 3], policy=Policy())
    assert shown == [1000, None, 990, None, 980, 400, None]
    assert protect_sequence([], policy=Policy()) == []


def test_missing_groups_count_as_zero():
    frame = pd.DataFrame({"sex": ["m", "f", "f"], "age": ["<50", "<50", "50+"],
                          "count": [30, 20, 5]})
    result = protect_counts(frame, by=["sex", "age"], policy=Policy())
    cells = published(result, ["sex", "age"])
    assert cells[("f", "50+")] is None and cells[(TOTAL, "50+")] is None
    assert len(result) == 3 + 5


def test_an_empty_table_publishes_a_zero_total():
    empty = pd.DataFrame({"g": pd.Series([], dtype=object), "count": pd.Series([], dtype=int)})
    result = protect_counts(empty, by=["g"], policy=Policy())
    assert result["g"].tolist() == [TOTAL] and result["count"].tolist() == [0]


def test_bad_input_is_a_user_error(tmp_path):
    with pytest.raises(UserError):
        Policy(threshold=1)
    with pytest.raises(UserError):
        Policy(rounding=0)
    with pytest.raises(UserError):
        protect_count(-1, policy=Policy())
    with pytest.raises(UserError):
        protect_sequence([10, 20], policy=Policy())
    with pytest.raises(UserError, match="more than once"):
        protect_counts(pd.DataFrame({"g": ["a", "a"], "count": [1, 2]}), by=["g"],
                       policy=Policy())
    with pytest.raises(UserError, match="whole number"):
        protect_counts(pd.DataFrame({"g": ["a"], "count": [-3]}), by=["g"], policy=Policy())
    with pytest.raises(UserError, match="margins"):
        protect_counts(pd.DataFrame({"g": [TOTAL], "count": [3]}), by=["g"], policy=Policy())
    settings_ = load_settings({"home": tmp_path, "disclosure_threshold": 20}, environ={})
    assert Policy.from_settings(settings_) == Policy(threshold=20)


def test_the_rank_check_catches_what_the_heuristic_misses():
    # Two 2x2 blocks of 1s joined by one cell: every row and column has two hidden cells,
    # yet the joining cell (row 1, column 2) follows from the row and column totals.
    ones = {(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 2), (2, 3), (3, 2), (3, 3)}
    values = [1 if (r, c) in ones else 50 for r in range(4) for c in range(4)]
    result = check_table(table((4, 4), values), Policy(threshold=2), enumerate_=False)
    assert result["suppressed"].sum() > len(ones)


def test_a_small_province_is_protected_inside_its_region_only():
    """Regions and their provinces (a nested table, laid out as a cross with structural
    zeros): the heuristic alone also hid two provinces of another region, because it met
    the provinces' grand total before the small province's own region; helpers the table
    is safe without are given back, so only the region's smallest other province goes."""
    provinces = {"east": ["31", "32", "33", "37"], "south": ["44", "45", "46"],
                 "northeast": ["21"], "northwest": ["61"]}
    rows = [(r, p, 6 if p == "46" else 227) for r, ps in provinces.items() for p in ps]
    frame = pd.DataFrame(rows, columns=["region", "province", "count"])
    result = check_table(frame, Policy(), enumerate_=False)
    hidden = result[result["suppressed"]]
    assert sorted(set(hidden["province"])) == ["44", "46"]
    assert set(hidden["region"]) <= {"south", TOTAL}
