"""The resident identity number (GB 11643-1999) as a value type.

18 characters: a 6-digit GB/T 2260 address code, the birth date YYYYMMDD, a 3-digit
sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.
Exports write the check ``X`` in lower case and sometimes use full-width digits; both
are normalised here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from precimed.standard.regions import PROVINCES

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_FULL_WIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX")


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise(raw: str) -> str:
    return raw.strip().translate(_FULL_WIDTH).upper()


class InvalidResidentId(ValueError):
    """Why a resident ID is invalid; the message never repeats the number."""


@dataclass(frozen=True)
class ResidentId:
    value: str

    @classmethod
    def parse(cls, raw: str) -> ResidentId:
        value = normalise(raw)
        problem = resident_id_problem(value)
        if problem:
            raise InvalidResidentId(problem)
        return cls(value)

    @property
    def province(self) -> str:
        return self.value[:2]

    @property
    def birth_date(self) -> dt.date:
        return dt.date(int(self.value[6:10]), int(self.value[10:12]), int(self.value[12:14]))

    @property
    def sex(self) -> str:
        """GB/T 2261.1 code implied by the sequence number: 1 male, 2 female."""
        return "1" if int(self.value[16]) % 2 else "2"

    def __repr__(self) -> str:  # never print the number itself
        return "ResidentId(<redacted>)"

    __str__ = __repr__


def resident_id_problem(value: str) -> str | None:
    """None if ``value`` (already normalised) is a valid resident ID, else the reason."""
    if len(value) != 18:
        return f"has {len(value)} characters, not 18"
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return "must be 17 digits followed by a digit or X"
    if value[:2] not in PROVINCES:
        return "does not start with a GB/T 2260 province code"
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "has an impossible birth date in characters 7-14"
    if check_character(value[:17]) != value[17]:
        return "fails the ISO 7064 MOD 11-2 check digit"
    return None
