"""Synthetic genotypes: a valid bgzipped VCF that htslib and precimed read, reproducible
by seed, with frequencies that follow the intended cline, for synthetic participants."""

from __future__ import annotations

import gzip
import struct
import subprocess

import numpy as np
import pandas as pd
import pytest

from precimed.genomics import kernels
from precimed.genomics.vcf import read_sample_sheet, read_vcf
from precimed.reference.genes import gene_loci, gene_table
from precimed.standard import REGIONS
from precimed.standard.identity import resident_id_problem
from precimed.synth import synthesise
from precimed.synth.genotypes import (
    FREQUENCY_COLUMNS,
    KNOWN_VARIANTS,
    REGION_CLINE,
    bgzf_block,
    draw_calls,
    participants_of,
    simulate_panel,
    synthesise_genotypes,
    write_vcf,
)

# the SAM/BAM specification's BGZF end-of-file marker (§4.1.2)
EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """About 40 people at each of a northern and a southern centre; HL01 writes Chinese
    headers and labels in GBK, GD01 standard headers in UTF-8 with BOM."""
    return synthesise(tmp_path_factory.mktemp("synth") / "p", participants_count=80, seed=5,
                      centres=("HL01", "GD01")).packages


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(autosomal=400, x_linked=200, seed=3)


@pytest.fixture(scope="module")
def written(packages, panel, tmp_path_factory):
    people = participants_of(packages["HL01"])
    out = tmp_path_factory.mktemp("genotypes")
    return people, synthesise_genotypes(out, people, panel=panel, centre="HL01", seed=9)


def blocks(data: bytes) -> list[bytes]:
    """Split a BGZF file by the BSIZE of each block's BC extra subfield."""
    out, at = [], 0
    while at < len(data):
        magic, method, flags, xlen, si1, si2, slen, bsize = struct.unpack_from(
            "<HBB6xH2BHH", data, at)
        assert (magic, method, flags, xlen) == (0x8B1F, 8, 4, 6)
        assert (si1, si2, slen) == (ord("B"), ord("C"), 2)
        out.append(data[at:at + bsize + 1])
        at += bsize + 1
    assert at == len(data)
    return out


def test_the_empty_block_is_the_specifications_eof_marker():
    assert bgzf_block(b"") == EOF_BLOCK


def test_the_vcf_is_bgzf_that_htslib_reads(written, panel):
    _, files = written
    data = files.vcf.read_bytes()
    split = blocks(data)
    assert len(split) > 2 and split[-1] == EOF_BLOCK
    assert all(len(b) <= 65536 for b in split)
    lines = subprocess.run(f"bcftools view -H {files.vcf} | wc -l", shell=True, check=True,
                           capture_output=True, text=True)
    assert int(lines.stdout) == len(panel.variants) == files.variants
    # tabix indexes only true BGZF (plain gzip is refused) and checks the records' order
    subprocess.run(["tabix", "-p", "vcf", str(files.vcf)], check=True, capture_output=True)
    region = subprocess.run(["bcftools", "view", "-H", "-r", "12:111803962",
                             str(files.vcf)], check=True, capture_output=True, text=True)
    assert region.stdout.split("\t")[:5] == ["12", "111803962", "rs671", "G", "A"]
    header = subprocess.run(["bcftools", "view", "-h", str(files.vcf)], check=True,
                            capture_output=True, text=True).stdout
    assert "##fileformat=VCFv4.2" in header and "##contig=<ID=X,length=156040895" in header


def test_precimed_reads_the_calls_that_were_drawn(written, panel, tmp_path):
    people, files = written
    parsed = read_vcf(files.vcf)
    assert parsed.samples == [f"HL01-{i:05d}" for i in range(1, len(people) + 1)]
    assert parsed.variants[["chrom", "pos", "ref", "alt"]].equals(
        panel.variants[["chrom", "pos", "ref", "alt"]])
    assert set(parsed.variants["rsid"].dropna()) == {v.rsid for v in KNOWN_VARIANTS}
    male = (people["sex"] == "1").to_numpy()
    calls = draw_calls(panel, people, rng=np.random.default_rng(6))
    vcf = write_vcf(tmp_path / "drawn.vcf.gz", panel, calls, male=male,
                    samples=[f"S{i}" for i in range(len(people))])
    expected = calls.astype(np.int16)
    expected[np.ix_(panel.on_x, male)] *= 2  # a haploid call is stored as homozygous
    expected[calls < 0] = kernels.MISSING
    assert (kernels.unpack(read_vcf(vcf).packed, len(people)) == expected).all()
    assert (calls[np.ix_(panel.on_x, male)] <= 1).all()


def test_the_same_seed_writes_the_same_file(packages, panel, tmp_path):
    people = participants_of(packages["GD01"])
    first = synthesise_genotypes(tmp_path / "a", people, panel=panel, centre="GD01", seed=4)
    again = synthesise_genotypes(tmp_path / "b", people, panel=panel, centre="GD01", seed=4)
    other = synthesise_genotypes(tmp_path / "c", people, panel=panel, centre="GD01", seed=5)
    body = [_records(f.vcf) for f in (first, again, other)]
    assert body[0] == body[1] and body[0] != body[2]
    assert simulate_panel(autosomal=400, x_linked=200, seed=3).variants.equals(panel.variants)
    assert not simulate_panel(autosomal=400, x_linked=200, seed=4).variants.equals(
        panel.variants)


def _records(vcf) -> str:
    text = gzip.decompress(vcf.read_bytes()).decode()
    return "\n".join(line for line in text.splitlines() if not line.startswith("##fileDate"))


def test_every_sample_is_a_synthetic_participant_with_its_own_sex(packages, tmp_path):
    """Checked against the package file read directly (GD01 writes standard headers), not
    through participants_of; a resident ID's 17th digit is odd for men (GB 11643)."""
    panel = simulate_panel(autosomal=50, x_linked=100, seed=1)
    people = participants_of(packages["GD01"])
    files = synthesise_genotypes(tmp_path, people, panel=panel, centre="GD01", seed=1)
    sent = pd.read_csv(packages["GD01"] / "participant.csv", dtype=str, encoding="utf-8-sig")
    sheet = read_sample_sheet(files.sheet)
    assert list(sheet) == read_vcf(files.vcf).samples
    assert sorted(sheet.values()) == sorted(sent["resident_id"])
    assert not any(resident_id_problem(r) for r in sheet.values())
    parsed = read_vcf(files.vcf)
    on_x = kernels.unpack(parsed.packed, len(people))[(parsed.variants["chrom"] == "X")]
    het_on_x = (on_x == kernels.HET).any(axis=0)
    male = np.array([int(sheet[s][16]) % 2 == 1 for s in parsed.samples])
    assert not het_on_x[male].any()  # men carry one X
    assert het_on_x[~male].all()  # every woman is heterozygous somewhere on 100 X variants


def test_frequencies_follow_the_north_south_cline():
    """4,000 people in each of the far north and the far south. Tolerances: each observed
    regional ALT frequency lies within 5 binomial standard errors of the simulated one
    (4,000 comparisons: a false alarm has probability ~2e-3), and the observed north-minus-
    south difference correlates with the intended one, the cline before drift (r > 0.9;
    ~0.94 expected, as drift around the cline is about a third of its spread and sampling
    noise an eighth)."""
    panel = simulate_panel(autosomal=2_000, x_linked=0, seed=11)
    n = 4_000
    people = pd.DataFrame({"region": ["northeast"] * n + ["south"] * n,
                           "sex": np.tile(["1", "2"], n)})
    calls = draw_calls(panel, people, rng=np.random.default_rng(2))
    observed = {}
    for region, cols in (("northeast", slice(0, n)), ("south", slice(n, 2 * n))):
        block = calls[:, cols]
        called = (block >= 0).sum(axis=1)
        observed[region] = np.where(block >= 0, block, 0).sum(axis=1) / (2 * called)
        p = panel.frequencies[region].to_numpy()
        se = np.sqrt(p * (1 - p) / (2 * called))
        assert (np.abs(observed[region] - p) <= 5 * se).all()
        assert abs(1 - called.sum() / block.size - 0.002) < 0.0005  # missingness
    intended = panel.cline["northeast"] - panel.cline["south"]
    r = np.corrcoef(observed["northeast"] - observed["south"], intended)[0, 1]
    assert r > 0.9
    logit = np.log(panel.cline / (1 - panel.cline))
    # the cline is linear on the logit scale: z is +1 in the northeast, -1 in the south
    assert np.allclose(logit["northeast"] - logit["south"], 2 * panel.variants["slope"],
                       atol=1e-9)


def test_genotypes_are_in_hardy_weinberg_within_a_region():
    """Heterozygote share per variant against 2pq, summed over 1,000 variants and 5,000
    people: within 1% relative (the sampling error of the sum is ~0.1%)."""
    panel = simulate_panel(autosomal=1_000, x_linked=0, seed=12)
    people = pd.DataFrame({"region": ["east"] * 5_000, "sex": "2"})
    calls = draw_calls(panel, people, rng=np.random.default_rng(3), missing=0.0)
    p = panel.frequencies["east"].to_numpy()
    assert (calls == 1).sum() / (5_000 * (2 * p * (1 - p)).sum()) == pytest.approx(1, rel=0.01)
    assert (calls == 2).sum() / (5_000 * (p * p).sum()) == pytest.approx(1, rel=0.02)


def test_variants_sit_inside_real_genes(panel):
    random = panel.variants[panel.variants["rsid"].isna()].reset_index(names="row")
    loci = random.merge(gene_table(), left_on=["gene", "chrom"], right_on=["symbol", "chrom"])
    # a symbol with several loci on one chromosome: inside any of them
    inside = loci[(loci["start"] <= loci["pos"]) & (loci["pos"] <= loci["end"])]
    assert inside["row"].nunique() == len(random)
    on_x = random[random["chrom"] == "X"]["pos"]
    assert len(on_x) == 200 and ((on_x > 2_781_479) & (on_x < 155_701_383)).all()  # no PAR
    assert not panel.variants.duplicated(["chrom", "pos"]).any()


def test_known_variants_lie_in_their_genes_on_grch38():
    """A GRCh37 position would miss: the builds differ by far more than 2 kb here."""
    for v in KNOWN_VARIANTS:
        locus = gene_loci(v.gene).iloc[0]
        assert locus.chrom == v.chrom
        assert locus.start - 2_000 <= v.pos <= locus.end + 2_000, v.rsid


def test_the_cline_places_every_programme_region():
    assert set(REGION_CLINE) == set(REGIONS)
    assert FREQUENCY_COLUMNS[-1] not in REGIONS
