"""Follow-up: retention against the 8% target (aggregates) and the overdue worklist of a
centre (row-level pseudonyms, for the centre's own staff; every read audited)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from precimed.api.deps import client_of, platform, require
from precimed.ops.accounts import Principal
from precimed.workflows import followup as services

router = APIRouter(prefix="/followup", tags=["follow-up"])


@router.get("/retention", summary="Loss to follow-up by centre and wave (disclosure-safe)")
def retention(request: Request, principal: Principal = Depends(require("followup.read"))
              ) -> dict:
    return services.retention(platform(request), principal)


@router.get("/worklist", summary="A centre's participants overdue for follow-up (audited)")
def worklist(request: Request, centre: str = Query(min_length=2, max_length=32),
             limit: int = Query(100, ge=1, le=5000),
             offset: int = Query(0, ge=0, le=10_000_000),
             sort: Literal["overdue", "wave"] = Query(
                 "overdue", description="overdue: most days overdue first; wave: earliest "
                 "overdue wave first, then most days overdue"),
             principal: Principal = Depends(require("followup.read"))) -> dict:
    return services.worklist(platform(request), principal, centre=centre, limit=limit,
                             offset=offset, sort=sort, client=client_of(request))


class ContactIn(BaseModel):
    """One contact attempt: codes of the standard's vocabularies contact_method and
    contact_outcome; the participant by their pseudonym as the worklist gives it."""

    model_config = ConfigDict(extra="forbid")
    centre: str = Field(min_length=2, max_length=32)
    pseudonym: str = Field(min_length=1, max_length=128)
    wave: int = Field(ge=0, le=50)
    contact_date: dt.date
    method: str = Field(min_length=1, max_length=64)
    outcome: str = Field(min_length=1, max_length=64)


@router.post("/contacts", summary="Record a contact attempt and its outcome (the centre's "
             "own staff; audited; in the lake's current state at once)")
def record_contact(request: Request, body: ContactIn,
                   principal: Principal = Depends(require("followup.record"))) -> dict:
    return services.record_contact(platform(request), principal, **body.model_dump(),
                                   client=client_of(request))
