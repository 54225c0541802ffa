"""Project-specific participant IDs and date offsets for extracts.

Each project (an approved access request) has its own random key in the home's
``keys/projects/`` folder, mode 600, never in the lake or the operational database.
From it, and from nothing a reader of an extract holds:

* :meth:`ProjectKey.participant_id`: a keyed HMAC-SHA256 of the platform pseudonym, so
  each project sees its own IDs, as UK Biobank gives each application its own
  participant IDs: two projects' extracts share no ID and cannot be joined on a person.
* :meth:`ProjectKey.date_offset`: a whole number of days from -:data:`MAX_SHIFT_DAYS`
  to +:data:`MAX_SHIFT_DAYS`, never 0, the same for every date of one person in one
  project, so intervals between a person's dates stay exact while calendar dates do
  not match any other source.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from precimed.deid.pseudonym import create_key, load_key
from precimed.errors import NotInitialised, UserError

MAX_SHIFT_DAYS = 180
PROJECT_ID_HEX = 24  # 96 bits: no collision in any cohort, and visibly not a platform pseudonym
_PROJECT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def key_path(keys_dir: Path, project: str) -> Path:
    """Where a project's key lives: ``keys/projects/<project>.key``."""
    if not _PROJECT.match(project):
        raise UserError("A project id may hold only letters, digits, '-' and '_'",
                        where="project", hint="Use the id the platform gave the project.")
    return keys_dir / "projects" / f"{project}.key"


@dataclass(frozen=True, repr=False)
class ProjectKey:
    """A project's secret; derives its participant IDs and date offsets."""

    project: str
    secret: bytes

    @classmethod
    def create(cls, keys_dir: Path, project: str) -> ProjectKey:
        """Make the project's key (once, when the project becomes active) and load it."""
        path = key_path(keys_dir, project)
        if not path.exists():
            create_key(path)
        return cls.load(keys_dir, project)

    @classmethod
    def load(cls, keys_dir: Path, project: str) -> ProjectKey:
        path = key_path(keys_dir, project)
        if not path.exists():
            raise NotInitialised("The project has no key yet", where=f"project {project}",
                                 hint="A project's key is made when its approval becomes "
                                      "active; ask the data access committee.")
        return cls(project, load_key(path))

    def _mac(self, purpose: bytes, pseudonym: str) -> bytes:
        # one key, two purposes kept apart by a label, so an ID never reveals an offset
        return hmac.new(self.secret, purpose + b"\x00" + pseudonym.encode("ascii"),
                        hashlib.sha256).digest()

    def participant_id(self, pseudonym: str) -> str:
        return self._mac(b"participant-id", pseudonym).hex()[:PROJECT_ID_HEX]

    def date_offset(self, pseudonym: str) -> int:
        """Days to add to every date of this person in this project: ±1..MAX_SHIFT_DAYS."""
        n = int.from_bytes(self._mac(b"date-offset", pseudonym)[:8], "big")
        magnitude = 1 + n % MAX_SHIFT_DAYS
        return magnitude if (n >> 32) & 1 else -magnitude

    def __repr__(self) -> str:
        return f"ProjectKey({self.project!r}, <secret>)"


def shift_dates(dates: pd.DataFrame, *, offsets: pd.Series) -> pd.DataFrame:
    """Every date column of ``dates`` moved by each row's offset in days (``offsets``,
    aligned on the index); missing dates stay missing. Compute intervals (age, follow-up
    time) before calling: a person's dates all move together, so differences between
    them survive, but nothing computed against an unshifted date does."""
    delta = pd.to_timedelta(offsets.astype("int64"), unit="D")
    out = dates.copy()
    for column in dates.columns:
        out[column] = (pd.to_datetime(dates[column]) + delta).dt.date
    return out


def shift_year_months(months: pd.Series, *, offsets: pd.Series) -> pd.Series:
    """``YYYY-MM`` values moved with the same offsets, from the middle of their month
    (a birth month moves with the person's other dates, to within a month)."""
    middle = pd.to_datetime(months + "-15", errors="coerce")
    moved = middle + pd.to_timedelta(offsets.astype("int64"), unit="D")
    return moved.dt.strftime("%Y-%m").where(middle.notna(), None)


def reduce_to_year_month(dates: pd.DataFrame) -> pd.DataFrame:
    """Dates kept only as ``YYYY-MM``: the tier that shifts nothing."""
    return dates.apply(lambda c: pd.to_datetime(c).dt.strftime("%Y-%m")
                       .where(c.notna(), None))
