"""Pages of project workspaces (extracts, outputs, expiry) and of output review.

They call the sharing services (:mod:`precimed.sharing.workspace`,
:mod:`precimed.sharing.outputs`) under the same permission gates as
``/api/v1/projects`` and ``/api/v1/outputs``; actions (cut an extract, submit an output,
release or return one) go through that API from ``static/projects.js``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from precimed.api.deps import client_of, platform, require
from precimed.ops.accounts import Principal
from precimed.sharing import outputs, workspace
from precimed.standard.sharing import DATE_HANDLING
from precimed.web.pages import language, render

router = APIRouter(include_in_schema=False)


def _date_handling(code: str | None, lang: str) -> str:
    if code not in DATE_HANDLING.codes:
        return "—"
    return DATE_HANDLING.codes[code][0 if lang == "zh" else 1]


@router.get("/projects")
def my_projects(request: Request, principal: Principal = Depends(require("sharing.apply"))):
    p = platform(request)
    rows = [workspace.summary(r) for r in workspace.active_projects(
        p.ops, principal=principal, on=workspace.access_date(p.settings))]
    return render(request, "projects.html", projects=rows)


@router.get("/projects/{request_id}")
def project_page(request_id: str, request: Request,
                 principal: Principal = Depends(require("sharing.apply"))):
    p = platform(request)
    project = workspace.project(p.ops, request_id, principal=principal,
                                on=workspace.access_date(p.settings),
                                client=client_of(request), action="project.read")
    data = workspace.workspace(p.ops, project)
    return render(request, "project.html", project=data,
                  date_handling=_date_handling(data["date_handling"], language(request)),
                  k=p.settings.extract_k_anonymity)


@router.get("/outputs/review")
def output_review(request: Request, status: str = "submitted",
                  principal: Principal = Depends(require("outputs.review"))):
    status = status if status in outputs.STATUSES else "submitted"
    rows = [outputs.output_dict(o) for o in outputs.queue(platform(request).ops,
                                                          status=status)]
    return render(request, "output_review.html", rows=rows, status=status)
