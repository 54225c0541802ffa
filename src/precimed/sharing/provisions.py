"""The record of every provision of data, and the annual list a data centre keeps.

Each provision says who received what, from which dataset, how many people, on which
date, under which approval, whether it was genetic resource information and whether a
foreign party took part (with the filing number). ``precimed sharing provisions --year``
prints the list of a calendar year.

Who sees which provisions (:func:`sees_all`): the committee and admins see every one; a
centre-scoped account (a centre's data manager) sees only the provisions of datasets
its centres own (a catalogue entry's ``centres``), as it sees only its centres'
submissions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from precimed.errors import Conflict, Forbidden, UserError
from precimed.ops import audit
from precimed.ops.accounts import Principal
from precimed.ops.db import AccessRequest, CatalogueEntry, OpsDatabase, Provision
from precimed.ops.roles import CENTRE_SCOPED, permissions_of
from precimed.sharing import requests
from precimed.standard.sharing import GENETIC_INFORMATION_KINDS


def record(ops: OpsDatabase, project: AccessRequest, *, entry_id: str, recipient: str,
           what: str, people: int, rows: int = 0, on: dt.date, sha256: str | None = None,
           detail: dict[str, Any] | None = None, client: str = "") -> Provision:
    """Record one provision under an active request (``requests.active_request``)."""
    if project.status != "active":
        raise Conflict("Data is provided only under an active request", where="provision",
                       hint="The request must be approved and active.")
    entries = {e.id: e for e in requests.datasets_of(ops, project.id)}
    if entry_id not in entries:
        raise UserError("The dataset is not one the request was approved for",
                        where="entry_id", hint="Provide only the approved datasets.")
    if people < 0 or rows < 0:
        raise UserError("People and rows are counts", where="people",
                        hint="Give non-negative numbers.")
    foreign = requests.hgr_state(ops, project).foreign
    provision = Provision(
        request_id=project.id, entry_id=entry_id, recipient=recipient, what=what[:200],
        people=people, rows=rows, provided_on=on, at=dt.datetime.now(dt.UTC),
        genetic=entries[entry_id].kind in GENETIC_INFORMATION_KINDS, foreign=foreign,
        filing_number=project.hgr_filing_number, sha256=sha256, detail=detail or {})
    with ops.session() as session, session.begin():
        session.add(provision)
    audit.record(ops, actor=recipient, action="sharing.provision", outcome="ok",
                 resource=f"access request {project.id}", client=client,
                 detail={"entry": entry_id, "people": people, "rows": rows, "what": what})
    return provision


PERMISSION = "sharing.provisions"


def sees_all(principal: Principal) -> bool:
    """Whether ``principal`` reads every provision: a role that is not centre-scoped
    grants the permission (admin, committee). A data manager reads its centres' only."""
    return any(PERMISSION in permissions_of([role]) for role in principal.roles
               if role not in CENTRE_SCOPED)


def annual(ops: OpsDatabase, year: int, *, principal: Principal) -> list[dict[str, Any]]:
    """Every provision of a calendar year that ``principal`` may read (:func:`sees_all`;
    else those of datasets owned by one of its centres), in date order, with its
    approval."""
    if not principal.can(PERMISSION):
        raise Forbidden(f"Your roles do not allow {PERMISSION}", where="provisions",
                        hint="The committee, admins and centres' data managers read the "
                             "provision record.")
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    with ops.session() as session:
        rows = session.execute(
            select(Provision, AccessRequest, CatalogueEntry.centres)
            .join(AccessRequest, AccessRequest.id == Provision.request_id)
            .outerjoin(CatalogueEntry, CatalogueEntry.id == Provision.entry_id)
            .where(Provision.provided_on >= first, Provision.provided_on <= last)
            .order_by(Provision.provided_on, Provision.id)).all()
    everything = sees_all(principal)
    return [{"date": p.provided_on.isoformat(), "request": p.request_id,
             "project": r.title_zh or r.title_en, "institution": r.institution,
             "recipient": p.recipient, "dataset": p.entry_id, "what": p.what,
             "people": p.people, "rows": p.rows, "approved_on": _iso(r.decided_on),
             "ethics_number": r.ethics_number, "genetic": p.genetic, "foreign": p.foreign,
             "filing_number": p.filing_number or "", "sha256": p.sha256 or ""}
            for p, r, centres in rows
            if everything or any(principal.sees_centre(c) for c in centres or ())]


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""
