"""Withdrawn consent on every read of the lake (precimed.lake.consent)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lake_rows import commit, participants
from precimed.lake import Lake
from precimed.lake.consent import withdrawn_since, withdrawn_since_each
from precimed.standard import vocabulary


@pytest.fixture
def lake(tmp_path) -> Lake:
    lake = Lake.create(tmp_path / "lake")
    commit(lake, participants(["a", "b", "c"]), "d1")
    lake.create_release("r1")
    # b withdraws: the centre resubmits b's row with consent_scope = withdrawn
    commit(lake, participants(["b"], scope="withdrawn"), "d2")
    lake.create_release("r2")
    return lake


def people(data: pa.Table) -> set[str]:
    return set(data.column("pseudonym").to_pylist())


def test_the_scope_codes_keep_the_old_ones_and_add_no_genetic():
    codes = vocabulary("consent_scope").codes
    assert {"broad", "specific", "withdrawn", "disease_specific", "no_genetic"} <= set(codes)
    assert all(zh and en for zh, en in codes.values())


def test_a_release_after_the_withdrawal_leaves_the_person_out_of_every_read(lake, tmp_path):
    r2 = lake.snapshot("r2")
    assert people(r2.to_arrow("participant")) == {"a", "c"}
    assert r2.count("participant") == 2
    con = r2.connect()
    assert con.table("participant").count().execute() == 2
    assert "b" not in con.table("participant").pseudonym.to_pyarrow().to_pylist()
    con.disconnect()
    db = r2.database(tmp_path / "cache")
    assert db.table("participant").count().execute() == 2
    db.disconnect()
    # the live lake too (dashboards, follow-up work lists)
    assert lake.snapshot().count("participant") == 2


def test_an_older_release_stays_frozen_but_is_marked_and_gives_no_extract_of_them(lake):
    r1 = lake.snapshot("r1")
    assert r1.count("participant") == 3  # frozen: its counts do not change
    assert withdrawn_since(lake, "r1") == {"b"}
    assert withdrawn_since_each(lake) == {"r1": 1, "r2": 0}
    extract = lake.extract_snapshot("r1").connect()
    assert set(extract.table("participant").pseudonym.to_pyarrow().to_pylist()) == {"a", "c"}
    extract.disconnect()


def test_the_raw_view_keeps_everyone_for_ingest_and_qc(lake):
    raw = lake.snapshot().including_withdrawn()
    scopes = raw.to_arrow("participant", columns=["pseudonym", "consent_scope"])
    assert people(scopes) == {"a", "b", "c"}
    assert pc.count_distinct(scopes["consent_scope"]).as_py() == 2
