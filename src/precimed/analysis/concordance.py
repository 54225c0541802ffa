"""Harrell's concordance index in O(n log n), with R's infinitesimal-jackknife variance.

A pair is comparable when the shorter time is an event; a death and a censoring at the same
time count too (the censored row was still at risk), two deaths at the same time do not
("tied.y"). A comparable pair is concordant when the earlier death had the higher predicted
risk, and counts 1/2 when the risks are tied. Comparisons are made only within strata. The
counts, the concordance and its variance are R survival's ``concordance()`` (3.5.3), with
the risk ordering of ``coxph``'s ``fit$concordance`` (``reverse=TRUE``); the variance is
its infinitesimal jackknife: the sum of squared per-row influences of Somers' d, over 4.

Per-row counts come from a bottom-up merge over the rows sorted by time: at each of the
log2(n) levels every row of a left block is matched against the sorted right block with
one vectorised binary search, so nothing is quadratic and nothing loops over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from precimed.errors import UserError


@dataclass(frozen=True)
class Concordance:
    concordance: float
    concordant: float
    discordant: float
    tied_risk: float  # R's tied.x
    tied_time: float  # R's tied.y: deaths at the same time, different risks
    tied_both: float  # R's tied.xy
    variance: float

    @property
    def std_err(self) -> float:
        return float(np.sqrt(self.variance))

    def to_dict(self) -> dict:
        return {"statistic": "concordance", "concordance": self.concordance,
                "std_err": self.std_err, "variance": self.variance,
                "concordant": self.concordant, "discordant": self.discordant,
                "tied_risk": self.tied_risk, "tied_time": self.tied_time,
                "tied_both": self.tied_both}


def concordance_index(time, predicted_risk, event) -> float:
    """Harrell's C: the share of comparable pairs in which the row with the higher
    ``predicted_risk`` died first (tied risks count 1/2); R's ``concordance``."""
    return concordance(time, predicted_risk, event).concordance


def concordance(time, predicted_risk, event, *, strata=None, weights=None,
                cluster=None) -> Concordance:
    """Harrell's C with its counts and R's infinitesimal-jackknife variance (influences
    summed within ``cluster`` first when given, as for a coxph fit with ``cluster()``)."""
    t = np.asarray(time, dtype=float)
    risk = np.asarray(predicted_risk, dtype=float)
    e = np.asarray(event).astype(bool)
    n = len(t)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    s = np.zeros(n, int) if strata is None else np.unique(strata, return_inverse=True)[1]
    if not (len(risk) == len(e) == len(w) == len(s) == n) or n == 0:
        raise UserError("time, predicted_risk, event (and strata, weights) must have one "
                        "value per row", where="concordance", hint="Pass equal-length arrays.")
    if np.isnan(t).any() or np.isnan(risk).any():
        raise UserError("Times and predicted risks must not be missing", where="concordance",
                        hint="Drop rows without a time or a prediction.")
    per_row = np.zeros((n, 3))  # concordant, discordant, tied risk: pairs each row is in
    ties = np.zeros(2)
    for stratum in np.unique(s):
        rows = np.flatnonzero(s == stratum)
        per_row[rows], tied = _stratum(t[rows], risk[rows], e[rows], w[rows])
        ties += tied
    # every pair is counted once by each of its two rows
    concordant, discordant, tied_risk = (w @ per_row) / 2
    pairs = concordant + discordant + tied_risk
    if pairs == 0:
        raise UserError("No comparable pairs: the concordance is undefined",
                        where="concordance", hint="It needs at least one death before "
                        "another row's death or censoring.")
    somers = (concordant - discordant) / pairs
    influence = w * ((per_row[:, 0] - per_row[:, 1]) / pairs
                     - somers / pairs * per_row.sum(1))
    if cluster is not None:
        influence = np.bincount(np.unique(cluster, return_inverse=True)[1], influence)
    return Concordance(float((somers + 1) / 2), float(concordant), float(discordant),
                       float(tied_risk), float(ties[0]), float(ties[1]),
                       float(influence @ influence / 4))


def _stratum(t, risk, e, w):
    """Weighted counts, for each row, of the comparable pairs it is in that are concordant,
    discordant or tied in risk; and the stratum's tied.y and tied.xy pair weights."""
    r = np.unique(risk, return_inverse=True)[1]
    time_rank = np.unique(t, return_inverse=True)[1]
    deaths = w * e
    # Pairs run from an earlier death to a later row: rows ordered by time, deaths before
    # censorings at the same time, same-time deaths by increasing risk.
    order = np.lexsort((r, ~e, time_rank))
    lower, higher, earlier_lower, earlier_higher = _merge_counts(r[order], w[order],
                                                                 deaths[order])
    sorted_event = e[order]
    counts = np.zeros((len(t), 3))
    # the earlier death had the higher risk: concordant for both rows of the pair
    counts[order, 0] = np.where(sorted_event, lower, 0.0) + earlier_higher
    counts[order, 1] = np.where(sorted_event, higher, 0.0) + earlier_lower
    # Same-time deaths are no pair, but the merge counted each such pair once, from the
    # lower-risk death to the higher: a discordant pair for both. Take them back out.
    same_time = _group_sum(time_rank[e], w[e])
    same_both = _group_sum(time_rank[e].astype(np.int64) * (r.max() + 1) + r[e], w[e])
    counts[np.flatnonzero(e), 1] -= same_time - same_both
    # comparable partners: for a death, later rows and same-time censorings; for any row,
    # earlier deaths (and same-time deaths if it is censored)
    cw = np.concatenate([[0.0], np.cumsum(w[order])])
    cd = np.concatenate([[0.0], np.cumsum(deaths[order])])
    sorted_time = time_rank[order]
    first_of_time = np.searchsorted(sorted_time, sorted_time, side="left")
    last_of_time = np.searchsorted(sorted_time, sorted_time, side="right")
    deaths_of_time = cd[last_of_time] - cd[first_of_time]
    later = cw[-1] - cw[first_of_time] - deaths_of_time  # later times + same-time censorings
    earlier = cd[first_of_time] + np.where(sorted_event, 0.0, deaths_of_time)
    partners = np.empty(len(t))
    partners[order] = np.where(sorted_event, later, 0.0) + earlier
    counts[:, 2] = partners - counts[:, 0] - counts[:, 1]
    tied_time = float((w[e] * (same_time - same_both)).sum() / 2)
    tied_both = float((w[e] * (same_both - w[e])).sum() / 2)
    return counts, np.array([tied_time, tied_both])


def _group_sum(keys: np.ndarray, w: np.ndarray) -> np.ndarray:
    """For each element, the summed weight of the elements sharing its key (itself too)."""
    groups = np.unique(keys, return_inverse=True)[1]
    return np.bincount(groups, w)[groups]


def _merge_counts(v, w_later, w_earlier):
    """For each position i, with v compared strictly: the sums of ``w_later`` over later
    positions with lower and with higher ``v``, and of ``w_earlier`` over earlier positions
    with lower and with higher ``v``.

    Bottom-up merge: at the level of blocks of 2^L positions, ``perm`` sorts the rows by
    (block, v), so each odd block's values are one sorted run; every row of an even block
    is searched in the next block, every row of an odd block in the previous one. The next
    level's order merges pairs of runs, which a stable sort (timsort) does in linear time."""
    n = len(v)
    v = v.astype(np.int64)
    span = np.int64(v.max()) + 2
    position = np.arange(n, dtype=np.int64)
    out = np.zeros((4, n))
    perm = position.copy()  # blocks of one row are sorted by (block, v) as they stand
    size = 1
    while size < n:
        block = position // size
        key = (block * span + v)[perm]
        cum_later = np.concatenate([[0.0], np.cumsum(w_later[perm])])
        cum_earlier = np.concatenate([[0.0], np.cumsum(w_earlier[perm])])
        # visiting rows in ``perm`` order keeps the searched keys sorted (fast searches);
        # block b fills perm[b * size:(b + 1) * size]
        ordered_block = block[perm]
        even = ordered_block % 2 == 0
        for rows, neighbour, lower, higher, cum in (
                (perm[even], ordered_block[even] + 1, 0, 1, cum_later),
                (perm[~even], ordered_block[~even] - 1, 2, 3, cum_earlier)):
            query = neighbour * span + v[rows]
            first = np.minimum(neighbour * size, n)
            last = np.minimum((neighbour + 1) * size, n)
            out[lower, rows] += cum[np.searchsorted(key, query, side="left")] - cum[first]
            out[higher, rows] += cum[last] - cum[np.searchsorted(key, query, side="right")]
        size *= 2
        perm = perm[np.argsort(((position // size) * span + v)[perm], kind="stable")]
    return out
