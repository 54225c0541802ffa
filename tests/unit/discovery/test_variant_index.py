"""The Beacon's sorted variant index and precomputed carrier counts give the same answers
as filtering the whole variant table and counting genotypes per request."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from precimed.deid import Policy
from precimed.discovery.models import BeaconQuery, VariantQuery, parse_filter
from precimed.discovery.source import BeaconSource, VariantIndex
from unit.reference.small_store import VARIANTS, build_small_store

CHROMS = ["1", "2", "10", "X", "MT", "GL000192.1"]


def random_variants(seed: int, n_sites: int = 600) -> pd.DataFrame:
    """Sites on a few chromosomes, crowded into a short span so that neighbouring
    positions and shared positions are common: SNVs, MNPs, deletions, insertions, and
    multi-allelic sites split into biallelic rows (several ALTs, or REFs, at one pos)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_sites):
        chrom = str(rng.choice(CHROMS))
        pos = int(rng.integers(1, 400))
        ref = "".join(rng.choice(list("ACGT"), size=int(rng.choice([1, 1, 1, 2, 4]))))
        for _ in range(int(rng.choice([1, 1, 2, 3]))):  # ALT alleles at this site
            kind = rng.choice(["snv", "del", "ins"])
            if kind == "del" and len(ref) > 1:
                alt = ref[0]
            elif kind == "ins":
                alt = ref + "".join(rng.choice(list("ACGT"), size=int(rng.integers(1, 4))))
            else:
                alt = "".join(rng.choice(list("ACGT"), size=len(ref)))
            if alt != ref:
                rows.append((chrom, pos, ref, alt))
    frame = pd.DataFrame(rows, columns=["chrom", "pos", "ref", "alt"]).drop_duplicates()
    frame = frame.sample(frac=1, random_state=seed).reset_index(drop=True)  # unsorted
    frame.insert(0, "variant_index", np.arange(len(frame)))
    return frame


def reference_rows(frame: pd.DataFrame, q: VariantQuery) -> np.ndarray:
    """The plain whole-table filter, written independently of the index."""
    lo = -np.inf if q.first is None else q.first
    hi = np.inf if q.last is None else q.last
    keep = (frame["chrom"] == q.chrom) & (frame["pos"] >= lo) & (frame["pos"] <= hi)
    for column, want in (("ref", q.ref), ("alt", q.alt)):
        if want is not None:
            pattern = re.compile(want.replace("N", "[ACGTN]"))
            keep &= frame[column].map(lambda b, p=pattern: p.fullmatch(b) is not None)
    if q.variant_type is not None:
        r, a = frame["ref"].str.len(), frame["alt"].str.len()
        keep &= {"SNP": (r == 1) & (a == 1), "MNP": (r == a) & (r > 1),
                 "INDEL": r != a, "DEL": r > a, "INS": a > r}[q.variant_type]
    return np.flatnonzero(keep.to_numpy())


def random_queries(frame: pd.DataFrame, seed: int, n: int = 400) -> list[VariantQuery]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        row = frame.iloc[int(rng.integers(len(frame)))]
        kind = i % 8
        if kind == 0:  # an existing variant exactly
            out.append(VariantQuery(row.chrom, row.pos, row.pos, row.ref, row.alt))
        elif kind == 1:  # the site's other alleles are absent unless stored
            alt = str(rng.choice(["A", "C", "G", "T", row.ref + "T", row.ref[0]]))
            out.append(VariantQuery(row.chrom, row.pos, row.pos, row.ref, alt))
        elif kind == 2:  # neighbouring positions, mostly empty
            pos = int(row.pos + rng.choice([-1, 1, 2]))
            out.append(VariantQuery(row.chrom, pos, pos, row.ref, row.alt))
        elif kind == 3:  # ALT only (no REF), as a sequence query may ask
            out.append(VariantQuery(row.chrom, row.pos, row.pos, None, row.alt))
        elif kind == 4:  # wildcards
            ref = "N" * len(row.ref)
            alt = "".join("N" if rng.random() < 0.5 else b for b in row.alt)
            out.append(VariantQuery(row.chrom, row.pos, row.pos, ref, alt))
        elif kind == 5:  # ranges, with and without a type
            first = int(row.pos - rng.integers(0, 60))
            kind_of = rng.choice([None, "SNP", "MNP", "INDEL", "DEL", "INS"])
            out.append(VariantQuery(row.chrom, first, first + int(rng.integers(0, 120)),
                                    variant_type=None if kind_of is None else str(kind_of)))
        elif kind == 6:  # a chromosome with no variants, or a range past every position
            out.append(VariantQuery(str(rng.choice(["22", "Y"])), 1, 10_000, None, "A"))
            out.append(VariantQuery(row.chrom, 10_000, 2 ** 40, None, None))
        else:  # an empty range, and an open one
            out.append(VariantQuery(row.chrom, row.pos + 1, row.pos, None, None))
            out.append(VariantQuery(row.chrom, None, None, row.ref, None))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_index_equals_the_whole_table_filter(seed):
    frame = random_variants(seed)
    index = VariantIndex(frame)
    queries = random_queries(frame, seed)
    hits = 0
    for q in queries:
        got = index.rows(q)
        assert np.array_equal(got, reference_rows(frame, q)), q
        hits += len(got) > 0
    # the queries exercise both answers
    assert 0.2 * len(queries) < hits < 0.9 * len(queries)


def test_multi_allelic_sites_and_indels_are_told_apart():
    frame = pd.DataFrame({"variant_index": range(6), "chrom": ["1"] * 5 + ["2"],
                          "pos": [100, 100, 100, 100, 101, 100],
                          "ref": ["A", "A", "AT", "A", "A", "A"],
                          "alt": ["G", "C", "A", "AGG", "G", "G"]})
    index = VariantIndex(frame)

    def rows(ref, alt, pos=100, chrom="1"):
        return index.rows(VariantQuery(chrom, pos, pos, ref, alt)).tolist()

    assert rows("A", "G") == [0]
    assert rows("A", "C") == [1]
    assert rows("AT", "A") == [2]  # the deletion, not the SNVs at the same position
    assert rows("A", "AGG") == [3]
    assert rows("A", "T") == []
    assert rows("A", "G", pos=101) == [4]
    assert rows("A", "G", chrom="2") == [5]
    assert rows("N", "N") == [0, 1]
    assert rows(None, "NNN") == [3]
    assert index.rows(VariantQuery("1", 100, 100, variant_type="DEL")).tolist() == [2]
    assert index.rows(VariantQuery("1", 100, 100, variant_type="INS")).tolist() == [3]
    assert index.rows(VariantQuery("1", 99, 101)).tolist() == [0, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return build_small_store(tmp_path_factory.mktemp("index") / "store")


@pytest.fixture(scope="module")
def source(small):
    return BeaconSource.open(small.path, policy=Policy(10))


def test_find_variants_equals_the_table_filter_on_a_store(small, source):
    table = source.store.variants()
    for q in random_queries(table, 7, n=80):
        expected = table.iloc[reference_rows(table, q)].reset_index(drop=True)
        pd.testing.assert_frame_equal(source.find_variants(q), expected)


def written_order(source: BeaconSource) -> np.ndarray:
    """For each store variant row, its row in the small store's VARIANTS table."""
    key = ["chrom", "pos", "ref", "alt"]
    written = VARIANTS[key].reset_index().rename(columns={"index": "written"})
    return source.index.frame[key].merge(written, on=key, how="left")["written"].to_numpy()


@pytest.mark.parametrize("terms", [(), ("NCIT:C16576",), ("province:31",),
                                   ("population:GBR", "NCIT:C20197")])
def test_precomputed_carriers_equal_counting_the_genotypes(small, source, terms):
    rows = np.arange(len(source.index))
    filters = tuple(parse_filter(t) for t in terms)
    query = BeaconQuery(filters=filters)
    counted = 0
    for dataset in source.datasets:
        carriers, publishable = source.carriers(dataset, rows, query)
        people = source.samples[source.samples["dataset"] == dataset]
        for f in filters:
            people = people[people[f.column] == f.value]
        # the small store's genotypes as written (variants x samples, -1 missing, in
        # VARIANTS order), put in the store's variant order
        g = small.genotypes[dataset][written_order(source)]
        everyone = source.samples.loc[source.samples["dataset"] == dataset, "sample_index"]
        chosen = people["sample_index"].to_numpy() - int(everyone.min())
        counted += len(chosen)
        expected = (g[:, chosen] > 0).sum(axis=1)
        assert carriers.tolist() == expected.tolist()
        assert publishable.tolist() == [not 0 < c < 10 for c in expected]
    assert counted > 0  # the filters select someone
    assert (source.carriers("precimed", rows, BeaconQuery())[0] == 3).any()  # the rare one
