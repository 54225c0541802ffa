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


def test_api_docs_work_offline_under_the_csp(new_context, server, shot):
    """/api/docs lists the operations with every request outside the platform blocked:
    Swagger UI comes from the installed package, and no request leaves localhost."""
    from urllib.parse import urlsplit

    context = new_context()
    outside: list[str] = []

    def only_local(route):
        host = urlsplit(route.request.url).hostname
        if host in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_local)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    response = page.goto("/api/docs")
    assert response.status == 200
    assert "'unsafe-inline'" not in response.headers["content-security-policy"].split(
        "script-src")[1].split(";")[0]
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/auth/login" in paths, paths[:5]
    assert len(paths) > 20
    page.wait_for_load_state("networkidle")
    shot(page, "api-docs-offline")
    assert outside == [], outside
    assert not errors, errors
