"""The Beacon's data-use conditions come from the catalogue: a genotype dataset whose
entry has DUO conditions answers them in ``dataUseConditions`` (valid against the Beacon
v2 schemas), and a change of conditions reaches the running Beacon without a restart;
a dataset without an entry keeps the default of its kind."""

from __future__ import annotations

import datetime as dt
import time

from fastapi.testclient import TestClient

from precimed.api.app import create_app
from precimed.home import initialise
from precimed.ops import OpsDatabase, accounts
from precimed.ops.db import CatalogueEntry
from precimed.settings import load_settings
from precimed.sharing import catalogue
from unit.reference.small_store import build_small_store
from validation.test_beacon_schemas import check, framework

P = "/api/beacon/v2"


def _conditions(client: TestClient) -> dict[str, list[str]]:
    body = client.get(P + "/datasets").json()
    return {d["id"]: [c["id"] for c in d.get("dataUseConditions", {}).get("duoDataUse", [])]
            for d in body["response"]["collections"]}


def _eventually(client: TestClient, dataset: str, wanted: list[str]) -> dict:
    deadline = time.monotonic() + 30  # the live source looks every 2 s, builds behind
    while (seen := _conditions(client))[dataset] != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
    return seen


def _entry(ops: OpsDatabase) -> None:
    now = dt.datetime.now(dt.UTC)
    with ops.session() as session, session.begin():
        session.add(CatalogueEntry(
            id="genotype-precimed", kind="genotype", release=None, cohort=None,
            genotype_dataset="precimed", title_zh="基因型数据集", title_en="Genotypes",
            centres=[], access_tier="controlled", variables=["genotype"], participants=160,
            counts={}, conditions_version=0, created_by="test", created_at=now,
            updated_at=now))


def test_the_beacon_answers_the_catalogue_entrys_conditions(tmp_path):
    settings = load_settings({"home": tmp_path / "home"}, environ={})
    initialise(settings)
    build_small_store(settings.genotypes_dir)
    ops = OpsDatabase(settings.database_url)
    admin = accounts.create_user(ops, "admin", "correct-horse-battery", roles=["admin"])
    admin = accounts.principal_for(ops, admin.username)
    _entry(ops)
    with TestClient(create_app(settings)) as client:
        before = _conditions(client)
        assert before == {"precimed": ["DUO:0000006"], "1000G": ["DUO:0000042"]}

        catalogue.set_conditions(ops, "genotype-precimed", ["DS:I21", "NCU", "IRB"],
                                 principal=admin)
        seen = _eventually(client, "precimed", ["DUO:0000007", "DUO:0000046", "DUO:0000021"])
        assert seen == {"precimed": ["DUO:0000007", "DUO:0000046", "DUO:0000021"],
                        "1000G": ["DUO:0000042"]}
        body = client.get(P + "/datasets").json()
        check(framework("responses/beaconCollectionsResponse.json"), body)
        labels = [c["label"] for d in body["response"]["collections"] if d["id"] == "precimed"
                  for c in d["dataUseConditions"]["duoDataUse"]]
        assert labels[0] == "disease specific research: I21"
    ops.dispose()
