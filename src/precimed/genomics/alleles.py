"""Counting alleles the way the platform publishes them: samples labelled by sex and
native province, hemizygous calls of males on X and Y outside the pseudo-autosomal
regions, and a dense allele count per variant and group.

Used by the lake's ``variant_summary`` (:mod:`precimed.genomics.summary`) and by the
population reference database (:mod:`precimed.reference.frequencies`), so the lake's
totals and the database's ``all`` group follow one rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from precimed.standard import SEX
from precimed.standard.regions import region_of

UNKNOWN = "unknown"

# Pseudo-autosomal regions (1-based, inclusive), where males are diploid on X and Y.
_PAR = {
    "GRCh37": {"X": ((60_001, 2_699_520), (154_931_044, 155_260_560)),
               "Y": ((10_001, 2_649_520), (59_034_050, 59_363_566))},
    "GRCh38": {"X": ((10_001, 2_781_479), (155_701_383, 156_030_895)),
               "Y": ((10_001, 2_781_479), (56_887_903, 57_217_415))},
}


def sex_code(raw: object) -> str:
    """GB/T 2261.1 code from a code, 男/女, M/F or male/female; else ``unknown``."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return UNKNOWN
    return SEX.code_for(str(raw)) or UNKNOWN


def label_samples(samples: pd.DataFrame, participants: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
    """The store's samples with every grouping column filled (``unknown`` if absent).

    Participant samples carry sex and native province from the lake (copied at ingest);
    ``participants`` (pseudonym, sex, native_province), e.g. a release's participant
    table, overrides them for the samples whose ``sample_id`` it lists. The region is
    always derived from the province, as the standard derives it, so region totals are
    sums of their provinces.
    """
    out = samples[["sample_index", "dataset", "sample_id"]].copy()
    for column in ("sex", "native_province", "population", "super_population"):
        values = (samples[column] if column in samples
                  else pd.Series(None, index=out.index, dtype=object))
        out[column] = values.where(values.notna() & (values != ""), UNKNOWN).astype(str)
    out["sex"] = out["sex"].map(sex_code)
    if participants is not None and len(participants):
        people = participants.drop_duplicates("pseudonym").set_index("pseudonym")
        known = out["sample_id"].isin(people.index)
        rows = people.loc[out.loc[known, "sample_id"]]
        out.loc[known, "sex"] = rows["sex"].map(sex_code).to_numpy()
        out.loc[known, "native_province"] = (rows["native_province"].fillna(UNKNOWN)
                                             .astype(str).to_numpy())
    out = out.rename(columns={"native_province": "province"})
    out["region"] = [region_of(p) or UNKNOWN for p in out["province"]]
    return out


def hemizygous_variants(variants: pd.DataFrame) -> np.ndarray:
    """Per variant: True on X or Y outside the pseudo-autosomal regions (of its build;
    GRCh38's when the build is unknown)."""
    chrom = variants["chrom"].to_numpy().astype(str)
    pos = variants["pos"].to_numpy().astype(np.int64)
    build = (variants["build"].to_numpy().astype(str) if "build" in variants
             else np.full(len(variants), "GRCh38"))
    outside = np.isin(chrom, ["X", "Y"])
    for name in np.unique(build[outside]):
        pars = _PAR.get(name, _PAR["GRCh38"])
        for sex_chrom, regions in pars.items():
            on = outside & (build == name) & (chrom == sex_chrom)
            for a, b in regions:
                outside[on & (pos >= a) & (pos <= b)] = False
    return outside


def haploid_mask(variants: pd.DataFrame, male: np.ndarray) -> np.ndarray:
    """variants × samples: True where a call is hemizygous (male, X/Y outside PARs)."""
    return hemizygous_variants(variants)[:, None] & male[None, :]


def count_alleles(genotypes: np.ndarray, haploid: np.ndarray, membership: np.ndarray
                  ) -> dict[str, np.ndarray]:
    """Per variant × group: AC, AN, hom-alt, carriers and people called.

    ``genotypes`` holds ALT counts (-1 missing), variants × samples; ``haploid`` marks
    hemizygous calls, whose ALT (coded 1 or 2) counts once. The dense reference that
    :func:`build_summary`'s packed counting is tested against.
    """
    called = genotypes >= 0
    alt = np.where(called, genotypes, 0).astype(np.int64)
    has_alt = alt > 0
    per_sample = {
        "allele_count": np.where(haploid, has_alt, alt),
        "allele_number": np.where(called, np.where(haploid, 1, 2), 0),
        "hom_alt": np.where(haploid, has_alt, alt == 2),
        "carriers": has_alt,
        "called": called,
    }
    weights = membership.astype(np.float64)
    return {name: np.rint(values.astype(np.float64) @ weights).astype(np.int64)
            for name, values in per_sample.items()}
