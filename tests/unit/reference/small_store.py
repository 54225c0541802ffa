"""A small genotype store written by precimed.genomics, with known genotypes.

Two datasets: ``precimed`` (participants, pseudonym-like IDs, provinces in the east and
south regions plus Beijing, which is in no region) and ``1000G`` (a reference callset
with populations CHB/CHS in EAS and GBR in EUR). Importable by the discovery tests too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from precimed.genomics import GenotypeStore
from precimed.genomics.kernels import MISSING, pack
from precimed.genomics.store import DatasetFiles

# PCSK9 (GRCh38 chr1:55039447-55064852) holds the first two variants.
VARIANTS = pd.DataFrame({
    "chrom": ["1", "1", "1", "2", "X", "X"],
    "pos": [55_051_215, 55_052_000, 90_000_000, 1_000, 5_000_000, 100_000],
    "ref": ["G", "C", "A", "T", "G", "A"],
    "alt": ["A", "T", "AT", "C", "A", "C"],
    "rsid": ["rs11591147", None, "rs1000", None, "rs5000", None],
})
PROVINCES = ["31", "32", "44", "11"]  # east, east, south, no region


@dataclass(frozen=True)
class SmallStore:
    path: Path
    participants: pd.DataFrame  # the store's participant sample rows
    reference: pd.DataFrame
    genotypes: dict[str, np.ndarray]  # dataset -> variants x samples ALT counts, -1 missing


def pseudonym(i: int) -> str:
    return hashlib.sha256(f"person-{i}".encode()).hexdigest()


def _codes(rng: np.random.Generator, n_variants: int, n_samples: int,
           freqs: list[float], missing: float) -> np.ndarray:
    p = np.asarray(freqs)[:, None]
    g = rng.binomial(2, p, size=(n_variants, n_samples)).astype(np.int8)
    g[rng.random(g.shape) < missing] = -1
    return g


def build_small_store(path: Path, *, seed: int = 3, n_participants: int = 160,
                      n_reference: int = 90) -> SmallStore:
    rng = np.random.default_rng(seed)
    people = pd.DataFrame({
        "sample_id": [pseudonym(i) for i in range(n_participants)],
        "population": None, "super_population": None,
        "sex": rng.choice(["1", "2"], size=n_participants),
        "native_province": rng.choice(PROVINCES, size=n_participants, p=[.4, .3, .25, .05]),
        "region": None,
    })
    freqs = [0.2, 0.01, 0.3, 0.45, 0.1, 0.25]
    g_people = _codes(rng, len(VARIANTS), n_participants, freqs, 0.05)
    g_people[1] = 0
    g_people[1, :3] = [1, 2, 1]  # a rare variant: three carriers
    pops = rng.choice(["CHB", "CHS", "GBR"], size=n_reference, p=[.4, .35, .25])
    reference = pd.DataFrame({
        "sample_id": [f"HG{i:05d}" for i in range(n_reference)],
        "population": pops,
        "super_population": np.where(pops == "GBR", "EUR", "EAS"),
        "sex": rng.choice(["1", "2"], size=n_reference),
        "native_province": None, "region": None,
    })
    # the reference did not type the 2:1000 variant
    typed = VARIANTS.drop(index=3).reset_index(drop=True)
    g_ref = _codes(rng, len(typed), n_reference, [.3, .02, .2, .15, .4], 0.02)
    for name, kind, samples, variants, g in (
            ("precimed", "participants", people, VARIANTS, g_people),
            ("1000G", "reference", reference, typed, g_ref)):
        codes = np.where(g < 0, MISSING, g).astype(np.uint8)
        GenotypeStore.write_dataset(path, DatasetFiles(
            name, kind, samples, variants.copy(), pack(codes), "GRCh38", {"test": True}))
    full_ref = np.full((len(VARIANTS), n_reference), -1, dtype=np.int8)
    full_ref[VARIANTS.index != 3] = g_ref
    return SmallStore(path, people, reference, {"precimed": g_people, "1000G": full_ref})
