"""Submitting genotypes from the submissions page, in Chromium, on a fresh home of its own
(the shared home's store and lake never change): the VCF and sample sheet go through the
form, the job's progress shows live, the verdict line says the dataset was published and
links to the centre's scorecard, which lists the genotype scoring; a VCF with a sample the
sheet lacks ends in an error naming it."""

from __future__ import annotations

from playwright.sync_api import expect

from genotyped import enrol, resident_ids, sheet_text, vcf_text
from platform_home import settings_for
from precimed.genomics import GenotypeStore

N, M = 30, 120  # samples, variants
SAMPLES = [f"LAB{i:04d}" for i in range(N)]


def write_vcf(path, samples: list[str]) -> None:
    path.write_text(vcf_text(samples, variants=M, seed=5, start=5000))


def write_sheet(path, samples: list[str], ids: list[str]) -> None:
    path.write_text(sheet_text(samples, ids))


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
