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
  the person is left out of every project that is genetic research
  (:func:`genetic_research`): out of its genotype *and* its clinical extracts, and out
  of the counts its match shows.
- ``broad``, ``specific``, ``disease_specific``: every read includes the person; what a
  specific or disease-specific consent allows a request to use is a matter of the
  request's data-use conditions, not of this rule.
"""

from __future__ import annotations

from collections.abc import Iterable

from precimed.standard.sharing import GENETIC_INFORMATION_KINDS

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


#: DUO purposes that are genetic research whatever the datasets: population origins or
#: ancestry (POA) is studied in the genome
GENETIC_PURPOSES: frozenset[str] = frozenset({"POA"})


def genetic_research(kinds: Iterable[str], *, purpose: str = "",
                     ancestry: bool = False) -> bool:
    """Whether an access request is genetic research, which a ``no_genetic`` consent
    does not allow: it asks for genetic resource information (a dataset whose kind is
    one of ``standard.sharing.GENETIC_INFORMATION_KINDS``: genotype, exome, genome), or
    its intended use is population origins or ancestry research (DUO POA, or the
    ancestry flag of any purpose)."""
    return (any(k in GENETIC_INFORMATION_KINDS for k in kinds)
            or purpose in GENETIC_PURPOSES or bool(ancestry))


def excluded(*, genetic: bool) -> frozenset[str]:
    """The scopes a use leaves out: genetic research :data:`EXCLUDED_FROM_GENETICS`,
    any other :data:`EXCLUDED_EVERYWHERE`."""
    return EXCLUDED_FROM_GENETICS if genetic else EXCLUDED_EVERYWHERE


def allows(scope: str | None, *, genetic: bool) -> bool:
    """Whether a use (genetic research or not) may include a person with ``scope``."""
    return scope not in excluded(genetic=genetic)
