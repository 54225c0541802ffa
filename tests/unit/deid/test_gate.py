"""The one gate on the shapes of issue 14's leaks: a hidden cell says why, and no hidden
cell comes back from the sums a reader knows (the issue's own numbers)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from precimed.deid import (
    PERTURBED,
    SECONDARY,
    SMALL,
    Cell,
    CountTable,
    Policy,
    cellkey,
    consistent_counts,
    fields_of,
    protect_counts,
    publish_sequence,
    publish_table,
)


def test_a_step_hidden_for_its_neighbour_is_not_marked_small():
    # (b): 8,000 -> 143 -> 142 printed "8,000 -> <10 -> 142"; the 143 is not small
    cells = publish_sequence([8000, 143, 142], policy=Policy())
    assert cells == [Cell(8000), Cell(None, SECONDARY), Cell(142)]
    assert publish_sequence([8000, 7, 0], policy=Policy())[1] == Cell(None, SMALL)


def test_a_total_with_one_hidden_centre_hides_a_second(tmp_path):
    # (f): total 319, centres 150, 150 and 19 at threshold 25
    frame = pd.DataFrame({"centre": ["A", "B", "C"], "count": [150, 150, 19]})
    out = protect_counts(frame, by=["centre"], policy=Policy(threshold=25))
    by = dict(zip(out.centre, out.reason, strict=True))
    assert by["C"] == SMALL and list(out.reason).count(SECONDARY) >= 1
    shown = out[~out.suppressed]
    if "Total" in set(shown.centre):
        hidden = out[out.suppressed & (out.centre != "Total")]
        assert len(hidden) >= 2


def test_a_derivable_small_latent_cell_is_protected():
    # (e): due 120 = reached 112 + lost 5 + died 3 (died never published)
    table = CountTable(np.array([120, 112, 5, 3]), [(0, np.array([1, 2, 3]))],
                       latent=np.array([False, False, False, True]))
    cells = publish_table(table, policy=Policy())
    assert cells[2] == Cell(None, SMALL) and cells[3] == Cell(None)
    assert cells[0].value is None or cells[1].value is None  # else lost + died = 8
    # a large latent cell may be worked out: nothing else is hidden for it
    table = CountTable(np.array([120, 60, 20, 40]), [(0, np.array([1, 2, 3]))],
                       latent=np.array([False, False, False, True]))
    assert [c.value for c in publish_table(table, policy=Policy())][:3] == [120, 60, 20]


def test_group_events_and_the_total_are_one_table():
    # (h): 30 events in total, 21 in one group, 9 in the other
    table = CountTable(np.array([30, 21, 9]), [(0, np.array([1, 2]))])
    cells = publish_table(table, policy=Policy())
    assert cells[2] == Cell(None, SMALL)
    assert cells[0].value is None or cells[1].value is None


def test_fields_carry_their_reasons():
    assert fields_of({"due": Cell(40), "lost": Cell(None, SMALL),
                      "reached": Cell(None, SECONDARY)}) == {
        "due": 40, "lost": None, "reached": None,
        "suppressed": {"lost": "small", "reached": "secondary"}}


def test_the_perturbed_tier_publishes_noisy_rounded_counts_deterministically():
    policy = Policy(threshold=10, rounding=5, perturb=True, tier=PERTURBED)
    for n in range(10, 400):
        for key in (0, 2 ** 31, 2 ** 32 - 1, 123456789):
            value = policy.publish(n, key=key)
            assert value % 5 == 0 and value >= 10
            assert abs(value - n) <= cellkey.NOISE_MAX + 2
            assert value == policy.publish(n, key=key)
            assert n in consistent_counts(value, policy=policy)
    assert policy.publish(0, key=99) == 0


def test_margins_combine_their_cells_keys():
    frame = pd.DataFrame({"g": ["a", "b"], "count": [40, 60], "key": [2 ** 32 - 1, 5]})
    policy = Policy(rounding=1, perturb=True, tier=PERTURBED)
    out = protect_counts(frame, by=["g"], policy=policy, key="key")
    total = int(out[out.g == "Total"]["count"].iloc[0])
    assert total == max(100 + cellkey.noise(cellkey.combine([2 ** 32 - 1, 5])), 10)


def test_a_table_whose_hidden_cells_are_all_large_latent_ones_is_published():
    """Every hidden cell pinned down (no free direction left) and each one a large latent
    cell: nothing small can be worked out, so the table is published; found by the demo's
    survival table, where the check crashed on the empty null space."""
    # total = a + b, and a alone is the second total: a and b are latent and derivable
    table = CountTable(np.array([100, 60, 40, 60]), [(0, np.array([1, 2])), (3, np.array([1]))],
                       latent=np.array([False, True, True, False]))
    cells = publish_table(table, policy=Policy(threshold=10))
    assert [c.value for c in cells] == [100, None, None, 60]
    assert [c.reason for c in cells] == [None, None, None, None]
