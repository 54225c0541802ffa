"""Genotype matrices for association testing: PLINK 1 binary filesets read in variant blocks.

A genotype matrix is ``n_samples × n_variants`` of ALT-allele counts (0, 1, 2) as int8,
with -1 for a missing call. :func:`read_bed` opens a PLINK 1 fileset without loading it:
the ``.bed`` is memory-mapped and decoded one block of variants at a time, so a study of
10,000 samples × 50,000 variants never holds more than one block in memory.

Allele convention (as PLINK 2 imports a ``.bim``): column 5 (A1) is the ALT allele, the one
counted; column 6 (A2) is REF. In the ``.bed`` two bits per call, 00 = two A1 alleles,
01 = missing, 10 = heterozygous, 11 = two A2 alleles. The reader was validated against the
allele and call counts of snpStats (tests/validation/test_association_against_plink2.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from precimed.errors import UserError

_MAGIC = bytes([0x6C, 0x1B, 0x01])  # PLINK 1 .bed, variant-major
_CODE_TO_ALT = np.array([2, -1, 1, 0], dtype=np.int8)  # 2-bit code -> ALT count


def _byte_table(code_to_value: np.ndarray) -> np.ndarray:
    """byte -> the four int8 values it packs, as one uint32 so that decoding is one gather."""
    return np.array([[code_to_value[(b >> (2 * k)) & 3] for k in range(4)] for b in range(256)],
                    dtype=np.int8).view(np.uint32).ravel()


_BYTE_TO_COUNTS = _byte_table(_CODE_TO_ALT)
_BYTE_TO_CALLED = _byte_table(np.maximum(_CODE_TO_ALT, 0))  # missing read as 0
_ALT_TO_CODE = {0: 3, 1: 2, 2: 0, -1: 1}
DEFAULT_BLOCK = 2048  # variants per block: 10,000 samples -> 20 MB of int8, 80 MB float32



class GenotypeBlock(NamedTuple):
    """Variants ``start:start + len(dosage)`` as floats for regression.

    ``dosage`` is variant-major (``n_variants × n_samples``, float) with missing calls
    read as 0; ``missing_rows`` indexes the variants that have any missing call and ``missing``
    (``len(missing_rows) × n_samples``, bool) marks those calls.
    """

    start: int
    dosage: np.ndarray
    missing_rows: np.ndarray
    missing: np.ndarray

    @classmethod
    def from_counts(cls, start: int, counts: np.ndarray, *, dtype=np.float64) -> GenotypeBlock:
        """From a variant-major int8 block with -1 for missing."""
        missing = counts < 0
        rows = np.flatnonzero(missing.any(1))
        return cls(start, np.maximum(counts, 0).astype(dtype), rows, missing[rows])

    def subset(self, samples: np.ndarray) -> GenotypeBlock:
        """The same variants restricted to the sample indices ``samples``."""
        missing = self.missing[:, samples]
        keep = missing.any(1)
        return GenotypeBlock(self.start, self.dosage[:, samples], self.missing_rows[keep],
                             missing[keep])


_FAM = ["fid", "iid", "father", "mother", "sex", "phenotype"]
_BIM = ["chrom", "id", "cm", "pos", "alt", "ref"]


@dataclass(frozen=True, eq=False)
class BedFile:
    """A PLINK 1 binary fileset opened for block reading.

    ``samples`` is the ``.fam`` table, ``variants`` the ``.bim`` table (chrom, id, cm, pos,
    alt, ref). Genotypes are read with :meth:`blocks` or :meth:`read`.
    """

    path: Path
    samples: pd.DataFrame
    variants: pd.DataFrame

    @property
    def n_samples(self) -> int:
        return len(self.samples)

    @property
    def n_variants(self) -> int:
        return len(self.variants)

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_samples, self.n_variants

    def _packed(self) -> np.ndarray:
        width = (self.n_samples + 3) // 4
        return np.memmap(self.path, dtype=np.uint8, mode="r", offset=3,
                         shape=(self.n_variants, width))

    def read_variant_major(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Variants ``start:stop`` as a ``n_variants × n_samples`` int8 array (-1 missing)."""
        stop = self.n_variants if stop is None else min(stop, self.n_variants)
        packed = np.ascontiguousarray(self._packed()[start:stop])
        counts = _BYTE_TO_COUNTS[packed].view(np.int8)
        return counts[:, :self.n_samples]

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Variants ``start:stop`` as the usual ``n_samples × n_variants`` int8 array."""
        return np.ascontiguousarray(self.read_variant_major(start, stop).T)

    def blocks(self, size: int = DEFAULT_BLOCK) -> Iterator[tuple[int, np.ndarray]]:
        """``(first variant index, variant-major int8 block)`` over the whole file."""
        for start in range(0, self.n_variants, size):
            yield start, self.read_variant_major(start, start + size)

    def dosage_blocks(self, size: int = DEFAULT_BLOCK, *,
                      dtype=np.float64) -> Iterator[GenotypeBlock]:
        """The whole file as :class:`GenotypeBlock` s, decoded straight from the packed bytes.

        The ``dosage`` arrays are two buffers used in turn, so a block stays valid while the
        next one is decoded (see :func:`prefetched`): copy what you keep longer.
        """
        n = self.n_samples
        buffers = [np.empty((min(size, self.n_variants), n), dtype=dtype) for _ in range(2)]
        for index, start in enumerate(range(0, self.n_variants, size)):
            buffer = buffers[index % 2]
            packed = np.ascontiguousarray(self._packed()[start:start + size])
            # a missing call is code 01: low bit set, high bit clear (padding is 00)
            flagged = packed & 0x55 & ~(packed >> 1)
            rows = np.flatnonzero(flagged.any(1))
            dosage = buffer[:len(packed)]
            np.copyto(dosage, _BYTE_TO_CALLED[packed].view(np.int8)[:, :n])
            missing = _BYTE_TO_COUNTS[packed[rows]].view(np.int8)[:, :n] < 0
            yield GenotypeBlock(start, dosage, rows, missing)


def prefetched(blocks: Iterator) -> Iterator:
    """``blocks`` with the next item produced in a background thread while the caller works
    on the current one: decoding (numpy, GIL released) overlaps the BLAS products."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        upcoming = pool.submit(next, blocks, None)
        while (item := upcoming.result()) is not None:
            upcoming = pool.submit(next, blocks, None)
            yield item


def read_bed(prefix: str | Path) -> BedFile:
    """Open ``prefix.bed`` with its ``.bim`` and ``.fam``; genotypes are read lazily."""
    prefix = Path(prefix)
    if prefix.suffix in {".bed", ".bim", ".fam"}:
        prefix = prefix.with_suffix("")
    paths = {ext: prefix.with_name(prefix.name + ext) for ext in (".bed", ".bim", ".fam")}
    for ext, path in paths.items():
        if not path.exists():
            raise UserError(f"The PLINK {ext} file is missing", where=str(path),
                            hint="Pass the common prefix of the .bed, .bim and .fam files.")
    samples = _read_table(paths[".fam"], _FAM, {"fid": str, "iid": str})
    variants = _read_table(paths[".bim"], _BIM, {"chrom": str, "id": str, "alt": str,
                                                  "ref": str, "pos": np.int64})
    with open(paths[".bed"], "rb") as handle:
        magic = handle.read(3)
    if magic != _MAGIC:
        raise UserError("Not a variant-major PLINK 1 .bed file", where=str(paths[".bed"]),
                        hint="Re-export it with plink --make-bed.")
    expected = 3 + len(variants) * ((len(samples) + 3) // 4)
    if paths[".bed"].stat().st_size != expected:
        raise UserError(f"The .bed file has {paths['.bed'].stat().st_size} bytes, expected "
                        f"{expected} for {len(samples)} samples × {len(variants)} variants",
                        where=str(paths[".bed"]), hint="Check that .bim and .fam belong to it.")
    return BedFile(paths[".bed"], samples, variants)


def _read_table(path: Path, names: list[str], dtypes: dict) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep=r"\s+", header=None, names=names, dtype=dtypes,
                           engine="c")
    except (ValueError, pd.errors.ParserError) as error:
        raise UserError(f"Cannot parse {path.suffix} file: {error}", where=str(path),
                        hint=f"Expect {len(names)} whitespace-separated columns.") from error


def write_bed(prefix: str | Path, genotypes: np.ndarray, *, variants: pd.DataFrame | None = None,
              samples: pd.DataFrame | None = None, block: int = DEFAULT_BLOCK) -> Path:
    """Write an ``n_samples × n_variants`` ALT-count matrix as a PLINK 1 fileset.

    ``variants`` needs columns chrom, id, pos, alt, ref (cm optional); ``samples`` needs
    fid and iid. Defaults are synthetic (chromosome 1, ids ``v1...``, alleles A/C).
    """
    genotypes = np.asarray(genotypes)
    if genotypes.ndim != 2 or not np.isin(genotypes, (-1, 0, 1, 2)).all():
        raise UserError("Genotypes must be a 2-D array of 0, 1, 2 or -1 (missing)",
                        where="write_bed", hint="Code genotypes as ALT allele counts.")
    n, m = genotypes.shape
    prefix = Path(prefix)
    if variants is None:
        variants = pd.DataFrame({"chrom": "1", "id": [f"v{j + 1}" for j in range(m)],
                                 "pos": np.arange(1, m + 1) * 1000, "alt": "A", "ref": "C"})
    if samples is None:
        ids = [f"s{i + 1}" for i in range(n)]
        samples = pd.DataFrame({"fid": ids, "iid": ids})
    bim = variants.assign(cm=variants.get("cm", 0))[_BIM]
    fam = samples.reindex(columns=_FAM).astype(object)
    for column, default in {"father": "0", "mother": "0", "sex": "0", "phenotype": "-9"}.items():
        fam[column] = fam[column].where(fam[column].notna(), default)
    bim.to_csv(prefix.with_name(prefix.name + ".bim"), sep="\t", header=False, index=False)
    fam.to_csv(prefix.with_name(prefix.name + ".fam"), sep=" ", header=False, index=False)
    codes = np.zeros(256, dtype=np.uint8)  # int8 count (as uint8) -> 2-bit code
    for count, code in _ALT_TO_CODE.items():
        codes[np.uint8(np.int8(count))] = code
    width = (n + 3) // 4
    with open(prefix.with_name(prefix.name + ".bed"), "wb") as handle:
        handle.write(_MAGIC)
        for start in range(0, m, block):
            chunk = np.asarray(genotypes[:, start:start + block], dtype=np.int8).T
            padded = np.full((chunk.shape[0], width * 4), 0, dtype=np.uint8)
            padded[:, :n] = codes[chunk.view(np.uint8)]
            quads = padded.reshape(chunk.shape[0], width, 4)
            packed = quads[..., 0] | quads[..., 1] << 2 | quads[..., 2] << 4 | quads[..., 3] << 6
            handle.write(packed.astype(np.uint8).tobytes())
    return prefix
