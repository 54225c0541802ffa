"""Active projects (access requests) written straight into a released home's ops
database, as the committee's decision would leave them, for the workspace tests
(importable: pytest's ``pythonpath`` includes tests/)."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select

from precimed.lake import Lake
from precimed.ops.db import AccessRequest, AccessRequestDataset, AccessRequestMember, User
from precimed.sharing import catalogue

EVERYONE = {"format": "precimed-cohort", "version": 1, "name": "everyone", "criteria": []}
VARIABLES = ("age", "enrolment_date", "SBP")


def clinical_entry(ops, lake_dir) -> str:
    """The catalogue entry of r1's largest cohort (published if it is not yet)."""
    snapshot = Lake(lake_dir).snapshot("r1")
    ids = catalogue.publish_release(ops, snapshot, "r1", actor="test")
    return max(ids, key=lambda i: catalogue.entry(ops, i).participants)


def make_project(ops, lake_dir, *, on: dt.date, applicant: str, members: tuple[str, ...] = (),
                 status: str = "active", expires_on: dt.date | None = None,
                 date_handling: str = "shifted", coarsen_allowed: bool = True,
                 variables: tuple[str, ...] = VARIABLES, entry: str | None = None,
                 definition: dict | None = EVERYONE, more: tuple[str, ...] = (),
                 intended_use: dict | None = None, **fields) -> str:
    """An access request as the committee leaves it; ``entry`` names its dataset (else
    r1's largest cohort, published from ``lake_dir``), ``more`` further datasets;
    ``fields`` set other columns of the request (foreign_party, hgr_filing_number...)."""
    entry = entry or clinical_entry(ops, lake_dir)
    today = on  # the date the server judges access on (the home's as-of date)
    now = dt.datetime.now(dt.UTC)
    request_id = secrets.token_hex(8)
    with ops.session() as session, session.begin():
        users = {u.username: u.id for u in session.scalars(select(User))}
        request = {"foreign_party": False, **fields}
        session.add(AccessRequest(
            id=request_id, applicant_id=users[applicant], applicant=applicant,
            status=status, title_zh="血压与心血管事件", title_en="Blood pressure and CVD",
            summary_zh="", summary_en="", institution="Test University",
            intended_use=intended_use or {"purpose": "HMB"}, cohort_definition=definition,
            variables=list(variables), ethics_number="IRB-1", foreign_sponsor=False,
            foreign_detail="", duration_months=12, match={},
            review_round=1, approved_conditions=[], date_handling=date_handling,
            coarsen_allowed=coarsen_allowed, decided_on=today - dt.timedelta(days=30),
            decision_reason="sound plan", active_from=today - dt.timedelta(days=30),
            expires_on=expires_on or today + dt.timedelta(days=365),
            created_at=now, updated_at=now, **request))
        session.flush()
        for dataset in (entry, *more):
            session.add(AccessRequestDataset(request_id=request_id, entry_id=dataset,
                                             conditions_version=0))
        for name in members:
            session.add(AccessRequestMember(request_id=request_id, user_id=users[name],
                                            name=name))
    return request_id


def genotype_dataset(genotypes_dir, name: str, people: list[str], *, variants: int = 40,
                     seed: int = 1, kind: str = "participants"):
    """A participants' genotype dataset of ``people`` (pseudonyms) in the store at
    ``genotypes_dir``, written as ingest writes one; returns the calls (variants x
    people ALT counts, 3 missing) and the variants."""
    import numpy as np
    import pandas as pd

    from precimed.genomics import kernels
    from precimed.genomics.store import DatasetFiles, GenotypeStore

    rng = np.random.default_rng(seed)
    calls = rng.integers(0, 3, size=(variants, len(people))).astype(np.uint8)
    calls[rng.random(calls.shape) < 0.05] = kernels.MISSING
    table = pd.DataFrame({"chrom": ["1"] * variants,
                          "pos": np.arange(1, variants + 1) * 1000,
                          "ref": ["A"] * variants, "alt": ["G"] * variants,
                          "rsid": [f"rs{i + 1}" for i in range(variants)]})
    GenotypeStore.write_dataset(genotypes_dir, DatasetFiles(
        name, kind, pd.DataFrame({"sample_id": people}), table,
        kernels.pack(calls), "GRCh38", {}))
    return calls, table


def genotype_entry(ops, name: str, *, people: int, kind: str = "genotype") -> str:
    """The catalogue entry of genotype dataset ``name``, as publishing writes it."""
    from precimed.ops.db import CatalogueEntry

    now = dt.datetime.now(dt.UTC)
    ops.add(CatalogueEntry(
        id=f"genotype-{name}", kind=kind, release=None, cohort=None, genotype_dataset=name,
        title_zh="基因型", title_en="Genotypes", description_zh="", description_en="",
        centres=["SH01"], access_tier="controlled", embargo_until=None,
        variables=["genotype"], participants=people, counts={"SH01": people},
        conditions_version=0, created_by="test", created_at=now, updated_at=now))
    return f"genotype-{name}"
