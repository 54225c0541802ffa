"""Long jobs started from the web, run in a background thread of the server process.

A job's status and progress lines live in the ops database, so any worker can answer
"how far is it". Two kinds:

- ``submission``: the uploaded zip is unpacked into the home's ``incoming`` folder
  (:func:`precimed.ingest.archive.unpack`: only the manifest's files, within the settings'
  limits) and submitted by the same pipeline as
  ``precimed submit``; the job points at its submission.
- ``genotypes``: an uploaded VCF and sample sheet are submitted by the same gate as
  ``precimed genomics submit``; the job keeps the verdict, counts, scoring id and whether
  the dataset was published as its ``result``.

A user error ends a job as failed with the error's what, where and hint; anything else
ends it with only a reference, the traceback going to the server's log.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import update

from precimed.errors import UserError
from precimed.ops import OpsDatabase
from precimed.ops.db import Job
from precimed.settings import Settings

if TYPE_CHECKING:
    from precimed.workflows.genotypes import GenotypeSubmission

log = logging.getLogger("precimed.jobs")
# one genotype submission at a time per process: each rewrites the served store's
# variant union and store.json, which has no writer lock of its own
_GENOTYPE_WRITER = threading.Lock()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def save_upload(upload, target: Path, *, field: str, name: str, limit: int, hint: str
                ) -> int:
    """Copy an uploaded file (a FastAPI ``UploadFile``, form field ``field``, called
    ``name`` in messages) to ``target`` in 1 MiB chunks, refusing it past ``limit`` bytes
    or when empty; returns its size."""
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise UserError(f"The {name} is larger than {_size(limit)}",
                                where=field, hint=hint)
            out.write(chunk)
    if size == 0:
        raise UserError(f"The {name} is empty", where=field,
                        hint="Choose the file again; it may not have been read.")
    return size


def _size(n: int) -> str:
    if n < 1024**2:
        return f"{n:,} bytes"
    return f"{n // 1024**3:,} GiB" if n % 1024**3 == 0 else f"{n // 1024**2:,} MiB"


def manifest_centre(package: Path) -> str:
    from precimed.errors import SubmissionRejected
    from precimed.ingest.package import read_manifest

    try:
        return read_manifest(package).centre
    except SubmissionRejected as exc:
        raise UserError(exc.what, where="manifest.json", hint=exc.hint) from None


def create(ops: OpsDatabase, *, kind: str, owner_id: int, centre: str) -> str:
    job_id = secrets.token_hex(8)
    with ops.session() as session, session.begin():
        session.add(Job(id=job_id, kind=kind, owner_id=owner_id, centre=centre,
                        status="queued", progress=[], created_at=_now()))
    return job_id


def _update(ops: OpsDatabase, job_id: str, **values) -> None:
    with ops.session() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id).values(**values))


def _say(ops: OpsDatabase, job_id: str):
    lines: list[str] = []
    started = _now()

    def say(message: str) -> None:
        seconds = (_now() - started).total_seconds()
        lines.append(f"[{seconds:6.1f}s] {message}")
        _update(ops, job_id, progress=list(lines))

    return say


def _start(ops: OpsDatabase, job_id: str, work: Callable[[Callable], dict],
           workdir: Path, *, on_done=None) -> threading.Thread:
    """Run ``work(say)`` in a thread; the dict it returns is stored on the finished job.
    ``workdir`` (the upload) is removed after, whatever happened."""

    def run() -> None:
        _update(ops, job_id, status="running")
        try:
            outcome = work(_say(ops, job_id))
            _update(ops, job_id, status="done", finished_at=_now(), **outcome)
        except UserError as exc:
            _update(ops, job_id, status="failed", error=exc.to_dict(), finished_at=_now())
        except Exception:
            from precimed.errors import internal_reference

            ref = internal_reference()
            log.exception("job %s failed, ref %s", job_id, ref)
            _update(ops, job_id, status="failed", finished_at=_now(),
                    error={"kind": "internal", "what": "Internal error", "where": "",
                           "hint": f"Quote reference {ref} to your administrator."})
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            if on_done is not None:
                on_done()

    thread = threading.Thread(target=run, name=f"job-{job_id}", daemon=True)
    thread.start()
    return thread


def run_submission(settings: Settings, ops: OpsDatabase, job_id: str, package: Path,
                   workdir: Path, *, on_done=None) -> threading.Thread:
    """Submit ``package`` in a thread; ``workdir`` (the unpacked upload) is removed after."""
    from precimed.ingest.pipeline import submit
    from precimed.workflows.recovery import reconcile_committed

    def work(say) -> dict:
        reconcile_committed(settings, ops)  # a killed earlier submission's status first
        return {"submission_id": submit(package, settings, progress=say).submission_id}

    return _start(ops, job_id, work, workdir, on_done=on_done)


@dataclass(frozen=True)
class GenotypeUpload:
    """An uploaded VCF and its sample sheet, kept in ``workdir``, and what to submit them as."""

    workdir: Path
    vcf: Path
    sheet: Path
    centre: str
    build: str
    dataset: str
    assay_type: str
    replace: bool

    def shown(self, error: UserError) -> UserError:
        """The error with the server's paths of the files replaced by their names: users
        see the files they uploaded, not where the server keeps them."""
        def cut(text: str) -> str:
            for path in (self.vcf, self.sheet):
                text = text.replace(str(path), path.name)
            return text

        return type(error)(cut(error.what), where=cut(error.where), hint=cut(error.hint))


def run_genotypes(settings: Settings, ops: OpsDatabase, job_id: str,
                  upload: GenotypeUpload, *, on_done=None) -> threading.Thread:
    """Submit uploaded genotypes in a thread
    (:func:`precimed.workflows.genotypes.submit_genotypes`);
    the upload's folder is removed after."""
    from precimed.workflows.genotypes import submit_genotypes

    def work(say) -> dict:
        if not _GENOTYPE_WRITER.acquire(blocking=False):
            say("waiting for another genotype submission to finish")
            _GENOTYPE_WRITER.acquire()
        try:
            result = submit_genotypes(
                settings, upload.vcf, upload.sheet, centre=upload.centre, build=upload.build,
                dataset=upload.dataset, assay_type=upload.assay_type, replace=upload.replace,
                progress=say)
        except UserError as exc:
            raise upload.shown(exc) from None
        finally:
            _GENOTYPE_WRITER.release()
        say(f"QC verdict {result.verdict}: "
            + ("published" if result.published else "NOT published"))
        return {"result": genotype_result(result, dataset=upload.dataset)}

    return _start(ops, job_id, work, upload.workdir, on_done=on_done)


def genotype_result(result: GenotypeSubmission, *, dataset: str) -> dict:
    """What a genotype job reports: the verdict, counts, the scoring and the checks that
    did not pass with their names (no sample or participant is named); the page links
    the scoring's checks (``/submissions/qc/<scoring_id>``)."""
    by_status: dict[str, list[str]] = {"fail": [], "warn": []}
    for check in result.outcome.results:
        if check.status in by_status and check.check not in by_status[check.status]:
            by_status[check.status].append(check.check)
    return {"kind": "genotypes", "dataset": dataset, "verdict": result.verdict,
            "samples": result.samples, "variants": result.variants,
            "scoring_id": result.scoring_id, "published": result.published,
            "failed_checks": by_status["fail"], "warned_checks": by_status["warn"],
            # the rule set's names of those checks, [zh, en], for the page to show
            "check_names": {c: [result.outcome.checks.get(c, {}).get("zh", c),
                                result.outcome.checks.get(c, {}).get("en", c)]
                            for c in by_status["fail"] + by_status["warn"]}}


def interrupted(ops: OpsDatabase) -> int:
    """Mark jobs left running by a stopped server as failed (run once at start-up)."""
    with ops.session() as session, session.begin():
        result = session.execute(
            update(Job).where(Job.status.in_(("queued", "running")))
            .values(status="failed", finished_at=_now(),
                    error={"kind": "interrupted", "what": "The server stopped during the job",
                           "where": "", "hint": "Upload the files again."}))
        return result.rowcount
