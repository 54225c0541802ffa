"""What a participant's consent allows: the one rule every read of the lake and of the
genotype store applies (written out for people in docs/explanation/consent.md).

- ``withdrawn``: the person is left out of every read of a release whose participant
  table says so (counts, extracts, survival, incidence, the Beacon, the reference
  frequencies, the variant summary), that is from the first release made after the
  withdrawal was submitted. Older releases stay as they were frozen, but are marked as
  holding withdrawn people, and no extract is cut from them for those people.
- ``no_genetic``: the person's clinical data are used as under broad consent, but their
  genotypes are left out of every genotype dataset the platform derives or serves (the
  Beacon, the reference frequencies, ``variant_summary``, genotype-based analyses) and
  out of genotype-based access requests.
- ``broad``, ``specific``, ``disease_specific``: every read includes the person; what a
  specific or disease-specific consent allows a request to use is a matter of the
  request's data-use conditions, not of this rule.
"""

from __future__ import annotations

WITHDRAWN = "withdrawn"
NO_GENETIC = "no_genetic"

#: scopes whose people no read of a release includes
EXCLUDED_EVERYWHERE: frozenset[str] = frozenset({WITHDRAWN})
#: scopes whose people no genotype dataset includes (withdrawal implies it)
EXCLUDED_FROM_GENETICS: frozenset[str] = frozenset({WITHDRAWN, NO_GENETIC})


def allows_research(scope: str | None) -> bool:
    """Whether any read may include a person with consent ``scope``."""
    return scope not in EXCLUDED_EVERYWHERE


def allows_genetics(scope: str | None) -> bool:
    """Whether a genotype dataset may include a person with consent ``scope``."""
    return scope not in EXCLUDED_FROM_GENETICS
