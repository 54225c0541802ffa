"""Polygenic scores from PGS Catalog scoring files, and percentiles against a reference.

:func:`read_scoring_file` reads the published format (PGS Catalog scoring file format
2.0, and 1.0's ``reference_allele``): ``#key=value`` header lines (``format_version``,
``pgs_id``, ``genome_build``, ``HmPOS_build`` ...), then tab-separated columns ``rsID``,
``chr_name``, ``chr_position``, ``effect_allele``, ``other_allele``, ``effect_weight``
and, in harmonized files, ``hm_chr``/``hm_pos`` (used in preference: they are on
``HmPOS_build``). Plain or gzipped. Only additive per-allele weights are scored:
dosage-specific weights, dominant/recessive or haplotype/diplotype rows raise a UserError.

:class:`PolygenicScore` matches scoring variants to a genotype set by chromosome,
position and alleles and sums effect-allele dosage x weight, as ``plink2 --score`` does:

- Allele matching: the effect allele must be the ALT or the REF of a variant at the same
  position, and the other allele (when the file gives one) the remaining allele; swapped
  effect/other alleles are matched (dosage = 2 - ALT count). Non-ambiguous SNPs whose
  alleles match only after complementing (A<->T, C<->G) are matched as strand flips.
- Strand-ambiguous SNPs (A/T, C/G) are matched only as written, never flipped, since a
  flip cannot be told from a swap; ``drop_ambiguous=True`` excludes them instead (what
  pgsc_calc does by default). Harmonized PGS Catalog files and VCFs are forward-strand.
- Missing genotypes (-1) get the mean effect-allele dosage of the variant over the
  non-missing samples (plink2's default mean imputation), or that of a fitted reference.

Validated against PLINK 2 ``--score ... cols=+scoresums`` on real PGS Catalog scoring files
(PGS000001, PGS000002) and simulated genotypes (tests/validation/test_pgs_against_plink2.py,
1e-5 relative: plink2 prints six significant digits).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from precimed.errors import UserError

_COMPLEMENT = str.maketrans("ACGT", "TGCA")
_AMBIGUOUS = {frozenset("AT"), frozenset("CG")}
_NON_ADDITIVE = ("dosage_0_weight", "dosage_1_weight", "dosage_2_weight")
_FLAG_COLUMNS = ("is_haplotype", "is_diplotype", "is_dominant", "is_recessive",
                 "is_interaction")


@dataclass(frozen=True)
class ScoringFile:
    """A scoring file's header metadata and its variants (columns ``chrom``, ``pos``,
    ``effect_allele``, ``other_allele``, ``effect_weight``, ``rsid``)."""

    metadata: dict[str, str]
    variants: pd.DataFrame
    harmonized: bool

    @property
    def pgs_id(self) -> str:
        return self.metadata.get("pgs_id", self.metadata.get("omicspred_id", ""))

    @property
    def format_version(self) -> str:
        return self.metadata.get("format_version", "")

    @property
    def genome_build(self) -> str:
        """The build of ``variants``' positions: HmPOS_build when harmonized."""
        key = "HmPOS_build" if self.harmonized else "genome_build"
        return self.metadata.get(key, "NR")


def read_scoring_file(path, *, harmonized: bool | None = None) -> ScoringFile:
    """Read a PGS Catalog scoring file. ``harmonized`` None uses ``hm_chr``/``hm_pos``
    when present, True requires them, False uses the author-reported positions."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    metadata, header, rows = {}, None, []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if line.startswith("#"):
                key, sep, value = line.lstrip("#").partition("=")
                if sep and not line.startswith("##"):
                    metadata[key.strip()] = value.strip()
            elif header is None:
                header = line.split("\t")
            elif line:
                rows.append(line.split("\t"))
    if header is None:
        raise UserError("The scoring file has no column header", where=str(path),
                        hint="Expect a PGS Catalog scoring file (format 2.0).")
    table = pd.DataFrame(rows, columns=header, dtype=str).fillna("")
    _check_additive(table, path)
    use_hm = ("hm_pos" in table) if harmonized is None else harmonized
    return ScoringFile(metadata, _variants(table, use_hm, path), use_hm)


def _check_additive(table: pd.DataFrame, path: Path) -> None:
    for column in _NON_ADDITIVE:
        if column in table:
            raise UserError("Dosage-specific (non-additive) weights are not supported",
                            where=f"{path.name}: {column}",
                            hint="Use a scoring file with one effect_weight per allele.")
    for column in _FLAG_COLUMNS:
        if column in table and table[column].str.lower().eq("true").any():
            raise UserError(f"Rows marked {column} cannot be scored additively",
                            where=f"{path.name}: {column}",
                            hint="Only additive per-allele weights are supported.")


def _variants(table: pd.DataFrame, use_hm: bool, path: Path) -> pd.DataFrame:
    table = table.rename(columns={"reference_allele": "other_allele", "rsid": "rsID"})
    chrom, pos = ("hm_chr", "hm_pos") if use_hm else ("chr_name", "chr_position")
    required = (chrom, pos, "effect_allele", "effect_weight")
    missing = [c for c in required if c not in table]
    if missing:
        raise UserError(f"The scoring file has no column {missing[0]!r}", where=path.name,
                        hint="Variants are matched by position: use a harmonized file "
                        "(hmPOS) or one with chr_name and chr_position.")
    other = table["other_allele"] if "other_allele" in table else pd.Series("", table.index)
    if "hm_inferOtherAllele" in table:
        inferred = table["hm_inferOtherAllele"]
        single = ~inferred.str.contains("/") & (other == "")
        other = other.where(~single, inferred)
    weight = pd.to_numeric(table["effect_weight"], errors="coerce")
    if weight.isna().any():
        row = int(np.flatnonzero(weight.isna())[0])
        raise UserError("effect_weight is not a number", where=f"{path.name}: variant {row}",
                        hint="Check the scoring file is not truncated or edited.")
    return pd.DataFrame({
        "chrom": table[chrom].map(_chrom),
        "pos": pd.to_numeric(table[pos], errors="coerce").astype("Int64"),
        "effect_allele": table["effect_allele"].str.upper(),
        "other_allele": other.str.upper().replace("", None),
        "effect_weight": weight.astype(float),
        "rsid": table.get("rsID", ""),
    })


def _chrom(value) -> str:
    text = str(value).strip()
    return text[3:] if text.lower().startswith("chr") else text


class PolygenicScore:
    """Scores of a genotype set on one scoring file; see the module docstring."""

    def fit(self, scoring: ScoringFile, genotypes, variants: pd.DataFrame, *,
            samples=None, drop_ambiguous: bool = False,
            reference: PolygenicScore | None = None) -> PolygenicScore:
        """``genotypes``: an ``n_samples x n_variants`` ALT-allele count array (int8,
        -1 missing); ``variants``: one row per column with ``chrom``, ``pos``, ``ref``,
        ``alt``. ``reference``: a fitted score whose mean dosages impute missing
        genotypes (e.g. when scoring one person); by default the samples' own means."""
        g = _genotypes(genotypes, variants)
        matches = match_variants(scoring.variants, variants, drop_ambiguous=drop_ambiguous)
        used = matches[matches.column >= 0]
        columns = used.column.to_numpy(int)
        counts = g[:, columns].astype(float)
        missing = counts < 0
        dosage = np.where(used.effect_is_alt.to_numpy(bool), counts, 2 - counts)
        dosage[missing] = np.nan
        if reference is not None:
            means = reference.mean_dosage_.reindex(used.index).to_numpy(float)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                means = np.nansum(dosage, axis=0) / (~missing).sum(axis=0)
        if np.isnan(means).any():
            raise UserError("A matched variant has no genotype to impute from",
                            where="PolygenicScore.fit",
                            hint="Score with reference=<a fitted PolygenicScore>.")
        dosage = np.where(missing, means[None, :], dosage)
        weights = used.effect_weight.to_numpy(float)
        index = pd.Index(samples if samples is not None else range(len(g)), name="sample")
        self.scoring = scoring
        self.scores_ = pd.Series(dosage @ weights, index=index, name=scoring.pgs_id or "score")
        self.matches_ = matches
        self.mean_dosage_ = pd.Series(means, index=used.index)
        self.n_variants_ = len(scoring.variants)
        self.n_matched_ = len(used)
        self.match_rate_ = self.n_matched_ / self.n_variants_ if self.n_variants_ else 0.0
        self.missing_rate_ = float(missing.mean()) if missing.size else 0.0
        return self

    def _check(self) -> None:
        if not hasattr(self, "scores_"):
            raise UserError("The score is not fitted", where="PolygenicScore",
                            hint="Call fit(scoring, genotypes, variants) first.")

    def percentiles(self, reference) -> pd.Series:
        """Each sample's percentile against ``reference`` (a fitted PolygenicScore on the
        same scoring file, or its scores)."""
        self._check()
        if isinstance(reference, PolygenicScore):
            reference._check()
            reference = reference.scores_
        return pd.Series(score_percentiles(self.scores_, reference), index=self.scores_.index,
                         name="percentile")

    @property
    def summary(self) -> pd.DataFrame:
        """Scoring variants by match status."""
        self._check()
        counts = self.matches_.status.value_counts()
        return pd.DataFrame({"variants": counts, "share": counts / self.n_variants_})

    def to_dict(self) -> dict:
        self._check()
        return {"estimator": "polygenic_score", "pgs_id": self.scoring.pgs_id,
                "genome_build": self.scoring.genome_build,
                "format_version": self.scoring.format_version,
                "variants": self.n_variants_, "matched": self.n_matched_,
                "match_rate": self.match_rate_, "missing_genotype_rate": self.missing_rate_,
                "status": self.matches_.status.value_counts().to_dict(),
                "scores": self.scores_.tolist()}

    def plot_distribution(self, ax=None, *, reference=None):
        import matplotlib.pyplot as plt

        self._check()
        ax = ax or plt.subplots(figsize=(5, 3.2))[1]
        if reference is not None:
            scores = reference.scores_ if isinstance(reference, PolygenicScore) else reference
            ax.hist(np.asarray(scores, float), bins=30, alpha=0.4, label="reference")
        ax.hist(self.scores_.to_numpy(), bins=30, alpha=0.6, label=self.scores_.name)
        ax.set_xlabel("polygenic score")
        ax.set_ylabel("samples")
        ax.legend()
        return ax


def score_percentiles(scores, reference) -> np.ndarray:
    """Percentile (0-100) of each score in the reference distribution: the share of
    reference scores below it, counting ties as half (the mid-rank definition)."""
    ref = np.sort(np.asarray(reference, dtype=float))
    if len(ref) == 0 or np.isnan(ref).any():
        raise UserError("The reference scores are empty or contain missing values",
                        where="score_percentiles", hint="Pass the reference population's scores.")
    x = np.asarray(scores, dtype=float)
    below = np.searchsorted(ref, x, side="left")
    at_or_below = np.searchsorted(ref, x, side="right")
    return 100 * (below + 0.5 * (at_or_below - below)) / len(ref)


def match_variants(scoring: pd.DataFrame, variants: pd.DataFrame, *,
                   drop_ambiguous: bool = False) -> pd.DataFrame:
    """One row per scoring variant: ``column`` (genotype column, -1 if unmatched),
    ``effect_is_alt``, ``status`` (``matched``, ``swapped``, ``flipped``,
    ``flipped_swapped``, ``ambiguous_dropped``, ``allele_mismatch``, ``absent``,
    ``no_position``) and the effect weight."""
    score = scoring.reset_index(drop=True).assign(variant=lambda f: f.index)
    table = _variant_table(variants)
    pairs = score.dropna(subset=["pos"]).astype({"pos": "int64"}).merge(
        table, on=["chrom", "pos"], how="inner")
    ea, oa = pairs.effect_allele, pairs.other_allele
    ref, alt = pairs.ref, pairs.alt
    no_oa = oa.isna()
    ambiguous = pd.Series([frozenset((a, b)) in _AMBIGUOUS for a, b in zip(
        ea, oa.fillna(""), strict=True)], index=pairs.index, dtype=bool)
    ambiguous |= no_oa & pd.Series([frozenset((a, b)) in _AMBIGUOUS for a, b in zip(
        ref, alt, strict=True)], index=pairs.index, dtype=bool)
    ea_c, oa_c = ea.str.translate(_COMPLEMENT), oa.fillna("").str.translate(_COMPLEMENT)
    snp = (ea.str.len() == 1) & (ref.str.len() == 1) & (alt.str.len() == 1)
    kinds = [
        ("matched", (ea == alt) & (no_oa | (oa == ref)), True, 0),
        ("swapped", (ea == ref) & (no_oa | (oa == alt)), False, 0),
        ("flipped", snp & ~ambiguous & (ea_c == alt) & (no_oa | (oa_c == ref)), True, 1),
        ("flipped_swapped", snp & ~ambiguous & (ea_c == ref) & (no_oa | (oa_c == alt)),
         False, 1),
    ]
    pairs["status"], pairs["effect_is_alt"], pairs["rank"] = "allele_mismatch", False, 9
    for name, mask, is_alt, rank in reversed(kinds):
        pairs.loc[mask, ["status", "effect_is_alt", "rank"]] = [name, is_alt, rank]
    if drop_ambiguous:
        pairs.loc[ambiguous & (pairs["rank"] < 9), ["status", "rank"]] = ["ambiguous_dropped", 8]
    best = pairs.sort_values(["variant", "rank", "column"]).drop_duplicates("variant")
    out = score.set_index("variant")[["chrom", "pos", "effect_allele", "other_allele",
                                      "effect_weight"]].copy()
    out["column"] = -1
    out["effect_is_alt"] = False
    out["status"] = np.where(score.pos.isna(), "no_position", "absent")
    best = best.set_index("variant")
    out.loc[best.index, "status"] = best.status
    usable = best[best["rank"] < 8]
    out.loc[usable.index, "column"] = usable.column
    out.loc[usable.index, "effect_is_alt"] = usable.effect_is_alt.astype(bool)
    return out


def _variant_table(variants: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("chrom", "pos", "ref", "alt") if c not in variants]
    if missing:
        raise UserError(f"The variant table has no column {missing[0]!r}", where="variants",
                        hint="Give one row per genotype column: chrom, pos, ref, alt.")
    return pd.DataFrame({
        "chrom": variants["chrom"].map(_chrom).to_numpy(),
        "pos": pd.to_numeric(variants["pos"]).astype("int64").to_numpy(),
        "ref": variants["ref"].astype(str).str.upper().to_numpy(),
        "alt": variants["alt"].astype(str).str.upper().to_numpy(),
        "column": np.arange(len(variants)),
    })


def _genotypes(genotypes, variants: pd.DataFrame) -> np.ndarray:
    g = np.asarray(genotypes)
    if g.ndim != 2 or g.shape[1] != len(variants):
        raise UserError("genotypes must be n_samples x n_variants, one column per variant row",
                        where="PolygenicScore.fit",
                        hint=f"Got shape {g.shape} for {len(variants)} variants.")
    if not np.isin(g, (-1, 0, 1, 2)).all():
        raise UserError("genotypes must be ALT-allele counts 0, 1, 2 or -1 for missing",
                        where="PolygenicScore.fit", hint="Convert dosages to hard calls.")
    return g.astype(np.int8, copy=False)
