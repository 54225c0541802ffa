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
* perturbation and rounding, for the tiers that get them (:data:`TIERS`), come last and
  only touch published values, so they can never bring a suppressed cell back. The noise
  is the cell-key method of :mod:`precimed.deid.cellkey`: the same people always get the
  same noise, so a count differenced against another overlapping count is no longer exact.

A hidden cell carries its reason (:class:`Cell`): :data:`SMALL` (it holds 1 to T-1 people)
or :data:`SECONDARY` (it may hold any number, and is hidden so that a small cell elsewhere
in the table cannot be worked out). Pages and the API show the two differently.

The one gate is :func:`publish_table`: it takes a whole table, its margins and every sum
a reader knows holds between its cells (:class:`CountTable`; built by
:func:`grouped_table`, :func:`sequence_table`, or by hand), and returns one :class:`Cell`
per cell. :func:`protect_count`, :func:`protect_sequence` and :func:`protect_counts` are
the same gate for the common shapes.

Only non-zero cells are ever hidden. That is what makes the linear check sufficient: at a
strictly positive solution every direction the sum relations leave free is also free
under "counts are non-negative", so a cell that linear algebra cannot pin down really
can take other values (for 1-D and 2-D tables other whole-number values, too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise, product
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from precimed.deid.cellkey import NOISE, combine, noise
from precimed.errors import UserError
from precimed.standard.margins import MARGIN

if TYPE_CHECKING:
    from precimed.settings import Settings

_TOL = 1e-9

SMALL = "small"  # hidden: the cell holds 1 to threshold-1 people
SECONDARY = "secondary"  # hidden to protect another cell; it may hold any number

EXACT, PERTURBED = "exact", "perturbed"
TIERS = {
    EXACT: "primary and secondary suppression, exact counts; for roles that may already "
           "read participant rows (the cohorts.extract permission)",
    PERTURBED: "primary and secondary suppression, then cell-key noise of at most ±2 and "
               "rounding to the setting disclosure_rounding, person-years rounded to "
               "disclosure_person_years; for every other role",
}


@dataclass(frozen=True)
class Cell:
    """One published cell: ``value`` None when hidden, with ``reason`` SMALL or SECONDARY."""

    value: int | None
    reason: str | None = None


def fields_of(cells: Mapping[str, Cell]) -> dict[str, object]:
    """Cells as JSON fields: each name with its value (null when hidden), and
    ``suppressed``, the reason of each hidden one (``{"lost": "small"}``)."""
    out: dict[str, object] = {name: c.value for name, c in cells.items()}
    out["suppressed"] = {name: c.reason for name, c in cells.items() if c.reason}
    return out


@dataclass(frozen=True)
class Policy:
    """What may leave the platform: counts below ``threshold`` are hidden.

    ``rounding`` is the base published counts are rounded to (1 means exact counts);
    ``perturb`` adds the cell-key noise to every published count whose cell key is known.
    ``tier`` names the row of :data:`TIERS` the policy implements. ``person_years`` is the
    base published person-time is rounded to (0: as computed); a count of people moves by
    one when one person does, a sum of follow-up by that person's years, so a table of
    person-years differenced against another one person apart gives that person's
    follow-up unless it is rounded.
    """

    threshold: int = 10
    rounding: int = 1
    perturb: bool = False
    tier: str = EXACT
    person_years: int = 0

    def __post_init__(self) -> None:
        if self.threshold < 2:
            raise UserError("The disclosure threshold must be at least 2",
                            where=f"threshold={self.threshold}",
                            hint="A threshold of 1 would publish counts of single people.")
        if self.rounding < 1:
            raise UserError("The rounding base must be at least 1",
                            where=f"rounding={self.rounding}", hint="Use 1 for exact counts.")
        if self.person_years < 0:
            raise UserError("The person-years rounding base must not be negative",
                            where=f"person_years={self.person_years}",
                            hint="Use 0 for person-years as computed.")

    @classmethod
    def from_settings(cls, settings: Settings, *, rounding: int = 1) -> Policy:
        """The exact tier (suppression only) at the platform's threshold."""
        return cls(threshold=settings.disclosure_threshold, rounding=rounding)

    @classmethod
    def for_tier(cls, settings: Settings, tier: str) -> Policy:
        """The policy of one of :data:`TIERS` under the platform's settings."""
        if tier == EXACT:
            return cls.from_settings(settings)
        if tier == PERTURBED:
            return cls(threshold=settings.disclosure_threshold,
                       rounding=settings.disclosure_rounding, perturb=True, tier=PERTURBED,
                       person_years=settings.disclosure_person_years)
        raise UserError(f"Unknown disclosure tier {tier!r}", where="tier",
                        hint="Tiers: " + ", ".join(TIERS))

    def is_small(self, n: int) -> bool:
        return 0 < n < self.threshold

    def publish(self, n: int, *, key: int | None = None) -> int:
        """A count that passed suppression, as it is published: noise from its cell key
        (when the policy perturbs and the key is known), then rounding. A zero stays a
        zero; a count never comes out below the threshold, where it would read as small."""
        if n == 0:
            return 0
        if self.perturb and key is not None:
            n = max(n + noise(key), self.threshold)
        return self.round(n)

    def publish_person_years(self, years: float) -> float:
        """Person-time as published: rounded half up to the ``person_years`` base (as it is
        when the base is 0). Non-zero time never rounds to 0, which would read as none."""
        base = self.person_years
        if not base or years != years:  # exact, or NaN
            return float(years)
        rounded = float(np.floor(years / base + 0.5) * base)
        return float(base) if years > 0 and rounded == 0 else rounded

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


@dataclass(frozen=True)
class CountTable:
    """A table as a reader sees it: cells, and the sums the reader knows hold.

    ``values`` are the true counts; each relation ``(total, cells)`` says that cell
    ``total`` is the sum of ``cells`` (flat indices). ``keys`` are the cells' cell keys
    (:mod:`precimed.deid.cellkey`), or None where unknown. ``latent`` cells are never
    published but a reader can work them out (the people an attrition step drops, the
    deaths of a wave: due minus reached minus lost); they must not be derivable when small.
    """

    values: np.ndarray
    relations: list[tuple[int, np.ndarray]] = field(default_factory=list)
    keys: np.ndarray | None = None
    latent: np.ndarray | None = None


def publish_table(table: CountTable, *, policy: Policy) -> list[Cell]:
    """THE gate: one :class:`Cell` per cell of ``table``, safe to publish together.

    Small cells are hidden (SMALL), then helpers until no hidden cell and no small sum of
    hidden cells can be worked out from the relations (SECONDARY); the published cells
    then get the policy's noise and rounding. Latent cells come back as ``Cell(None)``.
    """
    values = np.asarray(table.values, dtype=np.int64)
    for i, n in enumerate(values.tolist()):
        _check_count(n, f"cell {i}")
    latent = (np.zeros(len(values), dtype=bool) if table.latent is None
              else np.asarray(table.latent, dtype=bool))
    hidden = suppress_cells(values, table.relations, policy, latent=latent)
    small = (values > 0) & (values < policy.threshold)
    out = []
    for i, v in enumerate(values.tolist()):
        if latent[i]:
            out.append(Cell(None))
        elif hidden[i]:
            out.append(Cell(None, SMALL if small[i] else SECONDARY))
        else:
            key = None if table.keys is None else table.keys[i]
            out.append(Cell(policy.publish(v, key=None if key is None else int(key))))
    return out


def consistent_counts(value: int, *, policy: Policy) -> frozenset[int]:
    """Every true count that ``policy`` could publish as ``value``: what a reader who knows
    the threshold, the noise table and the rounding (but not the secret) can conclude
    from one published number. The tests of differencing attacks reason with it."""
    if value == 0:
        return frozenset({0})
    noises = {e for _, e in NOISE} if policy.perturb else {0}
    spread = max(abs(e) for e in noises) + policy.rounding + policy.threshold
    out = set()
    for n in range(max(policy.threshold, value - spread), value + spread + 1):
        if any((policy.round(max(n + e, policy.threshold)) if policy.perturb
                else policy.round(n)) == value for e in noises):
            out.add(n)
    return frozenset(out)


def publish_count(n: int, *, policy: Policy, key: int | None = None) -> Cell:
    """A single count that is published on its own (no other cell adds up with it)."""
    _check_count(n, "count")
    if policy.is_small(n):
        return Cell(None, SMALL)
    return Cell(policy.publish(int(n), key=key))


def protect_count(n: int, *, policy: Policy, key: int | None = None) -> int | None:
    """A single count, for a page or an API field; ``None`` means "fewer than T"."""
    return publish_count(n, policy=policy, key=key).value


def publish_sequence(counts: Sequence[int], *, policy: Policy,
                     keys: Sequence[int] | None = None) -> list[Cell]:
    """An attrition table: each count is a subset of the one before.

    The people dropped between two published counts are a cell the reader can work out,
    so every gap between neighbouring published counts must be 0 or at least T, like the
    counts themselves. Hiding a count only widens the gap around it, so the hidden count
    lies anywhere between its published neighbours.

    Within one table that is enough; across queries it is not, because every step is the
    final count of a shorter definition that can be counted on its own. What protects a
    small gap across queries is the perturbed tier's noise: the step and the shorter
    definition's count are the same people, so they get the same noisy number, and the
    difference of two noisy numbers is not the gap (``tests/unit/deid/test_differencing``).
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
    out = []
    for i, (n, h) in enumerate(zip(values, hidden, strict=True)):
        if h:
            out.append(Cell(None, SMALL if policy.is_small(n) else SECONDARY))
        else:
            out.append(Cell(policy.publish(n, key=None if keys is None else int(keys[i]))))
    return out


def protect_sequence(counts: Sequence[int], *, policy: Policy,
                     keys: Sequence[int] | None = None) -> list[int | None]:
    """:func:`publish_sequence` as bare values (None: hidden)."""
    return [c.value for c in publish_sequence(counts, policy=policy, keys=keys)]


def protect_counts(counts: pd.DataFrame, *, by: list[str], count: str = "count",
                   policy: Policy, margins: bool = True,
                   total_label: str = MARGIN, key: str | None = None) -> pd.DataFrame:
    """Grouped counts, with their totals, made safe to publish.

    ``counts`` holds one row per group (columns ``by``) and a non-negative integer
    ``count``; a missing combination of groups means zero. With ``margins`` every row,
    column and grand total is added, labelled ``total_label`` (by default the margin code
    :data:`precimed.standard.margins.MARGIN`, read as 合计 / Total); pass ``margins=True``
    whenever any total of this table is published anywhere, because the reader then
    knows it. ``key`` names a column of cell keys (margins get their cells' combined
    key), for the perturbed tier's noise. The result has the ``by`` columns, ``count``
    as nullable ``Int64`` with hidden counts as ``<NA>``, a boolean ``suppressed`` and
    ``reason`` (SMALL, SECONDARY or None): the input rows first, then the margins.
    """
    keys, values = _read_table(counts, by, count, total_label)
    cell_keys = None if key is None else counts[key].to_numpy().astype(np.uint64)
    levels = [list(pd.unique(keys[:, i])) for i in range(len(by))]
    if margins:
        cube, relations = table_with_margins(keys, values, levels)
        if cell_keys is not None:
            cell_keys = _margin_keys(keys, cell_keys, levels, cube.shape)
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
    cells = publish_table(CountTable(flat, relations, cell_keys), policy=policy)
    cells = [cells[i] for i in order.tolist()]
    coords = coords[order]
    out = pd.DataFrame({
        name: pd.Series([labels[i][c] for c in coords[:, i]], dtype=object)
        for i, name in enumerate(by)
    })
    out[count] = pd.array([pd.NA if c.value is None else c.value for c in cells],
                          dtype="Int64")
    out["suppressed"] = np.array([c.reason is not None for c in cells], dtype=bool)
    out["reason"] = pd.Series([c.reason for c in cells], dtype=object)
    return out


def _margin_keys(keys: np.ndarray, cell_keys: np.ndarray, levels: list[list[object]],
                 shape: tuple[int, ...]) -> np.ndarray:
    """Cell keys over the table with margins: a margin's key combines its cells'."""
    inner = np.zeros([len(lv) for lv in levels], dtype=np.uint64)
    index = [{k: j for j, k in enumerate(lv)} for lv in levels]
    for row, k in zip(keys, cell_keys, strict=True):
        inner[tuple(index[i][v] for i, v in enumerate(row))] = k
    cube = inner
    for axis in range(cube.ndim):
        cube = np.concatenate([cube, cube.sum(axis=axis, keepdims=True, dtype=np.uint64)],
                              axis=axis)
    return np.array([combine([k]) for k in cube.ravel().tolist()], dtype=np.uint64)


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
                   policy: Policy, *, latent: np.ndarray | None = None) -> np.ndarray:
    """Which cells of a flat table with margins (:func:`table_with_margins`) to hide:
    primary, then heuristic, then verified by rank. The engine of :func:`publish_table`.

    ``latent`` cells are never published (they come back hidden); one that is small
    must not be derivable, one that is not small may be."""
    latent = np.zeros(len(values), dtype=bool) if latent is None else latent
    primary = (values > 0) & (values < policy.threshold)
    hidden = primary | latent
    while True:
        _heuristic(values, relations, hidden, policy, latent)
        support = _first_disclosure(values, relations, hidden, policy, latent)
        if support is None:
            return _release_unneeded(values, relations, hidden, primary, policy, latent)
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
                      hidden: np.ndarray, primary: np.ndarray, policy: Policy,
                      latent: np.ndarray) -> np.ndarray:
    """Publish again the helper cells the table stays safe without, largest first.

    The heuristic picks helpers relation by relation, so the order it meets them in can
    make it hide more than needed (a small province protected first through the grand
    total of the provinces, then again inside its own region). A helper is given back
    with the helpers that giving it back makes derivable (a cell and a margin equal to
    it go together); the release stands only if the rank check then finds no cell from
    primary suppression and no small sum derivable, so the result is as safe as before.
    """
    for cell in sorted(np.flatnonzero(hidden & ~primary & ~latent).tolist(),
                       key=lambda c: (-values[c], c)):
        if not hidden[cell]:
            continue
        trial = hidden.copy()
        trial[cell] = False
        while True:
            support = _first_disclosure(values, relations, trial, policy, latent)
            if support is None:
                hidden[:] = trial
                break
            if len(support) != 1 or primary[support[0]] or latent[support[0]]:
                break  # a small cell or a small sum would show: keep the helper hidden
            trial[support[0]] = False  # derivable anyway: publishing it tells nothing more
    return hidden


def _heuristic(values: np.ndarray, relations: list[tuple[int, np.ndarray]],
               hidden: np.ndarray, policy: Policy, latent: np.ndarray) -> None:
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
            alone = np.concatenate([[total], cells])[
                np.concatenate([[hidden[total]], hidden[cells]])]
            if n_hidden == 1 and latent[alone[0]] and not policy.is_small(values[alone[0]]):
                continue  # a large latent cell may be worked out
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
                      hidden: np.ndarray, policy: Policy, latent: np.ndarray
                      ) -> np.ndarray | None:
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
        if latent[cell] and not policy.is_small(int(values[cell])):
            continue  # a large latent cell may be worked out
        if not len(null) or np.abs(null[:, j]).max() < _TOL:
            return np.array([cell])
    for _, cells in relations:
        members = cells[hidden[cells]]
        if len(members) < 2:
            continue
        u = np.zeros(len(suppressed))
        u[[column[c] for c in members.tolist()]] = 1
        derivable = not len(null) or np.abs(null @ u).max() < _TOL
        if derivable and policy.is_small(int(values[members].sum())):
            return members
    return None
