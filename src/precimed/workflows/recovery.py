"""Recovery after a crash: no staged identifier outlives it, no half-done work stays half done.

Run by ``precimed serve`` before its workers start (nothing else is running then):

- every staged upload is removed: ``incoming/web/<id>`` (unpacked packages: names,
  phones, addresses, resident IDs), ``cache/uploads/<id>`` (VCFs and sample sheets) and
  ``cache/genotype-staging/<id>`` (a genotype dataset before QC);
- a submission still ``received`` takes the status the catalog gives it: ``committed``
  (with its catalog version and rows) when the catalog names it, else ``interrupted``;
- a genotype publication left half done is finished or dropped
  (:func:`precimed.workflows.genotypes.recover_genotypes`).

Submissions the catalog names are also reconciled at the start of every ``precimed
submit`` and web submission (:func:`reconcile_committed`), which is safe while others
run: the catalog is the truth.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from precimed.lake import Lake
from precimed.ops import OpsDatabase, SubmissionRecord
from precimed.settings import Settings


@dataclass
class Recovered:
    removed: list[str] = field(default_factory=list)  # staged folders, relative to home
    committed: list[str] = field(default_factory=list)  # submissions found in the catalog
    interrupted: list[str] = field(default_factory=list)  # submissions that never committed
    genotypes: list[str] = field(default_factory=list)  # datasets rolled forward

    def lines(self) -> list[str]:
        return [f"removed {len(self.removed)} staged upload(s)",
                f"{len(self.committed)} submission(s) marked committed, "
                f"{len(self.interrupted)} interrupted",
                f"{len(self.genotypes)} genotype dataset(s) published to the lake"]


def staging_folders(settings: Settings) -> list[Path]:
    """Where uploads are staged; every child folder can hold identifiers."""
    return [settings.home / "incoming" / "web", settings.cache_dir / "uploads",
            settings.cache_dir / "genotype-staging"]


def remove_staged(settings: Settings) -> list[str]:
    removed = []
    for folder in staging_folders(settings):
        for child in sorted(folder.iterdir()) if folder.exists() else []:
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
            removed.append(str(child.relative_to(settings.home)))
    return removed


def reconcile_committed(settings: Settings, ops: OpsDatabase) -> list[str]:
    """Mark ``committed`` every ``received`` submission the catalog names."""
    by_id = {c.submission_id: c for c in Lake(settings.lake_dir).catalog().submissions.values()}
    done = []
    with ops.session() as session, session.begin():
        for record in session.scalars(select(SubmissionRecord)
                                      .where(SubmissionRecord.status == "received")):
            committed = by_id.get(record.id)
            if committed is None:
                continue
            record.status = "committed"
            record.catalog_version = committed.catalog_version
            record.finished_at = record.finished_at or dt.datetime.now(dt.UTC)
            record.report = {**(record.report or {}), "status": "committed",
                             "rows_added": committed.rows_added,
                             "rows_updated": committed.rows_updated,
                             "recovered": "the process stopped after the lake commit"}
            done.append(record.id)
    return done


def mark_interrupted(ops: OpsDatabase) -> list[str]:
    """Every submission still ``received`` never reached the catalog: interrupted."""
    done = []
    with ops.session() as session, session.begin():
        for record in session.scalars(select(SubmissionRecord)
                                      .where(SubmissionRecord.status == "received")):
            record.status = "interrupted"
            record.finished_at = dt.datetime.now(dt.UTC)
            done.append(record.id)
    return done


def recover(settings: Settings, ops: OpsDatabase) -> Recovered:
    """Everything above, in order; only when no submission or upload is running."""
    from precimed.workflows.genotypes import recover_genotypes

    result = Recovered(removed=remove_staged(settings))
    result.genotypes = recover_genotypes(settings)
    result.committed = reconcile_committed(settings, ops)
    result.interrupted = mark_interrupted(ops)
    return result
