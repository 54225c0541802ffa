"""Safe administration in Chromium (issue 17, item 6), in Chinese and once in English: an
administrator creates a user (no role and no centre by default), gives two roles after
confirming the change shown before → after in a page dialog, is refused a centre-scoped
role without a centre in words, disables the account, unlocks it after failed sign-ins,
enables it, resets its password to a one-time one, is refused disabling themselves, and
filters the audit log to the user's ``user.change`` entries, which say what changed.

Its own server over a fresh home (its own administrator), so the shared test users and
the shared server's user list stay as other tests expect them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from precimed.ops.roles import ROLES
from precimed.standard import CENTRES
from precimed.synth.people import DATA_CUT
from precimed.web.i18n import translator

from .conftest import PASSWORD, Served, settings_for

NEW_PASSWORD = "tidal-lantern-quarry-95"


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory) -> Iterator[Served]:
    from precimed.home import initialise
    from precimed.ops import OpsDatabase, accounts

    home = tmp_path_factory.mktemp("browser-admin") / "home"
    home.mkdir()
    (home / "precimed.toml").write_text(f'as_of = "{DATA_CUT.isoformat()}"\n')
    settings = settings_for(home)
    initialise(settings)
    ops = OpsDatabase(settings.database_url)
    accounts.create_user(ops, "root", PASSWORD, roles=["admin"])
    ops.dispose()
    with Served(home) as served:
        yield served


def _unlabelled(page) -> list[str]:
    """Controls of the page's main part with no accessible name."""
    return page.evaluate("""() => [...document.querySelectorAll(
        'main input, main select, main button, main textarea')].filter(c =>
        !(c.labels && c.labels.length) && !c.getAttribute('aria-label') &&
        !(c.tagName === 'BUTTON' && c.textContent.trim())).map(c => c.outerHTML)""")


def _confirm(page, *, ok: bool = True):
    dialog = page.locator("#admin-dialog")
    expect(dialog).to_be_visible()
    page.click("#dialog-ok" if ok else "#dialog-cancel")
    expect(dialog).to_be_hidden()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_manages_an_account_safely(lang, admin_server, signed_in, shot):
    t = translator(lang)
    name = f"ops-{lang}"
    page = signed_in("root", on=admin_server, next="/admin")
    if lang == "en":
        page.goto("/admin?lang=en")
    assert not _unlabelled(page), _unlabelled(page)

    # a new user: no role and no centre unless ticked; a weak password is refused in words
    expect(page.locator("#new-roles input:checked")).to_have_count(0)
    expect(page.locator("#new-centres input:checked")).to_have_count(0)
    expect(page.locator("#password-rules")).to_have_text(t("password_rules"))
    page.fill("#new-username", name)
    page.fill("#new-password", "short")
    page.click("#create-user")
    expect(page.locator("#new-user-message")).to_have_text(t("err_password"))
    page.fill("#new-password", NEW_PASSWORD)
    with page.expect_navigation():
        page.click("#create-user")
    expect(page.locator("#new-user-message")).to_have_text(t("created", name=name))
    row = page.locator(f"#user-table tr[data-username='{name}']")
    expect(row).to_have_attribute("data-roles", "")
    expect(row).to_have_attribute("data-centres", "")
    expect(row.locator("input:checked")).to_have_count(0)

    # two roles: the dialog shows before → after; cancel changes nothing, confirm saves
    row.locator("input.user-role[value='researcher']").check()
    row.locator("input.user-role[value='reviewer']").check()
    row.locator("button.save-user").click()
    change = page.locator("#change-table tr[data-field='roles'] td")
    expect(change.nth(0)).to_have_text(t("roles"))
    expect(change.nth(1)).to_have_text(t("no_role"))
    # in the order of the boxes (the platform's order of roles)
    roles = "、".join(("终点事件评审员", "研究人员")) if lang == "zh" else \
        "Endpoint reviewer, Researcher"
    expect(change.nth(2)).to_have_text("→ " + roles)
    shot(page, f"confirm-roles-{lang}")
    _confirm(page, ok=False)
    expect(row).to_have_attribute("data-roles", "")
    row.locator("button.save-user").click()
    _confirm(page)
    expect(page.locator("#user-message")).to_have_text(t("saved"))
    expect(row).to_have_attribute("data-roles", "reviewer,researcher")

    # a centre-scoped role without a centre: refused, in words
    row.locator("input.user-role[value='data_manager']").check()
    row.locator("button.save-user").click()
    _confirm(page)
    expect(page.locator("#user-message")).to_have_text(t("err_centres"))
    expect(row).to_have_attribute("data-roles", "reviewer,researcher")
    row.locator("input.user-role[value='data_manager']").uncheck()

    # disable; failed sign-ins lock it; unlock; enable
    row.locator("button.toggle-active").click()
    expect(page.locator("#change-table tr[data-field='active'] td").nth(2)).to_have_text(
        "→ " + t("user_disabled"))
    _confirm(page)
    expect(row.locator(".user-state")).to_have_text(t("user_disabled"))
    for _ in range(5):
        page.request.post("/api/v1/auth/login", data={"username": name,
                                                      "password": "wrong-password-x"})
    page.reload()
    row = page.locator(f"#user-table tr[data-username='{name}']")
    expect(row.locator(".user-locked")).to_have_text(t("user_locked"))
    row.locator("button.unlock-user").click()
    _confirm(page)
    expect(page.locator("#user-message")).to_have_text(t("unlocked"))
    expect(row.locator(".user-locked")).to_have_count(0)
    row.locator("button.toggle-active").click()
    _confirm(page)
    expect(row.locator(".user-state")).to_have_text(t("user_active"))

    # a one-time password, shown once; it signs in
    row.locator("button.reset-password").click()
    expect(page.locator("#reset-password-input")).to_be_visible()
    _confirm(page)
    one_time = page.locator("#one-time-password")
    expect(one_time).to_be_visible()
    password = one_time.inner_text()
    shot(page, f"one-time-password-{lang}")
    _confirm(page)
    login = page.context.browser.new_context(base_url=admin_server.url)
    try:
        answer = login.request.post("/api/v1/auth/login", data={"username": name,
                                                                "password": password})
        assert answer.status == 200, answer.text()
    finally:
        login.close()

    # the administrator cannot disable themselves
    me = page.locator("#user-table tr[data-username='root']")
    me.locator("button.toggle-active").click()
    _confirm(page)
    expect(page.locator("#user-message")).to_have_text(t("err_own_disable"))
    expect(me.locator(".user-state")).to_have_text(t("user_active"))

    # the audit log, filtered to the user's changes, says what changed
    page.fill("#filter-resource", f"user {name}")
    page.select_option("#filter-action", "user.change")
    with page.expect_navigation():
        page.click("#apply-filter")
    rows = page.locator("#audit-table tr:has(td)")
    expect(rows).to_have_count(5)  # roles, the refusal, disabled, enabled, password
    assert set(rows.locator("td:nth-child(4)").all_inner_texts()) == {"user.change"}
    changes = page.locator("#audit-table td.change").all_inner_texts()
    roles_coded = ("、".join(("终点事件评审员 (reviewer)", "研究人员 (researcher)"))
                   if lang == "zh" else "Endpoint reviewer (reviewer), Researcher (researcher)")
    assert f"{t('roles')}: {t('no_role')} → {roles_coded}" in changes
    assert f"{t('status')}: {t('user_active')} → {t('user_disabled')}" in changes
    assert f"{t('status')}: {t('user_disabled')} → {t('user_active')}" in changes
    assert t("password_was_reset") in changes
    assert f"{t('refused')}: {t('err_centres')}" in changes
    expect(page.locator("#audit-page")).to_have_text(t("page_of", page=1, pages=1, total=5))
    shot(page, f"audit-filtered-{lang}")
    export = page.request.get(page.locator("#export-csv").get_attribute("href"))
    assert export.ok
    exported = list(csv.DictReader(io.StringIO(export.text())))
    assert len(exported) == 5 and {r["resource"] for r in exported} == {f"user {name}"}

    if lang == "zh":  # no English on the Chinese page, apart from codes and names
        text = page.locator("main").inner_text()
        for code in (*ROLES, *CENTRES):  # codes are shown with their names
            text = text.replace(code, "")
        words = set(re.findall(r"[A-Za-z]{3,}", text))
        # what is left: user names, the log's action codes, CSV, UTC and the zone (CST)
        assert words <= {"CSV", "UTC", "CST", "aaaa", "root", "ops", "user", "change", "create",
                         "login", "unlock", "permission", "audit", "export"}, words
    assert not page.js_errors, page.js_errors
