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
ALT frequency 0.005-0.5, 2 shared cores under load ~3-4; benchmarks/results/genomics.json):

| format                              | bytes  | count all variants |
|-------------------------------------|--------|--------------------|
| 2-bit packed, plain, memory-mapped  | 125 MB | 0.08 s             |
| same rows, zstd-3 blocks of 4,096   |  81 MB | 0.23 s             |
| int8 ALT counts, zstd-3 blocks      | 113 MB | 1.94 s             |
| (the bgzipped VCF itself)           | 143 MB | -                  |

Plain packed rows are 3x faster to count than zstd blocks (decompression costs more
than the popcount) and read any variant or sample subset without decoding a block;
zstd saves a third on disk. int8 (a VCF-Zarr-like call matrix; bio2zarr not tried) is
larger and 25x slower. So the store keeps plain packed rows; a cluster deployment can
zstd the same rows per block for object storage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from precimed.errors import NotFound, UserError
from precimed.genomics import kernels

STORE_FORMAT = 1
BUILDS = ("GRCh38", "GRCh37")
_CHROM_ORDER = {str(i): i for i in range(1, 23)} | {"X": 23, "Y": 24, "XY": 25, "MT": 26}
SAMPLE_COLUMNS = ("sample_id", "population", "super_population", "sex", "native_province",
                  "region")


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
        self._variants = pd.read_parquet(self.path / "variants.parquet")
        self._samples: list[pd.DataFrame] = []
        self._packed: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []  # per dataset: store variant -> packed row or -1
        key = _keys(self._variants)
        offset = 0
        for entry in meta["datasets"]:
            folder = self.path / "datasets" / entry["name"]
            samples = pd.read_parquet(folder / "samples.parquet")
            samples.insert(0, "dataset", entry["name"])
            samples.insert(0, "sample_index", np.arange(offset, offset + len(samples)))
            offset += len(samples)
            own = pd.read_parquet(folder / "variants.parquet")
            rows = np.full(len(self._variants), -1, dtype=np.int64)
            rows[key.get_indexer(_keys(own))] = np.arange(len(own))
            width = kernels.row_bytes(len(samples))
            packed = (np.memmap(folder / "genotypes.bin", dtype=np.uint8, mode="r",
                                shape=(len(own), width)) if len(own)
                      else np.zeros((0, width), dtype=np.uint8))
            self._samples.append(samples)
            self._packed.append(packed)
            self._rows.append(rows)

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

        Packed rows are written to a temporary file and renamed into place, then
        ``store.json`` is replaced last, so a crash leaves the previous store readable.
        """
        path = Path(path)
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
        staging = folder / "genotypes.bin.tmp"
        np.ascontiguousarray(dataset.packed, dtype=np.uint8).tofile(staging)
        staging.rename(folder / "genotypes.bin")
        pq.write_table(pa.Table.from_pandas(dataset.variants, preserve_index=False),
                       folder / "variants.parquet")
        samples = dataset.samples.reindex(columns=list(SAMPLE_COLUMNS))
        pq.write_table(pa.Table.from_pandas(samples.astype(object), preserve_index=False),
                       folder / "samples.parquet")
        entry = {"name": dataset.name, "kind": dataset.kind, "samples": len(samples),
                 "variants": len(dataset.variants), "source": dataset.source}
        meta["datasets"] = [d for d in meta["datasets"] if d["name"] != dataset.name] + [entry]
        union = pd.concat([pd.read_parquet(path / "datasets" / d["name"] / "variants.parquet")
                           for d in meta["datasets"]])
        union = sort_variants(union.drop_duplicates(["chrom", "pos", "ref", "alt"]))
        union.insert(0, "variant_index", np.arange(len(union), dtype=np.int64))
        union["build"] = meta["build"]
        pq.write_table(pa.Table.from_pandas(union, preserve_index=False),
                       path / "variants.parquet.tmp")
        (path / "variants.parquet.tmp").rename(path / "variants.parquet")
        tmp = path / "store.json.tmp"
        tmp.write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
        tmp.rename(meta_file)

    # -- reading -------------------------------------------------------------------
    def variants(self) -> pd.DataFrame:
        """One row per biallelic variant, sorted by (chrom, pos, ref, alt)."""
        return self._variants.copy()

    def samples(self, dataset: str | None = None) -> pd.DataFrame:
        frame = pd.concat(self._samples, ignore_index=True)
        if dataset is None:
            return frame
        if dataset not in self.datasets:
            raise NotFound(f"No dataset {dataset!r} in the genotype store", where=str(self.path),
                           hint="Datasets: " + ", ".join(self.datasets))
        return frame[frame["dataset"] == dataset].reset_index(drop=True)

    @property
    def n_samples(self) -> int:
        return sum(len(s) for s in self._samples)

    def genotypes(self, variant_indices=None, sample_indices=None) -> np.ndarray:
        """int8 ALT counts, samples x variants, -1 missing (also where a dataset did not
        type the variant)."""
        variants = self._variant_selection(variant_indices)
        out, order = [], []
        for part, chosen in self._per_dataset(sample_indices):
            order.append(chosen + int(self._samples[part]["sample_index"].iloc[0])
                         if len(self._samples[part]) else chosen)
            rows = self._rows[part][variants]
            block = np.full((len(variants), len(chosen)), -1, dtype=np.int8)
            typed = rows >= 0
            if typed.any() and len(chosen):
                codes = kernels.unpack(self._packed[part][rows[typed]],
                                       len(self._samples[part]))[:, chosen]
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
            n_part = len(self._samples[part])
            rows = self._rows[part][variants]
            typed = rows >= 0
            every = len(chosen) == n_part
            mask = None if every else kernels.sample_mask(chosen, n_part)
            got = kernels.count_packed(self._take(part, rows[typed]), n_part, mask=mask,
                                       n_selected=len(chosen))
            for key, values in got.items():
                total[key][typed] += values
            total["missing"][~typed] += len(chosen)
        return total

    # -- helpers -------------------------------------------------------------------
    def _take(self, part: int, rows: np.ndarray) -> np.ndarray:
        packed = self._packed[part]
        if len(rows) == packed.shape[0] and (np.diff(rows) == 1).all():
            return packed  # all rows in order: no copy
        return packed[rows]

    def _variant_selection(self, variant_indices) -> np.ndarray:
        if variant_indices is None:
            return np.arange(len(self._variants))
        chosen = np.asarray(variant_indices)
        if chosen.dtype == bool:
            chosen = np.nonzero(chosen)[0]
        chosen = chosen.astype(np.int64)
        if chosen.size and (chosen.min() < 0 or chosen.max() >= len(self._variants)):
            raise UserError("A variant index is out of range", where=str(self.path),
                            hint=f"Variant indices run from 0 to {len(self._variants) - 1}.")
        return chosen

    def _per_dataset(self, sample_indices):
        """(dataset position, sample positions within it) in sample order."""
        chosen = self._sample_selection(sample_indices)
        offset = 0
        for part, samples in enumerate(self._samples):
            size = len(samples)
            inside = chosen[(chosen >= offset) & (chosen < offset + size)] - offset
            yield part, inside
            offset += size

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


def _keys(frame: pd.DataFrame) -> pd.Index:
    return pd.Index(frame["chrom"].astype(str) + ":" + frame["pos"].astype(str) + ":"
                    + frame["ref"] + ":" + frame["alt"])
