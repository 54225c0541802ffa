"""Project workspaces: an active access request's extracts, for its members only.

Every entry point takes the project through :func:`project`, which answers 404 to a
non-member (ids cannot be probed) and 403 with a hint once the project is expired,
revoked or not yet active, and writes the refusal to the audit log. An extract is cut
from one approved clinical dataset (a release's cohort in the catalogue) with the
approved cohort definition and variables (:mod:`precimed.sharing.extract`), kept under
``HOME/projects/<request>/extracts/<extract>/``, recorded as a provision and audited;
every download is audited too. A project approved for a genotype dataset cuts genotype
extracts the same way (:func:`precimed.sharing.extract.cut_genotypes`): its consented
people's genotypes as a VCF whose samples are the project's participant IDs, checked
against the human-genetic-resource rules before anything is cut
(:func:`precimed.sharing.rules.require_provision`). A project that is genetic research
(:func:`precimed.sharing.consent.is_genetic`) leaves out whoever's consent forbids it
from every extract, clinical ones included.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select

from precimed.deid import Policy
from precimed.deid.project import ProjectKey
from precimed.errors import NotFound, UserError
from precimed.lake import Lake
from precimed.ops import audit
from precimed.ops.accounts import Principal
from precimed.ops.db import AccessRequest, CatalogueEntry, OpsDatabase, ProjectExtract
from precimed.query.model import CohortDefinition, ParticipantIs
from precimed.settings import Settings
from precimed.sharing import consent, provisions, requests, rules
from precimed.sharing.extract import (
    DATA_FILES,
    GENOTYPE_FILES,
    ExtractTerms,
    GenotypeExtract,
    cut,
    cut_genotypes,
    write,
)
from precimed.standard import MEASUREMENT_ITEMS
from precimed.standard.extracts import AGE
from precimed.standard.sharing import GENOTYPE_VARIABLES
from precimed.standard.tables import PARTICIPANT

EXTRACT_FILES = (*DATA_FILES, *GENOTYPE_FILES, "dictionary.json", "provenance.json",
                 "manifest.json")
_COHORT = PARTICIPANT.field("cohort").name


def access_date(settings: Settings) -> dt.date:
    """The date access is judged on: today, unless the home pins its as-of date (as the
    sharing routes do), so a project is active on the same day everywhere."""
    return settings.action_date


def project(ops: OpsDatabase, request_id: str, *, principal: Principal, on: dt.date,
            client: str = "", action: str = "project.read") -> AccessRequest:
    """The active project ``request_id`` for one of its members; refusals are audited."""
    try:
        return requests.active_request(ops, request_id, principal=principal, on=on)
    except UserError as refused:
        audit.record(ops, actor=principal.username, action=action, outcome="deny",
                     resource=f"project {request_id}", client=client,
                     detail={"reason": refused.what})
        raise


def active_projects(ops: OpsDatabase, *, principal: Principal, on: dt.date
                    ) -> list[AccessRequest]:
    """The principal's projects usable on ``on``: active, started and not expired."""
    return [r for r in requests.mine(ops, principal=principal)
            if r.status == "active" and (r.active_from is None or r.active_from <= on)
            and (r.expires_on is None or on <= r.expires_on)]


def summary(project: AccessRequest) -> dict[str, Any]:
    """What a member sees of the project's terms."""
    return {"id": project.id, "title_zh": project.title_zh, "title_en": project.title_en,
            "status": project.status, "applicant": project.applicant,
            "active_from": project.active_from.isoformat() if project.active_from else None,
            "expires_on": project.expires_on.isoformat() if project.expires_on else None,
            "date_handling": project.date_handling,
            "coarsen_allowed": bool(project.coarsen_allowed),
            "variables": list(project.variables)}


def workspace(ops: OpsDatabase, project: AccessRequest) -> dict[str, Any]:
    """The workspace page's and API's content: terms, datasets, extracts, outputs."""
    from precimed.sharing import outputs

    return {**summary(project),
            "datasets": [e.id for e in extractable_datasets(ops, project.id)],
            "extracts": [extract_dict(e) for e in extracts(ops, project.id)],
            "outputs": [outputs.output_dict(o) for o in outputs.of_project(ops, project.id)]}


def extractable_datasets(ops: OpsDatabase, request_id: str) -> list[CatalogueEntry]:
    """The approved datasets an extract can be cut from: a release's cohort, or a
    dataset of the genotype store."""
    return [e for e in requests.datasets_of(ops, request_id)
            if (e.kind == "clinical" and e.release and e.cohort) or e.genotype_dataset]


def extractable(variables: list[str]) -> tuple[list[str], list[str]]:
    """The approved variables an extract holds today (participant fields, age,
    measurement codes) and the rest (named in the manifest as not included)."""
    known = {*PARTICIPANT.field_names, AGE.name, *MEASUREMENT_ITEMS} - {"pseudonym"}
    return ([v for v in variables if v in known], [v for v in variables if v not in known])


def _approved(request: AccessRequest, entry: CatalogueEntry) -> CohortDefinition:
    if request.cohort_definition:
        return CohortDefinition.from_dict(request.cohort_definition, where="project")
    return CohortDefinition(name=entry.id, criteria=())  # approved for the whole dataset


def terms_of(request: AccessRequest, entry: CatalogueEntry, *,
             genetic: bool = False) -> ExtractTerms:
    """What the approval lets the project extract from one dataset: the approved cohort
    definition (none: the whole dataset), narrowed to the dataset's cohort."""
    approved = _approved(request, entry)
    definition = CohortDefinition(
        name=approved.name, description=approved.description,
        criteria=(*approved.criteria, ParticipantIs(_COHORT, (entry.cohort,))))
    variables, _ = extractable(list(request.variables))
    if not variables:
        raise UserError("None of the approved variables can be extracted", where="variables",
                        hint="Participant fields, age and measurement codes can be.")
    return ExtractTerms(request_id=request.id, release=entry.release, definition=definition,
                        variables=tuple(variables),
                        date_handling=request.date_handling or "shifted",
                        coarsen_allowed=bool(request.coarsen_allowed), genetic=genetic)


def genotype_terms(request: AccessRequest, entry: CatalogueEntry, *,
                   release: str) -> ExtractTerms:
    """What the approval lets the project extract from a genotype dataset: the samples
    of the approved cohort definition's people (run on ``release``; none: all)."""
    return ExtractTerms(request_id=request.id, release=release,
                        definition=_approved(request, entry),
                        variables=tuple(GENOTYPE_VARIABLES),
                        date_handling=request.date_handling or "shifted",
                        genetic=True, genotype_dataset=entry.genotype_dataset)


def cut_extract(settings: Settings, ops: OpsDatabase, request: AccessRequest, *,
                principal: Principal, dataset: str | None = None, on: dt.date,
                client: str = "") -> dict[str, Any]:
    """Cut, write, record and audit one extract of an active project, clinical or
    genotype. The release is read through :meth:`precimed.lake.Lake.extract_snapshot`:
    people who withdrew or were erased since it was made are left out too; so is whoever
    consent keeps out of the project's use (:mod:`precimed.sharing.consent`)."""
    entries = extractable_datasets(ops, request.id)
    chosen = [e for e in entries if dataset in (None, e.id)]
    if not chosen:
        raise NotFound("No approved dataset of that name", where="dataset",
                       hint="Extracts are cut from the request's approved clinical and "
                            "genotype datasets: "
                            + (", ".join(e.id for e in entries) or "none"))
    entry = chosen[0]
    approved = requests.datasets_of(ops, request.id)
    genetic = consent.is_genetic(request, approved)
    key = ProjectKey.create(settings.keys_dir, request.id)
    policy = Policy.from_settings(settings)
    lake = Lake(settings.lake_dir)
    try:
        if entry.genotype_dataset:
            extract = _cut_genotypes(settings, ops, request, entry, approved, lake=lake,
                                     key=key, policy=policy)
        else:
            terms = terms_of(request, entry, genetic=genetic)
            gone = consent.left_out(lake, entry.release, genetic=genetic)
            con = lake.extract_snapshot(entry.release).connect()
            try:
                extract = cut(con, terms, key=key, k=settings.extract_k_anonymity,
                              policy=policy, left_out=gone)
            finally:
                con.disconnect()
    except UserError as refused:
        audit.record(ops, actor=principal.username, action="project.extract",
                     outcome="deny", resource=f"project {request.id}", client=client,
                     detail={"dataset": entry.id, "reason": refused.what,
                             "where": refused.where})
        raise
    terms = extract.terms
    extract_id = secrets.token_hex(8)
    folder = extract_folder(settings, request.id, extract_id)
    manifest = write(extract, folder, extract_id=extract_id, actor=principal.username,
                     catalog_version=_catalog_version(settings, terms.release),
                     not_included=[] if entry.genotype_dataset
                     else extractable(list(request.variables))[1])
    row = ProjectExtract(
        id=extract_id, request_id=request.id, entry_id=entry.id, release=terms.release,
        rows=manifest["rows"], people=manifest["people"], columns=manifest["columns"],
        files=manifest["files"], date_handling=terms.date_handling,
        coarsened=extract.coarsened, created_by=principal.username,
        created_at=dt.datetime.fromisoformat(manifest["created_at"]))
    with ops.session() as session, session.begin():
        session.add(row)
    data_file = extract.files[0]
    provisions.record(ops, request, entry_id=entry.id, recipient=principal.username,
                      what=f"extract {extract_id}: "
                           + ", ".join(f.split(".", 1)[1] for f in extract.files),
                      people=extract.people, rows=extract.rows, on=on,
                      sha256=manifest["files"][data_file],
                      detail={"extract": extract_id, "release": terms.release},
                      client=client)
    audit.record(ops, actor=principal.username, action="project.extract", outcome="ok",
                 resource=f"project {request.id}", client=client,
                 detail={"extract": extract_id, "dataset": entry.id,
                         "people": extract.people, "rows": extract.rows,
                         "genetic_research": genetic,
                         "consent_excluded": extract.consent_excluded,
                         "coarsened": [c["column"] for c in extract.coarsened]})
    return extract_dict(row)


def _cut_genotypes(settings: Settings, ops: OpsDatabase, request: AccessRequest,
                   entry: CatalogueEntry, approved: list[CatalogueEntry], *, lake: Lake,
                   key: ProjectKey, policy: Policy) -> GenotypeExtract:
    """A genotype extract of ``entry``: the human-genetic-resource rules first, then the
    project's people (its cohort definition on the release it reads consent from)."""
    from precimed.genomics.store import GenotypeStore
    from precimed.query import compile as engine

    foreign = requests.hgr_state(ops, request).foreign
    where = f"dataset {entry.id}"
    rules.require_provision(request, entry, people=entry.participants, foreign=foreign,
                            where=where)
    release = consent.release_of(lake, approved)
    if release is None:
        raise UserError("There is no release to read consent and the cohort from",
                        where="release", hint="An administrator makes a release first "
                                              "(precimed release create).")
    terms = genotype_terms(request, entry, release=release)
    people = None
    if request.cohort_definition:
        con = lake.extract_snapshot(release).connect()
        try:
            people = frozenset(engine.extract(con, terms.definition, [])["pseudonym"])
        finally:
            con.disconnect()
    store = GenotypeStore.open(settings.genotypes_dir)
    kinds = {d["name"]: d.get("kind") for d in store.meta["datasets"]}
    if entry.genotype_dataset not in kinds:
        raise NotFound("The genotype dataset is not in the genotype store", where=where,
                       hint="It was replaced or removed; ask an administrator to "
                            "publish the catalogue again.")
    if kinds[entry.genotype_dataset] != "participants":
        raise UserError("This genotype dataset is not of participants", where=where,
                        hint="A public reference callset is not provided through a "
                             "project; obtain it from its source.")
    extract = cut_genotypes(store, terms,
                            people=people,
                            left_out=consent.left_out(lake, release, genetic=True),
                            key=key, policy=policy)
    rules.require_provision(request, entry, people=extract.people, foreign=foreign,
                            where=where)
    return extract


def _catalog_version(settings: Settings, release: str) -> int | None:
    found = Lake(settings.lake_dir).catalog().releases.get(release)
    return found.catalog_version if found else None


def extract_folder(settings: Settings, request_id: str, extract_id: str) -> Path:
    return settings.projects_dir / request_id / "extracts" / extract_id


def extract_dict(row: ProjectExtract) -> dict[str, Any]:
    genotype = any(name in GENOTYPE_FILES for name in row.files)
    return {"id": row.id, "request": row.request_id, "dataset": row.entry_id,
            "kind": "genotype" if genotype else "clinical", "release": row.release,
            "rows": row.rows, "people": row.people, "columns": row.columns,
            "files": row.files, "date_handling": row.date_handling,
            "coarsened": row.coarsened, "created_by": row.created_by,
            "created_at": row.created_at.isoformat()}


def extracts(ops: OpsDatabase, request_id: str) -> list[ProjectExtract]:
    with ops.session() as session:
        return list(session.scalars(select(ProjectExtract)
                                    .where(ProjectExtract.request_id == request_id)
                                    .order_by(ProjectExtract.created_at.desc())))


def extract_file(settings: Settings, ops: OpsDatabase, request: AccessRequest,
                 extract_id: str, name: str, *, principal: Principal,
                 client: str = "") -> Path:
    """The path of one file of a project's extract, for a member; the read is audited.
    Another project's extract answers 404, the same as a missing one."""
    with ops.session() as session:
        row = session.get(ProjectExtract, extract_id)
    if (row is None or row.request_id != request.id
            or name not in EXTRACT_FILES or name not in {*row.files, "manifest.json"}):
        audit.record(ops, actor=principal.username, action="project.download",
                     outcome="deny", resource=f"project {request.id}", client=client,
                     detail={"reason": "no such extract file in this project"})
        raise NotFound("No such extract file in this project", where="extract",
                       hint="List the project's extracts to find their ids and files.")
    audit.record(ops, actor=principal.username, action="project.download", outcome="ok",
                 resource=f"project {request.id}", client=client,
                 detail={"extract": extract_id, "file": name, "rows": row.rows})
    return extract_folder(settings, request.id, extract_id) / name
