"""Approvals as GA4GH ControlledAccessGrants visas, and the Beacon tier they give
(precimed.sharing.visas, precimed.discovery.granularity.tier_of)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import jwt

from precimed.discovery.granularity import Tier, tier_of
from precimed.ops.db import CatalogueEntry
from precimed.sharing import visas
from projects_home import make_project

ON = dt.date(2026, 3, 2)


def _genotype_entry(ops) -> str:
    now = dt.datetime.now(dt.UTC)
    ops.add(CatalogueEntry(
        id="genotype-sh01", kind="genotype", release="r1", cohort=None,
        genotype_dataset="sh01-genotypes", title_zh="基因型", title_en="genotypes",
        description_zh="", description_en="", centres=["SH01"], access_tier="controlled",
        embargo_until=None, variables=["genotype"], participants=600,
        counts={"SH01": 600}, conditions_version=0, created_by="test", created_at=now,
        updated_at=now))
    return "genotype-sh01"


def test_an_active_approval_is_a_signed_visa_granting_its_dataset(ops, who, tmp_path):
    entry = _genotype_entry(ops)
    make_project(ops, None, on=ON, applicant="res", members=("res2",), entry=entry,
                 expires_on=dt.date(2027, 3, 1))
    key = visas.visa_key(tmp_path / "keys")
    passport = visas.passport(ops, who("res2"), key=key, on=ON)
    assert len(passport) == 1
    visa = jwt.decode(passport[0], key, algorithms=["HS256"],
                      options={"verify_exp": False})["ga4gh_visa_v1"]
    assert visa == {"type": "ControlledAccessGrants", "asserted": visa["asserted"],
                    "value": "urn:precimed:dataset:sh01-genotypes",
                    "source": "urn:precimed:dac", "by": "dac"}
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    granted = visas.grants(passport, key=key, subject="res2", now=now)
    assert granted == {"sh01-genotypes"}
    # the tier follows the approval for that dataset only, not the role
    principal = dataclasses.replace(who("res2"), grants=granted)
    assert tier_of(principal, "sh01-genotypes") is Tier.CONTROLLED
    assert tier_of(principal, "other-genotypes") is Tier.REGISTERED
    assert tier_of(who("res2"), "sh01-genotypes") is Tier.REGISTERED


def test_expired_forged_and_borrowed_visas_grant_nothing(ops, who, tmp_path):
    entry = _genotype_entry(ops)
    make_project(ops, None, on=ON, applicant="res", entry=entry,
                 expires_on=dt.date(2026, 12, 31))
    key = visas.visa_key(tmp_path / "keys")
    passport = visas.passport(ops, who("res"), key=key, on=ON)
    late = dt.datetime(2027, 1, 1, 0, 0, 1, tzinfo=dt.UTC)
    assert visas.grants(passport, key=key, subject="res", now=late) == frozenset()
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert visas.grants(passport, key=b"x" * 32, subject="res", now=now) == frozenset()
    assert visas.grants(passport, key=key, subject="res2", now=now) == frozenset()
    # past its expiry, or for a non-member, there is no visa at all
    assert visas.passport(ops, who("res"), key=key, on=dt.date(2027, 1, 1)) == []
    assert visas.passport(ops, who("res2"), key=key, on=ON) == []


def test_a_revoked_project_issues_no_visa(ops, who, tmp_path):
    entry = _genotype_entry(ops)
    make_project(ops, None, on=ON, applicant="res", entry=entry, status="revoked")
    assert visas.passport(ops, who("res"), key=visas.visa_key(tmp_path / "k"), on=ON) == []
