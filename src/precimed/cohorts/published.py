"""Enrolment and retention as they leave the platform: each a whole table with the sums a
reader knows, through the one gate (:func:`precimed.deid.disclosure.publish_table`).

The definitions stay in :mod:`precimed.cohorts.follow_up`; this module only says which
published numbers add up to which, so a hidden cell cannot come back by subtraction:

* enrolment: a cohort's total is the sum of its centres;
* retention, per cohort and centre (with each cell's key when the follow-up tables
  carry them, so the perturbed tier adds the cell-key noise): at every wave
  ``due = reached + lost + died`` (died is not published, but a reader can work it out,
  so it must not be small when derivable),
  and the four-year summary's ``eligible = reached + lost`` of wave 4, its ``lost`` the
  same people as wave 4's.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from precimed.deid import Cell, CountTable, Policy, publish_table
from precimed.deid.cellkey import combine

SUMMARY_YEARS = 4


def enrolment(counts: Mapping[tuple[str, str], int], *, policy: Policy,
              keys: Mapping[tuple[str, str], int] | None = None
              ) -> tuple[dict[str, Cell], dict[tuple[str, str], Cell]]:
    """Per cohort its total, per (cohort, centre) its count, protected together."""
    centres = sorted(counts)
    cohorts = sorted({c for c, _ in centres})
    values = [int(counts[k]) for k in centres]
    cell_keys = None if keys is None else [int(keys[k]) for k in centres]
    relations = []
    for cohort in cohorts:
        members = [i for i, (c, _) in enumerate(centres) if c == cohort]
        relations.append((len(values), np.array(members)))
        values.append(sum(values[i] for i in members))
        if cell_keys is not None:
            cell_keys.append(combine(cell_keys[i] for i in members))
    cells = publish_table(CountTable(np.array(values, dtype=np.int64), relations,
                                     None if cell_keys is None
                                     else np.array(cell_keys, dtype=np.uint64)),
                          policy=policy)
    return ({c: cells[len(centres) + i] for i, c in enumerate(cohorts)},
            {k: cells[i] for i, k in enumerate(centres)})


def retention(summary: pd.DataFrame, by_wave: pd.DataFrame, *, policy: Policy
              ) -> tuple[list[dict[str, Cell]], list[dict[str, Cell]]]:
    """The retention summary (participants, eligible, lost) and the per-wave table (due,
    reached, lost) of :mod:`precimed.cohorts.follow_up`, row for row, as cells."""
    summary_out: list[dict[str, Cell]] = [{} for _ in range(len(summary))]
    waves_out: list[dict[str, Cell]] = [{} for _ in range(len(by_wave))]
    if summary.empty and by_wave.empty:  # nobody assessed yet
        return summary_out, waves_out
    groups = set(zip(summary.cohort, summary.centre, strict=True)) | set(
        zip(by_wave.cohort, by_wave.centre, strict=True))
    for cohort, centre in sorted(groups):
        s_rows = np.flatnonzero((summary.cohort == cohort).to_numpy()
                                & (summary.centre == centre).to_numpy())
        w_rows = np.flatnonzero((by_wave.cohort == cohort).to_numpy()
                                & (by_wave.centre == centre).to_numpy())
        table = _Builder()
        placed: dict[int, dict[str, int]] = {}
        for i in w_rows.tolist():
            r = by_wave.iloc[i]
            cells = {name: table.cell(int(r[name]), key=_key(r, name))
                     for name in ("due", "reached", "lost")}
            died = table.cell(int(r.due) - int(r.reached) - int(r.lost), latent=True)
            table.sums(cells["due"], [cells["reached"], cells["lost"], died])
            placed[i] = cells
        for i in s_rows.tolist():
            r = summary.iloc[i]
            cells = {name: table.cell(int(r[name]), key=_key(r, name))
                     for name in ("participants", "eligible", "lost")}
            reached = table.cell(int(r.eligible) - int(r.lost), latent=True)
            table.sums(cells["eligible"], [reached, cells["lost"]])
            four = [j for j in w_rows.tolist() if int(by_wave.iloc[j].wave) == SUMMARY_YEARS]
            if four and int(r.eligible) == int(by_wave.iloc[four[0]].reached
                                               + by_wave.iloc[four[0]].lost):
                # the same people as wave 4's: the reader can equate them
                table.sums(cells["lost"], [placed[four[0]]["lost"]])
                table.sums(cells["eligible"], [placed[four[0]]["reached"],
                                               placed[four[0]]["lost"]])
            placed[-1 - i] = cells
        published = table.publish(policy)
        for i, cells in placed.items():
            target = waves_out[i] if i >= 0 else summary_out[-1 - i]
            target.update({name: published[c] for name, c in cells.items()})
    return summary_out, waves_out


def _key(row: pd.Series, name: str) -> int | None:
    """The cell key of ``name`` in a row of the follow-up tables, when they carry keys
    (:func:`precimed.cohorts.follow_up.retention` with ``keys``)."""
    value = row.get(f"{name}_key")
    return None if value is None or pd.isna(value) else int(value)


def ratio(numerator: Cell, *denominator: Cell) -> float | None:
    """A share computed from published cells only (None when any is hidden or the
    denominator is 0), so the share never tells more than its cells."""
    if numerator.value is None or any(c.value is None for c in denominator):
        return None
    total = sum(c.value for c in denominator)  # type: ignore[misc]
    return round(numerator.value / total, 4) if total else None


class _Builder:
    """Cells and sums of one table, laid out for :class:`CountTable`."""

    def __init__(self) -> None:
        self.values: list[int] = []
        self.latent: list[bool] = []
        self.keys: list[int | None] = []
        self.relations: list[tuple[int, np.ndarray]] = []

    def cell(self, value: int, *, latent: bool = False, key: int | None = None) -> int:
        self.values.append(max(int(value), 0))
        self.latent.append(latent)
        self.keys.append(key)
        return len(self.values) - 1

    def sums(self, total: int, cells: list[int]) -> None:
        self.relations.append((total, np.array(cells, dtype=int)))

    def publish(self, policy: Policy) -> list[Cell]:
        keys = None  # all or none: a table's cells are keyed by one query
        if self.keys and all(k is not None or latent
                             for k, latent in zip(self.keys, self.latent, strict=True)):
            keys = np.array([k or 0 for k in self.keys], dtype=np.uint64)
        return publish_table(CountTable(np.array(self.values, dtype=np.int64),
                                        self.relations, keys,
                                        latent=np.array(self.latent, dtype=bool)),
                             policy=policy)
