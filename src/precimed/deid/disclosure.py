"""Statistical disclosure control: the one gate every published aggregate passes.

API responses, pages, exports, cohort attrition tables, grouped counts and incidence
tables all call into this module, so the rules live in one place:

* primary suppression: a count from 1 to ``threshold - 1`` names too few people to
  publish. A zero is published: a true zero discloses nothing about a person.
* secondary suppression: a reader knows that totals are sums of their cells, so a hidden
  cell must not be recoverable from the published ones. The fast heuristic hides the
  smallest helper cell; a linear-algebra check then proves that no hidden cell, and no
  hidden part of a published total, can be worked out exactly. Helpers the table is
  safe without are then given back, largest first, each release checked the same way.
* rounding, for tiers that need it, comes last and only touches published values, so
  it can never bring a suppressed cell back.

Only non-zero cells are ever hidden. That is what makes the linear check sufficient: at a
strictly positive solution every direction the sum relations leave free is also free
under "counts are non-negative", so a cell that linear algebra cannot pin down really
can take other values (for 1-D and 2-D tables other whole-number values, too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise, product
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from precimed.errors import UserError

if TYPE_CHECKING:
    from precimed.settings import Settings

_TOL = 1e-9


@dataclass(frozen=True)
class Policy:
    """What may leave the platform: counts below ``threshold`` are hidden.

    ``rounding`` is the base published counts are rounded to (1 means exact counts).
    """

    threshold: int = 10
    rounding: int = 1

    def __post_init__(self) -> None:
        if self.threshold < 2:
            raise UserError("The disclosure threshold must be at least 2",
                            where=f"threshold={self.threshold}",
                            hint="A threshold of 1 would publish counts of single people.")
        if self.rounding < 1:
            raise UserError("The rounding base must be at least 1",
                            where=f"rounding={self.rounding}", hint="Use 1 for exact counts.")

    @classmethod
    def from_settings(cls, settings: Settings, *, rounding: int = 1) -> Policy:
        return cls(threshold=settings.disclosure_threshold, rounding=rounding)

    def is_small(self, n: int) -> bool:
        return 0 < n < self.threshold

    def round(self, n: int) -> int:
        """Round half up to the base, but never to a non-zero value below the threshold.

        A large count rounded down to, say, 5 would read as a small cell, and one rounded
        to 0 would read as a true zero, so such values go up to the first allowed one.
        """
        base = self.rounding
        rounded = (n + base // 2) // base * base
        if n > 0 and rounded < self.threshold:
            rounded = -(-self.threshold // base) * base
        return rounded


def protect_count(n: int, *, policy: Policy) -> int | None:
    """A single count, for a page or an API field; ``None`` means "fewer than T"."""
    _check_count(n, "count")
    return None if policy.is_small(n) else policy.round(n)


def protect_sequence(counts: Sequence[int], *, policy: Policy) -> list[int | None]:
    """An attrition table: each count is a subset of the one before.

    The people dropped between two published counts are a cell the reader can work out,
    so every gap between neighbouring published counts must be 0 or at least T, like the
    counts themselves. Hiding a count only widens the gap around it, so the hidden count
    lies anywhere between its published neighbours.
    """
    for i, n in enumerate(counts):
        _check_count(n, f"step {i}")
    values = [int(n) for n in counts]
    for i, n in enumerate(values):
        if i and n > values[i - 1]:
            raise UserError("An attrition count is larger than the one before it",
                            where=f"step {i}",
                            hint="Each step must keep a subset of the previous step.")
    hidden = [policy.is_small(n) for n in values]
    while True:
        shown = [i for i, h in enumerate(hidden) if not h]
        pair = next(((a, b) for a, b in pairwise(shown)
                     if policy.is_small(values[a] - values[b])), None)
        if pair is None:
            break
        a, b = pair
        # Keep the source population and the final cohort when there is a choice.
        hidden[a if b == len(values) - 1 and a != 0 else b] = True
    return [None if h else policy.round(n) for n, h in zip(values, hidden, strict=True)]


def protect_counts(counts: pd.DataFrame, *, by: list[str], count: str = "count",
                   policy: Policy, margins: bool = True,
                   total_label: str = "Total") -> pd.DataFrame:
    """Grouped counts, with their totals, made safe to publish.

    ``counts`` holds one row per group (columns ``by``) and a non-negative integer
    ``count``; a missing combination of groups means zero. With ``margins`` every row,
    column and grand total is added, labelled ``total_label``; pass ``margins=True``
    whenever any total of this table is published anywhere, because the reader then
    knows it. The result has the ``by`` columns, ``count`` as nullable ``Int64`` with
    hidden counts as ``<NA>``, and a boolean ``suppressed``: the input rows first, then
    the margins.
    """
    keys, values = _read_table(counts, by, count, total_label)
    levels = [list(pd.unique(keys[:, i])) for i in range(len(by))]
    if margins:
        cube, relations = table_with_margins(keys, values, levels)
        labels = [[*lv, total_label] for lv in levels]
        coords = np.array(list(np.ndindex(cube.shape)))
        rows = [_input_positions(keys, levels, cube.shape)]
        is_margin = (coords == np.array(cube.shape) - 1).any(axis=1)
        rows.append(np.flatnonzero(is_margin))
        order = np.concatenate(rows)
        flat = cube.ravel()
    else:
        labels = levels
        relations = []
        order = np.arange(len(values))
        flat = values
        coords = np.array([[lv.index(k) for lv, k in zip(levels, row, strict=True)]
                           for row in keys], dtype=int).reshape(len(values), len(by))
    hidden = suppress_cells(flat, relations, policy)
    if margins:
        coords = coords[order]
        flat, hidden = flat[order], hidden[order]
    out = pd.DataFrame({
        name: pd.Series([labels[i][c] for c in coords[:, i]], dtype=object)
        for i, name in enumerate(by)
    })
    published = [pd.NA if h else policy.round(int(v)) for v, h in zip(flat, hidden, strict=True)]
    out[count] = pd.array(published, dtype="Int64")
    out["suppressed"] = hidden.astype(bool)
    return out


def _check_count(n: int, where: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise UserError("A count must be a non-negative whole number", where=where)


def _read_table(counts: pd.DataFrame, by: list[str], count: str,
                total_label: str) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in [*by, count] if c not in counts.columns]
    if not by or missing:
        raise UserError("The table lacks its grouping or count columns",
                        where=", ".join(missing) or "by=[]",
                        hint="Name at least one grouping column and the count column.")
    if counts[by].isna().any().any():
        raise UserError("A group label is missing", where=", ".join(by),
                        hint="Label missing values explicitly, for example 'Unknown'.")
    if counts.duplicated(subset=by).any():
        raise UserError("A group appears more than once", where=", ".join(by),
                        hint="Aggregate the counts per group before protecting them.")
    if (counts[by] == total_label).any().any():
        raise UserError("A group has the same label as the margins", where=total_label,
                        hint="Pass another total_label.")
    raw = counts[count]
    numbers = pd.to_numeric(raw, errors="coerce")
    if numbers.isna().any() or (numbers < 0).any() or (numbers % 1 != 0).any():
        raise UserError("A count is not a non-negative whole number", where=count)
    return counts[by].to_numpy(dtype=object), numbers.to_numpy().astype(np.int64)


def _input_positions(keys: np.ndarray, levels: list[list[object]],
                     shape: tuple[int, ...]) -> np.ndarray:
    index = [{k: j for j, k in enumerate(lv)} for lv in levels]
    coords = [[index[i][k] for i, k in enumerate(row)] for row in keys]
    if not coords:
        return np.array([], dtype=int)
    return np.ravel_multi_index(np.array(coords, dtype=int).T, shape)


def table_with_margins(keys: np.ndarray, values: np.ndarray, levels: list[list[object]]
                  ) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    """The full table with a total at the last index of every axis, and its sums (the
    layout :func:`protect_counts` protects; public for callers that protect many tables
    of one layout with :func:`suppress_cells`, e.g. precimed.reference).

    Each relation is (total, cells): the flat index of a margin cell and of the cells
    along one axis that add up to it.
    """
    inner = np.zeros([len(lv) for lv in levels], dtype=np.int64)
    index = [{k: j for j, k in enumerate(lv)} for lv in levels]
    for row, v in zip(keys, values, strict=True):
        inner[tuple(index[i][k] for i, k in enumerate(row))] = v
    cube = inner
    for axis in range(cube.ndim):
        cube = np.concatenate([cube, cube.sum(axis=axis, keepdims=True)], axis=axis)
    shape = cube.shape
    relations = []
    for axis, size in enumerate(shape):
        others = [range(s) for s in shape]
        others[axis] = range(size - 1, size)
        for total in product(*others):
            cells = np.array([(*total[:axis], j, *total[axis + 1:]) for j in range(size - 1)],
                             dtype=int).reshape(-1, len(shape))
            relations.append((int(np.ravel_multi_index(total, shape)),
                              np.ravel_multi_index(cells.T, shape)))
    return cube, relations


def suppress_cells(values: np.ndarray, relations: list[tuple[int, np.ndarray]],
                   policy: Policy) -> np.ndarray:
    """Which cells of a flat table with margins (:func:`table_with_margins`) to hide:
    primary, then heuristic, then verified by rank. The engine of :func:`protect_counts`."""
    primary = (values > 0) & (values < policy.threshold)
    hidden = primary.copy()
    while True:
        _heuristic(values, relations, hidden, policy)
        support = _first_disclosure(values, relations, hidden, policy)
        if support is None:
            return _release_unneeded(values, relations, hidden, primary, policy)
        bad = set(support.tolist())
        near = {c for total, cells in relations
                if total in bad or bad.intersection(cells.tolist())
                for c in (total, *cells.tolist())}
        pick = _smallest(values, hidden, sorted(near))
        if pick is None:
            pick = _smallest(values, hidden, range(len(values)))
        if pick is None:
            raise RuntimeError("disclosure check failed with every non-zero cell hidden")
        hidden[pick] = True


def _release_unneeded(values: np.ndarray, relations: list[tuple[int, np.ndarray]],
                      hidden: np.ndarray, primary: np.ndarray, policy: Policy) -> np.ndarray:
    """Publish again the helper cells the table stays safe without, largest first.

    The heuristic picks helpers relation by relation, so the order it meets them in can
    make it hide more than needed (a small province protected first through the grand
    total of the provinces, then again inside its own region). A helper is given back
    with the helpers that giving it back makes derivable (a cell and a margin equal to
    it go together); the release stands only if the rank check then finds no cell from
    primary suppression and no small sum derivable, so the result is as safe as before.
    """
    for cell in sorted(np.flatnonzero(hidden & ~primary).tolist(),
                       key=lambda c: (-values[c], c)):
        if not hidden[cell]:
            continue
        trial = hidden.copy()
        trial[cell] = False
        while True:
            support = _first_disclosure(values, relations, trial, policy)
            if support is None:
                hidden[:] = trial
                break
            if len(support) != 1 or primary[support[0]]:
                break  # a small cell or a small sum would show: keep the helper hidden
            trial[support[0]] = False  # derivable anyway: publishing it tells nothing more
    return hidden


def _heuristic(values: np.ndarray, relations: list[tuple[int, np.ndarray]],
               hidden: np.ndarray, policy: Policy) -> None:
    """Hide helpers until no relation gives away a hidden cell or a small hidden sum.

    A relation with one hidden member gives it away; one whose total is published tells
    the sum of its hidden cells, which must not be a small count either.
    """
    changed = True
    while changed:
        changed = False
        for total, cells in relations:
            n_hidden = int(hidden[total]) + int(hidden[cells].sum())
            if n_hidden == 0:
                continue
            hidden_sum = int(values[cells][hidden[cells]].sum())
            if n_hidden == 1 or (not hidden[total] and policy.is_small(hidden_sum)):
                pick = _smallest(values, hidden, cells.tolist())
                if pick is None:
                    pick = _smallest(values, hidden, [total])
                if pick is not None:
                    hidden[pick] = True
                    changed = True


def _smallest(values: np.ndarray, hidden: np.ndarray, cells: Sequence[int] | range
              ) -> int | None:
    """The smallest published non-zero cell (hiding a zero protects nothing)."""
    shown = [c for c in cells if not hidden[c] and values[c] > 0]
    return min(shown, key=lambda c: (values[c], c)) if shown else None


def _first_disclosure(values: np.ndarray, relations: list[tuple[int, np.ndarray]],
                      hidden: np.ndarray, policy: Policy) -> np.ndarray | None:
    """The hidden cells of the first exact disclosure, or None when the table is safe.

    The reader knows ``A x = 0`` (every total minus its cells). Splitting it into hidden
    cells ``S`` and published ones, ``A_S x_S`` is known, so a combination ``u·x_S`` is
    derivable exactly when ``u`` lies in the row space of ``A_S``, that is, when ``u`` is
    orthogonal to its null space. Checked: every hidden cell on its own (must not be
    derivable) and the hidden cells of each relation (their sum must not be small).
    """
    suppressed = np.flatnonzero(hidden)
    if not relations or not len(suppressed):
        return None
    column = {c: j for j, c in enumerate(suppressed.tolist())}
    matrix = np.zeros((len(relations), len(suppressed)))
    for r, (total, cells) in enumerate(relations):
        if total in column:
            matrix[r, column[total]] += 1
        for c in cells[hidden[cells]].tolist():
            matrix[r, column[c]] -= 1
    matrix = matrix[np.abs(matrix).sum(axis=1) > 0]
    if not len(matrix):
        return None
    _, sing, vt = np.linalg.svd(matrix)
    rank = int((sing > _TOL * max(matrix.shape) * sing[0]).sum())
    null = vt[rank:]
    for j, cell in enumerate(suppressed.tolist()):
        if not len(null) or np.abs(null[:, j]).max() < _TOL:
            return np.array([cell])
    for _, cells in relations:
        members = cells[hidden[cells]]
        if len(members) < 2:
            continue
        u = np.zeros(len(suppressed))
        u[[column[c] for c in members.tolist()]] = 1
        if np.abs(null @ u).max() < _TOL and policy.is_small(int(values[members].sum())):
            return members
    return None
