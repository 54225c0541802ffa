"""Erase a participant (PIPL Art. 47): the use case that spans the lake, the genotype
store, the derived genotype data and the audit log.

The person is named by resident ID (pseudonymised here, never kept) or pseudonym. Their
rows leave every lake table (:func:`precimed.lake.erasure.erase`), their endpoint
candidates and decisions leave the operational database, their samples leave
the genotype store, the variant summaries and the reference database are recomputed
without them, and the audit log records who erased how many people of which centre,
never whom. Old files go at the next ``precimed lake vacuum`` after the retention period
(setting ``erasure_retention_days``).
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select

from precimed.deid.pseudonym import PSEUDONYM_HEX, Pseudonymiser, load_key
from precimed.errors import UserError
from precimed.genomics import GenotypeStore
from precimed.genomics.consent import refresh_variant_summaries
from precimed.lake import Lake
from precimed.lake.catalog import Erasure
from precimed.lake.erasure import erase
from precimed.ops import OpsDatabase, audit
from precimed.ops.db import AdjudicationDecision, EndpointCandidate
from precimed.reference.served import rebuild
from precimed.settings import Settings
from precimed.standard.identity import normalise, resident_id_problem

_PSEUDONYM = re.compile(f"[0-9a-f]{{{PSEUDONYM_HEX}}}")


def pseudonym_of(settings: Settings, identifier: str) -> str:
    """The pseudonym a resident ID (checked) or a pseudonym names; never echoes it."""
    text = identifier.strip().lower()
    if _PSEUDONYM.fullmatch(text):
        return text
    resident = normalise(identifier)
    if resident_id_problem(resident) is None:
        return Pseudonymiser(load_key(settings.pseudonym_key_file))(resident)
    raise UserError("That is neither a valid resident ID nor a pseudonym",
                    where="participant",
                    hint=f"Give the 18-character resident ID or the {PSEUDONYM_HEX}-digit "
                         "pseudonym.")


def erase_participant(settings: Settings, identifier: str, *, actor: str,
                      centre: str | None = None, client: str = "") -> tuple[Erasure, int]:
    """Erase one participant (of ``centre``, when the caller is scoped to one); returns
    the erasure and how many genotype samples were removed. Refusals are audited too."""
    ops = OpsDatabase(settings.database_url)
    try:
        try:
            person = pseudonym_of(settings, identifier)
            erasure = erase(Lake(settings.lake_dir), [person], centre=centre)
        except UserError as error:  # NotFound included: nothing was changed
            audit.record(ops, actor=actor, action="erase", outcome="deny",
                         resource=f"centre {centre}" if centre else "participants",
                         client=client, detail={"reason": error.__class__.__name__})
            raise
        samples = _erase_genotypes(settings, person)
        decisions = _erase_endpoint_work(ops, person)
        audit.record(ops, actor=actor, action="erase", outcome="allow",
                     resource=f"centre {erasure.centre}", client=client,
                     detail={"erasure": erasure.id, "people": erasure.people,
                             "rows": sum(erasure.rows_removed.values()),
                             "genotype_samples": samples, "endpoint_records": decisions})
        return erasure, samples
    finally:
        ops.dispose()


def _erase_genotypes(settings: Settings, person: str) -> int:
    if not (settings.genotypes_dir / "store.json").exists():
        return 0
    samples = GenotypeStore.erase_samples(settings.genotypes_dir, frozenset({person}))
    if samples:
        refresh_variant_summaries(settings)
        rebuild(settings)
    return samples


def _erase_endpoint_work(ops: OpsDatabase, person: str) -> int:
    """Delete the person's endpoint candidates and their decisions from the operational
    database. Decisions are otherwise append-only (an ORM guard); a bulk delete is the
    one deliberate exception, for erasure."""
    with ops.session() as session, session.begin():
        ids = select(EndpointCandidate.id).where(EndpointCandidate.pseudonym == person)
        decided = session.execute(delete(AdjudicationDecision).where(
            AdjudicationDecision.candidate_id.in_(ids)))
        candidates = session.execute(delete(EndpointCandidate).where(
            EndpointCandidate.pseudonym == person))
        return int(decided.rowcount or 0) + int(candidates.rowcount or 0)
