"""The Beacon over HTTP: what each tier receives, and the public-caller probe of the
controlled dataset."""

from __future__ import annotations

import re

import pytest

from unit.discovery.beacon_app import THRESHOLD, build_beacon_app
from unit.reference.small_store import PROVINCES

P = "/api/beacon/v2"
RARE = {"referenceName": "1", "start": "55051999", "alternateBases": "T"}  # 3 carriers
COMMON = {"referenceName": "1", "start": "55051214", "alternateBases": "A"}
HEX64 = re.compile(r"[0-9a-f]{64}")


@pytest.fixture(scope="module")
def beacon(tmp_path_factory):
    app = build_beacon_app(tmp_path_factory.mktemp("beacon"))
    yield app
    app.client.close()


@pytest.fixture(autouse=True)
def anonymous(beacon):
    beacon.public()
    yield
    beacon.public()


def dataset(body: dict, name: str) -> dict:
    return next(d for d in body["info"]["datasets"] if d["id"] == name)


PROBES = [
    ("/g_variants", RARE), ("/g_variants", COMMON),
    ("/g_variants", {**COMMON, "filters": "province:11"}),
    ("/g_variants", {"geneId": "PCSK9"}),
    ("/individuals", {}), ("/individuals", {"filters": "province:11"}),
    ("/individuals", {"filters": "province:44,NCIT:C20197"}),
    ("/biosamples", {"filters": "province:11"}),
    ("/datasets/precimed/individuals", {}), ("/datasets/precimed/g_variants", RARE),
]


CALLS = [("GET", path, params) for path, params in PROBES] + [
    ("POST", path, params) for path, params in PROBES if "/datasets/" not in path]


def _post_body(params: dict, granularity: str) -> dict:
    filters = [f for f in params.get("filters", "").split(",") if f]
    parameters = {k: v for k, v in params.items() if k != "filters"}
    if "start" in parameters:
        parameters["start"] = [int(parameters["start"])]
    return {"query": {"requestParameters": parameters, "filters": filters,
                      "requestedGranularity": granularity}}


@pytest.mark.parametrize(("method", "path", "params"), CALLS)
@pytest.mark.parametrize("granularity", ["boolean", "count", "record"])
def test_public_probe_gets_no_records_and_no_small_counts(beacon, method, path, params,
                                                          granularity):
    if method == "GET":
        r = beacon.client.get(P + path, params={**params, "requestedGranularity": granularity})
    else:
        r = beacon.client.post(P + path, json=_post_body(params, granularity))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["meta"]["returnedGranularity"] in ("boolean", "count")
    assert "response" not in body  # no result sets, so no records
    assert not HEX64.search(r.text)  # no pseudonym anywhere
    controlled = dataset(body, "precimed")
    assert controlled["granularity"] == "boolean"
    assert "count" not in controlled
    if "numTotalResults" in body["responseSummary"]:
        assert body["meta"]["returnedGranularity"] == "count"
        assert "precimed" not in params.get("datasetIds", "")


def test_rare_variant_in_the_controlled_dataset_is_not_even_said_to_exist(beacon):
    public = beacon.client.get(P + "/g_variants", params={**RARE, "datasetIds": "precimed"})
    assert public.json()["responseSummary"] == {"exists": False}
    registered = beacon.client.get(P + "/g_variants", headers=beacon.registered,
                                   params={**RARE, "datasetIds": "precimed",
                                           "requestedGranularity": "count"})
    assert registered.json()["responseSummary"] == {"exists": False, "numTotalResults": 0}
    beacon.controlled()
    steward = beacon.client.get(P + "/g_variants", params={**RARE, "datasetIds": "precimed",
                                                           "requestedGranularity": "record"})
    summary = steward.json()["responseSummary"]
    assert summary == {"exists": True, "numTotalResults": 1}
    cases = steward.json()["response"]["resultSets"][0]["results"][0]["caseLevelData"]
    assert len(cases) == 3
    ids = {c["individualId"] for c in cases}
    assert ids <= set(beacon.small.participants["sample_id"])  # pseudonyms only
    assert all(HEX64.fullmatch(i) for i in ids)


@pytest.mark.parametrize("path", ["/individuals", "/biosamples"])
def test_a_small_group_of_participants_is_not_said_to_exist(beacon, path):
    people = int((beacon.small.participants["native_province"] == "11").sum())
    assert 0 < people < THRESHOLD
    body = beacon.client.get(P + path, params={"filters": "province:11"}).json()
    assert dataset(body, "precimed")["exists"] is False
    assert body["responseSummary"] == {"exists": False}


def test_public_reference_answers_counts_to_everyone(beacon):
    r = beacon.client.get(P + "/g_variants", params={**COMMON, "datasetIds": "1000G",
                                                     "requestedGranularity": "record"})
    body = r.json()
    assert body["meta"]["returnedGranularity"] == "count"
    assert body["responseSummary"] == {"exists": True, "numTotalResults": 1}


def test_registered_counts_pass_disclosure_control_with_their_total(beacon):
    small = {"filters": f"province:{PROVINCES[3]}", "requestedGranularity": "count"}
    r = beacon.client.get(P + "/individuals", headers=beacon.registered, params=small)
    body = r.json()
    precimed = dataset(body, "precimed")
    people = int((beacon.small.participants["native_province"] == PROVINCES[3]).sum())
    assert 0 < people < THRESHOLD
    assert precimed["granularity"] == "count" and "count" not in precimed
    assert precimed["exists"] is False
    # 1000G has no provinces: 0 people, and the total would give precimed away
    assert body["meta"]["returnedGranularity"] == "boolean"
    large = beacon.client.get(P + "/individuals", headers=beacon.registered,
                              params={"filters": "NCIT:C16576", "requestedGranularity": "count"})
    females = int((beacon.small.participants["sex"] == "2").sum())
    ref_females = int((beacon.small.reference["sex"] == "2").sum())
    assert dataset(large.json(), "precimed")["count"] == females
    assert large.json()["responseSummary"]["numTotalResults"] == females + ref_females


def test_controlled_tier_gets_records_of_pseudonymous_individuals(beacon):
    beacon.controlled()
    r = beacon.client.get(P + "/individuals", params={"requestedGranularity": "record",
                                                      "datasetIds": "precimed", "skip": 5,
                                                      "limit": 3})
    body = r.json()
    assert body["meta"]["returnedGranularity"] == "record"
    results = body["response"]["resultSets"][0]["results"]
    assert [x["id"] for x in results] == beacon.small.participants["sample_id"][5:8].tolist()
    assert body["responseSummary"]["numTotalResults"] == len(beacon.small.participants)
    one = beacon.client.get(P + f"/individuals/{results[0]['id']}",
                            params={"requestedGranularity": "record"}).json()
    assert one["responseSummary"] == {"exists": True, "numTotalResults": 1}


def test_single_entry_forms(beacon):
    r = beacon.client.get(P + "/g_variants/chr1-55051215-G-A")
    assert r.json()["responseSummary"]["exists"] is True
    assert beacon.client.get(P + "/datasets/1000G").json()["response"]["collections"][0][
        "info"]["accessLevel"] == "public"
    assert beacon.client.get(P + "/cohorts/NP-EAST").json()["response"]["collections"][0][
        "cohortSize"] == 150


def test_datasets_list_access_levels_and_hide_controlled_sizes_from_the_public(beacon):
    body = beacon.client.get(P + "/datasets").json()
    levels = {d["id"]: d["info"]["accessLevel"] for d in body["response"]["collections"]}
    assert levels == {"precimed": "controlled", "1000G": "public"}
    sizes = {d["id"]: d["info"].get("individuals") for d in body["response"]["collections"]}
    assert sizes["precimed"] is None and sizes["1000G"] == len(beacon.small.reference)


def test_errors_answer_in_the_beacon_shape_and_the_platform_shape(beacon):
    r = beacon.client.get(P + "/g_variants", params={"referenceName": "chr99", "start": "5",
                                                     "alternateBases": "A"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["errorCode"] == 400 and error["errorMessage"] == error["what"]
    assert {"kind", "what", "where", "hint"} <= set(error)
    assert "meta" in r.json()
    r = beacon.client.post(P + "/individuals", json={"query": {"pagination": {"limit": -1}}})
    assert r.status_code == 422 and r.json()["error"]["errorCode"] == 422
    r = beacon.client.get(P + "/datasets/nope")
    assert r.status_code == 404 and r.json()["error"]["kind"] == "not_found"


def test_record_level_answers_are_audited_and_aggregates_are_not(beacon):
    from precimed.ops import audit

    ops = beacon.client.app.state.platform.ops

    def reads() -> list:
        return [e for e in audit.events(ops, limit=1000) if e.action == "read.row_level"]

    before = len(reads())
    beacon.client.get(P + "/individuals", params={"requestedGranularity": "count"})
    assert len(reads()) == before
    beacon.controlled()
    beacon.client.get(P + "/individuals", params={"requestedGranularity": "record",
                                                  "datasetIds": "precimed", "limit": 4})
    after = reads()
    assert len(after) == before + 1
    newest = max(after, key=lambda e: e.seq)
    assert newest.actor == "steward" and newest.detail["rows"] == 4
    assert newest.detail["datasets"] == ["precimed"]
