"""The human-genetic-resource rules a committee decision can not override.

- Genetic resource *information* (genotype, exome, genome data; not clinical, protein or
  metabolite data: MOST implementation rules 2023, Art. 2) provided to or opened for a
  foreign party needs the filing record: filing number, filing date and the receipt of
  the information backup (备份). Without all three the request can not become active.
- Exome or genome data of more than 500 people with a foreign party needs a security
  review (Art. 37): the request is flagged and blocked until the review is recorded.

:func:`hgr_check` states where a request stands; :func:`require_activatable` refuses,
naming the missing fields; :func:`require_provision` applies both rules again to one
provision (a genotype extract) before it is cut, with the people it holds. The count
for Art. 37 is the datasets' participants, exact and inside the platform (the cohort may
select fewer: the rule errs on the side of review).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from precimed.errors import Conflict
from precimed.ops.db import AccessRequest, CatalogueEntry
from precimed.standard.sharing import (
    GENETIC_INFORMATION_KINDS,
    SECURITY_REVIEW_KINDS,
    SECURITY_REVIEW_PEOPLE,
)

FILING_FIELDS = ("hgr_filing_number", "hgr_filing_date", "hgr_backup_receipt")
REVIEW_FIELDS = ("security_review_ref", "security_review_date")


@dataclass(frozen=True)
class HgrCheck:
    genetic: bool  # genetic resource information requested
    foreign: bool  # a foreign organisation or individual takes part or sponsors
    filing_needed: bool
    filing_missing: tuple[str, ...]
    review_needed: bool  # Art. 37: exome/genome, > 500 people, foreign party
    review_missing: tuple[str, ...]

    @property
    def state(self) -> str:
        """standard.sharing.HGR_STATE"""
        if not self.filing_needed:
            return "not_applicable"
        if self.filing_missing:
            return "filing_missing"
        if self.review_missing:
            return "security_review_missing"
        return "complete"

    @property
    def blocked(self) -> bool:
        return bool(self.filing_missing or self.review_missing)

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "genetic": self.genetic, "foreign": self.foreign,
                "filing_needed": self.filing_needed,
                "filing_missing": list(self.filing_missing),
                "security_review_needed": self.review_needed,
                "security_review_missing": list(self.review_missing)}


def is_foreign(request: AccessRequest, *, foreign_members: bool = False) -> bool:
    return bool(request.foreign_party or request.foreign_sponsor or foreign_members)


def hgr_check(request: AccessRequest, entries: list[CatalogueEntry], *,
              foreign_members: bool = False) -> HgrCheck:
    """Where the request stands under the two rules (pure: reads the records only)."""
    genetic = any(e.kind in GENETIC_INFORMATION_KINDS for e in entries)
    foreign = is_foreign(request, foreign_members=foreign_members)
    filing_needed = genetic and foreign
    filing_missing = tuple(f for f in FILING_FIELDS
                           if filing_needed and not getattr(request, f))
    people = sum(e.participants for e in entries if e.kind in SECURITY_REVIEW_KINDS)
    review_needed = foreign and people > SECURITY_REVIEW_PEOPLE
    review_missing = tuple(f for f in REVIEW_FIELDS
                           if review_needed and not getattr(request, f))
    return HgrCheck(genetic, foreign, filing_needed, filing_missing, review_needed,
                    review_missing)


def require_activatable(check: HgrCheck, *, where: str) -> None:
    """Refuse activation while a human-genetic-resource record is missing."""
    if check.filing_missing:
        raise Conflict("Genetic resource information for a foreign party needs the filing "
                       "record before the project can start: missing "
                       + ", ".join(check.filing_missing), where=where,
                       hint="Record the MOST filing number, its date and the information-"
                            "backup receipt (precimed sharing hgr, or the request page).")
    if check.review_missing:
        raise Conflict("Exome or genome data of more than 500 people for a foreign party "
                       "needs a security review first (HGR implementation rules Art. 37): "
                       "missing " + ", ".join(check.review_missing), where=where,
                       hint="Record the security review's reference and date once it is "
                            "passed (precimed sharing security-review).")


def require_provision(request: AccessRequest, entry: CatalogueEntry, *, people: int,
                      foreign: bool, where: str) -> None:
    """Refuse to provide ``entry`` (``people`` of its participants) under ``request``
    while a human-genetic-resource record it needs is missing: the filing record for
    genetic resource information with a foreign party; the security review for exome or
    genome data of more than 500 people with a foreign party. Checked at every provision,
    not only at activation: the entry's kind or size may have changed since."""
    filing = tuple(f for f in FILING_FIELDS if not getattr(request, f))
    review = tuple(f for f in REVIEW_FIELDS if not getattr(request, f))
    needs_filing = foreign and entry.kind in GENETIC_INFORMATION_KINDS
    needs_review = (foreign and entry.kind in SECURITY_REVIEW_KINDS
                    and people > SECURITY_REVIEW_PEOPLE)
    require_activatable(HgrCheck(
        genetic=entry.kind in GENETIC_INFORMATION_KINDS, foreign=foreign,
        filing_needed=needs_filing, filing_missing=filing if needs_filing else (),
        review_needed=needs_review, review_missing=review if needs_review else ()),
        where=where)
