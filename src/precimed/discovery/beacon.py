"""GA4GH Beacon v2 under ``/api/beacon/v2``: informational endpoints and the g_variants,
individuals, biosamples, datasets and cohorts entry types (GET and POST).

The data come from a :class:`BeaconSource` (the genotype store, its sample labels, the
participants' cohorts) that the app attaches as ``app.state.beacon``. Every answer goes
through the gate of :mod:`precimed.discovery.granularity`: the caller's tier and each
dataset's access level decide one granularity per dataset; the response is returned at
the lowest of them and says so in ``meta.returnedGranularity``, with each dataset's own
answer in ``info.datasets``. Counts of people for callers below the controlled tier pass
through :func:`precimed.deid.protect_counts` with the total as a margin, so a hidden
dataset count cannot be worked out from the total. A g_variants count is a number of
variants; a variant counts in a controlled dataset below the controlled tier only when
its carrier count may be published.

Errors. A UserError (or an invalid request) answers with the Beacon error response,
which is also the platform's one error shape: ``{"meta": ..., "error": {"errorCode",
"errorMessage", "kind", "what", "where", "hint"}}`` — the ``error`` object carries both
the Beacon fields and the platform's four, so clients of either read it.

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

from precimed.api.deps import read_rows, resolve
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
from precimed.errors import NotFound, NotInitialised, UserError
from precimed.ops.accounts import Principal
from precimed.reference.frequencies import UNKNOWN, label_samples
from precimed.reference.genes import VariantTerm, gene_loci, parse_search
from precimed.standard import COHORTS

PREFIX = "/api/beacon/v2"
CASE_LEVEL_LIMIT = 1000  # carriers listed per variant in a record-level answer


# -- the data behind the beacon ---------------------------------------------------------
@dataclass(frozen=True)
class DatasetInfo:
    id: str
    name: str
    description: str
    access: Access
    kind: str
    duo: tuple[tuple[str, str], ...] = ()


_DEFAULT_INFO = {
    "participants": ("Platform participants' genotypes",
                     "Genotypes of the platform's cohort participants, by pseudonym. "
                     "Controlled access; human genetic resource information.",
                     Access.CONTROLLED, (("DUO:0000006", "health or medical or biomedical "
                                          "research"),)),
    "reference": ("Reference callset", "A public reference callset (e.g. 1000 Genomes).",
                  Access.PUBLIC, (("DUO:0000042", "general research use"),)),
}


@dataclass
class BeaconSource:
    """What the beacon answers from: a genotype store and labelled samples."""

    store: Any  # precimed.genomics.GenotypeStore
    policy: Policy
    datasets: dict[str, DatasetInfo]
    samples: pd.DataFrame  # label_samples() of every dataset
    cohorts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["pseudonym", "cohort"]))

    @classmethod
    def open(cls, store_path: Path, *, policy: Policy,
             participants: pd.DataFrame | None = None,
             datasets: dict[str, DatasetInfo] | None = None) -> BeaconSource:
        """``participants`` (pseudonym, sex, native_province, cohort) from a release
        labels the participant samples and gives cohort sizes."""
        from precimed.genomics import GenotypeStore

        store = GenotypeStore.open(store_path)
        return cls.from_store(store, policy=policy, participants=participants,
                              datasets=datasets)

    @classmethod
    def from_store(cls, store: Any, *, policy: Policy,
                   participants: pd.DataFrame | None = None,
                   datasets: dict[str, DatasetInfo] | None = None) -> BeaconSource:
        kinds = {d["name"]: d.get("kind", "reference") for d in store.meta["datasets"]}
        info = dict(datasets or {})
        for name, kind in kinds.items():
            if name not in info:
                title, text, access, duo = _DEFAULT_INFO.get(kind, _DEFAULT_INFO["reference"])
                info[name] = DatasetInfo(name, f"{title} ({name})", text, access, kind, duo)
        labelled = pd.concat([label_samples(store.samples(d), participants)
                              for d in store.datasets], ignore_index=True)
        cohorts = (participants[["pseudonym", "cohort"]] if participants is not None
                   and "cohort" in participants else None)
        return cls(store, policy, info, labelled,
                   cohorts if cohorts is not None else pd.DataFrame(
                       columns=["pseudonym", "cohort"]))

    @property
    def build(self) -> str:
        return self.store.build

    def populations(self) -> dict[str, str]:
        rows = self.samples[self.samples["population"] != UNKNOWN]
        return dict(zip(rows["population"], rows["super_population"], strict=True))

    def chosen(self, query: BeaconQuery) -> list[DatasetInfo]:
        unknown = [d for d in query.datasets if d not in self.datasets]
        if unknown:
            raise NotFound(f"No dataset {unknown[0]!r}", where="datasetIds",
                           hint="Datasets: " + ", ".join(self.datasets))
        return [self.datasets[d] for d in (query.datasets or self.datasets)]

    def matching_samples(self, dataset: str, query: BeaconQuery) -> pd.DataFrame:
        rows = self.samples[self.samples["dataset"] == dataset]
        for f in query.filters:
            rows = rows[rows[f.column] == f.value]
        return rows

    def find_variants(self, q: VariantQuery) -> pd.DataFrame:
        variants = self.store.variants()
        if q.build is not None and q.build != self.build:
            return variants.iloc[0:0]
        if q.gene is not None:
            loci = gene_loci(q.gene, build=self.build)
            keep = np.zeros(len(variants), dtype=bool)
            for locus in loci.itertuples():
                keep |= ((variants["chrom"] == locus.chrom)
                         & variants["pos"].between(locus.start, locus.end)).to_numpy()
            variants = variants[keep]
        elif q.chrom is not None:
            variants = variants[(variants["chrom"] == q.chrom)
                                & variants["pos"].between(q.first, q.last)]
        else:
            raise UserError("A g_variants query needs a position or a gene",
                            where="requestParameters",
                            hint="Give referenceName and start (and alternateBases or end), "
                                 "or geneId.")
        if q.ref is not None:
            # boolean arrays, not lists: an empty list would select no columns
            variants = variants[np.array([_bases_match(r, q.ref) for r in variants["ref"]],
                                         dtype=bool)]
        if q.alt is not None:
            variants = variants[np.array([_bases_match(a, q.alt) for a in variants["alt"]],
                                         dtype=bool)]
        if q.variant_type is not None:
            types = [models.variant_type_of(r, a) for r, a in
                     zip(variants["ref"], variants["alt"], strict=True)]
            variants = variants[np.array(
                [_type_matches(t, r, a, q.variant_type) for t, r, a in
                 zip(types, variants["ref"], variants["alt"], strict=True)], dtype=bool)]
        return variants.reset_index(drop=True)


def _bases_match(have: str, want: str) -> bool:
    return len(have) == len(want) and all(w in ("N", h) for h, w in zip(have, want,
                                                                          strict=True))


def _type_matches(kind: str, ref: str, alt: str, wanted: str) -> bool:
    if wanted == "DEL":
        return len(ref) > len(alt)
    if wanted == "INS":
        return len(alt) > len(ref)
    return kind == wanted


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


def source(request: Request) -> BeaconSource:
    found = getattr(request.app.state, "beacon", None)
    if found is None:
        raise NotInitialised("No genotype data is served yet", where="beacon",
                             hint="An administrator ingests a callset into the genotype "
                                  "store; the server then attaches it to the beacon.")
    return found


def caller(request: Request) -> Principal | None:
    return resolve(request)


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


def asker(request: Request, who: Principal | None = Depends(caller)) -> Asker:
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
    found = getattr(request.app.state, "beacon", None)
    populations = found.populations() if found is not None else {}
    return models.informational(models.filtering_terms(populations))


# -- query endpoints --------------------------------------------------------------------
def _params(request: Request) -> BeaconQuery:
    return models.query_from_params(dict(request.query_params))


def _variants(src: BeaconSource, query: BeaconQuery, who: Asker) -> dict[str, Any]:
    tier = who.tier
    variants = src.find_variants(query.variant)
    answers = []
    for dataset in src.chosen(query):
        granted = grant(tier, query.granularity, dataset.access)
        samples = src.matching_samples(dataset.id, query)
        carriers = np.zeros(len(variants), dtype=np.int64)
        if len(variants) and len(samples):
            counts = src.store.counts(variants["variant_index"].to_numpy(),
                                      samples["sample_index"].to_numpy())
            carriers = counts["het"] + counts["hom_alt"]
        present = carriers > 0
        if counts_are_protected(tier) and dataset.access is Access.CONTROLLED:
            present &= np.array([protect_count(int(c), policy=src.policy) is not None
                                 for c in carriers], dtype=bool)
        records = []
        if granted is Granularity.RECORD:
            page = variants[present].iloc[query.skip:query.skip + query.limit]
            records = _variant_records(src, page, samples)
        answers.append(DatasetAnswer(dataset, granted, int(present.sum()), records,
                                     people=False))
    return who.audited(_answer(answers, query, tier, src.policy, "genomicVariant"))


def _variant_records(src: BeaconSource, variants: pd.DataFrame, samples: pd.DataFrame
                     ) -> list[dict[str, Any]]:
    if variants.empty:
        return []
    dosage = src.store.genotypes(variant_indices=variants["variant_index"].to_numpy(),
                                 sample_indices=samples["sample_index"].to_numpy())
    rows = list(samples.itertuples(index=False))
    records = []
    for j, variant in enumerate(variants.itertuples(index=False)):
        hits = np.flatnonzero(dosage[:, j] > 0)[:CASE_LEVEL_LIMIT]
        cases = [models.case_record(rows[i], int(dosage[i, j])) for i in hits]
        records.append(models.variant_record(variant, build=src.build, cases=cases))
    return records


def _people(src: BeaconSource, query: BeaconQuery, who: Asker, entity: str,
            only: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> dict[str, Any]:
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


def _by_dataset(dataset_id: str, query: BeaconQuery) -> BeaconQuery:
    return replace(query, datasets=(dataset_id,))


Source = Depends(source)
Caller = Depends(caller)
Asking = Depends(asker)


@router.get("/g_variants", summary="Genomic variants (boolean, count or record)")
def g_variants(request: Request, src: BeaconSource = Source,
               who: Asker = Asking) -> dict:
    return _variants(src, _params(request), who)


@router.post("/g_variants", summary="Genomic variants, query in the body")
def g_variants_post(body: BeaconRequestBody, src: BeaconSource = Source,
                    who: Asker = Asking) -> dict:
    return _variants(src, models.query_from_body(body), who)


@router.get("/g_variants/{variant_id}", summary="One genomic variant (chrom-pos-ref-alt)")
def g_variant(variant_id: str, request: Request, src: BeaconSource = Source,
              who: Asker = Asking) -> dict:
    term = parse_search(variant_id)
    if not isinstance(term, VariantTerm):
        raise UserError("A variant id is CHROM-POS-REF-ALT", where=variant_id,
                        hint="For example 1-55051215-G-A (1-based position).")
    variant = VariantQuery(term.chrom, term.pos, term.pos, term.ref, term.alt, build=term.build)
    return _variants(src, replace(_params(request), variant=variant), who)


def _entity_routes(path: str, entity: str) -> None:
    def listing(request: Request, src: BeaconSource = Source,
                who: Asker = Asking) -> dict:
        return _people(src, _params(request), who, entity)

    def listing_post(body: BeaconRequestBody, src: BeaconSource = Source,
                     who: Asker = Asking) -> dict:
        return _people(src, models.query_from_body(body), who, entity)

    def one(entry_id: str, request: Request, src: BeaconSource = Source,
            who: Asker = Asking) -> dict:
        column = (lambda s: s["sample_id"]) if entity == "individual" else (
            lambda s: s["sample_id"] + "-gt")
        return _people(src, _params(request), who, entity,
                       only=lambda s: s[column(s) == entry_id])

    router.add_api_route(f"/{path}", listing, methods=["GET"], summary=f"{entity}s")
    router.add_api_route(f"/{path}", listing_post, methods=["POST"],
                         summary=f"{entity}s, query in the body")
    router.add_api_route(f"/{path}/{{entry_id}}", one, methods=["GET"],
                         summary=f"One {entity}")


_entity_routes("individuals", "individual")
_entity_routes("biosamples", "biosample")


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


@router.get("/datasets/{dataset_id}/g_variants", summary="Genomic variants of one dataset")
def dataset_variants(dataset_id: str, request: Request, src: BeaconSource = Source,
                     who: Asker = Asking) -> dict:
    return _variants(src, _by_dataset(dataset_id, _params(request)), who)


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
    records = [r for r in _cohort_records(src, tier_of(who)) if r["id"] == cohort_id]
    if not records:
        raise NotFound(f"No cohort {cohort_id!r}", where="cohorts",
                       hint="Cohorts: " + ", ".join(COHORTS))
    return _collections(records, _params(request), tier_of(who), "cohort")
