"""Genetic research and consent in projects: a project that is genetic research (a
genotype dataset, or population-origins/ancestry use) leaves out people whose consent
forbids it from every extract, clinical ones included, and its match says how many; a
genotype extract holds the consented people's genotypes as a VCF named by project IDs,
checked against the human-genetic-resource rules before it is cut."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json

import cyvcf2
import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import select

from lake_rows import commit, participants
from precimed.deid.project import ProjectKey
from precimed.errors import Conflict, UserError
from precimed.lake import Lake
from precimed.ops import OpsDatabase, accounts, audit
from precimed.ops.db import AccessRequest, CatalogueEntry, Provision
from precimed.sharing import catalogue, requests, workspace
from precimed.sharing.form import RequestForm
from projects_home import genotype_dataset, genotype_entry, make_project

ON = dt.date(2026, 3, 2)
PEOPLE = [f"{i:032x}" for i in range(40)]
NO_GENETIC = PEOPLE[:12]  # in the release
WITHDRAWN_SINCE = PEOPLE[12]  # withdrew after the release
NO_GENETIC_SINCE = PEOPLE[13]  # chose no_genetic after the release
CONSENTED = PEOPLE[14:]
SOUTH = [f"{i:032x}" for i in range(100, 112)]  # another cohort, genotyped in gt3
CLINICAL = "clinical-r1-np-east"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """One home for the module: each test makes its own projects (and the HGR test its
    own genotype dataset, whose entry it changes)."""
    # not `from conftest import make_home`: in a whole-tree run the name `conftest` can be
    # tests/unit/genomics/conftest.py (it puts its folder on sys.path)
    from precimed.home import initialise
    from precimed.settings import load_settings

    home = load_settings({"home": tmp_path_factory.mktemp("genetic") / "home"}, environ={})
    initialise(home)
    lake = Lake(home.lake_dir)
    commit(lake, participants(PEOPLE[12:]), "d1")
    commit(lake, participants(NO_GENETIC, scope="no_genetic"), "d2")
    south = participants(SOUTH)
    south = south.set_column(south.schema.get_field_index("cohort"), "cohort",
                             pa.array(["NP-SOUTH"] * len(SOUTH)))
    commit(lake, south, "d1s")
    lake.create_release("r1")
    commit(lake, participants([WITHDRAWN_SINCE], scope="withdrawn"), "d3")
    commit(lake, participants([NO_GENETIC_SINCE], scope="no_genetic"), "d4")
    calls, _ = genotype_dataset(home.genotypes_dir, "gt1", PEOPLE)
    genotype_dataset(home.genotypes_dir, "gt2", PEOPLE)
    genotype_dataset(home.genotypes_dir, "ref1", [f"HG{i:05d}" for i in range(40)],
                     kind="reference")
    ops = OpsDatabase(home.database_url)
    ops.create()
    for name, roles in (("res", ["researcher"]), ("dac", ["dac"]), ("admin", ["admin"])):
        accounts.create_user(ops, name, "correct-horse-battery", roles=roles)
    now = dt.datetime.now(dt.UTC)
    ops.add(CatalogueEntry(
        id=CLINICAL, kind="clinical", release="r1", cohort="NP-EAST",
        genotype_dataset=None, title_zh="华东", title_en="East", description_zh="",
        description_en="", centres=["SH01"], access_tier="controlled", embargo_until=None,
        variables=["sex", "enrolment_date"], participants=40, counts={"SH01": 40},
        conditions_version=0, created_by="test", created_at=now, updated_at=now))
    genotype_entry(ops, "gt1", people=40)
    genotype_entry(ops, "gt2", people=40)
    genotype_entry(ops, "ref1", people=40)
    genotype_dataset(home.genotypes_dir, "gt3", PEOPLE + SOUTH)
    genotype_entry(ops, "gt3", people=len(PEOPLE + SOUTH))
    yield home, ops, calls
    ops.dispose()


def _project(ops, **changes) -> str:
    return make_project(ops, None, on=ON, applicant="res", entry=CLINICAL,
                        variables=("sex", "enrolment_date", "genotype"), definition=None,
                        **changes)


def _cut(home, ops, project_id, dataset=None) -> tuple[dict, object]:
    principal = accounts.principal_for(ops, "res")
    project = requests.active_request(ops, project_id, principal=principal, on=ON)
    made = workspace.cut_extract(home, ops, project, principal=principal, on=ON,
                                 dataset=dataset)
    return made, workspace.extract_folder(home, project_id, made["id"])


def _clinical_ids(home, ops, project_id) -> set[str]:
    _, folder = _cut(home, ops, project_id, CLINICAL)
    return set(pd.read_parquet(folder / "data.parquet").project_participant_id)


def test_a_genetic_project_leaves_no_genetic_people_out_of_its_clinical_extracts(platform):
    home, ops, _ = platform
    genetic = _project(ops, more=("genotype-gt1",))
    ids = _clinical_ids(home, ops, genetic)
    key = ProjectKey.load(home.keys_dir, genetic)
    assert ids == {key.participant_id(p) for p in CONSENTED}
    # the same datasets' people, for a clinical project: only the withdrawn are left out
    clinical = _project(ops)
    key = ProjectKey.create(home.keys_dir, clinical)
    assert _clinical_ids(home, ops, clinical) == {
        key.participant_id(p) for p in PEOPLE if p != WITHDRAWN_SINCE}
    # population-origins research is genetic research, whatever the datasets
    ancestry = _project(ops, intended_use={"purpose": "POA"})
    key = ProjectKey.create(home.keys_dir, ancestry)
    assert _clinical_ids(home, ops, ancestry) == {key.participant_id(p) for p in CONSENTED}
    excluded = [e.detail["consent_excluded"] for e in audit.events(ops, limit=500)
                if e.action == "project.extract" and e.outcome == "ok"
                and e.resource in {f"project {p}" for p in (genetic, clinical, ancestry)}]
    # (the one who withdrew since the release is already left out by the release's read)
    assert sorted(excluded) == [0, 13, 13]


def test_a_genotype_extract_is_a_vcf_of_the_consented_people_by_project_id(platform):
    home, ops, calls = platform
    project_id = _project(ops, more=("genotype-gt1",))
    made, folder = _cut(home, ops, project_id, "genotype-gt1")
    key = ProjectKey.load(home.keys_dir, project_id)
    vcf = folder / "genotypes.vcf.gz"
    expected = sorted(key.participant_id(p) for p in CONSENTED)
    assert cyvcf2.VCF(str(vcf)).samples == expected
    assert made["rows"] == 40 and made["dataset"] == "genotype-gt1"
    with gzip.open(vcf, "rt") as handle:
        text = handle.read()
    assert not any(p in text for p in PEOPLE)  # no platform pseudonym anywhere
    records = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    column = {pid: 9 + i for i, pid in enumerate(expected)}
    gt = {0: "0/0", 1: "0/1", 2: "1/1", 3: "./."}
    for person in (CONSENTED[0], CONSENTED[-1]):
        got = [r[column[key.participant_id(person)]] for r in records]
        assert got == [gt[c] for c in calls[:, PEOPLE.index(person)]]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "genotype" and manifest["people"] == len(CONSENTED)
    assert manifest["request"] == project_id and manifest["release"] == "r1"
    assert manifest["files"]["genotypes.vcf.gz"] == hashlib.sha256(
        vcf.read_bytes()).hexdigest()
    provenance = json.loads((folder / "provenance.json").read_text())
    assert provenance["genotype_dataset"] == "gt1" and provenance["build"] == "GRCh38"
    with ops.session() as session:
        provision = session.scalars(select(Provision)
                                    .where(Provision.request_id == project_id)).one()
    assert provision.genetic and provision.people == len(CONSENTED)
    assert provision.sha256 == manifest["files"]["genotypes.vcf.gz"]
    # the project's own IDs: the clinical extract names the same people the same way
    assert _clinical_ids(home, ops, project_id) == set(expected)


def test_a_genotype_extract_needs_the_hgr_records_before_it_is_cut(platform):
    home, ops, _ = platform
    with ops.session() as session, session.begin():
        session.get(CatalogueEntry, "genotype-gt2").kind = "genome"
    # active, as a request would be made before the entry's kind changed
    project_id = _project(ops, more=("genotype-gt2",), foreign_party=True)
    with pytest.raises(Conflict, match="filing record") as refused:
        _cut(home, ops, project_id, "genotype-gt2")
    assert refused.value.where == "dataset genotype-gt2"
    with ops.session() as session, session.begin():
        record = session.get(AccessRequest, project_id)
        record.hgr_filing_number, record.hgr_filing_date = "MOST-2026-1", ON
        record.hgr_backup_receipt = "B-1"
        session.get(CatalogueEntry, "genotype-gt2").participants = 600
    with pytest.raises(Conflict, match="security review"):
        _cut(home, ops, project_id, "genotype-gt2")
    assert not (home.projects_dir / project_id / "extracts").exists()
    with ops.session() as session:
        assert session.scalars(select(Provision)
                               .where(Provision.request_id == project_id)).first() is None
    denied = [e for e in audit.events(ops, limit=500)
              if e.action == "project.extract" and e.outcome == "deny"
              and e.resource == f"project {project_id}"]
    assert len(denied) == 2
    with ops.session() as session, session.begin():
        record = session.get(AccessRequest, project_id)
        record.security_review_ref, record.security_review_date = "SR-1", ON
    made, _ = _cut(home, ops, project_id, "genotype-gt2")
    assert made["rows"] == 40


def test_the_match_shows_how_many_people_consent_leaves_out(platform, tmp_path):
    home, ops, _ = platform
    admin = accounts.principal_for(ops, "admin")
    for entry in (CLINICAL, "genotype-gt1"):
        catalogue.set_conditions(ops, entry, ["GRU"], principal=admin)
    researcher = accounts.principal_for(ops, "res")
    pdf = tmp_path / "approval.pdf"
    pdf.write_bytes(b"%PDF-1.4 approval")

    def submitted(datasets, variables, purpose="HMB"):
        form = RequestForm.parse({
            "title_zh": "研究", "title_en": "Study", "summary_zh": "摘要",
            "summary_en": "Summary", "institution": "Fudan", "datasets": datasets,
            "intended_use": {"purpose": purpose}, "variables": variables,
            "ethics_number": "IRB-1", "duration_months": 12})
        record = requests.create(ops, form, principal=researcher)
        requests.attach_ethics(ops, record.id, pdf, filename="approval.pdf",
                               sharing_dir=home.sharing_dir, principal=researcher)
        return requests.submit(ops, record.id, principal=researcher, on=ON,
                               settings=home).match["consent"]

    genetic = submitted([CLINICAL, "genotype-gt1"], ["sex", "genotype"])
    assert genetic["genetic"] and genetic["scopes"] == ["no_genetic", "withdrawn"]
    # 12 no_genetic in the release, one since, one withdrawn since
    assert [(d["entry_id"], d["left_out"]) for d in genetic["datasets"]] == [
        (CLINICAL, 14), ("genotype-gt1", 14)]
    clinical = submitted([CLINICAL], ["sex"])
    assert not clinical["genetic"] and clinical["scopes"] == ["withdrawn"]
    # one person withdrew: a count below the threshold is not shown
    assert clinical["datasets"] == [{"entry_id": CLINICAL, "left_out": None,
                                     "suppressed": "small"}]
    assert submitted([CLINICAL], ["sex"], purpose="POA")["datasets"][0]["left_out"] == 14


def test_a_reference_callset_is_not_provided_through_a_project(platform):
    home, ops, _ = platform
    project_id = _project(ops, more=("genotype-ref1",))
    with pytest.raises(UserError, match="not of participants"):
        _cut(home, ops, project_id, "genotype-ref1")
    assert not (home.projects_dir / project_id / "extracts").exists()


def test_a_genotype_extract_holds_only_the_approved_cohorts_people(platform):
    home, ops, _ = platform
    south = {"format": "precimed-cohort", "version": 1, "name": "south",
             "criteria": [{"kind": "participant", "field": "cohort",
                           "values": ["NP-SOUTH"]}]}
    project_id = make_project(ops, None, on=ON, applicant="res", entry="genotype-gt3",
                              variables=("genotype",), definition=south)
    _, folder = _cut(home, ops, project_id, "genotype-gt3")
    key = ProjectKey.load(home.keys_dir, project_id)
    samples = cyvcf2.VCF(str(folder / "genotypes.vcf.gz")).samples
    assert samples == sorted(key.participant_id(p) for p in SOUTH)
    # the whole dataset, for a project approved without a cohort: the consented of both
    everyone = make_project(ops, None, on=ON, applicant="res", entry="genotype-gt3",
                            variables=("genotype",), definition=None)
    made, _ = _cut(home, ops, everyone, "genotype-gt3")
    assert made["people"] == len(CONSENTED) + len(SOUTH)


def test_the_catalogue_counts_only_the_people_a_genotype_output_may_include(platform,
                                                                           tmp_path):
    from precimed.genomics import consent as genomic_consent
    from precimed.genomics.store import GenotypeStore

    home, _, _ = platform
    ops = OpsDatabase(f"sqlite:///{tmp_path / 'ops.sqlite'}")  # the module's entries stay
    ops.create()
    try:
        lake = Lake(home.lake_dir)
        catalogue.publish_genotypes(ops, GenotypeStore.open(home.genotypes_dir),
                                    lake.snapshot("r1"), actor="admin",
                                    left_out=genomic_consent.left_out(lake, "r1"))
        gt1, ref1 = catalogue.entry(ops, "genotype-gt1"), catalogue.entry(ops, "genotype-ref1")
    finally:
        ops.dispose()
    # no_genetic in r1, withdrawn and no_genetic since: not counted (26 of 40 samples)
    assert gt1.participants == len(CONSENTED) == sum(gt1.counts.values())
    assert ref1.participants == 40 and ref1.centres == []  # a reference callset: every sample
