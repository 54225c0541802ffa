"""Governed sharing: the data catalogue, access requests, the committee's review and the
provision record. The domain (precimed.sharing) validates and audits; these routes only
translate HTTP. Decision and submission dates are the server's: the day the action is
taken (the as_of setting, ``Settings.as_of_given``, pins it), never a date the client
sends."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from precimed.api import jobs
from precimed.api.deps import client_of, platform, require
from precimed.errors import Forbidden, UserError
from precimed.ops.accounts import Principal
from precimed.sharing import catalogue, committee, provisions, requests
from precimed.sharing.form import RequestForm

router = APIRouter(tags=["sharing"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PublishBody(Strict):
    release: str | None = Field(None, max_length=64,
                                description="Release whose cohorts to list; newest if omitted")
    genotypes: bool = Field(True, description="Also list the genotype store's datasets")


class ConditionsBody(Strict):
    conditions: list[str] = Field(max_length=30, description='DUO codes, e.g. ["HMB", '
                                  '"NCU", "DS:I21", "TS:2028-12-31"]')
    reason: str = Field("", max_length=500)


class EntryBody(Strict):
    access_tier: str | None = Field(None, max_length=16)
    embargo_until: dt.date | None = None
    clear_embargo: bool = False
    kind: str | None = Field(None, max_length=16)
    titles: dict[str, str] | None = None


class UseBody(Strict):
    purpose: str = Field(max_length=16, description="GRU, HMB, DS or POA (or a DUO ID)")
    disease: str = Field("", max_length=32, description="ICD-10 code or MONDO ID, for DS")
    commercial: bool = False
    for_profit: bool = False
    methods: bool = False
    ancestry: bool = False


class MemberBody(Strict):
    name: str = Field("", max_length=128)
    username: str = Field("", max_length=64)
    institution: str = Field("", max_length=200)
    foreign: bool = False


class FormBody(Strict):
    title_zh: str = Field("", max_length=300)
    title_en: str = Field("", max_length=300)
    summary_zh: str = Field("", max_length=5000)
    summary_en: str = Field("", max_length=5000)
    institution: str = Field("", max_length=200)
    intended_use: UseBody
    datasets: list[str] = Field(default_factory=list, max_length=50)
    variables: list[str] = Field(default_factory=list, max_length=2000)
    cohort_id: str | None = Field(None, max_length=32)
    ethics_number: str = Field("", max_length=64)
    foreign_party: bool = False
    foreign_sponsor: bool = False
    foreign_detail: str = Field("", max_length=2000)
    duration_months: int = 12
    members: list[MemberBody] = Field(default_factory=list, max_length=100)
    hgr_filing_number: str = Field("", max_length=64)
    hgr_filing_date: dt.date | None = None
    hgr_backup_receipt: str = Field("", max_length=128)

    def form(self) -> RequestForm:
        return RequestForm.parse(self.model_dump(mode="json"))


class ReasonBody(Strict):
    reason: str = Field("", max_length=2000)


class VoteBody(Strict):
    vote: str = Field(max_length=16, description="approve, reject, return or abstain")
    reason: str = Field("", max_length=2000)


class DecisionBody(Strict):
    decision: str = Field(max_length=16, description="approve, reject or return")
    reason: str = Field(max_length=2000)
    date_handling: str = Field("shifted", max_length=16,
                               description="Dates in extracts: shifted or year_month")
    coarsen_allowed: bool = False
    conditions: list[str] = Field(default_factory=list, max_length=20,
                                  description="DUO modifiers the approval adds")
    expires_on: dt.date | None = None


class HgrBody(Strict):
    filing_number: str | None = Field(None, max_length=64)
    filing_date: dt.date | None = None
    backup_receipt: str | None = Field(None, max_length=128)
    security_review_ref: str | None = Field(None, max_length=128)
    security_review_date: dt.date | None = None


def _on(request: Request) -> dt.date:
    """The date of an action taken now: an event's own date, not a result's as-of date."""
    return platform(request).settings.action_date


def _summary(request: Request, record: Any) -> dict:
    return requests.summary(platform(request).ops, record).to_dict()


# -- the catalogue ---------------------------------------------------------------------
@router.get("/catalogue", summary="The data catalogue: datasets, conditions, protected counts")
def catalogue_list(request: Request,
                   _: Principal = Depends(require("catalogue.read"))) -> dict:
    p = platform(request)
    return {"threshold": p.policy.threshold,
            "entries": [catalogue.describe(p.ops, e, policy=p.policy)
                        for e in catalogue.entries(p.ops)]}


@router.get("/catalogue/{entry_id}", summary="One catalogue entry and its conditions' history")
def catalogue_entry(entry_id: str, request: Request,
                    _: Principal = Depends(require("catalogue.read"))) -> dict:
    p = platform(request)
    item = catalogue.entry(p.ops, entry_id)
    return {**catalogue.describe(p.ops, item, policy=p.policy),
            "history": [{"version": h.version, "conditions": h.conditions, "set_by": h.set_by,
                         "set_at": h.set_at.isoformat(), "reason": h.reason}
                        for h in catalogue.history(p.ops, entry_id)]}


@router.post("/catalogue/publish", summary="List a release's cohorts and the genotype "
             "datasets in the catalogue (admin)")
def catalogue_publish(body: PublishBody, request: Request,
                      principal: Principal = Depends(require("catalogue.manage"))) -> dict:
    from precimed.genomics import consent as genomic_consent
    from precimed.genomics.store import GenotypeStore

    if principal.centres:
        raise Forbidden("Only an administrator publishes the whole catalogue",
                        where="catalogue", hint="A data manager sets their entries' "
                                                "conditions instead.")
    p = platform(request)
    release = p.release(body.release)
    snapshot = p.lake.snapshot(release)
    ids = catalogue.publish_release(p.ops, snapshot, release, actor=principal.username,
                                    client=client_of(request))
    store_dir = p.settings.genotypes_dir
    if body.genotypes and (store_dir / "store.json").exists():
        ids += catalogue.publish_genotypes(p.ops, GenotypeStore.open(store_dir), snapshot,
                                           actor=principal.username,
                                           left_out=genomic_consent.left_out(p.lake, release),
                                           client=client_of(request))
    return {"release": release, "entries": ids}


@router.put("/catalogue/{entry_id}/conditions", summary="Set an entry's DUO conditions "
            "(a new version)")
def catalogue_conditions(entry_id: str, body: ConditionsBody, request: Request,
                         principal: Principal = Depends(require("catalogue.manage"))) -> dict:
    p = platform(request)
    version = catalogue.set_conditions(p.ops, entry_id, body.conditions, principal=principal,
                                       reason=body.reason, client=client_of(request))
    return {"id": entry_id, "conditions_version": version}


@router.patch("/catalogue/{entry_id}", summary="Change an entry's tier, embargo, kind or "
              "titles")
def catalogue_update(entry_id: str, body: EntryBody, request: Request,
                     principal: Principal = Depends(require("catalogue.manage"))) -> dict:
    p = platform(request)
    item = catalogue.update_entry(p.ops, entry_id, principal=principal,
                                  access_tier=body.access_tier,
                                  embargo_until=body.embargo_until,
                                  clear_embargo=body.clear_embargo, kind=body.kind,
                                  titles=body.titles, client=client_of(request))
    return catalogue.describe(p.ops, item, policy=p.policy)


# -- a researcher's requests -----------------------------------------------------------
@router.get("/sharing/requests", summary="My access requests (as applicant or member)")
def my_requests(request: Request,
                principal: Principal = Depends(require("sharing.apply"))) -> dict:
    ops = platform(request).ops
    return {"requests": [_summary(request, r) for r in requests.mine(ops, principal=principal)]}


@router.post("/sharing/requests", status_code=201, summary="Start an access request (draft)")
def create_request(body: FormBody, request: Request,
                   principal: Principal = Depends(require("sharing.apply"))) -> dict:
    record = requests.create(platform(request).ops, body.form(), principal=principal,
                             client=client_of(request))
    return _summary(request, record)


@router.get("/sharing/requests/{request_id}", summary="One of my access requests")
def get_request(request_id: str, request: Request,
                principal: Principal = Depends(require("sharing.apply"))) -> dict:
    return _summary(request, requests.get(platform(request).ops, request_id,
                                          principal=principal))


@router.put("/sharing/requests/{request_id}", summary="Change a draft or returned request")
def update_request(request_id: str, body: FormBody, request: Request,
                   principal: Principal = Depends(require("sharing.apply"))) -> dict:
    record = requests.update(platform(request).ops, request_id, body.form(),
                             principal=principal, client=client_of(request))
    return _summary(request, record)


@router.post("/sharing/requests/{request_id}/ethics",
             summary="Upload the ethics approval (kept in the home, never the lake)")
def upload_ethics(request_id: str, request: Request,
                  document: UploadFile = File(..., description="PDF or image, ≤ 20 MiB"),
                  principal: Principal = Depends(require("sharing.apply"))) -> dict:
    p = platform(request)
    name = Path(document.filename or "approval.pdf").name
    p.settings.sharing_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=p.settings.sharing_dir, prefix=".upload-"))
    try:
        target = folder / "upload"
        jobs.save_upload(document, target, field="document", name="ethics approval",
                         limit=requests.ETHICS_LIMIT,
                         hint="Upload a scan of the signed approval of at most 20 MiB.")
        digest = requests.attach_ethics(p.ops, request_id, target, filename=name,
                                        sharing_dir=p.settings.sharing_dir,
                                        principal=principal, client=client_of(request))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"id": request_id, "sha256": digest}


@router.get("/sharing/requests/{request_id}/ethics",
            summary="Open the ethics approval (the applicant and the committee; audited)")
def download_ethics(request_id: str, request: Request,
                    principal: Principal = Depends(require("catalogue.read"))) -> FileResponse:
    p = platform(request)
    path = requests.ethics_file(p.ops, request_id, sharing_dir=p.settings.sharing_dir,
                                principal=principal, client=client_of(request))
    return FileResponse(path, filename=f"{request_id}-{path.name}")


@router.post("/sharing/requests/{request_id}/submit",
             summary="Submit: every requirement checked, then matched against the datasets' "
                     "conditions")
def submit_request(request_id: str, request: Request,
                   principal: Principal = Depends(require("sharing.apply"))) -> dict:
    p = platform(request)
    record = requests.submit(p.ops, request_id, principal=principal, on=_on(request),
                             settings=p.settings, client=client_of(request))
    return _summary(request, record)


@router.post("/sharing/requests/{request_id}/withdraw", summary="Withdraw an open request")
def withdraw_request(request_id: str, body: ReasonBody, request: Request,
                     principal: Principal = Depends(require("sharing.apply"))) -> dict:
    record = requests.withdraw(platform(request).ops, request_id, principal=principal,
                               on=_on(request), reason=body.reason,
                               client=client_of(request))
    return _summary(request, record)


# -- the committee ---------------------------------------------------------------------
@router.get("/sharing/review", summary="The committee's queue")
def review_queue(request: Request,
                 _: Principal = Depends(require("sharing.review"))) -> dict:
    ops = platform(request).ops
    return {"requests": [_summary(request, r) for r in requests.queue(ops)]}


def _review(request: Request, record: Any) -> dict:
    p = platform(request)
    return {**_summary(request, record),
            "votes": [{"voter": v.voter, "vote": v.vote, "reason": v.reason,
                       "at": v.at.isoformat()}
                      for v in committee.votes(p.ops, record.id)] if record.review_round
            else [],
            "votes_needed": p.settings.dac_votes, "chair": p.settings.dac_chair,
            "history": [{"from": e.from_status, "to": e.to_status, "actor": e.actor,
                         "reason": e.reason, "at": e.at.isoformat()}
                        for e in requests.events_of(p.ops, record.id)]}


@router.get("/sharing/review/{request_id}", summary="A request with its match, votes and "
            "history")
def review_request(request_id: str, request: Request,
                   principal: Principal = Depends(require("sharing.review"))) -> dict:
    return _review(request, requests.get(platform(request).ops, request_id,
                                         principal=principal))


@router.post("/sharing/review/{request_id}/votes", summary="Vote on a request")
def vote_request(request_id: str, body: VoteBody, request: Request,
                 principal: Principal = Depends(require("sharing.review"))) -> dict:
    ops = platform(request).ops
    committee.vote(ops, request_id, body.vote, principal=principal, reason=body.reason,
                   client=client_of(request))
    return _review(request, requests.get(ops, request_id, principal=principal))


@router.post("/sharing/review/{request_id}/decision", summary="The chair's decision")
def decide_request(request_id: str, body: DecisionBody, request: Request,
                   principal: Principal = Depends(require("sharing.review"))) -> dict:
    p = platform(request)
    approval = committee.Approval(date_handling=body.date_handling,
                                  coarsen_allowed=body.coarsen_allowed,
                                  conditions=tuple(body.conditions),
                                  expires_on=body.expires_on)
    record = committee.decide(p.ops, request_id, body.decision, principal=principal,
                              reason=body.reason, on=_on(request),
                              quorum=p.settings.dac_votes, chair=p.settings.dac_chair,
                              approval=approval, client=client_of(request))
    return _review(request, record)


@router.post("/sharing/review/{request_id}/revoke", summary="Revoke an approved or active "
             "request")
def revoke_request(request_id: str, body: ReasonBody, request: Request,
                   principal: Principal = Depends(require("sharing.review"))) -> dict:
    ops = platform(request).ops
    requests.revoke(ops, request_id, principal=principal, on=_on(request),
                    reason=body.reason, client=client_of(request))
    return _review(request, requests.get(ops, request_id, principal=principal))


@router.post("/sharing/review/{request_id}/hgr", summary="Record the human-genetic-resource "
             "filing and/or security review")
def record_hgr(request_id: str, body: HgrBody, request: Request,
               principal: Principal = Depends(require("sharing.hgr"))) -> dict:
    ops = platform(request).ops
    requests.record_hgr(ops, request_id, principal=principal,
                        filing_number=body.filing_number, filing_date=body.filing_date,
                        backup_receipt=body.backup_receipt,
                        review_ref=body.security_review_ref,
                        review_date=body.security_review_date, client=client_of(request))
    return _review(request, requests.get(ops, request_id, principal=principal))


@router.get("/sharing/provisions", summary="The provisions of data in a calendar year "
            "(a centre's data manager: those of its centres' datasets)")
def provision_list(year: int, request: Request,
                   principal: Principal = Depends(require("sharing.provisions"))) -> dict:
    if not 2000 <= year <= 2200:
        raise UserError("The year is out of range", where="year", hint="Give e.g. 2026.")
    return {"year": year, "provisions": provisions.annual(platform(request).ops, year,
                                                          principal=principal)}
