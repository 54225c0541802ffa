"""Age bands used wherever ages are grouped: QC plausible ranges, incidence, reports.

Ten-year bands through working and older ages, the way Chinese cohort reports (China
Kadoorie Biobank, China-PAR) tabulate them, with one band for minors.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgeBand:
    label: str
    low: int  # inclusive, years
    high: int | None  # exclusive; None = no upper bound

    def within(self, low: float, high: float) -> bool:
        """Whether the band lies within the age interval [low, high)."""
        return self.low >= low and (self.high if self.high is not None else 200) <= high


AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand("0-17", 0, 18),
    AgeBand("18-39", 18, 40),
    AgeBand("40-49", 40, 50),
    AgeBand("50-59", 50, 60),
    AgeBand("60-69", 60, 70),
    AgeBand("70-79", 70, 80),
    AgeBand("80+", 80, None),
)
