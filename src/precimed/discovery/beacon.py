"""The Beacon's answers, independent of HTTP: which datasets answer at which granularity,
the counts each may publish, the records of variants and people, and the cross-entity
selections (a variant's carriers, a person's variants, a cohort's members).

The HTTP routes under ``/api/beacon/v2`` are :mod:`precimed.api.routes.beacon`; they
build an :class:`Asker` (who asks, and how a record-level answer is audited) and call the
functions here with a :class:`~precimed.discovery.source.BeaconSource`.

Every answer goes through the gate of :mod:`precimed.discovery.granularity`: the caller's
tier and each dataset's access level decide one granularity per dataset; the response is
returned at the lowest of them and says so in ``meta.returnedGranularity``, with each
dataset's own answer in ``info.datasets``. Counts of people for callers below the
controlled tier pass through :func:`precimed.deid.protect_counts` with the total as a
margin, so a hidden dataset count cannot be worked out from the total. A g_variants count
is a number of variants; a variant counts in a controlled dataset below the controlled
tier only when its carrier count may be published, and the variants of one person count
none there (one person is below any threshold). Record-level answers are audited as
row-level reads (:meth:`Asker.audited`).

Population frequencies. When the home holds a reference summary (HOME/reference, from
``precimed genomics summarise``), each g_variants record carries
``frequencyInPopulations``: the summary's published (disclosure-controlled) allele
frequencies by dataset and population group, joined on the variant itself
(:mod:`precimed.discovery.populations`). Only record-level answers look them up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from precimed.deid import Policy, protect_count, protect_counts
from precimed.discovery import models
from precimed.discovery.granularity import (
    Access,
    Granularity,
    Tier,
    counts_are_protected,
    discloses_existence,
    grant,
    tier_of,
)
from precimed.discovery.models import BeaconQuery, VariantQuery
from precimed.discovery.source import BeaconSource, DatasetInfo
from precimed.errors import NotFound, UserError
from precimed.ops.accounts import Principal
from precimed.reference.genes import VariantTerm, parse_search
from precimed.standard import COHORTS

CASE_LEVEL_LIMIT = 1000  # carriers listed per variant in a record-level answer

RecordRead = Callable[[int, list[str]], None]  # (records returned, dataset ids) -> audit


@dataclass(frozen=True)
class Asker:
    """Who asks, and how a record-level answer to them is written to the audit log."""

    principal: Principal | None
    record_read: RecordRead

    @property
    def tier(self) -> Tier:
        return tier_of(self.principal)

    def tier_for(self, dataset: str) -> Tier:
        """The tier deciding one dataset's granularity (an approval's visa counts)."""
        return tier_of(self.principal, dataset)

    def audited(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record-level answers are row-level reads: each is written to the audit log."""
        if body["meta"]["returnedGranularity"] == "record" and self.principal is not None:
            sets = body.get("response", {}).get("resultSets", [])
            self.record_read(sum(len(s["results"]) for s in sets), [s["id"] for s in sets])
        return body


# -- response envelopes -----------------------------------------------------------------
@dataclass
class DatasetAnswer:
    dataset: DatasetInfo
    granularity: Granularity
    count: int  # raw: never leaves the server as it is
    records: list[dict[str, Any]] = field(default_factory=list)  # this page only
    people: bool = True  # the count is of people (else of variants)
    # hidden whatever its size: a wider query's count minus this one would be small
    complement_small: bool = False


def answer(answers: list[DatasetAnswer], query: BeaconQuery, tier: Tier,
            policy: Policy, entity: str) -> dict[str, Any]:
    """One response at the lowest granted granularity; per dataset in ``info``."""
    returned = min((a.granularity for a in answers), default=Granularity.BOOLEAN)
    protected = counts_are_protected(tier)
    published = published_counts(answers, policy, protected=protected)
    per_dataset, exists_any = [], False
    for a in answers:
        shown = published.get(a.dataset.id)
        # existence is judged on the dataset's own count (it does not reveal the number);
        # a variant count is already gated variant by variant
        gate = (None if a.complement_small else protect_count(a.count, policy=policy)
                if a.people else a.count)
        exists = a.count > 0 and discloses_existence(tier, a.dataset.access, gate)
        exists_any |= exists
        item = {"id": a.dataset.id, "granularity": a.granularity.value, "exists": exists}
        if a.granularity >= Granularity.COUNT and shown is not None:
            item["count"] = shown
        per_dataset.append(item)
    info = {"datasets": per_dataset}
    if protected:
        info["disclosureControl"] = (f"counts of people below {policy.threshold} are "
                                     "not reported")
    total = published.get("__total__")
    if returned >= Granularity.COUNT and total is None:
        returned = Granularity.BOOLEAN  # the total may not be published: say only whether
    summary: dict[str, Any] = {"exists": exists_any}
    if returned >= Granularity.COUNT:
        summary["numTotalResults"] = total
    body = {"meta": models.response_meta(returned, query, entity),
            "responseSummary": summary, "info": info}
    if returned is Granularity.RECORD:
        body["response"] = {"resultSets": result_sets(answers, query)}
    return body


def published_counts(answers: list[DatasetAnswer], policy: Policy, *, protected: bool
                     ) -> dict[str, int | None]:
    """Counts of the datasets answered at count level or above, and their total.

    Below the controlled tier, a controlled dataset's count of people is withheld when it
    is small, when a wider query's count minus it would be small, and when it is zero: a
    zero shown beside a withheld count would tell "nobody" from "a few" (a made-up
    pseudonym from a real one). Whenever a dataset's count is withheld, so is the total.
    """
    counted = [a for a in answers if a.granularity >= Granularity.COUNT]
    if not counted:
        return {}
    if not protected or not counted[0].people:
        values = {a.dataset.id: a.count for a in counted}
        return {**values, "__total__": sum(values.values())}
    frame = pd.DataFrame({"dataset": [a.dataset.id for a in counted],
                          "count": [a.count for a in counted]})
    table = protect_counts(frame, by=["dataset"], policy=policy, total_label="__total__")
    shown = {r.dataset: (None if pd.isna(r.count) else int(r.count))
             for r in table.itertuples(index=False)}
    for a in counted:
        if a.complement_small or (a.dataset.access is Access.CONTROLLED
                                  and shown[a.dataset.id] == 0):
            shown[a.dataset.id] = None
    if any(shown[a.dataset.id] is None for a in counted):
        shown["__total__"] = None
    return shown


def result_sets(answers: list[DatasetAnswer], query: BeaconQuery
                 ) -> list[dict[str, Any]]:
    sets = []
    for a in answers:
        exists = a.count > 0
        include = query.include_resultsets
        if include == "NONE" or (include == "HIT" and not exists) or (
                include == "MISS" and exists):
            continue
        sets.append({"id": a.dataset.id, "setType": "dataset", "exists": exists,
                     "resultsCount": a.count, "results": a.records,
                     "info": {"accessLevel": a.dataset.access.value}})
    return sets


def collections(records: list[dict[str, Any]], query: BeaconQuery, tier: Tier,
                 entity: str) -> dict[str, Any]:
    """Datasets and cohorts: descriptions of collections, open to every tier (their
    sizes inside have passed disclosure control)."""
    page = records[query.skip:query.skip + query.limit]
    returned = grant(tier, Granularity.RECORD, Access.OPEN)
    return {"meta": models.response_meta(returned, query, entity),
            "responseSummary": {"exists": bool(records), "numTotalResults": len(records)},
            "response": {"collections": page}}


@dataclass(frozen=True)
class Populations:
    """Where record-level g_variants answers find ``frequencyInPopulations``: the home's
    reference summary (opened and joined on the first record, see
    :meth:`BeaconSource.frequencies`), and the Beacon's URL to cite as the source."""

    summary: Path
    root: str

    def of(self, src: BeaconSource, rows: np.ndarray, datasets: list[DatasetInfo]
           ) -> list[list[dict[str, Any]]]:
        found = src.frequencies(self.summary)
        if found is None:
            return [[] for _ in rows]
        return found.entries(rows, datasets=datasets, policy=src.policy, root=self.root)


def variants(src: BeaconSource, query: BeaconQuery, who: Asker, *,
              populations: Populations | None = None) -> dict[str, Any]:
    tier = who.tier
    rows = src.variant_rows(query.variant)
    chosen = src.chosen(query)
    answers = []
    for dataset in chosen:
        granted = grant(who.tier_for(dataset.id), query.granularity, dataset.access)
        carriers, publishable = src.carriers(dataset.id, rows, query)
        present = carriers > 0
        if counts_are_protected(tier) and dataset.access is Access.CONTROLLED:
            present &= publishable
        records = []
        if granted is Granularity.RECORD:
            page = rows[present][query.skip:query.skip + query.limit]
            records = variant_records(
                src, page, src.matching_samples(dataset.id, query),
                frequencies=population_frequencies(populations, src, page, chosen, query, tier))
        answers.append(DatasetAnswer(dataset, granted, int(present.sum()), records,
                                     people=False))
    return who.audited(answer(answers, query, tier, src.policy, "genomicVariant"))


def population_frequencies(populations: Populations | None, src: BeaconSource, rows: np.ndarray,
                 chosen: list[DatasetInfo], query: BeaconQuery, tier: Tier
                 ) -> list[list[dict[str, Any]]]:
    """Per row: frequencies of the chosen datasets the caller gets records of."""
    shown = [d for d in chosen
             if grant(tier, query.granularity, d.access) is Granularity.RECORD]
    if populations is None or not shown or not len(rows):
        return [[] for _ in rows]
    return populations.of(src, rows, shown)


def variant_records(src: BeaconSource, rows: np.ndarray, samples: pd.DataFrame, *,
                     frequencies: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Records of the variants at ``rows``, with the carriers among ``samples``."""
    if not len(rows):
        return []
    dosage = src.dosage(rows, samples)
    people = list(samples.itertuples(index=False))
    records = []
    for j, variant in enumerate(src.index.frame.iloc[rows].itertuples(index=False)):
        hits = np.flatnonzero(dosage[:, j] > 0)[:CASE_LEVEL_LIMIT]
        cases = [models.case_record(people[i], int(dosage[i, j])) for i in hits]
        records.append(models.variant_record(variant, build=src.build, cases=cases,
                                             frequencies=frequencies[j]))
    return records


Selection = Callable[[pd.DataFrame], pd.DataFrame]  # a dataset's samples -> some of them


def people(src: BeaconSource, query: BeaconQuery, who: Asker, entity: str,
            only: Selection | None = None) -> dict[str, Any]:
    tier = who.tier
    document = (models.individual_record if entity == "individual"
                else models.biosample_record)
    answers = []
    for dataset in src.chosen(query):
        granted = grant(who.tier_for(dataset.id), query.granularity, dataset.access)
        samples = src.matching_samples(dataset.id, query)
        if only is not None:
            samples = only(samples)
        page = samples.iloc[query.skip:query.skip + query.limit]
        records = ([document(s) for s in page.itertuples(index=False)]
                   if granted is Granularity.RECORD else [])
        hidden = (counts_are_protected(tier)
                  and complement_is_small(src, dataset.id, query, only, len(samples)))
        answers.append(DatasetAnswer(dataset, granted, len(samples), records,
                                     complement_small=hidden))
    return who.audited(answer(answers, query, tier, src.policy, entity))


def complement_is_small(src: BeaconSource, dataset: str, query: BeaconQuery,
                        only: Selection | None, n: int) -> bool:
    """Whether a query one criterion wider (a filter dropped, or the selection of a
    variant's carriers or a cohort's members) counts 1 to T-1 more people than ``n``:
    both counts published would give those few away by subtraction (carriers minus
    female carriers are male carriers)."""
    wider = [replace(query, filters=query.filters[:i] + query.filters[i + 1:])
             for i in range(len(query.filters))]
    for q in wider:
        samples = src.matching_samples(dataset, q)
        if src.policy.is_small(len(only(samples) if only is not None else samples) - n):
            return True
    return only is not None and src.policy.is_small(
        len(src.matching_samples(dataset, query)) - n)


def carried(src: BeaconSource, query: BeaconQuery, who: Asker, person: Selection, *,
             populations: Populations | None = None) -> dict[str, Any]:
    """The variants one person carries (ALT dosage > 0), per dataset; the query's
    position or gene, if any, narrows them. A variant count of one person is still about
    that person: below the controlled tier, a controlled dataset counts none unless the
    people selected may be counted (never, for one person)."""
    tier = who.tier
    rows = src.rows_or_all(query.variant)
    chosen = src.chosen(query)
    answers = []
    for dataset in chosen:
        granted = grant(who.tier_for(dataset.id), query.granularity, dataset.access)
        samples = person(src.matching_samples(dataset.id, query))
        present = (src.dosage(rows, samples) > 0).any(axis=0)
        if (counts_are_protected(tier) and dataset.access is Access.CONTROLLED
                and protect_count(len(samples), policy=src.policy) is None):
            present[:] = False
        records = []
        if granted is Granularity.RECORD:
            page = rows[present][query.skip:query.skip + query.limit]
            records = variant_records(
                src, page, samples,
                frequencies=population_frequencies(populations, src, page, chosen, query, tier))
        answers.append(DatasetAnswer(dataset, granted, int(present.sum()), records,
                                     people=False))
    return who.audited(answer(answers, query, tier, src.policy, "genomicVariant"))


def one_entry(entity: str, entry_id: str) -> Selection:
    """The sample an individual or biosample id names."""
    def only(samples: pd.DataFrame) -> pd.DataFrame:
        ids = samples["sample_id"] if entity == "individual" else samples["sample_id"] + "-gt"
        return samples[ids == entry_id]

    return only


def carriers_of(src: BeaconSource, variant_id: str) -> Selection:
    """The samples carrying the variant ``variant_id`` names (ALT dosage > 0)."""
    rows = src.variant_rows(variant_of(variant_id))

    def only(samples: pd.DataFrame) -> pd.DataFrame:
        return samples[(src.dosage(rows, samples) > 0).any(axis=1)]

    return only


def members_of(src: BeaconSource, cohort_id: str) -> Selection:
    known_cohort(cohort_id)
    members = src.cohorts.loc[src.cohorts["cohort"] == cohort_id, "pseudonym"]
    return lambda samples: samples[samples["sample_id"].isin(members)]


def known_cohort(cohort_id: str) -> None:
    if cohort_id not in COHORTS:
        raise NotFound(f"No cohort {cohort_id!r}", where="cohorts",
                       hint="Cohorts: " + ", ".join(COHORTS))


def variant_of(variant_id: str) -> VariantQuery:
    term = parse_search(variant_id)
    if not isinstance(term, VariantTerm):
        raise UserError("A variant id is CHROM-POS-REF-ALT", where=variant_id,
                        hint="For example 1-55051215-G-A (1-based position).")
    return VariantQuery(term.chrom, term.pos, term.pos, term.ref, term.alt, build=term.build)


def by_dataset(dataset_id: str, query: BeaconQuery) -> BeaconQuery:
    return replace(query, datasets=(dataset_id,))


def answered_on_event_loop(src: BeaconSource, query: BeaconQuery, tier: Tier) -> bool:
    """Whether a g_variants answer comes from the in-memory index and the precomputed
    carrier counts alone (no genotype read, no audit write, no gene table), so it is
    computed on the event loop instead of in the thread pool."""
    if query.filters or query.variant.gene is not None:
        return False
    try:
        chosen = src.chosen(query)
    except UserError:
        return True  # answered at once with the error
    return all(grant(tier, query.granularity, d.access) is not Granularity.RECORD
               for d in chosen)


def dataset_records(src: BeaconSource, tier: Tier) -> list[dict[str, Any]]:
    records = []
    for dataset in src.datasets.values():
        n = int((src.samples["dataset"] == dataset.id).sum())
        size = protect_count(n, policy=src.policy) if counts_are_protected(tier) else n
        if dataset.access is Access.CONTROLLED and tier is Tier.PUBLIC:
            size = None  # a public caller learns what exists, not how many
        records.append(models.dataset_record(dataset, size=size))
    return records


def cohort_records(src: BeaconSource, tier: Tier) -> list[dict[str, Any]]:
    sizes = src.cohorts["cohort"].value_counts().to_dict() if len(src.cohorts) else {}
    records = []
    for code in COHORTS:
        n = sizes.get(code)
        size = None if n is None else (
            protect_count(int(n), policy=src.policy) if counts_are_protected(tier) else int(n))
        records.append(models.cohort_record(code, size=size))
    return records
