"""Defects real submissions have, injected on purpose with known positions.

Each kind is applied to a share of the rows it concerns (at least one row per package
when the rate is above zero), and every injected defect is recorded so tests can check
that the pipeline finds each one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFECT_KINDS = ("bad_check_digit", "unit_mixup", "out_of_range", "impossible_date",
                "duplicate_person", "missing_required")

# The QC check (rule set 1.0) meant to catch each injected defect.
EXPECTED_CHECK = {"bad_check_digit": "resident_id", "unit_mixup": "unit_plausibility",
                  "out_of_range": "possible_range", "impossible_date": "date",
                  "duplicate_person": "uniqueness", "missing_required": "required"}

GLUCOSE_MG_PER_MMOL = 18.016


def _pick(rows: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    if len(rows) == 0 or rate <= 0:
        return rows[:0]
    k = max(1, round(rate * len(rows)))
    return np.sort(rng.choice(rows, size=min(k, len(rows)), replace=False))


def inject(tables: dict[str, pd.DataFrame], kinds: tuple[str, ...], rate: float,
           rng: np.random.Generator) -> list[dict]:
    """Alter ``tables`` in place (standard field names, dressed values); return the log."""
    log: list[dict] = []
    for kind in kinds:
        log += globals()[f"_{kind}"](tables, rate, rng)
    return log


def _record(kind: str, table: str, rows) -> list[dict]:
    return [{"kind": kind, "table": table, "row": int(r) + 2} for r in rows]


def _bad_check_digit(tables, rate, rng):
    people = tables["participant"]
    rows = _pick(np.arange(len(people)), rate, rng)
    log = []
    for row in rows:
        good = people.at[row, "resident_id"]
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        for name, frame in tables.items():
            hits = np.flatnonzero(frame.resident_id.to_numpy() == good)
            frame.loc[hits, "resident_id"] = bad
            log += _record("bad_check_digit", name, hits)
    return log


def _unit_mixup(tables, rate, rng):
    frame = tables["measurement"]
    rows = _pick(np.flatnonzero((frame.code == "GLU_FAST").to_numpy()
                                & (frame.unit == "mmol/L").to_numpy()), rate, rng)
    values = frame.loc[rows, "value"].astype(str).str.rstrip("↑").astype(float)
    frame.loc[rows, "value"] = (values * GLUCOSE_MG_PER_MMOL).round(0).map("{:g}".format)
    return _record("unit_mixup", "measurement", rows)


def _out_of_range(tables, rate, rng):
    frame = tables["measurement"]
    rows = _pick(np.flatnonzero((frame.code == "SBP").to_numpy()), rate, rng)
    frame.loc[rows, "value"] = "1300"
    return _record("out_of_range", "measurement", rows)


def _impossible_date(tables, rate, rng):
    frame = tables["measurement"]
    rows = _pick(np.arange(len(frame)), rate, rng)
    frame["measured_on"] = frame["measured_on"].astype(object)
    frame.loc[rows, "measured_on"] = "2019-02-30"
    return _record("impossible_date", "measurement", rows)


def _duplicate_person(tables, rate, rng):
    people = tables["participant"]
    rows = _pick(np.arange(len(people)), rate, rng)
    copies = people.iloc[rows].copy()
    copies["name"] = copies["name"].astype(str) + "某"
    tables["participant"] = pd.concat([people, copies], ignore_index=True)
    return _record("duplicate_person", "participant", np.arange(len(people),
                                                                len(people) + len(rows)))


def _missing_required(tables, rate, rng):
    people = tables["participant"]
    rows = _pick(np.arange(len(people)), rate, rng)
    people.loc[rows, "sex"] = None
    return _record("missing_required", "participant", rows)
