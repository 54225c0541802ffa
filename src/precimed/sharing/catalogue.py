"""The data catalogue: every dataset a researcher can ask for, with its conditions.

A release's clinical tables become one entry per cohort; each genotype dataset of the
store becomes one entry. Publishing again refreshes counts and variables and keeps the
titles, tier, embargo and conditions people set. Conditions (GA4GH DUO) are set by an
admin or a data manager of every owning centre, as a new version each time; the counts
an entry shows pass through :mod:`precimed.deid.disclosure`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import select

from precimed.deid import Policy, protect_count
from precimed.deid.disclosure import protect_counts
from precimed.errors import Forbidden, NotFound, UserError
from precimed.ops import audit
from precimed.ops.accounts import Principal
from precimed.ops.db import CatalogueConditions, CatalogueEntry, OpsDatabase
from precimed.standard import COHORTS, EXPOSURE_ITEMS, MEASUREMENT_ITEMS, TABLES
from precimed.standard.duo import Condition, parse_condition, parse_conditions
from precimed.standard.sharing import (
    ACCESS_TIER,
    GENETIC_INFORMATION_KINDS,
    GENOTYPE_VARIABLES,
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- reading ---------------------------------------------------------------------------
def entries(ops: OpsDatabase) -> list[CatalogueEntry]:
    with ops.session() as session:
        return list(session.scalars(select(CatalogueEntry).order_by(CatalogueEntry.id)))


def entry(ops: OpsDatabase, entry_id: str) -> CatalogueEntry:
    with ops.session() as session:
        found = session.get(CatalogueEntry, entry_id)
    if found is None:
        raise NotFound("No such catalogue entry", where="dataset",
                       hint="List the catalogue (GET /api/v1/catalogue, precimed sharing "
                            "catalogue) for the entries there are.")
    return found


def conditions(ops: OpsDatabase, entry_id: str, *, version: int | None = None,
               ) -> tuple[Condition, ...]:
    """An entry's DUO conditions: the newest version, or the one named."""
    record = _conditions_record(ops, entry_id, version=version)
    return tuple(parse_condition(t) for t in record.conditions) if record else ()


def _conditions_record(ops: OpsDatabase, entry_id: str, *, version: int | None,
                       ) -> CatalogueConditions | None:
    query = select(CatalogueConditions).where(CatalogueConditions.entry_id == entry_id)
    if version is not None:
        query = query.where(CatalogueConditions.version == version)
    with ops.session() as session:
        return session.scalars(query.order_by(CatalogueConditions.version.desc())).first()


def history(ops: OpsDatabase, entry_id: str) -> list[CatalogueConditions]:
    with ops.session() as session:
        return list(session.scalars(
            select(CatalogueConditions).where(CatalogueConditions.entry_id == entry_id)
            .order_by(CatalogueConditions.version)))


def describe(ops: OpsDatabase, item: CatalogueEntry, *, policy: Policy) -> dict[str, Any]:
    """What anyone signed in may see of an entry: exact counts never, protected ones."""
    by_centre = pd.DataFrame({"centre": list(item.counts),
                              "count": [int(n) for n in item.counts.values()]})
    protected: list[dict[str, Any]] = []
    if len(by_centre):
        table = protect_counts(by_centre, by=["centre"], policy=policy, margins=False)
        protected = [{"centre": r.centre,
                      "participants": None if pd.isna(r.count) else int(r.count)}
                     for r in table.itertuples()]
    return {
        "id": item.id, "kind": item.kind, "release": item.release, "cohort": item.cohort,
        "genotype_dataset": item.genotype_dataset,
        "title": {"zh": item.title_zh, "en": item.title_en},
        "description": {"zh": item.description_zh, "en": item.description_en},
        "centres": list(item.centres), "access_tier": item.access_tier,
        "embargo_until": item.embargo_until.isoformat() if item.embargo_until else None,
        "variables": list(item.variables),
        "participants": protect_count(int(item.participants), policy=policy),
        "participants_by_centre": protected,
        "conditions_version": item.conditions_version,
        "conditions": [c.to_dict() for c in conditions(ops, item.id)],
    }


def beacon_conditions(ops: OpsDatabase) -> dict[str, tuple[tuple[str, str], ...]]:
    """Each genotype dataset's newest DUO conditions as the Beacon's ``duoDataUse`` takes
    them, (DUO ID, label), by the store's dataset name; datasets whose entry has no
    conditions are left out (the Beacon keeps its default for them)."""
    out = {}
    for item in entries(ops):
        if item.genotype_dataset and item.conditions_version:
            out[item.genotype_dataset] = tuple(
                (c.term.id, f"{c.term.en}: {c.value}" if c.value else c.term.en)
                for c in conditions(ops, item.id))
    return out


def conditions_stamp(ops: OpsDatabase) -> tuple[tuple[str, int], ...]:
    """(entry, conditions version) of every genotype entry: changes when any of their
    conditions do, so a cache of :func:`beacon_conditions` knows when to refresh."""
    with ops.session() as session:
        rows = session.execute(
            select(CatalogueEntry.id, CatalogueEntry.conditions_version)
            .where(CatalogueEntry.genotype_dataset.is_not(None))
            .order_by(CatalogueEntry.id))
        return tuple((entry_id, version) for entry_id, version in rows)


# -- publishing ------------------------------------------------------------------------
def publish_release(ops: OpsDatabase, snapshot: Any, release: str, *, actor: str,
                    client: str = "") -> list[str]:
    """One entry per cohort of a release's clinical tables; returns the entry ids."""
    people = _people_by_cohort(snapshot)
    measured = _codes_by_cohort(snapshot)
    ids = []
    for cohort_code, by_centre in sorted(people.items()):
        cohort = COHORTS.get(cohort_code)
        zh, en = (cohort.zh, cohort.en) if cohort else (cohort_code, cohort_code)
        ids.append(_upsert(ops, CatalogueEntry(
            id=f"clinical-{release}-{cohort_code}".lower(), kind="clinical",
            release=release, cohort=cohort_code, genotype_dataset=None,
            title_zh=f"{zh}：临床与随访数据（{release}）",
            title_en=f"{en}: clinical and follow-up data ({release})",
            description_zh=f"发布版本 {release} 中{zh}的基线、测量、暴露、诊断、用药、随访与"
                           "终点数据。",
            description_en=f"Baseline, measurements, exposures, diagnoses, medication, "
                           f"follow-up and endpoints of the {en} in release {release}.",
            centres=sorted(by_centre), variables=_clinical_variables(measured[cohort_code]),
            participants=sum(by_centre.values()), counts=by_centre), actor=actor))
    audit.record(ops, actor=actor, action="catalogue.publish", outcome="ok",
                 resource=f"release {release}", client=client, detail={"entries": ids})
    return ids


def publish_genotypes(ops: OpsDatabase, store: Any, snapshot: Any, *, actor: str,
                      left_out: frozenset[str] = frozenset(), client: str = "") -> list[str]:
    """One entry per genotype dataset of the store (its centres from the release).

    A participant dataset counts the people a genotype output may include: samples the
    release holds (its snapshot already leaves out who withdrew), less ``left_out``, whom
    consent keeps out of genetics (:func:`precimed.genomics.consent.left_out`). A public
    reference callset (no sample is a participant) counts its samples."""
    centre_of = _centre_by_pseudonym(snapshot)
    ids = []
    for meta in store.meta["datasets"]:
        name = meta["name"]
        samples = store.samples(name)
        counts: dict[str, int] = {}
        for pseudonym in samples["sample_id"]:
            centre = centre_of.get(str(pseudonym))
            if centre and str(pseudonym) not in left_out:
                counts[centre] = counts.get(centre, 0) + 1
        participant = any(str(s) in centre_of for s in samples["sample_id"])
        ids.append(_upsert(ops, CatalogueEntry(
            id=f"genotype-{name}".lower(), kind="genotype", release=None, cohort=None,
            genotype_dataset=name,
            title_zh=f"基因型数据集 {name}", title_en=f"Genotype dataset {name}",
            description_zh="参与者的基因型（人类遗传资源信息）。" if participant else
            "公共参考基因型数据。",
            description_en="Participants' genotypes (human genetic resource information)."
            if participant else "A public reference callset.",
            centres=sorted(counts), variables=list(GENOTYPE_VARIABLES),
            participants=sum(counts.values()) if participant else len(samples),
            counts=counts if participant else {"—": len(samples)}),
            actor=actor))
    audit.record(ops, actor=actor, action="catalogue.publish", outcome="ok",
                 resource="genotype store", client=client, detail={"entries": ids})
    return ids


def _upsert(ops: OpsDatabase, new: CatalogueEntry, *, actor: str) -> str:
    """Insert an entry as controlled with no conditions, or refresh the counts and
    variables of an existing one (keeping what people set)."""
    now = _now()
    with ops.session() as session, session.begin():
        old = session.get(CatalogueEntry, new.id)
        if old is None:
            new.access_tier, new.embargo_until, new.conditions_version = "controlled", None, 0
            new.created_by, new.created_at, new.updated_at = actor, now, now
            session.add(new)
        else:
            old.centres, old.variables = new.centres, new.variables
            old.participants, old.counts, old.updated_at = new.participants, new.counts, now
    return new.id


def _people_by_cohort(snapshot: Any) -> dict[str, dict[str, int]]:
    con = snapshot.connect()
    try:
        p = con.table(TABLES["participant"].name)
        rows = p.group_by(["cohort", "centre"]).aggregate(n=p.count()).to_pyarrow().to_pylist()
    finally:
        con.disconnect()
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["cohort"], {})[r["centre"]] = int(r["n"])
    return out


def _codes_by_cohort(snapshot: Any) -> dict[str, set[str]]:
    """Measurement and exposure codes recorded for anyone in each cohort."""
    con = snapshot.connect()
    out: dict[str, set[str]] = {}
    try:
        p = con.table(TABLES["participant"].name)
        for table in (TABLES["measurement"].name, TABLES["exposure"].name):
            t = con.table(table)
            joined = t.join(p, t.pseudonym == p.pseudonym).select(p.cohort, t.code).distinct()
            for r in joined.to_pyarrow().to_pylist():
                out.setdefault(r["cohort"], set()).add(r["code"])
    finally:
        con.disconnect()
    return out


def _centre_by_pseudonym(snapshot: Any) -> dict[str, str]:
    rows = snapshot.to_arrow(TABLES["participant"].name, columns=["pseudonym", "centre"])
    return dict(zip(rows.column("pseudonym").to_pylist(), rows.column("centre").to_pylist(),
                    strict=True))


def _clinical_variables(codes: set[str] | None) -> list[str]:
    """Participant fields (no identifiers), age, then the measurement and exposure codes
    recorded in the cohort, in the data dictionary's order."""
    person = [f.name for f in TABLES["participant"].fields if f.name != "pseudonym"]
    codes = codes or set()
    return [*person, "age", *(c for c in MEASUREMENT_ITEMS if c in codes),
            *(c for c in EXPOSURE_ITEMS if c in codes)]


# -- changing --------------------------------------------------------------------------
def require_owner(principal: Principal, item: CatalogueEntry) -> None:
    """Admins (no centre scope) manage every entry; a data manager the entries all of whose
    owning centres they serve."""
    if not principal.can("catalogue.manage"):
        raise Forbidden("Your roles do not allow catalogue.manage", where="catalogue",
                        hint="An admin or the owning centre's data manager sets conditions.")
    if not all(principal.sees_centre(c) for c in item.centres) or (
            principal.centres and not item.centres):
        raise Forbidden("Only the owning centres or an admin may change this entry",
                        where=f"catalogue entry {item.id}",
                        hint="Ask a data manager of every owning centre, or an admin.")


def _require_owner_audited(ops: OpsDatabase, principal: Principal, item: CatalogueEntry,
                           *, action: str, client: str) -> None:
    """:func:`require_owner`, with a refusal in the audit log."""
    try:
        require_owner(principal, item)
    except Forbidden:
        audit.record(ops, actor=principal.username, action=action, outcome="deny",
                     resource=f"catalogue entry {item.id}", client=client)
        raise


def set_conditions(ops: OpsDatabase, entry_id: str, texts: list[str], *,
                   principal: Principal, reason: str = "", client: str = "") -> int:
    """Record a new version of an entry's DUO conditions; returns the version number."""
    item = entry(ops, entry_id)
    _require_owner_audited(ops, principal, item, action="catalogue.conditions",
                           client=client)
    parsed = parse_conditions(texts, where="conditions")
    if not any(c.term.kind == "permission" for c in parsed):
        raise UserError("The conditions name no DUO permission", where="conditions",
                        hint="Start with one of NRES, GRU, HMB, DS:<disease>, POA.")
    with ops.session() as session, session.begin():
        current = session.get(CatalogueEntry, entry_id, with_for_update=True)
        version = current.conditions_version + 1
        session.add(CatalogueConditions(entry_id=entry_id, version=version,
                                        conditions=[str(c) for c in parsed],
                                        set_by=principal.username, set_at=_now(),
                                        reason=reason))
        current.conditions_version, current.updated_at = version, _now()
    audit.record(ops, actor=principal.username, action="catalogue.conditions", outcome="ok",
                 resource=f"catalogue entry {entry_id}", client=client,
                 detail={"version": version, "conditions": [str(c) for c in parsed]})
    return version


def update_entry(ops: OpsDatabase, entry_id: str, *, principal: Principal,
                 access_tier: str | None = None, embargo_until: dt.date | None = None,
                 clear_embargo: bool = False, kind: str | None = None,
                 titles: dict[str, str] | None = None,
                 client: str = "") -> CatalogueEntry:
    """Change an entry's tier, embargo, titles and descriptions (zh/en), or say which
    kind of genetic data a genotype entry holds (genotype, exome or genome: the security
    review of HGR rules Art. 37 depends on it)."""
    item = entry(ops, entry_id)
    _require_owner_audited(ops, principal, item, action="catalogue.update", client=client)
    if access_tier is not None and access_tier not in ACCESS_TIER:
        raise UserError(f"Unknown access tier {access_tier[:20]!r}", where="access_tier",
                        hint="Use " + ", ".join(ACCESS_TIER.codes) + ".")
    allowed = {"title_zh", "title_en", "description_zh", "description_en"}
    unknown = sorted(set(titles or {}) - allowed)
    if unknown:
        raise UserError(f"Unknown field {unknown[0]!r}", where="titles",
                        hint="Use " + ", ".join(sorted(allowed)) + ".")
    blank = sorted(name for name, text in (titles or {}).items()
                   if name.startswith("title_") and not str(text).strip())
    if blank:
        raise UserError(f"The title {blank[0]!r} is empty", where="titles",
                        hint="Give the entry's title in Chinese and in English.")
    if kind is not None and (item.kind not in GENETIC_INFORMATION_KINDS
                             or kind not in GENETIC_INFORMATION_KINDS):
        raise UserError("Only a genetic entry's kind can change, to genotype, exome or "
                        "genome", where="kind", hint="Clinical entries stay clinical.")
    changed: dict[str, Any] = dict(titles or {})
    if kind is not None:
        changed["kind"] = kind
    if access_tier is not None:
        changed["access_tier"] = access_tier
    if embargo_until is not None or clear_embargo:
        changed["embargo_until"] = None if clear_embargo else embargo_until
    with ops.session() as session, session.begin():
        current = session.get(CatalogueEntry, entry_id)
        for name, value in changed.items():
            setattr(current, name, value)
        current.updated_at = _now()
    audit.record(ops, actor=principal.username, action="catalogue.update", outcome="ok",
                 resource=f"catalogue entry {entry_id}", client=client,
                 detail={"fields": sorted(changed)})
    return entry(ops, entry_id)
