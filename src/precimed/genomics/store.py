"""The genotype store: packed genotypes per dataset, one variant table, one sample table.

Layout of a store directory (format 1, stamped in ``store.json``)::

    store.json                      format, genome build, datasets in sample order
    variants.parquet                the union of every dataset's biallelic variants
    datasets/NAME/samples.parquet   sample_id (pseudonym or the callset's ID), labels
    datasets/NAME/variants.parquet  chrom, pos, ref, alt of each packed row
    datasets/NAME/genotypes.bin     2-bit packed ALT counts, one row per variant
                                    (precimed.genomics.kernels), memory-mapped

VCF is parsed once, at ingest (:mod:`precimed.genomics.vcf`); queries read only these
files. A variant a dataset did not type is missing for all of its samples.

Why this format (benchmarks/genomics.py, 10,000 samples x 50,000 simulated variants,
ALT frequency 0.005-0.5, 2 shared cores under load ~2-3; benchmarks/results/genomics.json;
counting with the compiled popcount kernel of precimed.genomics.kernels):

| format                              | bytes  | count all variants |
|-------------------------------------|--------|--------------------|
| 2-bit packed, plain, memory-mapped  | 125 MB | 0.005 s            |
| same rows, zstd-3 blocks of 4,096   |  81 MB | 0.12 s             |
| int8 ALT counts, zstd-3 blocks      | 113 MB | 1.46 s             |
| (the bgzipped VCF itself)           | 143 MB | -                  |

Plain packed rows are ~25x faster to count than zstd blocks (decompression costs far
more than the popcount) and read any variant or sample subset without decoding a block;
zstd saves a third on disk. int8 (a VCF-Zarr-like call matrix; bio2zarr not tried) is
larger and ~300x slower. So the store keeps plain packed rows; a cluster deployment can
zstd the same rows per block for object storage.

Opening a store maps the packed rows and reads the small table files into memory (a
consistent view if a dataset is written later); they are decoded on first use. A dataset
whose variants are exactly the store's (one dataset, or datasets typed alike) has its
rows counted in place, without a key lookup.
"""

from __future__ import annotations

import copy
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from precimed.errors import NotFound, UserError
from precimed.files import locked, replacing, write_atomically
from precimed.genomics import kernels
from precimed.standard.vocabularies import GENOME_BUILD

STORE_FORMAT = 1
BUILDS = tuple(GENOME_BUILD.codes)  # the standard's genome builds
_CHROM_ORDER = {str(i): i for i in range(1, 23)} | {"X": 23, "Y": 24, "XY": 25, "MT": 26}
_KEY = ("chrom", "pos", "ref", "alt")
SAMPLE_COLUMNS = ("sample_id", "population", "super_population", "sex", "native_province",
                  "region")


DATASET_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_dataset_name(name: str) -> str:
    """``name`` if it may name a genotype dataset, else a UserError (CLI and API alike).

    A dataset's name becomes a folder of the store (``datasets/NAME``), part of a
    submission ID and a value matched in the lake, so it is kept to letters, digits, '-'
    and '_': no path separators, dots, quotes or spaces."""
    if not isinstance(name, str) or not DATASET_NAME.fullmatch(name):
        raise UserError("The dataset name is not allowed", where="dataset",
                        hint="Use 1 to 64 letters, digits, '-' and '_' (e.g. sh01-genotypes).")
    return name


def normalise_chrom(chrom: str) -> str:
    """'chr1' -> '1', 'chrM'/'M' -> 'MT'."""
    chrom = chrom[3:] if chrom.lower().startswith("chr") else chrom
    return "MT" if chrom.upper() in {"M", "MT"} else chrom


def chrom_rank(chrom: pd.Series) -> pd.Series:
    """Sort key: 1..22, X, Y, XY, MT, then other contigs."""
    return chrom.map(lambda c: _CHROM_ORDER.get(c, 100)).astype(np.int64)


def sort_variants(frame: pd.DataFrame) -> pd.DataFrame:
    keyed = frame.assign(_rank=chrom_rank(frame["chrom"]))
    keyed = keyed.sort_values(["_rank", "chrom", "pos", "ref", "alt"], kind="stable")
    return keyed.drop(columns="_rank").reset_index(drop=True)


@dataclass(frozen=True)
class DatasetFiles:
    """One dataset as written by ingest: packed rows, their variants and the samples."""

    name: str
    kind: str  # participants or reference
    samples: pd.DataFrame  # SAMPLE_COLUMNS
    variants: pd.DataFrame  # chrom, pos, ref, alt, rsid; row i is packed row i
    packed: np.ndarray  # uint8, variants x row_bytes(n_samples)
    build: str
    source: dict


class GenotypeStore:
    """A read-only view of a store directory; open it with :meth:`open`."""

    def __init__(self, path: Path, meta: dict) -> None:
        self.path = Path(path)
        self.meta = meta
        self.build: str = meta["build"]
        self.datasets: list[str] = [d["name"] for d in meta["datasets"]]
        # opening maps the packed rows and reads the (small) table files into memory, so
        # the view stays consistent if a dataset is written later; they are decoded, and
        # each dataset's store-variant -> packed-row map built, on first use
        self._sizes = [int(d["samples"]) for d in meta["datasets"]]
        self._offsets = np.concatenate([[0], np.cumsum(self._sizes)]).astype(np.int64)
        self._packed: list[np.ndarray] = []
        self._files: dict[str, bytes] = {"variants": (self.path / "variants.parquet").read_bytes()}
        for entry, size in zip(meta["datasets"], self._sizes, strict=True):
            folder = self.path / "datasets" / entry["name"]
            width = kernels.row_bytes(size)
            n_rows = int(entry["variants"])
            self._packed.append(
                np.memmap(folder / "genotypes.bin", dtype=np.uint8, mode="r",
                          shape=(n_rows, width)) if n_rows
                else np.zeros((0, width), dtype=np.uint8))
            for table in ("samples", "variants"):
                self._files[f"{entry['name']}/{table}"] = (
                    folder / f"{table}.parquet").read_bytes()
        self.n_variants: int = pq.ParquetFile(
            pa.BufferReader(self._files["variants"])).metadata.num_rows
        self._variant_frame: pd.DataFrame | None = None
        self._sample_frames: list[pd.DataFrame] | None = None
        self._row_maps: list[np.ndarray] | None = None
        self.left_out: frozenset[str] = frozenset()

    def without(self, people: frozenset[str]) -> GenotypeStore:
        """This store with the samples of ``people`` (pseudonyms) left out of
        :meth:`samples`, sharing the mapped rows: the consent rule of the genotype paths
        (:func:`precimed.genomics.consent.consented_store`). Everything that counts,
        summarises or serves genotypes chooses its samples from :meth:`samples`, so none
        of it sees them; sample indices stay those of the whole store."""
        view = copy.copy(self)
        view.left_out = self.left_out | frozenset(people)
        return view

    def _frame(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(io.BytesIO(self._files[name]))

    def _key_table(self, name: str) -> pa.Table:
        return pq.read_table(pa.BufferReader(self._files[name]), columns=list(_KEY))

    @property
    def _variants(self) -> pd.DataFrame:
        if self._variant_frame is None:
            self._variant_frame = self._frame("variants")
        return self._variant_frame

    @property
    def _samples(self) -> list[pd.DataFrame]:
        if self._sample_frames is None:
            frames = []
            for name, offset in zip(self.datasets, self._offsets, strict=False):
                samples = self._frame(f"{name}/samples")
                samples.insert(0, "dataset", name)
                samples.insert(0, "sample_index", np.arange(offset, offset + len(samples)))
                frames.append(samples)
            self._sample_frames = frames
        return self._sample_frames

    @property
    def _rows(self) -> list[np.ndarray]:
        """Per dataset: store variant -> packed row, or -1 where it did not type it."""
        if self._row_maps is None:
            union = self._key_table("variants")
            maps, key = [], None
            for name in self.datasets:
                own = self._key_table(f"{name}/variants")
                if own.num_rows == union.num_rows and own.equals(union):
                    maps.append(np.arange(union.num_rows, dtype=np.int64))  # the same rows
                    continue
                key = _keys(union.to_pandas()) if key is None else key
                rows = np.full(union.num_rows, -1, dtype=np.int64)
                rows[key.get_indexer(_keys(own.to_pandas()))] = np.arange(own.num_rows)
                maps.append(rows)
            self._row_maps = maps
        return self._row_maps

    # -- opening and writing -----------------------------------------------------
    @classmethod
    def open(cls, path) -> GenotypeStore:
        path = Path(path)
        meta_file = path / "store.json"
        if not meta_file.exists():
            raise NotFound("No genotype store here", where=str(path),
                           hint="Ingest a VCF first (precimed.genomics.vcf.ingest_participants "
                           "or ingest_reference), or pass the store's directory.")
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta.get("format") != STORE_FORMAT:
            raise UserError(f"Genotype store format {meta.get('format')!r} is not known",
                            where=str(meta_file),
                            hint=f"This precimed reads format {STORE_FORMAT}; upgrade precimed.")
        return cls(path, meta)

    @staticmethod
    def write_dataset(path, dataset: DatasetFiles, *, replace: bool = False) -> None:
        """Add (or with ``replace``, swap) one dataset and rebuild the variant union.

        Every file is written aside, flushed and renamed into place
        (:func:`precimed.files.replacing`), ``store.json`` last, so a crash leaves the
        previous store readable.
        Writers take the store's lock file in turn (two uploads in two server workers
        would otherwise each rebuild the variant union from a stale list of datasets).
        """
        check_dataset_name(dataset.name)
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        with locked(path / ".writer.lock"):  # one writer at a time, any process
            GenotypeStore._write_dataset(path, dataset, replace=replace)

    @staticmethod
    def _write_dataset(path: Path, dataset: DatasetFiles, *, replace: bool) -> None:
        meta_file = path / "store.json"
        meta = (json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists()
                else {"format": STORE_FORMAT, "build": dataset.build, "datasets": []})
        if meta["build"] != dataset.build:
            raise UserError(
                f"Dataset {dataset.name} is on {dataset.build} but the store is on "
                f"{meta['build']}", where=str(path),
                hint="Lift the VCF over to the store's build first, or ingest it into a "
                "separate store.")
        names = [d["name"] for d in meta["datasets"]]
        if dataset.name in names and not replace:
            raise UserError(f"Dataset {dataset.name!r} is already in the store", where=str(path),
                            hint="Choose another dataset name, or pass replace=True to swap it.")
        folder = path / "datasets" / dataset.name
        folder.mkdir(parents=True, exist_ok=True)
        with replacing(folder / "genotypes.bin") as tmp:
            np.ascontiguousarray(dataset.packed, dtype=np.uint8).tofile(tmp)
        with replacing(folder / "variants.parquet") as tmp:
            pq.write_table(pa.Table.from_pandas(dataset.variants, preserve_index=False), tmp)
        samples = dataset.samples.reindex(columns=list(SAMPLE_COLUMNS))
        with replacing(folder / "samples.parquet") as tmp:
            pq.write_table(pa.Table.from_pandas(samples.astype(object), preserve_index=False),
                           tmp)
        entry = {"name": dataset.name, "kind": dataset.kind, "samples": len(samples),
                 "variants": len(dataset.variants), "source": dataset.source}
        meta["datasets"] = [d for d in meta["datasets"] if d["name"] != dataset.name] + [entry]
        union = pd.concat([pd.read_parquet(path / "datasets" / d["name"] / "variants.parquet")
                           for d in meta["datasets"]])
        union = sort_variants(union.drop_duplicates(["chrom", "pos", "ref", "alt"]))
        union.insert(0, "variant_index", np.arange(len(union), dtype=np.int64))
        union["build"] = meta["build"]
        with replacing(path / "variants.parquet") as tmp:
            pq.write_table(pa.Table.from_pandas(union, preserve_index=False), tmp)
        write_atomically(meta_file, json.dumps(meta, indent=1, sort_keys=True))

    @staticmethod
    def erase_samples(path, people: frozenset[str]) -> int:
        """Remove the samples of ``people`` (pseudonyms) from every dataset of the store at
        ``path``, rewriting their packed rows without those columns (erasure: the old
        genotype files are replaced, not kept). Returns the samples removed.

        A dataset is decoded whole in memory (variants x samples bytes); erasure is rare
        enough that this is not worth a streaming rewrite yet."""
        path = Path(path)
        store = GenotypeStore.open(path)
        removed = 0
        for entry in store.meta["datasets"]:
            folder = path / "datasets" / entry["name"]
            samples = pd.read_parquet(folder / "samples.parquet")
            drop = samples["sample_id"].isin(people).to_numpy()
            if not drop.any():
                continue
            variants = pd.read_parquet(folder / "variants.parquet")
            packed = np.fromfile(folder / "genotypes.bin", dtype=np.uint8).reshape(
                len(variants), kernels.row_bytes(len(samples)))
            kept = kernels.pack(kernels.unpack(packed, len(samples))[:, ~drop])
            GenotypeStore.write_dataset(path, DatasetFiles(
                entry["name"], entry.get("kind", "reference"),
                samples[~drop].reset_index(drop=True), variants, kept, store.build,
                entry.get("source", {})), replace=True)
            removed += int(drop.sum())
        return removed

    # -- reading -------------------------------------------------------------------
    def variants(self) -> pd.DataFrame:
        """One row per biallelic variant, sorted by (chrom, pos, ref, alt)."""
        return self._variants.copy()

    def samples(self, dataset: str | None = None) -> pd.DataFrame:
        """Samples with ``sample_index`` and ``dataset``, those of :attr:`left_out` not."""
        frame = pd.concat(self._samples, ignore_index=True)
        if self.left_out:
            frame = frame[~frame["sample_id"].isin(self.left_out)].reset_index(drop=True)
        if dataset is None:
            return frame
        if dataset not in self.datasets:
            raise NotFound(f"No dataset {dataset!r} in the genotype store", where=str(self.path),
                           hint="Datasets: " + ", ".join(self.datasets))
        return frame[frame["dataset"] == dataset].reset_index(drop=True)

    @property
    def n_samples(self) -> int:
        return int(self._offsets[-1])

    def genotypes(self, variant_indices=None, sample_indices=None) -> np.ndarray:
        """int8 ALT counts, samples x variants, -1 missing (also where a dataset did not
        type the variant)."""
        variants = self._variant_selection(variant_indices)
        out, order = [], []
        for part, chosen in self._per_dataset(sample_indices):
            order.append(chosen + int(self._offsets[part]))
            rows = self._rows[part][variants]
            block = np.full((len(variants), len(chosen)), -1, dtype=np.int8)
            typed = rows >= 0
            if typed.any() and len(chosen):
                if len(chosen) * 8 < self._sizes[part]:  # a few samples: read their bytes
                    codes = kernels.unpack_samples(self._packed[part], rows[typed], chosen)
                else:
                    codes = kernels.unpack(self._packed[part][rows[typed]],
                                           self._sizes[part])[:, chosen]
                block[typed] = np.where(codes == kernels.MISSING, -1, codes).astype(np.int8)
            out.append(block)
        matrix = np.concatenate(out, axis=1).T
        if sample_indices is not None:  # back to the order asked for
            asked = self._sample_selection(sample_indices)
            matrix = matrix[np.argsort(np.concatenate(order), kind="stable")[
                np.argsort(np.argsort(asked, kind="stable"), kind="stable")]]
        return matrix

    def counts(self, variant_indices, sample_indices=None) -> dict[str, np.ndarray]:
        """Per variant: allele_count (ALT), allele_number, hom_ref, het, hom_alt, missing
        over the chosen samples (all by default; a boolean mask or indices)."""
        variants = self._variant_selection(variant_indices)
        total = {k: np.zeros(len(variants), dtype=np.int64)
                 for k in ("allele_count", "allele_number", "hom_ref", "het", "hom_alt",
                           "missing")}
        for part, chosen in self._per_dataset(sample_indices):
            if not len(chosen):
                continue
            n_part = self._sizes[part]
            rows = self._rows[part][variants]
            every = len(chosen) == n_part
            mask = None if every else kernels.sample_mask(chosen, n_part)
            if len(rows) and rows[0] >= 0 and _is_run(rows):
                # every variant typed, rows in order: count the packed rows in place
                got = kernels.count_packed(self._packed[part][rows[0]:rows[-1] + 1], n_part,
                                           mask=mask, n_selected=len(chosen))
                for key, values in got.items():
                    total[key] += values
                continue
            typed = rows >= 0
            got = kernels.count_packed(self._packed[part][rows[typed]], n_part, mask=mask,
                                       n_selected=len(chosen))
            for key, values in got.items():
                total[key][typed] += values
            total["missing"][~typed] += len(chosen)
        return total

    def sample_columns(self, dataset: str, sample_index: np.ndarray) -> tuple[np.ndarray, int]:
        """The columns of ``sample_index`` (the dataset's samples) in its packed rows, and
        the number of columns (every sample of the dataset, left out or not)."""
        part = self.datasets.index(dataset)
        return (np.asarray(sample_index, dtype=np.int64) - int(self._offsets[part]),
                self._sizes[part])

    def packed_rows(self, dataset: str) -> tuple[np.ndarray, np.ndarray]:
        """One dataset's packed rows (memory-mapped; a column per sample of the dataset,
        left out or not: :meth:`sample_columns`) and, per store variant, its row there
        (-1 where the dataset did not type it)."""
        if dataset not in self.datasets:
            raise NotFound(f"No dataset {dataset!r} in the genotype store", where=str(self.path),
                           hint="Datasets: " + ", ".join(self.datasets))
        part = self.datasets.index(dataset)
        return self._packed[part], self._rows[part]

    # -- helpers -------------------------------------------------------------------
    def _variant_selection(self, variant_indices) -> np.ndarray:
        if variant_indices is None:
            return np.arange(self.n_variants)
        chosen = np.asarray(variant_indices)
        if chosen.dtype == bool:
            chosen = np.nonzero(chosen)[0]
        chosen = chosen.astype(np.int64)
        if chosen.size and (chosen.min() < 0 or chosen.max() >= self.n_variants):
            raise UserError("A variant index is out of range", where=str(self.path),
                            hint=f"Variant indices run from 0 to {self.n_variants - 1}.")
        return chosen

    def _per_dataset(self, sample_indices):
        """(dataset position, sample positions within it) in sample order."""
        chosen = self._sample_selection(sample_indices)
        for part, size in enumerate(self._sizes):
            offset = int(self._offsets[part])
            inside = chosen[(chosen >= offset) & (chosen < offset + size)] - offset
            yield part, inside

    def _sample_selection(self, sample_indices) -> np.ndarray:
        n = self.n_samples
        if sample_indices is None:
            chosen = np.arange(n)
        else:
            chosen = np.asarray(sample_indices)
            if chosen.dtype == bool:
                if chosen.size != n:
                    raise UserError("The sample mask has the wrong length", where=str(self.path),
                                    hint=f"Give one True/False per sample ({n}).")
                chosen = np.nonzero(chosen)[0]
            chosen = chosen.astype(np.int64)
            if chosen.size and (chosen.min() < 0 or chosen.max() >= n):
                raise UserError("A sample index is out of range", where=str(self.path),
                                hint=f"Sample indices run from 0 to {n - 1}.")
        return chosen


def _is_run(rows: np.ndarray) -> bool:
    """True when rows are consecutive ascending integers (a slice of the packed rows)."""
    return bool(rows[-1] - rows[0] == len(rows) - 1 and (np.diff(rows) == 1).all())


def _keys(frame: pd.DataFrame) -> pd.Index:
    return pd.Index(frame["chrom"].astype(str) + ":" + frame["pos"].astype(str) + ":"
                    + frame["ref"] + ":" + frame["alt"])
