"""Submissions: upload a package (zip), watch its job, read its QC report and the
centre's scorecard. Data managers see only their own centres' submissions."""

from __future__ import annotations

import secrets
import shutil

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from precimed.api import jobs
from precimed.api.deps import check_centre, client_of, platform, require
from precimed.errors import NotFound
from precimed.ingest.archive import ArchiveLimits, unpack
from precimed.ops import audit
from precimed.ops.accounts import Principal
from precimed.ops.db import Job
from precimed.qc.scorecard import scorecard, scorecard_html
from precimed.workflows import submissions as services

router = APIRouter(tags=["submissions"])


@router.get("/submissions", summary="Submissions of the centres I serve, newest first")
def list_submissions(request: Request, centre: str | None = None,
                     principal: Principal = Depends(require("submissions.read"))) -> list:
    return list(reversed(services.summaries(
        services.visible_submissions(platform(request), principal, centre))))


def get_submission(request: Request, principal: Principal, submission_id: str):
    record = platform(request).ops.submission(submission_id)
    if record is None:
        raise NotFound("No submission here", where="submission",
                       hint="List submissions to find its id.")
    check_centre(principal, record.centre, "submission")
    return record


@router.get("/submissions/{submission_id}", summary="One submission and its full report")
def read_submission(submission_id: str, request: Request,
                    principal: Principal = Depends(require("submissions.read"))) -> dict:
    record = get_submission(request, principal, submission_id)
    return {**services.summary(record, services.same_as(platform(request), record)),
            "report": record.report}


@router.get("/submissions/{submission_id}/report", response_class=HTMLResponse,
            summary="The submission's QC report page (zh/en); for an unchanged "
                    "resubmission, a redirect to the original's")
def report_page(submission_id: str, request: Request,
                principal: Principal = Depends(require("submissions.read"))) -> Response:
    record = get_submission(request, principal, submission_id)
    original = services.same_as(platform(request), record)
    if original is not None:  # the same package again: its report is the original's
        return RedirectResponse(f"/api/v1/submissions/{original}/report", status_code=303)
    path = platform(request).settings.reports_dir / f"{record.id}.html"
    if not path.exists():
        raise NotFound("This submission has no QC report", where="submission",
                       hint="Reports are written when QC ran; see the JSON report.")
    return HTMLResponse(path.read_text(encoding="utf-8"))


@router.post("/submissions", status_code=202,
             summary="Upload a package as a .zip; returns a job to watch")
def upload(request: Request, file: UploadFile = File(...),
           principal: Principal = Depends(require("submissions.create"))) -> dict:
    p = platform(request)
    job_dir = p.settings.home / "incoming" / "web" / secrets.token_hex(8)
    job_dir.mkdir(parents=True)
    try:
        archive = job_dir / "upload.zip"
        size = jobs.save_upload(file, archive, field="file", name="upload",
                                limit=p.settings.max_upload_bytes,
                                hint="Submit large packages with 'precimed submit'.")
        package = unpack(archive, job_dir / "package", limits=ArchiveLimits.of(p.settings))
        archive.unlink()
        centre = jobs.manifest_centre(package)
        check_centre(principal, centre, "centre")
    except BaseException:
        shutil.rmtree(job_dir, ignore_errors=True)
        raise
    job_id = jobs.create(p.ops, kind="submission", owner_id=principal.user_id, centre=centre)
    audit.record(p.ops, actor=principal.username, action="submission.upload", outcome="ok",
                 resource=f"job {job_id}", client=client_of(request),
                 detail={"centre": centre, "bytes": size})
    jobs.run_submission(p.settings, p.ops, job_id, package, job_dir, on_done=p.forget)
    return {"job": job_id, "centre": centre, "status": "queued"}


def job_dict(job: Job) -> dict:
    return {"id": job.id, "kind": job.kind, "centre": job.centre, "status": job.status,
            "progress": job.progress, "submission_id": job.submission_id,
            "result": job.result, "error": job.error,
            "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


@router.get("/jobs/{job_id}", summary="A job's status and progress lines")
def read_job(job_id: str, request: Request,
             principal: Principal = Depends(require("submissions.read"))) -> dict:
    with platform(request).ops.session() as session:
        job = session.get(Job, job_id)
    if job is None or (job.owner_id != principal.user_id and "admin" not in principal.roles):
        raise NotFound("No job here", where="job", hint="Jobs are visible to who started them.")
    return job_dict(job)


def centre_scorecard(request: Request, principal: Principal, centre: str | None) -> list:
    if centre is not None:
        check_centre(principal, centre, "centre")
    rows = scorecard(platform(request).settings, centre=centre)
    return [r for r in rows if principal.sees_centre(r["centre"])]


@router.get("/qc/scorecard", summary="QC pass rates by category over time, per centre")
def qc_scorecard(request: Request, centre: str | None = None,
                 principal: Principal = Depends(require("submissions.read"))) -> list:
    return centre_scorecard(request, principal, centre)


@router.get("/qc/scorecard.html", response_class=HTMLResponse,
            summary="The scorecard as a page with plots")
def qc_scorecard_page(request: Request, centre: str | None = None,
                      principal: Principal = Depends(require("submissions.read"))
                      ) -> HTMLResponse:
    return HTMLResponse(scorecard_html(centre_scorecard(request, principal, centre),
                                       platform(request).settings.zone))

