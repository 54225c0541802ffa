"""A second engine for the cohort model: plain Python over rows, written for clarity.

It exists to check the Ibis compiler: the spec tests run on both, and property tests
generate data and definitions and require the two to agree. Not for production sizes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from precimed.query.model import (
    AgeAtEnrolment,
    AssayAvailable,
    CohortDefinition,
    Criterion,
    Diagnosis,
    ExposureIs,
    MeasurementIn,
    Not,
    ParticipantIs,
    SpecimenAvailable,
    Window,
)
from precimed.standard.icd10 import selects

Rows = list[dict]


def _age(person: dict) -> int | None:
    if not person.get("birth_year_month") or person.get("enrolment_date") is None:
        return None
    year, month = (int(x) for x in person["birth_year_month"].split("-"))
    enrolled: dt.date = person["enrolment_date"]
    return ((enrolled.year - year) * 12 + (enrolled.month - month)) // 12


def _in(window: Window, days: int | None, wave, *, has_wave: bool = True) -> bool:
    if window.baseline:  # the baseline survey; for a diagnosis, on or before enrolment
        return wave == 0 if has_wave else days is not None and days <= 0
    if days is None:
        return False
    return (window.start is None or days >= window.start) and \
        (window.end is None or days <= window.end)


class ReferenceEngine:
    def __init__(self, tables: dict[str, Rows]) -> None:
        self.tables = tables
        self.people = {p["pseudonym"]: p for p in tables.get("participant", [])}

    def _days(self, row: dict, date_field: str, window: Window) -> int | None:
        person = self.people.get(row["pseudonym"])
        if person is None or row.get(date_field) is None:
            return None
        if window.anchor:
            index = self._first(window).get(row["pseudonym"])
        else:
            index = person["enrolment_date"]
        return None if index is None else (row[date_field] - index).days

    def _first(self, window: Window) -> dict:
        """Each person's first diagnosis with one of the window's anchor codes."""
        table, date = (("condition", "diagnosed_on") if window.anchor_source == "condition"
                       else ("endpoint_event", "event_date"))
        first: dict = {}
        for r in self._rows(table):
            if r.get(date) and selects(r.get("icd10"), window.anchor):
                first[r["pseudonym"]] = min(first.get(r["pseudonym"], r[date]), r[date])
        return first

    def qualifying(self, criterion: Criterion) -> set[str]:
        if isinstance(criterion, ParticipantIs):
            return {k for k, p in self.people.items() if p.get(criterion.field)
                    in criterion.values}
        if isinstance(criterion, AgeAtEnrolment):
            out = set()
            for k, p in self.people.items():
                age = _age(p)
                if age is None:
                    continue
                if (criterion.min is None or age >= criterion.min) and \
                        (criterion.max is None or age < criterion.max):
                    out.add(k)
            return out
        if isinstance(criterion, MeasurementIn):
            return {r["pseudonym"] for r in self._rows("measurement")
                    if r["code"] == criterion.code and r.get("value") is not None
                    and (criterion.min is None or r["value"] >= criterion.min)
                    and (criterion.max is None or r["value"] <= criterion.max)
                    and r["pseudonym"] in self.people
                    and _in(criterion.window, self._days(r, "measured_on", criterion.window),
                            r.get("wave"))}
        if isinstance(criterion, ExposureIs):
            def matches(r: dict) -> bool:
                if criterion.values:
                    return r.get("value_code") in criterion.values
                return r.get("value") is not None and \
                    (criterion.min is None or r["value"] >= criterion.min) and \
                    (criterion.max is None or r["value"] <= criterion.max)
            return {r["pseudonym"] for r in self._rows("exposure")
                    if r["code"] == criterion.code and matches(r)
                    and r["pseudonym"] in self.people
                    and _in(criterion.window, self._days(r, "assessed_on", criterion.window),
                            r.get("wave"))}
        if isinstance(criterion, Diagnosis):
            table, date = (("condition", "diagnosed_on") if criterion.source == "condition"
                           else ("endpoint_event", "event_date"))
            return {r["pseudonym"] for r in self._rows(table)
                    if selects(r.get("icd10"), criterion.codes)
                    and r["pseudonym"] in self.people
                    and _in(criterion.window, self._days(r, date, criterion.window), None,
                           has_wave=False)}
        if isinstance(criterion, SpecimenAvailable):
            return {r["pseudonym"] for r in self._rows("specimen")
                    if r.get("specimen_type") in criterion.types
                    and (criterion.min_volume_ml is None or (
                        r.get("volume_ml") is not None
                        and r["volume_ml"] >= criterion.min_volume_ml))}
        if isinstance(criterion, AssayAvailable):
            return {r["pseudonym"] for r in self._rows("assay")
                    if r.get("assay_type") in criterion.types}
        if isinstance(criterion, Not):
            return set(self.people) - self.qualifying(criterion.criterion)
        raise TypeError(f"no reference rule for {type(criterion).__name__}")

    def _rows(self, table: str) -> Iterable[dict]:
        return self.tables.get(table, [])

    def attrition(self, definition: CohortDefinition) -> list[int]:
        members = set(self.people)
        counts = [len(members)]
        for criterion in definition.criteria:
            members &= self.qualifying(criterion)
            counts.append(len(members))
        return counts

    def members(self, definition: CohortDefinition) -> list[str]:
        members = set(self.people)
        for criterion in definition.criteria:
            members &= self.qualifying(criterion)
        return sorted(members)
