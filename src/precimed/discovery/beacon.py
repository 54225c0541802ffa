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

Speed. A :class:`BeaconSource` builds, once per server process, a :class:`VariantIndex`
(variants sorted by chromosome and position, searched with ``np.searchsorted``) and each
dataset's carrier count per variant, so an unfiltered boolean or count g_variants answer
reads no genotypes; such answers are computed on the event loop, everything else (filters,
genes, record-level answers with their audit write) in the thread pool. An anonymous
caller is resolved without the thread pool or the ops database. benchmarks/beacon.py
measures it (benchmarks/results/beacon.json); tests/unit/discovery/test_variant_index.py
checks the index against the whole-table filter.

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


class VariantIndex:
    """The store's variant table sorted by (chromosome, position), built once.

    A query's chromosome and position range become two ``np.searchsorted`` calls on one
    int64 key (chromosome code << 32 | position); only the few candidate rows in that
    span are compared on their bases. :meth:`rows` answers with row positions in the
    variant table, ascending (the store's order), so a selection is the same as filtering
    the whole table.
    """

    _POS_BITS = 32

    def __init__(self, variants: pd.DataFrame) -> None:
        self.frame = variants.reset_index(drop=True)
        chroms = self.frame["chrom"].astype(str).to_numpy()
        names, codes = np.unique(chroms, return_inverse=True)
        self._codes = {str(name): i for i, name in enumerate(names)}
        pos = self.frame["pos"].to_numpy(dtype=np.int64)
        if len(pos) and (pos.min() < 0 or pos.max() >= 1 << self._POS_BITS):
            raise UserError("A variant position is out of range", where="genotype store",
                            hint="Positions must lie in 0..2^32-1.")
        key = (codes.astype(np.int64) << self._POS_BITS) | pos
        order = np.argsort(key, kind="stable")
        self._keys = key[order]
        self._order = order.astype(np.int64)
        self.ref = self.frame["ref"].to_numpy(dtype=object)
        self.alt = self.frame["alt"].to_numpy(dtype=object)
        self.variant_index = self.frame["variant_index"].to_numpy(dtype=np.int64)

    def __len__(self) -> int:
        return len(self.frame)

    def span(self, chrom: str, first: int | None, last: int | None) -> np.ndarray:
        """Rows on ``chrom`` with ``first <= pos <= last`` (None: unbounded), ascending."""
        code = self._codes.get(chrom)
        top = (1 << self._POS_BITS) - 1
        lo = 0 if first is None else max(int(first), 0)
        hi = top if last is None else min(int(last), top)
        if code is None or lo > hi:
            return np.empty(0, dtype=np.int64)
        base = code << self._POS_BITS
        a = int(np.searchsorted(self._keys, base | lo, side="left"))
        b = int(np.searchsorted(self._keys, base | hi, side="right"))
        return np.sort(self._order[a:b])

    def rows(self, q: VariantQuery, loci: pd.DataFrame | None = None) -> np.ndarray:
        """Rows matching a position (or the gene ``loci``) and the bases and type asked."""
        if loci is not None:
            spans = [self.span(str(locus.chrom), int(locus.start), int(locus.end))
                     for locus in loci.itertuples()]
            rows = np.unique(np.concatenate(spans)) if spans else np.empty(0, np.int64)
        else:
            rows = self.span(q.chrom, q.first, q.last)
        if q.ref is not None and len(rows):
            rows = rows[self._bases(self.ref, rows, q.ref)]
        if q.alt is not None and len(rows):
            rows = rows[self._bases(self.alt, rows, q.alt)]
        if q.variant_type is not None and len(rows):
            keep = [_type_matches(models.variant_type_of(r, a), r, a, q.variant_type)
                    for r, a in zip(self.ref[rows], self.alt[rows], strict=True)]
            rows = rows[np.array(keep, dtype=bool)]
        return rows

    @staticmethod
    def _bases(column: np.ndarray, rows: np.ndarray, want: str) -> np.ndarray:
        have = column[rows]
        if "N" not in want:  # no wildcard: the bases match exactly
            return np.array([h == want for h in have], dtype=bool)
        return np.array([_bases_match(h, want) for h in have], dtype=bool)


def _publishable(carriers: np.ndarray, policy: Policy) -> np.ndarray:
    """Per variant: whether its carrier count passes :func:`protect_count`."""
    values = np.unique(carriers)
    allowed = [v for v in values if protect_count(int(v), policy=policy) is not None]
    return np.isin(carriers, np.asarray(allowed, dtype=carriers.dtype))


@dataclass
class BeaconSource:
    """What the beacon answers from: a genotype store and labelled samples.

    Built once per source (so once per server process): the :class:`VariantIndex`, each
    dataset's sample rows, and each dataset's carrier count per variant over all of its
    samples (one pass of the store's counting kernel), with whether that count may be
    published. An unfiltered boolean or count query then reads no genotypes at all.
    """

    store: Any  # precimed.genomics.GenotypeStore
    policy: Policy
    datasets: dict[str, DatasetInfo]
    samples: pd.DataFrame  # label_samples() of every dataset
    cohorts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["pseudonym", "cohort"]))
    index: VariantIndex = field(init=False, repr=False)
    _dataset_samples: dict[str, pd.DataFrame] = field(init=False, repr=False)
    _carriers: dict[str, np.ndarray] = field(init=False, repr=False)
    _publishable: dict[str, np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = VariantIndex(self.store.variants())
        self._dataset_samples = {name: self.samples[self.samples["dataset"] == name]
                                 for name in self.datasets}
        self._carriers, self._publishable = {}, {}
        for name, samples in self._dataset_samples.items():
            carriers = self._count_carriers(self.index.variant_index, samples)
            self._carriers[name] = carriers
            self._publishable[name] = _publishable(carriers, self.policy)

    def _count_carriers(self, variant_indices: np.ndarray, samples: pd.DataFrame
                        ) -> np.ndarray:
        if not len(variant_indices) or not len(samples):
            return np.zeros(len(variant_indices), dtype=np.int64)
        counts = self.store.counts(variant_indices, samples["sample_index"].to_numpy())
        return counts["het"] + counts["hom_alt"]

    def carriers(self, dataset: str, rows: np.ndarray, query: BeaconQuery
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Carriers of the variants at ``rows`` among the dataset's samples matching the
        query's filters, and whether each count may be published."""
        if not query.filters:
            return self._carriers[dataset][rows], self._publishable[dataset][rows]
        carriers = self._count_carriers(self.index.variant_index[rows],
                                        self.matching_samples(dataset, query))
        return carriers, _publishable(carriers, self.policy)

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
        rows = self._dataset_samples[dataset]
        for f in query.filters:
            rows = rows[rows[f.column] == f.value]
        return rows

    def variant_rows(self, q: VariantQuery) -> np.ndarray:
        """Rows of the variant table (ascending) that a g_variants query selects."""
        if q.build is not None and q.build != self.build:
            return np.empty(0, dtype=np.int64)
        if q.gene is not None:
            return self.index.rows(q, loci=gene_loci(q.gene, build=self.build))
        if q.chrom is None:
            raise UserError("A g_variants query needs a position or a gene",
                            where="requestParameters",
                            hint="Give referenceName and start (and alternateBases or end), "
                                 "or geneId.")
        return self.index.rows(q)

    def find_variants(self, q: VariantQuery) -> pd.DataFrame:
        return self.index.frame.iloc[self.variant_rows(q)].reset_index(drop=True)


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


async def source(request: Request) -> BeaconSource:
    return _source(request)


def _source(request: Request) -> BeaconSource:
    found = getattr(request.app.state, "beacon", None)
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
    found = getattr(request.app.state, "beacon", None)
    populations = found.populations() if found is not None else {}
    return models.informational(models.filtering_terms(populations))


# -- query endpoints --------------------------------------------------------------------
def _params(request: Request) -> BeaconQuery:
    return models.query_from_params(dict(request.query_params))


def _variants(src: BeaconSource, query: BeaconQuery, who: Asker) -> dict[str, Any]:
    tier = who.tier
    rows = src.variant_rows(query.variant)
    answers = []
    for dataset in src.chosen(query):
        granted = grant(tier, query.granularity, dataset.access)
        carriers, publishable = src.carriers(dataset.id, rows, query)
        present = carriers > 0
        if counts_are_protected(tier) and dataset.access is Access.CONTROLLED:
            present &= publishable
        records = []
        if granted is Granularity.RECORD:
            page = src.index.frame.iloc[rows[present][query.skip:query.skip + query.limit]]
            records = _variant_records(src, page, src.matching_samples(dataset.id, query))
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
        body = await run_in_threadpool(_variants, src, query, who)
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


@router.get("/g_variants/{variant_id}", summary="One genomic variant (chrom-pos-ref-alt)",
            response_model=dict)
async def g_variant(variant_id: str, request: Request,
                    who: Principal | None = Caller) -> Response:
    def query() -> BeaconQuery:
        term = parse_search(variant_id)
        if not isinstance(term, VariantTerm):
            raise UserError("A variant id is CHROM-POS-REF-ALT", where=variant_id,
                            hint="For example 1-55051215-G-A (1-based position).")
        variant = VariantQuery(term.chrom, term.pos, term.pos, term.ref, term.alt,
                               build=term.build)
        return replace(_params(request), variant=variant)

    return await _variants_response(request, query, who)


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
    records = [r for r in _cohort_records(src, tier_of(who)) if r["id"] == cohort_id]
    if not records:
        raise NotFound(f"No cohort {cohort_id!r}", where="cohorts",
                       hint="Cohorts: " + ", ".join(COHORTS))
    return _collections(records, _params(request), tier_of(who), "cohort")
