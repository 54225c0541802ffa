"""Pages of governed sharing: the catalogue, the access request form, "my requests" and
the committee's queue.

They read through the sharing services (:mod:`precimed.sharing.catalogue`,
:mod:`precimed.sharing.requests`, :mod:`precimed.sharing.committee`) under the same
permission gates as ``/api/v1/catalogue`` and ``/api/v1/sharing``; every action (set
conditions, save and submit a request, upload the ethics approval, withdraw, vote,
decide, record an HGR filing) goes through that API from ``static/sharing.js``, so the
pages refuse and audit exactly as the API does. Labels of codes (DUO terms, statuses,
tiers, centres, variables) come from the standard, in the page's language.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from precimed.api.deps import platform, require
from precimed.errors import Forbidden
from precimed.ops.accounts import Principal
from precimed.ops.db import SavedCohort, User
from precimed.sharing import catalogue, committee, requests
from precimed.sharing.matching import PURPOSES
from precimed.standard import (
    CENTRES,
    EXPOSURE_ITEMS,
    MEASUREMENT_ITEMS,
    TABLES,
    vocabulary,
)
from precimed.standard.duo import DUO_TERMS
from precimed.standard.sharing import GENETIC_INFORMATION_KINDS
from precimed.web.i18n import translator
from precimed.web.pages import language, render

router = APIRouter(include_in_schema=False)

# the form's fields as the API names them (precimed.sharing.form.RequestForm)
FORM_FIELDS = ("title_zh", "title_en", "summary_zh", "summary_en", "institution",
               "intended_use", "intended_use.disease", "datasets", "variables", "cohort_id",
               "ethics_number", "ethics_document", "foreign_party", "foreign_sponsor",
               "foreign_detail", "duration_months", "members", "members.username",
               "members.name", "hgr_filing_number", "hgr_filing_date", "hgr_backup_receipt")
VOCABULARIES = ("access_tier", "dataset_kind", "request_status", "match_result",
                "hgr_state", "dac_vote", "date_handling")


def labels(lang: str) -> dict[str, dict[str, str]]:
    """Every code a sharing page shows, with its name in the page's language."""
    i = 0 if lang == "zh" else 1
    out = {name: {c: v[i] for c, v in vocabulary(name).codes.items()}
           for name in VOCABULARIES}
    out["centre"] = {c: (x.zh, x.en)[i] for c, x in CENTRES.items()}
    out["duo"] = {t.code: (t.zh, t.en)[i] for t in DUO_TERMS.values()}
    out["duo_id"] = {t.code: t.id for t in DUO_TERMS.values()}
    return out


def variable_label(name: str, lang: str) -> str:
    """A variable's name from the data dictionary (participant fields, measurement and
    exposure items); the code itself when the dictionary has no label."""
    i = 0 if lang == "zh" else 1
    item = MEASUREMENT_ITEMS.get(name) or EXPOSURE_ITEMS.get(name)
    if item is not None:
        return (item.zh, item.en)[i]
    if name == "age":
        return translator(lang)("kind_age")
    fields = {f.name: f for f in TABLES["participant"].fields}
    return (fields[name].zh, fields[name].en)[i] if name in fields else name


def _can_manage(principal: Principal, item: Any) -> bool:
    try:
        catalogue.require_owner(principal, item)
    except Forbidden:
        return False
    return True


@router.get("/catalogue")
def catalogue_page(request: Request,
                   principal: Principal = Depends(require("catalogue.read"))):
    p = platform(request)
    lang = language(request)
    rows = []
    for item in catalogue.entries(p.ops):
        described = catalogue.describe(p.ops, item, policy=p.policy)
        described["manageable"] = _can_manage(principal, item)
        described["conditions_text"] = ", ".join(
            f"{c['code']}:{c['value']}" if c["value"] else c["code"]
            for c in described["conditions"])
        described["variable_labels"] = {v: variable_label(v, lang)
                                        for v in described["variables"]}
        rows.append(described)
    return render(request, "catalogue.html", entries=rows, labels=labels(lang),
                  can_apply=principal.can("sharing.apply"),
                  duo_terms=list(DUO_TERMS.values()),
                  genetic_kinds=sorted(GENETIC_INFORMATION_KINDS),
                  catalogue_words=catalogue_words(lang))


def catalogue_words(lang: str) -> dict[str, Any]:
    """What the catalogue's editing script says, in the page's language."""
    t = translator(lang)
    i = 0 if lang == "zh" else 1
    return {"saved": t("cat_saved"), "remove": t("remove"),
            "remove_term": t("cat_remove_term", code="{code}"),
            "value_needed": t("cat_value_needed"), "reason_needed": t("cat_reason_needed"),
            "confirm": t("cat_conditions_confirm", conditions="{conditions}"),
            "terms": {d.code: {"id": d.id, "name": (d.zh, d.en)[i], "kind": d.kind,
                               "value": d.value} for d in DUO_TERMS.values()},
            "fields": {name: t(f"f_{name}") for name in (
                "conditions", "access_tier", "embargo_until", "titles", "kind", "reason")}}


@router.get("/requests")
def my_requests(request: Request, principal: Principal = Depends(require("sharing.apply"))):
    p = platform(request)
    rows = [requests.summary(p.ops, r).to_dict()
            for r in requests.mine(p.ops, principal=principal)]
    return render(request, "requests.html", rows=rows, labels=labels(language(request)),
                  open_statuses=sorted(requests.OPEN), editable=sorted(requests.EDITABLE),
                  me=principal.username)


@router.get("/requests/new")
def request_form(request: Request, dataset: str = "", draft: str = "",
                 principal: Principal = Depends(require("sharing.apply"))):
    """The application form, empty (optionally with one dataset ticked) or with a draft
    or returned request of the principal's filled in."""
    p = platform(request)
    lang = language(request)
    current = None
    if draft:
        found = requests.get(p.ops, draft, principal=principal)
        if found.applicant_id == principal.user_id and found.status in requests.EDITABLE:
            current = requests.summary(p.ops, found).to_dict()
            current["members"] = _members_with_accounts(p.ops, draft)
    entries = [catalogue.describe(p.ops, e, policy=p.policy)
               for e in catalogue.entries(p.ops) if e.access_tier != "open"]
    with p.ops.session() as session:
        cohorts = [(c.id, c.name) for c in session.scalars(
            select(SavedCohort).where(SavedCohort.owner_id == principal.user_id)
            .order_by(SavedCohort.updated_at.desc()))]
    chosen = set(current["datasets"]) if current else ({dataset} if dataset else set())
    return render(request, "request_form.html", entries=entries, chosen=chosen,
                  current=current, cohorts=cohorts, purposes=PURPOSES,
                  labels=labels(lang), words=form_words(lang))


def form_words(lang: str) -> dict[str, Any]:
    """What the form's script says, and every field's label, so an error the API
    names by its field (``ethics_number``, ``datasets[0]``) is shown by that label."""
    t = translator(lang)
    return {"fields": {name: t(f"f_{name}") for name in FORM_FIELDS},
            "fix_field": t("req_fix_field"), "refused": t("req_refused"),
            "saving": t("req_saving"), "saved": t("req_saved")}


def _members_with_accounts(ops: Any, request_id: str) -> list[dict[str, Any]]:
    """A draft's members with their platform user names, so saving it again keeps them."""
    members = requests.members_of(ops, request_id)
    with ops.session() as session:
        names = dict(session.execute(select(User.id, User.username).where(
            User.id.in_([m.user_id for m in members if m.user_id is not None]))).all())
    return [{"name": m.name, "username": names.get(m.user_id, ""),
             "institution": m.institution, "foreign": m.foreign} for m in members]


@router.get("/review")
def review_queue(request: Request, principal: Principal = Depends(require("sharing.review"))):
    p = platform(request)
    rows = []
    for record in requests.queue(p.ops):
        data = requests.summary(p.ops, record).to_dict()
        data["votes"] = [{"voter": v.voter, "vote": v.vote, "reason": v.reason,
                          "at": v.at.isoformat()}
                         for v in committee.votes(p.ops, record.id)] \
            if record.review_round else []
        data["history"] = [{"from": e.from_status, "to": e.to_status, "actor": e.actor,
                            "reason": e.reason, "at": e.at.isoformat()}
                           for e in requests.events_of(p.ops, record.id)]
        rows.append(data)
    active = [requests.summary(p.ops, r).to_dict()
              for r in requests.queue(p.ops, statuses=frozenset({"active"}))]
    lang = language(request)
    return render(request, "review.html", rows=rows, active=active, labels=labels(lang),
                  votes_needed=p.settings.dac_votes, chair=p.settings.dac_chair,
                  can_hgr=principal.can("sharing.hgr"), me=principal.username,
                  review_words=review_words(lang))


def review_words(lang: str) -> dict[str, Any]:
    """What the committee's page script says, and the labels of the fields its refusals
    name, in the page's language."""
    t = translator(lang)
    return {"revoke_confirm": t("rev_revoke_confirm", title="{title}", id="{id}"),
            "revoke_reason_needed": t("rev_revoke_reason_needed"),
            "fields": {"reason": t("reason"), "vote": t("rev_vote"),
                       "decision": t("rev_decision"), "request": t("req_project"),
                       "date_handling": t("ws_dates"), "conditions": t("rev_conditions"),
                       "expires_on": t("expires_on"), "filing": t("rev_record_hgr"),
                       **{f: t(f"f_{f}") for f in ("hgr_filing_number", "hgr_filing_date",
                                                   "hgr_backup_receipt")},
                       "security_review_ref": t("rev_security_review_ref"),
                       "security_review_date": t("rev_security_review_date")}}
