"""Polygenic scores against PLINK 2 (tests/validation/reference/pgs_plink2.sh, PLINK
v2.00a3.5): the real PGS Catalog scoring files PGS000001 and PGS000002 (harmonized,
GRCh37; from the pgscatalog-core 1.1.1 sdist) on genotypes simulated at their positions
with swapped alleles, absent variants, allele mismatches and 3% missing calls
(tests/validation/data/pgs_simulate_genotypes.py; no real genotypes shipped in a registry
package overlap a real scoring file).

Tolerance: 1e-5 relative, plus 1e-6 absolute for sums near zero: plink2 prints six
significant digits. The variants used must be the same set exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from precimed.analysis.pgs import PolygenicScore, read_scoring_file

HERE = Path(__file__).parent
DATA = HERE / "data"
PLINK2 = json.loads((HERE / "reference" / "pgs_plink2.json").read_text())


def read_vcf(path: Path) -> tuple[np.ndarray, pd.DataFrame, list[str]]:
    """ALT counts (int8, -1 missing), the variant table and the sample names."""
    rows, samples = [], []
    for line in path.read_text().splitlines():
        if line.startswith("##"):
            continue
        fields = line.split("\t")
        if line.startswith("#"):
            samples = fields[9:]
            continue
        rows.append(fields)
    variants = pd.DataFrame([r[:5] for r in rows], columns=["chrom", "pos", "id", "ref", "alt"])
    calls = np.array([r[9:] for r in rows]).T
    counts = np.full(calls.shape, -1, dtype=np.int8)
    for text, count in (("0/0", 0), ("0/1", 1), ("1/0", 1), ("1/1", 2)):
        counts[calls == text] = count
    return counts, variants, samples


@pytest.fixture(scope="module")
def genotypes():
    return read_vcf(DATA / "pgs_sim_genotypes.vcf")


@pytest.mark.parametrize("pgs", ["PGS000001", "PGS000002"])
def test_scores_match_plink2(genotypes, pgs):
    counts, variants, samples = genotypes
    reference = PLINK2["scores"][pgs]
    scoring = read_scoring_file(DATA / f"pgs_{pgs}_hmPOS_GRCh37.txt.gz")
    fitted = PolygenicScore().fit(scoring, counts, variants, samples=samples)
    assert list(fitted.scores_.index) == reference["samples"]
    np.testing.assert_allclose(fitted.scores_.to_numpy(), reference["score_sum"],
                               rtol=1e-5, atol=1e-6)
    used = fitted.matches_[fitted.matches_.column >= 0]
    ids = {f"{c}:{p}" for c, p in zip(used.chrom, used.pos, strict=True)}
    assert ids == set(reference["variants_used"])
    assert fitted.n_matched_ == 70 and fitted.match_rate_ == pytest.approx(70 / 77)


def test_the_data_exercise_what_the_comparison_claims(genotypes):
    counts, variants, samples = genotypes
    scoring = read_scoring_file(DATA / "pgs_PGS000001_hmPOS_GRCh37.txt.gz")
    fitted = PolygenicScore().fit(scoring, counts, variants, samples=samples)
    status = fitted.summary["variants"].to_dict()
    assert status["matched"] > 30 and status["swapped"] > 20
    assert status["absent"] == 5 and status["allele_mismatch"] == 2
    assert 0.02 < fitted.missing_rate_ < 0.04
    # strand-ambiguous SNPs are present and scored as written, as plink2 does
    alleles = fitted.matches_[["effect_allele", "other_allele"]].apply(frozenset, axis=1)
    ambiguous = alleles.isin([frozenset("CG"), frozenset("AT")]) & (fitted.matches_.column >= 0)
    assert ambiguous.sum() >= 1


def test_percentiles_of_scores_within_the_simulated_population(genotypes):
    counts, variants, samples = genotypes
    scoring = read_scoring_file(DATA / "pgs_PGS000001_hmPOS_GRCh37.txt.gz")
    population = PolygenicScore().fit(scoring, counts, variants, samples=samples)
    person = PolygenicScore().fit(scoring, counts[:1], variants, samples=samples[:1],
                                  reference=population)
    assert person.scores_.iloc[0] == pytest.approx(population.scores_.iloc[0], rel=1e-12)
    # against plink2's sums; its six printed digits can tie scores that differ
    sums = np.array(PLINK2["scores"]["PGS000001"]["score_sum"])
    close = np.isclose(sums, sums[0], rtol=1e-5, atol=1e-6)
    below = ((sums < sums[0]) & ~close).sum()
    low, high = 100 * below / len(sums), 100 * (below + close.sum()) / len(sums)
    assert low <= person.percentiles(population).iloc[0] <= high
