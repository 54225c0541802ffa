"""Withdrawn and no-genetics consent through the whole platform, on a synthetic home: a
centre resubmits two participants' rows, one with consent_scope = withdrawn, one with
no_genetic; the release made after leaves them out of counts, extracts, survival, the
Beacon's samples, the reference frequencies and the variant summary; the release made
before still answers as frozen but is marked and cuts no extract of the withdrawn."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from genotyped import sheet_text, vcf_text
from precimed.cli.main import main
from precimed.home import initialise
from precimed.ingest.pipeline import submit
from precimed.lake import Lake
from precimed.query import ParticipantIs, cohort
from precimed.query import compile as engine
from precimed.reference import ReferenceDatabase
from precimed.settings import load_settings
from precimed.synth.package import write_manifest

CENTRE = "SH01"  # standard headers, UTF-8 CSV
EVERYONE = cohort("everyone", ParticipantIs("centre", (CENTRE,)))


def participant_file(package: Path) -> pd.DataFrame:
    return pd.read_csv(package / "participant.csv", dtype=str, keep_default_na=False)


def resubmission(package: Path, out: Path, scopes: dict[int, str]) -> Path:
    """A package holding only the rows ``scopes`` names (by position), with a new scope
    and consent date: how a centre reports a changed consent."""
    rows = participant_file(package).iloc[list(scopes)].copy()
    rows["consent_scope"] = list(scopes.values())
    rows["consent_date"] = "2026-03-01"
    out.mkdir(parents=True)
    rows.to_csv(out / "participant.csv", index=False)
    write_manifest(out, CENTRE, {"participant.csv": "participant"}, None)
    return out


@pytest.fixture(scope="module")
def consent_home(clean_packages, tmp_path_factory):
    from precimed.workflows.genotypes import submit_genotypes

    root = tmp_path_factory.mktemp("consent")
    home = load_settings({"home": root / "home"}, environ={})
    initialise(home)
    package = clean_packages.packages[CENTRE]
    assert submit(package, home).accepted
    people = participant_file(package)
    ids = people["resident_id"].tolist()
    samples = [f"LAB{i:04d}" for i in range(len(ids))]
    (root / "g.vcf").write_text(vcf_text(samples, variants=60, seed=5, missing=0.0))
    (root / "s.csv").write_text(sheet_text(samples, ids))
    assert submit_genotypes(home, root / "g.vcf", root / "s.csv", centre=CENTRE,
                            build="GRCh38", performed_on=dt.date(2024, 1, 1)).published
    assert main(["--home", str(home.home), "release", "create", "r1"]) == 0
    change = resubmission(package, root / "resubmit", {0: "withdrawn", 1: "no_genetic"})
    assert submit(change, home).accepted
    assert main(["--home", str(home.home), "release", "create", "r2"]) == 0
    lake = Lake(home.lake_dir)
    raw = lake.snapshot("r2").including_withdrawn().to_arrow("participant").to_pandas()
    scopes = raw.set_index("pseudonym")["consent_scope"]
    withdrawn = scopes[scopes == "withdrawn"].index[0]
    no_genetic = scopes[scopes == "no_genetic"].index[0]
    return home, len(ids), withdrawn, no_genetic


def members(home, release: str) -> pd.DataFrame:
    con = Lake(home.lake_dir).snapshot(release).database(home.cache_dir)
    try:
        return engine.extract(con, EVERYONE, ["sex"])
    finally:
        con.disconnect()


@pytest.mark.slow
def test_the_release_after_leaves_the_withdrawn_out_of_counts_extracts_and_survival(
        consent_home):
    from precimed.workflows.survival import survival_data

    home, n, withdrawn, no_genetic = consent_home
    lake = Lake(home.lake_dir)
    assert lake.snapshot("r1").count("participant") == n  # frozen
    assert lake.snapshot("r2").count("participant") == n - 1
    con = lake.snapshot("r2").database(home.cache_dir)
    assert engine.attrition(con, EVERYONE)[-1].count == n - 1
    con.disconnect()
    after = members(home, "r2")
    assert withdrawn not in set(after.pseudonym) and no_genetic in set(after.pseudonym)
    for release, expected in (("r1", n), ("r2", n - 1)):
        data, _ = survival_data(home, EVERYONE, release=release, endpoint="death")
        assert len(data) == expected
    for table in ("visit", "measurement"):
        rows = lake.snapshot("r2").to_arrow(table, columns=["pseudonym"])
        assert withdrawn not in set(rows.column("pseudonym").to_pylist())


@pytest.mark.slow
def test_the_older_release_is_marked_and_cuts_no_extract_of_the_withdrawn(
        consent_home, tmp_path, capsys):
    import json

    home, n, withdrawn, _ = consent_home
    assert withdrawn in set(members(home, "r1").pseudonym)  # counts stay frozen
    definition = tmp_path / "everyone.json"
    definition.write_text(json.dumps(EVERYONE.to_dict()))
    out = tmp_path / "r1.csv"
    assert main(["--home", str(home.home), "cohort", "extract", str(definition), str(out),
                 "--release", "r1", "--variables", "sex,age"]) == 0
    extract = pd.read_csv(out, dtype=str)
    assert len(extract) == n - 1 and withdrawn not in set(extract.pseudonym)
    capsys.readouterr()
    assert main(["--home", str(home.home), "release", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "withdrew or were erased since" in lines["r1"]
    assert "withdrew" not in lines["r2"]


@pytest.mark.slow
def test_the_genotype_outputs_leave_out_the_withdrawn_and_the_no_genetic(consent_home):
    from precimed.api.app import _beacon_source
    from precimed.workflows.platform import Platform

    home, n, withdrawn, no_genetic = consent_home
    lake = Lake(home.lake_dir)
    for release, expected in (("r1", {n}), ("r2", {n - 2})):
        summary = lake.snapshot(release).to_arrow("variant_summary", columns=["samples"])
        assert set(summary.column("samples").to_pylist()) == expected
    reference = ReferenceDatabase.open(home.home / "reference")
    counts = reference.raw_counts([0])
    total = counts[(counts["stratum"] == "all")] if "stratum" in counts else counts
    assert set(total["allele_number"]) == {2 * (n - 2)}
    reference.close()
    platform = Platform(home)
    try:
        source = _beacon_source(platform).current
        labelled = set(source.samples["sample_id"])
        assert withdrawn not in labelled and no_genetic not in labelled
        assert len(source.samples) == n - 2
        marks = {r["name"]: r["holds_withdrawn"] for r in platform.releases()}
        assert marks == {"r1": True, "r2": False}
    finally:
        platform.close()


@pytest.mark.slow
def test_the_api_and_the_pages_say_which_release_holds_withdrawn_people(consent_home):
    from platform_home import PASSWORD, signed_in
    from precimed.api.app import create_app
    from precimed.ops import OpsDatabase, accounts

    home = consent_home[0]
    ops = OpsDatabase(home.database_url)
    accounts.create_user(ops, "marks", PASSWORD, roles=["researcher"], centres=[])
    ops.dispose()
    client = signed_in(create_app(home), "marks")
    releases = {r["name"]: r["holds_withdrawn"] for r in
                client.get("/api/v1/releases").json()}
    assert releases == {"r1": True, "r2": False}
    for lang, words in (("en", "withdrew or were erased since"), ("zh", "撤回同意")):
        page = client.get(f"/cohorts?lang={lang}").text
        assert words in page.split('id="cohort-release"')[1].split("</select>")[0]
