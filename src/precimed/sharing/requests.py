"""Access requests: the application, its lifecycle, and the project it becomes.

draft → submitted → under_review → approved / rejected / returned; returned → submitted;
approved → active → expired / revoked; withdrawn by the applicant while open
(``standard.sharing.REQUEST_TRANSITIONS``). Every change is an ``AccessEvent`` and an
audit event. Dates that decide anything (embargo, expiry) are passed in from the edge
(``on=``), never read from the clock here.

Validation is here, not in the routes, so the CLI, the API and the pages refuse the same
input with the same message, and nothing is written when anything is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select

from precimed.errors import Conflict, Forbidden, NotFound, UserError
from precimed.ops import audit
from precimed.ops.accounts import Principal
from precimed.ops.db import (
    AccessEvent,
    AccessRequest,
    AccessRequestDataset,
    AccessRequestMember,
    CatalogueEntry,
    OpsDatabase,
    SavedCohort,
    User,
)
from precimed.settings import Settings
from precimed.sharing import catalogue, consent, rules
from precimed.sharing.form import Member, RequestForm
from precimed.sharing.matching import Facts, IntendedUse, match_dataset, match_request
from precimed.standard.sharing import GENETIC_INFORMATION_KINDS, REQUEST_TRANSITIONS

OPEN = frozenset({"draft", "submitted", "under_review", "returned", "approved"})
EDITABLE = frozenset({"draft", "returned"})
ETHICS_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png")
ETHICS_LIMIT = 20 * 1024 * 1024


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- reading ---------------------------------------------------------------------------
def get(ops: OpsDatabase, request_id: str, *, principal: Principal) -> AccessRequest:
    """A request its applicant, its members and the committee may see; to anyone else it
    does not exist (404, so ids can not be probed)."""
    with ops.session() as session:
        found = session.get(AccessRequest, request_id)
        member = found is not None and _is_member(session, found, principal)
    if found is None or not (member or principal.can("sharing.review")):
        raise NotFound("No such access request", where="request",
                       hint="It does not exist, or it is not yours.")
    return found


def _is_member(session: Any, request: AccessRequest, principal: Principal) -> bool:
    if request.applicant_id == principal.user_id:
        return True
    return session.scalar(select(AccessRequestMember.id).where(
        AccessRequestMember.request_id == request.id,
        AccessRequestMember.user_id == principal.user_id)) is not None


def mine(ops: OpsDatabase, *, principal: Principal) -> list[AccessRequest]:
    """Requests the principal applied for or is a member of, newest first."""
    with ops.session() as session:
        member_of = select(AccessRequestMember.request_id).where(
            AccessRequestMember.user_id == principal.user_id)
        return list(session.scalars(
            select(AccessRequest).where(or_(AccessRequest.applicant_id == principal.user_id,
                                            AccessRequest.id.in_(member_of)))
            .order_by(AccessRequest.created_at.desc())))


def queue(ops: OpsDatabase, *, statuses: frozenset[str] | None = None) -> list[AccessRequest]:
    """The committee's queue: submitted, under review and approved-but-not-active."""
    wanted = statuses or frozenset({"submitted", "under_review", "approved"})
    with ops.session() as session:
        return list(session.scalars(select(AccessRequest)
                                    .where(AccessRequest.status.in_(sorted(wanted)))
                                    .order_by(AccessRequest.created_at)))


def datasets_of(ops: OpsDatabase, request_id: str) -> list[CatalogueEntry]:
    with ops.session() as session:
        return list(session.scalars(
            select(CatalogueEntry).join(AccessRequestDataset,
                                        AccessRequestDataset.entry_id == CatalogueEntry.id)
            .where(AccessRequestDataset.request_id == request_id)
            .order_by(CatalogueEntry.id)))


def members_of(ops: OpsDatabase, request_id: str) -> list[AccessRequestMember]:
    with ops.session() as session:
        return list(session.scalars(select(AccessRequestMember)
                                    .where(AccessRequestMember.request_id == request_id)
                                    .order_by(AccessRequestMember.id)))


def events_of(ops: OpsDatabase, request_id: str) -> list[AccessEvent]:
    with ops.session() as session:
        return list(session.scalars(select(AccessEvent)
                                    .where(AccessEvent.request_id == request_id)
                                    .order_by(AccessEvent.id)))


def hgr_state(ops: OpsDatabase, request: AccessRequest) -> rules.HgrCheck:
    foreign_members = any(m.foreign for m in members_of(ops, request.id))
    return rules.hgr_check(request, datasets_of(ops, request.id),
                           foreign_members=foreign_members)


def active_request(ops: OpsDatabase, request_id: str, *, principal: Principal,
                   on: dt.date) -> AccessRequest:
    """The project an active request is, for one of its members, on a date.

    404 when the request does not exist or the principal is not its applicant or a
    member; 403 with a hint when it is not active on ``on`` (not yet active, expired,
    revoked, withdrawn). Every refusal is the caller's to audit."""
    with ops.session() as session:
        found = session.get(AccessRequest, request_id)
        member = found is not None and _is_member(session, found, principal)
    if found is None or not member:
        raise NotFound("No such project", where="project",
                       hint="It does not exist, or you are not a member of it.")
    if found.status == "active" and found.expires_on is not None and on > found.expires_on:
        raise Forbidden(f"The project expired on {found.expires_on}", where="project",
                        hint="Apply for a renewal; its data can no longer be used.")
    if found.status != "active":
        raise Forbidden(f"The project is not active (it is {found.status})",
                        where="project", hint=_inactive_hint(found.status))
    if found.active_from is not None and on < found.active_from:
        raise Forbidden(f"The project starts on {found.active_from}", where="project",
                        hint="Wait until it starts.")
    return found


def _inactive_hint(status: str) -> str:
    return {"approved": "It waits for a human-genetic-resource record; see the request.",
            "expired": "Apply for a renewal; its data can no longer be used.",
            "revoked": "The committee revoked it; its data can no longer be used."}.get(
                status, "Only an active request is a project.")


# -- writing ---------------------------------------------------------------------------
def _checked(ops: OpsDatabase, form: RequestForm, *, principal: Principal,
             ) -> tuple[list[CatalogueEntry], list[tuple[Member, int | None]], dict | None]:
    """Validate references: datasets exist, variables are theirs, members and the saved
    cohort are real. Nothing is written."""
    entries = []
    for i, entry_id in enumerate(form.datasets):
        try:
            entries.append(catalogue.entry(ops, entry_id))
        except NotFound:
            raise NotFound("No such catalogue entry", where=f"datasets[{i}]",
                           hint="Choose datasets from the catalogue.") from None
    offered = {v for e in entries for v in e.variables}
    for i, variable in enumerate(form.variables):
        if entries and variable not in offered:
            raise UserError(f"Variable {variable[:40]!r} is not in the requested datasets",
                            where=f"variables[{i}]",
                            hint="Choose variables the catalogue lists for these datasets.")
    with ops.session() as session:
        members = []
        for i, m in enumerate(form.members):
            user_id = None
            if m.username:
                user_id = session.scalar(select(User.id).where(User.username == m.username))
                if user_id is None:
                    raise UserError("No platform account of that name",
                                    where=f"members[{i}].username",
                                    hint="Leave username empty for members without an "
                                         "account; they are named for the record only.")
            members.append((m, user_id))
        definition = None
        if form.cohort_id:
            saved = session.get(SavedCohort, form.cohort_id)
            if saved is None or saved.owner_id != principal.user_id:
                raise NotFound("No such saved cohort", where="cohort_id",
                               hint="Save the cohort in the cohort builder first.")
            definition = saved.definition
    return entries, members, definition


def create(ops: OpsDatabase, form: RequestForm, *, principal: Principal,
           client: str = "") -> AccessRequest:
    """A new draft request of the principal's."""
    entries, members, _ = _checked(ops, form, principal=principal)
    now = _now()
    request_id = f"DAR-{secrets.token_hex(4).upper()}"
    with ops.session() as session, session.begin():
        record = AccessRequest(id=request_id, applicant_id=principal.user_id,
                               applicant=principal.username, status="draft",
                               created_at=now, updated_at=now, match={},
                               approved_conditions=[], review_round=0,
                               coarsen_allowed=False, decision_reason="")
        _apply(record, form)
        session.add(record)
        session.flush()
        _replace_parts(session, request_id, entries, members)
        session.add(AccessEvent(request_id=request_id, actor=principal.username,
                                from_status="", to_status="draft", reason="", at=now))
    audit.record(ops, actor=principal.username, action="sharing.request.create",
                 outcome="ok", resource=f"access request {request_id}", client=client,
                 detail={"datasets": list(form.datasets)})
    return get(ops, request_id, principal=principal)


def update(ops: OpsDatabase, request_id: str, form: RequestForm, *, principal: Principal,
           client: str = "") -> AccessRequest:
    """Change a draft or returned request (the applicant only)."""
    current = _own(ops, request_id, principal=principal)
    if current.status not in EDITABLE:
        raise Conflict(f"A request that is {current.status} can not be changed",
                       where="request", hint="Only drafts and returned requests change.")
    entries, members, _ = _checked(ops, form, principal=principal)
    with ops.session() as session, session.begin():
        record = session.get(AccessRequest, request_id, with_for_update=True)
        _apply(record, form)
        record.updated_at = _now()
        _replace_parts(session, request_id, entries, members)
    audit.record(ops, actor=principal.username, action="sharing.request.update",
                 outcome="ok", resource=f"access request {request_id}", client=client)
    return get(ops, request_id, principal=principal)


def _own(ops: OpsDatabase, request_id: str, *, principal: Principal) -> AccessRequest:
    found = get(ops, request_id, principal=principal)
    if found.applicant_id != principal.user_id:  # as for any object not one's own
        raise NotFound("No such access request of yours", where="request",
                       hint="Only the applicant changes, submits or withdraws a request.")
    return found


def _apply(record: AccessRequest, form: RequestForm) -> None:
    for name in ("title_zh", "title_en", "summary_zh", "summary_en", "institution",
                 "ethics_number", "foreign_party", "foreign_sponsor", "foreign_detail",
                 "duration_months", "cohort_id"):
        setattr(record, name, getattr(form, name))
    record.intended_use = form.intended_use.to_dict()
    record.variables = list(form.variables)
    record.hgr_filing_number = form.hgr_filing_number or None
    record.hgr_filing_date = form.hgr_filing_date
    record.hgr_backup_receipt = form.hgr_backup_receipt or None


def _replace_parts(session: Any, request_id: str, entries: list[CatalogueEntry],
                   members: list[tuple[Member, int | None]]) -> None:
    session.execute(delete(AccessRequestDataset)
                    .where(AccessRequestDataset.request_id == request_id))
    session.execute(delete(AccessRequestMember)
                    .where(AccessRequestMember.request_id == request_id))
    for e in entries:
        session.add(AccessRequestDataset(request_id=request_id, entry_id=e.id,
                                         conditions_version=e.conditions_version))
    for m, user_id in members:
        session.add(AccessRequestMember(request_id=request_id, user_id=user_id, name=m.name,
                                        institution=m.institution, foreign=m.foreign))


def attach_ethics(ops: OpsDatabase, request_id: str, upload: Path, *, filename: str,
                  sharing_dir: Path, principal: Principal, client: str = "") -> str:
    """Keep the ethics approval document in the home (never the lake); returns its SHA-256.

    ``upload`` is a file already on disk (the route's or the CLI's); it is copied."""
    current = _own(ops, request_id, principal=principal)
    if current.status not in EDITABLE:
        raise Conflict(f"A request that is {current.status} can not be changed",
                       where="ethics_document", hint="Only drafts and returned requests "
                                                     "change.")
    suffix = Path(filename).suffix.lower()
    if suffix not in ETHICS_SUFFIXES:
        raise UserError("The ethics approval must be a PDF or an image",
                        where="ethics_document",
                        hint="Upload the signed approval as " + ", ".join(ETHICS_SUFFIXES)
                             + ".")
    size = upload.stat().st_size
    if not 0 < size <= ETHICS_LIMIT:
        raise UserError("The ethics approval document is empty or larger than 20 MiB",
                        where="ethics_document", hint="Upload a scan of at most 20 MiB.")
    digest = hashlib.sha256(upload.read_bytes()).hexdigest()
    folder = sharing_dir / request_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"ethics-{digest[:16]}{suffix}"
    staging = folder / f".{target.name}.tmp"
    shutil.copyfile(upload, staging)
    staging.replace(target)
    with ops.session() as session, session.begin():
        record = session.get(AccessRequest, request_id, with_for_update=True)
        record.ethics_document = f"{request_id}/{target.name}"
        record.ethics_sha256, record.updated_at = digest, _now()
    audit.record(ops, actor=principal.username, action="sharing.request.ethics",
                 outcome="ok", resource=f"access request {request_id}", client=client,
                 detail={"sha256": digest, "bytes": size})
    return digest


def ethics_file(ops: OpsDatabase, request_id: str, *, sharing_dir: Path,
                principal: Principal, client: str = "") -> Path:
    """The ethics approval document of a request, for its applicant and the committee
    (``sharing.review``: committee members and admins) only; every opening and every
    refusal is audited. Other members of the request are refused (403), anyone else finds
    no request (404)."""
    resource = f"access request {request_id}"
    try:
        found = get(ops, request_id, principal=principal)
        if found.applicant_id != principal.user_id and not principal.can("sharing.review"):
            raise Forbidden("Only the applicant and the committee open the ethics approval",
                            where="ethics_document",
                            hint="Ask the applicant or the data access committee.")
        path = sharing_dir / found.ethics_document if found.ethics_document else None
        if path is None or not path.is_file():
            raise NotFound("The request has no ethics approval document",
                           where="ethics_document",
                           hint="The applicant uploads it with the request form.")
    except (Forbidden, NotFound) as error:
        audit.record(ops, actor=principal.username, action="sharing.request.ethics.read",
                     outcome="deny", resource=resource, client=client,
                     detail={"reason": error.__class__.__name__})
        raise
    audit.record(ops, actor=principal.username, action="sharing.request.ethics.read",
                 outcome="allow", resource=resource, client=client,
                 detail={"sha256": found.ethics_sha256})
    return path


def submit(ops: OpsDatabase, request_id: str, *, principal: Principal, on: dt.date,
           settings: Settings | None = None, client: str = "") -> AccessRequest:
    """Submit a draft or returned request on a date: every requirement is checked, then
    the request is matched against every dataset's conditions. With the platform's
    ``settings`` (the API and the CLI always pass them) the match also says how many of
    each dataset's people consent leaves out (:func:`precimed.sharing.consent.match_counts`:
    for genetic research, everyone whose scope forbids it); without, only whether the
    request is genetic research."""
    current = _own(ops, request_id, principal=principal)
    if current.status not in EDITABLE:
        raise Conflict(f"A request that is {current.status} can not be submitted",
                       where="request", hint="Only drafts and returned requests are.")
    entries = datasets_of(ops, request_id)
    form_members = [Member(m.name, "", m.institution, m.foreign)
                    for m in members_of(ops, request_id)]
    _require_complete(current, entries, on=on)
    definition = None
    if current.cohort_id:
        with ops.session() as session:
            saved = session.get(SavedCohort, current.cohort_id)
        definition = saved.definition if saved else None
    use = IntendedUse.parse(current.intended_use)
    foreign = rules.is_foreign(current, foreign_members=any(m.foreign for m in form_members))
    facts = Facts(ethics=bool(current.ethics_number and current.ethics_document),
                  foreign=foreign, use_until=add_months(on, current.duration_months))
    matched = match_request([
        match_dataset(use, catalogue.conditions(ops, e.id), facts, entry_id=e.id,
                      conditions_version=e.conditions_version) for e in entries])
    matched["consent"] = (consent.match_counts(settings, current, entries) if settings
                          else {"genetic": consent.is_genetic(current, entries)})
    with ops.session() as session, session.begin():
        record = session.get(AccessRequest, request_id, with_for_update=True)
        for link in session.scalars(select(AccessRequestDataset)
                                    .where(AccessRequestDataset.request_id == request_id)):
            link.conditions_version = next(e.conditions_version for e in entries
                                           if e.id == link.entry_id)
        record.match, record.cohort_definition = matched, definition
        _move(session, record, "submitted", actor=principal.username)
    audit.record(ops, actor=principal.username, action="sharing.request.submit",
                 outcome="ok", resource=f"access request {request_id}", client=client,
                 detail={"match": matched["result"], "on": on.isoformat()})
    return get(ops, request_id, principal=principal)


def _require_complete(request: AccessRequest, entries: list[CatalogueEntry], *,
                      on: dt.date) -> None:
    if not entries:
        raise UserError("The request names no dataset", where="datasets",
                        hint="Choose one or more datasets from the catalogue.")
    if not request.variables:
        raise UserError("The request names no variable", where="variables",
                        hint="List the variables the project needs, and only those.")
    for name in ("title_zh", "title_en", "summary_zh", "summary_en", "institution"):
        if not getattr(request, name):
            raise UserError("A required field is empty", where=name,
                            hint="Give the project title and lay summary in Chinese and "
                                 "English, and the institution.")
    if not request.ethics_number:
        raise UserError("The request has no ethics approval number", where="ethics_number",
                        hint="Give the number of the ethics committee's approval.")
    if not request.ethics_document:
        raise UserError("The ethics approval document is missing", where="ethics_document",
                        hint="Upload the signed approval (PDF or image).")
    for i, e in enumerate(entries):
        if e.embargo_until is not None and on < e.embargo_until:
            raise UserError(f"Dataset {e.id} is under embargo until {e.embargo_until}",
                            where=f"datasets[{i}]",
                            hint="Apply after the embargo ends, or choose another dataset.")
        if e.access_tier == "open":
            raise UserError(f"Dataset {e.id} is open: its aggregates need no request",
                            where=f"datasets[{i}]",
                            hint="Use its aggregates directly; ask only for registered or "
                                 "controlled datasets.")
    genetic = any(e.kind in GENETIC_INFORMATION_KINDS for e in entries)
    if genetic and rules.is_foreign(request):
        missing = [f for f in rules.FILING_FIELDS if not getattr(request, f)]
        if missing:
            raise UserError("Genetic resource information with a foreign party needs the "
                            "human-genetic-resource filing record", where=missing[0],
                            hint="Give the MOST filing number, its date and the information-"
                                 "backup receipt before submitting.")


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _move(session: Any, record: AccessRequest, to: str, *, actor: str,
          reason: str = "") -> None:
    """Change a request's status along the lifecycle, recording the event."""
    if to not in REQUEST_TRANSITIONS[record.status]:
        raise Conflict(f"A request that is {record.status} can not become {to}",
                       where="request", hint="See the request's history for where it "
                                             "stands.")
    session.add(AccessEvent(request_id=record.id, actor=actor, from_status=record.status,
                            to_status=to, reason=reason, at=_now()))
    record.status, record.updated_at = to, _now()


def transition(ops: OpsDatabase, request_id: str, to: str, *, actor: str, reason: str = "",
               client: str = "", **fields: Any) -> None:
    """Move a request (and set fields) in one transaction, audited: the committee's and
    the rules' way in."""
    with ops.session() as session, session.begin():
        record = session.get(AccessRequest, request_id, with_for_update=True)
        for name, value in fields.items():
            setattr(record, name, value)
        _move(session, record, to, actor=actor, reason=reason)
    audit.record(ops, actor=actor, action=f"sharing.request.{to}", outcome="ok",
                 resource=f"access request {request_id}", client=client,
                 detail={"reason": reason[:200]} if reason else {})


def withdraw(ops: OpsDatabase, request_id: str, *, principal: Principal, on: dt.date,
             reason: str = "", client: str = "") -> AccessRequest:
    current = _own(ops, request_id, principal=principal)
    if current.status not in OPEN:
        raise Conflict(f"A request that is {current.status} can not be withdrawn",
                       where="request", hint="Only open requests are withdrawn.")
    transition(ops, request_id, "withdrawn", actor=principal.username, reason=reason,
               client=client, ended_on=on)
    return get(ops, request_id, principal=principal)


def record_hgr(ops: OpsDatabase, request_id: str, *, principal: Principal,
               filing_number: str | None = None, filing_date: dt.date | None = None,
               backup_receipt: str | None = None, review_ref: str | None = None,
               review_date: dt.date | None = None, client: str = "") -> rules.HgrCheck:
    """Record the MOST filing (number, date, backup receipt) and/or the security review
    (reference, date); an approved request whose records are now complete becomes active
    on the later of its decision date and the record's date."""
    if not principal.can("sharing.hgr"):
        raise Forbidden("Your roles do not allow sharing.hgr", where="request",
                        hint="The committee or an admin records filings and reviews.")
    current = get(ops, request_id, principal=principal)
    values = {"hgr_filing_number": filing_number, "hgr_filing_date": filing_date,
              "hgr_backup_receipt": backup_receipt, "security_review_ref": review_ref,
              "security_review_date": review_date}
    given = {k: v for k, v in values.items() if v not in (None, "")}
    if not given:
        raise UserError("Nothing to record", where="filing",
                        hint="Give the filing number, date and backup receipt, or the "
                             "security review's reference and date.")
    if current.status not in OPEN | {"active"}:
        raise Conflict(f"A request that is {current.status} takes no new records",
                       where="request", hint="Records belong to open or active requests.")
    with ops.session() as session, session.begin():
        record = session.get(AccessRequest, request_id, with_for_update=True)
        for name, value in given.items():
            setattr(record, name, value)
        record.updated_at = _now()
    audit.record(ops, actor=principal.username, action="sharing.request.hgr", outcome="ok",
                 resource=f"access request {request_id}", client=client,
                 detail={"fields": sorted(given)})
    refreshed = get(ops, request_id, principal=principal)
    check = hgr_state(ops, refreshed)
    if refreshed.status == "approved" and not check.blocked:
        dates = [d for d in (refreshed.decided_on, filing_date, review_date) if d]
        activate(ops, request_id, actor=principal.username, on=max(dates), client=client)
    return check


def activate(ops: OpsDatabase, request_id: str, *, actor: str, on: dt.date,
             client: str = "") -> None:
    """approved → active, unless a human-genetic-resource record is missing (Conflict
    naming it; the committee's approval can not override it)."""
    with ops.session() as session:
        record = session.get(AccessRequest, request_id)
    check = hgr_state(ops, record)
    try:
        rules.require_activatable(check, where=f"access request {request_id}")
    except Conflict:
        audit.record(ops, actor=actor, action="sharing.request.active", outcome="fail",
                     resource=f"access request {request_id}", client=client,
                     detail={"hgr": check.state})
        raise
    transition(ops, request_id, "active", actor=actor, client=client, active_from=on)


def revoke(ops: OpsDatabase, request_id: str, *, principal: Principal, on: dt.date,
           reason: str, client: str = "") -> None:
    if not principal.can("sharing.review"):
        raise Forbidden("Your roles do not allow sharing.review", where="request",
                        hint="The committee revokes access.")
    get(ops, request_id, principal=principal)
    if not reason.strip():
        raise UserError("A revocation needs a reason", where="reason",
                        hint="Say why access ends.")
    transition(ops, request_id, "revoked", actor=principal.username, reason=reason,
               client=client, ended_on=on)


def expire_due(ops: OpsDatabase, *, on: dt.date, actor: str, client: str = "") -> list[str]:
    """Mark every active request whose expiry is before ``on`` as expired."""
    with ops.session() as session:
        due = list(session.scalars(select(AccessRequest.id).where(
            AccessRequest.status == "active", AccessRequest.expires_on < on)))
    for request_id in due:
        transition(ops, request_id, "expired", actor=actor, client=client, ended_on=on,
                   reason=f"expiry before {on}")
    return due


@dataclass(frozen=True)
class Summary:
    """A request with what its pages and API answers show (no exact counts)."""

    request: AccessRequest
    datasets: list[CatalogueEntry] = field(default_factory=list)
    members: list[AccessRequestMember] = field(default_factory=list)
    hgr: rules.HgrCheck | None = None

    def to_dict(self) -> dict[str, Any]:
        r = self.request
        return {
            "id": r.id, "status": r.status, "applicant": r.applicant,
            "title": {"zh": r.title_zh, "en": r.title_en},
            "summary": {"zh": r.summary_zh, "en": r.summary_en},
            "institution": r.institution, "intended_use": r.intended_use,
            "datasets": [e.id for e in self.datasets], "variables": list(r.variables),
            "cohort_id": r.cohort_id, "ethics_number": r.ethics_number,
            "ethics_document": bool(r.ethics_document), "ethics_sha256": r.ethics_sha256,
            "foreign_party": r.foreign_party, "foreign_sponsor": r.foreign_sponsor,
            "foreign_detail": r.foreign_detail, "duration_months": r.duration_months,
            "members": [{"name": m.name, "institution": m.institution, "foreign": m.foreign,
                         "has_account": m.user_id is not None} for m in self.members],
            "hgr": {"filing_number": r.hgr_filing_number,
                    "filing_date": _iso(r.hgr_filing_date),
                    "backup_receipt": r.hgr_backup_receipt,
                    "security_review_ref": r.security_review_ref,
                    "security_review_date": _iso(r.security_review_date),
                    **(self.hgr.to_dict() if self.hgr else {})},
            "match": r.match, "review_round": r.review_round,
            "approved_conditions": list(r.approved_conditions),
            "date_handling": r.date_handling, "coarsen_allowed": r.coarsen_allowed,
            "decided_on": _iso(r.decided_on), "decision_reason": r.decision_reason,
            "active_from": _iso(r.active_from), "expires_on": _iso(r.expires_on),
            "ended_on": _iso(r.ended_on),
        }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def summary(ops: OpsDatabase, request: AccessRequest) -> Summary:
    return Summary(request, datasets_of(ops, request.id), members_of(ops, request.id),
                   hgr_state(ops, request))
