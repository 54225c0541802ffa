"""``precimed sharing extract`` and ``precimed sharing outputs`` on a copy of the released
test home: a member cuts an extract and submits a table, a reviewer releases it; a
non-member and an account without review rights are refused with user errors."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from platform_home import settings_for
from precimed.cli.main import cli
from precimed.errors import UserError
from precimed.ops import OpsDatabase
from projects_home import make_project


@pytest.fixture(scope="module")
def home(released_home, tmp_path_factory):
    copy = tmp_path_factory.mktemp("projects-cli") / "home"
    shutil.copytree(released_home, copy)
    settings = settings_for(copy)
    ops = OpsDatabase(settings.database_url)
    ops.create()
    project = make_project(ops, settings.lake_dir, applicant="researcher",
                           on=settings.as_of_given or dt.date.today())
    ops.dispose()
    return copy, project


def run(home, *args):
    return CliRunner().invoke(cli, ["--home", str(home), "sharing", *args])


def test_extract_submit_and_release_from_the_command_line(home, tmp_path):
    path, project = home
    result = run(path, "extract", project, "--as", "researcher", "--json")
    assert result.exit_code == 0, result.output
    made = json.loads(result.output)
    folder = settings_for(path).projects_dir / project / "extracts" / made["id"]
    frame = pd.read_parquet(folder / "data.parquet")
    assert len(frame) == made["rows"] and "pseudonym" not in frame.columns
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["request"] == project and set(manifest["files"]) >= {"data.csv"}

    (tmp_path / "t.csv").write_text("sex,n\n1,40\n2,3\n")
    (tmp_path / "spec.json").write_text(json.dumps({"by": ["sex"], "counts": ["n"]}))
    result = run(path, "outputs", "submit", project, str(tmp_path / "t.csv"), "--as",
                 "researcher", "--title", "by sex", "--spec", str(tmp_path / "spec.json"))
    assert result.exit_code == 0, result.output
    assert "check protected" in result.output and "threshold: n, row 2" in result.output
    output_id = result.output.split()[1]
    queue = run(path, "outputs", "list", "--as", "dac", "--json")
    assert output_id in [o["id"] for o in json.loads(queue.output)]
    result = run(path, "outputs", "review", output_id, "--as", "dac", "--release")
    assert result.exit_code == 0 and "released" in result.output, result.output
    listed = json.loads(run(path, "outputs", "list", project, "--as", "researcher",
                            "--json").output)
    assert [o["status"] for o in listed if o["id"] == output_id] == ["released"]


def test_refusals_are_user_errors(home):
    path, project = home
    refused = run(path, "extract", project, "--as", "researcher2").exception
    assert isinstance(refused, UserError) and refused.http_status == 404
    refused = run(path, "outputs", "list", "--as", "researcher").exception
    assert isinstance(refused, UserError) and refused.http_status == 403
    refused = run(path, "outputs", "review", "nope", "--as", "dac").exception
    assert isinstance(refused, UserError) and refused.where == "decision"


def test_a_genotype_extract_from_the_command_line(home):
    from precimed.lake import Lake
    from projects_home import genotype_dataset, genotype_entry

    path, _ = home
    settings = settings_for(path)
    people = Lake(settings.lake_dir).snapshot("r1").to_arrow(
        "participant", columns=["pseudonym", "consent_scope"]).to_pylist()[:60]
    genotype_dataset(settings.genotypes_dir, "cli1", [p["pseudonym"] for p in people])
    ops = OpsDatabase(settings.database_url)
    entry = genotype_entry(ops, "cli1", people=len(people))
    project = make_project(ops, settings.lake_dir, applicant="researcher", more=(entry,),
                           on=settings.as_of_given or dt.date.today())
    ops.dispose()
    result = run(path, "extract", project, "--dataset", entry, "--as", "researcher")
    assert result.exit_code == 0, result.output
    consented = [p for p in people if p["consent_scope"] not in ("no_genetic", "withdrawn")]
    assert "genotype extract" in result.output
    assert f"{len(consented):,} people, 40 variants, genotypes.vcf.gz" in result.output
    folder = settings.projects_dir / project / "extracts"
    (made,) = list(folder.iterdir())
    text = gzip.decompress((made / "genotypes.vcf.gz").read_bytes()).decode()
    assert not any(p["pseudonym"] in text for p in people)
