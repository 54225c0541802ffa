"""Submitting a centre's genotypes: ingest into a staging store, score under the genotype
rule set, and publish only what passes the gate — the same gate, scoring record and
scorecard as clinical packages (``precimed.qc``).

1. ``ingest_participants`` writes the VCF, pseudonymised, into a staging store under the
   home's cache (never the served store).
2. ``genotype_qc`` scores it; the verdict is :class:`precimed.qc.runner.QcOutcome`'s rule: a
   failing error check fails the submission, a failing warning passes it with warnings.
3. The scoring is kept as a ``qc_scoring`` row (kind ``genotype``), so it shows on the
   centre's scorecard beside its clinical submissions, whatever the verdict.
4. On pass the staged dataset is copied into the served store (``HOME/genotypes``), one
   ``assay`` row per sample is committed to the lake, and the dataset's rows of the lake's
   ``variant_summary`` are replaced (:mod:`precimed.genomics.summary`), and the served
   population reference database is rebuilt (:mod:`precimed.reference.served`); on fail
   nothing is published.

Publishing is crash-safe by one ordering and one recovery rule. Before anything is
published an intent (``HOME/genotypes/pending/<dataset>.json``: centre, scoring, the
VCF's SHA-256) is written; then the assay rows (idempotent by the VCF's digest), then the
store (``store.json`` replaced last: the commit point), then the variant summary; then
the intent is removed. :func:`recover_genotypes` (at server start and before every
genotype submission) finishes what an intent left: if the store holds the dataset from
that VCF, the summary is published (rolled forward); if not, nothing was published and the
intent is dropped. So a dataset is in both the store and the lake's ``variant_summary``
or in neither, and the same VCF uploaded again is accepted as already published.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from precimed.deid.pseudonym import Pseudonymiser, load_key
from precimed.files import locked, write_atomically
from precimed.genomics import kernels
from precimed.genomics.qc import genotype_qc, load_genotype_rules
from precimed.genomics.store import DatasetFiles, GenotypeStore, check_dataset_name
from precimed.genomics.summary import publish_variant_summary
from precimed.genomics.vcf import ingest_participants, record_assays
from precimed.ingest.package import sha256_of
from precimed.lake import Lake
from precimed.ops import OpsDatabase
from precimed.ops.db import QcScoring
from precimed.qc.runner import QcOutcome
from precimed.reference.served import rebuild
from precimed.settings import Settings


@dataclass(frozen=True)
class GenotypeSubmission:
    scoring_id: str
    verdict: str
    outcome: QcOutcome
    samples: int
    variants: int
    published: bool


def submit_genotypes(settings: Settings, vcf: Path, sample_sheet: Path, *, centre: str,
                     build: str, dataset: str = "precimed", assay_type: str = "genotype_array",
                     performed_on: dt.date | None = None, platform: str | None = None,
                     rules: str = "1.0", replace: bool = False,
                     rebuild_reference: bool = True, progress=None) -> GenotypeSubmission:
    say = progress or (lambda _: None)
    check_dataset_name(dataset)  # before anything is read or written
    recover_genotypes(settings)  # a killed submission's half-publication first
    lake = Lake(settings.lake_dir)
    ruleset = load_genotype_rules(rules)
    staging = settings.cache_dir / "genotype-staging" / secrets.token_hex(6)
    ops = OpsDatabase(settings.database_url)
    ops.create()
    try:
        say(f"reading and pseudonymising {Path(vcf).name}")
        store, rows = ingest_participants(
            vcf, staging, sample_sheet=sample_sheet, build=build, lake=lake,
            pseudonymise=Pseudonymiser(load_key(settings.pseudonym_key_file)),
            dataset=dataset, assay_type=assay_type, centre=centre,
            performed_on=performed_on or dt.date.today(), platform=platform)
        say("scoring genotype QC")
        outcome = QcOutcome(rules_version=f"genotype-{ruleset.version}",
                            rules_digest=ruleset.digest(),
                            centre=centre, results=genotype_qc(store, ruleset,
                                                               dataset=dataset),
                            checks={cid: {"zh": spec.zh, "en": spec.en}
                                    for cid, spec in ruleset.checks.items()})
        scoring_id = f"genotypes-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{centre}-" \
                     f"{secrets.token_hex(3)}"
        ops.add(QcScoring(id=scoring_id, submission_id=None, centre=centre, kind="genotype",
                          rules_version=outcome.rules_version, verdict=outcome.verdict,
                          scored_at=dt.datetime.now(dt.UTC), catalog_version=None,
                          pass_rates=outcome.pass_rates(),
                          results=[r.to_dict() for r in outcome.results]))
        samples, variants = len(store.samples(dataset)), len(store.variants())
        if outcome.verdict == "fail":
            return GenotypeSubmission(scoring_id, "fail", outcome, samples, variants, False)
        digest = sha256_of(Path(vcf))
        with _publishing(settings):
            intent = _intend(settings, dataset, centre=centre, scoring_id=scoring_id,
                             sha256=digest)
            record_assays(lake, rows, centre=centre, digest=f"genotypes-{digest}")
            say("publishing to the genotype store")
            _publish(staging, settings.genotypes_dir, dataset, replace=replace)
            say("summarising variants into the lake")
            publish_variant_summary(lake, GenotypeStore.open(settings.genotypes_dir),
                                    dataset, centre=centre, submission_id=scoring_id)
            intent.unlink()
        if rebuild_reference:
            say("rebuilding the population reference database")
            rebuild(settings)
        return GenotypeSubmission(scoring_id, outcome.verdict, outcome, samples, variants,
                                  True)
    finally:
        ops.dispose()
        shutil.rmtree(staging, ignore_errors=True)


def _pending(settings: Settings) -> Path:
    return settings.genotypes_dir / "pending"


@contextmanager
def _publishing(settings: Settings):
    """One publisher at a time, any process: recovery never judges an intent that a live
    submission is still carrying out."""
    with locked(_pending(settings) / ".lock"):
        yield


def _intend(settings: Settings, dataset: str, **what: str) -> Path:
    folder = _pending(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dataset}.json"
    write_atomically(path, json.dumps({"dataset": dataset, **what}))
    return path


def published_from(settings: Settings, dataset: str) -> str | None:
    """The SHA-256 of the VCF the store's dataset was made from (None: not in the store)."""
    if not (settings.genotypes_dir / "store.json").exists():
        return None
    meta = GenotypeStore.open(settings.genotypes_dir).meta
    entry = next((d for d in meta["datasets"] if d["name"] == dataset), None)
    return None if entry is None else (entry.get("source") or {}).get("sha256")


def recover_genotypes(settings: Settings) -> list[str]:
    """Finish or drop what a killed genotype submission left (see the module's rule);
    returns the datasets whose summary was rolled forward."""
    folder = _pending(settings)
    if not folder.exists() or not any(folder.glob("*.json")):
        return []
    rolled: list[str] = []
    with _publishing(settings):
        for path in sorted(folder.glob("*.json")):
            intent = json.loads(path.read_text(encoding="utf-8"))
            if published_from(settings, intent["dataset"]) == intent["sha256"]:
                publish_variant_summary(Lake(settings.lake_dir),
                                        GenotypeStore.open(settings.genotypes_dir),
                                        intent["dataset"], centre=intent["centre"],
                                        submission_id=intent["scoring_id"])
                rolled.append(intent["dataset"])
            path.unlink()
    if rolled:
        rebuild(settings)
    return rolled


def _publish(staging: Path, target: Path, dataset: str, *, replace: bool) -> None:
    """Copy one staged dataset into the served store (the store rebuilds its variant
    union and replaces store.json last, so readers never see half a dataset)."""
    staged = GenotypeStore.open(staging)
    entry = next(d for d in staged.meta["datasets"] if d["name"] == dataset)
    folder = staging / "datasets" / dataset
    samples = pd.read_parquet(folder / "samples.parquet")
    variants = pd.read_parquet(folder / "variants.parquet")
    packed = np.fromfile(folder / "genotypes.bin", dtype=np.uint8).reshape(
        len(variants), kernels.row_bytes(len(samples)))
    GenotypeStore.write_dataset(target, DatasetFiles(
        dataset, entry["kind"], samples, variants, packed, staged.build, entry["source"]),
        replace=replace)
