"""A centre's genotypes through the gate: a good VCF is scored, published to the served
store and recorded on the centre's scorecard with its assay rows in the lake; a VCF whose
samples are mostly uncalled fails the genotype rule set and publishes nothing, though its
scoring is kept. Participants and genotypes are simulated here (HWE-consistent)."""

from __future__ import annotations

from genotyped import enrol, resident_ids, sheet_text, vcf_text
from precimed.deid import Policy
from precimed.genomics import GenotypeStore
from precimed.lake import Lake
from precimed.qc.scorecard import scorecard
from precimed.reference import ReferenceDatabase
from precimed.workflows.genotypes import submit_genotypes

N, M = 60, 400


def write_vcf(path, samples: list[str], missing: float, seed: int) -> None:
    path.write_text(vcf_text(samples, variants=M, seed=seed, missing=missing))


def sheet(path, samples, ids):
    path.write_text(sheet_text(samples, ids))
    return path


def test_good_genotypes_are_published_and_scored(home, tmp_path):
    ids = resident_ids(N)
    enrol(home, ids)
    samples = [f"LAB{i:04d}" for i in range(N)]
    write_vcf(tmp_path / "good.vcf", samples, missing=0.002, seed=1)
    result = submit_genotypes(home, tmp_path / "good.vcf", sheet(tmp_path / "s.csv", samples,
                                                                ids),
                              centre="SH01", build="GRCh38")
    assert result.verdict in {"pass", "pass_with_warnings"} and result.published
    store = GenotypeStore.open(home.genotypes_dir)
    assert len(store.samples("precimed")) == N and len(store.variants()) == M
    assert Lake(home.lake_dir).snapshot().count("assay") == N
    card = [r for r in scorecard(home, centre="SH01") if r["kind"] == "genotype"]
    assert card and card[-1]["verdict"] == result.verdict
    assert not list((home.cache_dir / "genotype-staging").iterdir())
    # the served reference database was rebuilt with the new dataset, swapped in whole
    served = ReferenceDatabase.open(home.home / "reference")
    assert served.datasets == ["precimed"]
    found, published = served.search("1:1000-1100", policy=Policy.from_settings(home))
    assert len(found) == 11 and set(published["dataset"]) == {"precimed"}
    assert [p.name for p in home.home.iterdir() if p.name.startswith(".reference")] == []


def test_uncalled_genotypes_fail_the_gate_and_publish_nothing(home, tmp_path):
    ids = resident_ids(N)
    enrol(home, ids)
    samples = [f"LAB{i:04d}" for i in range(N)]
    write_vcf(tmp_path / "bad.vcf", samples, missing=0.30, seed=2)
    result = submit_genotypes(home, tmp_path / "bad.vcf", sheet(tmp_path / "s.csv", samples,
                                                               ids),
                              centre="SH01", build="GRCh38")
    assert result.verdict == "fail" and not result.published
    failing = {r.check for r in result.outcome.results if r.status == "fail"}
    assert "sample_call_rate" in failing
    assert not (home.genotypes_dir / "store.json").exists()
    assert not (home.home / "reference").exists()
    assert Lake(home.lake_dir).snapshot().count("assay") == 0
    card = [r for r in scorecard(home, centre="SH01") if r["kind"] == "genotype"]
    assert card[-1]["verdict"] == "fail"


def test_the_command_line_loads_a_reference_and_gates_a_submission(home, tmp_path, capsys):
    from pathlib import Path

    from precimed.cli.main import main

    data = Path(__file__).parents[1] / "validation" / "data"
    assert main(["--home", str(home.home), "genomics", "reference",
                 str(data / "genomics_1kg_chr1.vcf.gz"), "--dataset", "1kg", "--build",
                 "GRCh37", "--panel", str(data / "genomics_1kg_panel.tsv")]) == 0
    assert "1kg: 2,504 samples" in capsys.readouterr().out
    ids = resident_ids(N)
    enrol(home, ids)
    samples = [f"LAB{i:04d}" for i in range(N)]
    write_vcf(tmp_path / "bad.vcf", samples, missing=0.30, seed=3)
    code = main(["--home", str(home.home), "genomics", "submit", str(tmp_path / "bad.vcf"),
                 "--sheet", str(sheet(tmp_path / "s.csv", samples, ids)), "--centre", "SH01",
                 "--build", "GRCh37", "--dataset", "sh01"])
    out = capsys.readouterr().out
    assert code == 5 and "NOT published" in out and "sample_call_rate" in out
