"""Consent in governed sharing: whom a request's project may not include, and how many
that is (the rule: :mod:`precimed.standard.consent`; for people:
docs/explanation/consent.md).

A request is *genetic research* when it asks for a genotype, exome or genome dataset, or
its intended use is population origins or ancestry research
(:func:`precimed.standard.consent.genetic_research`). Its project then leaves out every
person whose consent keeps them out of genetics (``no_genetic`` or ``withdrawn``) in the
release it reads or in the lake now: out of its genotype extracts *and* its clinical
extracts. Any other project leaves out who withdrew (or was erased) by the time it
extracts.

:func:`left_out` is that set of pseudonyms; :func:`match_counts` counts it per requested
dataset for the match the applicant and the committee see, each count through
disclosure control (:func:`precimed.deid.publish_count`).
"""

from __future__ import annotations

from typing import Any

import pyarrow.compute as pc

from precimed.deid import Policy, publish_count
from precimed.errors import NotFound, UserError
from precimed.genomics import consent as genomic_consent
from precimed.lake import Lake
from precimed.lake.consent import PSEUDONYM, withdrawn, withdrawn_since
from precimed.ops.db import AccessRequest, CatalogueEntry
from precimed.settings import Settings
from precimed.sharing.matching import IntendedUse
from precimed.standard.consent import excluded, genetic_research
from precimed.standard.tables import PARTICIPANT

_COHORT = PARTICIPANT.field("cohort").name


def is_genetic(request: AccessRequest, entries: list[CatalogueEntry]) -> bool:
    """Whether ``request`` (with its datasets ``entries``) is genetic research."""
    use = IntendedUse.parse(request.intended_use or {"purpose": "GRU"})
    return genetic_research([e.kind for e in entries], purpose=use.purpose,
                            ancestry=use.ancestry)


def newest_release(lake: Lake) -> str | None:
    releases = lake.catalog().releases.values()
    return max(releases, key=lambda r: r.created_at).name if releases else None


def release_of(lake: Lake, entries: list[CatalogueEntry]) -> str | None:
    """The release a project reads consent (and its cohort definition) from: its first
    clinical dataset's, else the lake's newest."""
    for e in entries:
        if e.release:
            return e.release
    return newest_release(lake)


def left_out(lake: Lake, release: str | None, *, genetic: bool) -> frozenset[str]:
    """Pseudonyms a project reading ``release`` may not include: for genetic research
    whom ``release``'s participant table or the lake's current one keeps out of genetics;
    otherwise whom either records as withdrawn. Erased since ``release`` too."""
    since = withdrawn_since(lake, release) if release else withdrawn(lake.snapshot())
    if genetic:
        return genomic_consent.left_out(lake, release) | since
    return since


def members(settings: Settings, lake: Lake, entry: CatalogueEntry) -> frozenset[str]:
    """The pseudonyms a dataset holds: a clinical entry's cohort in its release (as that
    release reads), a genotype entry's samples in the genotype store."""
    if entry.genotype_dataset:
        from precimed.genomics.store import GenotypeStore

        try:
            store = GenotypeStore.open(settings.genotypes_dir)
            samples = store.samples(entry.genotype_dataset)
        except NotFound:
            return frozenset()
        return frozenset(str(s) for s in samples["sample_id"])
    if not (entry.release and entry.cohort):
        return frozenset()
    rows = lake.snapshot(entry.release).to_arrow(PARTICIPANT.name,
                                                 columns=[PSEUDONYM, _COHORT])
    rows = rows.filter(pc.equal(rows[_COHORT], entry.cohort))
    return frozenset(rows.column(PSEUDONYM).to_pylist())


def match_counts(settings: Settings, request: AccessRequest,
                 entries: list[CatalogueEntry]) -> dict[str, Any]:
    """What the match shows about consent: whether the request is genetic research, the
    scopes it leaves out, and per dataset how many of its people that leaves out (a
    published count: ``None`` with ``suppressed`` "small" below the threshold)."""
    genetic = is_genetic(request, entries)
    lake = Lake(settings.lake_dir)
    gone = left_out(lake, release_of(lake, entries), genetic=genetic)
    policy = Policy.from_settings(settings)
    datasets = []
    for e in entries:
        try:
            held = members(settings, lake, e)
        except UserError:  # e.g. its release was retired: the extract will refuse it
            datasets.append({"entry_id": e.id, "left_out": None,
                             "suppressed": "unavailable"})
            continue
        cell = publish_count(len(held & gone), policy=policy)
        datasets.append({"entry_id": e.id, "left_out": cell.value,
                         "suppressed": cell.reason})
    return {"genetic": genetic, "scopes": sorted(excluded(genetic=genetic)),
            "datasets": datasets}
