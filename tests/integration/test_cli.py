"""The ``precimed`` command as a person runs it: a real process, real exit codes."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from precimed.cli.main import cli


def run(*args: str, home=None) -> subprocess.CompletedProcess:
    prefix = ["--home", str(home)] if home else []
    return subprocess.run(
        [sys.executable, "-c", "import sys; from precimed.cli.main import main; "
         "sys.exit(main())", *prefix, *args], capture_output=True, text=True, timeout=600)


def _sub(group: click.Group, name: str) -> click.Command:
    """A subcommand as click finds it (the top group imports its commands lazily)."""
    return group.get_command(click.Context(group), name)


def all_commands() -> list[list[str]]:
    def walk(command: click.Command, path: list[str]):
        yield path
        if isinstance(command, click.Group):
            for name in command.list_commands(click.Context(command)):
                yield from walk(_sub(command, name), [*path, name])
    return list(walk(cli, []))


@pytest.mark.slow
@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "precimed")
def test_every_command_has_help(path):
    result = run(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    command = cli
    for name in path:
        command = _sub(command, name)
    assert command.help or command.short_help, f"{path} has no help text"


@pytest.mark.slow
def test_user_errors_are_one_line_with_a_hint_and_a_stable_code(tmp_path):
    result = run("submit", str(tmp_path), home=tmp_path / "nothing")
    assert result.returncode == 6
    assert result.stderr.count("\n") == 1 and "Hint:" in result.stderr
    assert "Traceback" not in result.stderr
    result = run("synth", str(tmp_path / "x"), "--defect-rate", "2")
    assert result.returncode == 2 and "--defect-rate" in result.stderr


@pytest.mark.slow
def test_init_synth_submit_release_through_the_command(tmp_path):
    home = tmp_path / "home"
    assert run("init", home=home).returncode == 0
    again = run("init", home=home)
    assert again.returncode == 4 and "already initialised" in again.stderr
    synth = run("synth", str(tmp_path / "p"), "--participants", "100", "--centres", "SH01")
    assert synth.returncode == 0, synth.stderr
    submitted = run("submit", str(tmp_path / "p" / "SH01"), home=home)
    assert submitted.returncode == 0 and "committed" in submitted.stdout
    assert "verifying" in submitted.stderr  # progress is shown
    assert run("release", "create", "r1", home=home).returncode == 0
    listed = run("release", "list", home=home)
    assert "r1" in listed.stdout
    summary = run("lake", "summary", "--release", "r1", home=home)
    assert "NP-EAST" in summary.stdout and "SH01" in summary.stdout
    listed = run("submissions", home=home)
    assert "committed" in listed.stdout


@pytest.mark.slow
def test_rejected_submission_exits_5_and_lists_problems(tmp_path):
    home = tmp_path / "home"
    run("init", home=home)
    run("synth", str(tmp_path / "p"), "--participants", "100", "--centres", "SH01",
        "--defect-rate", "0.05", "--defects", "bad_check_digit")
    result = run("submit", str(tmp_path / "p" / "SH01"), home=home)
    assert result.returncode == 5
    assert "rejected" in result.stdout and "check digit" in result.stdout
    assert "Hint:" in result.stdout


def test_standard_docs_and_schema_are_written(tmp_path):
    assert run("standard", "docs", str(tmp_path / "d")).returncode == 0
    assert (tmp_path / "d" / "zh" / "index.md").exists()
    assert run("standard", "schema", str(tmp_path / "s")).returncode == 0
    assert (tmp_path / "s" / "participant.schema.json").exists()


@pytest.mark.slow
def test_the_makefile_demo_line_parses(tmp_path):
    """`make demo` runs this exact command line; its options must be where click wants them."""
    from pathlib import Path

    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    line = next(x for x in makefile.splitlines() if "precimed" in x and " demo" in x)
    args = line.split("precimed", 1)[1].split()
    result = run(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert "Start a fresh demo home" in result.stdout


@pytest.mark.slow
def test_the_demo_genotypes_two_centres_and_builds_the_reference(home, tmp_path, capsys):
    """The demo's genotype stage (``genotype_centres``, as ``precimed demo`` calls it) on a
    released home of the two genotyped centres; the whole demo takes minutes even small.
    It ends with a genotype store, a passed genotype QC scoring per centre, and a
    reference database whose gene search finds variants with published frequencies."""
    from precimed.cli.demo import GENOTYPED_CENTRES, genotype_centres
    from precimed.deid import Policy
    from precimed.genomics import GenotypeStore
    from precimed.ingest.pipeline import submit
    from precimed.lake import Lake
    from precimed.qc.scorecard import scorecard
    from precimed.reference import ReferenceDatabase
    from precimed.synth import synthesise

    clean = synthesise(tmp_path / "incoming" / "clean", participants_count=160, seed=3,
                       centres=GENOTYPED_CENTRES)
    outcomes = [(c, p, submit(p, home)) for c, p in clean.packages.items()]
    Lake(home.lake_dir).create_release("demo-1", description="test")
    assert genotype_centres(home, outcomes, seed=3, say=lambda _: None)
    out = capsys.readouterr().out
    assert out.count("genotype QC pass") == 2 and "NOT published" not in out
    store = GenotypeStore.open(home.genotypes_dir)
    assert sorted(store.datasets) == ["gd01-array", "hl01-array"]
    assert len(store.samples("hl01-array")) == 80
    genotype = [r for r in scorecard(home) if r["kind"] == "genotype"]
    assert sorted((r["centre"], r["verdict"]) for r in genotype) == [("GD01", "pass"),
                                                                     ("HL01", "pass")]
    db = ReferenceDatabase.open(home.home / "reference")
    try:
        variants, frequencies = db.search("ALDH2", policy=Policy.from_settings(home))
    finally:
        db.close()
    assert "rs671" in set(variants["rsid"]) and len(variants) >= 2
    assert set(frequencies["dataset"]) == {"gd01-array", "hl01-array"}


@pytest.mark.slow
def test_a_genotype_dataset_name_is_refused_by_the_command_as_by_the_api(tmp_path):
    """--dataset went unchecked into the store's folders and the lake's predicate."""
    home = tmp_path / "home"
    assert run("init", home=home).returncode == 0
    vcf = tmp_path / "ref.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\t"
                   "FORMAT\ts1\n1\t100\trs1\tA\tG\t.\tPASS\t.\tGT\t0/1\n")
    result = run("genomics", "reference", str(vcf), "--dataset", "../../escaped",
                 "--build", "GRCh38", home=home)
    assert result.returncode == 2, result.stderr
    assert "dataset name is not allowed" in result.stderr and "Hint:" in result.stderr
    assert not (home / "escaped").exists() and not (tmp_path / "escaped").exists()
