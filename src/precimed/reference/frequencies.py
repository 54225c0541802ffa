"""Allele frequencies by sub-population: built once from the genotype store, published
through disclosure control.

**What.** Per variant and dataset: allele count (AC), allele number (AN), allele
frequency (AF = AC/AN) and homozygote count (hom-alt; a hemizygous ALT call of a male on
X or Y outside the pseudo-autosomal regions counts as one ALT allele, one called allele
and one hom-alt) overall and by sub-population. Participants are grouped by programme
region, native province and sex (from the lake's participant table, joined on the
pseudonym); a reference callset such as 1000 Genomes by super-population, population and
sex (its own labels). People without a label fall in group ``unknown``.

**How.** :func:`build_summary` reads the store in chunks of variants, sums the
genotype matrix over group-membership matrices, and returns a long table (one row per
variant × dataset × group) of raw counts; :func:`write_summary` stores it as Parquet with
a stamped format version and :class:`ReferenceDatabase` answers lookups from it with
DuckDB (through Ibis), never touching genotypes.

**Disclosure rule** (:func:`publish`). Counts of people are the unit: for each variant
and dataset, each one-way table (sex) and each nested table (region within which
province; super-population within which population) is passed twice to
:func:`precimed.deid.protect_counts` with its margins: once with the number of people
called (which AN counts) and once with the number of carriers (people with at least one
ALT allele, which AC counts). A cell hidden in either pass is suppressed whole: AC, AN,
AF and hom-alt are withheld. Because the margins are in the table, the complement of a
small cell (a total minus the other cells) is hidden too. Hom-alt is passed a third
time on its own; a hidden hom-alt withholds only hom-alt. A total hidden in any table of
a variant is hidden in all of them. Published counts are rounded by the policy; AF is
computed from the published (rounded) AC and AN. Zeros are published: a true zero names
no one.

Validated by tests/unit/reference/test_frequencies.py (against a direct numpy count per
sample) and test_disclosure.py (a small cell and its derivable complement are hidden).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import ibis
import numpy as np
import pandas as pd

from precimed.deid import Policy, protect_counts
from precimed.errors import NotFound, UserError
from precimed.reference.genes import (
    GENE_TABLE_BUILD,
    GeneTerm,
    RegionTerm,
    RsidTerm,
    SearchTerm,
    VariantTerm,
    gene_loci,
    parse_search,
)
from precimed.standard import SEX, STANDARD_VERSION
from precimed.standard.regions import region_of

SUMMARY_FORMAT = "precimed.reference.summary/1"
UNKNOWN = "unknown"
TOTAL = "all"
CHUNK_VARIANTS = 2_000
COUNT_COLUMNS = ("allele_count", "allele_number", "hom_alt", "carriers", "called")

# Nested tables (coarse, fine) and one-way tables, per kind of dataset.
PARTICIPANT_TABLES: tuple[tuple[str, ...], ...] = (("region", "province"), ("sex",))
REFERENCE_TABLES: tuple[tuple[str, ...], ...] = (("super_population", "population"),
                                                 ("sex",))

# Pseudo-autosomal regions (1-based, inclusive), where males are diploid on X and Y.
_PAR = {
    "GRCh37": {"X": ((60_001, 2_699_520), (154_931_044, 155_260_560)),
               "Y": ((10_001, 2_649_520), (59_034_050, 59_363_566))},
    "GRCh38": {"X": ((10_001, 2_781_479), (155_701_383, 156_030_895)),
               "Y": ((10_001, 2_781_479), (56_887_903, 57_217_415))},
}


class GenotypeSource(Protocol):
    """The part of :class:`precimed.genomics.store.GenotypeStore` read here."""

    datasets: list[str]

    def variants(self) -> pd.DataFrame: ...
    def samples(self, dataset: str | None = None) -> pd.DataFrame: ...
    def genotypes(self, variant_indices: Any = None, sample_indices: Any = None
                  ) -> np.ndarray: ...  # samples x variants


# -- labels ------------------------------------------------------------------------------
def sex_code(raw: object) -> str:
    """GB/T 2261.1 code from a code, 男/女, M/F or male/female; else ``unknown``."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return UNKNOWN
    return SEX.code_for(str(raw)) or UNKNOWN


def label_samples(samples: pd.DataFrame, participants: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
    """The store's samples with every grouping column filled (``unknown`` if absent).

    Participant samples carry sex and native province from the lake (copied at ingest);
    ``participants`` (pseudonym, sex, native_province), e.g. a release's participant
    table, overrides them for the samples whose ``sample_id`` it lists. The region is
    always derived from the province, as the standard derives it, so region totals are
    sums of their provinces.
    """
    out = samples[["sample_index", "dataset", "sample_id"]].copy()
    for column in ("sex", "native_province", "population", "super_population"):
        values = (samples[column] if column in samples
                  else pd.Series(None, index=out.index, dtype=object))
        out[column] = values.where(values.notna() & (values != ""), UNKNOWN).astype(str)
    out["sex"] = out["sex"].map(sex_code)
    if participants is not None and len(participants):
        people = participants.drop_duplicates("pseudonym").set_index("pseudonym")
        known = out["sample_id"].isin(people.index)
        rows = people.loc[out.loc[known, "sample_id"]]
        out.loc[known, "sex"] = rows["sex"].map(sex_code).to_numpy()
        out.loc[known, "native_province"] = (rows["native_province"].fillna(UNKNOWN)
                                             .astype(str).to_numpy())
    out = out.rename(columns={"native_province": "province"})
    out["region"] = [region_of(p) or UNKNOWN for p in out["province"]]
    return out


@dataclass(frozen=True)
class Layout:
    """A dataset's published tables and, for nested ones, fine group → coarse group."""

    tables: tuple[tuple[str, ...], ...]
    nesting: dict[str, dict[str, str]]

    def to_json(self) -> dict:
        return {"tables": [list(t) for t in self.tables], "nesting": self.nesting}

    @classmethod
    def from_json(cls, data: dict) -> Layout:
        return cls(tuple(tuple(t) for t in data["tables"]), dict(data["nesting"]))


def layout_of(labelled: pd.DataFrame, *, kind: str | None = None) -> Layout:
    """Participant callsets group by region; reference callsets by population.

    ``kind`` is the store's word for the dataset (``participants`` or ``reference``);
    without it, a dataset with any province label is taken for participants.
    """
    if kind is None:
        kind = "participants" if (labelled["province"] != UNKNOWN).any() else "reference"
    tables = PARTICIPANT_TABLES if kind == "participants" else REFERENCE_TABLES
    nesting = {}
    for table in tables:
        if len(table) == 2:
            pairs = labelled[list(table)].drop_duplicates()
            nesting[table[1]] = dict(zip(pairs[table[1]], pairs[table[0]], strict=True))
    return Layout(tables, nesting)


def dataset_kind(store: GenotypeSource, dataset: str) -> str | None:
    """``participants`` or ``reference`` as the store records it, if it does."""
    entries = getattr(store, "meta", {}).get("datasets", [])
    return next((d.get("kind") for d in entries if d.get("name") == dataset), None)


def layouts(store: GenotypeSource, participants: pd.DataFrame | None = None
            ) -> dict[str, Layout]:
    return {d: layout_of(label_samples(store.samples(d), participants),
                         kind=dataset_kind(store, d))
            for d in store.datasets}


# -- counting ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Groups:
    """Which samples belong to which group: ``membership`` is samples × groups."""

    strata: tuple[str, ...]
    labels: tuple[str, ...]
    membership: np.ndarray

    @classmethod
    def of(cls, labelled: pd.DataFrame, tables: Sequence[tuple[str, ...]]) -> Groups:
        strata, labels, columns = [TOTAL], [TOTAL], [np.ones(len(labelled), dtype=bool)]
        for stratum in dict.fromkeys(s for table in tables for s in table):
            for label in sorted(labelled[stratum].unique()):
                strata.append(stratum)
                labels.append(label)
                columns.append((labelled[stratum] == label).to_numpy())
        return cls(tuple(strata), tuple(labels), np.column_stack(columns))


def haploid_mask(variants: pd.DataFrame, male: np.ndarray) -> np.ndarray:
    """variants × samples: True where a call is hemizygous (male, X/Y outside PARs)."""
    sex_chrom = variants["chrom"].isin(["X", "Y"]).to_numpy()
    outside = sex_chrom.copy()
    for i in np.flatnonzero(sex_chrom):
        row = variants.iloc[i]
        pars = _PAR.get(str(row["build"]), _PAR["GRCh38"])[row["chrom"]]
        outside[i] = not any(a <= int(row["pos"]) <= b for a, b in pars)
    return outside[:, None] & male[None, :]


def count_alleles(genotypes: np.ndarray, haploid: np.ndarray, membership: np.ndarray
                  ) -> dict[str, np.ndarray]:
    """Per variant × group: AC, AN, hom-alt, carriers and people called.

    ``genotypes`` holds ALT counts (-1 missing), variants × samples; ``haploid`` marks
    hemizygous calls, whose ALT (coded 1 or 2) counts once.
    """
    called = genotypes >= 0
    alt = np.where(called, genotypes, 0).astype(np.int64)
    has_alt = alt > 0
    per_sample = {
        "allele_count": np.where(haploid, has_alt, alt),
        "allele_number": np.where(called, np.where(haploid, 1, 2), 0),
        "hom_alt": np.where(haploid, has_alt, alt == 2),
        "carriers": has_alt,
        "called": called,
    }
    weights = membership.astype(np.float64)
    return {name: np.rint(values.astype(np.float64) @ weights).astype(np.int64)
            for name, values in per_sample.items()}


def build_summary(store: GenotypeSource, *, participants: pd.DataFrame | None = None,
                  chunk_variants: int = CHUNK_VARIANTS) -> pd.DataFrame:
    """Raw counts per variant × dataset × group (not for publication: see :func:`publish`).

    Columns: variant_index, dataset, stratum, group and :data:`COUNT_COLUMNS`.
    """
    variants = store.variants().reset_index(drop=True)
    frames = []
    for dataset in store.datasets:
        labelled = label_samples(store.samples(dataset), participants)
        if labelled.empty:
            continue
        layout = layout_of(labelled, kind=dataset_kind(store, dataset))
        groups = Groups.of(labelled, layout.tables)
        sample_indices = labelled["sample_index"].to_numpy()
        male = (labelled["sex"] == "1").to_numpy()
        for start in range(0, len(variants), chunk_variants):
            chunk = variants.iloc[start:start + chunk_variants]
            indices = chunk["variant_index"].to_numpy()
            # the store answers samples x variants
            genotypes = np.asarray(store.genotypes(variant_indices=indices,
                                                   sample_indices=sample_indices)).T
            counts = count_alleles(genotypes, haploid_mask(chunk, male), groups.membership)
            frames.append(_long(indices, dataset, groups, counts))
    if not frames:
        return pd.DataFrame(columns=["variant_index", "dataset", "stratum", "group",
                                     *COUNT_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def _long(indices: np.ndarray, dataset: str, groups: Groups,
          counts: dict[str, np.ndarray]) -> pd.DataFrame:
    n_groups = len(groups.labels)
    frame = pd.DataFrame({
        "variant_index": np.repeat(indices, n_groups),
        "dataset": dataset,
        "stratum": np.tile(np.array(groups.strata, dtype=object), len(indices)),
        "group": np.tile(np.array(groups.labels, dtype=object), len(indices)),
    })
    for name, values in counts.items():
        frame[name] = values.reshape(-1)
    return frame


# -- disclosure --------------------------------------------------------------------------
def publish(summary: pd.DataFrame, *, layouts: dict[str, Layout], policy: Policy
            ) -> pd.DataFrame:
    """The rows of ``summary`` as they may leave the platform (rule: module docstring).

    Returns variant_index, dataset, stratum, group, allele_count, allele_number,
    allele_frequency, hom_alt (nullable; ``<NA>`` means withheld) and ``suppressed``.
    """
    parts = [_publish_one(rows.reset_index(drop=True), layouts[dataset], policy)
             for (_, dataset), rows in summary.groupby(["variant_index", "dataset"],
                                                       sort=False)]
    if not parts:
        empty = np.zeros(0, dtype=bool)
        return _published_frame(summary.iloc[0:0], empty, empty, policy)
    return pd.concat(parts, ignore_index=True)


def _publish_one(rows: pd.DataFrame, layout: Layout, policy: Policy) -> pd.DataFrame:
    cell_hidden = np.zeros(len(rows), dtype=bool)
    hom_hidden = np.zeros(len(rows), dtype=bool)
    for table in layout.tables:
        for column, target in (("called", cell_hidden), ("carriers", cell_hidden),
                               ("hom_alt", hom_hidden)):
            target |= _hidden_in(rows, table, column, layout, policy)
    total = (rows["stratum"] == TOTAL).to_numpy()
    if cell_hidden[total].any():
        cell_hidden[total] = True
    return _published_frame(rows, cell_hidden, hom_hidden | cell_hidden, policy)


def _hidden_in(rows: pd.DataFrame, table: tuple[str, ...], column: str, layout: Layout,
               policy: Policy) -> np.ndarray:
    """Rows of ``rows`` that protect_counts hides in one table (cells and margins)."""
    members = rows["stratum"].isin([TOTAL, *table]).to_numpy()
    if not any(policy.is_small(int(v)) for v in rows.loc[members, column]):
        return np.zeros(len(rows), dtype=bool)  # nothing small: nothing to hide
    fine = table[-1]
    cells = rows[rows["stratum"] == fine]
    frame = pd.DataFrame({fine: cells["group"].to_list(), "count": cells[column].to_list()})
    if len(table) == 2:
        nesting = layout.nesting[fine]
        frame.insert(0, table[0], [nesting.get(g, UNKNOWN) for g in frame[fine]])
    protected = protect_counts(frame, by=list(table), count="count", policy=policy,
                               total_label=_MARGIN)
    hidden: dict[tuple[str, str], bool] = {}
    for record in protected.itertuples(index=False):
        labels = dict(zip(table, record[:len(table)], strict=True))
        if all(v == _MARGIN for v in labels.values()):
            key = (TOTAL, TOTAL)
        elif labels[fine] != _MARGIN:
            key = (fine, labels[fine])
        else:
            key = (table[0], labels[table[0]])
        hidden[key] = hidden.get(key, False) or bool(record.suppressed)
    return np.array([hidden.get((s, g), False)
                     for s, g in zip(rows["stratum"], rows["group"], strict=True)], dtype=bool)


_MARGIN = "__margin__"


def _published_frame(rows: pd.DataFrame, cell_hidden: np.ndarray, hom_hidden: np.ndarray,
                     policy: Policy) -> pd.DataFrame:
    out = rows[["variant_index", "dataset", "stratum", "group"]].copy()
    for column, hidden in (("allele_count", cell_hidden), ("allele_number", cell_hidden),
                           ("hom_alt", hom_hidden)):
        published = [pd.NA if h else policy.round(int(v))
                     for v, h in zip(rows[column], hidden, strict=True)]
        out[column] = pd.array(published, dtype="Int64")
    ac = out["allele_count"].astype("Float64")
    an = out["allele_number"].astype("Float64")
    out["allele_frequency"] = (ac / an.where(an > 0)).round(6)
    out["suppressed"] = cell_hidden.astype(bool)
    return out


# -- persistence and lookup --------------------------------------------------------------
def write_summary(store: GenotypeSource, out_dir: Path, *,
                  participants: pd.DataFrame | None = None, policy: Policy | None = None,
                  chunk_variants: int = CHUNK_VARIANTS) -> Path:
    """Build the summary and write ``variants.parquet``, ``counts.parquet`` and
    ``manifest.json`` (format, standard version, datasets, tables, nesting).

    With ``policy``, the published values are computed once too (``published.parquet``,
    the policy stamped in the manifest): disclosure control measured about 9 ms a
    variant for 5,000 participants over 23 provinces, mostly rare variants (2 cores),
    too slow to run per request over a gene's worth of variants.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = build_summary(store, participants=participants, chunk_variants=chunk_variants)
    datasets = {d: layout.to_json() for d, layout in layouts(store, participants).items()}
    store.variants().to_parquet(out_dir / "variants.parquet", index=False)
    summary.to_parquet(out_dir / "counts.parquet", index=False)
    manifest = {"format": SUMMARY_FORMAT, "standard_version": STANDARD_VERSION,
                "datasets": datasets}
    if policy is not None:
        published = publish(summary, layouts={d: Layout.from_json(v)
                                              for d, v in datasets.items()}, policy=policy)
        published.to_parquet(out_dir / "published.parquet", index=False)
        manifest["published_policy"] = _policy_json(policy)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return out_dir


def _policy_json(policy: Policy) -> dict[str, int]:
    return {"threshold": policy.threshold, "rounding": policy.rounding}


class ReferenceDatabase:
    """Lookups in a written summary: search → variants → published frequencies."""

    def __init__(self, path: Path, manifest: dict) -> None:
        self.path = Path(path)
        self.manifest = manifest
        self._con = ibis.duckdb.connect()
        self._variants = self._con.read_parquet(self.path / "variants.parquet",
                                                table_name="variants")
        self._counts = self._con.read_parquet(self.path / "counts.parquet",
                                              table_name="counts")

    @classmethod
    def open(cls, path: Path) -> ReferenceDatabase:
        manifest_file = Path(path) / "manifest.json"
        if not manifest_file.exists():
            raise NotFound("No reference summary here", where=str(path),
                           hint="Build one with precimed.reference.write_summary().")
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        if manifest.get("format") != SUMMARY_FORMAT:
            raise UserError("The reference summary has another format",
                            where=f"{path}: {manifest.get('format')}",
                            hint=f"Rebuild it; this version reads {SUMMARY_FORMAT}.")
        return cls(path, manifest)

    def close(self) -> None:
        self._con.disconnect()

    @property
    def datasets(self) -> list[str]:
        return list(self.manifest["datasets"])

    def find(self, term: SearchTerm | str) -> pd.DataFrame:
        """Variants matching a search term (text or parsed), sorted by position."""
        if isinstance(term, str):
            term = parse_search(term)
        v = self._variants
        if isinstance(term, VariantTerm):
            expr = v.filter((v.chrom == term.chrom) & (v.pos == term.pos)
                            & (v.ref == term.ref) & (v.alt == term.alt))
            expr = self._on_build(expr, term.build)
        elif isinstance(term, RsidTerm):
            expr = v.filter(v.rsid.lower() == term.rsid)
        elif isinstance(term, RegionTerm):
            expr = v.filter((v.chrom == term.chrom) & v.pos.between(term.start, term.end))
            expr = self._on_build(expr, term.build)
        elif isinstance(term, GeneTerm):
            loci = gene_loci(term.symbol)
            expr = v.filter(ibis.or_(*[(v.chrom == r.chrom) & v.pos.between(r.start, r.end)
                                       for r in loci.itertuples()]))
            expr = self._on_build(expr, GENE_TABLE_BUILD)
        else:  # pragma: no cover - the SearchTerm union is closed
            raise TypeError(term)
        return expr.order_by(["chrom", "pos", "ref", "alt"]).to_pandas()

    def _on_build(self, expr: ibis.Table, build: str | None) -> ibis.Table:
        return expr if build is None else expr.filter(expr.build == build)

    def raw_counts(self, variant_indices: Iterable[int], *,
                   datasets: Sequence[str] | None = None) -> pd.DataFrame:
        """Unprotected counts: for server-side use only, never for a response."""
        c = self._counts
        expr = c.filter(c.variant_index.isin([int(i) for i in variant_indices]))
        if datasets:
            expr = expr.filter(expr.dataset.isin(list(datasets)))
        return expr.to_pandas()

    def frequencies(self, variant_indices: Iterable[int], *, policy: Policy,
                    datasets: Sequence[str] | None = None) -> pd.DataFrame:
        """Published frequencies of the given variants (see :func:`publish`): read from
        ``published.parquet`` when it was built under the same policy, else computed."""
        indices = [int(i) for i in variant_indices]
        if self.manifest.get("published_policy") == _policy_json(policy):
            table = self._con.read_parquet(self.path / "published.parquet")
            expr = table.filter(table.variant_index.isin(indices))
            if datasets:
                expr = expr.filter(expr.dataset.isin(list(datasets)))
            frame = expr.to_pandas()
            for column in ("allele_count", "allele_number", "hom_alt"):
                frame[column] = frame[column].astype("Int64")
            frame["allele_frequency"] = frame["allele_frequency"].astype("Float64")
            return frame
        raw = self.raw_counts(indices, datasets=datasets)
        return publish(raw, layouts=self.layouts, policy=policy)

    @property
    def layouts(self) -> dict[str, Layout]:
        return {d: Layout.from_json(info) for d, info in self.manifest["datasets"].items()}

    def search(self, text: str, *, policy: Policy) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(variants, published frequencies) for a search box's text."""
        found = self.find(text)
        return found, self.frequencies(found["variant_index"], policy=policy)
