"""Cohorts: attrition counts of a definition on a release (disclosure-controlled), saved
definitions (each user sees only their own), and extracts for roles allowed them."""

from __future__ import annotations

import datetime as dt
import io
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from precimed.api.deps import client_of, platform, read_rows, require
from precimed.deid import fields_of, protect_count, publish_sequence
from precimed.errors import NotFound, UserError
from precimed.ops import audit
from precimed.ops.accounts import Principal
from precimed.ops.db import SavedCohort
from precimed.query import compile as engine
from precimed.query.model import CohortDefinition

router = APIRouter(prefix="/cohorts", tags=["cohorts"])


class CountRequest(BaseModel):
    definition: dict[str, Any] = Field(description="A precimed-cohort JSON definition")
    release: str | None = Field(None, description="Release name; the newest if omitted")


class SaveRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    definition: dict[str, Any]


class ExtractRequest(BaseModel):
    definition: dict[str, Any]
    variables: list[str] = Field(min_length=1, max_length=200)
    release: str | None = None
    purpose: str = Field(min_length=3, max_length=500,
                         description="Why the rows are needed; kept in the audit log")


def parse(definition: dict[str, Any]) -> CohortDefinition:
    return CohortDefinition.from_dict(definition, where="definition")


def counts(request: Request, definition: CohortDefinition, release: str | None,
           principal: Principal) -> dict:
    """The attrition as the caller's tier may see it: one sequence through the gate, each
    step with its cell key; a hidden step says why ({"count": "small"|"secondary"})."""
    p = platform(request)
    policy = p.policy_for(principal)
    name = p.release(release)
    rows = p.attrition(name, definition)
    cells = publish_sequence([r.count for r in rows], policy=policy,
                             keys=[r.key for r in rows])
    return {"release": name, "name": definition.name, "threshold": policy.threshold,
            "tier": policy.tier, "rounding": policy.rounding,
            "attrition": [{"label": r.label, **fields_of({"count": c})}
                          for r, c in zip(rows, cells, strict=True)],
            **fields_of({"count": cells[-1]})}


@router.post("/count", summary="Attrition counts after each criterion (disclosure-safe)")
def count(body: CountRequest, request: Request,
          principal: Principal = Depends(require("cohorts.count"))) -> dict:
    return counts(request, parse(body.definition), body.release, principal)


def _saved_dict(row: SavedCohort) -> dict:
    return {"id": row.id, "name": row.name, "definition": row.definition,
            "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}


def _own(session, principal: Principal, cohort_id: str) -> SavedCohort:
    row = session.get(SavedCohort, cohort_id)
    if row is None or row.owner_id != principal.user_id:  # another's is "not found"
        raise NotFound("No saved cohort here", where="cohort",
                       hint="List your saved cohorts to find its id.")
    return row


@router.get("/saved", summary="My saved cohort definitions")
def list_saved(request: Request, principal: Principal = Depends(require("cohorts.save"))
               ) -> list:
    with platform(request).ops.session() as session:
        rows = session.scalars(select(SavedCohort).where(
            SavedCohort.owner_id == principal.user_id).order_by(SavedCohort.updated_at.desc()))
        return [_saved_dict(r) for r in rows]


@router.post("/saved", status_code=201, summary="Save a cohort definition")
def save(body: SaveRequest, request: Request,
         principal: Principal = Depends(require("cohorts.save"))) -> dict:
    definition = parse(body.definition)
    now = dt.datetime.now(dt.UTC)
    row = SavedCohort(id=secrets.token_hex(8), owner_id=principal.user_id, name=body.name,
                      definition=definition.to_dict(), created_at=now, updated_at=now)
    with platform(request).ops.session() as session, session.begin():
        session.add(row)
    return _saved_dict(row)


@router.get("/saved/{cohort_id}", summary="One of my saved definitions")
def load(cohort_id: str, request: Request,
         principal: Principal = Depends(require("cohorts.save"))) -> dict:
    with platform(request).ops.session() as session:
        return _saved_dict(_own(session, principal, cohort_id))


@router.put("/saved/{cohort_id}", summary="Replace one of my saved definitions")
def replace(cohort_id: str, body: SaveRequest, request: Request,
            principal: Principal = Depends(require("cohorts.save"))) -> dict:
    definition = parse(body.definition)
    with platform(request).ops.session() as session, session.begin():
        row = _own(session, principal, cohort_id)
        row.name, row.definition = body.name, definition.to_dict()
        row.updated_at = dt.datetime.now(dt.UTC)
    return _saved_dict(row)


@router.delete("/saved/{cohort_id}", summary="Delete one of my saved definitions")
def remove(cohort_id: str, request: Request,
           principal: Principal = Depends(require("cohorts.save"))) -> dict:
    with platform(request).ops.session() as session, session.begin():
        session.delete(_own(session, principal, cohort_id))
    return {"deleted": cohort_id}


@router.post("/extract", summary="Participant-level rows of a cohort, as CSV (audited)")
def extract(body: ExtractRequest, request: Request,
            principal: Principal = Depends(require("cohorts.extract"))) -> StreamingResponse:
    p = platform(request)
    definition = parse(body.definition)
    name = p.release(body.release)
    # people who withdrew or were erased since the release are left out of its extracts
    con = p.lake.extract_snapshot(name).connect()
    try:
        frame = engine.extract(con, definition, body.variables)
    finally:
        con.disconnect()
    if protect_count(len(frame), policy=p.policy) is None:
        audit.record(p.ops, actor=principal.username, action="export", outcome="deny",
                     resource=f"release {name}", client=client_of(request),
                     detail={"reason": "cohort below threshold", "cohort": definition.name})
        raise UserError(f"The cohort has fewer than {p.policy.threshold} members",
                        where="definition",
                        hint="An extract this small could identify people; widen the "
                             "criteria.")
    read_rows(request, principal, what=f"cohort extract, release {name}", count=len(frame),
              detail={"cohort": definition.name, "variables": body.variables,
                      "purpose": body.purpose}, action="export")
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    filename = f"extract-{name}-{dt.date.today().isoformat()}.csv"
    return StreamingResponse(iter([buffer.getvalue()]), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class SurvivalRequest(BaseModel):
    definition: dict[str, Any]
    release: str | None = None
    endpoint: str = Field("death", max_length=32)
    by: Literal["sex", "region", "centre", "cohort"] | None = None
    covariates: list[str] = Field(default_factory=lambda: ["age", "male"], max_length=20)


@router.post("/survival", summary="Kaplan–Meier, log-rank and Cox of a cohort, with provenance")
def survival(body: SurvivalRequest, request: Request,
             principal: Principal = Depends(require("cohorts.count"))) -> dict:
    from precimed.workflows.survival import cohort_survival

    p = platform(request)
    release = p.release(body.release)
    policy = p.policy_for(principal)
    return p.cached(("survival", policy.tier, body.model_dump_json()),
                    lambda: cohort_survival(p.settings, parse(body.definition),
                                            release=release, endpoint=body.endpoint,
                                            by=body.by, covariates=tuple(body.covariates),
                                            policy=policy,
                                            secret=p.secret() if policy.perturb else None))


# a cell as the page sends it; Excel holds at most 32,767 characters in one
Value = Annotated[str, Field(max_length=32767)] | float | int | None


class TableExport(BaseModel):
    rows: list[list[Value]] = Field(max_length=5000)


@router.post("/survival/xlsx", summary="The survival tab's tables as an Excel workbook")
def survival_xlsx(body: TableExport,
                  principal: Principal = Depends(require("cohorts.count"))
                  ) -> StreamingResponse:
    """The rows the page already holds (the same as its CSV: the published result of
    ``/survival`` with its provenance) written as one worksheet by openpyxl. The server
    adds nothing to them, so nothing passes disclosure control here that had not already.
    Text is stored as text, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    if any(len(row) > 100 for row in body.rows):
        raise UserError("A row has more than 100 cells", where="rows",
                        hint="Send the survival tab's tables as the page builds them.")
    book = Workbook()
    sheet = book.active
    sheet.title = "survival"
    for r, row in enumerate(body.rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is None:
                continue
            cell = sheet.cell(row=r, column=c)
            try:
                cell.value = value
            except IllegalCharacterError as exc:
                raise UserError("A cell holds a control character", where=f"rows[{r - 1}]",
                                hint="Remove it and export again.") from exc
            if isinstance(value, str):
                cell.data_type = "s"  # "=..." stays text: no formula runs when opened
    buffer = io.BytesIO()
    book.save(buffer)
    return StreamingResponse(
        iter([buffer.getvalue()]),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="survival.xlsx"'})
