"""Submitting genotypes from the submissions page, in Chromium, on a fresh home of its own
(the shared home's store and lake never change): the VCF and sample sheet go through the
form, the job's progress shows live, the verdict line says the dataset was published and
links to the centre's scorecard, which lists the genotype scoring; a VCF with a sample the
sheet lacks ends in an error naming it."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pyarrow as pa
from playwright.sync_api import expect

from platform_home import settings_for
from precimed.deid.pseudonym import Pseudonymiser, load_key
from precimed.genomics import GenotypeStore
from precimed.lake import Lake
from precimed.lake.rows import with_row_keys
from precimed.standard.identity import check_character

N, M = 30, 120  # samples, variants
SAMPLES = [f"LAB{i:04d}" for i in range(N)]


def resident_ids(n: int) -> list[str]:
    out = []
    for i in range(n):
        first17 = f"310101{1960 + i % 30}0{1 + i % 9}1{i % 10}{300 + i:03d}"
        out.append(first17 + check_character(first17))
    return out


def enrol(settings, ids: list[str]) -> None:
    pseudonymise = Pseudonymiser(load_key(settings.pseudonym_key_file))
    n = len(ids)
    rows = pa.table({
        "pseudonym": [pseudonymise(i) for i in ids], "cohort": ["NP-EAST"] * n,
        "sex": ["1" if int(i[16]) % 2 else "2" for i in ids],
        "birth_year_month": ["1970-01"] * n, "native_province": ["31"] * n,
        "region": ["east"] * n, "ethnicity": ["01"] * n,
        "enrolment_date": [dt.date(2020, 1, 1)] * n, "consent_date": [dt.date(2020, 1, 1)] * n,
        "consent_scope": ["broad"] * n, "centre": ["SH01"] * n, "submission_id": ["t"] * n,
        "standard_version": ["1.0.0"] * n})
    con = ibis.duckdb.connect()
    Lake(settings.lake_dir).commit({"participant": with_row_keys("participant", rows, con)},
                                   submission_id="t", centre="SH01", digest="enrol-genotypes")
    con.disconnect()


def write_vcf(path, samples: list[str]) -> None:
    rng = np.random.default_rng(5)
    lines = ["##fileformat=VCFv4.2", "##contig=<ID=1>",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples)]
    for j in range(M):
        calls = np.array(["0/0", "0/1", "1/1"])[rng.binomial(2, rng.uniform(0.05, 0.5),
                                                             len(samples))]
        lines.append(f"1\t{5000 + 10 * j}\trs{j}\tA\tG\t.\tPASS\t.\tGT\t" + "\t".join(calls))
    path.write_text("\n".join(lines) + "\n")


def write_sheet(path, samples: list[str], ids: list[str]) -> None:
    path.write_text("sample_id,resident_id\n" + "".join(
        f"{s},{r}\n" for s, r in zip(samples, ids, strict=True)))


def test_genotypes_go_through_the_form_to_a_verdict_and_the_scorecard(
        signed_in, fresh_server, tmp_path, shot):
    settings = settings_for(fresh_server.home)
    ids = resident_ids(N)
    enrol(settings, ids)
    write_vcf(tmp_path / "sh01.vcf", SAMPLES)
    write_sheet(tmp_path / "samples.csv", SAMPLES, ids)

    page = signed_in("dm_sh01", on=fresh_server, next="/submissions")
    expect(page.locator("#genotype-card h2")).to_have_text("提交基因型数据")
    expect(page.locator("#genotype-dataset")).to_have_attribute("placeholder",
                                                                "留空则为 sh01-genotypes")
    page.set_input_files("#genotype-vcf", str(tmp_path / "sh01.vcf"))
    page.set_input_files("#genotype-sheet", str(tmp_path / "samples.csv"))
    page.select_option("#genotype-build", "GRCh38")
    page.click("#genotype-button")
    expect(page.locator("#genotype-job")).to_be_visible()
    verdict = page.locator("#genotype-verdict")
    expect(verdict).to_be_visible(timeout=120_000)
    assert not page.locator("#genotype-job-result.error").count(), \
        page.inner_text("#genotype-job-result")
    qc = verdict.get_attribute("data-verdict")
    assert qc in {"pass", "pass_with_warnings"} and verdict.get_attribute(
        "data-published") == "true"
    assert verdict.inner_text() == f"QC {qc} · 已发布"
    expect(page.locator("#genotype-job-result")).to_contain_text(
        f"sh01-genotypes: {N} 个样本，{M} 个变异")
    expect(page.locator("#genotype-job-progress")).to_contain_text("publishing")
    shot(page, "published")
    store = GenotypeStore.open(settings.genotypes_dir)
    assert len(store.samples("sh01-genotypes")) == N and len(store.variants()) == M

    link = page.locator("#genotype-scorecard")
    expect(link).to_have_attribute("href", "/api/v1/qc/scorecard.html?centre=SH01")
    with page.context.expect_page() as opened:
        link.click()
    card = opened.value
    card.wait_for_load_state()
    genotype_rows = card.locator("tr", has=card.locator("td", has_text="genotype"))
    expect(genotype_rows).to_have_count(1)
    expect(genotype_rows).to_contain_text(qc)
    shot(card, "scorecard")

    # a sample the sheet lacks: the job fails and says which, and what to do
    write_vcf(tmp_path / "sh01.vcf", [*SAMPLES, "LAB9999"])
    page.set_input_files("#genotype-vcf", str(tmp_path / "sh01.vcf"))
    page.check("#genotype-replace")
    page.click("#genotype-button")
    error = page.locator("#genotype-job-result.error")
    expect(error).to_be_visible(timeout=120_000)
    expect(error).to_contain_text("Sample LAB9999 of the VCF is not in the sample sheet")
    expect(error).to_contain_text("(sh01.vcf, sample LAB9999)")
    expect(page.locator("#genotype-job-status")).to_have_text("失败")
    shot(page, "failed")
    assert len(GenotypeStore.open(settings.genotypes_dir).samples("sh01-genotypes")) == N
    assert not page.js_errors, page.js_errors
