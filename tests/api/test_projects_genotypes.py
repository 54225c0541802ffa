"""Genotype extracts of a project over the API, on SQLite and PostgreSQL: the consented
people's genotypes as a VCF named by the project's IDs, for members only, while the
project is active, after the human-genetic-resource rules; a provision; and a genetic
project's clinical extract without the people whose consent forbids genetic research."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io

import pytest

from lake_rows import commit, participants
from platform_home import PASSWORD, signed_in
from precimed.deid.project import ProjectKey
from precimed.lake import Lake
from precimed.ops import accounts, audit
from precimed.ops.db import AccessRequest, CatalogueEntry
from projects_home import genotype_dataset, genotype_entry, make_project

PEOPLE = [f"{i:032x}" for i in range(30)]
NO_GENETIC = PEOPLE[:5]
CONSENTED = PEOPLE[5:]
CLINICAL = "clinical-r1-np-east"
GENOTYPES = "genotype-gt1"


@pytest.fixture
def platform(make_fresh):
    app = make_fresh()
    settings, ops = app.state.platform.settings, app.state.platform.ops
    lake = Lake(settings.lake_dir)
    commit(lake, participants(CONSENTED), "d1")
    commit(lake, participants(NO_GENETIC, scope="no_genetic"), "d2")
    lake.create_release("r1")
    genotype_dataset(settings.genotypes_dir, "gt1", PEOPLE)
    for name in ("researcher", "researcher2"):
        accounts.create_user(ops, name, PASSWORD, roles=["researcher"])
    accounts.create_user(ops, "dac", PASSWORD, roles=["dac"])
    now = dt.datetime.now(dt.UTC)
    ops.add(CatalogueEntry(
        id=CLINICAL, kind="clinical", release="r1", cohort="NP-EAST",
        genotype_dataset=None, title_zh="华东", title_en="East", description_zh="",
        description_en="", centres=["SH01"], access_tier="controlled", embargo_until=None,
        variables=["sex", "enrolment_date"], participants=30, counts={"SH01": 30},
        conditions_version=0, created_by="test", created_at=now, updated_at=now))
    genotype_entry(ops, "gt1", people=30)
    on = settings.action_date

    def project(**changes) -> str:
        return make_project(ops, None, on=on, applicant="researcher", entry=CLINICAL,
                            more=(GENOTYPES,), definition=None,
                            variables=("sex", "enrolment_date", "genotype"), **changes)

    return app, settings, ops, project


@pytest.mark.slow  # a fresh home per test and backend
def test_a_member_cuts_a_genotype_extract_named_by_project_ids(platform):
    app, settings, _, project = platform
    project_id = project()
    client = signed_in(app, "researcher")
    r = client.post(f"/api/v1/projects/{project_id}/extracts", json={"dataset": GENOTYPES})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["kind"] == "genotype" and made["people"] == len(CONSENTED)
    key = ProjectKey.load(settings.keys_dir, project_id)
    expected = sorted(key.participant_id(p) for p in CONSENTED)
    base = f"/api/v1/projects/{project_id}/extracts/{made['id']}"
    vcf = client.get(f"{base}/genotypes.vcf.gz")
    assert vcf.status_code == 200
    header = next(line for line in gzip.decompress(vcf.content).decode().splitlines()
                  if line.startswith("#CHROM"))
    assert header.split("\t")[9:] == expected
    manifest = client.get(f"{base}/manifest.json").json()
    assert manifest["files"]["genotypes.vcf.gz"] == hashlib.sha256(vcf.content).hexdigest()
    assert manifest["request"] == project_id and manifest["release"] == "r1"
    assert client.get(f"{base}/data.csv").status_code == 404  # not a file of this extract
    provisions = signed_in(app, "dac").get("/api/v1/sharing/provisions",
                                           params={"year": settings.action_date.year})
    listed = [p for p in provisions.json()["provisions"] if p["request"] == project_id]
    assert [(p["dataset"], p["genetic"], p["people"]) for p in listed] == [
        (GENOTYPES, True, len(CONSENTED))]
    # the genetic project's clinical extract leaves the no_genetic people out too
    r = client.post(f"/api/v1/projects/{project_id}/extracts", json={"dataset": CLINICAL})
    assert r.status_code == 201, r.text
    rows = csv.DictReader(io.StringIO(client.get(
        f"/api/v1/projects/{project_id}/extracts/{r.json()['id']}/data.csv").text))
    assert sorted(row["project_participant_id"] for row in rows) == expected


@pytest.mark.slow
def test_genotype_extracts_are_refused_to_others_after_expiry_and_without_hgr_records(
        platform):
    app, settings, ops, project = platform
    yesterday = settings.action_date - dt.timedelta(days=1)
    closed = {"expired": project(expires_on=yesterday), "revoked": project(status="revoked")}
    client = signed_in(app, "researcher")
    for word, project_id in closed.items():
        r = client.post(f"/api/v1/projects/{project_id}/extracts",
                        json={"dataset": GENOTYPES})
        assert r.status_code == 403 and word in r.json()["error"]["what"]
    open_one = project()
    r = signed_in(app, "researcher2").post(f"/api/v1/projects/{open_one}/extracts",
                                           json={"dataset": GENOTYPES})
    assert r.status_code == 404
    foreign = project(foreign_party=True)
    r = client.post(f"/api/v1/projects/{foreign}/extracts", json={"dataset": GENOTYPES})
    assert r.status_code == 409, r.text
    assert "filing record" in r.json()["error"]["what"]
    assert not (settings.projects_dir / foreign / "extracts").exists()
    with ops.session() as session, session.begin():
        record = session.get(AccessRequest, foreign)
        record.hgr_filing_number, record.hgr_filing_date = "MOST-1", settings.action_date
        record.hgr_backup_receipt = "B-1"
    r = client.post(f"/api/v1/projects/{foreign}/extracts", json={"dataset": GENOTYPES})
    assert r.status_code == 201, r.text
    denied = [e for e in audit.events(ops, limit=100)
              if e.action == "project.extract" and e.outcome == "deny"]
    assert {e.resource for e in denied} >= {f"project {p}" for p in
                                            (*closed.values(), open_one, foreign)}
