"""The pages under their Content-Security-Policy and CSRF protection (issue 16, failure
8), in real Chromium: every page runs its scripts and draws its Plotly charts with no CSP
violation, the pages' own state changes carry the CSRF token, and signing out (a plain
form) works."""

from __future__ import annotations

PAGES = ("/", "/submissions", "/cohorts", "/followup", "/adjudication", "/dictionary",
         "/reference", "/admin")


def test_every_page_runs_under_the_csp_and_signs_out_with_the_token(signed_in, shot):
    page = signed_in("admin")
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert not page.js_errors, (path, page.js_errors)
    page.goto("/")
    page.wait_for_selector("#retention-chart .main-svg")  # Plotly drew under the CSP
    shot(page, "dashboard-under-csp")
    page.goto("/admin")
    page.click("#verify-chain")
    page.wait_for_selector("#chain-result:not(:empty)")
    with page.expect_navigation():
        page.click("#sign-out")
    assert "/login" in page.url
    page.goto("/submissions")
    assert "/login" in page.url  # the session really ended
    assert not page.js_errors, page.js_errors
