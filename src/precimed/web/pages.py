"""The pages: server-rendered Jinja templates over the same services as the API
(:mod:`precimed.workflows`, :mod:`precimed.standard.listing`, :mod:`precimed.ops`), never
its route functions.

Each page passes the same permission gate as its API (``require``), so a page and its API
cannot disagree about who may see what; a signed-out visitor is sent to the login page.
Interactive parts (upload progress, the cohort builder's live counts, adjudication) call
the API from ``static/app.js``. Charts are drawn by Plotly, served from the installed
``plotly`` package: no CDN, nothing fetched from outside.

Times are shown in the platform's zone (setting ``time_zone``) with the zone named:
``{{ when(row.received_at) }}``; they are stored in UTC.

Every template gets ``csp_nonce`` (put it on each inline ``<script nonce=...>``: the
Content-Security-Policy runs no other inline script) and ``csrf_token`` (a hidden
``csrf_token`` field in each POST form; ``static/app.js`` sends it as ``X-CSRF-Token``),
see :mod:`precimed.api.guard`.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, urlencode

import fastapi_offline
import plotly
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from precimed.api.deps import (
    SESSION_COOKIE,
    client_of,
    platform,
    require,
    resolve,
    set_session_cookie,
)
from precimed.api.guard import csrf_token
from precimed.errors import NotFound, UserError
from precimed.ops.accounts import Principal
from precimed.settings import local_time
from precimed.web.i18n import DEFAULT, LANGUAGES, MESSAGES, translator

STATIC = Path(__file__).parent / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# Swagger UI for /api/docs, from the installed fastapi-offline package (no CDN)
SWAGGER = Path(fastapi_offline.__file__).parent / "static"
VENDOR = {"plotly.min.js": (PLOTLY_JS, "text/javascript"),
          "swagger-ui-bundle.js": (SWAGGER / "swagger-ui-bundle.js", "text/javascript"),
          "swagger-ui.css": (SWAGGER / "swagger-ui.css", "text/css")}
LANG_COOKIE = "precimed_lang"

router = APIRouter(include_in_schema=False)
_env = Environment(loader=PackageLoader("precimed.web", "templates"),
                   autoescape=select_autoescape(["html"]))


def tojson_safe(value) -> Markup:
    """JSON for a <script> block: marked safe, or autoescape would turn its quotes into
    &#34; and break the script; <, >, & and ' are escaped as JSON \\u escapes instead, so
    no value can close the script element. Chinese stays readable (no ensure_ascii)."""
    text = json.dumps(value, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("'", "\\u0027")):
        text = text.replace(char, escape)
    return Markup(text)


_env.filters["tojson_safe"] = tojson_safe

NAV = (("dashboard", "/", "dashboard.read"), ("submissions", "/submissions", "submissions.read"),
       ("cohorts", "/cohorts", "cohorts.count"), ("followup", "/followup", "followup.read"),
       ("adjudication", "/adjudication", "endpoints.review"),
       ("dictionary", "/dictionary", "dictionary.read"),
       ("reference", "/reference", "dictionary.read"),
       ("catalogue", "/catalogue", "catalogue.read"),
       ("requests", "/requests", "sharing.apply"),
       ("review", "/review", "sharing.review"),
       ("projects", "/projects", "sharing.apply"),
       ("output_review", "/outputs/review", "outputs.review"),
       ("erasure", "/erasure", "participants.erase"),
       ("admin", "/admin", "audit.read"))


def wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def language(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGUAGES else DEFAULT


def render(request: Request, template: str, *, code: int = 200, **context) -> HTMLResponse:
    lang = language(request)
    principal = getattr(request.state, "principal", None)
    nav = [(key, href) for key, href, permission in NAV
           if principal is not None and (principal.can(permission)
                                         or (key == "admin" and principal.can("users.manage")))]
    other = "en" if lang == "zh" else "zh"
    # the switch keeps the page's own query (a search, a chosen table) and changes language
    switch = "?" + urlencode({**request.query_params, "lang": other})
    session = request.cookies.get(SESSION_COOKIE)
    zone = platform(request).settings.zone
    html = _env.get_template(template).render(
        when=lambda value: local_time(value, zone),
        t=translator(lang), lang=lang, other=other, lang_switch=switch,
        principal=principal, nav=nav, path=request.url.path,
        csrf_token=csrf_token(session) if session else "",
        csp_nonce=getattr(request.state, "csp_nonce", ""),
        threshold=platform(request).policy.threshold, **context)
    response = HTMLResponse(html, status_code=code)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", max_age=365 * 86400)
    return response


def error_page(request: Request, status: int, error: dict) -> Response:
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return render(request, "error.html", code=status, error=error)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", next=_local(next), failed=None)


def _local(target: str) -> str:
    """Only same-site paths after login: no open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""),
          next: str = Form("/")) -> Response:
    from precimed.ops import signin

    response = RedirectResponse(_local(next), status_code=303)
    try:
        _, token = signin.sign_in(platform(request).ops, username, password,
                                  client=client_of(request))
    except UserError as exc:
        return render(request, "login.html", code=exc.http_status, next=_local(next),
                      failed=exc.to_dict())
    set_session_cookie(request, response, token)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    from precimed.ops import signin

    response = RedirectResponse("/login", status_code=303)
    signin.sign_out(platform(request).ops, request.cookies.get(SESSION_COOKIE),
                    resolve(request), client=client_of(request))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def dashboard(request: Request, principal: Principal = Depends(require("dashboard.read"))):
    from precimed.workflows import dashboard as services
    from precimed.workflows.endpoints import incidence as rates

    p = platform(request)
    incidence = rates(p, principal, by="region") if principal.can("endpoints.read") else None
    return render(request, "dashboard.html", data=services.dashboard(p, principal),
                  incidence=incidence)


@router.get("/submissions")
def submissions(request: Request,
                principal: Principal = Depends(require("submissions.read"))):
    from precimed.standard import CENTRES, vocabulary
    from precimed.standard.vocabularies import VCF_ASSAY_TYPES
    from precimed.workflows.submissions import summaries, visible_submissions

    p = platform(request)
    rows = list(reversed(summaries(visible_submissions(p, principal, None))))
    genotype_qc = [{"id": g.id, "centre": g.centre, "scored_at": g.scored_at.isoformat(),
                    "verdict": g.verdict}
                   for g in reversed(p.ops.scorings(kind="genotype"))
                   if principal.sees_centre(g.centre)]
    assays = vocabulary("assay_type").codes
    return render(request, "submissions.html", rows=rows[:200], genotype_qc=genotype_qc[:50],
                  can_upload=principal.can("submissions.create"),
                  upload_centres=list(principal.centres) or list(CENTRES),
                  assay_types={code: assays[code] for code in VCF_ASSAY_TYPES})


@router.get("/submissions/qc/{scoring_id}")
def qc_checks(scoring_id: str, request: Request,
              principal: Principal = Depends(require("submissions.read"))):
    """One QC scoring's checks, those that did not pass first: why a verdict is what it is
    (a genotype dataset's scoring has no report file of its own)."""
    from precimed.workflows.submissions import scoring_checks

    return render(request, "qc_checks.html",
                  scoring=scoring_checks(platform(request), principal, scoring_id))


@router.get("/cohorts")
def cohorts(request: Request, principal: Principal = Depends(require("cohorts.count"))):
    from precimed.standard import (
        CENTRES,
        COHORTS,
        EXPOSURES,
        MEASUREMENTS,
        REGIONS,
        vocabulary,
    )

    lang = language(request)
    i = 0 if lang == "zh" else 1
    t = translator(lang)
    options = {
        "participant": {
            "sex": {c: v[i] for c, v in vocabulary("sex").codes.items()},
            "region": {c: (r.zh, r.en)[i] for c, r in REGIONS.items()},
            "cohort": {c: (x.zh, x.en)[i] for c, x in COHORTS.items()},
            "centre": {c: (x.zh, x.en)[i] for c, x in CENTRES.items()},
        },
        "measurement": {m.code: f"{(m.zh, m.en)[i]} ({m.unit})" for m in MEASUREMENTS},
        "exposure": {e.code: {"label": (e.zh, e.en)[i], "kind": e.kind,
                              "categories": {k: v[i] for k, v in e.categories.items()}}
                     for e in EXPOSURES},
        "specimen": {c: v[i] for c, v in vocabulary("specimen_type").codes.items()},
        "assay": {c: v[i] for c, v in vocabulary("assay_type").codes.items()},
    }
    # the survival tab: endpoints from the standard, the groupings and covariates the
    # survival API takes (precimed.workflows.survival), labelled in the page's language
    from precimed.workflows.survival import BY

    survival = {
        "endpoints": {c: v[i] for c, v in vocabulary("survival_endpoint").codes.items()},
        "by": list(BY),
        "groups": {**options["participant"]},
        "measurements": {m.code: {"label": (m.zh, m.en)[i], "unit": m.unit}
                         for m in MEASUREMENTS},
        "words": {key: t(key) for key in MESSAGES if key.startswith("surv_")},
    }
    return render(request, "cohorts.html", options=options, survival=survival,
                  releases=platform(request).releases(),
                  can_save=principal.can("cohorts.save"))


WORKLIST_PAGE = 50  # rows per page of the follow-up worklist


@router.get("/followup")
def followup(request: Request, centre: str | None = None, sort: str = "overdue",
             page: int = 1, recorded: str = "",
             principal: Principal = Depends(require("followup.read"))):
    return _followup_page(request, principal, centre=centre, sort=sort, page=page,
                          recorded=recorded == "1")


@router.get("/followup/worklist.xlsx")
def followup_xlsx(request: Request, centre: str = "", sort: str = "overdue",
                  principal: Principal = Depends(require("followup.read"))) -> Response:
    """The centre's whole worklist as an Excel workbook in the page's language (audited)."""
    from precimed.standard import CENTRES, CONTACT_OUTCOME
    from precimed.workflows.followup import WORKLIST_SORTS, worklist_workbook

    if sort not in WORKLIST_SORTS:
        raise UserError(f"Unknown worklist order {sort!r}", where="sort",
                        hint="Sort by: " + ", ".join(WORKLIST_SORTS))
    lang = language(request)
    t, i = translator(lang), LANGUAGES.index(lang)
    p = platform(request)
    name = (CENTRES[centre].zh, CENTRES[centre].en)[i] if centre in CENTRES else centre
    as_of = p.as_of()
    releases = p.releases()
    words = {key: t(key) for key in ("pseudonym", "wave", "due_date", "days_overdue",
                                      "missed_waves", "last_traced", "last_outcome")}
    words["title"] = f"{t('worklist')} · {name} ({centre})"
    words["basis"] = t("worklist_basis", as_of=as_of.isoformat() if as_of else "–",
                       version=p.lake.catalog().version,
                       release=releases[0]["name"] if releases else "–")
    outcomes = {code: labels[i] for code, labels in CONTACT_OUTCOME.codes.items()}
    data = worklist_workbook(p, principal, centre=centre, sort=sort, words=words,
                             outcomes=outcomes, client=client_of(request))
    return Response(data, media_type="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet",
                    headers={"Content-Disposition":
                             f'attachment; filename="worklist-{centre}.xlsx"'})


# the follow-up page's words for a refused contact, by the field the refusal names
CONTACT_REFUSALS = {"outcome": "err_contact_outcome", "method": "err_contact_method",
                    "contact_date": "err_contact_date", "pseudonym": "err_contact_participant",
                    "wave": "err_contact_wave", "centre": "err_contact_centre"}


@router.post("/followup/contact")
def followup_contact(request: Request, centre: str = Form(""), pseudonym: str = Form(""),
                     wave: str = Form(""), contact_date: str = Form(""),
                     method: str = Form(""), outcome: str = Form(""),
                     sort: str = Form("overdue"), page: int = Form(1),
                     principal: Principal = Depends(require("followup.record"))) -> Response:
    """Record a contact from the worklist (the service of POST /api/v1/followup/contacts);
    a refusal re-renders the page saying why in its language, nothing changed."""
    import datetime as dt

    from precimed.workflows.followup import record_contact

    try:
        try:
            when = dt.date.fromisoformat(contact_date)
        except ValueError:
            raise UserError("Not a date", where="contact_date",
                            hint="Give the day of the attempt as YYYY-MM-DD.") from None
        if not wave.strip().isdigit() or int(wave) > 50:
            raise UserError("Not a wave number", where="wave", hint="Give the wave number.")
        record_contact(platform(request), principal, centre=centre, pseudonym=pseudonym,
                       wave=int(wave), contact_date=when, method=method, outcome=outcome,
                       client=client_of(request))
    except UserError as exc:
        return _followup_page(request, principal, centre=centre, sort=sort, page=page,
                              refused=CONTACT_REFUSALS.get(exc.where, "err_contact"),
                              code=exc.http_status,
                              entered={"pseudonym": pseudonym, "wave": wave,
                                       "contact_date": contact_date, "method": method,
                                       "outcome": outcome})
    query = urlencode({"centre": centre, "sort": sort, "page": page, "recorded": 1})
    return RedirectResponse(f"/followup?{query}#record-contact", status_code=303)


def _followup_page(request: Request, principal: Principal, *, centre: str | None,
                   sort: str, page: int, recorded: bool = False, refused: str = "",
                   code: int = 200, entered: dict | None = None) -> HTMLResponse:
    from precimed.standard import CENTRES, CONTACT_METHOD, CONTACT_OUTCOME
    from precimed.workflows.followup import WORKLIST_SORTS, retention, worklist

    p = platform(request)
    data = retention(p, principal)
    centres = [c for c in CENTRES if principal.sees_centre(c)]
    chosen = centre if centre in centres else (centres[0] if len(principal.centres) else None)
    sort = sort if sort in WORKLIST_SORTS else "overdue"
    page = max(1, min(page, 100_000))
    work = (worklist(p, principal, centre=chosen, limit=WORKLIST_PAGE,
                     offset=(page - 1) * WORKLIST_PAGE, sort=sort, client=client_of(request))
            if chosen else None)
    pages = max(1, -(-work["overdue"] // WORKLIST_PAGE)) if work else 1
    i = LANGUAGES.index(language(request))
    outcomes = {code: labels[i] for code, labels in CONTACT_OUTCOME.codes.items()}
    methods = {code: labels[i] for code, labels in CONTACT_METHOD.codes.items()}
    can_record = bool(chosen) and principal.can("followup.record") \
        and chosen in principal.centres
    return render(request, "followup.html", code=code, data=data, centres=centres,
                  chosen=chosen, work=work, sort=sort, sorts=list(WORKLIST_SORTS), page=page,
                  pages=pages, outcomes=outcomes, methods=methods, can_record=can_record,
                  recorded=recorded, refused=refused, entered=entered or {},
                  today=p.settings.action_date.isoformat())


PAGE_SIZE = 50


@router.get("/adjudication")
def adjudication(request: Request, status: str = "pending", endpoint: str = "",
                 centre: str = "", sources: str = "", sort: str = "first_date",
                 page: int = 1, principal: Principal = Depends(require("endpoints.review"))):
    from precimed.workflows.endpoints import SORTS, SOURCE_COUNTS, candidates

    status = status if status in {"pending", "needs_information", "confirmed",
                                  "rejected", "all"} else "pending"
    words = _adjudication_words(request, principal)
    centres, endpoints = words["centres"], words["endpoints"]
    chosen = {"status": status, "endpoint": endpoint if endpoint in endpoints else "",
              "centre": centre if centre in centres else "",
              "sources": sources if sources in SOURCE_COUNTS else "",
              "sort": sort if sort in SORTS else "first_date"}
    page = max(page, 1)
    found = candidates(platform(request), principal, status=status,
                       endpoint=chosen["endpoint"] or None, centre=chosen["centre"] or None,
                       sources=chosen["sources"] or None, sort=chosen["sort"],
                       offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                       client=client_of(request))
    pages = max(1, -(-found["total"] // PAGE_SIZE))
    query = {k: v for k, v in chosen.items() if v}
    return render(request, "adjudication.html", rows=found["rows"], total=found["total"],
                  status=status, chosen=chosen, page=page, pages=pages,
                  link=lambda **change: "?" + urlencode({**query, **change}),
                  sorts=SORTS, source_counts=SOURCE_COUNTS, **words)


@router.get("/adjudication/{candidate_id}")
def adjudication_case(candidate_id: str, request: Request,
                      principal: Principal = Depends(require("endpoints.review"))):
    from precimed.workflows.endpoints import case

    found = case(platform(request), principal, candidate_id, client=client_of(request))
    return render(request, "adjudication_case.html", c=found,
                  **_adjudication_words(request, principal))


def _adjudication_words(request: Request, principal: Principal) -> dict:
    """Names of the endpoints, centres and sources in the page's language, and the words
    the decision script shows."""
    from precimed.cohorts.adjudication import REASON_REQUIRED
    from precimed.cohorts.endpoints import ENDPOINT_GROUPS
    from precimed.standard import CENTRES
    from precimed.standard.vocabularies import EVENT_SOURCE, SURVIVAL_ENDPOINT

    lang = language(request)
    i = 0 if lang == "zh" else 1
    t = translator(lang)
    return {"centres": {c: (CENTRES[c].zh, CENTRES[c].en)[i] for c in sorted(CENTRES)
                        if principal.sees_centre(c)},
            "endpoints": {e: SURVIVAL_ENDPOINT.codes[e][i] for e in ENDPOINT_GROUPS},
            "source_names": {s: EVENT_SOURCE.codes[s][i] for s in EVENT_SOURCE.codes},
            "decide_words": {**{s: t(s) for s in ("pending", "confirmed", "rejected",
                                                  "needs_information")},
                             "reason": t("reason"), "reason_required": t("adj_reason_required"),
                             "reason_required_for": sorted(REASON_REQUIRED)}}


@router.get("/dictionary")
def dictionary(request: Request, table: str = "participant",
               principal: Principal = Depends(require("dictionary.read"))):
    from precimed.standard import LAKE_TABLES, listing

    chosen = table if table in LAKE_TABLES else "participant"
    return render(request, "dictionary.html", overview=listing.overview(),
                  table=listing.table_dict(chosen), measurements=listing.measurements())


@router.get("/reference")
def reference(request: Request, q: str = "",
              principal: Principal = Depends(require("dictionary.read"))):
    from precimed.web.reference import dataset_layouts, group_labels, stratum_labels

    lang = language(request)
    return render(request, "reference.html", query=q[:100], layouts=dataset_layouts(request),
                  labels=group_labels(lang), strata=stratum_labels(lang))


AUDIT_PAGE = 50


@router.get("/admin")
def admin(request: Request, actor: str = "", action: str = "", resource: str = "",
          since: str = "", until: str = "", page: int = 1,
          principal: Principal = Depends(require("audit.read"))):
    import datetime as dt

    from precimed.ops import accounts, audit, signin
    from precimed.ops.roles import CENTRE_SCOPED, ROLES
    from precimed.standard import CENTRES

    ops = platform(request).ops
    lang = language(request)
    users = None
    if principal.can("users.manage"):
        users = [{**accounts.user_dict(u), "locked": signin.account_locked(ops, u.username)}
                 for u in accounts.users(ops)]

    def day(text: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(text) if text else None
        except ValueError:
            return None

    shown = {"actor": actor[:64], "action": action[:64], "resource": resource[:200],
             "since": since if day(since) else "", "until": until if day(until) else ""}
    where = audit.EventFilter(actor=shown["actor"] or None, action=shown["action"] or None,
                              resource=shown["resource"] or None, since=day(since),
                              until=day(until))
    total = audit.count(ops, where)
    pages = max(1, -(-total // AUDIT_PAGE))
    page = min(max(page, 1), pages)
    events = [audit.event_dict(e) for e in audit.events(ops, limit=AUDIT_PAGE,
                                                        offset=(page - 1) * AUDIT_PAGE,
                                                        where=where)]
    for e in events:
        e["change"] = describe_event(e, lang)
    query = {k: v for k, v in shown.items() if v}
    i = 0 if lang == "zh" else 1
    role_names = {r: labels[lang] for r, labels in ROLES.items()}
    centre_names = {c: (CENTRES[c].zh, CENTRES[c].en)[i] for c in sorted(CENTRES)}
    t = translator(lang)
    words = {k: t(k) for k in ADMIN_WORDS}
    return render(request, "admin.html", users=users, events=events, roles=role_names,
                  centres=centre_names, centre_scoped=sorted(CENTRE_SCOPED), filters=shown,
                  actions=audit.actions(ops), total=total, page=page, pages=pages,
                  page_link=lambda n: "?" + urlencode({**query, "page": n}),
                  export_link="/api/v1/admin/audit.csv" + ("?" + urlencode(query)
                                                          if query else ""),
                  admin_words={**words, "role_names": role_names, "centre_names": centre_names,
                               "centre_scoped": sorted(CENTRE_SCOPED),
                               "me": principal.username})


# the admin page's words its script needs (static/app.js, precimed.admin)
ADMIN_WORDS = ("roles", "centres", "status", "user_active", "user_disabled", "user_locked",
               "no_role", "all_centres", "before", "after", "no_change", "confirm_change",
               "apply", "cancel", "close", "disable", "enable", "unlock", "reset_password",
               "dialog_disable", "dialog_enable", "dialog_unlock", "dialog_reset",
               "temporary_password", "one_time_password", "password_reset_done", "unlocked",
               "saved", "created", "err_password", "err_centres", "err_username",
               "err_username_taken", "err_own_admin", "err_own_disable", "err_own_password",
               "err_failed", "edit_user", "sessions_revoked", "password_rules")


REFUSAL_WORDS = {"password": "err_password", "centres": "err_centres",
                 "username": "err_username", "roles": "err_roles", "active": "err_own_disable"}


def describe_event(event: dict, lang: str) -> list[str]:
    """What an account event changed, in the page's language: roles, centres and state
    before → after (``user.change``), what a new account got (``user.create``), a reset
    password, an unlock. Other events: nothing (their action and object say it)."""
    from precimed.ops.roles import ROLES

    t = translator(lang)
    detail = event.get("detail") or {}
    sep = "、" if lang == "zh" else ", "

    def value(key: str, v) -> str:
        if key == "roles":
            return sep.join(f"{ROLES[r][lang]} ({r})" if r in ROLES else r for r in v) \
                or t("no_role")
        if key == "centres":
            return sep.join(v) or t("all_centres")
        if key == "active":
            return t("user_active") if v else t("user_disabled")
        return str(v)

    names = {"roles": t("roles"), "centres": t("centres"), "active": t("status")}
    lines = []
    if event["action"] == "user.change" and "before" in detail and "after" in detail:
        for key in detail.get("changed", []):
            if key in names:
                lines.append(f"{names[key]}: {value(key, detail['before'][key])} → "
                             f"{value(key, detail['after'][key])}")
    elif event["action"] == "user.create" and "after" in detail:
        lines += [f"{names[k]}: {value(k, detail['after'][k])}" for k in ("roles", "centres")]
    if event["action"] in ("user.change", "user.create") and event["outcome"] == "deny":
        # the reason in words where the page has them (the logged reason is English)
        reason = REFUSAL_WORDS.get(str(detail.get("where", "")).replace("body.", ""))
        lines.append(t("refused") + (": " + t(reason) if reason else ""))
    if detail.get("password") in ("reset", "changed"):
        lines.append(t("password_was_reset"))
    if event["action"] == "login.unlock":
        lines.append(t("unlocked"))
    return lines


@router.get("/erasure")
def erasure(request: Request, principal: Principal = Depends(require("participants.erase"))):
    """Erase a participant (PIPL Art. 47) through POST /api/v1/participants/erase: an
    admin for any centre, a data manager for their own centres only."""
    from precimed.deid.pseudonym import PSEUDONYM_HEX
    from precimed.standard import CENTRES

    lang = language(request)
    t = translator(lang)
    i = 0 if lang == "zh" else 1
    codes = list(principal.centres) if principal.centres else sorted(CENTRES)
    centres = [(c, (CENTRES[c].zh, CENTRES[c].en)[i] if c in CENTRES else c) for c in codes]
    days = platform(request).settings.erasure_retention_days
    words = {"confirm": t("erasure_confirm", centre="{centre}"),
             "needs_identifier": t("erasure_needs_identifier"),
             "working": t("erasure_working"), "not_found": t("erasure_not_found"),
             "done": t("erasure_done", centre="{centre}", people="{people}", rows="{rows}",
                       samples="{samples}", id="{id}", days="{days}"),
             "any_centre": t("erasure_any_centre"),
             "centres": dict(centres),
             "fields": {f: t(f"f_{f}") for f in ("identifier", "participant", "centre")}}
    return render(request, "erasure.html", centres=centres,
                  scoped=bool(principal.centres), days=days, digits=PSEUDONYM_HEX,
                  words=words)


@router.get("/static/vendor/{name}")
def vendor(name: str) -> FileResponse:
    """A library's file served from its installed Python package: Plotly for the charts,
    Swagger UI for the API documentation."""
    if name not in VENDOR:
        raise NotFound(f"No such file: /static/vendor/{name}", "path",
                       "Vendor files are " + ", ".join(sorted(VENDOR)) + ".")
    path, media_type = VENDOR[name]
    return FileResponse(path, media_type=media_type,
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/api/docs")
def api_docs(request: Request) -> HTMLResponse:
    """The API documentation: Swagger UI over the OpenAPI schema, all of it served from
    here (the offline platform has no CDN to load it from)."""
    return render(request, "api_docs.html", openapi_url=request.app.openapi_url)


def mount(app: FastAPI) -> None:
    from precimed.web import projects, sharing

    app.include_router(router)
    app.include_router(projects.router)
    app.include_router(sharing.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


__all__ = ["error_page", "mount", "resolve", "wants_page"]
