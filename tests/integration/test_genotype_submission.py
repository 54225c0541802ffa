"""A centre's genotypes through the gate: a good VCF is scored, published to the served
store and recorded on the centre's scorecard with its assay rows in the lake; a VCF whose
samples are mostly uncalled fails the genotype rule set and publishes nothing, though its
scoring is kept. Participants and genotypes are simulated here (HWE-consistent)."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pyarrow as pa

from precimed.deid import Policy
from precimed.deid.pseudonym import Pseudonymiser, load_key
from precimed.genomics import GenotypeStore
from precimed.genomics.submit import submit_genotypes
from precimed.lake import Lake
from precimed.lake.rows import with_row_keys
from precimed.qc.scorecard import scorecard
from precimed.reference import ReferenceDatabase
from precimed.standard.identity import check_character

N, M = 60, 400


def resident_ids(n: int) -> list[str]:
    out = []
    for i in range(n):
        first17 = f"310101{1950 + i % 40}0{1 + i % 9}1{i % 10}{100 + i:03d}"
        out.append(first17 + check_character(first17))
    return out


def enrol(settings, ids: list[str]) -> None:
    pseudonymise = Pseudonymiser(load_key(settings.pseudonym_key_file))
    n = len(ids)
    sexes = ["1" if int(i[16]) % 2 else "2" for i in ids]
    rows = pa.table({
        "pseudonym": [pseudonymise(i) for i in ids], "cohort": ["NP-EAST"] * n,
        "sex": sexes, "birth_year_month": ["1970-01"] * n, "native_province": ["31"] * n,
        "region": ["east"] * n, "ethnicity": ["01"] * n,
        "enrolment_date": [dt.date(2020, 1, 1)] * n, "consent_date": [dt.date(2020, 1, 1)] * n,
        "consent_scope": ["broad"] * n, "centre": ["SH01"] * n, "submission_id": ["t"] * n,
        "standard_version": ["1.0.0"] * n})
    con = ibis.duckdb.connect()
    Lake(settings.lake_dir).commit({"participant": with_row_keys("participant", rows, con)},
                                   submission_id="t", centre="SH01", digest="enrol")
    con.disconnect()


def write_vcf(path, samples: list[str], missing: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lines = ["##fileformat=VCFv4.2", "##contig=<ID=1>",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples)]
    for j in range(M):
        p = rng.uniform(0.05, 0.5)
        g = rng.binomial(2, p, len(samples))
        calls = np.array(["0/0", "0/1", "1/1"])[g]
        calls[rng.random(len(samples)) < missing] = "./."
        lines.append(f"1\t{1000 + 10 * j}\trs{j}\tA\tG\t.\tPASS\t.\tGT\t" + "\t".join(calls))
    path.write_text("\n".join(lines) + "\n")


def sheet(path, samples, ids):
    path.write_text("sample_id,resident_id\n"
                    + "".join(f"{s},{r}\n" for s, r in zip(samples, ids, strict=True)))
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
