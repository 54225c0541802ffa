"""Long jobs started from the web, run in a background thread of the server process.

A job's status and progress lines live in the ops database, so any worker can answer
"how far is it". Submissions are the one kind today: the uploaded zip is unpacked into
the home's ``incoming`` folder (names checked against path traversal, sizes bounded)
and submitted by the same pipeline as ``precimed submit``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import shutil
import threading
import zipfile
from pathlib import Path, PurePosixPath

from sqlalchemy import update

from precimed.errors import UserError
from precimed.ingest.package import MANIFEST
from precimed.ops import OpsDatabase
from precimed.ops.db import Job
from precimed.settings import Settings

log = logging.getLogger("precimed.jobs")
MAX_UNPACKED = 8 * 1024**3
MAX_MEMBERS = 10_000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def unpack(archive: Path, into: Path) -> Path:
    """Unpack a package zip safely; return the folder holding manifest.json."""
    try:
        bundle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise UserError("The upload is not a zip archive", where="file",
                        hint="Zip the package folder (manifest.json, mapping.json and the "
                             "data files) and upload the .zip.") from None
    with bundle:
        members = bundle.infolist()
        if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED:
            raise UserError("The archive is too large to unpack", where="file",
                            hint="Split the submission, or submit it with 'precimed submit'.")
        for member in members:
            name = PurePosixPath(member.filename)
            if name.is_absolute() or ".." in name.parts or "\\" in member.filename:
                raise UserError(f"The archive holds an unsafe path {member.filename!r}",
                                where="file", hint="Zip the package folder itself.")
        bundle.extractall(into)
    manifests = sorted(into.rglob(MANIFEST), key=lambda p: len(p.parts))
    if not manifests:
        raise UserError("The archive holds no manifest.json", where="file",
                        hint="A package is a folder with manifest.json; zip that folder.")
    return manifests[0].parent


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


def run_submission(settings: Settings, ops: OpsDatabase, job_id: str, package: Path,
                   workdir: Path, *, on_done=None) -> threading.Thread:
    """Submit ``package`` in a thread; ``workdir`` (the unpacked upload) is removed after."""
    from precimed.ingest.pipeline import submit

    def work() -> None:
        _update(ops, job_id, status="running")
        try:
            result = submit(package, settings, progress=_say(ops, job_id))
            _update(ops, job_id, status="done", submission_id=result.submission_id,
                    finished_at=_now())
        except UserError as exc:
            _update(ops, job_id, status="failed", error=exc.to_dict(), finished_at=_now())
        except Exception:
            from precimed.errors import internal_reference

            ref = internal_reference()
            log.exception("submission job %s failed, ref %s", job_id, ref)
            _update(ops, job_id, status="failed", finished_at=_now(),
                    error={"kind": "internal", "what": "Internal error", "where": "",
                           "hint": f"Quote reference {ref} to your administrator."})
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            if on_done is not None:
                on_done()

    thread = threading.Thread(target=work, name=f"job-{job_id}", daemon=True)
    thread.start()
    return thread


def interrupted(ops: OpsDatabase) -> int:
    """Mark jobs left running by a stopped server as failed (run once at start-up)."""
    with ops.session() as session, session.begin():
        result = session.execute(
            update(Job).where(Job.status.in_(("queued", "running")))
            .values(status="failed", finished_at=_now(),
                    error={"kind": "interrupted", "what": "The server stopped during the job",
                           "where": "", "hint": "Upload the package again."}))
        return result.rowcount
