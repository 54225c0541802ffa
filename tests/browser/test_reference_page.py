"""The population reference page in a real browser, over its own home: the 1000 Genomes
chr1 subset (GRCh37, 2,504 samples, real genotypes) as a reference callset, and the same
genotypes relabelled as a participant callset (provinces and sex assigned round-robin,
Hainan given six people so a small cell exists), summarised by
``precimed.reference.write_summary`` under the home's disclosure policy (threshold 10).

Every number the page shows is compared with the API's answer for the same search;
AF is compared to the shown precision (half a unit in the last shown digit)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from precimed.deid import Policy
from precimed.genomics.store import DatasetFiles, GenotypeStore
from precimed.genomics.vcf import ingest_reference, read_vcf
from precimed.home import initialise
from precimed.ops import OpsDatabase, accounts
from precimed.reference import write_summary
from precimed.synth.people import DATA_CUT
from precimed.web.reference import group_labels

from .conftest import PASSWORD, USERS, Served, settings_for

DATA = Path(__file__).resolve().parents[1] / "validation" / "data"
VCF = DATA / "genomics_1kg_chr1.vcf.gz"
PANEL = DATA / "genomics_1kg_panel.tsv"
THRESHOLD = 10
REGION = "1:10000-20000"
# rs575272151: published overall, three population cells suppressed, and hom-alt withheld
# in cells whose AC/AN are shown (found by scanning the summary; asserted below)
SUPPRESSED_VARIANT = "1-11008-C-G"
PROVINCES = ["31", "32", "33", "37", "44", "45", "35", "51", "53", "21", "61"]
SMALL_PROVINCE = "46"  # Hainan: six people


def participant_samples(ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    province = [PROVINCES[i % len(PROVINCES)] for i in range(n)]
    province[:6] = [SMALL_PROVINCE] * 6
    return pd.DataFrame({"sample_id": [f"P{i:05d}" for i in range(n)],
                         "sex": ["1" if i % 2 else "2" for i in range(n)],
                         "native_province": province})


@pytest.fixture(scope="module")
def reference_server(tmp_path_factory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("browser-reference") / "home"
    home.mkdir()
    (home / "precimed.toml").write_text(f'as_of = "{DATA_CUT.isoformat()}"\n')
    settings = settings_for(home)
    initialise(settings)
    ops = OpsDatabase(settings.database_url)
    roles, centres = USERS["researcher"]
    accounts.create_user(ops, "researcher", PASSWORD, roles=roles, centres=centres)
    ops.dispose()
    ingest_reference(VCF, settings.genotypes_dir, dataset="1kg-phase3", build="GRCh37",
                     panel=PANEL)
    parsed = read_vcf(VCF)
    GenotypeStore.write_dataset(settings.genotypes_dir, DatasetFiles(
        "demo-participants", "participants", participant_samples(parsed.samples),
        parsed.variants, parsed.packed, "GRCh37", {"test": "1kg genotypes relabelled"}))
    write_summary(GenotypeStore.open(settings.genotypes_dir), settings.home / "reference",
                  policy=Policy.from_settings(settings))
    with Served(home) as served:
        yield served


@pytest.fixture
def open_reference(signed_in, reference_server):
    def go(query: str = ""):
        page = signed_in("researcher", on=reference_server)
        page.goto("/reference" + (f"?q={query}" if query else ""))
        return page

    return go


# -- helpers ------------------------------------------------------------------------------
def api_search(page, query: str) -> dict:
    response = page.request.get("/api/v1/reference/search", params={"q": query, "limit": 200})
    assert response.ok, response.text()
    return response.json()


def variant_id(v: dict) -> str:
    return f"{v['chrom']}-{v['pos']}-{v['ref']}-{v['alt']}"


def shown_count(text: str) -> int:
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", text), f"not a count: {text!r}"
    return int(text.replace(",", ""))


def shown_af_matches(text: str, af: float) -> bool:
    """The shown AF equals the API's to the shown precision."""
    if text == "0":
        return af == 0
    mantissa = text.split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(text.split("e")[1]) if "e" in text else 0
    return abs(float(text) - af) <= 0.5 * 10 ** (exponent - decimals) + 1e-12


def label(card, stratum: str, group: str):
    """The group name cell of one row of a dataset's table."""
    return card.locator(f"tr[data-stratum={stratum}][data-group='{group}'] td.group")


def marker(lang: str = "zh") -> str:
    return f"已隐藏（少于 {THRESHOLD} 人）" if lang == "zh" else \
        f"hidden (fewer than {THRESHOLD} people)"


def check_frequencies(page, answer: dict, variant_index: int, lang: str = "zh") -> dict:
    """Every published cell of the variant, as the API gives it, is on the page; returns
    counts of what was checked."""
    rows = [f for f in answer["frequencies"] if f["variant_index"] == variant_index]
    assert rows
    seen = {"cells": 0, "suppressed": 0, "hom_hidden": 0}
    for f in rows:
        card = page.locator(f"section.dataset[data-dataset='{f['dataset']}']")
        tr = card.locator(f"tr[data-stratum='{f['stratum']}'][data-group='{f['group']}']")
        expect(tr).to_have_count(1)
        if f["suppressed"]:
            assert f["allele_count"] is None and f["allele_number"] is None
            expect(tr.locator("td.hidden-row")).to_have_text(marker(lang))
            assert tr.locator("td.num").count() == 0  # no number at all in the row
            seen["suppressed"] += 1
            continue
        assert shown_count(tr.locator("td.ac").inner_text()) == f["allele_count"]
        assert shown_count(tr.locator("td.an").inner_text()) == f["allele_number"]
        af = tr.locator("td.af").inner_text()
        assert shown_af_matches(af, f["allele_frequency"]), (f, af)
        hom = tr.locator("td.hom").inner_text()
        if f["hom_alt"] is None:
            assert hom == marker(lang)
            seen["hom_hidden"] += 1
        else:
            assert shown_count(hom) == f["hom_alt"]
        seen["cells"] += 1
    return seen


# -- tests --------------------------------------------------------------------------------
def test_region_search_shows_the_apis_variants_and_frequencies(open_reference, shot):
    page = open_reference()
    expect(page.locator("main h1")).to_have_text("人群参考数据库")
    expect(page.locator("header nav a[data-nav=reference]")).to_have_class("on")
    page.fill("#reference-q", REGION)
    page.click("#reference-search")
    body = page.locator("#variant-table tbody tr")
    answer = api_search(page, REGION)
    assert len(answer["variants"]) == 108  # 1000 Genomes records at 1:10,000-20,000
    expect(body).to_have_count(len(answer["variants"]))
    assert page.url.endswith("/reference?q=1%3A10000-20000")  # a link to this search
    assert body.locator("td.vid").all_inner_texts() == [variant_id(v) for v in answer["variants"]]
    assert body.locator("td.rsid").all_inner_texts() == [v["rsid"] for v in answer["variants"]]
    assert set(body.locator("td.build").all_inner_texts()) == {"GRCh37"}

    # the first variant is chosen: both datasets' tables, both charts
    first = answer["variants"][0]
    expect(body.first).to_have_class(re.compile(r"\bon\b"))
    expect(page.locator("section.dataset")).to_have_count(2)
    seen = check_frequencies(page, answer, first["variant_index"])
    # 1kg: all, 5 super-populations, 26 populations, sex unknown; participants: all,
    # 5 regions, 12 provinces, 2 sexes
    assert seen["cells"] + seen["suppressed"] == 33 + 20
    for chart in page.locator(".af-chart").all():
        expect(chart.locator("svg.main-svg").first).to_be_visible()
    populations = page.locator("section.dataset[data-dataset='1kg-phase3'] .af-chart .bars .point")
    expect(populations).to_have_count(26)
    shot(page, "region")

    # choosing another variant redraws with its own numbers
    third = answer["variants"][2]
    body.nth(2).locator("button.choose").click()
    expect(body.nth(2)).to_have_class(re.compile(r"\bon\b"))
    expect(page.locator("section.dataset h2").first).to_contain_text(variant_id(third))
    check_frequencies(page, answer, third["variant_index"])
    assert not page.js_errors, page.js_errors


def test_variant_link_shows_suppressed_cells_as_hidden(open_reference, shot):
    page = open_reference(SUPPRESSED_VARIANT)  # ?q= runs the search on load
    expect(page.locator("#reference-q")).to_have_value(SUPPRESSED_VARIANT)
    expect(page.locator("#variant-table tbody tr")).to_have_count(1)
    answer = api_search(page, SUPPRESSED_VARIANT)
    (variant,) = answer["variants"]
    assert variant["rsid"] == "rs575272151"
    expect(page.locator("section.dataset")).to_have_count(2)
    seen = check_frequencies(page, answer, variant["variant_index"])
    assert seen["suppressed"] >= 3 and seen["hom_hidden"] >= 1, seen
    reference = page.locator("section.dataset[data-dataset='1kg-phase3']")
    hidden = [f for f in answer["frequencies"] if f["dataset"] == "1kg-phase3"
              and f["stratum"] == "population" and f["suppressed"]]
    # a hidden population is neither a row number nor a bar, and the note says so
    expect(reference.locator(".af-chart .bars .point")).to_have_count(26 - len(hidden))
    expect(reference.locator(".chart-note")).to_have_text(
        f"{len(hidden)} 个分组人数少于 {THRESHOLD}，未在图中显示。")
    # Hainan (six people) is hidden in the participant callset, whatever the variant
    participants = page.locator("section.dataset[data-dataset='demo-participants']")
    hainan = participants.locator(f"tr[data-stratum=province][data-group='{SMALL_PROVINCE}']")
    expect(hainan.locator("td.group")).to_have_text("海南省")
    expect(hainan.locator("td.hidden-row")).to_have_text(marker())
    expect(label(participants, "region", "east")).to_have_text("华东")
    expect(label(participants, "sex", "1")).to_have_text("男性")
    expect(label(participants, "sex", "2")).to_have_text("女性")
    expect(label(reference, "population", "CHB")).to_have_text("CHB · 北京汉族")
    # the overall line is drawn at the published overall AF
    expect(reference.locator(".af-chart .annotation-text")).to_contain_text("总体")
    expect(reference.locator(".af-chart .g-ytitle")).to_have_text("等位基因频率 AC/AN")
    page.locator("tr.suppressed").first.scroll_into_view_if_needed()
    shot(page, "suppressed")
    assert not page.js_errors, page.js_errors


def test_english_switch_keeps_the_search(open_reference, reference_server, shot):
    page = open_reference(SUPPRESSED_VARIANT)
    expect(page.locator("section.dataset")).to_have_count(2)
    with page.expect_navigation():
        page.click("#lang-switch")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "q=1-11008-C-G" in page.url
    expect(page.locator("main h1")).to_have_text("Population reference")
    expect(page.locator("header nav a[data-nav=reference]")).to_have_text("Population reference")
    expect(page.locator("section.dataset")).to_have_count(2)
    answer = api_search(page, SUPPRESSED_VARIANT)
    check_frequencies(page, answer, answer["variants"][0]["variant_index"], lang="en")
    reference = page.locator("section.dataset[data-dataset='1kg-phase3']")
    expect(label(reference, "population", "CHB")).to_have_text(
        "CHB · Han Chinese in Beijing, China")
    expect(label(reference, "super_population", "EAS")).to_have_text("EAS · East Asian")
    participants = page.locator("section.dataset[data-dataset='demo-participants']")
    expect(label(participants, "province", "31")).to_have_text("Shanghai")
    expect(label(participants, "region", "east")).to_have_text("East China")
    expect(label(participants, "sex", "1")).to_have_text("male")
    expect(label(participants, "sex", "2")).to_have_text("female")
    expect(reference.locator(".af-chart .annotation-text")).to_contain_text("overall")
    expect(reference.locator(".af-chart .g-ytitle")).to_have_text("Allele frequency AC/AN")
    shot(page, "english")
    assert not page.js_errors, page.js_errors


def test_malformed_query_no_match_and_examples(open_reference, shot):
    page = open_reference()
    page.fill("#reference-q", "1:500-100")
    page.click("#reference-search")
    expect(page.locator("#reference-error")).to_be_visible()
    expect(page.locator("#reference-error-title")).to_have_text("无法识别的检索词")
    expect(page.locator("#reference-error-what")).to_have_text("A region ends before it starts")
    expect(page.locator("#reference-error-where")).to_have_text("(q=1:500-100)")
    expect(page.locator("#reference-error-hint")).to_contain_text("START <= END")
    expect(page.locator("#variant-table tbody tr")).to_have_count(0)
    shot(page, "malformed")

    # a gene has GRCh38 coordinates only: nothing on this GRCh37 store, said plainly
    page.locator("#reference-examples a.example[data-q=ALDH2]").click()
    expect(page.locator("#reference-q")).to_have_value("ALDH2")
    expect(page.locator("#reference-error")).to_be_hidden()
    expect(page.locator("#reference-empty")).to_be_visible()
    expect(page.locator("#reference-empty-what")).to_have_text("没有与“ALDH2”匹配的变异。")
    expect(page.locator("#reference-empty")).to_contain_text("GRCh37")
    shot(page, "no-match")

    # an unknown gene is the API's 404 with its hint
    page.fill("#reference-q", "NOSUCHGENE1")
    page.click("#reference-search")
    expect(page.locator("#reference-error-title")).to_have_text("未找到")
    expect(page.locator("#reference-error-what")).to_have_text("No gene named 'NOSUCHGENE1'")

    # the region example finds the same variants as typing it
    page.locator("#reference-examples a.example[data-q='1:10000-20000']").click()
    expect(page.locator("#variant-table tbody tr")).to_have_count(108)
    assert not page.js_errors, page.js_errors


def test_no_reference_database_yet(signed_in, fresh_server, shot):
    page = signed_in("dm_sh01", on=fresh_server)
    page.goto("/reference?q=rs671")
    expect(page.locator("#reference-error-title")).to_have_text("尚无人群参考数据库")
    expect(page.locator("#reference-error-what")).to_have_text("No reference summary is served yet")
    expect(page.locator("#reference-error-hint")).to_contain_text("precimed genomics summarise")
    shot(page, "no-database")
    assert not page.js_errors, page.js_errors


def test_group_labels_come_from_the_standard():
    zh, en = group_labels("zh"), group_labels("en")
    assert (zh["region"]["south"], en["region"]["south"]) == ("华南", "South China")
    assert (zh["province"]["46"], en["province"]["46"]) == ("海南省", "Hainan")
    assert (zh["sex"]["1"], en["sex"]["2"]) == ("男性", "female")
    assert set(zh["population"]) - {"unknown"} == set(
        np.unique(pd.read_csv(PANEL, sep="\t")["pop"]))  # every 1000 Genomes population named
