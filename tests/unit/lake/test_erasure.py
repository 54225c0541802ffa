"""Erasure: the rows leave the current state at once and the files after retention
(precimed.lake.erasure)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from deltalake import DeltaTable

from lake_rows import commit, participants
from precimed.errors import NotFound
from precimed.lake import Lake
from precimed.lake.erasure import erase, vacuum

B = "b7" * 16  # a pseudonym: 32 hex digits


@pytest.fixture
def lake(tmp_path) -> Lake:
    lake = Lake.create(tmp_path / "lake")
    commit(lake, participants(["a", B, "c"]), "d1")
    lake.create_release("r1")
    return lake


def held_anywhere(lake: Lake, pseudonym: str) -> bool:
    """Whether any Parquet file under the lake still holds ``pseudonym``."""
    files = [str(p) for p in Path(lake.root).rglob("*.parquet")]
    found = duckdb.sql("SELECT count(*) FROM read_parquet($files, union_by_name = true) "
                       "WHERE pseudonym = $p", params={"files": files, "p": pseudonym})
    return found.fetchone()[0] > 0


def test_an_erased_person_leaves_the_current_state_and_the_next_release(lake):
    erasure = erase(lake, [B], centre="SH01")
    assert erasure.people == 1 and erasure.rows_removed["participant"] == 1
    assert B not in lake.catalog_path.read_text()  # the erasure records no identifier
    lake.create_release("r2")
    assert lake.snapshot("r2").including_withdrawn().count("participant") == 2
    assert lake.snapshot().including_withdrawn().count("participant") == 2
    # the older release still reads its files until the vacuum, and is marked
    assert lake.snapshot("r1").count("participant") == 3
    from precimed.lake.consent import withdrawn_since_each
    assert withdrawn_since_each(lake) == {"r1": 1, "r2": 0}


def test_another_centre_or_an_unknown_person_is_not_found_and_nothing_changes(lake):
    version = lake.catalog().version
    with pytest.raises(NotFound):
        erase(lake, [B], centre="JS01")
    with pytest.raises(NotFound):
        erase(lake, ["nobody"])
    assert lake.catalog().version == version


def test_the_vacuum_deletes_the_files_after_retention_and_retires_older_releases(lake):
    erased = erase(lake, [B])
    lake.create_release("r2")
    at = dt.datetime.fromisoformat(erased.erased_at)
    assert sum(vacuum(lake, retention=dt.timedelta(days=30), at=at).values()) == 0
    assert held_anywhere(lake, B)  # within the retention period
    deleted = vacuum(lake, retention=dt.timedelta(days=30), at=at + dt.timedelta(days=31))
    assert deleted["participant"] >= 1
    assert not held_anywhere(lake, B)
    assert lake.snapshot("r2").count("participant") == 2  # later releases unharmed
    assert DeltaTable(lake.table_path("participant")).to_pyarrow_table().num_rows == 2
    with pytest.raises(NotFound, match="can no longer be read"):
        lake.snapshot("r1")
    assert lake.catalog().erasures[0].vacuumed_at
