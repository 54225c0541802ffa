"""Endpoints: the adjudication queue and decisions (reviewers; centre-scoped when the
reviewer's account lists centres), and incidence by group (aggregates)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from precimed.api.deps import client_of, platform, read_rows, require
from precimed.cohorts import adjudication
from precimed.ops import audit
from precimed.ops.accounts import Principal
from precimed.ops.db import EndpointCandidate
from precimed.workflows import endpoints as services

router = APIRouter(prefix="/endpoints", tags=["endpoints"])

Status = Literal["pending", "confirmed", "rejected", "needs_information", "all"]


class Decision(BaseModel):
    to_status: Literal["confirmed", "rejected", "needs_information", "pending"]
    reason: str | None = Field(None, max_length=2000)


def _find(request: Request, principal: Principal, candidate_id: str) -> EndpointCandidate:
    return services.find_candidate(platform(request), principal, candidate_id)


@router.get("/candidates", summary="One page of the adjudication queue (audited)")
def candidates(request: Request, status: Status = "pending",
               centre: str | None = Query(None, max_length=32),
               endpoint: str | None = Query(None, max_length=32),
               sources: Literal["1", "2", "3+"] | None = None,
               sort: Literal["first_date", "-first_date", "endpoint", "centre", "-sources",
                             "-updated_at"] = "first_date",
               offset: int = Query(0, ge=0, le=10_000_000),
               limit: int = Query(100, ge=1, le=1000),
               principal: Principal = Depends(require("endpoints.review"))) -> dict:
    """``total`` candidates match; ``rows`` are those from ``offset``, at most ``limit``,
    oldest first unless ``sort`` says otherwise."""
    return services.candidates(platform(request), principal, status=status, centre=centre,
                               endpoint=endpoint, sources=sources, sort=sort, offset=offset,
                               limit=limit, client=client_of(request))


@router.get("/candidates/{candidate_id}", summary="A candidate and its decisions")
def candidate(candidate_id: str, request: Request,
              principal: Principal = Depends(require("endpoints.review"))) -> dict:
    found = _find(request, principal, candidate_id)
    history = adjudication.history(platform(request).ops, candidate_id)
    read_rows(request, principal, what=f"endpoint candidate {candidate_id}", count=1)
    return {**services.candidate_dict(found), "history": [
        {"reviewer": d.reviewer, "from": d.from_status, "to": d.to_status,
         "reason": d.reason, "decided_at": d.decided_at.isoformat()} for d in history]}


@router.get("/candidates/{candidate_id}/case",
            summary="A candidate's case: evidence from every source and the participant's "
                    "history (audited)")
def case(candidate_id: str, request: Request,
         principal: Principal = Depends(require("endpoints.review"))) -> dict:
    return services.case(platform(request), principal, candidate_id, client=client_of(request))


@router.post("/candidates/{candidate_id}/decision", summary="Decide a candidate")
def decide(candidate_id: str, body: Decision, request: Request,
           principal: Principal = Depends(require("endpoints.review"))) -> dict:
    _find(request, principal, candidate_id)
    ops = platform(request).ops
    if body.to_status == "pending":
        adjudication.reopen(ops, candidate_id, reviewer=principal.username,
                            reason=body.reason)
    else:
        adjudication.decide(ops, candidate_id, body.to_status, reviewer=principal.username,
                            reason=body.reason)
    audit.record(ops, actor=principal.username, action="adjudication", outcome="ok",
                 resource=f"candidate {candidate_id}", client=client_of(request),
                 detail={"to": body.to_status})
    platform(request).forget()
    return services.candidate_dict(_find(request, principal, candidate_id))


@router.get("/incidence", summary="Incidence per 1,000 person-years (disclosure-safe)")
def incidence(request: Request, by: Literal["region", "sex", "age_band", "centre"] = "region",
              principal: Principal = Depends(require("endpoints.read"))) -> dict:
    return services.incidence(platform(request), principal, by=by)
