"""GA4GH Beacon v2 under ``/api/beacon/v2``: the HTTP routes over
:mod:`precimed.discovery.beacon`, which decides every answer.

What is served:

- informational endpoints: ``/`` and ``/info``, ``/service-info``, ``/configuration``,
  ``/entry_types``, ``/map`` (every endpoint below, with each entry type's filtering
  terms and related endpoints), ``/filtering_terms`` and, per entry type,
  ``/{g_variants,individuals,biosamples,datasets,cohorts}/filtering_terms`` and
  ``/cohorts/{id}/filtering_terms``;
- the g_variants, individuals and biosamples entry types (GET and POST, and ``/{id}``),
  datasets and cohorts (collections, and ``/{id}``);
- cross-entity routes: ``/datasets/{id}/{g_variants,individuals,biosamples}``,
  ``/g_variants/{id}/{individuals,biosamples}`` (the variant's carriers),
  ``/individuals/{id}/g_variants`` and ``/biosamples/{id}/g_variants`` (the variants the
  person carries, ALT dosage > 0), ``/individuals/{id}/biosamples`` and
  ``/cohorts/{id}/individuals`` (the cohort's members).

The data come from a :class:`~precimed.discovery.source.BeaconSource`, or the
:class:`~precimed.discovery.source.LiveSource` that keeps one current, which the app
attaches as ``app.state.beacon``. Record-level answers are audited as row-level reads
(:func:`precimed.api.deps.read_rows`).

Errors. A UserError (or an invalid request) answers with the Beacon error response,
which is also the platform's one error shape: ``{"meta": ..., "error": {"errorCode",
"errorMessage", "kind", "what", "where", "hint"}}`` — the ``error`` object carries both
the Beacon fields and the platform's four, so clients of either read it.

Speed. A BeaconSource builds, once per server process, a ``VariantIndex`` and each
dataset's carrier count per variant, so an unfiltered boolean or count g_variants answer
reads no genotypes; such answers are computed on the event loop, everything else
(filters, genes, record-level answers with their frequencies and audit write,
cross-entity routes) in the thread pool. An anonymous caller is resolved without the
thread pool or the ops database. benchmarks/beacon.py measures it.

Validated against the official Beacon v2 schemas in tests/validation/test_beacon_schemas.py;
the public-caller probe is tests/unit/discovery/test_beacon_api.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from precimed.api.deps import SESSION_COOKIE, read_rows, resolve
from precimed.discovery import beacon, models
from precimed.discovery.beacon import Asker, Populations
from precimed.discovery.granularity import Granularity, tier_of
from precimed.discovery.models import BeaconQuery, BeaconRequestBody
from precimed.discovery.source import BeaconSource, LiveSource
from precimed.errors import NotFound, NotInitialised, UserError
from precimed.ops.accounts import Principal

PREFIX = "/api/beacon/v2"


# -- errors in the Beacon shape ---------------------------------------------------------
def error_response(status: int, error: UserError | None, *, what: str = "",
                   where: str = "", hint: str = "") -> JSONResponse:
    kind = error.kind if error else "invalid_input"
    what = error.what if error else what
    body = {"meta": models.response_meta(Granularity.BOOLEAN, None, "error"),
            "error": {"errorCode": status, "errorMessage": what, "kind": kind, "what": what,
                      "where": error.where if error else where,
                      "hint": error.hint if error else hint}}
    return JSONResponse(body, status_code=status)


class BeaconRoute(APIRoute):
    """Answers user errors and invalid requests with the Beacon error response."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except UserError as exc:
                return error_response(exc.http_status, exc)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                return error_response(
                    422, None, what=str(first.get("msg", "Invalid request")),
                    where=".".join(str(p) for p in first.get("loc", ())),
                    hint="See the Beacon v2 request schema, or /api/beacon/v2/map.")

        return guarded


router = APIRouter(prefix=PREFIX, tags=["beacon"], route_class=BeaconRoute)


# -- dependencies -----------------------------------------------------------------------
def attached(request: Request) -> BeaconSource | None:
    """The source the app serves now (a LiveSource's current one), or None."""
    found = getattr(request.app.state, "beacon", None)
    return found.get() if isinstance(found, LiveSource) else found


async def source(request: Request) -> BeaconSource:
    return _source(request)


def _source(request: Request) -> BeaconSource:
    found = attached(request)
    if found is None:
        raise NotInitialised("No genotype data is served yet", where="beacon",
                             hint="An administrator ingests a callset into the genotype "
                                  "store; the server then attaches it to the beacon.")
    return found


async def caller(request: Request) -> Principal | None:
    """The caller. An anonymous request (no Authorization header, no session cookie) needs
    no ops-database lookup and is resolved on the event loop; a signed-in one is looked
    up in the thread pool, as a plain (sync) dependency would be."""
    if "authorization" not in request.headers and SESSION_COOKIE not in request.cookies:
        return resolve(request)
    return await run_in_threadpool(_with_visas, request)


def _with_visas(request: Request) -> Principal | None:
    """The signed-in caller with the datasets their approvals' visas grant."""
    from precimed.sharing import visas, workspace

    principal = resolve(request)
    if principal is None:
        return None
    p = request.app.state.platform
    key = visas.visa_key(p.settings.keys_dir)
    passport = visas.passport(p.ops, principal, key=key,
                              on=workspace.access_date(p.settings))
    if not passport:
        return principal
    granted = visas.grants(passport, key=key, subject=principal.username,
                           now=dt.datetime.now(dt.UTC))
    return replace(principal, grants=granted)


def asking(request: Request, principal: Principal | None) -> Asker:
    """The caller, with record-level answers audited against this request's path."""
    def record_read(count: int, datasets: list[str]) -> None:
        read_rows(request, principal, what=f"beacon {request.url.path}", count=count,
                  detail={"datasets": datasets})

    return Asker(principal, record_read)


async def asker(request: Request, who: Principal | None = Depends(caller)) -> Asker:
    return asking(request, who)


Source = Depends(source)
Caller = Depends(caller)
Asking = Depends(asker)


# -- informational endpoints ------------------------------------------------------------
def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/", summary="Beacon information")
@router.get("/info", summary="Beacon information")
def info(request: Request) -> dict:
    return models.informational(models.info_results(_base(request) + PREFIX + "/"))


@router.get("/service-info", summary="GA4GH service-info")
def service_info(request: Request) -> dict:
    return models.service_info(_base(request))


@router.get("/entry_types", summary="Entry types served")
def get_entry_types() -> dict:
    return models.informational({"entryTypes": models.entry_types()})


@router.get("/configuration", summary="Beacon configuration")
def configuration() -> dict:
    return models.informational(models.configuration())


@router.get("/map", summary="Beacon map of endpoints")
def beacon_map(request: Request) -> dict:
    return models.informational(models.beacon_map(_base(request) + PREFIX))


@router.get("/filtering_terms", summary="Filtering terms understood here")
def filtering_terms(request: Request) -> dict:
    return _filtering_terms(request, None)


def _filtering_terms(request: Request, entry_type: str | None) -> dict:
    found = attached(request)
    populations = found.populations() if found is not None else {}
    return models.informational(models.filtering_terms(populations, entry_type=entry_type))


def _filtering_terms_route(entry_type: str, path: str) -> None:
    def terms(request: Request) -> dict:
        return _filtering_terms(request, entry_type)

    router.add_api_route(f"/{path}/filtering_terms", terms, methods=["GET"],
                         summary=f"Filtering terms of {path}")


# -- query endpoints --------------------------------------------------------------------
def _params(request: Request) -> BeaconQuery:
    return models.query_from_params(dict(request.query_params))


def _populations(request: Request) -> Populations | None:
    platform = getattr(request.app.state, "platform", None)
    if platform is None:
        return None
    return Populations(platform.settings.home / "reference", _base(request) + PREFIX)


async def _variants_response(request: Request, query: Callable[[], BeaconQuery],
                             principal: Principal | None) -> Response:
    """The g_variants routes take only the caller as a dependency (the fewer FastAPI
    resolves per request, the faster it answers); the source is read here."""
    src, who = _source(request), asking(request, principal)
    query = query()
    if beacon.answered_on_event_loop(src, query, who.tier) and not (
            principal is not None and principal.grants):
        body = beacon.variants(src, query, who)
    else:
        body = await run_in_threadpool(beacon.variants, src, query, who,
                                       populations=_populations(request))
    # the body holds only JSON types: render it as FastAPI would, without its encoder pass
    return JSONResponse(body)


@router.get("/g_variants", summary="Genomic variants (boolean, count or record)",
            response_model=dict)
async def g_variants(request: Request, who: Principal | None = Caller) -> Response:
    return await _variants_response(request, lambda: _params(request), who)


@router.post("/g_variants", summary="Genomic variants, query in the body",
             response_model=dict)
async def g_variants_post(body: BeaconRequestBody, request: Request,
                          who: Principal | None = Caller) -> Response:
    return await _variants_response(request, lambda: models.query_from_body(body), who)


# before any /{path}/{id} route, which would take "filtering_terms" for an id (and
# after the g_variants queries, which need not be matched against them first)
for _entry_type, (*_, _path, _) in models.ENTRY_TYPES.items():
    _filtering_terms_route(_entry_type, _path)


@router.get("/g_variants/{variant_id}", summary="One genomic variant (chrom-pos-ref-alt)",
            response_model=dict)
async def g_variant(variant_id: str, request: Request,
                    who: Principal | None = Caller) -> Response:
    def query() -> BeaconQuery:
        return replace(_params(request), variant=beacon.variant_of(variant_id))

    return await _variants_response(request, query, who)


def _variant_people_route(path: str, entity: str) -> None:
    def carriers(variant_id: str, request: Request, src: BeaconSource = Source,
                 who: Asker = Asking) -> dict:
        return beacon.people(src, _params(request), who, entity,
                             only=beacon.carriers_of(src, variant_id))

    router.add_api_route(f"/g_variants/{{variant_id}}/{path}", carriers, methods=["GET"],
                         summary=f"The {entity}s carrying one variant")


_variant_people_route("individuals", "individual")
_variant_people_route("biosamples", "biosample")


def _entity_routes(path: str, entity: str) -> None:
    def listing(request: Request, src: BeaconSource = Source,
                who: Asker = Asking) -> dict:
        return beacon.people(src, _params(request), who, entity)

    def listing_post(body: BeaconRequestBody, src: BeaconSource = Source,
                     who: Asker = Asking) -> dict:
        return beacon.people(src, models.query_from_body(body), who, entity)

    def one(entry_id: str, request: Request, src: BeaconSource = Source,
            who: Asker = Asking) -> dict:
        return beacon.people(src, _params(request), who, entity,
                             only=beacon.one_entry(entity, entry_id))

    def variants(entry_id: str, request: Request, src: BeaconSource = Source,
                 who: Asker = Asking) -> dict:
        return beacon.carried(src, _params(request), who, beacon.one_entry(entity, entry_id),
                              populations=_populations(request))

    router.add_api_route(f"/{path}", listing, methods=["GET"], summary=f"{entity}s")
    router.add_api_route(f"/{path}", listing_post, methods=["POST"],
                         summary=f"{entity}s, query in the body")
    router.add_api_route(f"/{path}/{{entry_id}}", one, methods=["GET"],
                         summary=f"One {entity}")
    router.add_api_route(f"/{path}/{{entry_id}}/g_variants", variants, methods=["GET"],
                         summary=f"The variants one {entity} carries")


_entity_routes("individuals", "individual")
_entity_routes("biosamples", "biosample")


@router.get("/individuals/{entry_id}/biosamples", summary="The biosamples of one individual")
def individual_biosamples(entry_id: str, request: Request, src: BeaconSource = Source,
                          who: Asker = Asking) -> dict:
    return beacon.people(src, _params(request), who, "biosample",
                         only=beacon.one_entry("individual", entry_id))


@router.get("/datasets", summary="Datasets and their access levels")
def datasets(request: Request, src: BeaconSource = Source,
             who: Principal | None = Caller) -> dict:
    return beacon.collections(beacon.dataset_records(src, tier_of(who)), _params(request),
                              tier_of(who), "dataset")


@router.get("/datasets/{dataset_id}", summary="One dataset")
def dataset(dataset_id: str, request: Request, src: BeaconSource = Source,
            who: Principal | None = Caller) -> dict:
    records = [r for r in beacon.dataset_records(src, tier_of(who)) if r["id"] == dataset_id]
    if not records:
        raise NotFound(f"No dataset {dataset_id!r}", where="datasets",
                       hint="Datasets: " + ", ".join(src.datasets))
    return beacon.collections(records, _params(request), tier_of(who), "dataset")


@router.get("/datasets/{dataset_id}/g_variants", summary="Genomic variants of one dataset",
            response_model=dict)
async def dataset_variants(dataset_id: str, request: Request,
                           who: Principal | None = Caller) -> Response:
    return await _variants_response(
        request, lambda: beacon.by_dataset(dataset_id, _params(request)), who)


@router.get("/datasets/{dataset_id}/individuals", summary="Individuals of one dataset")
def dataset_individuals(dataset_id: str, request: Request, src: BeaconSource = Source,
                        who: Asker = Asking) -> dict:
    return beacon.people(src, beacon.by_dataset(dataset_id, _params(request)), who,
                         "individual")


@router.get("/datasets/{dataset_id}/biosamples", summary="Biosamples of one dataset")
def dataset_biosamples(dataset_id: str, request: Request, src: BeaconSource = Source,
                       who: Asker = Asking) -> dict:
    return beacon.people(src, beacon.by_dataset(dataset_id, _params(request)), who,
                         "biosample")


@router.get("/cohorts", summary="The platform's cohorts")
def cohorts(request: Request, src: BeaconSource = Source,
            who: Principal | None = Caller) -> dict:
    return beacon.collections(beacon.cohort_records(src, tier_of(who)), _params(request),
                              tier_of(who), "cohort")


@router.get("/cohorts/{cohort_id}", summary="One cohort")
def cohort(cohort_id: str, request: Request, src: BeaconSource = Source,
           who: Principal | None = Caller) -> dict:
    beacon.known_cohort(cohort_id)
    records = [r for r in beacon.cohort_records(src, tier_of(who)) if r["id"] == cohort_id]
    return beacon.collections(records, _params(request), tier_of(who), "cohort")


@router.get("/cohorts/{cohort_id}/individuals", summary="The individuals of one cohort")
def cohort_individuals(cohort_id: str, request: Request, src: BeaconSource = Source,
                       who: Asker = Asking) -> dict:
    return beacon.people(src, _params(request), who, "individual",
                         only=beacon.members_of(src, cohort_id))


@router.get("/cohorts/{cohort_id}/filtering_terms",
            summary="Filtering terms of one cohort's individuals")
def cohort_filtering_terms(cohort_id: str, request: Request) -> dict:
    """The terms of every cohort: which terms its own members have would tell which
    provinces a small cohort draws on, so the list is not narrowed to them."""
    beacon.known_cohort(cohort_id)
    return _filtering_terms(request, "cohort")
