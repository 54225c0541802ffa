"""Packing, popcount counts and the HWE exact test against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln

from precimed.genomics import kernels
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


# -- the compiled (numba) kernels against the numpy reference --------------------------------

def random_codes(rng, n_variants, n_samples, missing=0.05):
    """ALT counts in HWE at random frequencies, with missing calls."""
    p = rng.uniform(0.01, 0.5, (n_variants, 1))
    codes = rng.binomial(2, p, (n_variants, n_samples)).astype(np.uint8)
    codes[rng.random(codes.shape) < missing] = 3
    return codes


@pytest.mark.parametrize("n_samples", [1, 31, 33, 64, 1000, 2049])
def test_compiled_counts_equal_numpy_counts(n_samples):
    pytest.importorskip("numba")
    from precimed.genomics.kernels import count_packed_numpy

    rng = np.random.default_rng(n_samples)
    codes = random_codes(rng, 257, n_samples)
    rows = pack(codes)
    for chosen in (None, rng.random(n_samples) < 0.3, np.arange(n_samples) % 7 == 0):
        mask = None if chosen is None else sample_mask(chosen, n_samples)
        n_sel = None if chosen is None else int(chosen.sum())
        got = count_packed(rows, n_samples, mask=mask, n_selected=n_sel)
        want = count_packed_numpy(rows, n_samples, mask=mask, n_selected=n_sel)
        sub = codes if chosen is None else codes[:, chosen]
        assert (got["het"] == (sub == 1).sum(1)).all()
        assert (got["missing"] == (sub == 3).sum(1)).all()
        for key in want:
            assert (got[key] == want[key]).all(), key
    # a slice of the rows (not the whole array) counts the same
    assert (count_packed(rows[5:9], n_samples)["hom_alt"] == (codes[5:9] == 2).sum(1)).all()


def test_compiled_hwe_equals_numpy_reference():
    pytest.importorskip("numba")
    from precimed.genomics.kernels import hwe_exact_numpy

    rng = np.random.default_rng(21)
    cases = [(5000, 0, 5000), (0, 5000, 5000), (3000, 0, 7000), (1, 9998, 1), (0, 9999, 1),
             (2, 9998, 0), (9000, 500, 500), (50, 9900, 50)]
    for n in (20, 500, 10000):
        for f in (0.002, 0.05, 0.3, 0.5):
            g = rng.binomial(2, f, (40, n))
            cases += [((x == 1).sum(), (x == 0).sum(), (x == 2).sum()) for x in g]
    c = np.array(cases)
    for midp in (False, True):
        got = hwe_exact(c[:, 0], c[:, 1], c[:, 2], midp=midp)
        want = hwe_exact_numpy(c[:, 0], c[:, 1], c[:, 2], midp=midp)
        shown = want > 1e-290  # below, both are 0 or subnormal: PLINK prints 0 there
        assert shown.sum() > 400 and (~shown).sum() >= 3
        np.testing.assert_allclose(got[shown], want[shown], rtol=1e-9)
        assert (got[~shown] < 1e-280).all() and (got >= 0).all()
    # repeated count triples (computed once each) give the same p-values in place
    order = rng.permutation(np.repeat(np.arange(len(c)), 3))
    again = hwe_exact(c[order, 0], c[order, 2], c[order, 1])  # REF/ALT swapped
    np.testing.assert_array_equal(again, hwe_exact(c[:, 0], c[:, 1], c[:, 2])[order])


def random_calls(rng, n_samples, ploidy, n_alleles):
    """cyvcf2-style allele arrays: indices, -1 missing, -2 past a smaller ploidy."""
    calls = rng.integers(0, n_alleles, (n_samples, ploidy + 1)).astype(np.int16)
    alleles = calls[:, :ploidy]
    alleles[rng.random(alleles.shape) < 0.15] = -1
    if ploidy > 1:
        short = rng.random(n_samples) < 0.2  # haploid calls in a diploid record
        alleles[short, 1:] = -2
    calls[:, ploidy] = rng.integers(0, 2, n_samples)  # the phasing flag
    return calls


@pytest.mark.parametrize(("ploidy", "n_alleles"), [(1, 2), (2, 2), (2, 4), (3, 3)])
def test_compiled_packing_equals_numpy_packing(monkeypatch, ploidy, n_alleles):
    pytest.importorskip("numba")
    from precimed.genomics import kernels

    rng = np.random.default_rng(ploidy * 10 + n_alleles)
    n = 1001
    calls = random_calls(rng, n, ploidy, n_alleles)
    width = kernels.row_bytes(n)
    compiled = [np.full(width, 0xFF, np.uint8) for _ in range(n_alleles)]  # stale bytes
    kernels.pack_typed(calls, compiled[0])
    for k in range(1, n_alleles):
        kernels.pack_allele(calls, k, compiled[k])
    monkeypatch.setattr(kernels, "numba", None)
    reference = [np.zeros(width, np.uint8) for _ in range(n_alleles)]
    kernels.pack_typed(calls, reference[0])
    for k in range(1, n_alleles):
        kernels.pack_allele(calls, k, reference[k])
    for got, want in zip(compiled, reference, strict=True):
        assert len(set(unpack(want[None], n)[0].tolist())) >= 3  # a mix of codes
        np.testing.assert_array_equal(got, want)


def test_kernels_called_from_several_threads_at_once():
    """Callers on their own threads (a threaded web server) share the kernels' pool."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(8)
    codes = random_codes(rng, 5000, 70)
    rows = pack(codes)
    c = count_packed(rows, 70)
    want = ((codes == 1).sum(1), hwe_exact(c["het"], c["hom_ref"], c["hom_alt"]))

    def job(_):
        got = count_packed(rows, 70)
        return got["het"], hwe_exact(got["het"], got["hom_ref"], got["hom_alt"])

    with ThreadPoolExecutor(max_workers=4) as callers:
        for het, p in callers.map(job, range(8)):
            np.testing.assert_array_equal(het, want[0])
            np.testing.assert_array_equal(p, want[1])


def test_a_few_samples_are_read_from_their_bytes_alone():
    rng = np.random.default_rng(11)
    codes = rng.integers(0, 4, size=(120, 1003)).astype(np.uint8)
    packed = kernels.pack(codes)
    variants = np.array([5, 0, 119, 17, 17])
    for samples in ([0], [1, 2, 3, 4, 5], [1002, 7, 7, 500], list(range(1003))):
        got = kernels.unpack_samples(packed, variants, np.array(samples))
        assert (got == codes[np.ix_(variants, samples)]).all()
