"""A project's extract of a release leaves out the people who withdrew since the release
was made (precimed.lake.Lake.extract_snapshot), as well as those withdrawn in it."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lake_rows import commit, participants
from precimed.deid.project import ProjectKey
from precimed.lake import Lake
from precimed.ops import OpsDatabase, accounts
from precimed.ops.db import CatalogueEntry
from precimed.sharing import requests, workspace
from projects_home import make_project

ON = dt.date(2026, 3, 2)
PEOPLE = [f"{i:032x}" for i in range(30)]


def test_withdrawn_since_the_release_are_not_extracted(home):
    lake = Lake(home.lake_dir)
    commit(lake, participants(PEOPLE), "d1")
    lake.create_release("r1")
    commit(lake, participants(PEOPLE[:1], scope="withdrawn"), "d2")  # after r1
    ops = OpsDatabase(home.database_url)
    ops.create()
    accounts.create_user(ops, "res", "correct-horse-battery", roles=["researcher"])
    now = dt.datetime.now(dt.UTC)
    ops.add(CatalogueEntry(
        id="clinical-r1-np-east", kind="clinical", release="r1", cohort="NP-EAST",
        genotype_dataset=None, title_zh="华东", title_en="East", description_zh="",
        description_en="", centres=["SH01"], access_tier="controlled", embargo_until=None,
        variables=["sex", "enrolment_date"], participants=30, counts={},
        conditions_version=0, created_by="test", created_at=now, updated_at=now))
    project_id = make_project(ops, None, on=ON, applicant="res", entry="clinical-r1-np-east",
                              variables=("sex", "enrolment_date"), definition=None)
    principal = accounts.principal_for(ops, "res")
    project = requests.active_request(ops, project_id, principal=principal, on=ON)
    made = workspace.cut_extract(home, ops, project, principal=principal, on=ON)
    folder = workspace.extract_folder(home, project_id, made["id"])
    ids = set(pd.read_parquet(folder / "data.parquet").project_participant_id)
    key = ProjectKey.load(home.keys_dir, project_id)
    assert key.participant_id(PEOPLE[0]) not in ids
    assert ids == {key.participant_id(p) for p in PEOPLE[1:]}
    ops.dispose()
