"""Sub-population disclosure: a small cell and the cells it could be derived from are hidden."""

from __future__ import annotations

import pandas as pd

from precimed.deid import Policy
from precimed.reference import Layout, publish
from precimed.reference.frequencies import PARTICIPANT_TABLES, REFERENCE_TABLES

POLICY = Policy(threshold=10)
PARTICIPANTS = Layout(PARTICIPANT_TABLES, {"province": {"31": "east", "32": "east",
                                                        "44": "south"}})


def summary(cells: dict[tuple[str, str], tuple[int, int, int]]) -> pd.DataFrame:
    """Rows from {(stratum, group): (carriers, called, hom_alt)}; AC = carriers + hom."""
    rows = [{"variant_index": 0, "dataset": "precimed", "stratum": s, "group": g,
             "allele_count": c + h, "allele_number": 2 * n, "hom_alt": h, "carriers": c,
             "called": n} for (s, g), (c, n, h) in cells.items()]
    return pd.DataFrame(rows)


def participant_cells(c31: int, c32: int, c44: int, *, male: int, hom: int = 0):
    """Three provinces of 100 people each; all counts add up."""
    total = c31 + c32 + c44
    return {("all", "all"): (total, 300, hom), ("region", "east"): (c31 + c32, 200, hom),
            ("region", "south"): (c44, 100, 0), ("province", "31"): (c31, 100, hom),
            ("province", "32"): (c32, 100, 0), ("province", "44"): (c44, 100, 0),
            ("sex", "1"): (male, 150, 0), ("sex", "2"): (total - male, 150, hom)}


def shown(frame: pd.DataFrame) -> dict[tuple[str, str], int | None]:
    return {(r.stratum, r.group): (None if pd.isna(r.allele_count) else int(r.allele_count))
            for r in frame.itertuples()}


def test_large_cells_are_published_exactly():
    raw = summary(participant_cells(40, 50, 60, male=70))
    out = publish(raw, layouts={"precimed": PARTICIPANTS}, policy=POLICY)
    assert not out["suppressed"].any()
    assert out["allele_count"].tolist() == raw["allele_count"].tolist()
    assert out["allele_frequency"].tolist() == (raw["allele_count"]
                                                / raw["allele_number"]).round(6).tolist()


def test_a_small_province_and_its_complement_in_the_region_are_hidden():
    out = publish(summary(participant_cells(3, 50, 60, male=70)),
                  layouts={"precimed": PARTICIPANTS}, policy=POLICY)
    cells = shown(out)
    assert cells[("province", "31")] is None
    # east minus 32 would give 31 back: one of them must be hidden too
    assert cells[("region", "east")] is None or cells[("province", "32")] is None
    hidden = out[out["suppressed"]]
    withheld = ["allele_count", "allele_number", "allele_frequency", "hom_alt"]
    assert hidden[withheld].isna().all().all()
    # the sex table does not reveal the province, so it stays published
    assert cells[("sex", "1")] is not None and cells[("all", "all")] is not None


def test_no_hidden_cell_can_be_recovered_from_the_published_sums():
    out = publish(summary(participant_cells(3, 50, 60, male=5)),
                  layouts={"precimed": PARTICIPANTS}, policy=POLICY)
    cells = shown(out)
    relations = [(("all", "all"), [("sex", "1"), ("sex", "2")]),
                 (("all", "all"), [("region", "east"), ("region", "south")]),
                 (("region", "east"), [("province", "31"), ("province", "32")]),
                 (("region", "south"), [("province", "44")])]
    for total, parts in relations:
        members = [total, *parts]
        assert sum(cells[m] is None for m in members) != 1, (total, parts, cells)
    assert cells[("sex", "1")] is None and cells[("province", "31")] is None


def test_a_zero_is_published_and_hides_nothing():
    out = publish(summary(participant_cells(0, 50, 60, male=55)),
                  layouts={"precimed": PARTICIPANTS}, policy=POLICY)
    assert shown(out)[("province", "31")] == 0
    assert not out["suppressed"].any()


def test_few_people_called_hides_the_cell_even_with_no_carriers():
    cells = participant_cells(0, 50, 60, male=55)
    cells[("province", "44")] = (60, 4, 0)
    cells[("region", "south")] = (60, 4, 0)
    cells[("all", "all")] = (110, 204, 0)
    out = publish(summary(cells), layouts={"precimed": PARTICIPANTS}, policy=POLICY)
    assert shown(out)[("province", "44")] is None


def test_a_small_hom_alt_hides_only_hom_alt():
    out = publish(summary(participant_cells(40, 50, 60, male=70, hom=4)),
                  layouts={"precimed": PARTICIPANTS}, policy=POLICY).set_index(
        ["stratum", "group"])
    assert pd.isna(out.loc[("province", "31"), "hom_alt"])
    assert out.loc[("province", "31"), "allele_count"] == 44
    assert not out["suppressed"].any()


def test_reference_tables_nest_populations_in_super_populations():
    layout = Layout(REFERENCE_TABLES, {"population": {"CHB": "EAS", "CHS": "EAS",
                                                      "GBR": "EUR"}})
    cells = {("all", "all"): (72, 300, 0), ("super_population", "EAS"): (42, 200, 0),
             ("super_population", "EUR"): (30, 100, 0), ("population", "CHB"): (2, 100, 0),
             ("population", "CHS"): (40, 100, 0), ("population", "GBR"): (30, 100, 0),
             ("sex", "1"): (36, 150, 0), ("sex", "2"): (36, 150, 0)}
    raw = summary(cells).assign(dataset="1000G")
    out = shown(publish(raw, layouts={"1000G": layout}, policy=POLICY))
    assert out[("population", "CHB")] is None
    assert out[("super_population", "EAS")] is None or out[("population", "CHS")] is None


def test_rounding_applies_to_published_counts_only():
    out = publish(summary(participant_cells(3, 52, 61, male=70)),
                  layouts={"precimed": PARTICIPANTS}, policy=Policy(threshold=10, rounding=5))
    published = out["allele_count"].dropna()
    assert (published % 5 == 0).all()
    assert out.set_index(["stratum", "group"]).loc[("province", "31"), "suppressed"]
