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
VERDICT_ZH = {"pass": "质控通过", "pass_with_warnings": "质控通过（有警告）",
              "fail": "质控未通过"}
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
    assert verdict.inner_text() == f"{VERDICT_ZH[qc]} · 已发布"
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
    expect(genotype_rows).to_contain_text(" CST")  # the time in the platform's zone
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

    # a fifth of the calls missing: QC fails, and the page says which checks and links them
    (tmp_path / "low.vcf").write_text(vcf_text(SAMPLES, variants=M, seed=6, start=5000,
                                               missing=0.2))
    page.set_input_files("#genotype-vcf", str(tmp_path / "low.vcf"))
    page.uncheck("#genotype-replace")
    page.fill("#genotype-dataset", "sh01-lowcall")
    page.click("#genotype-button")
    verdict = page.locator("#genotype-verdict")
    expect(verdict).to_have_attribute("data-verdict", "fail", timeout=120_000)
    assert verdict.inner_text() == "质控未通过 · 未发布"
    expect(page.locator("#genotype-failed-checks")).to_have_text("未通过的检查：样本检出率")
    shot(page, "qc-failed")
    with page.expect_navigation():
        page.click("#genotype-checks")
    expect(page.locator("#qc-verdict")).to_have_text("质控未通过")
    failing = page.locator("#qc-check-table tr[data-status=fail]")
    expect(failing).to_have_count(1)
    assert failing.get_attribute("data-check") == "sample_call_rate"
    cells = failing.locator("td").all_inner_texts()
    assert cells[0].startswith("样本检出率") and cells[1:3] == ["完整性", "错误"], cells
    assert cells[3:6] == [str(N), str(N), "5.0%"] and cells[6] == "未通过", cells
    expect(page.locator("#qc-failed-summary")).to_have_text("未通过的检查：样本检出率")
    shot(page, "qc-checks")
    page.goto("/submissions")
    listed = page.locator("#genotype-qc-table tr:has(td)")
    expect(listed).to_have_count(2)
    expect(listed.first.locator("td").nth(2)).to_have_text("质控未通过")
    assert not page.js_errors, page.js_errors
