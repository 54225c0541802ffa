"""The granularity gate: every tier × requested granularity × access level."""

from __future__ import annotations

import itertools

import pytest

from precimed.discovery.granularity import (
    CONTROLLED_PERMISSION,
    Access,
    Granularity,
    Tier,
    counts_are_protected,
    discloses_existence,
    grant,
    tier_of,
)
from precimed.errors import UserError
from precimed.ops.accounts import Principal
from unit.discovery.beacon_app import ControlledPrincipal

B, C, R = Granularity.BOOLEAN, Granularity.COUNT, Granularity.RECORD

# (tier, access) -> what boolean, count and record requests receive
EXPECTED = {
    (Tier.PUBLIC, Access.OPEN): (B, C, R),
    (Tier.PUBLIC, Access.PUBLIC): (B, C, C),
    (Tier.PUBLIC, Access.CONTROLLED): (B, B, B),
    (Tier.REGISTERED, Access.OPEN): (B, C, R),
    (Tier.REGISTERED, Access.PUBLIC): (B, C, C),
    (Tier.REGISTERED, Access.CONTROLLED): (B, C, C),
    (Tier.CONTROLLED, Access.OPEN): (B, C, R),
    (Tier.CONTROLLED, Access.PUBLIC): (B, C, R),
    (Tier.CONTROLLED, Access.CONTROLLED): (B, C, R),
}


@pytest.mark.parametrize(("tier", "access"), list(itertools.product(Tier, Access)))
def test_the_matrix(tier, access):
    got = tuple(grant(tier, requested, access) for requested in (B, C, R))
    assert got == EXPECTED[(tier, access)]


def test_never_more_than_asked_and_never_record_below_controlled():
    for tier, access, requested in itertools.product(Tier, Access, Granularity):
        granted = grant(tier, requested, access)
        assert granted <= requested
        if granted is R and access is not Access.OPEN:
            assert tier is Tier.CONTROLLED


def test_tiers_of_callers():
    researcher = Principal(1, "r", "R", ("researcher",), (), "token")
    assert tier_of(None) is Tier.PUBLIC
    assert tier_of(researcher) is Tier.REGISTERED
    steward = ControlledPrincipal(2, "s", "S", ("researcher",), (), "token")
    assert steward.can(CONTROLLED_PERMISSION)
    assert tier_of(steward) is Tier.CONTROLLED


def test_counts_and_existence_below_the_controlled_tier():
    assert counts_are_protected(Tier.PUBLIC) and counts_are_protected(Tier.REGISTERED)
    assert not counts_are_protected(Tier.CONTROLLED)
    # a hidden (small) count of a controlled dataset does not even say "exists"
    assert not discloses_existence(Tier.PUBLIC, Access.CONTROLLED, None)
    assert not discloses_existence(Tier.REGISTERED, Access.CONTROLLED, None)
    assert discloses_existence(Tier.PUBLIC, Access.CONTROLLED, 12)
    assert discloses_existence(Tier.PUBLIC, Access.PUBLIC, None)
    assert discloses_existence(Tier.CONTROLLED, Access.CONTROLLED, None)


def test_parse_granularity():
    assert Granularity.parse(None) is B  # the specification's default
    assert Granularity.parse(" Record ") is R
    with pytest.raises(UserError, match="granularity"):
        Granularity.parse("everything")
    assert sorted([R, B, C]) == [B, C, R]
