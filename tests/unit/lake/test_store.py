from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from lake_rows import commit, participants
from precimed.errors import Conflict, NotFound, UserError
from precimed.lake import Lake
from precimed.standard import STANDARD_VERSION


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake.create(tmp_path / "lake")


def test_new_lake_has_every_table_empty_at_catalog_version_zero(lake):
    catalog = lake.catalog()
    assert catalog.version == 0 and catalog.standard_version == STANDARD_VERSION
    assert all(lake.snapshot().count(t) == 0 for t in catalog.tables)
    with pytest.raises(Conflict):
        Lake.create(lake.root)


def test_commit_appends_new_keys_updates_changed_rows_and_skips_identical(lake):
    _, changed = commit(lake, participants(["a", "b"]), "d1")
    assert changed and lake.snapshot().count("participant") == 2
    _again, changed = commit(lake, participants(["a", "b"]), "d1")
    assert not changed and lake.catalog().version == 1
    committed, _ = commit(lake, pa.concat_tables([participants(["a"]),
                                                  participants(["b"], sex="2"),
                                                  participants(["c"])]), "d2")
    assert committed.rows_added == {"participant": 1}
    assert committed.rows_updated == {"participant": 1}
    rows = lake.snapshot().to_arrow("participant").sort_by("pseudonym").to_pylist()
    assert [(r["pseudonym"], r["sex"]) for r in rows] == [("a", "1"), ("b", "2"), ("c", "1")]


def test_an_earlier_package_resubmitted_after_a_correction_restores_its_values(lake):
    """Idempotency compares with the lake as it is, not with every digest ever seen."""
    commit(lake, participants(["a", "b"]), "A")
    commit(lake, participants(["a", "b"], sex="2"), "B")
    committed, changed = commit(lake, participants(["a", "b"]), "A")
    assert changed and committed.rows_updated == {"participant": 2}
    rows = lake.snapshot().to_arrow("participant").to_pylist()
    assert {r["sex"] for r in rows} == {"1"}
    assert lake.catalog().submissions["A"].catalog_version == lake.catalog().version
    _, changed = commit(lake, participants(["a", "b"]), "A")  # twice in a row: a no-op
    assert not changed and lake.catalog().version == 3


def test_release_is_frozen_while_the_lake_moves_on(lake):
    commit(lake, participants(["a"]), "d1")
    lake.create_release("r1")
    commit(lake, participants(["b"]), "d2")
    assert lake.snapshot("r1").count("participant") == 1
    assert lake.snapshot().count("participant") == 2
    with pytest.raises(Conflict):
        lake.create_release("r1")
    with pytest.raises(NotFound, match="r2"):
        lake.snapshot("r2")


def test_versions_past_the_catalog_are_invisible_and_rolled_back(lake):
    commit(lake, participants(["a"]), "d1")
    # a writer that died after writing a table but before the catalog
    write_deltalake(lake.table_path("participant"), participants(["ghost"]).select(
        lake.snapshot().to_arrow("participant").schema.names).cast(
        lake.snapshot().to_arrow("participant").schema), mode="append")
    assert lake.snapshot().count("participant") == 1
    commit(lake, participants(["b"]), "d2")
    names = set(lake.snapshot().to_arrow("participant").column("pseudonym").to_pylist())
    assert names == {"a", "b"}
    latest = DeltaTable(lake.table_path("participant")).to_pyarrow_table()
    assert "ghost" not in latest.column("pseudonym").to_pylist()


def test_snapshot_connects_duckdb_over_the_release(lake):
    commit(lake, participants(["a", "b", "c"]), "d1")
    con = lake.snapshot().connect()
    assert con.table("participant").count().execute() == 3
    assert con.table("measurement").count().execute() == 0


def test_a_release_database_is_built_once_and_stays_frozen(lake, tmp_path):
    commit(lake, participants(["a", "b", "c"]), "d1")
    lake.create_release("r1")
    commit(lake, participants(["d"]), "d2")
    con = lake.snapshot("r1").database(tmp_path / "cache")
    assert con.table("participant").count().execute() == 3
    assert con.table("measurement").count().execute() == 0
    con.disconnect()
    built = (tmp_path / "cache" / "r1.duckdb").stat().st_mtime_ns
    again = lake.snapshot("r1").database(tmp_path / "cache")
    assert again.table("participant").count().execute() == 3
    assert (tmp_path / "cache" / "r1.duckdb").stat().st_mtime_ns == built
    with pytest.raises(UserError):
        lake.snapshot().database(tmp_path / "cache")


BUILD_AND_COUNT = """
import sys, time
from precimed.lake import Lake
lake, cache, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
time.sleep(max(0.0, start - time.time()))  # all three ask for the copy at the same moment
con = Lake(lake).snapshot("r1").database(cache)
print(con.table("participant").count().execute(), con.list_tables())
"""


@pytest.mark.slow
def test_processes_building_one_release_copy_at_once_all_read_the_finished_copy(lake, tmp_path):
    """Three processes (server workers, CLI commands) open a new release at once: one builds
    the copy while the others wait, and all of them then count from the finished copy (they
    used to share one '.building' file and leave a copy missing tables)."""
    import os
    import subprocess
    import sys
    import time

    commit(lake, participants([f"p{i}" for i in range(500)]), "d1")
    lake.create_release("r1")
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    start = time.time() + 6  # after the three have imported precimed, even on a busy machine
    runs = [subprocess.Popen([sys.executable, "-c", BUILD_AND_COUNT, str(lake.root), str(cache),
                              str(start)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [err for _, err in outputs]
    assert len({out for out, _ in outputs}) == 1, outputs
    assert outputs[0][0].startswith("500 ")
    assert sorted(p.name for p in cache.iterdir()) == [".r1.duckdb.lock", "r1.duckdb"]
    assert Lake(lake.root).snapshot("r1").database(cache).table("participant").count(
        ).execute() == 500


def test_a_release_records_its_data_cut_and_keeps_it_as_the_lake_moves_on(lake):
    commit(lake, participants(["a"]), "d1")
    release = lake.create_release("r1")
    assert release.data_cut == "2019-01-01"  # the latest observation date (enrolment)
    later = participants(["b"]).set_column(
        7, "enrolment_date", pa.array([dt.date(2020, 6, 30)], pa.date32()))
    commit(lake, later, "d2")
    assert lake.snapshot("r1").data_cut == dt.date(2019, 1, 1)
    assert lake.snapshot("r1").as_of() == dt.date(2019, 1, 1)
    assert lake.snapshot("r1").as_of(dt.date(2019, 6, 1)) == dt.date(2019, 6, 1)
    assert lake.snapshot().data_cut == dt.date(2020, 6, 30)  # the lake as it is
    given = lake.create_release("r2", data_cut=dt.date(2020, 12, 31))
    assert lake.snapshot("r2").data_cut == dt.date(2020, 12, 31) == \
        dt.date.fromisoformat(given.data_cut)


def test_a_release_made_before_cuts_were_recorded_reads_its_cut_from_its_tables(lake):
    import json

    commit(lake, participants(["a"]), "d1")
    lake.create_release("old")
    data = json.loads(lake.catalog_path.read_text())
    del data["releases"]["old"]["data_cut"]  # the catalog as older versions wrote it
    lake.catalog_path.write_text(json.dumps(data))
    later = participants(["b"]).set_column(
        7, "enrolment_date", pa.array([dt.date(2020, 6, 30)], pa.date32()))
    commit(lake, later, "d2")
    assert lake.catalog().releases["old"].data_cut == ""
    assert lake.snapshot("old").data_cut == dt.date(2019, 1, 1)  # never today


def test_an_empty_lake_has_no_data_cut_and_a_future_one_is_refused(lake):
    assert lake.snapshot().data_cut is None
    with pytest.raises(NotFound, match="no dated data"):
        lake.snapshot().as_of()
    assert lake.create_release("empty").data_cut == ""
    with pytest.raises(UserError, match="after its creation day"):
        lake.create_release("r1", data_cut=dt.date.today() + dt.timedelta(days=2))
