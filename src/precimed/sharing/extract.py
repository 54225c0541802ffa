"""Project extracts: the rows an approval allows, made safe for that project, with their
data dictionary, manifest and provenance.

:func:`cut` runs the approved cohort definition on the release through the platform's
one extract (:func:`precimed.query.compile.extract`), then, in this order:

1. drops participants whose consent allows no research (``standard.consent``); the
   caller reads the release through ``Lake.extract_snapshot``, which already leaves
   them out, and the extract checks again so no read path can let one through;
2. refuses a cohort smaller than the disclosure threshold;
3. computes every interval first (age at enrolment comes from the query), then shifts
   each person's dates by the project's per-person offset (``shifted``: ±1..180 days,
   :mod:`precimed.deid.project`) or keeps them only as year-month (``year_month``);
4. replaces the platform pseudonym by the project's participant ID;
5. checks k-anonymity on the quasi-identifiers (:mod:`precimed.deid.kanonymity`):
   below k it coarsens when the approval allows it, otherwise refuses naming the
   columns to coarsen;
6. orders rows by the project ID, so row order reveals nothing about the platform's.

:func:`write` stores it as Parquet and CSV with ``dictionary.json``, ``provenance.json``
and ``manifest.json`` (release, definition, request, row counts, SHA-256 of each file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from precimed import __version__
from precimed.deid import Policy, protect_count
from precimed.deid.kanonymity import Plan, plan
from precimed.deid.project import (
    MAX_SHIFT_DAYS,
    ProjectKey,
    reduce_to_year_month,
    shift_dates,
    shift_year_months,
)
from precimed.errors import UserError
from precimed.files import replacing
from precimed.query import compile as engine
from precimed.query.model import CohortDefinition
from precimed.standard import MEASUREMENT_ITEMS, STANDARD_VERSION
from precimed.standard.consent import allows_research
from precimed.standard.extracts import EXTRACT_FIELDS, PROJECT_PARTICIPANT_ID
from precimed.standard.sharing import DATE_HANDLING as DATE_HANDLING_VOCABULARY
from precimed.standard.tables import PARTICIPANT

FORMAT = "precimed-extract"
FORMAT_VERSION = 1
DATE_HANDLING = tuple(DATE_HANDLING_VOCABULARY.codes)
_PSEUDONYM = PARTICIPANT.field("pseudonym").name
_CONSENT = PARTICIPANT.field("consent_scope").name
ID = PROJECT_PARTICIPANT_ID.name
DATA_FILES = ("data.parquet", "data.csv")


@dataclass(frozen=True)
class ExtractTerms:
    """What an approval lets a project extract, and how dates are handled."""

    request_id: str
    release: str
    definition: CohortDefinition
    variables: tuple[str, ...]
    date_handling: str  # one of DATE_HANDLING
    coarsen_allowed: bool = False

    def __post_init__(self) -> None:
        if self.date_handling not in DATE_HANDLING:
            raise UserError(f"Unknown date handling {self.date_handling!r}",
                            where="date_handling", hint="Use shifted or year_month.")


@dataclass
class Extract:
    """A cut extract, ready to write."""

    terms: ExtractTerms
    frame: pd.DataFrame
    people: int
    withdrawn_excluded: int
    k: int
    anonymity: Plan
    coarsened: list[dict[str, str]] = field(default_factory=list)


def _typed(columns: list[str], kind: str) -> list[str]:
    names = set(PARTICIPANT.field_names)
    return [c for c in columns if c in names and PARTICIPANT.field(c).type == kind]


def cut(con, terms: ExtractTerms, *, key: ProjectKey, k: int, policy: Policy) -> Extract:
    """The extract of ``terms`` on the release ``con`` serves (see the module's steps)."""
    asked = [v for v in dict.fromkeys(terms.variables) if v not in (_PSEUDONYM, ID)]
    fetched = engine.extract(con, terms.definition, [*asked, _CONSENT])
    withdrawn = ~fetched[_CONSENT].map(allows_research).astype(bool)
    frame = fetched.loc[~withdrawn].reset_index(drop=True)
    if _CONSENT not in asked:
        frame = frame.drop(columns=[_CONSENT])
    if protect_count(len(frame), policy=policy) is None:
        raise UserError(f"The cohort has fewer than {policy.threshold} members",
                        where="definition", hint="An extract this small could identify "
                                                 "people; widen the criteria.")
    frame, quasi_dates = _handle_dates(frame, terms.date_handling, key)
    frame.insert(0, ID, frame[_PSEUDONYM].map(key.participant_id))
    frame = frame.drop(columns=[_PSEUDONYM])
    anonymity = plan(frame.drop(columns=[ID]), k=k, dates=quasi_dates)
    coarsened: list[dict[str, str]] = []
    if not anonymity.ok:
        if not (terms.coarsen_allowed and anonymity.reaches_k):
            raise _not_anonymous(anonymity, allowed=terms.coarsen_allowed)
        frame = anonymity.apply(frame)
        coarsened = [{"column": s.column, "to": s.description, "code": s.code}
                     for s in anonymity.steps]
    frame = frame.sort_values(ID, kind="stable").reset_index(drop=True)
    return Extract(terms, frame, len(frame), int(withdrawn.sum()), k, anonymity, coarsened)


def _handle_dates(frame: pd.DataFrame, how: str, key: ProjectKey
                  ) -> tuple[pd.DataFrame, list[str]]:
    """Shift or reduce every date column; return the columns that stay quasi-identifiers."""
    dates = _typed(list(frame.columns), "date")
    months = _typed(list(frame.columns), "year_month")
    if how == "year_month":
        if dates:
            frame[dates] = reduce_to_year_month(frame[dates])
        return frame, dates
    offsets = frame[_PSEUDONYM].map(key.date_offset)
    if dates:
        frame[dates] = shift_dates(frame[dates], offsets=offsets)
    for column in months:
        frame[column] = shift_year_months(frame[column], offsets=offsets)
    return frame, []


def _not_anonymous(anonymity: Plan, *, allowed: bool) -> UserError:
    columns = anonymity.columns_to_coarsen
    if anonymity.reaches_k:
        steps = "; ".join(f"{s.column}: {s.description}" for s in anonymity.steps)
        hint = (f"Coarsen {', '.join(columns)} ({steps}) and extract again"
                + ("." if allowed else ", or ask the committee to allow automatic "
                                       "coarsening for this project."))
    else:
        rest = [c for c in anonymity.quasi_identifiers if c not in columns]
        hint = (f"Even with {', '.join(columns) or 'every column'} coarsened some "
                f"combinations stay rarer than {anonymity.k}: leave out one of "
                f"{', '.join(rest) or 'the quasi-identifiers'}, or narrow the cohort.")
    return UserError(f"The extract is not {anonymity.k}-anonymous: its rarest combination of "
                     f"quasi-identifiers is shared by fewer than {anonymity.k} people",
                     where="variables: " + ", ".join(columns or anonymity.quasi_identifiers),
                     hint=hint)


# -- writing -------------------------------------------------------------------------------
def dictionary(extract: Extract) -> list[dict[str, Any]]:
    """One entry per column: labels (zh, en), type, unit, and what was done to it."""
    notes = {c["column"]: c["to"] for c in extract.coarsened}
    shifted = extract.terms.date_handling == "shifted"
    entries = []
    for column in extract.frame.columns:
        if column in EXTRACT_FIELDS:
            f = EXTRACT_FIELDS[column]
            entry = {"type": f.type, "zh": f.zh, "en": f.en, "description": f.description}
        elif column in PARTICIPANT.field_names:
            f = PARTICIPANT.field(column)
            entry = {"type": f.type, "zh": f.zh, "en": f.en, "description": f.description,
                     "vocabulary": f.vocabulary}
            if f.type in ("date", "year_month"):
                entry["dates"] = (f"shifted by the project's per-person offset "
                                  f"(±1..{MAX_SHIFT_DAYS} days)" if shifted
                                  else "year and month only")
        else:
            item = MEASUREMENT_ITEMS[column]
            entry = {"type": "float", "zh": item.zh, "en": item.en, "unit": item.unit,
                     "description": "Baseline value (wave 0, else the earliest) in the "
                                    "canonical unit."}
        entries.append({"column": column, **entry,
                        **({"coarsened": notes[column]} if column in notes else {})})
    return entries


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _dump(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n",
                    encoding="utf-8")


def write(extract: Extract, folder: Path, *, extract_id: str, actor: str,
          catalog_version: int | None = None, created_at: dt.datetime | None = None,
          not_included: list[str] | None = None) -> dict[str, Any]:
    """Write the extract into ``folder`` (created whole or not at all); return the
    manifest. The folder must not exist: an extract is never overwritten."""
    if folder.exists():
        raise FileExistsError(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    created_at = created_at or dt.datetime.now(dt.UTC)
    terms = extract.terms
    with replacing(folder) as staging:  # flushed and renamed into place whole
        staging.mkdir()
        extract.frame.to_parquet(staging / "data.parquet", index=False)
        extract.frame.to_csv(staging / "data.csv", index=False)
        _dump(staging / "dictionary.json", dictionary(extract))
        _dump(staging / "provenance.json", {
            "extract": extract_id, "request": terms.request_id, "release": terms.release,
            "catalog_version": catalog_version, "definition": terms.definition.to_dict(),
            "variables": list(terms.variables), "cut_by": actor,
            "cut_at": created_at.isoformat(), "software": f"precimed {__version__}",
            "standard_version": STANDARD_VERSION,
            "steps": ["cohort definition run on the release",
                      "participants with withdrawn consent excluded",
                      "intervals computed before any date change",
                      f"dates: {terms.date_handling}",
                      "platform pseudonyms replaced by project participant IDs",
                      f"k-anonymity checked, k = {extract.k}"],
            "date_handling": terms.date_handling, "k_anonymity": extract.k,
            "coarsened": extract.coarsened})
        files = {name: sha256_of(staging / name) for name in
                 (*DATA_FILES, "dictionary.json", "provenance.json")}
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "extract": extract_id,
                    "request": terms.request_id, "release": terms.release,
                    "cohort": terms.definition.name, "definition": terms.definition.to_dict(),
                    "rows": len(extract.frame), "people": extract.people,
                    "columns": list(extract.frame.columns), "files": files,
                    "not_included": list(not_included or []),
                    "created_at": created_at.isoformat()}
        _dump(staging / "manifest.json", manifest)
    return manifest
