"""Erasure on a synthetic home with genotypes: a data manager of another centre is
refused, the centre's own erases by resident ID through the API, an admin by pseudonym
from the command line; the rows leave every table and the genotype store, a new release
holds none of them, the audit log records no identifier, and after the retention period
`precimed lake vacuum` leaves no file holding them and retires the older release."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from genotyped import sheet_text, vcf_text
from platform_home import PASSWORD, signed_in
from precimed.cli.main import main
from precimed.genomics import GenotypeStore
from precimed.home import initialise
from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.ops import OpsDatabase, accounts, audit
from precimed.settings import load_settings

CENTRE = "SH01"


def held_anywhere(root: Path, pseudonym: str) -> bool:
    files = [str(p) for p in root.rglob("*.parquet")]
    found = duckdb.sql("SELECT count(*) FROM read_parquet($files, union_by_name = true) "
                       "WHERE pseudonym = $p", params={"files": files, "p": pseudonym})
    return found.fetchone()[0] > 0


@pytest.fixture(scope="module")
def erased(clean_packages, tmp_path_factory):
    from fastapi.testclient import TestClient  # noqa: F401  (signed_in uses it)

    from precimed.api.app import create_app
    from precimed.workflows.erasure import pseudonym_of
    from precimed.workflows.genotypes import submit_genotypes

    root = tmp_path_factory.mktemp("erasure")
    (root / "home").mkdir()
    (root / "home" / "precimed.toml").write_text("erasure_retention_days = 0\n")
    home = load_settings({"home": root / "home"}, environ={})
    initialise(home)
    package = clean_packages.packages[CENTRE]
    assert submit(package, home).accepted
    ids = pd.read_csv(package / "participant.csv", dtype=str)["resident_id"].tolist()
    samples = [f"LAB{i:04d}" for i in range(len(ids))]
    (root / "g.vcf").write_text(vcf_text(samples, variants=40, seed=9))
    (root / "s.csv").write_text(sheet_text(samples, ids))
    assert submit_genotypes(home, root / "g.vcf", root / "s.csv", centre=CENTRE,
                            build="GRCh38").published
    assert main(["--home", str(home.home), "release", "create", "r1"]) == 0
    ops = OpsDatabase(home.database_url)
    for name, roles, centres in (("dm_sh01", ["data_manager"], [CENTRE]),
                                 ("dm_js01", ["data_manager"], ["JS01"]),
                                 ("researcher", ["researcher"], [])):
        accounts.create_user(ops, name, PASSWORD, roles=roles, centres=centres)
    ops.dispose()
    first, second = pseudonym_of(home, ids[0]), pseudonym_of(home, ids[1])
    app = create_app(home)
    refused = {}
    for user in ("researcher", "dm_js01"):
        r = signed_in(app, user).post("/api/v1/participants/erase",
                                      json={"identifier": ids[0], "centre": "JS01"})
        refused[user] = r
    own = signed_in(app, "dm_sh01").post("/api/v1/participants/erase",
                                         json={"identifier": ids[0], "centre": CENTRE})
    assert main(["--home", str(home.home), "participants", "erase", second]) == 0
    assert main(["--home", str(home.home), "release", "create", "r2"]) == 0
    return home, len(ids), (first, second), refused, own


@pytest.mark.slow
def test_only_the_centres_own_data_manager_or_an_admin_may_erase(erased):
    home, _, (first, _), refused, own = erased
    assert refused["researcher"].status_code == 403
    assert refused["dm_js01"].status_code == 404  # another centre's person: not found
    assert own.status_code == 200, own.text
    body = own.json()
    assert body["people"] == 1 and body["genotype_samples"] == 1
    assert body["rows_removed"]["participant"] == 1
    ops = OpsDatabase(home.database_url)
    events = audit.events(ops, limit=100, action="erase")
    ops.dispose()
    assert len(events) >= 3 and {e.outcome for e in events} >= {"allow", "deny"}
    assert first not in str([(e.resource, e.detail) for e in events])


@pytest.mark.slow
def test_a_new_release_and_the_genotype_store_hold_none_of_them(erased):
    home, n, people, _, _ = erased
    lake = Lake(home.lake_dir)
    r2 = lake.snapshot("r2").including_withdrawn()
    assert r2.count("participant") == n - 2
    for table in ("participant", "visit", "measurement", "assay"):
        held = set(r2.to_arrow(table, columns=["pseudonym"]).column("pseudonym").to_pylist())
        assert not held & set(people)
    store = GenotypeStore.open(home.genotypes_dir)
    assert not set(store.samples()["sample_id"]) & set(people)
    assert len(store.samples()) == n - 2
    summary = r2.to_arrow("variant_summary", columns=["samples"])
    assert set(summary.column("samples").to_pylist()) == {n - 2}


@pytest.mark.slow
def test_the_vacuum_deletes_their_files_and_retires_the_older_release(erased, capsys):
    home, _, people, _, _ = erased
    lake_root = Path(home.lake_dir)
    assert held_anywhere(lake_root, people[0])  # the old files, until the vacuum
    assert main(["--home", str(home.home), "lake", "vacuum"]) == 0
    assert "retired releases: r1" in capsys.readouterr().out
    assert not any(held_anywhere(lake_root, p) for p in people)
    lake = Lake(home.lake_dir)
    assert lake.snapshot("r2").count("participant") > 0
    assert main(["--home", str(home.home), "lake", "summary", "--release", "r1"]) != 0
