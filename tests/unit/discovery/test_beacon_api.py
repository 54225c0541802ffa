"""The Beacon over HTTP: what each tier receives, and the public-caller probe of the
controlled dataset."""

from __future__ import annotations

import re

import pytest

from unit.discovery.beacon_app import THRESHOLD, build_beacon_app
from unit.reference.small_store import PROVINCES, VARIANTS, pseudonym

P = "/api/beacon/v2"
RARE = {"referenceName": "1", "start": "55051999", "alternateBases": "T"}  # 3 carriers
COMMON = {"referenceName": "1", "start": "55051214", "alternateBases": "A"}
HEX64 = re.compile(r"[0-9a-f]{64}")
FIRST = pseudonym(0)  # a participant: carries the common variant, not the rare one


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
    # cross-entity routes
    ("/g_variants/1-55052000-C-T/individuals", {}),  # the rare variant's 3 carriers
    ("/g_variants/1-55052000-C-T/biosamples", {}),
    ("/g_variants/1-55051215-G-A/individuals", {"filters": "province:11"}),
    ("/g_variants/1-55051215-G-A/biosamples", {}),
    (f"/individuals/{FIRST}/g_variants", {}), (f"/biosamples/{FIRST}-gt/g_variants", {}),
    (f"/individuals/{FIRST}/g_variants", COMMON),
    (f"/individuals/{FIRST}/biosamples", {}),
    ("/cohorts/NP-EAST/individuals", {"filters": "province:11"}),
    ("/cohorts/DC-LUNG/individuals", {}),
]
POSTED = ("/g_variants", "/individuals", "/biosamples")  # the routes with a POST form


CALLS = [("GET", path, params) for path, params in PROBES] + [
    ("POST", path, params) for path, params in PROBES if path in POSTED]


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
    assert not HEX64.search(r.text)  # no pseudonym anywhere (not even the one asked)
    controlled = dataset(body, "precimed")
    assert controlled["granularity"] == "boolean"
    assert "count" not in controlled
    if FIRST in path or "55052000" in path:  # one person, or a variant's 3 carriers
        assert controlled["exists"] is False
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


# -- cross-entity routes ------------------------------------------------------------------
def _results(body: dict, name: str) -> list[dict]:
    return next(s["results"] for s in body["response"]["resultSets"] if s["id"] == name)


def test_a_persons_variants_are_those_with_an_alt_allele(beacon):
    dosage = beacon.small.genotypes["precimed"][:, 0]  # variants x samples -> person 0
    beacon.controlled()
    body = beacon.client.get(P + f"/individuals/{FIRST}/g_variants",
                             params={"requestedGranularity": "record", "limit": 100}).json()
    records = _results(body, "precimed")
    carried = [f"{v.chrom}-{v.pos}-{v.ref}-{v.alt}"
               for v, d in zip(VARIANTS.itertuples(), dosage, strict=True) if d > 0]
    assert carried and [r["variantInternalId"] for r in records] == carried
    zygosity = {r["variantInternalId"]: r["caseLevelData"][0]["zygosity"]["label"]
                for r in records}
    for variant_id, d in zip(carried, dosage[dosage > 0], strict=True):
        assert zygosity[variant_id] == ("homozygous" if d == 2 else "simple heterozygous")
    assert all(r["caseLevelData"][0]["individualId"] == FIRST for r in records)
    assert dataset(body, "1000G")["count"] == 0  # the pseudonym is not a 1000G sample
    same = beacon.client.get(P + f"/biosamples/{FIRST}-gt/g_variants",
                             params={"requestedGranularity": "record", "limit": 100}).json()
    assert [r["variantInternalId"] for r in _results(same, "precimed")] == carried


def test_a_registered_caller_learns_nothing_of_one_participants_variants(beacon):
    r = beacon.client.get(P + f"/individuals/{FIRST}/g_variants", headers=beacon.registered,
                          params={"requestedGranularity": "count"})
    precimed = dataset(r.json(), "precimed")
    assert precimed["exists"] is False and precimed.get("count", 0) == 0
    reference = beacon.client.get(P + "/individuals/HG00001/g_variants",
                                  headers=beacon.registered,
                                  params={"requestedGranularity": "count"}).json()
    carried = int((beacon.small.genotypes["1000G"][:, 1] > 0).sum())
    assert carried > 0 and dataset(reference, "1000G")["count"] == carried  # public data


def test_the_carriers_of_a_variant_are_its_individuals_and_biosamples(beacon):
    carriers = beacon.small.participants["sample_id"][
        beacon.small.genotypes["precimed"][1] > 0].tolist()
    assert len(carriers) == 3
    beacon.controlled()
    people = beacon.client.get(P + "/g_variants/1-55052000-C-T/individuals",
                               params={"requestedGranularity": "record",
                                       "datasetIds": "precimed"}).json()
    assert [x["id"] for x in _results(people, "precimed")] == carriers
    samples = beacon.client.get(P + "/g_variants/1-55052000-C-T/biosamples",
                                params={"requestedGranularity": "record",
                                        "datasetIds": "precimed"}).json()
    assert [x["individualId"] for x in _results(samples, "precimed")] == carriers
    absent = beacon.client.get(P + "/g_variants/1-1-A-T/individuals").json()
    assert absent["responseSummary"]["exists"] is False


def test_a_cohorts_individuals_are_its_members_and_unknown_cohorts_are_not_found(beacon):
    beacon.controlled()
    body = beacon.client.get(P + "/cohorts/DC-LUNG/individuals",
                             params={"requestedGranularity": "record", "limit": 100}).json()
    members = beacon.small.participants["sample_id"][150:].tolist()  # DC-LUNG: the last 10
    assert [x["id"] for x in _results(body, "precimed")] == members
    assert dataset(body, "1000G")["count"] == 0
    for path in ("/cohorts/NOPE/individuals", "/cohorts/NOPE/filtering_terms"):
        r = beacon.client.get(P + path)
        assert r.status_code == 404 and r.json()["error"]["kind"] == "not_found"


@pytest.mark.parametrize("path", ["individuals", "biosamples", "g_variants", "cohorts",
                                  "datasets"])
def test_filtering_terms_are_not_taken_for_an_entry_id(beacon, path):
    r = beacon.client.get(P + f"/{path}/filtering_terms")
    assert r.status_code == 200 and "filteringTerms" in r.json()["response"]


def test_records_carry_frequencies_only_while_the_home_has_a_summary(beacon):
    summary = beacon.client.app.state.platform.settings.home / "reference"
    beacon.controlled()
    params = {**COMMON, "requestedGranularity": "record"}
    record = _results(beacon.client.get(P + "/g_variants", params=params).json(),
                      "1000G")[0]
    sources = [e["sourceReference"] for e in record["frequencyInPopulations"]]
    assert sources == [f"http://testserver{P}/datasets/precimed",
                       f"http://testserver{P}/datasets/1000G"]
    summary.rename(summary.with_name("reference-away"))
    try:
        bare = _results(beacon.client.get(P + "/g_variants", params=params).json(), "1000G")
    finally:
        summary.with_name("reference-away").rename(summary)
    assert bare and "frequencyInPopulations" not in bare[0]


# -- absent and hidden look the same (issue 14 (i)) ----------------------------------------
MADE_UP = "0" * 64  # no participant has this pseudonym


def _without_request(body: dict) -> dict:
    """The answer without the echo of the request (which names what was asked)."""
    return {k: v for k, v in body.items() if k != "meta"} | {
        "returned": body["meta"]["returnedGranularity"]}


@pytest.mark.parametrize("granularity", ["boolean", "count"])
def test_a_real_pseudonym_answers_as_a_made_up_one(beacon, granularity):
    params = {"requestedGranularity": granularity}
    real, fake = (beacon.client.get(P + f"/individuals/{who}", headers=beacon.registered,
                                    params=params).json() for who in (FIRST, MADE_UP))
    assert _without_request(real) == _without_request(fake)
    assert real["responseSummary"] == {"exists": False}


def test_a_variant_with_a_few_carriers_answers_as_one_with_none(beacon):
    params = {"requestedGranularity": "count", "datasetIds": "precimed"}
    few, none = (beacon.client.get(P + f"/g_variants/{variant}/individuals",
                                   headers=beacon.registered, params=params).json()
                 for variant in ("1-55052000-C-T", "1-1-A-T"))  # 3 carriers, and none
    assert _without_request(few) == _without_request(none)
    rare, absent = (beacon.client.get(P + "/g_variants", headers=beacon.registered,
                                      params={**params, **variant}).json()
                    for variant in (RARE, {"referenceName": "1", "start": "1",
                                           "alternateBases": "T"}))
    assert _without_request(rare) == _without_request(absent)


def test_a_filtered_count_is_protected_with_its_complement(beacon):
    """28 carriers of X-5000000-G-A, 20 of them from the east: published together, the
    8 carriers from elsewhere would follow by subtraction."""
    params = {"requestedGranularity": "count", "datasetIds": "precimed"}
    path = P + "/g_variants/X-5000000-G-A/individuals"
    carriers = beacon.small.genotypes["precimed"][4] > 0
    east = beacon.small.participants["native_province"].isin(["31", "32"]).to_numpy()
    assert (carriers.sum(), (carriers & east).sum()) == (28, 20)
    every = beacon.client.get(path, headers=beacon.registered, params=params).json()
    eastern = beacon.client.get(path, headers=beacon.registered,
                                params={**params, "filters": "region:east"}).json()
    shown = [dataset(b, "precimed").get("count") for b in (every, eastern)]
    assert None in shown or not 0 < shown[0] - shown[1] < THRESHOLD, shown
    assert "numTotalResults" not in eastern["responseSummary"]
