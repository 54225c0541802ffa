"""Catalogue item types: measurements and exposures, with units and plausible ranges.

The items themselves are declared in :mod:`precimed.standard.measurements` and
:mod:`precimed.standard.exposures`; this module holds only their shape and the unit
arithmetic, so that ingest, QC and the docs read one declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def unit_key(symbol: str) -> str:
    """Normalise a unit as centres type it: case, spaces, micro signs, superscripts."""
    s = symbol.strip().replace(" ", "").replace("µ", "u").replace("μ", "u")
    s = s.replace("²", "2").replace("³", "3").replace("⁹", "9").replace("¹²", "12")
    s = s.replace("×", "x").replace("*", "x").replace("^", "")
    return s.lower()


@dataclass(frozen=True)
class MeasurementItem:
    """One measurable quantity with its canonical unit and accepted other units.

    ``other_units`` maps a unit symbol to the factor that converts a value in that unit
    to the canonical unit (canonical = value * factor). ``limits`` bound what is
    physically possible: a value outside them is rejected at ingest. ``plausible`` is
    the range expected in adults, used by quality control with thresholds.
    """

    code: str
    zh: str
    en: str
    category: str
    unit: str
    limits: tuple[float, float]
    plausible: tuple[float, float]
    description: str = ""
    other_units: dict[str, float] = field(default_factory=dict)
    plausible_male: tuple[float, float] | None = None
    plausible_female: tuple[float, float] | None = None
    loinc: str = ""
    decimals: int = 1

    def factor(self, unit: str) -> float | None:
        """The factor to canonical for ``unit``, or None if the unit is not accepted."""
        key = unit_key(unit)
        if key == unit_key(self.unit):
            return 1.0
        for other, factor in self.other_units.items():
            if unit_key(other) == key:
                return factor
        return None

    @property
    def accepted_units(self) -> tuple[str, ...]:
        return (self.unit, *self.other_units)

    def accepted_units_factors(self) -> tuple[tuple[str, float], ...]:
        return ((self.unit, 1.0), *self.other_units.items())


@dataclass(frozen=True)
class ExposureItem:
    """One exposure: numeric with a unit and limits, or categorical with codes."""

    code: str
    zh: str
    en: str
    category: str
    kind: str  # "numeric" or "categorical"
    description: str = ""
    unit: str = ""
    limits: tuple[float, float] | None = None
    categories: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (zh, en)

    def category_for(self, text: str) -> str | None:
        """The category code ``text`` names, by code, Chinese or English label."""
        if self.kind != "categorical":
            return None
        lowered = text.strip().lower()
        for category, (zh, en) in self.categories.items():
            if lowered in (category.lower(), zh, en.lower()):
                return category
        return None

    def __post_init__(self) -> None:
        if self.kind not in {"numeric", "categorical"}:
            raise ValueError(f"exposure {self.code}: kind must be numeric or categorical")
        if self.kind == "numeric" and (not self.unit or self.limits is None):
            raise ValueError(f"exposure {self.code}: a numeric exposure needs unit and limits")
        if self.kind == "categorical" and not self.categories:
            raise ValueError(f"exposure {self.code}: a categorical exposure needs categories")
