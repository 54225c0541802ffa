"""Every Beacon endpoint's response is valid against the official Beacon v2 schemas.

Framework response schemas: tests/validation/data/beacon_framework (see its
PROVENANCE.md). Model (entry type) schemas: the resolved ``defaultSchema.json`` files of
the ``beacon2-cbi-tools`` package, a test dependency. Every route of the router must be
exercised here (test_every_route_is_validated), at every granularity each tier can get,
and a broken document must fail (the validators are not vacuous). The app's home holds
a reference summary, so record-level variants carry ``frequencyInPopulations``.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from precimed.api.routes import beacon as beacon_module
from unit.discovery.beacon_app import build_beacon_app
from unit.reference.small_store import pseudonym

FRAMEWORK = Path(__file__).parent / "data" / "beacon_framework"
BASE = "https://precimed.test/beacon_framework/"
P = "/api/beacon/v2"
MODELS = {"genomicVariant": "genomicVariations", "individual": "individuals",
          "biosample": "biosamples", "dataset": "datasets", "cohort": "cohorts"}
COMMON = {"referenceName": "1", "start": "55051214", "alternateBases": "A"}


def _registry() -> Registry:
    registry = Registry()
    for path in FRAMEWORK.rglob("*.json"):
        uri = BASE + path.relative_to(FRAMEWORK).as_posix()
        contents = json.loads(path.read_text(encoding="utf-8"))
        registry = registry.with_resource(uri, Resource.from_contents(
            contents, default_specification=DRAFT202012))
    return registry


REGISTRY = _registry()


def framework(name: str) -> jsonschema.Validator:
    return jsonschema.Draft202012Validator({"$ref": BASE + name}, registry=REGISTRY)


def model(entity: str) -> jsonschema.Validator:
    folder = resources.files("bff_tools") / "schemas" / "v2.0.0" / MODELS[entity]
    schema = json.loads((folder / "defaultSchema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def check(validator: jsonschema.Validator, document: dict) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:5])


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    built = build_beacon_app(tmp_path_factory.mktemp("beacon-schemas"))
    yield built
    built.client.close()


def call(app, method: str, template: str, path: str | None = None, **kwargs) -> dict:
    response = app.client.request(method, P + (path or template), **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


INFORMATIONAL = [("/", "responses/beaconInfoResponse.json"),
                 ("/info", "responses/beaconInfoResponse.json"),
                 ("/service-info", "responses/ga4gh-service-info-1-0-0-schema.json"),
                 ("/map", "responses/beaconMapResponse.json"),
                 ("/configuration", "responses/beaconConfigurationResponse.json"),
                 ("/entry_types", "responses/beaconEntryTypesResponse.json"),
                 ("/filtering_terms", "responses/beaconFilteringTermsResponse.json")]


@pytest.mark.parametrize(("path", "schema"), INFORMATIONAL)
def test_informational_endpoints(app, path, schema):
    check(framework(schema), call(app, "GET", path))


FILTERING_TERMS = [(f"/{path}/filtering_terms", None) for path in
                   ("g_variants", "individuals", "biosamples", "datasets", "cohorts")] + [
    ("/cohorts/{cohort_id}/filtering_terms", "/cohorts/NP-EAST/filtering_terms")]


@pytest.mark.parametrize(("template", "path"), FILTERING_TERMS)
def test_filtering_terms_of_each_entry_type(app, template, path):
    body = call(app, "GET", template, path)
    check(framework("responses/beaconFilteringTermsResponse.json"), body)
    ids = {t["id"] for t in body["response"]["filteringTerms"]}
    assert {"NCIT:C16576", "province:31"} <= ids  # not an entry answer under /{id}
    # a cohort holds participants only: the reference populations are no terms of it
    assert ("population:CHB" in ids) is ("cohorts" not in template)


def test_the_map_lists_every_entry_types_filtering_terms_and_related_endpoints(app):
    body = call(app, "GET", "/map")
    check(framework("responses/beaconMapResponse.json"), body)
    sets = body["response"]["endpointSets"]
    served = {r.path for r in beacon_module.router.routes}
    for entry in sets.values():
        urls = [entry["filteringTermsUrl"], *(e["url"] for e in entry["endpoints"].values())]
        for url in urls:
            path = url.split(P, 1)[1]
            assert any(_same_route(path, route) for route in served), url
    assert set(sets["individual"]["endpoints"]) == {"genomicVariation", "biosample"}
    assert set(sets["cohort"]["endpoints"]) == {"individual"}


def _same_route(path: str, route: str) -> bool:
    """``/individuals/{id}/g_variants`` in the map against the router's template."""
    want, have = path.strip("/").split("/"), route.removeprefix(P).strip("/").split("/")
    return len(want) == len(have) and all(
        w == h or (w.startswith("{") and h.startswith("{"))
        for w, h in zip(want, have, strict=True))


RESPONSE_OF = {"boolean": "responses/beaconBooleanResponse.json",
               "count": "responses/beaconCountResponse.json",
               "record": "responses/beaconResultsetsResponse.json"}

FIRST = pseudonym(0)
QUERIES = [
    ("GET", "/g_variants", None, {"params": COMMON}, "genomicVariant"),
    ("GET", "/g_variants", None, {"params": {"geneId": "PCSK9", "filters": "NCIT:C16576"}},
     "genomicVariant"),
    ("POST", "/g_variants", None, {"json": {"meta": {"apiVersion": "v2.0.0"}, "query": {
        "requestParameters": {"g_variant": {"referenceName": "1", "start": [55051000],
                                            "end": [55060000]}},
        "filters": [{"id": "region:east"}]}}}, "genomicVariant"),
    ("GET", "/g_variants/{variant_id}", "/g_variants/1-55051215-G-A", {}, "genomicVariant"),
    ("GET", "/individuals", None, {"params": {"filters": "NCIT:C20197"}}, "individual"),
    ("POST", "/individuals", None, {"json": {"meta": {"apiVersion": "v2.0.0"}, "query": {
        "filters": [{"id": "province:31"}]}}}, "individual"),
    ("GET", "/individuals/{entry_id}", f"/individuals/{FIRST}", {}, "individual"),
    ("GET", "/biosamples", None, {"params": {}}, "biosample"),
    ("POST", "/biosamples", None, {"json": {"meta": {"apiVersion": "v2.0.0"}, "query": {}}},
     "biosample"),
    ("GET", "/biosamples/{entry_id}", f"/biosamples/{FIRST}-gt", {}, "biosample"),
    ("GET", "/datasets/{dataset_id}/g_variants", "/datasets/1000G/g_variants",
     {"params": COMMON}, "genomicVariant"),
    ("GET", "/datasets/{dataset_id}/individuals", "/datasets/precimed/individuals", {},
     "individual"),
    ("GET", "/datasets/{dataset_id}/biosamples", "/datasets/1000G/biosamples", {},
     "biosample"),
    # cross-entity routes
    ("GET", "/g_variants/{variant_id}/individuals", "/g_variants/1-55051215-G-A/individuals",
     {"params": {"filters": "NCIT:C16576"}}, "individual"),
    ("GET", "/g_variants/{variant_id}/biosamples", "/g_variants/1-55051215-G-A/biosamples",
     {}, "biosample"),
    ("GET", "/individuals/{entry_id}/g_variants", f"/individuals/{FIRST}/g_variants", {},
     "genomicVariant"),
    ("GET", "/individuals/{entry_id}/g_variants", "/individuals/HG00001/g_variants",
     {"params": {"referenceName": "1", "start": "0", "end": "100000000"}},
     "genomicVariant"),
    ("GET", "/individuals/{entry_id}/biosamples", f"/individuals/{FIRST}/biosamples", {},
     "biosample"),
    ("GET", "/biosamples/{entry_id}/g_variants", f"/biosamples/{FIRST}-gt/g_variants", {},
     "genomicVariant"),
    ("GET", "/cohorts/{cohort_id}/individuals", "/cohorts/NP-EAST/individuals", {},
     "individual"),
]


def _with_granularity(kwargs: dict, granularity: str) -> dict:
    if "json" in kwargs:
        body = json.loads(json.dumps(kwargs["json"]))
        body.setdefault("query", {})["requestedGranularity"] = granularity
        check(framework("requests/beaconRequestBody.json"), body)
        return {"json": body}
    return {"params": {**kwargs.get("params", {}), "requestedGranularity": granularity}}


@pytest.mark.parametrize("tier", ["public", "registered", "controlled"])
@pytest.mark.parametrize("granularity", ["boolean", "count", "record"])
@pytest.mark.parametrize(("method", "template", "path", "kwargs", "entity"), QUERIES)
def test_query_endpoints(app, tier, granularity, method, template, path, kwargs, entity):
    if tier == "controlled":
        app.controlled()
    else:
        app.public()
    headers = app.registered if tier == "registered" else {}
    body = call(app, method, template, path, headers=headers,
                **_with_granularity(kwargs, granularity))
    app.public()
    returned = body["meta"]["returnedGranularity"]
    check(framework(RESPONSE_OF[returned]), body)
    check(framework("responses/sections/beaconResponseMeta.json"), body["meta"])
    if returned == "record":
        records = [r for s in body["response"]["resultSets"] for r in s["results"]]
        assert records, "a record-level answer here has records"
        for record in records:
            check(model(entity), record)
        if entity == "genomicVariant":  # the home has a reference summary
            assert any(r.get("frequencyInPopulations") for r in records)


def test_record_level_variants_carry_schema_valid_frequencies(app):
    app.controlled()
    body = call(app, "GET", "/g_variants", params={**COMMON, "requestedGranularity": "record"})
    app.public()
    check(framework(RESPONSE_OF["record"]), body)
    record = body["response"]["resultSets"][0]["results"][0]
    entries = record["frequencyInPopulations"]
    assert {e["sourceReference"].rsplit("/", 1)[-1] for e in entries} == {"precimed", "1000G"}
    check(model("genomicVariant"), record)
    # and the model schema does check them: an item without its frequency fails
    broken = json.loads(json.dumps(record))
    del broken["frequencyInPopulations"][0]["frequencies"][0]["alleleFrequency"]
    assert list(model("genomicVariant").iter_errors(broken))
    broken["frequencyInPopulations"][0]["frequencies"] = []
    assert list(model("genomicVariant").iter_errors(broken))


COLLECTIONS = [("/datasets", None, "dataset"),
               ("/datasets/{dataset_id}", "/datasets/precimed", "dataset"),
               ("/cohorts", None, "cohort"), ("/cohorts/{cohort_id}", "/cohorts/NP-EAST", "cohort")]


@pytest.mark.parametrize(("template", "path", "entity"), COLLECTIONS)
def test_collections(app, template, path, entity):
    body = call(app, "GET", template, path)
    check(framework("responses/beaconCollectionsResponse.json"), body)
    assert body["response"]["collections"]
    for record in body["response"]["collections"]:
        check(model(entity), record)


def test_errors_follow_the_beacon_error_schema(app):
    for method, path, kwargs in (
            ("GET", "/g_variants", {"params": {"referenceName": "1"}}),
            ("POST", "/g_variants", {"json": {"query": {"pagination": {"skip": -1}}}}),
            ("GET", "/cohorts/NOPE", {})):
        response = app.client.request(method, P + path, **kwargs)
        assert response.status_code >= 400
        check(framework("responses/beaconErrorResponse.json"), response.json())


def test_the_validators_reject_a_broken_document(app):
    body = call(app, "GET", "/g_variants", params={**COMMON, "requestedGranularity": "count"})
    broken = {**body, "responseSummary": {"exists": "yes"}}
    assert list(framework(RESPONSE_OF["count"]).iter_errors(broken))
    assert list(model("individual").iter_errors({"id": 5}))


def test_every_route_is_validated():
    routes = {(m, r.path.removeprefix(P) or "/") for r in beacon_module.router.routes
              for m in r.methods}
    validated = ({("GET", path) for path, _ in INFORMATIONAL}
                 | {("GET", template) for template, _ in FILTERING_TERMS}
                 | {(method, template) for method, template, *_ in QUERIES}
                 | {("GET", template) for template, *_ in COLLECTIONS})
    assert routes == validated
