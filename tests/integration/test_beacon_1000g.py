"""The 1000 Genomes Phase 3 subset (the test VCF of beacon2-cbi-tools) ingested as a
reference dataset into a platform home and queried through the platform's own Beacon v2
by an anonymous caller: answers validate against the official schemas; a g_variants count
is the number of matching variant records (Beacon v2 semantics), here one, whose carriers
in the store equal those read straight from the VCF with cyvcf2. With the reference
summary written into the home, a record-level answer carries frequencyInPopulations equal
to the allele frequencies the consortium wrote in the VCF's INFO fields."""

from __future__ import annotations

from pathlib import Path

import cyvcf2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from platform_home import settings_for
from precimed.api.app import create_app
from precimed.api.routes import beacon
from precimed.deid import Policy
from precimed.genomics import GenotypeStore
from precimed.genomics.vcf import ingest_reference
from precimed.home import initialise
from precimed.reference.frequencies import write_summary
from unit.discovery.beacon_app import ControlledPrincipal
from validation.test_beacon_schemas import check, framework, model

DATA = Path(__file__).parents[1] / "validation" / "data"
VCF = DATA / "genomics_1kg_chr1.vcf.gz"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("beacon") / "home"
    settings = settings_for(home)
    initialise(settings)
    ingest_reference(VCF, settings.genotypes_dir, dataset="1kg-phase3", build="GRCh37",
                     panel=DATA / "genomics_1kg_panel.tsv")
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, GenotypeStore.open(settings.genotypes_dir)


def _biallelic_common(store: GenotypeStore):
    variants = store.variants()
    g = store.genotypes()
    carriers = (g > 0).sum(axis=0)
    k = int(np.flatnonzero((carriers > 50) & (carriers < 2000))[0])
    return variants.iloc[k], int(carriers[k])


def test_an_anonymous_count_query_is_schema_valid_and_right(served):
    client, store = served
    variant, carriers = _biallelic_common(store)
    r = client.get("/api/beacon/v2/g_variants", params={
        "referenceName": variant.chrom, "start": int(variant.pos) - 1,
        "referenceBases": variant.ref, "alternateBases": variant.alt,
        "assemblyId": "GRCh37", "requestedGranularity": "count"})
    assert r.status_code == 200, r.text
    body = r.json()
    check(framework("responses/beaconCountResponse.json"), body)
    assert body["responseSummary"]["exists"] is True
    assert body["meta"]["returnedGranularity"] == "count"
    # the same count straight from the VCF
    direct = 0
    for record in cyvcf2.VCF(str(VCF)):
        if variant.pos == record.POS and variant.ref == record.REF and variant.alt in record.ALT:
            which = record.ALT.index(variant.alt) + 1
            direct = int((record.genotype.array()[:, :2] == which).any(axis=1).sum())
    assert direct == carriers
    assert body["responseSummary"]["numTotalResults"] == 1


def test_an_absent_variant_is_reported_absent(served):
    client, _ = served
    r = client.get("/api/beacon/v2/g_variants", params={
        "referenceName": "1", "start": 10, "referenceBases": "A", "alternateBases": "T",
        "assemblyId": "GRCh37"})
    assert r.status_code == 200
    assert r.json()["responseSummary"]["exists"] is False


def test_record_level_answers_are_not_given_to_anonymous_callers(served):
    client, store = served
    variant, _ = _biallelic_common(store)
    r = client.get("/api/beacon/v2/g_variants", params={
        "referenceName": variant.chrom, "start": int(variant.pos) - 1,
        "referenceBases": variant.ref, "alternateBases": variant.alt,
        "requestedGranularity": "record"})
    assert r.status_code == 200
    assert r.json()["meta"]["returnedGranularity"] != "record"
    assert "response" not in r.json() or not r.json().get("response", {}).get("resultSets")


def test_the_reference_database_is_searchable_through_the_api(served, tmp_path):
    from precimed.cli.main import main
    from precimed.ops import accounts

    client, store = served
    home = client.app.state.platform.settings.home
    assert main(["--home", str(home), "genomics", "summarise"]) == 0
    accounts.create_user(client.app.state.platform.ops, "reader", "a-long-password-1",
                         roles=["researcher"])
    client.post("/api/v1/auth/login", json={"username": "reader",
                                            "password": "a-long-password-1"})
    variant, _ = _biallelic_common(store)
    q = f"{variant.chrom}-{variant.pos}-{variant.ref}-{variant.alt}"
    r = client.get("/api/v1/reference/search", params={"q": q})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["variants"]) == 1
    overall = [f for f in body["frequencies"] if f["dataset"] == "1kg-phase3"
               and not any(f.get(k) for k in ("super_population", "population", "sex"))]
    for record in cyvcf2.VCF(str(VCF)):
        if variant.pos == record.POS and variant.ref == record.REF and variant.alt in record.ALT:
            info_af = record.INFO.get("AF")
            info_af = info_af[record.ALT.index(variant.alt)] if isinstance(info_af, tuple) \
                else info_af
    assert overall and abs(overall[0]["allele_frequency"] - info_af) <= 5e-4
    assert client.get("/api/v1/reference/search", params={"q": "not a variant!"}
                      ).status_code == 400


# INFO field of the 1000 Genomes phase 3 VCF -> the population a Beacon record names
INFO_POPULATIONS = {"AF": "All", "EAS_AF": "East Asian (EAS)", "EUR_AF": "European (EUR)",
                    "AFR_AF": "African (AFR)", "AMR_AF": "Admixed American (AMR)",
                    "SAS_AF": "South Asian (SAS)"}
AF_TOLERANCE = 5e-4  # the VCF writes frequencies to 4 decimals


def _info_frequencies(variant) -> dict[str, float]:
    for record in cyvcf2.VCF(str(VCF)):
        if variant.pos == record.POS and variant.ref == record.REF and variant.alt in record.ALT:
            which = record.ALT.index(variant.alt)
            values = {field: record.INFO.get(field) for field in INFO_POPULATIONS}
            return {INFO_POPULATIONS[f]: float(v[which] if isinstance(v, tuple) else v)
                    for f, v in values.items()}
    raise AssertionError(f"{variant.chrom}-{variant.pos} is not in the VCF")


def test_a_record_carries_the_consortiums_allele_frequencies(served):
    client, store = served
    home = client.app.state.platform.settings.home
    write_summary(store, home / "reference", policy=Policy(threshold=10))
    variant, _ = _biallelic_common(store)
    steward = ControlledPrincipal(1, "steward", "Steward", ("researcher",), (), "token")
    client.app.dependency_overrides[beacon.caller] = lambda: steward
    try:
        r = client.get("/api/beacon/v2/g_variants", params={
            "referenceName": variant.chrom, "start": int(variant.pos) - 1,
            "referenceBases": variant.ref, "alternateBases": variant.alt,
            "assemblyId": "GRCh37", "requestedGranularity": "record", "limit": 1})
    finally:
        client.app.dependency_overrides.pop(beacon.caller, None)
    assert r.status_code == 200, r.text
    body = r.json()
    check(framework("responses/beaconResultsetsResponse.json"), body)
    record = body["response"]["resultSets"][0]["results"][0]
    check(model("genomicVariant"), record)
    [entry] = record["frequencyInPopulations"]
    served_af = {f["population"]: f["alleleFrequency"] for f in entry["frequencies"]}
    expected = _info_frequencies(variant)
    assert set(expected) <= set(served_af)
    for population, af in expected.items():
        assert abs(served_af[population] - af) <= AF_TOLERANCE, population
    overall = next(f for f in entry["frequencies"] if f["population"] == "All")
    assert overall["alleleNumber"] == 2 * 2504  # every sample called, autosome
