"""``frequencyInPopulations`` of Beacon g_variants records, from the reference summary.

The summary (``precimed.reference.frequencies.write_summary``, under HOME/reference) holds
allele frequencies by dataset and population group as published through disclosure
control. :class:`PopulationFrequencies` joins its variants to the Beacon's on (chrom,
pos, ref, alt, build), never on ``variant_index``: the summary may be older than the
genotype store, and a variant it does not hold simply has no frequencies.

One ``frequencyInPopulations`` entry per dataset, one ``frequencies`` item per published
group: everyone (``All``), then each stratum's groups under readable names (1000 Genomes
super-populations and populations, programme regions and provinces, sex). Only published
values are used: a group whose cells are suppressed is left out (``alleleFrequency`` is
required by the schema, so it cannot be shown empty), a withheld hom-alt count leaves out
``alleleCountHomozygous`` alone, and a dataset with no published group has no entry
(``frequencies`` has ``minItems: 1``). Beside the required ``population`` and
``alleleFrequency``, items carry ``alleleCount``, ``alleleNumber`` and
``alleleCountHomozygous``: the names the GA4GH GDI allele-frequency Beacons use; the v2.0
model does not close the item object, so they validate. Frequencies are of the whole
dataset, whatever filters the query had.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from precimed.deid import Policy
from precimed.reference import ReferenceDatabase
from precimed.reference.frequencies import TOTAL, UNKNOWN
from precimed.reference.genes import RegionTerm
from precimed.standard import PROVINCES, REGIONS, SEX
from precimed.standard.populations import POPULATIONS_1KG, SUPER_POPULATIONS_1KG

KEY = ["chrom", "pos", "ref", "alt", "build"]
_WHOLE_CHROMOSOME = (0, (1 << 32) - 1)

_UNKNOWN_NAMES = {"sex": "Sex not recorded", "province": "Native province not recorded",
                  "region": "No programme region", "population": "Population not recorded",
                  "super_population": "Super-population not recorded"}


def population_name(stratum: str, group: str) -> str:
    """A readable name for one published group, e.g. ``East Asian (EAS)``."""
    if stratum == TOTAL:
        return "All"
    if group == UNKNOWN:
        return _UNKNOWN_NAMES.get(stratum, f"{stratum} not recorded")
    if stratum == "sex":
        return SEX.codes[group][1].capitalize() if group in SEX.codes else f"Sex {group}"
    if stratum == "region" and group in REGIONS:
        return f"{REGIONS[group].en} ({REGIONS[group].zh})"
    if stratum == "province" and group in PROVINCES:
        return f"{PROVINCES[group].en} ({PROVINCES[group].zh})"
    names = {"super_population": SUPER_POPULATIONS_1KG,
             "population": POPULATIONS_1KG}.get(stratum, {})
    return f"{names[group][1]} ({group})" if group in names else group


class PopulationFrequencies:
    """A reference summary joined to a Beacon's variant table.

    ``summary_index[i]`` is the summary's ``variant_index`` of the Beacon's variant row
    ``i`` (-1: not in the summary). Lookups share one DuckDB connection, so they take
    turns (:attr:`_lock`).
    """

    def __init__(self, database: ReferenceDatabase, variants: pd.DataFrame) -> None:
        self.database = database
        self.summary_index = _join(database, variants)
        self._lock = threading.Lock()
        built = datetime.fromtimestamp((database.path / "manifest.json").stat().st_mtime, UTC)
        manifest = database.manifest
        self.version = (f"{manifest['format']}, standard {manifest['standard_version']}, "
                        f"built {built:%Y-%m-%d}")

    @classmethod
    def open(cls, path: Path, variants: pd.DataFrame) -> PopulationFrequencies:
        return cls(ReferenceDatabase.open(path), variants)

    def entries(self, rows: np.ndarray, *, datasets: list[Any], policy: Policy,
                root: str) -> list[list[dict[str, Any]]]:
        """Per Beacon variant row: its ``frequencyInPopulations`` entries, one per dataset
        of ``datasets`` (DatasetInfo) that the summary has published groups for.
        ``root`` is the Beacon's URL, for each entry's ``sourceReference``."""
        indices = self.summary_index[np.asarray(rows, dtype=np.int64)]
        known = [d for d in datasets if d.id in self.database.datasets]
        found = indices[indices >= 0]
        if not known or not found.size:
            return [[] for _ in indices]
        with self._lock:
            table = self.database.frequencies(np.unique(found).tolist(), policy=policy,
                                              datasets=[d.id for d in known])
        by_variant = {int(v): rows_ for v, rows_ in table.groupby("variant_index", sort=False)}
        return [self._entries(by_variant.get(int(i)), known, root) if i >= 0 else []
                for i in indices]

    def _entries(self, table: pd.DataFrame | None, datasets: list[Any], root: str
                 ) -> list[dict[str, Any]]:
        if table is None:
            return []
        out = []
        for dataset in datasets:
            items = frequency_items(table[table["dataset"] == dataset.id])
            if items:
                out.append({"source": f"precimed reference summary: {dataset.name}",
                            "sourceReference": f"{root}/datasets/{dataset.id}",
                            "version": self.version, "frequencies": items})
        return out


def frequency_items(published: pd.DataFrame) -> list[dict[str, Any]]:
    """One dataset's published groups of one variant as ``frequencies`` items: everyone
    first, then each stratum in the summary's order; suppressed groups left out."""
    order = {s: i for i, s in enumerate(dict.fromkeys([TOTAL, *published["stratum"]]))}
    ranked = published.assign(_rank=published["stratum"].map(order))
    items = []
    for row in ranked.sort_values(["_rank", "group"], kind="stable").itertuples(index=False):
        if bool(row.suppressed) or pd.isna(row.allele_frequency):
            continue
        item = {"population": population_name(row.stratum, row.group),
                "alleleFrequency": float(row.allele_frequency),
                "alleleCount": int(row.allele_count), "alleleNumber": int(row.allele_number)}
        if not pd.isna(row.hom_alt):
            item["alleleCountHomozygous"] = int(row.hom_alt)
        items.append(item)
    return items


def _join(database: ReferenceDatabase, variants: pd.DataFrame) -> np.ndarray:
    """The summary's variant_index of each row of ``variants`` (-1 where absent)."""
    chroms = sorted(variants["chrom"].astype(str).unique())
    first, last = _WHOLE_CHROMOSOME
    found = [database.find(RegionTerm(chrom, first, last)) for chrom in chroms]
    summary = (pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=KEY))
    if summary.empty:
        return np.full(len(variants), -1, dtype=np.int64)
    left = variants[KEY].reset_index(drop=True).astype({"chrom": str, "pos": np.int64})
    right = summary[[*KEY, "variant_index"]].astype({"chrom": str, "pos": np.int64})
    right = right.drop_duplicates(KEY).rename(columns={"variant_index": "summary_index"})
    joined = left.merge(right, on=KEY, how="left", sort=False)
    return joined["summary_index"].fillna(-1).to_numpy(dtype=np.int64)
