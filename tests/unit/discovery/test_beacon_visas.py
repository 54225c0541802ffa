"""The Beacon's controlled tier follows approvals: a researcher whose active project was
approved for the participant callset gets record-level answers for it (through a GA4GH
ControlledAccessGrants visa), and loses them when the project is revoked."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from precimed.ops.db import AccessRequest, CatalogueEntry
from projects_home import make_project
from unit.discovery.beacon_app import build_beacon_app

P = "/api/beacon/v2"


@pytest.fixture(scope="module")
def beacon(tmp_path_factory):
    app = build_beacon_app(tmp_path_factory.mktemp("beacon-visas"), with_summary=False)
    yield app
    app.client.close()


def _granularity(beacon) -> str:
    r = beacon.client.get(P + "/individuals", headers=beacon.registered,
                          params={"requestedGranularity": "record", "datasetIds": "precimed"})
    assert r.status_code == 200, r.text
    return r.json()["meta"]["returnedGranularity"]


def test_an_active_approval_opens_record_level_and_revocation_closes_it(beacon):
    ops = beacon.client.app.state.platform.ops
    assert _granularity(beacon) == "count"  # registered: counts only
    now = dt.datetime.now(dt.UTC)
    ops.add(CatalogueEntry(
        id="genotype-precimed", kind="genotype", release=None, cohort=None,
        genotype_dataset="precimed", title_zh="基因型", title_en="genotypes",
        description_zh="", description_en="", centres=["SH01"], access_tier="controlled",
        embargo_until=None, variables=["genotype"], participants=160, counts={},
        conditions_version=0, created_by="test", created_at=now, updated_at=now))
    project = make_project(ops, None, on=dt.date.today(), applicant="researcher",
                           entry="genotype-precimed")
    passport = beacon.client.get("/api/v1/passport", headers=beacon.registered).json()
    assert len(passport["ga4gh_passport_v1"]) == 1
    assert _granularity(beacon) == "record"
    with ops.session() as session, session.begin():
        session.execute(update(AccessRequest).where(AccessRequest.id == project)
                        .values(status="revoked"))
    assert _granularity(beacon) == "count"
