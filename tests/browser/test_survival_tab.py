"""The cohort builder's survival tab in a real browser: a researcher picks an endpoint and
a grouping, sees the Kaplan–Meier curves with their bands, the number at risk (hidden
counts in words), the log-rank test and the Cox table, all as the survival API published
them for the researcher's tier, with the release, definition and as-of they were computed
on; and downloads the tables (CSV) and the figure (PNG, SVG)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from precimed.standard import REGIONS, vocabulary

THRESHOLD = 10
# three Latin words in a row: an English phrase (codes such as SBP or r1 stand alone)
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}")
SECONDARY = {"zh": "为保护其他单元格而隐藏", "en": "hidden to protect another cell"}


def survival_api(page, definition: dict, by: str, covariates: list[str]) -> dict:
    """The same request through the page's own session (its cookie and CSRF token)."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    response = page.request.post("/api/v1/cohorts/survival", headers={"X-CSRF-Token": token},
                                 data={"definition": definition, "release": "r1",
                                       "endpoint": "death", "by": by,
                                       "covariates": covariates})
    assert response.ok, response.text()
    return response.json()


def shown(value, why, lang) -> str:
    if value is None:
        return SECONDARY[lang] if why == "secondary" else f"<{THRESHOLD}"
    return f"{value:,}"


def run_survival(page, *, by: str, name: str, measurements: list[str]) -> None:
    page.click("#tab-build")
    page.fill("#cohort-name", name)
    page.click("#tab-survival")
    expect(page.locator("#panel-survival")).to_be_visible()
    expect(page.locator("#panel-build")).to_be_hidden()
    page.select_option("#survival-endpoint", "death")
    page.select_option("#survival-by", by)
    page.select_option("#survival-measurements", measurements)
    page.click("#survival-run")
    expect(page.locator("#survival-result")).to_be_visible(timeout=60_000)


def check_against_api(page, api: dict, lang: str, group_names: dict[str, str]) -> None:
    """Curves, at-risk table, reasons, log-rank and Cox on the page are the API's."""
    assert api["tier"] == "perturbed"  # a researcher sees the perturbed tier
    provenance = page.locator("#survival-provenance").inner_text()
    for part in ("r1", api["provenance"]["as_of"], api["provenance"]["cohort"]["name"],
                 api["provenance"]["standard_version"]):
        assert part in provenance, (part, provenance)

    # the curves: one line and one band per group with estimates, at the published years
    traces = page.evaluate("""() => document.getElementById('survival-plot').data.map(
        t => ({name: t.name, x: t.x, y: t.y, fill: t.fill || null}))""")
    curves = [g for g in api["groups"] if g.get("curve")]
    assert curves, "the test cohort has no curve to draw"
    lines = [t for t in traces if t["fill"] is None]
    bands = [t for t in traces if t["fill"] == "toself"]
    assert len(lines) == len(bands) == len(curves)
    for line, band, group in zip(lines, bands, curves, strict=True):
        assert line["name"] == f"{group['group']} · {group_names[group['group']]}"
        assert line["x"] == [p["year"] for p in group["curve"]]
        assert line["y"] == pytest.approx([p["survival"] for p in group["curve"]], abs=1e-12)
        limits = [p for p in group["curve"] if p["lower"] is not None
                  and p["upper"] is not None]
        assert band["x"] == [p["year"] for p in limits] + [p["year"] for p in limits][::-1]
        assert band["y"] == pytest.approx([p["upper"] for p in limits]
                                          + [p["lower"] for p in limits][::-1], abs=1e-12)
    # axis titles are drawn (plotly.js 3 wants {text: ...}, a bare string is ignored)
    words = {"zh": ("入组后年数", "无事件生存率"), "en": ("Years since enrolment",
                                                     "Survival free of the event")}[lang]
    assert page.locator("#survival-plot text.xtitle").text_content() == words[0]
    assert page.locator("#survival-plot text.ytitle").text_content() == words[1]

    # the number at risk: people, events and each whole year, hidden ones in words
    rows = page.locator("#survival-risk tbody tr")
    expect(rows).to_have_count(len(api["groups"]) + 1)  # and the total
    reasons = set()
    for i, group in enumerate(api["groups"]):
        cells = rows.nth(i).locator("td").all_inner_texts()
        why = group["suppressed"]
        assert cells[0] == f"{group['group']} · {group_names[group['group']]}"
        assert cells[1] == shown(group["n"], why.get("n"), lang)
        assert cells[2] == shown(group["events"], why.get("events"), lang)
        reasons |= set(why.values())
        published = {p["year"]: p["at_risk"] for p in group.get("curve") or []}
        for year in range(6):
            expected = f"{published[year]:,}" if year in published else "–"
            assert cells[4 + year] == expected, (group["group"], year, cells)
        if not group.get("curve"):
            reasons.add("group")
        elif len(published) < 6:
            reasons.add("year")
    total = rows.nth(len(api["groups"])).locator("td").all_inner_texts()
    assert total[1:3] == [shown(api["n"], api["suppressed"].get("n"), lang),
                          shown(api["events"], api["suppressed"].get("events"), lang)]
    listed = page.locator("#survival-reasons li")
    assert sorted(li.get_attribute("data-reason") for li in listed.all()) == sorted(reasons)
    if "small" in reasons:
        small = page.locator('#survival-reasons li[data-reason="small"]').inner_text()
        assert small.startswith(f"<{THRESHOLD}")
        hidden = page.locator('#survival-risk td[data-reason="small"]').first
        assert hidden.get_attribute("title") == small

    # log-rank and Cox
    if api["logrank"] is not None:
        p = api["logrank"]["p_value"]
        text = page.locator("#survival-logrank").inner_text()
        assert f"{api['logrank']['statistic']:.2f}" in text
        assert ("<0.001" if p < 0.001 else f"{p:.3f}") in text
    cox = page.locator("#survival-cox tbody tr")
    ratios = api["cox"]["hazard_ratios"]
    expect(cox).to_have_count(len(ratios))
    for row, (code, h) in zip(cox.all(), ratios.items(), strict=True):
        cells = row.locator("td").all_inner_texts()
        assert cells[1] == f"{h['hr']:.3f}", (code, cells)
        assert cells[2] == f"{h['lower']:.3f} – {h['upper']:.3f}"
    fit = page.locator("#survival-cox-fit").inner_text()
    assert f"{api['cox']['n']:,}" in fit and f"{api['cox']['events']:,}" in fit


def download_csv(page) -> list[list[str]]:
    with page.expect_download() as info:
        page.click("#survival-csv")
    download = info.value
    assert re.fullmatch(r"survival-r1-death-\w+\.csv", download.suggested_filename)
    text = download.path().read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def check_csv(rows: list[list[str]], page, api: dict) -> None:
    """The CSV holds the provenance, the at-risk table as shown and the Cox estimates."""
    flat = {r[0]: r[1:] for r in rows if r}
    assert flat["release"] == ["r1"]
    assert flat["as_of"] == [api["provenance"]["as_of"]]
    shown_rows = [r.locator("td").all_inner_texts()
                  for r in page.locator("#survival-risk tbody tr").all()]
    for row in shown_rows:
        assert row in rows, row
    ratios = api["cox"]["hazard_ratios"]
    for row, (code, h) in zip(rows[-len(ratios):], ratios.items(), strict=True):
        assert [float(x) for x in row[1:]] == pytest.approx(
            [h["hr"], h["lower"], h["upper"], h["p"]], rel=1e-12), (code, row)


@pytest.mark.slow
def test_a_researcher_runs_a_survival_analysis_in_chinese(signed_in, shot):
    page = signed_in("researcher", next="/cohorts")
    name = "全体参与者生存分析"
    run_survival(page, by="sex", name=name, measurements=["SBP"])
    expect(page.locator("#survival-cohort")).to_have_text(f"队列：{name}")
    definition = page.evaluate("builder.definition()")
    api = survival_api(page, definition, "sex", ["age", "male", "SBP"])
    sexes = {c: zh for c, (zh, _) in vocabulary("sex").codes.items()}
    check_against_api(page, api, "zh", sexes)
    assert api["logrank"] is not None
    expect(page.locator("#survival-logrank")).to_contain_text("自由度")
    expect(page.locator("#survival-cox tbody tr").nth(0)).to_contain_text("年龄")
    expect(page.locator("#survival-cox tbody tr").nth(2)).to_contain_text("SBP · 收缩压")

    # a second grouping, with groups whose counts are hidden
    page.select_option("#survival-by", "region")
    page.click("#survival-run")
    api = survival_api(page, definition, "region", ["age", "male", "SBP"])
    first = api["groups"][0]["group"]
    expect(page.locator("#survival-risk tbody tr").first).to_contain_text(
        f"{first} · {REGIONS[first].zh}", timeout=60_000)
    check_against_api(page, api, "zh", {c: r.zh for c, r in REGIONS.items()})
    assert any(g["suppressed"] for g in api["groups"]), "no hidden group to show"
    shot(page, "survival")

    # no English sentence anywhere in the tab (its text, the figure's included)
    text = page.locator("#panel-survival").inner_text()
    assert "全因死亡" in text and "风险人数" in text and "对数秩检验" in text
    assert not ENGLISH.search(text), ENGLISH.search(text)

    rows = download_csv(page)
    check_csv(rows, page, api)
    assert ["风险人数"] in rows
    assert not page.js_errors, page.js_errors


@pytest.mark.slow
def test_the_survival_tab_in_english_exports_figure_and_tables(signed_in, shot):
    page = signed_in("researcher", next="/cohorts")
    page.goto("/cohorts?lang=en#survival")
    expect(page.locator("#panel-survival")).to_be_visible()  # opened by its address
    run_survival(page, by="sex", name="everyone", measurements=[])
    definition = page.evaluate("builder.definition()")
    api = survival_api(page, definition, "sex", ["age", "male"])
    check_against_api(page, api, "en",
                      {c: en for c, (_, en) in vocabulary("sex").codes.items()})
    expect(page.locator("#survival-logrank")).to_contain_text("comparing 1 · male, 2 · female")
    expect(page.locator("#survival-cox tbody tr").nth(1)).to_contain_text("male (vs female)")
    assert not re.search(r"[\u4e00-\u9fff]", page.locator("#panel-survival").inner_text())
    shot(page, "survival-en")

    rows = download_csv(page)
    check_csv(rows, page, api)
    assert ["Number at risk"] in rows
    # the workbook holds the CSV's rows, numbers as numbers
    with page.expect_download() as info:
        page.click("#survival-xlsx")
    assert info.value.suggested_filename == "survival-r1-death-sex.xlsx"
    sheet = load_workbook(io.BytesIO(info.value.path().read_bytes())).active
    book = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(book) == len(rows)
    for mine, theirs in zip(rows, book, strict=True):
        theirs = theirs[:len(mine)] if mine else [v for v in theirs if v is not None]
        assert len(theirs) == len(mine)
        for text, value in zip(mine, theirs, strict=True):
            if isinstance(value, (int, float)):
                assert float(text) == pytest.approx(value, rel=1e-15)
            else:
                assert (value or "") == text
    for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<svg")):
        with page.expect_download() as info:
            page.click(f"#survival-{fmt}")
        assert info.value.suggested_filename == f"survival-r1-death-sex.{fmt}"
        assert info.value.path().read_bytes().startswith(magic), fmt
    assert not page.js_errors, page.js_errors
