"""Project extracts: the rows an approval allows, made safe for that project, with their
data dictionary, manifest and provenance.

:func:`cut` runs the approved cohort definition on the release through the platform's
one extract (:func:`precimed.query.compile.extract`), then, in this order:

1. drops participants whose consent does not allow the project's use
   (``standard.consent.allows``: withdrawn; for genetic research also no_genetic), by
   the release's scope and by ``left_out`` (:func:`precimed.sharing.consent.left_out`:
   the lake's scope now); the caller reads the release through
   ``Lake.extract_snapshot``, which already leaves out who withdrew, and the extract
   checks again so no read path can let one through;
2. refuses a cohort smaller than the disclosure threshold;
3. computes every interval first (age at enrolment comes from the query), then shifts
   each person's dates by the project's per-person offset (``shifted``: ±1..180 days,
   :mod:`precimed.deid.project`) or keeps them only as year-month (``year_month``);
4. replaces the platform pseudonym by the project's participant ID;
5. checks k-anonymity on the quasi-identifiers (:mod:`precimed.deid.kanonymity`):
   below k it coarsens when the approval allows it, otherwise refuses naming the
   columns to coarsen;
6. orders rows by the project ID, so row order reveals nothing about the platform's.

:func:`cut_genotypes` cuts a genotype dataset the same way: the project's people
(the approved cohort definition, if any, run on the release) among the dataset's
samples, minus whom consent leaves out (step 1, always the genetic rule), refused below
the disclosure threshold (2), named by the same project IDs (4) and ordered by them (6).
Genotypes have no dates and are not made k-anonymous: a genome identifies its person,
which is why genotype data are controlled, human-genetic-resource rules apply
(:mod:`precimed.sharing.rules`) and only an approved project's members receive them.

:func:`write` stores either with ``dictionary.json``, ``provenance.json`` and
``manifest.json`` (release, definition, request, row counts, SHA-256 of each file): a
clinical extract as ``data.parquet`` and ``data.csv``, a genotype extract as
``genotypes.vcf.gz`` (bgzipped VCF 4.2, GT only, sample names the project IDs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
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
from precimed.standard.consent import allows, excluded
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
    genetic: bool = False  # the project is genetic research (standard.consent)
    genotype_dataset: str | None = None  # a genotype extract: the store's dataset

    def __post_init__(self) -> None:
        if self.date_handling not in DATE_HANDLING:
            raise UserError(f"Unknown date handling {self.date_handling!r}",
                            where="date_handling", hint="Use shifted or year_month.")


@dataclass
class Extract:
    """A cut clinical extract, ready to write."""

    terms: ExtractTerms
    frame: pd.DataFrame
    people: int
    consent_excluded: int
    k: int
    anonymity: Plan
    coarsened: list[dict[str, str]] = field(default_factory=list)

    files = DATA_FILES

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def write_data(self, folder: Path) -> None:
        self.frame.to_parquet(folder / "data.parquet", index=False)
        self.frame.to_csv(folder / "data.csv", index=False)

    def dictionary(self) -> list[dict[str, Any]]:
        return dictionary(self)

    def steps(self) -> list[str]:
        return ["cohort definition run on the release",
                f"participants whose consent excludes the use left out "
                f"({', '.join(sorted(excluded(genetic=self.terms.genetic)))})",
                "intervals computed before any date change",
                f"dates: {self.terms.date_handling}",
                "platform pseudonyms replaced by project participant IDs",
                f"k-anonymity checked, k = {self.k}"]


def _typed(columns: list[str], kind: str) -> list[str]:
    names = set(PARTICIPANT.field_names)
    return [c for c in columns if c in names and PARTICIPANT.field(c).type == kind]


def cut(con, terms: ExtractTerms, *, key: ProjectKey, k: int, policy: Policy,
        left_out: frozenset[str] = frozenset()) -> Extract:
    """The extract of ``terms`` on the release ``con`` serves (see the module's steps);
    ``left_out``: pseudonyms consent keeps out beyond the release's own scopes."""
    asked = [v for v in dict.fromkeys(terms.variables) if v not in (_PSEUDONYM, ID)]
    fetched = engine.extract(con, terms.definition, [*asked, _CONSENT])
    refused = (~fetched[_CONSENT].map(lambda s: allows(s, genetic=terms.genetic)).astype(bool)
               | fetched[_PSEUDONYM].isin(left_out))
    frame = fetched.loc[~refused].reset_index(drop=True)
    if _CONSENT not in asked:
        frame = frame.drop(columns=[_CONSENT])
    _require_size(len(frame), policy)
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
    return Extract(terms, frame, len(frame), int(refused.sum()), k, anonymity, coarsened)


def _require_size(people: int, policy: Policy) -> None:
    if protect_count(people, policy=policy) is None:
        raise UserError(f"The cohort has fewer than {policy.threshold} members",
                        where="definition", hint="An extract this small could identify "
                                                 "people; widen the criteria.")


# -- genotypes -----------------------------------------------------------------------------
GENOTYPE_FILES = ("genotypes.vcf.gz",)
VCF_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT")
_GT = np.array(["0/0", "0/1", "1/1", "./."])  # ALT count 0, 1, 2; missing
VARIANT_BLOCK = 4096  # variants read and written at a time


@dataclass
class GenotypeExtract:
    """A cut genotype extract, ready to write: which samples (in project-ID order) and
    which variants (those the dataset typed) of the store."""

    terms: ExtractTerms
    store: Any  # precimed.genomics.GenotypeStore
    sample_index: np.ndarray
    sample_ids: list[str]  # project participant IDs, ascending
    variant_index: np.ndarray
    consent_excluded: int
    k: int | None = None
    coarsened: list[dict[str, str]] = field(default_factory=list)

    files = GENOTYPE_FILES

    @property
    def people(self) -> int:
        return len(self.sample_ids)

    @property
    def rows(self) -> int:
        return len(self.variant_index)

    @property
    def columns(self) -> list[str]:
        return list(VCF_COLUMNS)

    def write_data(self, folder: Path) -> None:
        import cyvcf2

        variants = self.store.variants()
        chosen = variants.iloc[self.variant_index]
        header = [
            "##fileformat=VCFv4.2", f"##source=precimed {__version__}",
            f"##reference={self.store.build}",
            *(f"##contig=<ID={c}>" for c in dict.fromkeys(chosen["chrom"])),
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
            f"##precimed_project={self.terms.request_id}",
            f"##precimed_dataset={self.terms.genotype_dataset}",
            "\t".join([*VCF_COLUMNS, *self.sample_ids])]
        rsid = (chosen["rsid"].fillna(".").astype(str) if "rsid" in chosen
                else pd.Series(".", index=chosen.index))
        writer = cyvcf2.Writer.from_string(str(folder / GENOTYPE_FILES[0]),
                                           "\n".join(header) + "\n", mode="wz")
        try:
            for start in range(0, len(chosen), VARIANT_BLOCK):
                block = slice(start, start + VARIANT_BLOCK)
                calls = self.store.genotypes(self.variant_index[block], self.sample_index)
                text = _GT[np.where(calls < 0, 3, calls).T]  # variants x samples
                part = chosen.iloc[block]
                for row, chrom, pos, vid, ref, alt in zip(
                        text, part["chrom"], part["pos"], rsid.iloc[block], part["ref"],
                        part["alt"], strict=True):
                    line = f"{chrom}\t{pos}\t{vid}\t{ref}\t{alt}\t.\t.\t.\tGT\t" + "\t".join(row)
                    writer.write_record(writer.variant_from_string(line))
        finally:
            writer.close()

    def dictionary(self) -> list[dict[str, Any]]:
        f = PROJECT_PARTICIPANT_ID
        return [
            {"column": "sample", "type": f.type, "zh": f.zh, "en": f.en,
             "description": "Each sample column of the VCF is named by the person's "
                            "project participant ID (the same ID as in this project's "
                            "clinical extracts)."},
            {"column": "#CHROM, POS, REF, ALT", "type": "variant", "zh": "变异位点",
             "en": "Variant", "description": f"Biallelic variant on {self.store.build}: "
                                            "multi-allelic sites were split and alleles "
                                            "trimmed at ingest (precimed.genomics.vcf)."},
            {"column": "ID", "type": "string", "zh": "变异编号", "en": "Variant ID",
             "description": "dbSNP rsID where the callset gave one, else '.'."},
            {"column": "GT", "type": "genotype", "zh": "基因型", "en": "Genotype",
             "description": "Unphased diploid call: 0/0, 0/1, 1/1, or ./. where missing "
                            "or not typed; a haploid call (males on X) is written "
                            "homozygous."}]

    def steps(self) -> list[str]:
        return ["the dataset's samples, narrowed to the approved cohort definition run "
                "on the release",
                f"participants whose consent excludes genetic research left out "
                f"({', '.join(sorted(excluded(genetic=True)))})",
                "platform pseudonyms replaced by project participant IDs",
                "variants the dataset typed, genotypes as GT"]


def cut_genotypes(store: Any, terms: ExtractTerms, *, people: frozenset[str] | None,
                  left_out: frozenset[str], key: ProjectKey, policy: Policy
                  ) -> GenotypeExtract:
    """The genotype extract of ``terms``: the samples of ``terms.genotype_dataset`` that
    are among ``people`` (None: all of them), less ``left_out``; named by project IDs."""
    samples = store.samples(terms.genotype_dataset)
    ids = samples["sample_id"].astype(str)
    chosen = samples[ids.isin(people)] if people is not None else samples
    refused = chosen["sample_id"].astype(str).isin(left_out)
    chosen = chosen[~refused]
    _require_size(len(chosen), policy)
    project_ids = chosen["sample_id"].astype(str).map(key.participant_id)
    order = np.argsort(project_ids.to_numpy(), kind="stable")
    _, rows = store.packed_rows(terms.genotype_dataset)
    return GenotypeExtract(
        terms, store, chosen["sample_index"].to_numpy()[order],
        project_ids.to_numpy()[order].tolist(), np.nonzero(rows >= 0)[0],
        int(refused.sum()))


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


def write(extract: Extract | GenotypeExtract, folder: Path, *, extract_id: str, actor: str,
          catalog_version: int | None = None, created_at: dt.datetime | None = None,
          not_included: list[str] | None = None) -> dict[str, Any]:
    """Write the extract into ``folder`` (created whole or not at all); return the
    manifest. The folder must not exist: an extract is never overwritten."""
    if folder.exists():
        raise FileExistsError(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    created_at = created_at or dt.datetime.now(dt.UTC)
    terms = extract.terms
    genotypes = terms.genotype_dataset is not None
    with replacing(folder) as staging:  # flushed and renamed into place whole
        staging.mkdir()
        extract.write_data(staging)
        _dump(staging / "dictionary.json", extract.dictionary())
        _dump(staging / "provenance.json", {
            "extract": extract_id, "request": terms.request_id, "release": terms.release,
            "catalog_version": catalog_version, "definition": terms.definition.to_dict(),
            "variables": list(terms.variables), "cut_by": actor,
            "cut_at": created_at.isoformat(), "software": f"precimed {__version__}",
            "standard_version": STANDARD_VERSION,
            **({"genotype_dataset": terms.genotype_dataset,
                "build": extract.store.build} if genotypes else {}),
            "genetic_research": terms.genetic, "steps": extract.steps(),
            "date_handling": None if genotypes else terms.date_handling,
            "k_anonymity": extract.k, "coarsened": extract.coarsened})
        files = {name: sha256_of(staging / name) for name in
                 (*extract.files, "dictionary.json", "provenance.json")}
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "extract": extract_id,
                    "kind": "genotype" if genotypes else "clinical",
                    "request": terms.request_id, "release": terms.release,
                    **({"genotype_dataset": terms.genotype_dataset} if genotypes else {}),
                    "cohort": terms.definition.name, "definition": terms.definition.to_dict(),
                    "rows": extract.rows, "people": extract.people,
                    "columns": extract.columns, "files": files,
                    "not_included": list(not_included or []),
                    "created_at": created_at.isoformat()}
        _dump(staging / "manifest.json", manifest)
    return manifest
