"""PGS Catalog scoring files and polygenic scores: reading, matching, scoring by hand."""

from __future__ import annotations

import gzip
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from precimed.analysis.pgs import (
    PolygenicScore,
    ScoringFile,
    match_variants,
    read_scoring_file,
    score_percentiles,
)
from precimed.errors import UserError

DATA = Path(__file__).parents[2] / "validation" / "data"
REAL = DATA / "pgs_PGS000001_hmPOS_GRCh37.txt.gz"


def scoring(rows, columns=("chrom", "pos", "effect_allele", "other_allele", "effect_weight")):
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["pos"] = frame["pos"].astype("Int64")
    return ScoringFile({"pgs_id": "T"}, frame.assign(rsid=""), harmonized=False)


def write(path: Path, header: list[str], rows: list[list[str]], meta=("#pgs_id=X",)) -> Path:
    lines = [*meta, "\t".join(header), *["\t".join(r) for r in rows]]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reads_a_real_harmonized_file_with_its_metadata(tmp_path):
    scoring_file = read_scoring_file(REAL)
    assert scoring_file.pgs_id == "PGS000001"
    assert scoring_file.format_version == "2.0"
    assert scoring_file.genome_build == "GRCh37" and scoring_file.harmonized
    assert scoring_file.metadata["citation"].startswith("Mavaddat N")
    assert len(scoring_file.variants) == 77 == int(scoring_file.metadata["variants_number"])
    first = scoring_file.variants.iloc[0]
    assert (first.chrom, first.pos, first.effect_allele, first.other_allele) == \
        ("11", 69331418, "T", "C")
    plain = tmp_path / "plain.txt"
    with gzip.open(REAL, "rt") as handle:
        plain.write_text(handle.read())
    pd.testing.assert_frame_equal(read_scoring_file(plain).variants, scoring_file.variants)


def test_author_positions_and_the_format_1_column_name(tmp_path):
    path = write(tmp_path / "v1.txt",
                 ["rsID", "chr_name", "chr_position", "effect_allele", "reference_allele",
                  "effect_weight"], [["rs1", "chr3", "100", "a", "g", "0.5"]],
                 meta=("#format_version=1.0", "#genome_build=GRCh38"))
    scoring_file = read_scoring_file(path)
    assert not scoring_file.harmonized and scoring_file.genome_build == "GRCh38"
    row = scoring_file.variants.iloc[0]
    assert (row.chrom, row.pos, row.effect_allele, row.other_allele) == ("3", 100, "A", "G")


def test_refuses_non_additive_and_positionless_files(tmp_path):
    with pytest.raises(UserError, match="non-additive"):
        read_scoring_file(DATA / "pgs_PGS004255_hmPOS_GRCh38.txt.gz")  # real GenoBoost file
    dominant = write(tmp_path / "dom.txt",
                     ["chr_name", "chr_position", "effect_allele", "effect_weight",
                      "is_dominant"], [["1", "5", "A", "0.1", "True"]])
    with pytest.raises(UserError, match="is_dominant"):
        read_scoring_file(dominant)
    rsid_only = write(tmp_path / "rs.txt", ["rsID", "effect_allele", "effect_weight"],
                      [["rs1", "A", "0.1"]])
    with pytest.raises(UserError) as raised:
        read_scoring_file(rsid_only)
    assert "harmonized" in raised.value.hint


VARIANTS = pd.DataFrame({
    "chrom": ["chr1", "1", "1", "1", "1", "2", "2"],
    "pos": [10, 20, 30, 40, 50, 60, 60],
    "ref": ["A", "G", "A", "A", "C", "T", "T"],
    "alt": ["G", "A", "T", "C", "G", "C", "G"],
})


def test_match_statuses():
    score = scoring([
        ["1", 10, "G", "A", 1.0],   # effect = ALT
        ["1", 20, "G", "A", 1.0],   # effect = REF: swapped
        ["1", 30, "A", "T", 1.0],   # ambiguous A/T, as written: swapped
        ["1", 40, "T", "G", 1.0],   # strand flip of A/C: effect T = comp(A) = REF
        ["1", 50, "C", "T", 1.0],   # allele mismatch
        ["2", 60, "G", "T", 1.0],   # multi-allelic split: the second row
        ["3", 70, "A", "G", 1.0],   # absent
        ["1", None, "A", "G", 1.0],  # no position
    ])
    matches = match_variants(score.variants, VARIANTS)
    assert list(matches.status) == ["matched", "swapped", "swapped", "flipped_swapped",
                                     "allele_mismatch", "matched", "absent", "no_position"]
    assert list(matches.column) == [0, 1, 2, 3, -1, 6, -1, -1]
    dropped = match_variants(score.variants, VARIANTS, drop_ambiguous=True)
    assert dropped.status[2] == "ambiguous_dropped" and dropped.column[2] == -1


def test_without_other_allele_the_effect_allele_decides():
    score = scoring([["1", 10, "A", None, 1.0], ["1", 30, "T", None, 1.0]])
    matches = match_variants(score.variants, VARIANTS)
    assert list(matches.status) == ["swapped", "matched"]


def test_scores_by_hand_with_mean_imputation():
    score = scoring([["1", 10, "G", "A", 0.5], ["1", 20, "G", "A", -2.0],
                     ["9", 1, "A", "C", 7.0]])
    genotypes = np.array([[2, 0, 0, 0, 0, 0, 0],
                          [1, 2, 0, 0, 0, 0, 0],
                          [-1, 1, 0, 0, 0, 0, 0]], dtype=np.int8)
    fitted = PolygenicScore().fit(score, genotypes, VARIANTS, samples=["a", "b", "c"])
    # variant 1: ALT dosage, missing -> mean of (2, 1); variant 2: 2 - ALT count
    expected = [2 * 0.5 + 2 * -2.0, 1 * 0.5 + 0 * -2.0, 1.5 * 0.5 + 1 * -2.0]
    np.testing.assert_allclose(fitted.scores_.to_numpy(), expected)
    assert fitted.match_rate_ == pytest.approx(2 / 3)
    assert fitted.to_dict()["status"] == {"matched": 1, "swapped": 1, "absent": 1}
    single = PolygenicScore().fit(score, genotypes[2:], VARIANTS, reference=fitted)
    assert single.scores_.iloc[0] == pytest.approx(expected[2])
    assert single.percentiles(fitted).iloc[0] == pytest.approx(50.0)  # (1 + 1/2) of 3
    _, ax = plt.subplots()
    assert single.plot_distribution(ax, reference=fitted) is ax
    plt.close("all")
    with pytest.raises(UserError, match="impute"):
        PolygenicScore().fit(score, genotypes[2:], VARIANTS)


def test_bad_genotypes_are_user_errors():
    score = scoring([["1", 10, "G", "A", 0.5]])
    with pytest.raises(UserError, match="n_samples x n_variants"):
        PolygenicScore().fit(score, np.zeros((2, 3), np.int8), VARIANTS)
    with pytest.raises(UserError, match="ALT-allele counts"):
        PolygenicScore().fit(score, np.full((1, 7), 3, np.int8), VARIANTS)
    with pytest.raises(UserError, match="not fitted"):
        PolygenicScore().percentiles([1.0])


def test_percentiles_use_mid_ranks():
    reference = [1.0, 2.0, 2.0, 3.0]
    np.testing.assert_allclose(score_percentiles([0.0, 2.0, 2.5, 4.0], reference),
                               [0.0, 50.0, 75.0, 100.0])
    with pytest.raises(UserError):
        score_percentiles([1.0], [])
