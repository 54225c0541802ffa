"""The (n, k) dominance rule for published sums (e.g. total cost of a group).

A sum is unsafe to publish when its ``n`` largest contributions make up more than
``k`` percent of it: the largest contributor, knowing their own value, learns roughly
what the others add up to, and a reader learns roughly the largest one's value. With
``n = 1`` (the default here) the largest contributor must not exceed ``k`` percent of
the cell's total. Used with :mod:`precimed.deid.disclosure` by output checking.
"""

from __future__ import annotations

import math


def dominated(total: float, largest: float, *, percent: float) -> bool:
    """Whether the largest contribution(s) exceed ``percent`` of a non-negative total.

    ``largest`` is the sum of the n largest contributions. A zero total is safe (nothing
    to reveal); a total smaller than its largest part, or a value that is not a finite
    non-negative number, is treated as dominated: the check refuses rather than passes
    what it cannot read.
    """
    if not 0 < percent <= 100:
        raise ValueError("percent must be in (0, 100]")
    values = (total, largest)
    if any(not math.isfinite(v) or v < 0 for v in values) or largest > total:
        return True
    return total > 0 and largest > total * percent / 100
