"""k-anonymity of a row-level extract on its quasi-identifiers, and how to reach it.

Quasi-identifiers are the columns someone could know about a person from elsewhere:
age, sex, native province and region, ethnicity, birth month, and calendar dates. An
extract is k-anonymous when every combination of their values that occurs is shared by
at least k rows. Dates shifted per person (:mod:`precimed.deid.project`) are not
counted: the offset is a secret of the project, so a shifted date matches nothing a
reader knows.

Below k, :func:`plan` says which columns to coarsen, along one ladder (age to 5-year,
then 10-year bands, native province to its region, dates and birth months to the year), choosing
each time the step that leaves the fewest rows in classes smaller than k.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from precimed.standard.extracts import AGE as _AGE
from precimed.standard.regions import region_of
from precimed.standard.tables import PARTICIPANT

AGE = _AGE.name  # derived by precimed.query.compile.age_at_enrolment
SEX, PROVINCE, REGION, ETHNICITY, BIRTH_MONTH = (
    PARTICIPANT.field(n).name for n in ("sex", "native_province", "region", "ethnicity",
                                        "birth_year_month"))
FIXED = (AGE, SEX, PROVINCE, REGION, ETHNICITY, BIRTH_MONTH)


def quasi_identifiers(columns: Sequence[str], *, dates: Sequence[str] = ()) -> list[str]:
    """The columns of an extract checked for k-anonymity: the fixed ones it holds, and
    the calendar dates it publishes unshifted (``dates``)."""
    return [c for c in columns if c in FIXED or c in dates]


def smallest_class(frame: pd.DataFrame, columns: Sequence[str]) -> int:
    """Rows in the rarest combination of ``columns`` (all rows when there is none)."""
    if not len(frame):
        return 0
    if not columns:
        return len(frame)
    return int(frame.groupby(list(columns), dropna=False).size().min())


def rows_at_risk(frame: pd.DataFrame, columns: Sequence[str], k: int) -> int:
    """Rows in combinations shared by fewer than ``k`` rows."""
    if not columns or not len(frame):
        return 0 if len(frame) >= k else len(frame)
    columns = list(columns)
    sizes = frame.groupby(columns, dropna=False)[columns[0]].transform("size")
    return int((sizes < k).sum())


def age_band(ages: pd.Series, *, width: int = 5) -> pd.Series:
    """Whole years (or narrower bands, ``40-44``) to bands of ``width`` years, e.g. 42 →
    ``40-44`` (width 5) or ``40-49`` (width 10)."""
    years = pd.to_numeric(ages.astype("string").str.split("-").str[0], errors="coerce")
    low = (years // width * width).astype("Int64")
    return (low.astype(str) + "-" + (low + width - 1).astype(str)).where(years.notna(), None)


def to_year(values: pd.Series) -> pd.Series:
    """A date or ``YYYY-MM`` to its year, as text."""
    return values.astype("string").str[:4].where(values.notna(), None)


def province_to_region(provinces: pd.Series) -> pd.Series:
    """A GB/T 2260 province code to the programme region it belongs to."""
    return provinces.map(lambda c: region_of(c) if isinstance(c, str) else None)


@dataclass(frozen=True)
class Step:
    column: str
    description: str
    apply: Callable[[pd.DataFrame], pd.DataFrame]
    code: str  # names the rung for labels in other languages: age_5, age_10, region, year


def _steps(frame: pd.DataFrame, quasi: Sequence[str], done: Sequence[Step]) -> list[Step]:
    """The ladder's next rung for every quasi-identifier not yet at its top."""
    steps = []
    taken = [s.description for s in done]
    if AGE in quasi and "10-year bands" not in taken:
        width = 10 if "5-year bands" in taken else 5
        steps.append(Step(AGE, f"{width}-year bands",
                          lambda f: f.assign(**{AGE: age_band(f[AGE], width=width)}),
                          f"age_{width}"))
    if PROVINCE in quasi and PROVINCE not in [s.column for s in done]:
        if REGION in frame.columns:
            steps.append(Step(PROVINCE, "dropped (region kept)",
                              lambda f: f.drop(columns=[PROVINCE]), "province_dropped"))
        else:
            steps.append(Step(PROVINCE, "replaced by its region",
                              lambda f: f.assign(**{PROVINCE: province_to_region(
                                  f[PROVINCE])}), "region"))
    for column in quasi:
        if (column == BIRTH_MONTH or column not in FIXED) and column not in [
                s.column for s in done]:
            steps.append(Step(column, "year only",
                              lambda f, c=column: f.assign(**{c: to_year(f[c])}), "year"))
    return steps


@dataclass(frozen=True)
class Plan:
    """Whether an extract is k-anonymous, and the coarsening that would make it so."""

    k: int
    quasi_identifiers: tuple[str, ...]
    smallest: int  # before any coarsening
    steps: tuple[Step, ...]  # in the order to apply them
    reaches_k: bool  # after the steps
    smallest_after: int

    @property
    def ok(self) -> bool:
        return self.smallest >= self.k

    @property
    def columns_to_coarsen(self) -> list[str]:
        return list(dict.fromkeys(s.column for s in self.steps))

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        for step in self.steps:
            frame = step.apply(frame)
        return frame


def _risk_after(step: Step, frame: pd.DataFrame, quasi: Sequence[str], k: int) -> int:
    after = step.apply(frame)
    return rows_at_risk(after, [c for c in quasi if c in after.columns], k)


def plan(frame: pd.DataFrame, *, k: int, dates: Sequence[str] = ()) -> Plan:
    """Check ``frame`` for k-anonymity; below k, pick coarsening steps greedily until it
    holds or the ladder is used up (then ``reaches_k`` is False: the extract must drop
    a column, for example ethnicity, or select fewer people out)."""
    quasi = quasi_identifiers(list(frame.columns), dates=dates)
    smallest = smallest_class(frame, quasi)
    chosen: list[Step] = []
    current, now = frame, smallest
    while now < k and (available := _steps(frame, quasi, chosen)):
        risks = [_risk_after(s, current, quasi, k) for s in available]
        best = available[risks.index(min(risks))]  # ties: the ladder's order
        chosen.append(best)
        current = best.apply(current)
        now = smallest_class(current, [c for c in quasi if c in current.columns])
    return Plan(k, tuple(quasi), smallest, tuple(chosen) if smallest < k else (),
                now >= k, now)
