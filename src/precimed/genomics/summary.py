"""The lake's per-variant summary (standard table ``variant_summary``): one row per
variant and genotype dataset, computed from the genotype store when a dataset is
published, and replaced whole when the dataset is.

Counts come from the packed store's counting kernel (:meth:`GenotypeStore.counts`), so a
summary costs one pass over the packed rows. Calls of males on X and Y outside the
pseudo-autosomal regions are hemizygous: those few variants are recounted from decoded
genotypes by :func:`precimed.genomics.alleles.count_alleles`, the rule the
population reference database applies, so the lake's totals equal the database's
``all`` group. Hardy-Weinberg p-values use the exact test of
:func:`precimed.genomics.kernels.hwe_exact` on autosomes.

The summary is for analysis inside the platform (a release freezes it with every other
table); published frequencies by sub-population pass disclosure control in
:mod:`precimed.reference`.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pyarrow as pa

from precimed.genomics import kernels
from precimed.genomics.alleles import count_alleles, haploid_mask, label_samples
from precimed.genomics.store import GenotypeStore
from precimed.lake import Lake
from precimed.lake.catalog import CommittedSubmission
from precimed.standard import STANDARD_VERSION

TABLE = "variant_summary"
REFERENCE_CENTRE = "reference"  # the centre column of rows from a public callset
_AUTOSOMES = {str(i) for i in range(1, 23)}


def variant_summary(store: GenotypeStore, dataset: str, *,
                    participants: pd.DataFrame | None = None) -> pd.DataFrame:
    """The standard's ``variant_summary`` fields for one dataset of the store.

    ``participants`` (pseudonym, sex, ...) overrides the sex the store copied at ingest,
    as in :func:`precimed.genomics.alleles.label_samples`. Variants the dataset has
    no call for (typed by another dataset only, or never called) get no row.
    """
    labelled = label_samples(store.samples(dataset), participants)
    samples = labelled["sample_index"].to_numpy()
    variants = store.variants().reset_index(drop=True)
    counts = store.counts(None, samples)
    n = len(samples)
    called = n - counts["missing"]
    out = {
        "allele_count": counts["allele_count"].copy(),
        "allele_number": counts["allele_number"].copy(),
        "het": counts["het"].copy(),
        "hom_alt": counts["hom_alt"].copy(),
    }
    male = (labelled["sex"] == "1").to_numpy()
    hemizygous = haploid_mask(variants, male)
    recount = np.flatnonzero(hemizygous.any(axis=1))
    if len(recount):
        genotypes = store.genotypes(variants["variant_index"].to_numpy()[recount], samples).T
        again = count_alleles(genotypes, hemizygous[recount], np.ones((n, 1), dtype=bool))
        for name in ("allele_count", "allele_number", "hom_alt"):
            out[name][recount] = again[name][:, 0]
        out["het"][recount] = again["carriers"][:, 0] - again["hom_alt"][:, 0]
    autosomal = variants["chrom"].astype(str).isin(_AUTOSOMES).to_numpy()
    hwe = np.full(len(variants), np.nan)
    if autosomal.any():
        hwe[autosomal] = kernels.hwe_exact(counts["het"][autosomal],
                                           counts["hom_ref"][autosomal],
                                           counts["hom_alt"][autosomal])
    an = out["allele_number"]
    frame = pd.DataFrame({
        "dataset": dataset,
        "dataset_kind": _kind(store, dataset),
        "build": store.build,
        "variant_id": (variants["chrom"].astype(str) + "-" + variants["pos"].astype(str)
                       + "-" + variants["ref"] + "-" + variants["alt"]),
        "chrom": variants["chrom"].astype(str),
        "pos": variants["pos"].astype(np.int64),
        "ref": variants["ref"],
        "alt": variants["alt"],
        "rsid": variants.get("rsid"),
        "samples": n,
        "called": called,
        "call_rate": called / n if n else np.zeros(len(variants)),
        **out,
        "allele_frequency": np.divide(out["allele_count"], an, out=np.full(len(an), np.nan),
                                      where=an > 0),
        "hwe_p": hwe,
    })
    frame["rsid"] = frame["rsid"].where(frame["rsid"].notna(), None)
    frame["hwe_p"] = frame["hwe_p"].where(~np.isnan(hwe) & (called > 0), None)
    frame["allele_frequency"] = frame["allele_frequency"].where(an > 0, None)
    return frame[called > 0].reset_index(drop=True)


def _kind(store: GenotypeStore, dataset: str) -> str:
    entry = next(d for d in store.meta["datasets"] if d["name"] == dataset)
    return entry.get("kind", "reference")


def publish_variant_summary(lake: Lake, store: GenotypeStore, dataset: str, *,
                            centre: str | None = None, submission_id: str | None = None,
                            participants: pd.DataFrame | None = None
                            ) -> tuple[CommittedSubmission, bool]:
    """Compute one dataset's summary and replace its rows in the lake, in one catalog
    write. ``centre`` is the submitting centre (``reference`` for a public callset).

    The people the lake keeps out of genetics are left out of the counts
    (:mod:`precimed.genomics.consent`). Idempotent: the digest is that of the dataset's
    source (the VCF's sha256, recorded in the store at ingest) and the summary's content,
    so publishing the same dataset again writes nothing, a dataset replaced by another VCF
    replaces its rows, and so does a change of consent.
    """
    from precimed.genomics.consent import consented_store
    from precimed.lake.rows import with_row_keys

    summary = variant_summary(consented_store(store, lake), dataset, participants=participants)
    kind = _kind(store, dataset)
    centre = centre or REFERENCE_CENTRE
    source = next(d for d in store.meta["datasets"] if d["name"] == dataset).get("source", {})
    content = hashlib.sha256(pd.util.hash_pandas_object(summary, index=False)
                             .to_numpy().tobytes()).hexdigest()
    digest = "variant-summary-" + hashlib.sha256(json.dumps(
        [dataset, kind, store.build, source.get("sha256"), content]).encode()).hexdigest()
    submission_id = submission_id or f"{TABLE}-{dataset}-{content[:12]}"
    rows = pa.Table.from_pandas(summary, preserve_index=False).append_column(
        "centre", pa.array([centre] * len(summary), pa.string())).append_column(
        "submission_id", pa.array([submission_id] * len(summary), pa.string())).append_column(
        "standard_version", pa.array([STANDARD_VERSION] * len(summary), pa.string()))
    import ibis

    con = ibis.duckdb.connect()
    try:
        keyed = with_row_keys(TABLE, rows, con)
    finally:
        con.disconnect()
    return lake.replace_rows(TABLE, keyed, where={"dataset": dataset},
                             submission_id=submission_id, centre=centre, digest=digest)
