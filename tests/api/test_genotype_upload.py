"""Genotypes uploaded through the API (VCF + sample sheet), on SQLite and PostgreSQL: a
good VCF passes the gate and is published to the store and the lake and scored on the
centre's scorecard; another centre's manager gets the answer of a missing centre and a
researcher 403; a VCF sample missing from the sheet fails the job, naming the sample, and
publishes nothing; a file that is not a VCF is refused at once. After each failure the
server answers as before. Participants and genotypes are simulated (HWE-consistent)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from genotyped import enrol, resident_ids, sheet_text, vcf_text
from platform_home import PASSWORD, settings_for, signed_in
from precimed.api.app import create_app
from precimed.genomics import GenotypeStore
from precimed.home import initialise
from precimed.lake import Lake
from precimed.ops import accounts, audit

N, M = 40, 150  # samples, variants


SAMPLES = [f"LAB{i:04d}" for i in range(N)]
IDS = resident_ids(N)


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, tmp_path):
    """An empty home with SH01's participants enrolled, served by the real app; managers
    of SH01 and JS01 and a researcher."""
    url = "" if request.param == "sqlite" else request.getfixturevalue("postgres_server")()
    settings = settings_for(tmp_path / "home", url)
    initialise(settings)
    enrol(settings, IDS, centre="SH01")
    app = create_app(settings)
    ops = app.state.platform.ops
    accounts.create_user(ops, "dm_sh01", PASSWORD, roles=["data_manager"], centres=["SH01"])
    accounts.create_user(ops, "dm_js01", PASSWORD, roles=["data_manager"], centres=["JS01"])
    accounts.create_user(ops, "researcher", PASSWORD, roles=["researcher"], centres=[])
    yield app
    app.state.platform.close()


def upload(client: TestClient, vcf: str | bytes, sheet: str, *, name: str = "sh01.vcf",
           **form):
    return client.post("/api/v1/genotypes",
                       data={"centre": "SH01", "build": "GRCh38", **form},
                       files={"vcf": (name, vcf, "application/octet-stream"),
                              "sheet": ("samples.csv", sheet, "text/csv")})


def wait(client: TestClient, job: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/jobs/{job}").json()
        if state["status"] in {"done", "failed"}:
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job} did not finish: {state}")


def published_state(app) -> tuple:
    """What a failed upload must leave as it was: the store's metadata, the lake's
    catalog version and its assay and variant_summary rows."""
    settings = app.state.platform.settings
    store = settings.genotypes_dir / "store.json"
    snapshot = Lake(settings.lake_dir).snapshot()
    return (store.read_text() if store.exists() else None,
            Lake(settings.lake_dir).catalog().version,
            snapshot.count("assay"), snapshot.count("variant_summary"))


def still_serving(client: TestClient) -> None:
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.get("/api/v1/qc/scorecard", params={"centre": "SH01"}).status_code == 200


def uploads_removed(app) -> None:
    folder = Path(app.state.platform.settings.cache_dir) / "uploads"
    assert not folder.exists() or not any(folder.iterdir())


def test_a_good_vcf_is_published_to_the_store_and_the_lake_and_scored(served):
    client = signed_in(served, "dm_sh01")
    r = upload(client, vcf_text(SAMPLES, variants=M, seed=1), sheet_text(SAMPLES, IDS))
    assert r.status_code == 202, r.text
    assert r.json()["dataset"] == "sh01-genotypes"
    state = wait(client, r.json()["job"])
    assert state["status"] == "done" and state["kind"] == "genotypes", state
    result = state["result"]
    assert result["verdict"] in {"pass", "pass_with_warnings"} and result["published"], result
    assert (result["samples"], result["variants"]) == (N, M)
    assert any("publishing" in line for line in state["progress"]), state["progress"]

    settings = served.state.platform.settings
    store = GenotypeStore.open(settings.genotypes_dir)
    assert len(store.samples("sh01-genotypes")) == N and len(store.variants()) == M
    lake = Lake(settings.lake_dir).snapshot()
    assert lake.count("variant_summary") == M
    assays = lake.to_arrow("assay", columns=["assay_id", "centre", "assay_type"]).to_pandas()
    assert sorted(assays["assay_id"]) == SAMPLES
    assert set(assays["centre"]) == {"SH01"} and set(assays["assay_type"]) == {"genotype_array"}

    card = client.get("/api/v1/qc/scorecard", params={"centre": "SH01"}).json()
    scored = [row for row in card if row["kind"] == "genotype"]
    assert [row["id"] for row in scored] == [result["scoring_id"]]
    assert scored[0]["verdict"] == result["verdict"]
    uploads_removed(served)
    uploaded = audit.events(served.state.platform.ops, action="genotypes.upload")
    assert len(uploaded) == 1 and uploaded[0].actor == "dm_sh01"
    assert uploaded[0].detail["samples"] == N and uploaded[0].detail["centre"] == "SH01"

    # another VCF into the same dataset is refused at once unless replace is asked for
    again = upload(client, vcf_text(SAMPLES, variants=M, seed=3), sheet_text(SAMPLES, IDS))
    assert again.status_code == 409 and "replace" in again.json()["error"]["hint"].lower()
    swapped = upload(client, vcf_text(SAMPLES, variants=M, seed=2), sheet_text(SAMPLES, IDS),
                     replace="true")
    assert swapped.status_code == 202, swapped.text
    assert wait(client, swapped.json()["job"])["result"]["published"]
    assert Lake(settings.lake_dir).snapshot().count("variant_summary") == M


def test_other_centres_and_roles_are_refused(served):
    before = published_state(served)
    other = upload(signed_in(served, "dm_js01"), vcf_text(SAMPLES, variants=M, seed=1),
                   sheet_text(SAMPLES, IDS))
    assert other.status_code == 404, other.text  # as for a centre that does not exist
    missing = upload(signed_in(served, "dm_sh01"), vcf_text(SAMPLES, variants=M, seed=1),
                     sheet_text(SAMPLES, IDS), centre="XX99")
    assert missing.status_code == 404 and missing.json() == {
        "error": {**other.json()["error"]}}
    researcher = upload(signed_in(served, "researcher"), vcf_text(SAMPLES, variants=M, seed=1),
                        sheet_text(SAMPLES, IDS))
    assert researcher.status_code == 403
    assert researcher.json()["error"]["kind"] == "forbidden"
    # a dataset named for another centre cannot be written (nor replaced) by this one
    named = upload(signed_in(served, "dm_sh01"), vcf_text(SAMPLES, variants=M, seed=1),
                   sheet_text(SAMPLES, IDS), dataset="js01-genotypes", replace="true")
    assert named.status_code == 400 and named.json()["error"]["where"] == "dataset"
    assert published_state(served) == before
    uploads_removed(served)


def test_a_sample_missing_from_the_sheet_fails_the_job_and_publishes_nothing(served):
    client = signed_in(served, "dm_sh01")
    before = published_state(served)
    r = upload(client, vcf_text([*SAMPLES, "LAB9999"], variants=M, seed=3),
               sheet_text(SAMPLES, IDS))
    assert r.status_code == 202, r.text
    state = wait(client, r.json()["job"])
    assert state["status"] == "failed" and state["result"] is None, state
    error = state["error"]
    assert error["kind"] == "invalid_input" and "LAB9999" in error["what"], error
    assert error["where"] == "sh01.vcf, sample LAB9999", error  # the user's file name
    assert "sheet" in error["hint"], error
    assert "Traceback" not in str(error)
    assert published_state(served) == before
    card = client.get("/api/v1/qc/scorecard", params={"centre": "SH01"}).json()
    assert not [row for row in card if row["kind"] == "genotype"]  # never scored
    uploads_removed(served)
    still_serving(client)


@pytest.mark.parametrize(("vcf", "name", "where", "message"), [
    ("sample_id,resident_id\nLAB0000,1\n", "sh01.vcf", "vcf", "not a vcf"),
    (b"\x1f\x8b\x08\x00 not really gzip", "sh01.vcf.gz", "vcf", "not a vcf"),
    (b"", "sh01.vcf", "vcf", "empty"),
    ("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n", "none.vcf",
     "vcf", "no samples"),
])
def test_a_file_that_is_not_a_vcf_is_refused_clearly(served, vcf, name, where, message):
    client = signed_in(served, "dm_sh01")
    before = published_state(served)
    r = upload(client, vcf, sheet_text(SAMPLES, IDS), name=name)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert message in error["what"].lower() and error["where"] == where and error["hint"]
    assert published_state(served) == before
    uploads_removed(served)
    still_serving(client)


@pytest.mark.parametrize(("form", "where"), [
    ({"build": "hg18"}, "build"),
    ({"assay_type": "tarot"}, "assay_type"),
    ({"dataset": "sh01-../../x"}, "dataset"),
])
def test_bad_form_fields_are_refused_before_anything_is_kept(served, form, where):
    client = signed_in(served, "dm_sh01")
    r = upload(client, vcf_text(SAMPLES, variants=M, seed=1), sheet_text(SAMPLES, IDS), **form)
    assert r.status_code == 400 and r.json()["error"]["where"] == where, r.text
    uploads_removed(served)
    still_serving(client)
