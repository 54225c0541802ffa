"""frequencyInPopulations from the reference summary: joined on the variant (not its
index), published values only, suppressed groups left out, readable population names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from precimed.deid import Policy
from precimed.discovery.granularity import Access
from precimed.discovery.populations import (
    PopulationFrequencies,
    frequency_items,
    population_name,
)
from precimed.discovery.source import DatasetInfo
from precimed.genomics import GenotypeStore
from precimed.reference import ReferenceDatabase
from precimed.reference.frequencies import write_summary
from unit.reference.small_store import build_small_store

POLICY = Policy(10)
DATASETS = [DatasetInfo("precimed", "Participants", "", Access.CONTROLLED, "participants"),
            DatasetInfo("1000G", "Reference", "", Access.PUBLIC, "reference")]


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    root = tmp_path_factory.mktemp("populations")
    small = build_small_store(root / "store")
    store = GenotypeStore.open(small.path)
    write_summary(store, root / "reference", policy=POLICY)
    return root / "reference", store.variants()


def _newer_store(variants: pd.DataFrame) -> pd.DataFrame:
    """The store after another ingest: renumbered, reordered, one variant more, and one
    position typed on another build."""
    renumbered = variants.assign(variant_index=variants["variant_index"] + 100).iloc[::-1]
    extra = pd.DataFrame([{"variant_index": 7, "chrom": "3", "pos": 10, "ref": "A",
                           "alt": "G", "rsid": None, "build": "GRCh38"},
                          {**variants.iloc[0].to_dict(), "variant_index": 8,
                           "build": "GRCh37"}])
    return pd.concat([renumbered, extra], ignore_index=True)


def test_the_summary_is_joined_on_the_variant_not_its_index(summary):
    path, variants = summary
    found = PopulationFrequencies.open(path, _newer_store(variants))
    expected = [*variants["variant_index"].tolist()[::-1], -1, -1]
    assert found.summary_index.tolist() == expected


def test_entries_hold_the_published_groups_only(summary):
    path, variants = summary
    newer = _newer_store(variants)
    found = PopulationFrequencies.open(path, newer)
    first = len(variants) - 1  # the newer store's row of the summary's variant 0
    entries = found.entries(np.array([first, len(newer) - 2]), datasets=DATASETS,
                            policy=POLICY, root="https://beacon.test")
    assert entries[1] == []  # not in the summary: no frequencies
    published = ReferenceDatabase.open(path).frequencies([0], policy=POLICY)
    by_source = {e["sourceReference"]: e for e in entries[0]}
    assert set(by_source) == {"https://beacon.test/datasets/precimed",
                              "https://beacon.test/datasets/1000G"}
    for dataset in ("precimed", "1000G"):
        rows = published[published["dataset"] == dataset]
        shown = rows[~rows["suppressed"] & rows["allele_frequency"].notna()]
        items = by_source[f"https://beacon.test/datasets/{dataset}"]["frequencies"]
        assert items[0]["population"] == "All"
        assert {i["population"] for i in items} == {
            population_name(r.stratum, r.group) for r in shown.itertuples()}
        for item, row in zip(items, frequency_items(rows), strict=True):
            assert item == row
        for row in shown.itertuples():
            item = next(i for i in items
                        if i["population"] == population_name(row.stratum, row.group))
            assert item["alleleFrequency"] == pytest.approx(float(row.allele_frequency),
                                                            abs=1e-9)
            assert (item["alleleCount"], item["alleleNumber"]) == (
                int(row.allele_count), int(row.allele_number))
    # Beijing natives (province 11) are fewer than the threshold: suppressed, left out
    hidden = published[(published["dataset"] == "precimed") & published["suppressed"]]
    assert ("province", "11") in set(zip(hidden["stratum"], hidden["group"], strict=True))
    names = {i["population"] for i in
             by_source["https://beacon.test/datasets/precimed"]["frequencies"]}
    assert population_name("province", "11") not in names


def test_no_dataset_asked_means_no_frequencies(summary):
    path, variants = summary
    found = PopulationFrequencies.open(path, variants)
    assert found.entries(np.array([0, 1]), datasets=[], policy=POLICY, root="x") == [[], []]


@pytest.mark.parametrize(("stratum", "group", "name"), [
    ("all", "all", "All"), ("super_population", "EAS", "East Asian (EAS)"),
    ("population", "CHB", "Han Chinese in Beijing, China (CHB)"), ("sex", "2", "Female"),
    ("region", "east", "East China (华东)"), ("sex", "unknown", "Sex not recorded"),
    ("population", "XYZ", "XYZ")])
def test_population_names_are_readable(stratum, group, name):
    assert population_name(stratum, group) == name
