"""GA4GH Beacon v2 under ``/api/beacon/v2``.

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

The data come from a :class:`~precimed.discovery.source.BeaconSource` (the genotype
store, its sample labels, the participants' cohorts) that the app attaches as
``app.state.beacon``. Every answer goes through the gate of
:mod:`precimed.discovery.granularity`: the caller's tier and each dataset's access level
decide one granularity per dataset; the response is returned at the lowest of them and
says so in ``meta.returnedGranularity``, with each dataset's own answer in
``info.datasets``. Counts of people for callers below the controlled tier pass through
:func:`precimed.deid.protect_counts` with the total as a margin, so a hidden dataset
count cannot be worked out from the total. A g_variants count is a number of variants; a
variant counts in a controlled dataset below the controlled tier only when its carrier
count may be published, and the variants of one person count none there (one person is
below any threshold). Record-level answers are audited as row-level reads.

Population frequencies. When the home holds a reference summary (HOME/reference, from
``precimed genomics summarise``), each g_variants record carries
``frequencyInPopulations``: the summary's published (disclosure-controlled) allele
frequencies by dataset and population group, joined on the variant itself
(:mod:`precimed.discovery.populations`). Only record-level answers look them up.

Errors. A UserError (or an invalid request) answers with the Beacon error response,
which is also the platform's one error shape: ``{"meta": ..., "error": {"errorCode",
"errorMessage", "kind", "what", "where", "hint"}}`` — the ``error`` object carries both
the Beacon fields and the platform's four, so clients of either read it.

Speed. A BeaconSource builds, once per server process, a ``VariantIndex`` (variants
sorted by chromosome and position, searched with ``np.searchsorted``) and each dataset's
carrier count per variant, so an unfiltered boolean or count g_variants answer reads no
genotypes; such answers are computed on the event loop, everything else (filters, genes,
record-level answers with their frequencies and audit write, cross-entity routes) in the
thread pool. An anonymous caller is resolved without the thread pool or the ops
database. benchmarks/beacon.py measures it (benchmarks/results/beacon.json);
tests/unit/discovery/test_variant_index.py checks the index against the whole-table
filter.

Validated against the official Beacon v2 schemas in tests/validation/test_beacon_schemas.py;
the public-caller probe is tests/unit/discovery/test_beacon_api.py.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from precimed.api.deps import SESSION_COOKIE, read_rows, resolve
from precimed.deid import Policy, protect_count, protect_counts
from precimed.discovery import models
from precimed.discovery.granularity import (
    Access,
    Granularity,
    Tier,
    counts_are_protected,
    discloses_existence,
    grant,
    tier_of,
)
from precimed.discovery.models import BeaconQuery, BeaconRequestBody, VariantQuery
from precimed.discovery.source import BeaconSource, DatasetInfo, LiveSource
from precimed.errors import NotFound, NotInitialised, UserError
from precimed.ops.accounts import Principal
from precimed.reference.genes import VariantTerm, parse_search
from precimed.standard import COHORTS

PREFIX = "/api/beacon/v2"
CASE_LEVEL_LIMIT = 1000  # carriers listed per variant in a record-level answer


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


async def source(request: Request) -> BeaconSource:
    return _source(request)


def _source(request: Request) -> BeaconSource:
    found = getattr(request.app.state, "beacon", None)
    if isinstance(found, LiveSource):
        found = found.get()
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
    return await run_in_threadpool(resolve, request)


@dataclass(frozen=True)
class Asker:
    """Who asks, and the request to audit record-level answers against."""

    request: Request
    principal: Principal | None

    @property
    def tier(self) -> Tier:
        return tier_of(self.principal)

    def audited(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record-level answers are row-level reads: each is written to the audit log."""
        if body["meta"]["returnedGranularity"] == "record" and self.principal is not None:
            sets = body.get("response", {}).get("resultSets", [])
            read_rows(self.request, self.principal, what=f"beacon {self.request.url.path}",
                      count=sum(len(s["results"]) for s in sets),
                      detail={"datasets": [s["id"] for s in sets]})
        return body


async def asker(request: Request, who: Principal | None = Depends(caller)) -> Asker:
    return Asker(request, who)


# -- response envelopes -----------------------------------------------------------------
@dataclass
class DatasetAnswer:
    dataset: DatasetInfo
    granularity: Granularity
    count: int  # raw: never leaves the server as it is
    records: list[dict[str, Any]] = field(default_factory=list)  # this page only
    people: bool = True  # the count is of people (else of variants)


def _answer(answers: list[DatasetAnswer], query: BeaconQuery, tier: Tier,
            policy: Policy, entity: str) -> dict[str, Any]:
    """One response at the lowest granted granularity; per dataset in ``info``."""
    returned = min((a.granularity for a in answers), default=Granularity.BOOLEAN)
    protected = counts_are_protected(tier)
    published = _published_counts(answers, policy, protected=protected)
    per_dataset, exists_any = [], False
    for a in answers:
        shown = published.get(a.dataset.id)
        # existence is judged on the dataset's own count (it does not reveal the number);
        # a variant count is already gated variant by variant
        gate = protect_count(a.count, policy=policy) if a.people else a.count
        exists = a.count > 0 and discloses_existence(tier, a.dataset.access, gate)
        exists_any |= exists
        item = {"id": a.dataset.id, "granularity": a.granularity.value, "exists": exists}
        if a.granularity >= Granularity.COUNT and shown is not None:
            item["count"] = shown
        per_dataset.append(item)
    info = {"datasets": per_dataset}
    if protected:
        info["disclosureControl"] = (f"counts of people below {policy.threshold} are "
                                     "not reported")
    total = published.get("__total__")
    if returned >= Granularity.COUNT and total is None:
        returned = Granularity.BOOLEAN  # the total may not be published: say only whether
    summary: dict[str, Any] = {"exists": exists_any}
    if returned >= Granularity.COUNT:
        summary["numTotalResults"] = total
    body = {"meta": models.response_meta(returned, query, entity),
            "responseSummary": summary, "info": info}
    if returned is Granularity.RECORD:
        body["response"] = {"resultSets": _result_sets(answers, query)}
    return body


def _published_counts(answers: list[DatasetAnswer], policy: Policy, *, protected: bool
                      ) -> dict[str, int | None]:
    """Counts of the datasets answered at count level or above, and their total."""
    counted = [a for a in answers if a.granularity >= Granularity.COUNT]
    if not counted:
        return {}
    if not protected or not counted[0].people:
        values = {a.dataset.id: a.count for a in counted}
        return {**values, "__total__": sum(values.values())}
    frame = pd.DataFrame({"dataset": [a.dataset.id for a in counted],
                          "count": [a.count for a in counted]})
    table = protect_counts(frame, by=["dataset"], policy=policy, total_label="__total__")
    return {r.dataset: (None if pd.isna(r.count) else int(r.count))
            for r in table.itertuples(index=False)}


def _result_sets(answers: list[DatasetAnswer], query: BeaconQuery
                 ) -> list[dict[str, Any]]:
    sets = []
    for a in answers:
        exists = a.count > 0
        include = query.include_resultsets
        if include == "NONE" or (include == "HIT" and not exists) or (
                include == "MISS" and exists):
            continue
        sets.append({"id": a.dataset.id, "setType": "dataset", "exists": exists,
                     "resultsCount": a.count, "results": a.records,
                     "info": {"accessLevel": a.dataset.access.value}})
    return sets


def _collections(records: list[dict[str, Any]], query: BeaconQuery, tier: Tier,
                 entity: str) -> dict[str, Any]:
    """Datasets and cohorts: descriptions of collections, open to every tier (their
    sizes inside have passed disclosure control)."""
    page = records[query.skip:query.skip + query.limit]
    returned = grant(tier, Granularity.RECORD, Access.OPEN)
    return {"meta": models.response_meta(returned, query, entity),
            "responseSummary": {"exists": bool(records), "numTotalResults": len(records)},
            "response": {"collections": page}}


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
    found = getattr(request.app.state, "beacon", None)
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


@dataclass(frozen=True)
class Populations:
    """Where record-level g_variants answers find ``frequencyInPopulations``: the home's
    reference summary (opened and joined on the first record, see
    :meth:`BeaconSource.frequencies`), and the Beacon's URL to cite as the source."""

    summary: Path
    root: str

    def of(self, src: BeaconSource, rows: np.ndarray, datasets: list[DatasetInfo]
           ) -> list[list[dict[str, Any]]]:
        found = src.frequencies(self.summary)
        if found is None:
            return [[] for _ in rows]
        return found.entries(rows, datasets=datasets, policy=src.policy, root=self.root)


def _populations(request: Request) -> Populations | None:
    platform = getattr(request.app.state, "platform", None)
    if platform is None:
        return None
    return Populations(platform.settings.home / "reference", _base(request) + PREFIX)


def _variants(src: BeaconSource, query: BeaconQuery, who: Asker, *,
              populations: Populations | None = None) -> dict[str, Any]:
    tier = who.tier
    rows = src.variant_rows(query.variant)
    chosen = src.chosen(query)
    answers = []
    for dataset in chosen:
        granted = grant(tier, query.granularity, dataset.access)
        carriers, publishable = src.carriers(dataset.id, rows, query)
        present = carriers > 0
        if counts_are_protected(tier) and dataset.access is Access.CONTROLLED:
            present &= publishable
        records = []
        if granted is Granularity.RECORD:
            page = rows[present][query.skip:query.skip + query.limit]
            records = _variant_records(
                src, page, src.matching_samples(dataset.id, query),
                frequencies=_frequencies(populations, src, page, chosen, query, tier))
        answers.append(DatasetAnswer(dataset, granted, int(present.sum()), records,
                                     people=False))
    return who.audited(_answer(answers, query, tier, src.policy, "genomicVariant"))


def _frequencies(populations: Populations | None, src: BeaconSource, rows: np.ndarray,
                 chosen: list[DatasetInfo], query: BeaconQuery, tier: Tier
                 ) -> list[list[dict[str, Any]]]:
    """Per row: frequencies of the chosen datasets the caller gets records of."""
    shown = [d for d in chosen
             if grant(tier, query.granularity, d.access) is Granularity.RECORD]
    if populations is None or not shown or not len(rows):
        return [[] for _ in rows]
    return populations.of(src, rows, shown)


def _variant_records(src: BeaconSource, rows: np.ndarray, samples: pd.DataFrame, *,
                     frequencies: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Records of the variants at ``rows``, with the carriers among ``samples``."""
    if not len(rows):
        return []
    dosage = src.dosage(rows, samples)
    people = list(samples.itertuples(index=False))
    records = []
    for j, variant in enumerate(src.index.frame.iloc[rows].itertuples(index=False)):
        hits = np.flatnonzero(dosage[:, j] > 0)[:CASE_LEVEL_LIMIT]
        cases = [models.case_record(people[i], int(dosage[i, j])) for i in hits]
        records.append(models.variant_record(variant, build=src.build, cases=cases,
                                             frequencies=frequencies[j]))
    return records


Selection = Callable[[pd.DataFrame], pd.DataFrame]  # a dataset's samples -> some of them


def _people(src: BeaconSource, query: BeaconQuery, who: Asker, entity: str,
            only: Selection | None = None) -> dict[str, Any]:
    tier = who.tier
    document = (models.individual_record if entity == "individual"
                else models.biosample_record)
    answers = []
    for dataset in src.chosen(query):
        granted = grant(tier, query.granularity, dataset.access)
        samples = src.matching_samples(dataset.id, query)
        if only is not None:
            samples = only(samples)
        page = samples.iloc[query.skip:query.skip + query.limit]
        records = ([document(s) for s in page.itertuples(index=False)]
                   if granted is Granularity.RECORD else [])
        answers.append(DatasetAnswer(dataset, granted, len(samples), records))
    return who.audited(_answer(answers, query, tier, src.policy, entity))


def _carried(src: BeaconSource, query: BeaconQuery, who: Asker, person: Selection, *,
             populations: Populations | None = None) -> dict[str, Any]:
    """The variants one person carries (ALT dosage > 0), per dataset; the query's
    position or gene, if any, narrows them. A variant count of one person is still about
    that person: below the controlled tier, a controlled dataset counts none unless the
    people selected may be counted (never, for one person)."""
    tier = who.tier
    rows = src.rows_or_all(query.variant)
    chosen = src.chosen(query)
    answers = []
    for dataset in chosen:
        granted = grant(tier, query.granularity, dataset.access)
        samples = person(src.matching_samples(dataset.id, query))
        present = (src.dosage(rows, samples) > 0).any(axis=0)
        if (counts_are_protected(tier) and dataset.access is Access.CONTROLLED
                and protect_count(len(samples), policy=src.policy) is None):
            present[:] = False
        records = []
        if granted is Granularity.RECORD:
            page = rows[present][query.skip:query.skip + query.limit]
            records = _variant_records(
                src, page, samples,
                frequencies=_frequencies(populations, src, page, chosen, query, tier))
        answers.append(DatasetAnswer(dataset, granted, int(present.sum()), records,
                                     people=False))
    return who.audited(_answer(answers, query, tier, src.policy, "genomicVariant"))


def _one(entity: str, entry_id: str) -> Selection:
    """The sample an individual or biosample id names."""
    def only(samples: pd.DataFrame) -> pd.DataFrame:
        ids = samples["sample_id"] if entity == "individual" else samples["sample_id"] + "-gt"
        return samples[ids == entry_id]

    return only


def _carriers_of(src: BeaconSource, variant_id: str) -> Selection:
    """The samples carrying the variant ``variant_id`` names (ALT dosage > 0)."""
    rows = src.variant_rows(_variant_of(variant_id))

    def only(samples: pd.DataFrame) -> pd.DataFrame:
        return samples[(src.dosage(rows, samples) > 0).any(axis=1)]

    return only


def _members_of(src: BeaconSource, cohort_id: str) -> Selection:
    _known_cohort(cohort_id)
    members = src.cohorts.loc[src.cohorts["cohort"] == cohort_id, "pseudonym"]
    return lambda samples: samples[samples["sample_id"].isin(members)]


def _known_cohort(cohort_id: str) -> None:
    if cohort_id not in COHORTS:
        raise NotFound(f"No cohort {cohort_id!r}", where="cohorts",
                       hint="Cohorts: " + ", ".join(COHORTS))


def _variant_of(variant_id: str) -> VariantQuery:
    term = parse_search(variant_id)
    if not isinstance(term, VariantTerm):
        raise UserError("A variant id is CHROM-POS-REF-ALT", where=variant_id,
                        hint="For example 1-55051215-G-A (1-based position).")
    return VariantQuery(term.chrom, term.pos, term.pos, term.ref, term.alt, build=term.build)


def _by_dataset(dataset_id: str, query: BeaconQuery) -> BeaconQuery:
    return replace(query, datasets=(dataset_id,))


Source = Depends(source)
Caller = Depends(caller)
Asking = Depends(asker)


def _on_event_loop(src: BeaconSource, query: BeaconQuery, tier: Tier) -> bool:
    """Whether a g_variants answer comes from the in-memory index and the precomputed
    carrier counts alone (no genotype read, no audit write, no gene table), so it is
    computed on the event loop instead of in the thread pool."""
    if query.filters or query.variant.gene is not None:
        return False
    try:
        chosen = src.chosen(query)
    except UserError:
        return True  # answered at once with the error
    return all(grant(tier, query.granularity, d.access) is not Granularity.RECORD
               for d in chosen)


async def _variants_response(request: Request, query: Callable[[], BeaconQuery],
                             principal: Principal | None) -> Response:
    """The g_variants routes take only the caller as a dependency (the fewer FastAPI
    resolves per request, the faster it answers); the source is read here."""
    src, who = _source(request), Asker(request, principal)
    query = query()
    if _on_event_loop(src, query, who.tier):
        body = _variants(src, query, who)
    else:
        body = await run_in_threadpool(_variants, src, query, who,
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
        return replace(_params(request), variant=_variant_of(variant_id))

    return await _variants_response(request, query, who)


def _variant_people_route(path: str, entity: str) -> None:
    def carriers(variant_id: str, request: Request, src: BeaconSource = Source,
                 who: Asker = Asking) -> dict:
        return _people(src, _params(request), who, entity,
                       only=_carriers_of(src, variant_id))

    router.add_api_route(f"/g_variants/{{variant_id}}/{path}", carriers, methods=["GET"],
                         summary=f"The {entity}s carrying one variant")


_variant_people_route("individuals", "individual")
_variant_people_route("biosamples", "biosample")


def _entity_routes(path: str, entity: str) -> None:
    def listing(request: Request, src: BeaconSource = Source,
                who: Asker = Asking) -> dict:
        return _people(src, _params(request), who, entity)

    def listing_post(body: BeaconRequestBody, src: BeaconSource = Source,
                     who: Asker = Asking) -> dict:
        return _people(src, models.query_from_body(body), who, entity)

    def one(entry_id: str, request: Request, src: BeaconSource = Source,
            who: Asker = Asking) -> dict:
        return _people(src, _params(request), who, entity, only=_one(entity, entry_id))

    def variants(entry_id: str, request: Request, src: BeaconSource = Source,
                 who: Asker = Asking) -> dict:
        return _carried(src, _params(request), who, _one(entity, entry_id),
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
    return _people(src, _params(request), who, "biosample", only=_one("individual", entry_id))


def _dataset_records(src: BeaconSource, tier: Tier) -> list[dict[str, Any]]:
    records = []
    for dataset in src.datasets.values():
        n = int((src.samples["dataset"] == dataset.id).sum())
        size = protect_count(n, policy=src.policy) if counts_are_protected(tier) else n
        if dataset.access is Access.CONTROLLED and tier is Tier.PUBLIC:
            size = None  # a public caller learns what exists, not how many
        records.append(models.dataset_record(dataset, size=size))
    return records


@router.get("/datasets", summary="Datasets and their access levels")
def datasets(request: Request, src: BeaconSource = Source,
             who: Principal | None = Caller) -> dict:
    return _collections(_dataset_records(src, tier_of(who)), _params(request), tier_of(who),
                        "dataset")


@router.get("/datasets/{dataset_id}", summary="One dataset")
def dataset(dataset_id: str, request: Request, src: BeaconSource = Source,
            who: Principal | None = Caller) -> dict:
    records = [r for r in _dataset_records(src, tier_of(who)) if r["id"] == dataset_id]
    if not records:
        raise NotFound(f"No dataset {dataset_id!r}", where="datasets",
                       hint="Datasets: " + ", ".join(src.datasets))
    return _collections(records, _params(request), tier_of(who), "dataset")


@router.get("/datasets/{dataset_id}/g_variants", summary="Genomic variants of one dataset",
            response_model=dict)
async def dataset_variants(dataset_id: str, request: Request,
                           who: Principal | None = Caller) -> Response:
    return await _variants_response(
        request, lambda: _by_dataset(dataset_id, _params(request)), who)


@router.get("/datasets/{dataset_id}/individuals", summary="Individuals of one dataset")
def dataset_individuals(dataset_id: str, request: Request, src: BeaconSource = Source,
                        who: Asker = Asking) -> dict:
    return _people(src, _by_dataset(dataset_id, _params(request)), who,
                   "individual")


@router.get("/datasets/{dataset_id}/biosamples", summary="Biosamples of one dataset")
def dataset_biosamples(dataset_id: str, request: Request, src: BeaconSource = Source,
                       who: Asker = Asking) -> dict:
    return _people(src, _by_dataset(dataset_id, _params(request)), who, "biosample")


def _cohort_records(src: BeaconSource, tier: Tier) -> list[dict[str, Any]]:
    sizes = src.cohorts["cohort"].value_counts().to_dict() if len(src.cohorts) else {}
    records = []
    for code in COHORTS:
        n = sizes.get(code)
        size = None if n is None else (
            protect_count(int(n), policy=src.policy) if counts_are_protected(tier) else int(n))
        records.append(models.cohort_record(code, size=size))
    return records


@router.get("/cohorts", summary="The platform's cohorts")
def cohorts(request: Request, src: BeaconSource = Source,
            who: Principal | None = Caller) -> dict:
    return _collections(_cohort_records(src, tier_of(who)), _params(request), tier_of(who),
                        "cohort")


@router.get("/cohorts/{cohort_id}", summary="One cohort")
def cohort(cohort_id: str, request: Request, src: BeaconSource = Source,
           who: Principal | None = Caller) -> dict:
    _known_cohort(cohort_id)
    records = [r for r in _cohort_records(src, tier_of(who)) if r["id"] == cohort_id]
    return _collections(records, _params(request), tier_of(who), "cohort")


@router.get("/cohorts/{cohort_id}/individuals", summary="The individuals of one cohort")
def cohort_individuals(cohort_id: str, request: Request, src: BeaconSource = Source,
                       who: Asker = Asking) -> dict:
    return _people(src, _params(request), who, "individual",
                   only=_members_of(src, cohort_id))


@router.get("/cohorts/{cohort_id}/filtering_terms",
            summary="Filtering terms of one cohort's individuals")
def cohort_filtering_terms(cohort_id: str, request: Request) -> dict:
    """The terms of every cohort: which terms its own members have would tell which
    provinces a small cohort draws on, so the list is not narrowed to them."""
    _known_cohort(cohort_id)
    return _filtering_terms(request, "cohort")
