"""The follow-up worklist a data manager acts on, in Chinese, in real Chromium: sort by
wave, record a contact, see it in the worklist; a refused contact says why and changes
nothing. On a copy of the released home (recording writes to the lake)."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from playwright.sync_api import expect

from precimed.lake import Lake
from precimed.synth.people import DATA_CUT


@pytest.fixture
def copied_server(released_home, tmp_path, server):
    """The app over a copy of the released home, which recording a contact changes."""
    Served = type(server)
    home = tmp_path / "home"
    shutil.copytree(released_home, home, ignore=shutil.ignore_patterns("cache"))
    with Served(home) as served:
        yield served


def _rows(page):
    return page.locator("#worklist tr").filter(has=page.locator("td"))


@pytest.mark.slow
def test_a_data_manager_sorts_and_records_a_contact_in_chinese(signed_in, copied_server,
                                                                 shot):
    page = signed_in("dm_sh01", on=copied_server, next="/followup")
    expect(page.locator("label[for=worklist-sort]")).to_have_text("排序")
    expect(page.locator("#worklist-basis")).to_contain_text(f"截至 {DATA_CUT.isoformat()}")
    expect(page.locator("#worklist-basis")).to_contain_text("最新发布版本：r1")
    page.select_option("#worklist-sort", label="随访轮次（早者在前）")
    with page.expect_navigation():
        page.click("#show-worklist")
    assert "sort=wave" in page.url
    waves = [int(w) for w in _rows(page).locator("td:nth-child(2)").all_inner_texts()]
    assert waves == sorted(waves) and waves, waves
    expect(page.locator("#worklist-page")).to_contain_text("第 1 /")
    shot(page, "sorted-by-wave")

    first = _rows(page).first
    who = first.locator("button.record").get_attribute("data-pseudonym")
    wave = int(first.locator("td:nth-child(2)").inner_text())
    first.locator("button.record").click()
    expect(page.locator("#contact-pseudonym")).to_have_value(who)
    expect(page.locator("#contact-wave")).to_have_value(str(wave))

    # a date after the as-of day (the browser's own check taken off) is refused in Chinese
    lake = Lake(copied_server.app.state.platform.settings.lake_dir)
    version = lake.catalog().version
    page.evaluate("document.getElementById('contact-date').removeAttribute('max')")
    page.fill("#contact-date", (DATA_CUT + dt.timedelta(days=3)).isoformat())
    with page.expect_navigation():
        page.click("#record-contact-submit")
    expect(page.locator("#contact-refused")).to_have_text(
        "联系记录未保存：联系日期须为有效日期，不能晚于今天，也不能早于入组日期。 未作任何修改。")
    assert lake.catalog().version == version
    shot(page, "refused")

    page.select_option("#contact-pseudonym", who)
    page.fill("#contact-wave", str(wave))
    page.fill("#contact-date", DATA_CUT.isoformat())
    page.select_option("#contact-method", label="电话 (phone)")
    page.select_option("#contact-outcome", label="随访成功 (reached)")
    with page.expect_navigation():
        page.click("#record-contact-submit")
    expect(page.locator("#contact-recorded")).to_contain_text("联系记录已保存")
    assert lake.catalog().version == version + 1
    assert "sort=wave" in page.url
    expect(page.locator("#worklist-sort")).to_have_value("wave")
    still = _rows(page).filter(has=page.locator(f"button[data-pseudonym='{who}']"))
    if still.count():  # reached at their overdue wave: now overdue at a later one
        expect(still.locator("td:nth-child(5)")).to_have_text("随访成功 reached")
        assert int(still.locator("td:nth-child(2)").inner_text()) > wave
    listed = page.request.get("/api/v1/followup/worklist?centre=SH01&limit=5000").json()
    now = [r for r in listed["rows"] if r["pseudonym"] == who]
    assert not now or (now[0]["wave"] > wave and now[0]["last_outcome"] == "reached")
    shot(page, "recorded")
    expect(page.locator("#worklist-xlsx")).to_have_text("下载名单（XLSX）")
    with page.expect_download() as download:
        page.click("#worklist-xlsx")
    assert download.value.suggested_filename == "worklist-SH01.xlsx"
    assert not page.js_errors, page.js_errors
