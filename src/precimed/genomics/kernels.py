"""Genotype kernels: 2-bit packing, popcount genotype counts, the HWE exact test.

Packing. One variant is one row of bytes; sample ``s`` sits in byte ``s // 4`` at bits
``2 * (s % 4)``. The code is the ALT count: 0 hom-REF, 1 het, 2 hom-ALT, 3 missing. Rows
are padded to whole 64-bit words with code 0, which the counts never see (they count
het, hom-ALT and missing, and derive hom-REF from the number of samples).

Counting. With ``lo`` the low bit and ``hi`` the high bit of every code, a word of 32
samples gives het = popcount(lo & ~hi), hom-ALT = popcount(hi & ~lo) and missing =
popcount(lo & hi); a sample subset is a packed mask (0b11 per selected sample) ANDed in
first, which turns unselected samples into hom-REF and so out of every count. The
compiled kernel (numba) makes one pass over the packed words of each row with three
hardware popcounts per 32 samples, rows split between threads (the kernels release
the GIL); without numba, numpy's
``bitwise_count`` over blocks of variants does the same (the reference the tests hold
the compiled kernel to).

HWE. The exact test of Wigginton, Cutler & Abecasis (2005, AJHG 76:887). The compiled
kernel works per distinct (het, rare-hom, common-hom) triple (variants that share counts
are computed once) with the ratio recurrence of consecutive het counts, all relative to
the observed count: it walks from the observed count toward the mode and past it to the
first count on the other side that is no more likely (the central counts, rescaled so
that p-values below 1e-300 underflow to 0 or a subnormal instead of overflowing), then
sums the two tails outward, each stopping once the rest of it (a geometric bound: the
ratios fall away from the mode) is below 1e-17 of the tail's sum. The numpy fallback
computes the same sums in log space, vectorised over variants. Both are validated
against PLINK 2.00a3.5 ``--hardy`` (tests/validation/test_genomics_against_plink2.py).

Compiled kernels are cached on disk (``numba.njit(cache=True)``): the first call after
an install compiles them once (a few seconds); later processes load the machine code.
"""

from __future__ import annotations

import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

try:  # numba is the accelerator; the numpy kernels below remain the reference
    import numba
    from numba import types as _nb_types
    from numba.extending import intrinsic as _intrinsic
except ImportError:  # pragma: no cover - exercised only where numba is absent
    numba = None

HOM_REF, HET, HOM_ALT, MISSING = 0, 1, 2, 3
THREADS = max(1, min(8, os.cpu_count() or 1))  # threads for the compiled kernels
_POOL: ThreadPoolExecutor | None = None
WORD = 8  # bytes per 64-bit word
_LO = np.uint64(0x5555555555555555)
BLOCK = 2048  # variants per counting block (numpy kernel)


def row_bytes(n_samples: int) -> int:
    """Bytes per packed variant row: 2 bits a sample, padded to whole 64-bit words."""
    return max(1, -(-n_samples // 32)) * WORD


def pack(codes: np.ndarray) -> np.ndarray:
    """``codes`` (variants x samples, values 0..3) -> packed rows (variants x row_bytes)."""
    codes = np.asarray(codes, dtype=np.uint8)
    n_variants, n_samples = codes.shape
    padded = np.zeros((n_variants, row_bytes(n_samples) * 4), dtype=np.uint8)
    padded[:, :n_samples] = codes
    quads = padded.reshape(n_variants, -1, 4)
    return (quads[:, :, 0] | (quads[:, :, 1] << 2) | (quads[:, :, 2] << 4)
            | (quads[:, :, 3] << 6)).astype(np.uint8)


def unpack(rows: np.ndarray, n_samples: int) -> np.ndarray:
    """Packed rows -> codes (variants x samples, values 0..3)."""
    rows = np.asarray(rows, dtype=np.uint8)
    shifts = np.array([0, 2, 4, 6], dtype=np.uint8)
    codes = (rows[:, :, None] >> shifts) & 3
    return codes.reshape(rows.shape[0], -1)[:, :n_samples]


def unpack_samples(packed: np.ndarray, variants: np.ndarray, samples: np.ndarray
                   ) -> np.ndarray:
    """Codes of a few samples (variants x samples) read from their bytes alone, without
    decoding whole rows: one person's calls over a whole store cost a byte per variant."""
    samples = np.asarray(samples, dtype=np.int64)
    chosen = packed[np.ix_(np.asarray(variants, dtype=np.int64), samples >> 2)]
    return (chosen >> ((samples & 3) * 2).astype(np.uint8)) & 3


def sample_mask(selected: np.ndarray, n_samples: int) -> np.ndarray:
    """A packed mask row with 0b11 for each selected sample (a boolean or index array)."""
    chosen = np.zeros(n_samples, dtype=bool)
    chosen[np.asarray(selected)] = True
    return pack((chosen * 3).astype(np.uint8)[None, :])[0]


def count_packed(rows: np.ndarray, n_samples: int, *, mask: np.ndarray | None = None,
                 n_selected: int | None = None) -> dict[str, np.ndarray]:
    """Per-variant counts over packed rows: allele_count (ALT alleles), allele_number,
    hom_ref, het, hom_alt, missing. ``mask`` is a packed sample mask; ``n_selected`` the
    number of samples it selects."""
    if numba is None:
        return count_packed_numpy(rows, n_samples, mask=mask, n_selected=n_selected)
    words = _as_words(rows)
    het, hom_alt, missing = (np.empty(words.shape[0], dtype=np.int64) for _ in range(3))
    # no mask selects every sample: one kernel serves both (an AND per word costs nothing)
    words_mask = (np.full(words.shape[1], np.iinfo(np.uint64).max, dtype=np.uint64)
                  if mask is None else _as_words(np.asarray(mask)[None, :])[0])

    def part(a: int, b: int) -> None:
        _count_rows_masked(words[a:b], words_mask, het[a:b], hom_alt[a:b], missing[a:b])

    _in_parallel(part, words.shape[0], min_chunk=1024)
    return _finish_counts(het, hom_alt, missing, n_samples if n_selected is None
                          else n_selected)


def _in_parallel(fn, size: int, *, min_chunk: int) -> None:
    """fn(start, stop) over ``size`` items in up to THREADS chunks on a thread pool; the
    compiled kernels release the GIL. Plain Python threads, not numba's threading layer,
    so concurrent callers (e.g. a threaded web server) and forks stay safe."""
    parts = max(1, min(THREADS, size // min_chunk))
    if parts == 1:
        fn(0, size)
        return
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="kernels")
    edges = np.linspace(0, size, parts + 1).astype(int)
    for done in [_POOL.submit(fn, a, b) for a, b in itertools.pairwise(edges)]:
        done.result()


def count_packed_numpy(rows: np.ndarray, n_samples: int, *, mask: np.ndarray | None = None,
                       n_selected: int | None = None) -> dict[str, np.ndarray]:
    """:func:`count_packed` in numpy alone (numpy's popcount over blocks of variants)."""
    n_variants = rows.shape[0]
    het = np.empty(n_variants, dtype=np.int64)
    hom_alt = np.empty(n_variants, dtype=np.int64)
    missing = np.empty(n_variants, dtype=np.int64)
    words_mask = None if mask is None else np.ascontiguousarray(mask).view(np.uint64)
    for start in range(0, n_variants, BLOCK):
        stop = min(start + BLOCK, n_variants)
        words = np.ascontiguousarray(rows[start:stop]).view(np.uint64)
        if words_mask is not None:
            words = words & words_mask
        lo = words & _LO
        hi = (words >> np.uint64(1)) & _LO
        both = np.bitwise_count(lo & hi).sum(axis=1, dtype=np.int64)
        het[start:stop] = np.bitwise_count(lo).sum(axis=1, dtype=np.int64) - both
        hom_alt[start:stop] = np.bitwise_count(hi).sum(axis=1, dtype=np.int64) - both
        missing[start:stop] = both
    return _finish_counts(het, hom_alt, missing, n_samples if n_selected is None
                          else n_selected)


def count_cells(packed: np.ndarray, rows: np.ndarray, cell_of: np.ndarray, n_cells: int
                ) -> np.ndarray:
    """Per variant and sample cell: het, hom-ALT and missing calls, ``(variants, n_cells,
    3)`` int64 (hom-REF is the cell's size minus the rest).

    ``packed`` is a dataset's packed rows (memory-mapped is fine: only the rows named are
    read); ``rows`` the packed row of each variant, -1 where the dataset did not type it
    (every call missing); ``cell_of`` the cell (0 .. n_cells - 1) of each sample. The
    compiled kernel reads each named row once, skips all-hom-REF words and visits only
    the non-zero codes of the others (trailing-zero count), so its cost follows the
    number of non-REF calls, not of samples.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cell_of = np.ascontiguousarray(cell_of, dtype=np.int64)
    if numba is None:
        return count_cells_numpy(packed, rows, cell_of, n_cells)
    words = _as_words(packed)
    out = np.zeros((len(rows), n_cells, 3), dtype=np.int64)

    def part(a: int, b: int) -> None:
        _count_cells_rows(words, rows[a:b], cell_of, out[a:b])

    _in_parallel(part, len(rows), min_chunk=64)
    out[rows < 0, :, 2] = np.bincount(cell_of, minlength=n_cells)
    return out


def count_cells_numpy(packed: np.ndarray, rows: np.ndarray, cell_of: np.ndarray,
                      n_cells: int) -> np.ndarray:
    """:func:`count_cells` in numpy alone: unpack, then count codes per cell."""
    rows = np.asarray(rows, dtype=np.int64)
    cell_of = np.asarray(cell_of, dtype=np.int64)
    out = np.zeros((len(rows), n_cells, 3), dtype=np.int64)
    typed = np.flatnonzero(rows >= 0)
    for start in range(0, len(typed), BLOCK):
        chosen = typed[start:start + BLOCK]
        codes = unpack(np.asarray(packed)[rows[chosen]], len(cell_of)).astype(np.int64)
        for code in (HET, HOM_ALT, MISSING):
            # count of ``code`` per (variant, cell): one bincount over variant * cells + cell
            hits = np.nonzero(codes == code)
            flat = np.arange(len(chosen))[hits[0]] * n_cells + cell_of[hits[1]]
            out[chosen, :, code - 1] = np.bincount(
                flat, minlength=len(chosen) * n_cells).reshape(len(chosen), n_cells)
    out[rows < 0, :, 2] = np.bincount(cell_of, minlength=n_cells)
    return out

def _finish_counts(het, hom_alt, missing, n) -> dict[str, np.ndarray]:
    called = n - missing
    return {"allele_count": het + 2 * hom_alt, "allele_number": 2 * called,
            "hom_ref": called - het - hom_alt, "het": het, "hom_alt": hom_alt,
            "missing": missing}


def _as_words(rows: np.ndarray) -> np.ndarray:
    """Packed rows as a C-contiguous uint64 matrix (a view when they already are)."""
    rows = np.ascontiguousarray(np.asarray(rows), dtype=np.uint8)
    if rows.shape[1] % WORD:
        raise ValueError("packed rows must be whole 64-bit words (kernels.row_bytes)")
    return rows.view(np.uint64).reshape(rows.shape[0], rows.shape[1] // WORD)


# -- Hardy-Weinberg exact test -----------------------------------------------------------

_TAIL_TOLERANCE = 1e-17
_TIE = 1e-9  # probabilities this close (relative) count as equally likely (PLINK does the same)


def hwe_exact(het, hom_ref, hom_alt, *, midp: bool = False) -> np.ndarray:
    """Two-sided HWE exact p-values per variant (Wigginton et al. 2005); NaN with no calls.

    ``midp`` subtracts half the probability of the observed count (Graffelman & Moreno
    2013), as PLINK's ``--hardy midp`` does.
    """
    if numba is None:
        return hwe_exact_numpy(het, hom_ref, hom_alt, midp=midp)
    shape = np.shape(het)
    het = np.asarray(het, dtype=np.int64).ravel()
    hom_ref = np.asarray(hom_ref, dtype=np.int64).ravel()
    hom_alt = np.asarray(hom_alt, dtype=np.int64).ravel()
    hom_rare = np.minimum(hom_ref, hom_alt)
    hom_common = np.maximum(hom_ref, hom_alt)
    if not het.size:
        return np.zeros(shape)
    top = int(max(het.max(), hom_common.max())) + 1
    if het.size > 64 and top ** 3 < 2 ** 62:
        # one computation per distinct count triple
        keys = (het * top + hom_rare) * top + hom_common
        unique, inverse = np.unique(keys, return_inverse=True)
        p = _hwe_many(unique // (top * top), (unique // top) % top, unique % top, midp)
        return p[inverse.ravel()].reshape(shape)
    return _hwe_many(het, hom_rare, hom_common, midp).reshape(shape)


def hwe_exact_numpy(het, hom_ref, hom_alt, *, midp: bool = False) -> np.ndarray:
    """:func:`hwe_exact` in numpy alone: log-space probabilities, vectorised over variants."""
    het = np.asarray(het, dtype=np.float64)
    hom_ref = np.asarray(hom_ref, dtype=np.float64)
    hom_alt = np.asarray(hom_alt, dtype=np.float64)
    n = het + hom_ref + hom_alt
    rare = np.minimum(2 * hom_ref, 2 * hom_alt) + het
    # a monomorphic variant has one possible het count: p = 1, mid-p = 0.5
    p = np.full(het.shape, 0.5 if midp else 1.0)
    p[n == 0] = np.nan
    todo = np.nonzero((n > 0) & (rare > 0))[0]
    if not todo.size:
        return p
    h, r, m = het[todo], rare[todo], n[todo]
    mode = _mode(r, m)
    log_obs = _log_prob(h, r, m)
    right = h >= mode  # the observed count lies on the mode's right (or at it)
    step_obs = np.where(right, 2, -2)
    # the far tail starts at the count nearest the mode, on the other side, that is
    # no more likely than the observed one
    far = _far_start(h, r, m, mode, log_obs, right)
    obs_sum = _directional_tail(h, step_obs, r, m, log_obs, log_obs)
    has_far = far >= 0
    far_sum = np.zeros(h.shape)
    if has_far.any():
        idx = np.nonzero(has_far)[0]
        f = far[idx]
        far_sum[idx] = _directional_tail(f, -step_obs[idx], r[idx], m[idx],
                                         _log_prob(f, r[idx], m[idx]), log_obs[idx])
    relative = obs_sum + far_sum - (0.5 if midp else 0.0)
    p[todo] = np.minimum(1.0, np.exp(log_obs + np.log(np.maximum(relative, 1e-300))))
    return p


def _log_prob(het, rare, n):
    """log P(het | n genotypes, rare allele count): Levene's exact distribution."""
    from scipy.special import gammaln  # only the numpy kernel needs scipy (slow import)

    hom_rare = (rare - het) / 2
    hom_common = n - het - hom_rare
    return (gammaln(n + 1) - gammaln(hom_rare + 1) - gammaln(het + 1)
            - gammaln(hom_common + 1) + het * np.log(2.0) + gammaln(rare + 1)
            + gammaln(2 * n - rare + 1) - gammaln(2 * n + 1))


def _tail(start, step, rare, n, log_start, log_ref):
    """Sum of exp(logP(h) - log_ref) for h = start, start+step, ... while h stays in range;
    the terms fall monotonically (a tail of a log-concave distribution)."""
    total = np.zeros(start.shape)
    term = np.exp(log_start - log_ref)
    h = start.astype(np.float64)
    active = np.nonzero((term > 0) & (h >= 0))[0]
    while active.size:
        total[active] += term[active]
        ha, ra, na = h[active], rare[active], n[active]
        hom_r = (ra - ha) / 2
        hom_c = na - ha - hom_r
        if step > 0:
            ratio = 4 * hom_r * hom_c / ((ha + 1) * (ha + 2))
        else:
            ratio = ha * (ha - 1) / (4 * (hom_r + 1) * (hom_c + 1))
        term[active] *= ratio
        h[active] += step
        rest = term[active] / np.maximum(1 - ratio, 1e-300)
        go = (ratio > 0) & (h[active] >= 0) & (h[active] <= ra) & (
            rest >= _TAIL_TOLERANCE * total[active])
        active = active[go]
    return total


def _directional_tail(start, step, rare, n, log_start, log_ref):
    out = np.zeros(start.shape)
    for direction in (2, -2):
        chosen = np.nonzero(step == direction)[0]
        if chosen.size:
            out[chosen] = _tail(start[chosen], direction, rare[chosen], n[chosen],
                                log_start[chosen], log_ref[chosen])
    return out


def _mode(rare, n):
    """The most likely het count (same parity as the rare allele count)."""
    mid = np.floor(rare * (2 * n - rare) / (2 * n - 1))
    mid = np.where((rare - mid) % 2 == 1, mid + 1, mid)
    mid = np.clip(mid, rare % 2, rare)
    best, best_log = mid, _log_prob(mid, rare, n)
    for shift in (-2, 2, -4, 4):
        cand = mid + shift
        ok = (cand >= rare % 2) & (cand <= rare)
        cand_log = np.where(ok, _log_prob(np.where(ok, cand, mid), rare, n), -np.inf)
        better = cand_log > best_log
        best, best_log = np.where(better, cand, best), np.where(better, cand_log, best_log)
    return best


def _far_start(het, rare, n, mode, log_obs, right):
    """Per variant, on the side of the mode away from the observed count, the count
    nearest the mode whose probability is at most the observed one's; -1 if none."""
    low_end = rare % 2
    # left side (observed on the right): counts low_end .. mode-2, probability rising
    # toward the mode; right side: mode+2 .. rare, probability falling away from it
    lo = np.where(right, low_end, mode + 2)
    hi = np.where(right, mode - 2, rare)
    exists = lo <= hi
    # the end farthest from the mode must qualify, else there is no far tail
    end = np.where(right, lo, hi)
    qualifies = exists & (_log_prob(np.where(exists, end, mode), rare, n) <= log_obs + _TIE)
    a, b = lo.copy(), hi.copy()
    # invariant: on the left side the answer is the largest qualifying h in [a, b];
    # on the right side the smallest
    for _ in range(64):
        live = qualifies & (a < b)
        if not live.any():
            break
        mid_left = a + 2 * np.ceil((b - a) / 4)  # upper middle for the left side
        mid_right = a + 2 * np.floor((b - a) / 4)
        mid = np.where(right, mid_left, mid_right)
        ok = _log_prob(np.where(live, mid, mode), rare, n) <= log_obs + _TIE
        # left: ok -> answer >= mid; right: ok -> answer <= mid
        a = np.where(live & right & ok, mid, a)
        b = np.where(live & right & ~ok, mid - 2, b)
        b = np.where(live & ~right & ok, mid, b)
        a = np.where(live & ~right & ~ok, mid + 2, a)
    answer = np.where(right, a, b)
    return np.where(qualifies, answer, -1)


# -- compiled kernels (numba) --------------------------------------------------------------

if numba is not None:
    @_intrinsic
    def _popcount(typingctx, word):
        """LLVM's ctpop on a 64-bit word (one popcnt instruction, or vectorised)."""
        if not isinstance(word, _nb_types.Integer):
            return None

        def codegen(context, builder, signature, args):
            return builder.ctpop(args[0])

        return _nb_types.uint64(_nb_types.uint64), codegen

    @numba.njit(cache=True, nogil=True)
    def _count_rows_masked(words, mask, het, hom_alt, missing):
        lo_bits = np.uint64(0x5555555555555555)
        one = np.uint64(1)
        for v in range(words.shape[0]):
            n_lo = n_hi = n_both = np.uint64(0)
            for w in range(words.shape[1]):
                x = words[v, w] & mask[w]
                lo = x & lo_bits
                hi = (x >> one) & lo_bits
                n_lo += _popcount(lo)
                n_hi += _popcount(hi)
                n_both += _popcount(lo & hi)
            het[v] = np.int64(n_lo) - np.int64(n_both)
            hom_alt[v] = np.int64(n_hi) - np.int64(n_both)
            missing[v] = np.int64(n_both)

    @_intrinsic
    def _trailing_zeros(typingctx, word):
        """LLVM's cttz on a non-zero 64-bit word (one tzcnt/bsf instruction)."""
        if not isinstance(word, _nb_types.Integer):
            return None

        def codegen(context, builder, signature, args):
            return builder.cttz(args[0], context.get_constant(_nb_types.boolean, True))

        return _nb_types.uint64(_nb_types.uint64), codegen

    @numba.njit(cache=True, nogil=True)
    def _count_cells_rows(words, rows, cell_of, out):
        three = np.uint64(3)
        for v in range(rows.shape[0]):
            r = rows[v]
            if r < 0:
                continue
            for w in range(words.shape[1]):
                x = words[r, w]
                while x != 0:  # one step per non-zero code (padding is code 0)
                    shift = _trailing_zeros(x) & np.uint64(62)
                    code = np.int64((x >> shift) & three)
                    x &= ~(three << shift)
                    sample = w * 32 + np.int64(shift >> np.uint64(1))
                    out[v, cell_of[sample], code - 1] += 1

    _RESCALE = 1e200
    _LOG_RESCALE = 200 * math.log(10.0)

    @numba.njit(cache=True, inline="always")
    def _step(h, step, rare, n, inv):
        """P(h + step) / P(h) for step = +2 or -2 (Levene's distribution); ``inv[k]`` is
        1 / (k + 1), so the loop multiplies instead of dividing."""
        hom_rare = (rare - h) >> 1
        hom_common = n - h - hom_rare
        if step > 0:
            return 4.0 * hom_rare * hom_common * inv[h] * inv[h + 1]
        return 0.25 * h * (h - 1) * inv[hom_rare] * inv[hom_common]

    @numba.njit(cache=True, inline="always")
    def _tail_sum(start, first, step, rare, n, inv):
        """first + the terms after it from ``start`` in direction ``step``, each the
        previous times the ratio; stops when the geometric bound on the rest is below
        the tolerance (the ratios fall monotonically away from the mode)."""
        total = first
        term = first
        h = start
        while True:
            nxt = h + step
            if nxt < 0 or nxt > rare:
                return total
            ratio = _step(h, step, rare, n, inv)
            term *= ratio
            h = nxt
            total += term
            # the rest is at most term * ratio / (1 - ratio)
            if term * ratio <= 1e-17 * total * (1.0 - ratio):
                return total

    @numba.njit(cache=True)
    def _hwe_one(het, hom_rare, hom_common, midp, inv):
        n = het + hom_rare + hom_common
        if n == 0:
            return np.nan
        rare = 2 * hom_rare + het
        if rare == 0:
            return 0.5 if midp else 1.0
        # toward the mode: the direction in which the next count is more likely
        toward = 2
        if het + 2 > rare or _step(het, 2, rare, n, inv) <= 1.0:
            toward = -2
            if het - 2 < 0:
                toward = 2
        # walk from the observed count toward the mode and past it, to the first count
        # no more likely than the observed one (the far tail's start); q = P(h)/P(obs),
        # rescaled by 1e200 (``scale`` times) so a long climb cannot overflow
        q = 1.0
        central = 0.0  # sum of q strictly between observed and far start, at top_scale
        scale = 0
        top_scale = 0
        h = het
        far_q = -1.0
        far_h = -1
        while True:
            nxt = h + toward
            if nxt < 0 or nxt > rare:
                break
            q *= _step(h, toward, rare, n, inv)
            h = nxt
            if scale == 0 and q <= 1.0 + _TIE:
                far_q = q
                far_h = h
                break
            if scale == top_scale:
                central += q
            elif scale == top_scale - 1:
                central += q / _RESCALE
            if q > _RESCALE:
                q /= _RESCALE
                scale += 1
                if scale > top_scale:
                    top_scale = scale
                    central /= _RESCALE
            elif scale > 0 and q < 1.0:
                q *= _RESCALE
                scale -= 1
        tails = _tail_sum(het, 1.0, -toward, rare, n, inv)
        if far_h >= 0:
            tails += _tail_sum(far_h, far_q, toward, rare, n, inv)
        numerator = tails - (0.5 if midp else 0.0)
        if top_scale == 0:
            return min(1.0, numerator / (tails + central))
        return math.exp(math.log(numerator) - math.log(central) - top_scale * _LOG_RESCALE)

    @numba.njit(cache=True, nogil=True)
    def _hwe_range(het, hom_rare, hom_common, midp, inv, out):
        for i in range(het.shape[0]):
            out[i] = _hwe_one(het[i], hom_rare[i], hom_common[i], midp, inv)


def _hwe_many(het, hom_rare, hom_common, midp: bool) -> np.ndarray:
    """Compiled p-values for (het, rare-hom, common-hom) triples, split between threads."""
    top = int((het + hom_rare + hom_common).max()) + 2
    inv = 1.0 / np.arange(1, top + 1, dtype=np.float64)  # inv[k] = 1 / (k + 1)
    out = np.empty(het.shape[0])

    def part(a: int, b: int) -> None:
        _hwe_range(het[a:b], hom_rare[a:b], hom_common[a:b], midp, inv, out[a:b])

    _in_parallel(part, het.shape[0], min_chunk=256)
    return out


# -- packing VCF calls ---------------------------------------------------------------------
# ``calls`` is cyvcf2's ``variant.genotype.array()``: samples x (ploidy + 1) int16, the
# allele indices (-1 a missing allele, -2 past the end of a smaller ploidy) then the
# phasing flag, which is not read.

def pack_typed(calls: np.ndarray, out: np.ndarray) -> None:
    """Pack the calls of a biallelic record into ``out`` (one packed row), typed as
    cyvcf2's ``gt_types`` (gts012) types diploid calls: no called allele -> missing; a
    half-call (``0/.``, ``./1``) -> hom-REF if its allele is REF, else het; a haploid
    call -> homozygous; otherwise hom-REF, het or hom-ALT by the alleles present."""
    if numba is not None:
        _pack_typed(calls, out)
        return
    alleles = np.asarray(calls)[:, :-1]
    present = alleles != -2
    half = ((alleles == -1) & present).any(axis=1)
    has_ref = (alleles == 0).any(axis=1)
    has_alt = (alleles >= 1).any(axis=1)
    codes = np.where(has_ref, np.where(has_alt, HET, HOM_REF),
                     np.where(has_alt, HOM_ALT, MISSING))
    codes = np.where(half & has_alt, HET, codes)
    out[:] = pack(codes[None, :])[0]


def pack_allele(calls: np.ndarray, allele: int, out: np.ndarray) -> None:
    """Pack the copies of ALT ``allele`` (1, 2, ...) of a multi-allelic record into
    ``out``, as ``bcftools norm -m-`` splits it: other ALTs count as REF, any missing
    allele makes the call missing, a haploid call counts twice (a polyploid one at most
    twice)."""
    if numba is not None:
        _pack_allele(calls, allele, out)
        return
    alleles = np.asarray(calls)[:, :-1]
    present = alleles != -2
    missing = ((alleles == -1) & present).any(axis=1)
    haploid = present.sum(axis=1) == 1
    copies = ((alleles == allele) & present).sum(axis=1)
    copies = np.minimum(np.where(haploid, copies * 2, copies), 2)
    out[:] = pack(np.where(missing, MISSING, copies)[None, :])[0]


if numba is not None:
    @numba.njit(cache=True, nogil=True)
    def _pack_typed(calls, out):
        ploidy = calls.shape[1] - 1
        out[:] = 0
        for s in range(calls.shape[0]):
            has_ref = False
            has_alt = False
            half = False
            for j in range(ploidy):
                allele = calls[s, j]
                if allele >= 1:
                    has_alt = True
                elif allele == 0:
                    has_ref = True
                elif allele == -1:
                    half = True
            if not (has_ref or has_alt):
                code = 3
            elif half or has_ref:  # a half-call is het if its allele is ALT
                code = 1 if has_alt else 0
            else:
                code = 2
            out[s >> 2] |= np.uint8(code << (2 * (s & 3)))

    @numba.njit(cache=True, nogil=True)
    def _pack_allele(calls, allele, out):
        ploidy = calls.shape[1] - 1
        out[:] = 0
        for s in range(calls.shape[0]):
            present = 0
            copies = 0
            missing = False
            for j in range(ploidy):
                value = calls[s, j]
                if value == -2:
                    continue
                present += 1
                if value == -1:
                    missing = True
                elif value == allele:
                    copies += 1
            if missing:
                code = 3
            elif present == 1:
                code = 2 * copies
            else:
                code = min(copies, 2)  # a polyploid call: at most two copies
            out[s >> 2] |= np.uint8(code << (2 * (s & 3)))
