"""Project workspaces: an active access request's extracts and outputs, for its members;
output review for the committee.

Member routes take the project through :func:`precimed.sharing.workspace.project`: a
non-member gets 404, an expired, revoked or not yet active project 403 with a hint,
every refusal audited. Downloads of extract files and outputs are audited.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from precimed.api.deps import client_of, platform, require
from precimed.errors import NotFound, UserError
from precimed.ops import audit
from precimed.ops.accounts import Principal
from precimed.sharing import outputs, workspace
from precimed.sharing.output_check import MAX_BYTES

router = APIRouter(tags=["projects"])


def _today(request: Request) -> dt.date:
    return workspace.access_date(platform(request).settings)


def _project(request: Request, principal: Principal, request_id: str, action: str):
    return workspace.project(platform(request).ops, request_id, principal=principal,
                             on=_today(request), client=client_of(request), action=action)


@router.get("/passport", summary="My GA4GH Passport: one ControlledAccessGrants visa per "
            "genotype dataset of my active projects")
def my_passport(request: Request, principal: Principal = Depends(require("sharing.apply"))
                ) -> dict:
    from precimed.sharing import visas

    p = platform(request)
    return {"ga4gh_passport_v1": visas.passport(
        p.ops, principal, key=visas.visa_key(p.settings.keys_dir), on=_today(request))}


@router.get("/projects", summary="My active projects (approved requests I am a member of)")
def my_projects(request: Request, principal: Principal = Depends(require("sharing.apply"))
                ) -> list:
    rows = workspace.active_projects(platform(request).ops, principal=principal,
                                     on=_today(request))
    return [workspace.summary(r) for r in rows]


@router.get("/projects/{request_id}", summary="A project's workspace: terms, extracts, "
            "outputs")
def workspace_of(request_id: str, request: Request,
                 principal: Principal = Depends(require("sharing.apply"))) -> dict:
    project = _project(request, principal, request_id, "project.read")
    return workspace.workspace(platform(request).ops, project)


class ExtractRequest(BaseModel):
    dataset: str | None = Field(None, max_length=64,
                                description="An approved dataset (catalogue id): a clinical "
                                            "one gives Parquet and CSV, a genotype one a "
                                            "VCF; the first one if omitted")


@router.post("/projects/{request_id}/extracts", status_code=201,
             summary="Cut an extract of the project's approved data, clinical or genotype "
                     "(audited, a provision)")
def cut_extract(request_id: str, body: ExtractRequest, request: Request,
                principal: Principal = Depends(require("sharing.apply"))) -> dict:
    p = platform(request)
    project = _project(request, principal, request_id, "project.extract")
    return workspace.cut_extract(p.settings, p.ops, project, principal=principal,
                                 dataset=body.dataset, on=_today(request),
                                 client=client_of(request))


@router.get("/projects/{request_id}/extracts/{extract_id}/{name}",
            summary="Download one file of a project's extract (audited)")
def extract_file(request_id: str, extract_id: str, name: str, request: Request,
                 principal: Principal = Depends(require("sharing.apply"))) -> FileResponse:
    p = platform(request)
    project = _project(request, principal, request_id, "project.download")
    path = workspace.extract_file(p.settings, p.ops, project, extract_id, name,
                                  principal=principal, client=client_of(request))
    return FileResponse(path, filename=f"{project.id}-{extract_id}-{name}")


@router.post("/projects/{request_id}/outputs", status_code=201,
             summary="Submit a result for release: checked at once, then reviewed")
def submit_output(request_id: str, request: Request,
                  file: UploadFile = File(..., description="CSV table or coefficients; "
                                          "PNG, SVG or PDF figure"),
                  kind: Literal["table", "coefficients", "figure"] = Form(...),
                  title: str = Form(..., max_length=200),
                  spec: str = Form("{}", max_length=20_000,
                                   description="JSON: by, labels, counts, sums, statistics, "
                                               "margins"),
                  principal: Principal = Depends(require("sharing.apply"))) -> dict:
    p = platform(request)
    project = _project(request, principal, request_id, "project.output.submit")
    try:
        described = json.loads(spec or "{}")
    except json.JSONDecodeError:
        raise UserError("The table description is not JSON", where="spec",
                        hint='For example {"by": ["sex"], "counts": ["n"]}.') from None
    content = file.file.read(MAX_BYTES + 1)
    return outputs.submit(p.settings, p.ops, project, principal=principal, kind=kind,
                          title=title, filename=file.filename or "", content=content,
                          spec=described if isinstance(described, dict) else None,
                          client=client_of(request))


def _member_output(request: Request, principal: Principal, request_id: str,
                   output_id: str):
    project = _project(request, principal, request_id, "project.output.read")
    row = outputs.get(platform(request).ops, output_id)
    if row.request_id != project.id:
        raise NotFound("No such output", where="output",
                       hint="List the project's outputs to find it.")
    return row


@router.get("/projects/{request_id}/outputs/{output_id}/{which}",
            summary="Download an output of my project: submitted, checked or released")
def member_output_file(request_id: str, output_id: str,
                       which: Literal["submitted", "checked", "released"], request: Request,
                       principal: Principal = Depends(require("sharing.apply"))
                       ) -> FileResponse:
    p = platform(request)
    row = _member_output(request, principal, request_id, output_id)
    path = outputs.file_of(p.settings, row, which)
    audit.record(p.ops, actor=principal.username, action="project.output.download",
                 outcome="ok", resource=f"project {row.request_id}",
                 client=client_of(request), detail={"output": row.id, "which": which})
    return FileResponse(path, filename=f"{row.id}-{which}{path.suffix}")


@router.get("/outputs", summary="Outputs waiting for review (or past it)")
def review_queue(request: Request, status: Literal["submitted", "returned",
                                                    "released"] = "submitted",
                 principal: Principal = Depends(require("outputs.review"))) -> list:
    return [outputs.output_dict(o) for o in outputs.queue(platform(request).ops,
                                                          status=status)]


@router.get("/outputs/{output_id}", summary="One output with its check, for review")
def review_output(output_id: str, request: Request,
                  principal: Principal = Depends(require("outputs.review"))) -> dict:
    return outputs.output_dict(outputs.get(platform(request).ops, output_id))


@router.get("/outputs/{output_id}/{which}", summary="A version of an output, for review")
def review_file(output_id: str, which: Literal["submitted", "checked", "released"],
                request: Request, principal: Principal = Depends(require("outputs.review"))
                ) -> FileResponse:
    p = platform(request)
    row = outputs.get(p.ops, output_id)
    path = outputs.file_of(p.settings, row, which)
    audit.record(p.ops, actor=principal.username, action="project.output.download",
                 outcome="ok", resource=f"project {row.request_id}",
                 client=client_of(request), detail={"output": row.id, "which": which})
    return FileResponse(path, filename=f"{row.id}-{which}{path.suffix}")


class ReviewRequest(BaseModel):
    decision: Literal["release", "return"]
    reason: str = Field("", max_length=2000)


@router.post("/outputs/{output_id}/review", summary="Release or return a submitted output")
def decide(output_id: str, body: ReviewRequest, request: Request,
           principal: Principal = Depends(require("outputs.review"))) -> dict:
    p = platform(request)
    return outputs.review(p.settings, p.ops, output_id, principal=principal,
                          decision=body.decision, reason=body.reason,
                          client=client_of(request))
