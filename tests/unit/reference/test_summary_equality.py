"""The scaled reference summary equals the implementation it replaced, exactly.

``build_summary`` now counts per sample cell from the packed rows and ``publish`` works
on blocks of variants; both are held here to the previous code, kept verbatim below as
the reference (dense int8 genotypes times a membership matrix; disclosure control one
variant at a time). Inputs are random: X and Y inside and outside the PARs (both
builds), missing calls, a dataset that did not type some variants, unknown and
non-standard labels; and several thousand random summaries whose cells are often small.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from precimed.deid import Policy, protect_counts
from precimed.genomics import GenotypeStore
from precimed.genomics.alleles import _PAR, count_alleles
from precimed.genomics.kernels import (
    MISSING,
    count_cells,
    count_cells_numpy,
    pack,
)
from precimed.genomics.store import DatasetFiles
from precimed.reference import Layout, build_summary, label_samples, publish
from precimed.reference.frequencies import (
    COUNT_COLUMNS,
    PARTICIPANT_TABLES,
    REFERENCE_TABLES,
    TOTAL,
    UNKNOWN,
    Groups,
    dataset_kind,
    layout_of,
)


# -- the previous implementation (the reference) -----------------------------------------
def reference_haploid_mask(variants: pd.DataFrame, male: np.ndarray) -> np.ndarray:
    sex_chrom = variants["chrom"].isin(["X", "Y"]).to_numpy()
    outside = sex_chrom.copy()
    for i in np.flatnonzero(sex_chrom):
        row = variants.iloc[i]
        pars = _PAR.get(str(row["build"]), _PAR["GRCh38"])[row["chrom"]]
        outside[i] = not any(a <= int(row["pos"]) <= b for a, b in pars)
    return outside[:, None] & male[None, :]


def reference_summary(store, *, participants=None, chunk_variants=2_000) -> pd.DataFrame:
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
            genotypes = np.asarray(store.genotypes(variant_indices=indices,
                                                   sample_indices=sample_indices)).T
            counts = count_alleles(genotypes, reference_haploid_mask(chunk, male),
                                   groups.membership)
            n_groups = len(groups.labels)
            frame = pd.DataFrame({
                "variant_index": np.repeat(indices, n_groups), "dataset": dataset,
                "stratum": np.tile(np.array(groups.strata, dtype=object), len(indices)),
                "group": np.tile(np.array(groups.labels, dtype=object), len(indices))})
            for name, values in counts.items():
                frame[name] = values.reshape(-1)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


_MARGIN = "__margin__"


def reference_publish(summary: pd.DataFrame, *, layouts, policy: Policy) -> pd.DataFrame:
    parts = [_publish_one(rows.reset_index(drop=True), layouts[dataset], policy)
             for (_, dataset), rows in summary.groupby(["variant_index", "dataset"],
                                                       sort=False)]
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
    return _published_rows(rows, cell_hidden, hom_hidden | cell_hidden, policy)


def _hidden_in(rows, table, column, layout, policy) -> np.ndarray:
    members = rows["stratum"].isin([TOTAL, *table]).to_numpy()
    if not any(policy.is_small(int(v)) for v in rows.loc[members, column]):
        return np.zeros(len(rows), dtype=bool)
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


def _published_rows(rows, cell_hidden, hom_hidden, policy) -> pd.DataFrame:
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


# -- the packed cell kernel --------------------------------------------------------------
@pytest.mark.parametrize("n_samples", [1, 31, 32, 33, 129, 1000])
def test_cell_counts_equal_a_direct_count(n_samples):
    rng = np.random.default_rng(n_samples)
    codes = rng.integers(0, 4, (30, n_samples))
    codes[4] = 0  # an all hom-REF row: every word skipped
    packed = pack(codes)
    rows = rng.integers(-1, 30, 40)  # -1: not typed, so every call missing
    cell_of = rng.integers(0, 6, n_samples)
    got = count_cells(packed, rows, cell_of, 6)
    np.testing.assert_array_equal(got, count_cells_numpy(packed, rows, cell_of, 6))
    for i, r in enumerate(rows):
        for c in range(6):
            calls = (codes[r, cell_of == c] if r >= 0
                     else np.full((cell_of == c).sum(), MISSING))
            assert got[i, c].tolist() == [(calls == k).sum() for k in (1, 2, 3)], (i, c)


# -- build_summary -----------------------------------------------------------------------
PROVINCES = ["11", "31", "32", "33", "44", "45", "61", "54", None, "", "99"]  # 11, 99: no region
SEXES = ["1", "2", "男", "女", "F", None, "9"]
POPULATIONS = {"CHB": "EAS", "CHS": "EAS", "JPT": "EAS", "GBR": "EUR", "YRI": "AFR"}


def _variants(rng: np.random.Generator, build: str, n: int) -> pd.DataFrame:
    chroms, positions = [], []
    for chrom in ("X", "Y"):  # both ends of each PAR, just inside and just outside
        for a, b in _PAR[build][chrom]:
            chroms += [chrom] * 6
            positions += [a - 1, a, (a + b) // 2, b, b + 1, b + 1_000]
    extra = n - len(chroms)
    chroms += list(rng.choice(["1", "2", "X", "Y", "MT"], size=extra))
    positions += list(rng.integers(1, 160_000_000, size=extra))
    frame = pd.DataFrame({"chrom": chroms, "pos": np.asarray(positions, dtype=np.int64),
                          "ref": "A", "alt": "G", "rsid": None})
    return frame.drop_duplicates(["chrom", "pos"]).reset_index(drop=True)


def _codes(rng: np.random.Generator, n_variants: int, n_samples: int) -> np.ndarray:
    p = rng.choice([0.0, 0.002, 0.02, 0.2, 0.5], size=n_variants)[:, None]
    g = rng.binomial(2, p, size=(n_variants, n_samples)).astype(np.uint8)
    g[rng.random(g.shape) < rng.choice([0.0, 0.01, 0.3], size=n_variants)[:, None]] = MISSING
    return g


def random_store(path, *, seed: int, build: str) -> pd.DataFrame:
    """A store with a participant and a reference dataset; returns a lake-like override."""
    rng = np.random.default_rng(seed)
    variants = _variants(rng, build, 120)
    n_people, n_ref = int(rng.integers(200, 700)), int(rng.integers(40, 200))
    people = pd.DataFrame({
        "sample_id": [f"P{seed}-{i}" for i in range(n_people)], "population": None,
        "super_population": None, "sex": rng.choice(np.array(SEXES, dtype=object), n_people),
        "native_province": rng.choice(np.array(PROVINCES, dtype=object), n_people),
        "region": None})
    pops = rng.choice([*POPULATIONS, None], n_ref)
    reference = pd.DataFrame({
        "sample_id": [f"HG{i:05d}" for i in range(n_ref)], "population": pops,
        "super_population": [POPULATIONS.get(p) for p in pops],
        "sex": rng.choice(np.array(["1", "2", None], dtype=object), n_ref),
        "native_province": None, "region": None})
    typed = variants.sample(frac=0.8, random_state=seed).sort_index()  # reference: a subset
    for name, kind, samples, rows in (("precimed", "participants", people, variants),
                                      ("1000G", "reference", reference, typed)):
        GenotypeStore.write_dataset(path, DatasetFiles(
            name, kind, samples, rows.reset_index(drop=True),
            pack(_codes(rng, len(rows), len(samples))), build, {"test": True}))
    chosen = rng.random(n_people) < 0.3  # the lake relabels some participants
    return pd.DataFrame({"pseudonym": people["sample_id"][chosen],
                         "sex": rng.choice(["男", "女", None], chosen.sum()),
                         "native_province": rng.choice(["61", "65", None], chosen.sum())})


@pytest.mark.parametrize(("seed", "build"), [(1, "GRCh38"), (2, "GRCh37"), (3, "GRCh38"),
                                             (4, "GRCh37")])
def test_build_summary_equals_the_dense_reference(tmp_path, seed, build):
    lake = random_store(tmp_path / "store", seed=seed, build=build)
    store = GenotypeStore.open(tmp_path / "store")
    for participants in (None, lake):
        got = build_summary(store, participants=participants, chunk_variants=37)
        want = reference_summary(store, participants=participants, chunk_variants=37)
        pd.testing.assert_frame_equal(got, want)
    hemizygous_males = got[(got.stratum == "sex") & (got.group == "1")
                           & (got.allele_number == got.called) & (got.called > 0)]
    assert len(hemizygous_males)  # the data did exercise the haploid path


# -- publish -----------------------------------------------------------------------------
P_PROVINCES = {"31": "east", "32": "east", "33": "east", "44": "south", "45": "south",
               "61": "northwest", "11": UNKNOWN, UNKNOWN: UNKNOWN}


def random_summary(rng: np.random.Generator, n_variants: int, *, kind: str,
                   dataset: str) -> tuple[pd.DataFrame, Layout]:
    """Counts summed from random cells (so margins add up), often small."""
    if kind == "participants":
        fine, coarse = list(P_PROVINCES), list(P_PROVINCES.values())
        cells = pd.DataFrame({"province": np.repeat(fine, 3), "region": np.repeat(coarse, 3),
                              "sex": ["1", "2", UNKNOWN] * len(fine)})
        tables = PARTICIPANT_TABLES
    else:
        pops = ["CHB", "CHS", "GBR", "YRI", UNKNOWN]
        supers = [POPULATIONS.get(p, UNKNOWN) for p in pops]
        cells = pd.DataFrame({"population": np.repeat(pops, 2),
                              "super_population": np.repeat(supers, 2),
                              "sex": ["1", "2"] * len(pops)})
        tables = REFERENCE_TABLES
    groups = Groups.of(cells, tables)
    layout = layout_of(cells, kind=kind)
    n_cells = len(cells)
    scale = rng.choice([4, 15, 40, 300], size=(n_variants, 1))
    called = rng.integers(0, scale + 1, size=(n_variants, n_cells))
    called[rng.random(called.shape) < 0.15] = 0
    p = rng.choice([0.0, 0.003, 0.03, 0.2, 0.6], size=(n_variants, 1))
    carriers = rng.binomial(called, p)
    hom = rng.binomial(carriers, rng.choice([0.0, 0.1, 0.5], size=(n_variants, 1)))
    per_cell = {"allele_count": carriers + hom, "allele_number": 2 * called, "hom_alt": hom,
                "carriers": carriers, "called": called}
    weights = groups.membership.astype(np.int64)
    n_groups = len(groups.labels)
    frame = pd.DataFrame({
        "variant_index": np.repeat(np.arange(n_variants), n_groups), "dataset": dataset,
        "stratum": np.tile(np.array(groups.strata, dtype=object), n_variants),
        "group": np.tile(np.array(groups.labels, dtype=object), n_variants)})
    for name in COUNT_COLUMNS:
        frame[name] = (per_cell[name] @ weights).reshape(-1)
    return frame, layout


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "policy"), [(10, Policy(threshold=10)),
                                              (11, Policy(threshold=5, rounding=5)),
                                              (12, Policy(threshold=3, rounding=2))])
def test_publish_hides_exactly_what_the_per_variant_rule_hides(seed, policy):
    rng = np.random.default_rng(seed)
    participants, p_layout = random_summary(rng, 700, kind="participants", dataset="precimed")
    reference, r_layout = random_summary(rng, 400, kind="reference", dataset="1000G")
    summary = pd.concat([participants, reference], ignore_index=True)
    layouts = {"precimed": p_layout, "1000G": r_layout}
    got = publish(summary, layouts=layouts, policy=policy)
    want = reference_publish(summary, layouts=layouts, policy=policy)
    pd.testing.assert_frame_equal(got, want)
    hidden = got.groupby("variant_index")["suppressed"].any()
    assert 0.1 < hidden.mean() < 0.95  # both paths exercised: hidden and not
    assert got["hom_alt"].isna().sum() > got["suppressed"].sum()  # hom-alt alone withheld


def test_publish_keeps_the_order_of_rows_it_was_given():
    """Rows of one variant scattered and in another order: the output groups them in
    order of first appearance, each variant's rows in their given order (and ties in
    suppression are broken by that order, as protect_counts breaks them)."""
    rng = np.random.default_rng(7)
    summary, layout = random_summary(rng, 60, kind="participants", dataset="precimed")
    shuffled = summary.sample(frac=1.0, random_state=7).reset_index(drop=True)
    # a province the layout does not nest falls in the coarse group "unknown"
    layout = Layout(layout.tables, {"province": {p: r for p, r in P_PROVINCES.items()
                                                 if p != "45"}})
    policy = Policy(threshold=10)
    got = publish(shuffled, layouts={"precimed": layout}, policy=policy)
    want = reference_publish(shuffled, layouts={"precimed": layout}, policy=policy)
    pd.testing.assert_frame_equal(got, want)


def test_an_empty_summary_publishes_nothing():
    empty = pd.DataFrame(columns=["variant_index", "dataset", "stratum", "group",
                                  *COUNT_COLUMNS])
    out = publish(empty, layouts={}, policy=Policy())
    assert out.empty and "allele_frequency" in out and "suppressed" in out
