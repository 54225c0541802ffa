"""Allele frequencies by sub-population: built once from the genotype store, published
through disclosure control.

**What.** Per variant and dataset: allele count (AC), allele number (AN), allele
frequency (AF = AC/AN) and homozygote count (hom-alt; a hemizygous ALT call of a male on
X or Y outside the pseudo-autosomal regions counts as one ALT allele, one called allele
and one hom-alt) overall and by sub-population. Participants are grouped by programme
region, native province and sex (from the lake's participant table, joined on the
pseudonym); a reference callset such as 1000 Genomes by super-population, population and
sex (its own labels). People without a label fall in group ``unknown``.

**How.** :func:`build_summary` partitions each dataset's samples into cells (one
combination of every grouping label and sex, e.g. province × sex), counts het, hom-ALT
and missing calls per variant × cell straight from the packed rows
(:func:`precimed.genomics.kernels.count_cells`: one pass, work proportional to the
non-REF calls), then sums cells into the published groups, so every margin is the exact
sum of its parts; it returns a long table (one row per variant × dataset × group) of raw
counts. :func:`precimed.genomics.alleles.count_alleles` (dense genotypes times a
membership matrix) is the reference it is tested against. :func:`write_summary` stores
the table as Parquet with a stamped format version and :class:`ReferenceDatabase`
answers lookups from it with DuckDB (through Ibis), never touching genotypes.

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

:func:`publish` applies the rule to blocks of variants that share a layout: a table
with no small count among its cells and margins hides nothing (most tables of most
variants), so it is checked in array form; the others are laid out as protect_counts
lays them out and suppressed by its engine (``precimed.deid.disclosure.suppress_cells``, the
same primary, complementary and rank-checked suppression, without its DataFrame
checks), once per distinct set of cell values.

**Scale** (benchmarks/genomics.py ``--scale 100000x50000``, results ``scale_100k``: 100,000
simulated participants in 31 provinces by 2020 census share, 50,000 variants with ALT
frequency 0.005-0.5, 2 shared cores under load ~2-4): build 6.2 s (previously ~610 s,
extrapolated from 1,000 variants, with ~2 GB of dense arrays per 500-variant chunk) with
a peak resident set of 1.9 GB of which 1.3 GB are the memory-mapped genotype pages;
publish 18 s, 0.37 ms a variant (previously 4-8 ms a variant, ~210 s, extrapolated from
300 variants).

Validated by tests/unit/reference/test_frequencies.py (against a direct numpy count per
sample), test_disclosure.py (a small cell and its derivable complement are hidden) and
test_summary_equality.py (both equal the previous implementation exactly on random
stores and several thousand random summaries).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import ibis
import numpy as np
import pandas as pd

from precimed.deid import Policy
from precimed.deid.disclosure import suppress_cells, table_with_margins
from precimed.errors import NotFound, UserError
from precimed.genomics import kernels
from precimed.genomics.alleles import (
    UNKNOWN,
    hemizygous_variants,
    label_samples,
)
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
from precimed.standard import STANDARD_VERSION

SUMMARY_FORMAT = "precimed.reference.summary/1"
TOTAL = "all"
CHUNK_VARIANTS = 2_000
COUNT_COLUMNS = ("allele_count", "allele_number", "hom_alt", "carriers", "called")

# Nested tables (coarse, fine) and one-way tables, per kind of dataset.
PARTICIPANT_TABLES: tuple[tuple[str, ...], ...] = (("region", "province"), ("sex",))
REFERENCE_TABLES: tuple[tuple[str, ...], ...] = (("super_population", "population"),
                                                 ("sex",))

class GenotypeSource(Protocol):
    """The part of :class:`precimed.genomics.store.GenotypeStore` read here."""

    datasets: list[str]

    def variants(self) -> pd.DataFrame: ...
    def samples(self, dataset: str | None = None) -> pd.DataFrame: ...
    def packed_rows(self, dataset: str) -> tuple[np.ndarray, np.ndarray]: ...
    def sample_columns(self, dataset: str, sample_index: np.ndarray
                       ) -> tuple[np.ndarray, int]: ...


# -- labels ------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class Cells:
    """Samples partitioned so that every published group is a union of cells: a cell is
    one combination of every grouping label and sex (e.g. province × sex).

    Counting per cell and then summing cells into groups makes every margin the exact
    sum of its parts, and keeps the per-sample work to one increment per call.
    """

    of_sample: np.ndarray  # cell of each sample, in the dataset's sample order
    sizes: np.ndarray  # samples per cell
    male: np.ndarray  # per cell: its samples are male (hemizygous off the PARs)
    groups: Groups  # membership is cells × groups

    @classmethod
    def of(cls, labelled: pd.DataFrame, tables: Sequence[tuple[str, ...]]) -> Cells:
        columns = list(dict.fromkeys([*(s for table in tables for s in table), "sex"]))
        of_sample = labelled.groupby(columns, sort=True).ngroup().to_numpy()
        cells = labelled.assign(_cell=of_sample).drop_duplicates("_cell").sort_values("_cell")
        return cls(of_sample.astype(np.int64), np.bincount(of_sample),
                   (cells["sex"] == "1").to_numpy(), Groups.of(cells, tables))

    def counts(self, per_cell: np.ndarray, hemizygous: np.ndarray) -> dict[str, np.ndarray]:
        """Per variant × group, from :func:`kernels.count_cells` (het, hom-ALT, missing)."""
        het, hom, missing = per_cell[..., 0], per_cell[..., 1], per_cell[..., 2]
        called = self.sizes[None, :] - missing
        carriers = het + hom
        haploid = hemizygous[:, None] & self.male[None, :]
        per_cell_counts = {
            "allele_count": np.where(haploid, carriers, het + 2 * hom),
            "allele_number": np.where(haploid, called, 2 * called),
            "hom_alt": np.where(haploid, carriers, hom),
            "carriers": carriers,
            "called": called,
        }
        weights = self.groups.membership.astype(np.int64)
        return {name: values @ weights for name, values in per_cell_counts.items()}


def build_summary(store: GenotypeSource, *, participants: pd.DataFrame | None = None,
                  chunk_variants: int = CHUNK_VARIANTS) -> pd.DataFrame:
    """Raw counts per variant × dataset × group (not for publication: see :func:`publish`).

    Columns: variant_index, dataset, stratum, group and :data:`COUNT_COLUMNS`. Counted
    straight from the packed rows, ``chunk_variants`` at a time (memory: the chunk's
    variants × cells × 3 counts, never a genotype matrix).
    """
    variants = store.variants().reset_index(drop=True)
    hemizygous = hemizygous_variants(variants)
    indices = variants["variant_index"].to_numpy()
    frames = []
    for dataset in store.datasets:
        labelled = label_samples(store.samples(dataset), participants)
        if labelled.empty:
            continue
        layout = layout_of(labelled, kind=dataset_kind(store, dataset))
        cells = Cells.of(labelled, layout.tables)
        packed, rows = store.packed_rows(dataset)
        # samples the store leaves out (consent) fall in one more cell, never read
        n_cells = len(cells.sizes)
        columns, width = store.sample_columns(dataset, labelled["sample_index"].to_numpy())
        cell_of = np.full(width, n_cells, dtype=np.int64)
        cell_of[columns] = cells.of_sample
        for start in range(0, len(variants), chunk_variants):
            chunk = slice(start, start + chunk_variants)
            per_cell = kernels.count_cells(packed, rows[indices[chunk]], cell_of,
                                           n_cells + 1)[:, :n_cells]
            counts = cells.counts(per_cell, hemizygous[chunk])
            frames.append(_long(indices[chunk], dataset, cells.groups, counts))
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
    allele_frequency, hom_alt (nullable; ``<NA>`` means withheld) and ``suppressed``,
    the rows of each (variant, dataset) together, in order of first appearance.
    """
    order = summary.groupby(["variant_index", "dataset"], sort=False).ngroup().to_numpy()
    rows = summary.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    cell_hidden = np.zeros(len(rows), dtype=bool)
    hom_hidden = np.zeros(len(rows), dtype=bool)
    for block in _blocks(rows):
        layout = layouts[rows.at[int(block[0, 0]), "dataset"]]
        template = rows.loc[block[0], ["stratum", "group"]].reset_index(drop=True)
        for table in layout.tables:
            for column, target in (("called", cell_hidden), ("carriers", cell_hidden),
                                   ("hom_alt", hom_hidden)):
                _hide_in_block(rows[column].to_numpy(np.int64), block, template,
                               table=table, column=column, layout=layout, policy=policy,
                               target=target)
        total = block[:, (template["stratum"] == TOTAL).to_numpy()]
        cell_hidden[total[cell_hidden[total].any(axis=1)]] = True
    return _published_frame(rows, cell_hidden, hom_hidden | cell_hidden, policy)


def _blocks(rows: pd.DataFrame) -> list[np.ndarray]:
    """Row positions of each (variant, dataset), as matrices (variants × rows) of those
    that share one dataset and one sequence of (stratum, group): one disclosure layout."""
    if rows.empty:
        return []
    keys = rows[["variant_index", "dataset"]]
    starts = np.flatnonzero(keys.ne(keys.shift()).any(axis=1).to_numpy())
    sizes = np.diff(np.append(starts, len(rows)))
    dataset = pd.factorize(rows["dataset"])[0]
    cell = pd.factorize(pd.MultiIndex.from_arrays([rows["stratum"], rows["group"]]))[0]
    blocks = []
    for size in np.unique(sizes):
        positions = starts[sizes == size][:, None] + np.arange(size)
        signature = np.column_stack([dataset[positions[:, 0]], cell[positions]])
        _, which = np.unique(signature, axis=0, return_inverse=True)
        blocks.extend(positions[which.ravel() == k] for k in range(which.max() + 1))
    return blocks


def _hide_in_block(values: np.ndarray, block: np.ndarray, template: pd.DataFrame, *,
                   table: tuple[str, ...], column: str, layout: Layout, policy: Policy,
                   target: np.ndarray) -> None:
    """Mark in ``target`` the rows protect_counts hides in one table, for every variant
    of ``block``.

    A table with no small count among its cells and margins hides nothing (most
    variants); the others are suppressed once per distinct set of cell values (rare
    variants repeat them) by the engine of :func:`precimed.deid.protect_counts`.
    """
    members = template["stratum"].isin([TOTAL, *table]).to_numpy()
    small = _mapped(values[block[:, members]], policy.is_small).any(axis=1)
    if not small.any():
        return
    cube = _TableCube.of(template, table, layout)
    if cube is None:  # no cells: only zero margins, nothing to hide
        return
    distinct, which = np.unique(values[block[small][:, cube.fine_rows]], axis=0,
                                return_inverse=True)
    hidden = np.array([suppress_cells(flat, cube.relations, policy)
                       for flat in cube.with_margins(distinct)])
    target[block[small]] |= (hidden.astype(np.int64) @ cube.row_of_cell > 0)[which.ravel()]


@dataclass(frozen=True)
class _TableCube:
    """One table of one variant's rows laid out as protect_counts lays it out: fine
    cells (nested in their coarse group) as a cube with a total at the end of every
    axis, its sum relations, and which rows each cube cell stands for."""

    fine_rows: np.ndarray  # positions of the table's fine cells among the rows
    coords: tuple[np.ndarray, ...]  # their coordinates in the cube without margins
    shape: tuple[int, ...]  # of the cube without margins
    relations: list[tuple[int, np.ndarray]]
    row_of_cell: np.ndarray  # cube cells × rows: the cell is that row's count

    @classmethod
    def of(cls, rows: pd.DataFrame, table: tuple[str, ...], layout: Layout
           ) -> _TableCube | None:
        fine = table[-1]
        fine_rows = np.flatnonzero((rows["stratum"] == fine).to_numpy())
        if not len(fine_rows):
            return None
        keys = rows["group"].to_numpy()[fine_rows][:, None]
        if len(table) == 2:
            nesting = layout.nesting[fine]
            keys = np.column_stack([[nesting.get(g, UNKNOWN) for g in keys[:, 0]], keys])
        levels = [list(pd.unique(keys[:, i])) for i in range(len(table))]
        _, relations = table_with_margins(keys, np.zeros(len(keys), dtype=np.int64), levels)
        coords = tuple(np.array([lv.index(k) for k in keys[:, i]])
                       for i, lv in enumerate(levels))
        shape = tuple(len(lv) for lv in levels)
        return cls(fine_rows, coords, shape, relations,
                   cls._rows_of_cells(rows, table, levels))

    @staticmethod
    def _rows_of_cells(rows: pd.DataFrame, table: tuple[str, ...],
                       levels: list[list[str]]) -> np.ndarray:
        """A cube cell with every label a margin is the total; one with a fine label is
        that fine group (a cell or the fine group's margin); else the coarse group."""
        row_keys = list(zip(rows["stratum"], rows["group"], strict=True))
        labelled = [[*lv, None] for lv in levels]  # None: the margin
        cells = list(itertools.product(*labelled))
        out = np.zeros((len(cells), len(rows)), dtype=np.int64)
        for c, labels in enumerate(cells):
            if all(label is None for label in labels):
                key = (TOTAL, TOTAL)
            elif labels[-1] is not None:
                key = (table[-1], labels[-1])
            else:
                key = (table[0], labels[0])
            out[c] = [row_key == key for row_key in row_keys]
        return out

    def with_margins(self, fine_values: np.ndarray) -> np.ndarray:
        """Variants × flat cube cells, in protect_counts' order, from the fine cells."""
        k = len(fine_values)
        cube = np.zeros((k, *self.shape), dtype=np.int64)
        cube[(np.arange(k)[:, None], *(c[None, :] for c in self.coords))] = fine_values
        for axis in range(1, cube.ndim):
            cube = np.concatenate([cube, cube.sum(axis=axis, keepdims=True)], axis=axis)
        return cube.reshape(k, -1)


def _mapped(values: np.ndarray, fn) -> np.ndarray:
    """``fn`` (a policy's rule for one count) applied to every element, once per value."""
    distinct, which = np.unique(values, return_inverse=True)
    return np.array([fn(int(v)) for v in distinct])[which].reshape(values.shape)


def _published_frame(rows: pd.DataFrame, cell_hidden: np.ndarray, hom_hidden: np.ndarray,
                     policy: Policy) -> pd.DataFrame:
    out = rows[["variant_index", "dataset", "stratum", "group"]].reset_index(drop=True)
    for column, hidden in (("allele_count", cell_hidden), ("allele_number", cell_hidden),
                           ("hom_alt", hom_hidden)):
        rounded = _mapped(rows[column].to_numpy(np.int64), policy.round).astype(np.int64)
        out[column] = pd.arrays.IntegerArray(rounded, np.asarray(hidden, dtype=bool).copy())
    ac = out["allele_count"].astype("Float64")
    an = out["allele_number"].astype("Float64")
    out["allele_frequency"] = (ac / an.where(an > 0)).round(6)
    out["suppressed"] = np.asarray(cell_hidden, dtype=bool)
    return out


# -- persistence and lookup --------------------------------------------------------------
def write_summary(store: GenotypeSource, out_dir: Path, *,
                  participants: pd.DataFrame | None = None, policy: Policy | None = None,
                  chunk_variants: int = CHUNK_VARIANTS) -> Path:
    """Build the summary and write ``variants.parquet``, ``counts.parquet`` and
    ``manifest.json`` (format, standard version, datasets, tables, nesting).

    With ``policy``, the published values are computed once too (``published.parquet``,
    the policy stamped in the manifest), so a request reads them instead of running
    disclosure control (0.37 ms a variant at 100,000 participants over 31 provinces:
    module docstring) over a gene's worth of variants.
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
