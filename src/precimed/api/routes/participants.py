"""Participants' rights: erasure (PIPL Art. 47) by a centre's data manager or an admin.

The identifier travels in the body, never the URL (the server log names routes, and
paths are kept out of logs), and is never echoed or stored: the audit log records the
centre and the counts (:mod:`precimed.workflows.erasure`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from precimed.api.deps import check_centre, client_of, platform, require
from precimed.errors import UserError
from precimed.ops import audit
from precimed.ops.accounts import Principal

router = APIRouter(prefix="/participants", tags=["participants"])


class EraseRequest(BaseModel):
    identifier: str = Field(min_length=1, max_length=64,
                            description="The resident ID or the pseudonym")
    centre: str | None = Field(None, max_length=32,
                               description="The participant's centre; required of a user "
                                           "who serves some centres only")


@router.post("/erase", summary="Erase a participant's data (audited without the identifier)")
def erase(body: EraseRequest, request: Request,
          principal: Principal = Depends(require("participants.erase"))) -> dict:
    from precimed.workflows.erasure import erase_participant

    p = platform(request)
    try:
        if principal.centres and body.centre is None:
            raise UserError("Name the participant's centre", where="centre",
                            hint="Give one of your centres: " + ", ".join(principal.centres))
        if body.centre is not None:
            check_centre(principal, body.centre, "participant")
    except UserError as error:  # refused before the workflow: audited the same way
        audit.record(p.ops, actor=principal.username, action="erase", outcome="deny",
                     resource=f"centre {body.centre}" if body.centre else "participants",
                     client=client_of(request), detail={"reason": error.__class__.__name__})
        raise
    erasure, samples = erase_participant(p.settings, body.identifier,
                                         actor=principal.username, centre=body.centre,
                                         client=client_of(request))
    p.forget()
    return {"erasure": erasure.id, "centre": erasure.centre, "people": erasure.people,
            "rows_removed": erasure.rows_removed, "genotype_samples": samples,
            "retention_days": p.settings.erasure_retention_days}
