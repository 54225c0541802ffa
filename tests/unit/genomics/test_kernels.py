"""Packing, popcount counts and the HWE exact test against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln

from precimed.genomics.kernels import count_packed, hwe_exact, pack, sample_mask, unpack


def brute_hwe(het, hom_ref, hom_alt, midp=False):
    """Enumerate every het count of Levene's distribution and sum the no-more-likely ones."""
    n = het + hom_ref + hom_alt
    rare = min(2 * hom_ref, 2 * hom_alt) + het
    hs = np.arange(rare % 2, rare + 1, 2)
    hr = (rare - hs) / 2
    hc = n - hs - hr
    keep = hc >= 0
    hs, hr, hc = hs[keep], hr[keep], hc[keep]
    logp = (gammaln(n + 1) - gammaln(hr + 1) - gammaln(hs + 1) - gammaln(hc + 1)
            + hs * np.log(2) + gammaln(rare + 1) + gammaln(2 * n - rare + 1) - gammaln(2 * n + 1))
    probs = np.exp(logp)
    observed = probs[hs == het][0]
    p = probs[probs <= observed * (1 + 1e-9)].sum()
    return p - 0.5 * observed if midp else p


@pytest.mark.parametrize("n_samples", [1, 31, 32, 33, 100])
def test_pack_unpack_round_trip(n_samples):
    codes = np.random.default_rng(n_samples).integers(0, 4, (9, n_samples))
    assert (unpack(pack(codes), n_samples) == codes).all()


def test_counts_over_a_sample_subset_equal_direct_counts():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 4, (50, 77))
    chosen = rng.random(77) < 0.4
    got = count_packed(pack(codes), 77, mask=sample_mask(chosen, 77), n_selected=chosen.sum())
    sub = codes[:, chosen]
    for key, code in (("hom_ref", 0), ("het", 1), ("hom_alt", 2), ("missing", 3)):
        assert (got[key] == (sub == code).sum(axis=1)).all(), key
    assert (got["allele_count"] == (sub == 1).sum(1) + 2 * (sub == 2).sum(1)).all()
    assert (got["allele_number"] == 2 * (sub != 3).sum(1)).all()


def test_hwe_exact_equals_enumeration():
    rng = np.random.default_rng(11)
    cases = [(57, 14, 29), (0, 50, 50), (100, 0, 0), (3, 1, 0), (2, 1000, 1), (1, 0, 1),
             (500, 250, 250), (5, 995, 0), (40, 30, 30)]
    for _ in range(200):
        g = rng.binomial(2, rng.random(), rng.integers(2, 300))
        cases.append(((g == 1).sum(), (g == 0).sum(), (g == 2).sum()))
    c = np.array(cases)
    for midp in (False, True):
        got = hwe_exact(c[:, 0], c[:, 1], c[:, 2], midp=midp)
        want = [brute_hwe(*case, midp=midp) for case in cases]
        np.testing.assert_allclose(got, want, rtol=1e-9)


def test_hwe_edge_cases():
    p = hwe_exact([0, 0, 0, 5000], [0, 10, 0, 0], [0, 0, 10, 5000])
    assert np.isnan(p[0]) and p[1] == 1 and p[2] == 1
    assert 0 <= p[3] < 1e-300  # all hets in 10,000: far below double precision, not NaN
    assert hwe_exact([0], [10], [0], midp=True)[0] == 0.5
