"""The dashboard: cohorts and enrolment, retention against the 8% target, endpoint counts,
the releases (:mod:`precimed.workflows.dashboard`). Every count passes through disclosure
control."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from precimed.api.deps import platform, require
from precimed.ops.accounts import Principal
from precimed.workflows import dashboard as services

router = APIRouter(tags=["dashboard"])


@router.get("/releases", summary="Releases, newest first")
def releases(request: Request, _: Principal = Depends(require("dashboard.read"))) -> list:
    return platform(request).releases()


@router.get("/dashboard", summary="Aggregates for the dashboard, disclosure-controlled")
def dashboard(request: Request, principal: Principal = Depends(require("dashboard.read"))
              ) -> dict:
    return services.dashboard(platform(request), principal)
