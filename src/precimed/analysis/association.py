"""Genome-wide association: per-variant linear and logistic regression with covariates.

Genotypes are ALT-allele counts (an ``n_samples × n_variants`` int8 array, -1 missing) or a
PLINK 1 fileset opened with :func:`precimed.analysis.genotypes.read_bed`; either is read in
blocks of variants. The model per variant is ``phenotype ~ 1 + covariates + genotype``, the
tested allele is ALT, and, as in PLINK 2's ``--glm``, a sample with a missing call is
dropped for that variant only.

Linear: phenotypes and covariates are residualised once (Frisch–Waugh–Lovell), and each
block of variants costs one matrix product with all phenotype columns at once. Variants
with missing calls take an exact corrected path: the covariate cross-products are downdated
by the dropped samples, so the estimate is the regression on the observed samples, with
residual df = n_observed − covariates − 2. Logistic: the null model is fitted once, every
variant gets a score test, and variants with score p below ``firth_threshold`` are refitted
by Newton–Raphson (Wald test), falling back to Firth's penalised likelihood when the fit
does not converge (separation), as PLINK 2's ``--glm firth-fallback``. The per-block
products run in float32 by default (genotype counts are exact in it; see ``dtype``).

Validated against PLINK 2.00a3.5 ``--glm`` on snpStats' for.exercise data and on simulated
genotypes with and without missing calls, against scipy's ``linregress``, statsmodels' OLS
and Logit, and R's Rao score test (tests/validation/test_association_against_plink2.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import special, stats

from precimed.analysis.genotypes import BedFile, GenotypeBlock, prefetched
from precimed.errors import UserError

CHI2_MEDIAN_1DF = 0.4549364  # median of chi-squared with one degree of freedom
_MAX_NEWTON = 25  # iterations before a logistic fit counts as not converged
_MAX_FIRTH = 200
_STEP_TOL = 1e-10
_BATCH = 256  # variants refitted together in the logistic Newton iterations
_VARIANT_COLUMNS = ["id", "chrom", "pos", "ref", "alt"]
_BLOCK_BYTES = 40_000_000  # per decoded block (two are alive): 1,000 variants of 10,000 float32


def genomic_inflation(pvalues) -> float:
    """λ: the median of the 1-df chi-squared statistics behind ``pvalues`` / 0.4549364."""
    p = np.asarray(pvalues, dtype=float).ravel()
    p = np.sort(p[np.isfinite(p)])
    if len(p) == 0:
        return float("nan")
    # the chi-squared statistic falls as p rises, so its median comes from the middle p's
    middle = p[[(len(p) - 1) // 2, len(p) // 2]]
    return float(np.mean(stats.chi2.isf(middle, 1)) / CHI2_MEDIAN_1DF)


class GWASResult:
    """Per-variant statistics of a GWAS; arrays are ``n_variants × n_phenotypes``.

    ``summary`` is the long table (one row per variant and phenotype), ``lambda_gc_`` the
    genomic inflation (a float for one phenotype, a Series by phenotype otherwise).
    """

    def __init__(self, *, model: str, variants: pd.DataFrame, phenotypes: list[str],
                 n: np.ndarray, alt_freq: np.ndarray, beta: np.ndarray, se: np.ndarray,
                 p: np.ndarray, method: np.ndarray | None = None):
        self.model = model
        self.statistic = "t" if model == "linear" else "z"
        self.variants = variants.reset_index(drop=True)
        self.phenotypes = phenotypes
        self.n_, self.alt_freq_, self.beta_, self.se_, self.p_ = n, alt_freq, beta, se, p
        self.method_ = method
        lambdas = pd.Series([genomic_inflation(p[:, j]) for j in range(p.shape[1])],
                            index=phenotypes, name="lambda_gc")
        self.lambda_gc_ = float(lambdas.iloc[0]) if len(phenotypes) == 1 else lambdas

    def _frame(self, column: int) -> pd.DataFrame:
        frame = self.variants[_VARIANT_COLUMNS].copy()
        frame.insert(0, "phenotype", self.phenotypes[column])
        frame["n"] = pd.array(self.n_[:, column], dtype="Int64")
        frame["alt_freq"] = self.alt_freq_[:, column]
        frame["beta"] = self.beta_[:, column]
        frame["se"] = self.se_[:, column]
        with np.errstate(invalid="ignore", divide="ignore"):
            frame[self.statistic] = self.beta_[:, column] / self.se_[:, column]
        frame["p"] = self.p_[:, column]
        if self.method_ is not None:
            frame["method"] = self.method_
        return frame

    @property
    def summary(self) -> pd.DataFrame:
        return pd.concat([self._frame(j) for j in range(len(self.phenotypes))],
                         ignore_index=True)

    def _column(self, phenotype: str | None) -> int:
        if phenotype is None:
            return 0
        if phenotype not in self.phenotypes:
            raise UserError(f"No phenotype {phenotype!r} in this result", where="GWASResult",
                            hint=f"Use one of {', '.join(self.phenotypes[:5])}.")
        return self.phenotypes.index(phenotype)

    def top_hits(self, count: int = 20, *, phenotype: str | None = None) -> pd.DataFrame:
        """The ``count`` variants with the smallest p for one phenotype (default: first)."""
        frame = self._frame(self._column(phenotype))
        return frame.nsmallest(count, "p").reset_index(drop=True)

    def to_dict(self, *, top: int = 20) -> dict:
        """JSON-able: model, sizes, λ and the ``top`` hits of each phenotype."""
        lambdas = (self.lambda_gc_.to_dict() if isinstance(self.lambda_gc_, pd.Series)
                   else {self.phenotypes[0]: self.lambda_gc_})
        hits = {name: _records(self.top_hits(top, phenotype=name)) for name in self.phenotypes}
        return {"estimator": f"{self.model}_gwas", "n_variants": len(self.variants),
                "phenotypes": list(self.phenotypes), "lambda_gc": lambdas, "top_hits": hits}

    def plot_manhattan(self, ax=None, *, phenotype: str | None = None, **options):
        from precimed.analysis.plots import manhattan

        column = self._column(phenotype)
        return manhattan(self.variants["chrom"], self.variants["pos"], self.p_[:, column],
                         ax=ax, **options)

    def plot_qq(self, ax=None, *, phenotype: str | None = None, **options):
        from precimed.analysis.plots import qq

        return qq(self.p_[:, self._column(phenotype)], ax=ax, **options)


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({key: (None if value is pd.NA or (isinstance(value, float)
                                                     and not np.isfinite(value))
                          else value.item() if isinstance(value, np.generic) else value)
                    for key, value in row.items()})
    return out


# -- inputs ------------------------------------------------------------------------------


class _Genotypes:
    """Blocks of variant-major int8 genotypes from an array or a .bed file."""

    def __init__(self, genotypes, variants: pd.DataFrame | None):
        if isinstance(genotypes, BedFile):
            self.bed, self.array = genotypes, None
            self.n_samples, self.n_variants = genotypes.shape
            table = genotypes.variants
        else:
            array = np.asarray(genotypes)
            if array.ndim != 2 or not np.issubdtype(array.dtype, np.integer):
                raise UserError("Genotypes must be an n_samples × n_variants integer array",
                                where="genotypes", hint="Use ALT counts 0/1/2, -1 for missing.")
            self.bed, self.array = None, array
            self.n_samples, self.n_variants = array.shape
            table = variants
        self.variants = _variant_table(table, self.n_variants)

    def blocks(self, size: int | None, samples: np.ndarray, dtype=np.float64
               ) -> Iterator[GenotypeBlock]:
        """Blocks restricted to the analysed ``samples`` (indices); by default as many
        variants per block as fit in ``_BLOCK_BYTES``."""
        if size is None:
            size = max(16, _BLOCK_BYTES // (self.n_samples * np.dtype(dtype).itemsize))
        subset = len(samples) < self.n_samples
        for block in self._blocks(size, dtype):
            yield block.subset(samples) if subset else block

    def _blocks(self, size: int, dtype) -> Iterator[GenotypeBlock]:
        if self.bed is not None:
            yield from prefetched(self.bed.dosage_blocks(size, dtype=dtype))
            return
        for start in range(0, self.n_variants, size):
            block = np.ascontiguousarray(self.array[:, start:start + size].T).astype(np.int8)
            if block.size and (block.min() < -1 or block.max() > 2):
                raise UserError("Genotype values must be 0, 1, 2 or -1 (missing)",
                                where=f"genotypes, variants {start}-{start + size}",
                                hint="Code genotypes as ALT allele counts.")
            yield GenotypeBlock.from_counts(start, block, dtype=dtype)


def _variant_table(table: pd.DataFrame | None, m: int) -> pd.DataFrame:
    if table is None:
        table = pd.DataFrame({"id": [f"v{j + 1}" for j in range(m)]})
    if len(table) != m:
        raise UserError(f"The variant table has {len(table)} rows for {m} genotype columns",
                        where="variants", hint="Pass one row per genotype column.")
    table = table.reset_index(drop=True).copy()
    for column in _VARIANT_COLUMNS:
        if column not in table:
            table[column] = pd.NA
    return table


def _matrix(values, n: int, what: str) -> tuple[np.ndarray, list[str]]:
    if isinstance(values, pd.Series):
        names, values = [str(values.name or what)], values.to_numpy(float)[:, None]
    elif isinstance(values, pd.DataFrame):
        names, values = [str(c) for c in values.columns], values.to_numpy(float)
    else:
        values = np.asarray(values, dtype=float)
        values = values[:, None] if values.ndim == 1 else values
        names = [what] if values.shape[1] == 1 else [f"{what}{j + 1}"
                                                    for j in range(values.shape[1])]
    if values.ndim != 2 or values.shape[0] != n:
        raise UserError(f"{what} has {values.shape[0]} rows, the genotypes {n} samples",
                        where=what, hint="Give one row per genotyped sample, in the same order.")
    return values, names


def _design(covariates, n: int) -> np.ndarray:
    """[1, covariates] as an n × (k + 1) matrix; NaN marks a missing covariate."""
    if covariates is None:
        return np.ones((n, 1))
    return np.column_stack([np.ones(n), _matrix(covariates, n, "covariates")[0]])


def _basis(design: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the columns of ``design``; collinear columns are an error."""
    q, r = np.linalg.qr(design)
    diagonal = np.abs(np.diag(r))
    if diagonal.min() <= 1e-9 * max(diagonal.max(), 1.0):
        raise UserError("The covariates are collinear (or one is constant)",
                        where="covariates", hint="Drop redundant covariate columns.")
    return q


# -- linear --------------------------------------------------------------------------------


def linear_gwas(genotypes, phenotypes, covariates=None, variants: pd.DataFrame | None = None,
                *, dtype: str = "float32", block_size: int | None = None) -> GWASResult:
    """Linear regression of each phenotype column on each variant, adjusted for covariates.

    ``phenotypes`` is a vector, an ``n × P`` array or a DataFrame (column names become the
    phenotype names); ``covariates`` an ``n × k`` array or DataFrame (an intercept is
    added). Samples missing any covariate are dropped; phenotype columns are analysed
    together when they share their pattern of missing values. ``variants`` describes the
    columns of an array (id, chrom, pos, ref, alt); a .bed file brings its own.

    ``dtype`` is the precision of the genotype-by-phenotype products for variants without
    missing calls. Genotype counts and allele sums are exact either way; with "float32"
    t and beta/SE carry an absolute error of a few 1e-6 (seen: 3.4e-6 with 10,000
    samples), so p is within ~1e-4 relative even at |t| = 20. Use "float64" for
    agreement with a double-precision regression to ~1e-10.
    """
    source = _Genotypes(genotypes, variants)
    dtype = _float_type(dtype)
    y, names = _matrix(phenotypes, source.n_samples, "phenotype")
    design = _design(covariates, source.n_samples)
    shape = (source.n_variants, y.shape[1])
    n, freq, beta, se, p = (np.empty(shape) for _ in range(5))
    observed = np.isfinite(y) & np.isfinite(design).all(1)[:, None]
    patterns, group = np.unique(observed, axis=1, return_inverse=True)
    for g in range(patterns.shape[1]):
        columns = np.flatnonzero(group.ravel() == g)
        if len(columns) == y.shape[1]:
            columns = slice(None)  # one sample set for all phenotypes: no fancy indexing
        rows = np.flatnonzero(patterns[:, g])
        if len(rows) == 0:
            for target in (n, freq, beta, se, p):
                target[:, columns] = np.nan
            continue
        fit = _LinearPass(_basis(design[rows]), y[rows][:, columns], dtype)
        for block in source.blocks(block_size, rows, dtype):
            span = slice(block.start, block.start + len(block.dosage))
            for target, values in zip((n, freq, beta, se, p), fit.block(block), strict=True):
                target[span, columns] = values
    return GWASResult(model="linear", variants=source.variants, phenotypes=names, n=n,
                      alt_freq=freq, beta=beta, se=se, p=p)


class _LinearPass:
    """Per-block statistics for phenotypes ``y`` residualised on the covariate basis ``q``."""

    def __init__(self, q: np.ndarray, y: np.ndarray, dtype):
        self.q = q
        self.k = q.shape[1]
        self.ry = y - q @ (q.T @ y)
        self.yy = (self.ry ** 2).sum(0)
        # q's first column is the constant (the design starts with the intercept), so
        # (sum g)^2 / n stands for it exactly; one matrix product per block gives sum g,
        # the other covariate components of g and g'Ry together
        self.rhs = np.column_stack([np.ones(len(y)), q[:, 1:], self.ry]).astype(dtype)

    def block(self, block: GenotypeBlock):
        x = block.dosage
        n = x.shape[1]
        products = (x @ self.rhs).astype(np.float64)
        alt, qx, sxy = products[:, 0], products[:, 1:self.k], products[:, self.k:]
        alt = np.rint(alt)  # an exact integer; float32 sums of small integers are exact
        gg = np.einsum("ij,ij->i", x, x).astype(np.float64)  # exact: integers below 2**24
        sxx = gg - alt * alt / n - np.einsum("ij,ij->i", qx, qx)
        syy = np.broadcast_to(self.yy, sxy.shape).copy()
        nobs = np.full(len(x), n)
        if len(block.missing_rows):
            rows = block.missing_rows
            nobs[rows] -= block.missing.sum(1)
            exact = x[rows].astype(np.float64)
            sxx[rows], sxy[rows], syy[rows] = self._downdated(
                exact, block.missing, exact @ self.q, (exact * exact).sum(1),
                exact @ self.ry)
        return self._statistics(nobs, alt, sxx, sxy, syy)

    def _downdated(self, x, dropped, qg, gg, gy):
        """Cross-products with the covariates partialled out on the observed samples only.

        ``x`` is 0 at the dropped samples, so Q_S'g = Q'g and g'Ry over S are already right;
        Q_S'Q_S = I - Q_M'Q_M and Q_S'Ry = -Q_M'Ry_M (Q'Ry = 0) come from the dropped rows.
        """
        b, k, p = x.shape[0], self.k, self.ry.shape[1]
        gram = np.empty((b, k, k))
        qy = np.empty((b, k, p))
        ry2 = np.empty((b, p))
        for i, mask in enumerate(dropped):
            qm = self.q[mask]
            gram[i] = np.eye(k) - qm.T @ qm
            qy[i] = -(qm.T @ self.ry[mask])
            ry2[i] = (self.ry[mask] ** 2).sum(0)
        solved_g = _solve(gram, qg[:, :, None])[:, :, 0]
        solved_y = _solve(gram, qy)
        sxx = gg - np.einsum("ij,ij->i", qg, solved_g)
        sxy = gy - np.einsum("ik,ikp->ip", qg, solved_y)
        syy = self.yy - ry2 - np.einsum("ikp,ikp->ip", qy, solved_y)
        return sxx, sxy, syy

    def _statistics(self, nobs, alt, sxx, sxy, syy):
        with np.errstate(invalid="ignore", divide="ignore"):
            freq = alt / (2 * nobs)
            constant = ~(sxx > 1e-8 * np.maximum(alt, 1))
            sxx = np.where(constant, np.nan, sxx)
            beta = sxy / sxx[:, None]
            df = (nobs - self.k - 1).astype(float)[:, None]
            rss = np.maximum(syy - sxy * beta, 0)
            se = np.sqrt(rss / df / sxx[:, None])
            p = 2 * special.stdtr(df, -np.abs(beta / se))
        nobs = np.broadcast_to(nobs[:, None], beta.shape)
        return nobs, np.broadcast_to(freq[:, None], beta.shape), beta, se, p


def _float_type(dtype) -> type:
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise UserError(f"Unsupported dtype {dtype!r}", where="dtype",
                        hint="Use 'float32' or 'float64'.")
    return np.dtype(dtype).type


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        out = np.full(b.shape, np.nan)
        for i in range(len(a)):
            # the dropped samples may leave the covariates singular: no estimate then
            with contextlib.suppress(np.linalg.LinAlgError):
                out[i] = np.linalg.solve(a[i], b[i])
        return out


# -- logistic ------------------------------------------------------------------------------


def logistic_gwas(genotypes, case_control, covariates=None,
                  variants: pd.DataFrame | None = None, *, firth_threshold: float = 1e-3,
                  dtype: str = "float32", block_size: int | None = None) -> GWASResult:
    """Logistic regression of a 0/1 case-control status on each variant, with covariates.

    Every variant gets a score test against the null model (missing calls mean-imputed,
    which only affects this screening step; ``beta`` is then the one-step estimate U/V).
    Variants with score p < ``firth_threshold`` are refitted on their observed samples:
    Newton–Raphson and a Wald test, or Firth's penalised likelihood when Newton does not
    converge. ``summary.method`` says which: ``score``, ``wald`` or ``firth``. Use
    ``firth_threshold=1`` to refit every variant, as PLINK 2 does. ``dtype`` is the
    precision of the score-test products (refits are always float64).
    """
    source = _Genotypes(genotypes, variants)
    dtype = _float_type(dtype)
    status, names = _matrix(case_control, source.n_samples, "case_control")
    if status.shape[1] != 1:
        raise UserError("logistic_gwas takes one case-control column", where="case_control",
                        hint="Run it once per binary phenotype.")
    status = status[:, 0]
    design = _design(covariates, source.n_samples)
    rows = np.flatnonzero(np.isfinite(design).all(1) & np.isfinite(status))
    y = status[rows]
    if not np.isin(y, (0, 1)).all() or y.min() == y.max():
        raise UserError("case_control must be 0 (control) or 1 (case), with both present",
                        where="case_control", hint="Recode PLINK's 1/2 as 0/1.")
    design = design[rows]
    _basis(design)
    null = _fit_null(design, y, dtype)
    m = source.n_variants
    n, freq, beta, se, p = (np.full(m, np.nan) for _ in range(5))
    method = np.full(m, "score", dtype=object)
    total = len(rows)
    candidates, dosages, observed = [], [], []
    for block in source.blocks(block_size, rows, dtype):
        span = slice(block.start, block.start + len(block.dosage))
        n[span] = total
        n[block.start + block.missing_rows] -= block.missing.sum(1)
        beta[span], se[span], p[span], alt_sum, flipped = null.score(block)
        freq[span] = alt_sum / (2 * total)  # missing calls hold the mean: the observed mean
        for j in np.flatnonzero(p[span] < firth_threshold):
            counts = block.dosage[j].astype(np.float64)  # copied: the buffer is reused
            candidates.append(block.start + j)
            dosages.append(2 - counts if flipped[j] else counts)
            called = np.ones(total, bool)
            position = np.searchsorted(block.missing_rows, j)
            if position < len(block.missing_rows) and block.missing_rows[position] == j:
                called = ~block.missing[position]
            observed.append(called)
    for first in range(0, len(candidates), _BATCH):
        chunk = range(first, min(first + _BATCH, len(candidates)))
        index = np.asarray(candidates)[chunk]
        beta[index], se[index], p[index], method[index] = _refit(
            design, y, np.array([dosages[i] for i in chunk]),
            np.array([observed[i] for i in chunk]), null.coef)
    as_column = [a[:, None] for a in (n, freq, beta, se, p)]
    return GWASResult(model="logistic", variants=source.variants, phenotypes=names,
                      n=as_column[0], alt_freq=as_column[1], beta=as_column[2],
                      se=as_column[3], p=as_column[4], method=method)


class _NullLogistic:
    def __init__(self, design: np.ndarray, y: np.ndarray, coef: np.ndarray, dtype):
        self.coef = coef
        mu = special.expit(design @ coef)
        self.residual = y - mu
        weight = mu * (1 - mu)
        q, _ = np.linalg.qr(design * np.sqrt(weight)[:, None])
        self.weight = weight.astype(dtype)
        self.rhs = np.column_stack([self.residual, q * np.sqrt(weight)[:, None]]).astype(dtype)
        self._scratch = np.empty((0, 0), dtype)

    def score(self, block: GenotypeBlock):
        """Score statistic of each variant (missing calls set to the variant's mean).

        Works in place on ``block.dosage``: missing calls are imputed and a variant whose
        ALT allele is the commoner one is scored as 2 - count (same statistic, opposite
        sign), which keeps float32 sums from cancelling. Returns beta (U/V), its SE, p, the
        ALT allele sums (missing calls at the mean) and which rows were recoded.
        """
        x = block.dosage
        if len(block.missing_rows):
            rows, missing = block.missing_rows, block.missing
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = x[rows].sum(1) / (~missing).sum(1)
            x[rows] += missing * mean[:, None].astype(x.dtype)
        sums = x.sum(1).astype(np.float64)  # exact for counts: float32 holds integers < 2**24
        flip = sums > x.shape[1]
        x[flip] = 2 - x[flip]
        products = (x @ self.rhs).astype(np.float64)
        u, projected = products[:, 0], products[:, 1:]
        if self._scratch.shape != x.shape:
            self._scratch = np.empty_like(x)  # reused: a fresh block-sized array costs more
        squares = np.square(x, out=self._scratch)
        v = (squares @ self.weight).astype(np.float64) - np.einsum("ij,ij->i", projected,
                                                                    projected)
        scored_sums = np.where(flip, 2 * x.shape[1] - sums, sums)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = np.where(v > 1e-8 * np.maximum(scored_sums, 1), v, np.nan)
            z = u / np.sqrt(v)
        sign = np.where(flip, -1.0, 1.0)
        return sign * u / v, 1 / np.sqrt(v), 2 * special.ndtr(-np.abs(z)), sums, flip


def _fit_null(design: np.ndarray, y: np.ndarray, dtype) -> _NullLogistic:
    coef = np.zeros(design.shape[1])
    coef[0] = np.log(y.mean() / (1 - y.mean()))
    for _ in range(_MAX_NEWTON):
        mu = special.expit(design @ coef)
        hessian = design.T @ (design * (mu * (1 - mu))[:, None])
        step = np.linalg.solve(hessian, design.T @ (y - mu))
        coef += step
        if np.abs(step).max() < _STEP_TOL:
            return _NullLogistic(design, y, coef, dtype)
    raise UserError("The null logistic model (covariates only) does not converge",
                    where="covariates", hint="A covariate may separate cases from controls.")


def _refit(design, y, x, observed, null_coef):
    """Wald fits of ``y ~ design + x_j`` for each row j of ``x``; Firth where they fail."""
    b, k = x.shape[0], design.shape[1]
    coef = np.zeros((b, k + 1))
    coef[:, :k] = null_coef
    obs = observed.astype(np.float64)
    outer = (design[:, :, None] * design[:, None, :]).reshape(len(y), -1)
    active = np.ones(b, bool)
    converged = np.zeros(b, bool)
    cov = np.full((b, k + 1, k + 1), np.nan)
    for _ in range(_MAX_NEWTON):
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        xa, oa = x[idx], obs[idx]
        mu = special.expit(coef[idx, :k] @ design.T + coef[idx, k:] * xa)
        w = mu * (1 - mu) * oa
        r = (y - mu) * oa
        grad = np.column_stack([r @ design, (r * xa).sum(1)])
        info = np.empty((len(idx), k + 1, k + 1))
        info[:, :k, :k] = (w @ outer).reshape(-1, k, k)
        info[:, :k, k] = info[:, k, :k] = (w * xa) @ design
        info[:, k, k] = (w * xa * xa).sum(1)
        with np.errstate(invalid="ignore"):
            inverse = _inverse(info)
        step = np.einsum("ijk,ik->ij", inverse, grad)
        coef[idx] += step
        cov[idx] = inverse
        done = np.abs(step).max(1) < _STEP_TOL
        converged[idx[done]] = True
        active[idx[done | ~np.isfinite(step).all(1)]] = False
    beta, se = coef[:, k].copy(), np.sqrt(cov[:, k, k])
    method = np.where(converged & np.isfinite(se), "wald", "firth").astype(object)
    for j in np.flatnonzero(method == "firth"):
        keep = observed[j]
        beta[j], se[j] = _firth(np.column_stack([design[keep], x[j, keep]]), y[keep])
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * special.ndtr(-np.abs(beta / se))
    return beta, se, p, method


def _inverse(info: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        out = np.full(info.shape, np.nan)
        for i, matrix in enumerate(info):
            # singular information: left NaN, so the variant goes to Firth
            with contextlib.suppress(np.linalg.LinAlgError):
                out[i] = np.linalg.inv(matrix)
        return out


def _firth(design: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Firth-penalised logistic fit; the last coefficient and its SE from (X'WX)^-1."""
    coef = np.zeros(design.shape[1])
    penalised = _penalised_loglik(design, y, coef)
    for _ in range(_MAX_FIRTH):
        mu = special.expit(design @ coef)
        w = mu * (1 - mu)
        info = design.T @ (design * w[:, None])
        try:
            inverse = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            return float("nan"), float("nan")
        hat = w * np.einsum("ij,jk,ik->i", design, inverse, design)
        step = inverse @ (design.T @ (y - mu + hat * (0.5 - mu)))
        step *= min(1.0, 5.0 / max(np.abs(step).max(), 1e-300))  # logistf's maxstep
        for _ in range(30):  # halve until the penalised likelihood does not decrease
            candidate = _penalised_loglik(design, y, coef + step)
            if candidate >= penalised - 1e-12:
                break
            step /= 2
        coef, penalised = coef + step, candidate
        if np.abs(step).max() < _STEP_TOL:
            break
    mu = special.expit(design @ coef)
    info = design.T @ (design * (mu * (1 - mu))[:, None])
    return float(coef[-1]), float(np.sqrt(np.linalg.inv(info)[-1, -1]))


def _penalised_loglik(design: np.ndarray, y: np.ndarray, coef: np.ndarray) -> float:
    eta = design @ coef
    loglik = np.sum(y * eta - np.logaddexp(0, eta))
    mu = special.expit(eta)
    sign, logdet = np.linalg.slogdet(design.T @ (design * (mu * (1 - mu))[:, None]))
    return float(loglik + 0.5 * logdet) if sign > 0 else -np.inf
