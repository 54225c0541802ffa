"""The granularity gate: how much a Beacon caller may learn, decided in one function.

Tiers (:func:`tier_of`): an anonymous caller is **public**; any signed-in user is
**registered**; a user holding a GA4GH ``ControlledAccessGrants`` visa for a dataset
(an active approval, :mod:`precimed.sharing.visas`) is **controlled** for that dataset's
granularity, and a user whose roles grant :data:`CONTROLLED_PERMISSION` for every one.
Each resource has an access level (:class:`Access`): the 1000 Genomes reference is
``public``, the platform's participant callset ``controlled``, and descriptions of
collections (which datasets and cohorts exist) are ``open``.

:func:`grant` is the one decision. The ceiling per tier and access level is

=============  ========  ==========  ==========
tier           open      public      controlled
=============  ========  ==========  ==========
public         record    count       boolean
registered     record    count       count
controlled     record    record      record
=============  ========  ==========  ==========

and the caller gets the lower of what they asked for and the ceiling; the response says
what it returned (``meta.returnedGranularity``). Below the controlled tier every count
passes through :func:`precimed.deid.protect_count` (:func:`counts_are_protected`), and a
controlled dataset says a record exists only when the count of people behind it may be
published (:func:`discloses_existence`): a public probe learns nothing from a small
count, not even that it is non-zero. The whole matrix is tested in
tests/unit/discovery/test_granularity.py.
"""

from __future__ import annotations

from enum import Enum
from functools import total_ordering

from precimed.errors import UserError
from precimed.ops.accounts import Principal

CONTROLLED_PERMISSION = "beacon.controlled"


@total_ordering
class Granularity(Enum):
    BOOLEAN = "boolean"
    COUNT = "count"
    RECORD = "record"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Granularity):
            return NotImplemented
        return _RANK[self] < _RANK[other]

    @classmethod
    def parse(cls, raw: str | None, *, where: str = "requestedGranularity") -> Granularity:
        if raw is None or raw == "":
            return cls.BOOLEAN  # the specification's default
        try:
            return cls(raw.strip().lower())
        except ValueError:
            raise UserError(f"Unknown granularity {raw!r}", where=where,
                            hint="Use boolean, count or record.") from None


_RANK = {Granularity.BOOLEAN: 0, Granularity.COUNT: 1, Granularity.RECORD: 2}


class Tier(Enum):
    PUBLIC = "public"
    REGISTERED = "registered"
    CONTROLLED = "controlled"


class Access(Enum):
    OPEN = "open"  # metadata about collections
    PUBLIC = "public"
    CONTROLLED = "controlled"


_CEILING = {
    (Tier.PUBLIC, Access.OPEN): Granularity.RECORD,
    (Tier.PUBLIC, Access.PUBLIC): Granularity.COUNT,
    (Tier.PUBLIC, Access.CONTROLLED): Granularity.BOOLEAN,
    (Tier.REGISTERED, Access.OPEN): Granularity.RECORD,
    (Tier.REGISTERED, Access.PUBLIC): Granularity.COUNT,
    (Tier.REGISTERED, Access.CONTROLLED): Granularity.COUNT,
    (Tier.CONTROLLED, Access.OPEN): Granularity.RECORD,
    (Tier.CONTROLLED, Access.PUBLIC): Granularity.RECORD,
    (Tier.CONTROLLED, Access.CONTROLLED): Granularity.RECORD,
}


def tier_of(principal: Principal | None, dataset: str | None = None) -> Tier:
    """The caller's tier, for one dataset when named: controlled where an active
    approval's visa grants that dataset (``Principal.grants``), or for every dataset
    with :data:`CONTROLLED_PERMISSION` (the platform's operators)."""
    if principal is None:
        return Tier.PUBLIC
    if principal.can(CONTROLLED_PERMISSION) or (dataset is not None
                                                and dataset in principal.grants):
        return Tier.CONTROLLED
    return Tier.REGISTERED


def grant(tier: Tier, requested: Granularity, access: Access) -> Granularity:
    """What a caller of ``tier`` asking for ``requested`` on ``access`` data receives."""
    return min(requested, _CEILING[(tier, access)])


def counts_are_protected(tier: Tier) -> bool:
    """Counts for anyone below the controlled tier pass through disclosure control."""
    return tier is not Tier.CONTROLLED


def discloses_existence(tier: Tier, access: Access, published_count: int | None) -> bool:
    """Whether ``exists: true`` may be said for a non-zero count of people.

    ``published_count`` is the count after :func:`precimed.deid.protect_count` (None:
    hidden). Only a controlled dataset below the controlled tier withholds it.
    """
    if access is Access.CONTROLLED and counts_are_protected(tier):
        return published_count is not None and published_count > 0
    return True
