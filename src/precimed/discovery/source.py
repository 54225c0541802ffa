"""What the Beacon answers from: the genotype store's variants indexed by position
(:class:`VariantIndex`), its samples labelled by dataset, sex, region, province and
population, each dataset's carrier count per variant (:class:`BeaconSource`), and the
description and access level of each dataset (:class:`DatasetInfo`).

A :class:`BeaconSource` is built once and read-only afterwards, except for the joined
population frequencies, which follow the reference summary on disk
(:meth:`BeaconSource.frequencies`). The server holds it in a :class:`LiveSource`
(``app.state.beacon``), which builds a new one in the background when a dataset is
published or a release is made, and answers from the old one until the new is ready.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from precimed.deid import Policy, protect_count
from precimed.discovery import models
from precimed.discovery.granularity import Access
from precimed.discovery.models import BeaconQuery, VariantQuery
from precimed.discovery.populations import PopulationFrequencies
from precimed.errors import NotFound, UserError
from precimed.genomics.alleles import UNKNOWN, label_samples
from precimed.reference.genes import gene_loci


# -- the data behind the beacon ---------------------------------------------------------
@dataclass(frozen=True)
class DatasetInfo:
    id: str
    name: str
    description: str
    access: Access
    kind: str
    duo: tuple[tuple[str, str], ...] = ()


_DEFAULT_INFO = {
    "participants": ("Platform participants' genotypes",
                     "Genotypes of the platform's cohort participants, by pseudonym. "
                     "Controlled access; human genetic resource information.",
                     Access.CONTROLLED, (("DUO:0000006", "health or medical or biomedical "
                                          "research"),)),
    "reference": ("Reference callset", "A public reference callset (e.g. 1000 Genomes).",
                  Access.PUBLIC, (("DUO:0000042", "general research use"),)),
}


class VariantIndex:
    """The store's variant table sorted by (chromosome, position), built once.

    A query's chromosome and position range become two ``np.searchsorted`` calls on one
    int64 key (chromosome code << 32 | position); only the few candidate rows in that
    span are compared on their bases. :meth:`rows` answers with row positions in the
    variant table, ascending (the store's order), so a selection is the same as filtering
    the whole table.
    """

    _POS_BITS = 32

    def __init__(self, variants: pd.DataFrame) -> None:
        self.frame = variants.reset_index(drop=True)
        chroms = self.frame["chrom"].astype(str).to_numpy()
        names, codes = np.unique(chroms, return_inverse=True)
        self._codes = {str(name): i for i, name in enumerate(names)}
        pos = self.frame["pos"].to_numpy(dtype=np.int64)
        if len(pos) and (pos.min() < 0 or pos.max() >= 1 << self._POS_BITS):
            raise UserError("A variant position is out of range", where="genotype store",
                            hint="Positions must lie in 0..2^32-1.")
        key = (codes.astype(np.int64) << self._POS_BITS) | pos
        order = np.argsort(key, kind="stable")
        self._keys = key[order]
        self._order = order.astype(np.int64)
        self.ref = self.frame["ref"].to_numpy(dtype=object)
        self.alt = self.frame["alt"].to_numpy(dtype=object)
        self.variant_index = self.frame["variant_index"].to_numpy(dtype=np.int64)

    def __len__(self) -> int:
        return len(self.frame)

    def span(self, chrom: str, first: int | None, last: int | None) -> np.ndarray:
        """Rows on ``chrom`` with ``first <= pos <= last`` (None: unbounded), ascending."""
        code = self._codes.get(chrom)
        top = (1 << self._POS_BITS) - 1
        lo = 0 if first is None else max(int(first), 0)
        hi = top if last is None else min(int(last), top)
        if code is None or lo > hi:
            return np.empty(0, dtype=np.int64)
        base = code << self._POS_BITS
        a = int(np.searchsorted(self._keys, base | lo, side="left"))
        b = int(np.searchsorted(self._keys, base | hi, side="right"))
        return np.sort(self._order[a:b])

    def rows(self, q: VariantQuery, loci: pd.DataFrame | None = None) -> np.ndarray:
        """Rows matching a position (or the gene ``loci``) and the bases and type asked."""
        if loci is not None:
            spans = [self.span(str(locus.chrom), int(locus.start), int(locus.end))
                     for locus in loci.itertuples()]
            rows = np.unique(np.concatenate(spans)) if spans else np.empty(0, np.int64)
        else:
            rows = self.span(q.chrom, q.first, q.last)
        if q.ref is not None and len(rows):
            rows = rows[self._bases(self.ref, rows, q.ref)]
        if q.alt is not None and len(rows):
            rows = rows[self._bases(self.alt, rows, q.alt)]
        if q.variant_type is not None and len(rows):
            keep = [_type_matches(models.variant_type_of(r, a), r, a, q.variant_type)
                    for r, a in zip(self.ref[rows], self.alt[rows], strict=True)]
            rows = rows[np.array(keep, dtype=bool)]
        return rows

    @staticmethod
    def _bases(column: np.ndarray, rows: np.ndarray, want: str) -> np.ndarray:
        have = column[rows]
        if "N" not in want:  # no wildcard: the bases match exactly
            return np.array([h == want for h in have], dtype=bool)
        return np.array([_bases_match(h, want) for h in have], dtype=bool)


def _publishable(carriers: np.ndarray, policy: Policy) -> np.ndarray:
    """Per variant: whether its carrier count passes :func:`protect_count`."""
    values = np.unique(carriers)
    allowed = [v for v in values if protect_count(int(v), policy=policy) is not None]
    return np.isin(carriers, np.asarray(allowed, dtype=carriers.dtype))


@dataclass
class BeaconSource:
    """What the beacon answers from: a genotype store and labelled samples.

    Built once per source (so once per server process): the :class:`VariantIndex`, each
    dataset's sample rows, and each dataset's carrier count per variant over all of its
    samples (one pass of the store's counting kernel), with whether that count may be
    published. An unfiltered boolean or count query then reads no genotypes at all.
    """

    store: Any  # precimed.genomics.GenotypeStore
    policy: Policy
    datasets: dict[str, DatasetInfo]
    samples: pd.DataFrame  # label_samples() of every dataset
    cohorts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["pseudonym", "cohort"]))
    index: VariantIndex = field(init=False, repr=False)
    _frequencies: tuple[int, PopulationFrequencies] | None = field(
        init=False, repr=False, default=None)
    _frequencies_lock: threading.Lock = field(init=False, repr=False,
                                              default_factory=threading.Lock)
    _dataset_samples: dict[str, pd.DataFrame] = field(init=False, repr=False)
    _carriers: dict[str, np.ndarray] = field(init=False, repr=False)
    _publishable: dict[str, np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = VariantIndex(self.store.variants())
        self._dataset_samples = {name: self.samples[self.samples["dataset"] == name]
                                 for name in self.datasets}
        self._carriers, self._publishable = {}, {}
        for name, samples in self._dataset_samples.items():
            carriers = self._count_carriers(self.index.variant_index, samples)
            self._carriers[name] = carriers
            self._publishable[name] = _publishable(carriers, self.policy)

    def _count_carriers(self, variant_indices: np.ndarray, samples: pd.DataFrame
                        ) -> np.ndarray:
        if not len(variant_indices) or not len(samples):
            return np.zeros(len(variant_indices), dtype=np.int64)
        counts = self.store.counts(variant_indices, samples["sample_index"].to_numpy())
        return counts["het"] + counts["hom_alt"]

    def carriers(self, dataset: str, rows: np.ndarray, query: BeaconQuery
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Carriers of the variants at ``rows`` among the dataset's samples matching the
        query's filters, and whether each count may be published."""
        if not query.filters:
            return self._carriers[dataset][rows], self._publishable[dataset][rows]
        carriers = self._count_carriers(self.index.variant_index[rows],
                                        self.matching_samples(dataset, query))
        return carriers, _publishable(carriers, self.policy)

    @classmethod
    def open(cls, store_path: Path, *, policy: Policy,
             participants: pd.DataFrame | None = None,
             datasets: dict[str, DatasetInfo] | None = None,
             duo: Mapping[str, tuple[tuple[str, str], ...]] | None = None) -> BeaconSource:
        """``participants`` (pseudonym, sex, native_province, cohort) from a release
        labels the participant samples and gives cohort sizes; ``duo`` gives a dataset's
        data-use conditions (DUO ID, label) as its catalogue entry sets them."""
        from precimed.genomics import GenotypeStore

        store = GenotypeStore.open(store_path)
        return cls.from_store(store, policy=policy, participants=participants,
                              datasets=datasets, duo=duo)

    @classmethod
    def from_store(cls, store: Any, *, policy: Policy,
                   participants: pd.DataFrame | None = None,
                   datasets: dict[str, DatasetInfo] | None = None,
                   duo: Mapping[str, tuple[tuple[str, str], ...]] | None = None,
                   ) -> BeaconSource:
        kinds = {d["name"]: d.get("kind", "reference") for d in store.meta["datasets"]}
        info = dict(datasets or {})
        for name, kind in kinds.items():
            if name not in info:
                title, text, access, default = _DEFAULT_INFO.get(kind,
                                                                 _DEFAULT_INFO["reference"])
                # the catalogue's conditions when the dataset has an entry with some;
                # the kind's default (HMB for participants, GRU for a reference) else
                conditions = (duo or {}).get(name) or default
                info[name] = DatasetInfo(name, f"{title} ({name})", text, access, kind,
                                         conditions)
        labelled = pd.concat([label_samples(store.samples(d), participants)
                              for d in store.datasets], ignore_index=True)
        cohorts = (participants[["pseudonym", "cohort"]] if participants is not None
                   and "cohort" in participants else None)
        return cls(store, policy, info, labelled,
                   cohorts if cohorts is not None else pd.DataFrame(
                       columns=["pseudonym", "cohort"]))

    @property
    def build(self) -> str:
        return self.store.build

    def populations(self) -> dict[str, str]:
        rows = self.samples[self.samples["population"] != UNKNOWN]
        return dict(zip(rows["population"], rows["super_population"], strict=True))

    def chosen(self, query: BeaconQuery) -> list[DatasetInfo]:
        unknown = [d for d in query.datasets if d not in self.datasets]
        if unknown:
            raise NotFound(f"No dataset {unknown[0]!r}", where="datasetIds",
                           hint="Datasets: " + ", ".join(self.datasets))
        return [self.datasets[d] for d in (query.datasets or self.datasets)]

    def matching_samples(self, dataset: str, query: BeaconQuery) -> pd.DataFrame:
        rows = self._dataset_samples[dataset]
        for f in query.filters:
            rows = rows[rows[f.column] == f.value]
        return rows

    def variant_rows(self, q: VariantQuery) -> np.ndarray:
        """Rows of the variant table (ascending) that a g_variants query selects."""
        if q.build is not None and q.build != self.build:
            return np.empty(0, dtype=np.int64)
        if q.gene is not None:
            return self.index.rows(q, loci=gene_loci(q.gene, build=self.build))
        if q.chrom is None:
            raise UserError("A g_variants query needs a position or a gene",
                            where="requestParameters",
                            hint="Give referenceName and start (and alternateBases or end), "
                                 "or geneId.")
        return self.index.rows(q)

    def find_variants(self, q: VariantQuery) -> pd.DataFrame:
        return self.index.frame.iloc[self.variant_rows(q)].reset_index(drop=True)

    def rows_or_all(self, q: VariantQuery) -> np.ndarray:
        """Like :meth:`variant_rows`, but a query without a position or gene selects every
        variant (of the build asked): the variants of one person need no position."""
        if q.empty:
            if q.build is not None and q.build != self.build:
                return np.empty(0, dtype=np.int64)
            return np.arange(len(self.index), dtype=np.int64)
        return self.variant_rows(q)

    def dosage(self, rows: np.ndarray, samples: pd.DataFrame) -> np.ndarray:
        """ALT allele counts, samples x variants (-1 missing), of the variants at ``rows``."""
        if not len(rows) or samples.empty:
            return np.zeros((len(samples), len(rows)), dtype=np.int8)
        return np.asarray(self.store.genotypes(
            variant_indices=self.index.variant_index[rows],
            sample_indices=samples["sample_index"].to_numpy()))

    def frequencies(self, summary: Path) -> PopulationFrequencies | None:
        """The reference summary at ``summary`` joined to this source's variants, or None
        if there is none. Joined once, and again when the summary is rewritten."""
        manifest = summary / "manifest.json"
        try:
            stamp = manifest.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        with self._frequencies_lock:
            if self._frequencies is None or self._frequencies[0] != stamp:
                self._frequencies = (stamp, PopulationFrequencies.open(summary,
                                                                       self.index.frame))
            return self._frequencies[1]


def _bases_match(have: str, want: str) -> bool:
    return len(have) == len(want) and all(w in ("N", h) for h, w in zip(have, want,
                                                                          strict=True))


def _type_matches(kind: str, ref: str, alt: str, wanted: str) -> bool:
    if wanted == "DEL":
        return len(ref) > len(alt)
    if wanted == "INS":
        return len(alt) > len(ref)
    return kind == wanted


log = logging.getLogger("precimed.beacon")


class LiveSource:
    """The Beacon's source as the genotype store and the releases change under a running
    server (a dataset published from the web, a new release).

    ``stamp()`` names the state the source was built from (e.g. the store's ``store.json``
    modification time and the newest release); it is looked at no more than once every
    ``every`` seconds, so the hot path pays one clock read. When it changes, ``build()``
    runs in a background thread and replaces :attr:`current` when done; requests in the
    meantime are answered from the previous source. A failed build is logged and
    retried at the next change.
    """

    def __init__(self, build: Callable[[], BeaconSource | None],
                 stamp: Callable[[], Hashable], *, every: float = 2.0) -> None:
        self._build, self._stamp, self._every = build, stamp, every
        self._key = stamp()
        self.current: BeaconSource | None = build()
        self._checked = time.monotonic()
        self._building = threading.Lock()

    def get(self) -> BeaconSource | None:
        now = time.monotonic()
        if now - self._checked >= self._every:
            self._checked = now
            key = self._stamp()
            if key != self._key and self._building.acquire(blocking=False):
                threading.Thread(target=self._rebuild, args=(key,), name="beacon-rebuild",
                                 daemon=True).start()
        return self.current

    def _rebuild(self, key: Hashable) -> None:
        try:
            self.current = self._build()
            self._key = key
        except Exception:  # the previous source keeps answering
            log.exception("rebuilding the beacon's source failed; still serving the "
                          "previous one")
            self._key = key
        finally:
            self._building.release()
