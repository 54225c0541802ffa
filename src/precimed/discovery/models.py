"""Beacon v2 requests as typed values, and the documents a response is built from.

Requests arrive as GET query parameters or a POST ``beaconRequestBody``; both become one
:class:`BeaconQuery` (:func:`query_from_params`, :func:`query_from_body`). Coordinates
follow the specification: ``start``/``end`` are 0-based (interbase), so a sequence query
``start=55051214`` asks for the variant at 1-based position 55051215, and a range query
asks for variants whose 1-based position lies in ``(start, end]``. ``assemblyId``
accepts GRCh37/GRCh38 (hg19/hg38).

Filtering terms (:data:`SEX_TERMS` and the custom ``region:``, ``province:``,
``population:``, ``superPopulation:`` terms of :func:`custom_terms`) select individuals;
several filters are ANDed, as the specification says.

Record documents (:func:`variant_record`, :func:`individual_record`,
:func:`biosample_record`, :func:`dataset_record`, :func:`cohort_record`) carry no raw
identifier: participants appear by pseudonym only, biosamples by an id derived from it.
Response envelopes (:func:`response_meta`, :func:`informational`) and the informational
documents (info, service-info, configuration, map, entry types, filtering terms) are here
too. Records are validated against the Beacon v2 model schemas and every document against
the framework schemas in tests/validation/test_beacon_schemas.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from precimed import __version__
from precimed.discovery.granularity import Granularity
from precimed.errors import UserError
from precimed.reference.genes import normalise_build, normalise_chrom
from precimed.standard import COHORTS, PROVINCES, REGIONS

API_VERSION = "v2.0.0"
BEACON_ID = "org.precimed.beacon"
DEFAULT_LIMIT = 10
MAX_LIMIT = 1000

SEX_TERMS = {"NCIT:C20197": ("1", "Male"), "NCIT:C16576": ("2", "Female")}
SEX_ONTOLOGY = {"1": ("NCIT:C20197", "male"), "2": ("NCIT:C16576", "female"),
                "0": ("NCIT:C17998", "unknown"), "9": ("NCIT:C17998", "unknown")}
ZYGOSITY = {1: ("GENO:0000458", "simple heterozygous"), 2: ("GENO:0000136", "homozygous")}
VARIANT_TYPES = ("SNP", "MNP", "INDEL", "DEL", "INS")
SCHEMAS = {"genomicVariant": "beacon-g_variant-v2.0.0", "individual": "beacon-individual-v2.0.0",
           "biosample": "beacon-biosample-v2.0.0", "dataset": "beacon-dataset-v2.0.0",
           "cohort": "beacon-cohort-v2.0.0"}
_CUSTOM = {"region": "region", "province": "province", "population": "population",
           "superPopulation": "super_population"}


# -- filters -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    """One filtering term resolved to a sample column and the value it must have."""

    id: str
    column: str
    value: str


def custom_terms(populations: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The custom filtering terms: regions and provinces, and the reference callsets'
    populations (code → super-population)."""
    terms = [{"type": "custom", "id": f"region:{r.code}", "label": f"{r.en} ({r.zh})",
              "scopes": ["individual", "biosample", "genomicVariation"]}
             for r in REGIONS.values()]
    terms += [{"type": "custom", "id": f"province:{p.code}", "label": f"{p.en} ({p.zh})",
               "scopes": ["individual", "biosample", "genomicVariation"]}
              for p in PROVINCES.values()]
    for population, super_population in sorted((populations or {}).items()):
        terms.append({"type": "custom", "id": f"population:{population}",
                      "label": f"Population {population} ({super_population})",
                      "scopes": ["individual", "biosample", "genomicVariation"]})
    for super_population in sorted(set((populations or {}).values())):
        terms.append({"type": "custom", "id": f"superPopulation:{super_population}",
                      "label": f"Super-population {super_population}",
                      "scopes": ["individual", "biosample", "genomicVariation"]})
    return terms


def sex_terms() -> list[dict[str, Any]]:
    return [{"type": "ontology", "id": term, "label": label,
             "scopes": ["individual", "biosample", "genomicVariation"]}
            for term, (_, label) in SEX_TERMS.items()]


def parse_filter(raw: Any) -> Filter:
    term = raw.get("id") if isinstance(raw, dict) else raw
    if isinstance(raw, dict) and ("operator" in raw or "value" in raw):
        raise UserError("Alphanumeric filters are not supported", where=f"filters: {term}",
                        hint="Use the ontology and custom terms listed at filtering_terms.")
    if not isinstance(term, str) or not term.strip():
        raise UserError("A filter has no id", where="filters",
                        hint="Give each filter as a term id, e.g. NCIT:C16576.")
    term = term.strip()
    if term in SEX_TERMS:
        return Filter(term, "sex", SEX_TERMS[term][0])
    prefix, _, value = term.partition(":")
    if prefix in _CUSTOM and value:
        if (prefix == "region" and value not in REGIONS) or (
                prefix == "province" and value not in PROVINCES):
            raise _unknown(term)
        return Filter(term, _CUSTOM[prefix], value)
    raise _unknown(term)


def _unknown(term: str) -> UserError:
    return UserError(f"Unknown filtering term {term!r}", where="filters",
                     hint="The terms this beacon understands are listed at "
                          "/api/beacon/v2/filtering_terms.")


# -- the query ---------------------------------------------------------------------------
@dataclass(frozen=True)
class VariantQuery:
    """Request parameters of g_variants, in 1-based inclusive positions."""

    chrom: str | None = None
    first: int | None = None
    last: int | None = None
    ref: str | None = None
    alt: str | None = None
    variant_type: str | None = None
    build: str | None = None
    gene: str | None = None

    @property
    def empty(self) -> bool:
        return self.chrom is None and self.gene is None


@dataclass(frozen=True)
class BeaconQuery:
    granularity: Granularity = Granularity.BOOLEAN
    variant: VariantQuery = field(default_factory=VariantQuery)
    filters: tuple[Filter, ...] = ()
    skip: int = 0
    limit: int = DEFAULT_LIMIT
    include_resultsets: str = "HIT"
    datasets: tuple[str, ...] = ()
    test_mode: bool = False
    raw_parameters: dict[str, Any] = field(default_factory=dict)
    raw_filters: tuple[Any, ...] = ()

    def summary(self) -> dict[str, Any]:
        """``meta.receivedRequestSummary``: the request as the beacon understood it."""
        out: dict[str, Any] = {
            "apiVersion": API_VERSION, "requestedSchemas": [],
            "pagination": {"skip": self.skip, "limit": self.limit},
            "requestedGranularity": self.granularity.value,
            "includeResultsetResponses": self.include_resultsets,
            "testMode": self.test_mode,
        }
        if self.filters:
            out["filters"] = [f.id for f in self.filters]
        if self.raw_parameters:
            out["requestParameters"] = echo_parameters(self.raw_parameters)
        return out


def flatten_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """Accept request parameters flat (``{"referenceName": "1"}``, as the model schemas
    write them) or grouped in objects (``{"g_variant": {...}, "datasets": {"datasetIds":
    [...]}}``, as the framework's ``requestParameters`` placeholder requires)."""
    flat: dict[str, Any] = {}
    for key, value in parameters.items():
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return flat


def echo_parameters(flat: dict[str, Any]) -> dict[str, Any]:
    """The grouped form, for ``receivedRequestSummary`` (the framework wants objects)."""
    grouped: dict[str, Any] = {}
    variant = {k: v for k, v in flat.items() if k != "datasetIds"}
    if variant:
        grouped["g_variant"] = variant
    if "datasetIds" in flat:
        grouped["datasets"] = {"datasetIds": flat["datasetIds"]}
    return grouped


class RequestMeta(BaseModel):
    model_config = ConfigDict(extra="allow")
    apiVersion: str | None = None
    requestedSchemas: list[dict[str, Any]] = Field(default_factory=list)


class Pagination(BaseModel):
    skip: int = Field(0, ge=0)
    limit: int = Field(DEFAULT_LIMIT, ge=0, le=MAX_LIMIT)


class RequestQuery(BaseModel):
    model_config = ConfigDict(extra="allow")
    requestParameters: dict[str, Any] = Field(default_factory=dict)
    filters: list[Any] = Field(default_factory=list)
    includeResultsetResponses: str = "HIT"
    pagination: Pagination = Field(default_factory=Pagination)
    requestedGranularity: str | None = None
    testMode: bool = False


class BeaconRequestBody(BaseModel):
    """The POST body of every Beacon query endpoint (``beaconRequestBody``)."""

    model_config = ConfigDict(extra="allow")
    meta: RequestMeta = Field(default_factory=RequestMeta)
    query: RequestQuery = Field(default_factory=RequestQuery)


def query_from_body(body: BeaconRequestBody) -> BeaconQuery:
    q = body.query
    return _query(flatten_parameters(q.requestParameters), q.filters,
                  granularity=q.requestedGranularity, skip=q.pagination.skip,
                  limit=q.pagination.limit,
                  include=q.includeResultsetResponses, test_mode=q.testMode)


def query_from_params(params: dict[str, str]) -> BeaconQuery:
    """GET parameters: request parameters by name, ``filters`` comma-separated."""
    known = {"referenceName", "start", "end", "referenceBases", "alternateBases",
             "variantType", "assemblyId", "geneId", "datasetIds"}
    parameters = {k: v for k, v in params.items() if k in known}
    for key in ("start", "end"):
        if key in parameters:
            parameters[key] = [_integer(v, key) for v in parameters[key].split(",")]
    if "datasetIds" in parameters:
        parameters["datasetIds"] = [d for d in parameters["datasetIds"].split(",") if d]
    filters = [f for f in params.get("filters", "").split(",") if f.strip()]
    return _query(parameters, filters, granularity=params.get("requestedGranularity"),
                  skip=_integer(params.get("skip", "0"), "skip"),
                  limit=_integer(params.get("limit", str(DEFAULT_LIMIT)), "limit"),
                  include=params.get("includeResultsetResponses", "HIT"),
                  test_mode=params.get("testMode", "").lower() == "true")


def _integer(raw: Any, where: str) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise UserError(f"{where} must be a whole number", where=where,
                        hint="Beacon coordinates are 0-based integers.") from None


def _query(parameters: dict[str, Any], filters: list[Any], *, granularity: str | None,
           skip: int, limit: int, include: str, test_mode: bool) -> BeaconQuery:
    if skip < 0 or not 0 <= limit <= MAX_LIMIT:
        raise UserError("Pagination out of range", where=f"skip={skip}, limit={limit}",
                        hint=f"skip >= 0 and 0 <= limit <= {MAX_LIMIT}.")
    include = (include or "HIT").upper()
    if include not in ("HIT", "MISS", "ALL", "NONE"):
        raise UserError(f"Unknown includeResultsetResponses {include!r}",
                        where="includeResultsetResponses", hint="Use HIT, MISS, ALL or NONE.")
    datasets = parameters.get("datasetIds") or []
    if not isinstance(datasets, list):
        datasets = [datasets]
    return BeaconQuery(
        granularity=Granularity.parse(granularity), variant=variant_query(parameters),
        filters=tuple(parse_filter(f) for f in filters), skip=skip, limit=limit,
        include_resultsets=include, datasets=tuple(str(d) for d in datasets),
        test_mode=test_mode,
        raw_parameters=dict(parameters), raw_filters=tuple(filters))


def variant_query(p: dict[str, Any]) -> VariantQuery:
    """Sequence, range, bracket or gene query (specification section g_variants)."""
    build = normalise_build(None if p.get("assemblyId") is None else str(p["assemblyId"]))
    alt = _bases(p.get("alternateBases"), "alternateBases")
    ref = _bases(p.get("referenceBases"), "referenceBases")
    variant_type = None if p.get("variantType") is None else str(p["variantType"])
    if variant_type is not None and variant_type.upper() not in VARIANT_TYPES:
        raise UserError(f"Unknown variantType {variant_type!r}", where="variantType",
                        hint="Use one of " + ", ".join(VARIANT_TYPES) + ".")
    variant_type = variant_type.upper() if variant_type else None
    if p.get("geneId"):
        return VariantQuery(gene=str(p["geneId"]).strip(), alt=alt, ref=ref,
                            variant_type=variant_type, build=build)
    if p.get("referenceName") is None:
        if any(p.get(k) is not None for k in ("start", "end", "referenceBases",
                                              "alternateBases")):
            raise UserError("referenceName is missing", where="requestParameters",
                            hint="Name the chromosome, e.g. referenceName=1.")
        return VariantQuery(build=build)
    chrom = normalise_chrom(str(p["referenceName"]), where="referenceName")
    starts, ends = _list(p.get("start"), "start"), _list(p.get("end"), "end")
    if not starts:
        raise UserError("start is missing", where="requestParameters",
                        hint="Give the 0-based start, e.g. start=55051214.")
    if len(starts) > 2 or len(ends) > 2:
        raise UserError("start and end take one or two values", where="requestParameters",
                        hint="Two values make a bracket query: start=min,max&end=min,max.")
    if not ends:  # sequence query: exactly one position
        if alt is None and variant_type is None:
            raise UserError("A sequence query needs alternateBases", where="requestParameters",
                            hint="Give alternateBases, or an end for a range query.")
        return VariantQuery(chrom, starts[0] + 1, starts[0] + 1, ref, alt, variant_type, build)
    first, last = starts[0] + 1, ends[-1]
    if last < first:
        raise UserError("end is before start", where="requestParameters",
                        hint="In a range query start < end (0-based, end exclusive).")
    return VariantQuery(chrom, first, last, ref, alt, variant_type, build)


def _list(raw: Any, where: str) -> list[int]:
    if raw is None or raw == "":
        return []
    values = raw if isinstance(raw, list) else [raw]
    out = [_integer(v, where) for v in values]
    if any(v < 0 for v in out):
        raise UserError(f"{where} must not be negative", where=where,
                        hint="Beacon coordinates are 0-based.")
    return out


def _bases(raw: Any, where: str) -> str | None:
    if raw is None or raw == "":
        return None
    text = str(raw).strip().upper()
    if not text or any(c not in "ACGTN" for c in text):
        raise UserError(f"{where} must be DNA bases", where=where,
                        hint="Use A, C, G, T and N (any base).")
    return text


# -- documents ---------------------------------------------------------------------------
def variant_id(chrom: str, pos: int, ref: str, alt: str) -> str:
    return f"{chrom}-{pos}-{ref}-{alt}"


def variant_type_of(ref: str, alt: str) -> str:
    if len(ref) == len(alt):
        return "SNP" if len(ref) == 1 else "MNP"
    return "INDEL"


def variant_record(row: Any, *, build: str, cases: list[dict[str, Any]] | None = None,
                   frequencies: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A genomicVariation in the legacy (VCF-like) form, 0-based interbase location;
    ``frequencies`` are its ``frequencyInPopulations`` entries (discovery.populations)."""
    start = int(row.pos) - 1
    record: dict[str, Any] = {
        "variantInternalId": variant_id(row.chrom, int(row.pos), row.ref, row.alt),
        "variation": {
            "variantType": variant_type_of(row.ref, row.alt),
            "referenceBases": row.ref, "alternateBases": row.alt,
            "location": {"type": "SequenceLocation",
                         "sequence_id": f"{build}:{row.chrom}",
                         "interval": {"type": "SequenceInterval",
                                      "start": {"type": "Number", "value": start},
                                      "end": {"type": "Number",
                                              "value": start + len(row.ref)}}},
        },
    }
    rsid = getattr(row, "rsid", None)
    if isinstance(rsid, str) and rsid:
        record["identifiers"] = {"variantAlternativeIds": [{"id": f"dbSNP:{rsid}"}]}
    if frequencies:
        record["frequencyInPopulations"] = frequencies
    if cases:
        record["caseLevelData"] = cases
    return record


def case_record(sample: Any, dosage: int) -> dict[str, Any]:
    term, label = ZYGOSITY[2 if dosage >= 2 else 1]
    return {"individualId": sample.sample_id, "biosampleId": biosample_id(sample),
            "zygosity": {"id": term, "label": label}}


def biosample_id(sample: Any) -> str:
    return f"{sample.sample_id}-gt"


def _sex(code: str) -> dict[str, str]:
    term, label = SEX_ONTOLOGY.get(code, SEX_ONTOLOGY["0"])
    return {"id": term, "label": label}


def individual_record(sample: Any) -> dict[str, Any]:
    info = {"dataset": sample.dataset}
    for column, key in (("region", "region"), ("province", "nativeProvince"),
                        ("population", "population"),
                        ("super_population", "superPopulation")):
        value = getattr(sample, column, "unknown")
        if value != "unknown":
            info[key] = value
    return {"id": sample.sample_id, "sex": _sex(sample.sex), "info": info}


def biosample_record(sample: Any) -> dict[str, Any]:
    return {"id": biosample_id(sample), "individualId": sample.sample_id,
            "biosampleStatus": {"id": "EFO:0009654", "label": "reference sample"},
            "sampleOriginType": {"id": "OBI:0001479", "label": "specimen from organism"},
            "info": {"dataset": sample.dataset}}


def dataset_record(dataset: Any, *, size: int | None) -> dict[str, Any]:
    record = {"id": dataset.id, "name": dataset.name, "description": dataset.description,
              "info": {"accessLevel": dataset.access.value, "kind": dataset.kind}}
    if size is not None:
        record["info"]["individuals"] = size
    if dataset.duo:
        record["dataUseConditions"] = {"duoDataUse": [
            {"id": code, "label": label, "version": "2022-03-23"}
            for code, label in dataset.duo]}
    return record


def cohort_record(code: str, *, size: int | None) -> dict[str, Any]:
    cohort = COHORTS[code]
    record: dict[str, Any] = {
        "id": code, "name": cohort.en, "cohortType": "study-defined",
        "cohortDesign": {"id": "OMIABIS:0001017", "label": "longitudinal design"},
    }
    if size is not None:
        record["cohortSize"] = size
    return record


# -- response envelopes and informational documents -------------------------------------
def response_meta(granularity: Granularity, query: BeaconQuery | None, entity: str | None
                  ) -> dict[str, Any]:
    """``beaconResponseMeta``: what was returned, and the request as understood."""
    schemas = ([{"entityType": entity, "schema": SCHEMAS[entity]}]
               if entity in SCHEMAS else [])
    return {"beaconId": BEACON_ID, "apiVersion": API_VERSION,
            "returnedSchemas": schemas, "returnedGranularity": granularity.value,
            "receivedRequestSummary": (query or BeaconQuery()).summary(),
            "testMode": bool(query and query.test_mode)}


def informational(response: dict[str, Any]) -> dict[str, Any]:
    return {"meta": {"beaconId": BEACON_ID, "apiVersion": API_VERSION,
                     "returnedSchemas": []}, "response": response}


def info_results(welcome_url: str) -> dict[str, Any]:
    return {"id": BEACON_ID, "name": "precimed Beacon", "apiVersion": API_VERSION,
            "environment": "dev", "version": __version__,
            "description": "Discovery over the precimed platform's genotypes and the "
                           "1000 Genomes reference, with disclosure control by tier.",
            "organization": {"id": "precimed", "name": "precimed platform"},
            "welcomeUrl": welcome_url}


def service_info(base_url: str) -> dict[str, Any]:
    """GA4GH service-info 1.0.0."""
    return {"id": BEACON_ID, "name": "precimed Beacon",
            "type": {"group": "org.ga4gh", "artifact": "beacon", "version": API_VERSION},
            "description": "Beacon v2 of the precimed platform.",
            "organization": {"name": "precimed platform", "url": base_url},
            "version": __version__, "environment": "dev"}


# entry type -> (name, ontology term, its label, path, schema key)
ENTRY_TYPES = {
    "genomicVariation": ("Genomic variation", "SO:0000735", "sequence_location", "g_variants",
                         "genomicVariant"),
    "individual": ("Individual", "NCIT:C25190", "Person", "individuals", "individual"),
    "biosample": ("Biosample", "NCIT:C70699", "Biospecimen", "biosamples", "biosample"),
    "dataset": ("Dataset", "NCIT:C47824", "Data set", "datasets", "dataset"),
    "cohort": ("Cohort", "NCIT:C61512", "Cohort", "cohorts", "cohort"),
}
_SPEC = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/"


def entry_types() -> dict[str, Any]:
    out = {}
    for key, (name, term, label, _, schema_key) in ENTRY_TYPES.items():
        out[key] = {"id": key, "name": name,
                    "ontologyTermForThisType": {"id": term, "label": label},
                    "partOfSpecification": "Beacon v2.0.0",
                    "defaultSchema": {"id": SCHEMAS[schema_key],
                                      "name": f"Default schema for {name}",
                                      "referenceToSchemaDefinition":
                                          f"{_SPEC}models/json/beacon-v2-default-schemas/"
                                          f"{schema_key}",
                                      "schemaVersion": "v2.0.0"}}
        if key in ("dataset", "cohort"):
            out[key]["aCollectionOf"] = [{"id": "individual", "name": "Individuals"}]
    return out


def configuration() -> dict[str, Any]:
    return {"$schema": f"{_SPEC}framework/json/configuration/beaconConfigurationSchema.json",
            "maturityAttributes": {"productionStatus": "DEV"},
            "securityAttributes": {"defaultGranularity": "boolean",
                                   "securityLevels": ["PUBLIC", "REGISTERED", "CONTROLLED"]},
            "entryTypes": entry_types()}


# entry type -> the entry types reachable from one of its entries (/{path}/{id}/{other})
RELATED = {
    "dataset": ("genomicVariation", "individual", "biosample"),
    "genomicVariation": ("individual", "biosample"),
    "individual": ("genomicVariation", "biosample"),
    "biosample": ("genomicVariation",),
    "cohort": ("individual",),
}


def beacon_map(root: str) -> dict[str, Any]:
    sets: dict[str, Any] = {}
    for key, (_, _, _, path, _) in ENTRY_TYPES.items():
        sets[key] = {"entryType": key, "rootUrl": f"{root}/{path}",
                     "singleEntryUrl": f"{root}/{path}/{{id}}",
                     "filteringTermsUrl": f"{root}/{path}/filtering_terms",
                     "endpoints": {
                         kind: {"returnedEntryType": kind,
                                "url": f"{root}/{path}/{{id}}/{ENTRY_TYPES[kind][3]}"}
                         for kind in RELATED[key]}}
    return {"$schema": f"{_SPEC}framework/json/configuration/beaconMapSchema.json",
            "endpointSets": sets}


def filtering_terms(populations: dict[str, str], *, entry_type: str | None = None
                    ) -> dict[str, Any]:
    """The terms understood at the entry type's endpoints (all of them without one).

    Every term selects people, so it applies to individuals and biosamples, to
    g_variants (whose carriers it selects) and to a dataset's entries; a cohort holds
    participants only, so the reference callsets' population terms do not apply to it.
    """
    if entry_type is not None and entry_type not in ENTRY_TYPES:
        raise UserError(f"Unknown entry type {entry_type!r}", where="filtering_terms",
                        hint="Entry types: " + ", ".join(ENTRY_TYPES))
    if entry_type == "cohort":
        populations = {}
    return {"filteringTerms": [*sex_terms(), *custom_terms(populations)],
            "resources": [{"id": "NCIT", "name": "NCI Thesaurus", "nameSpacePrefix": "NCIT",
                           "url": "https://ncit.nci.nih.gov/",
                           "iriPrefix": "http://purl.obolibrary.org/obo/NCIT_"}]}
