"""The pages under the Content-Security-Policy in a real browser: no violation is reported and htmx
still saves cells and opens breakdowns; the administrator's slip prints through app.js.

Needs Debian's Chromium at /usr/bin/chromium: skipped without it, a failure under CI=true (the
`browser` fixture of conftest.py decides).
"""

from __future__ import annotations

import re

import pytest

from conftest import stored

pytestmark = pytest.mark.browser

# Reported to the test through an exposed function; the listener is installed before any page script.
LISTEN = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolation(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at "
                        + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def browser_page(browser, live_server):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.violations = []
    page.errors = []
    page.expose_function("__cspViolation", lambda text: page.violations.append(text))
    page.add_init_script(LISTEN)
    page.on("console", lambda m: page.violations.append("console: " + m.text)
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("dialog", lambda d: d.accept())
    page.base = live_server
    yield page


def settle(page):
    """Let the events of the page reach the test (the exposed function is asynchronous)."""
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)


def check(page, where: str):
    settle(page)
    assert page.violations == [], where
    assert page.errors == [], where
    # htmx is loaded, configured from the meta tag, and injected no <style> of its own
    assert page.evaluate("window.htmx && htmx.config.allowEval === false "
                         "&& htmx.config.includeIndicatorStyles === false"), where
    assert page.evaluate("document.querySelectorAll('style, [style]').length") == 0, where


def sign_in(page, username: str, password: str = "demo123"):
    page.goto(page.base + "/login")
    check(page, "login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("input[type=submit]")
    page.wait_for_load_state("load")


def sign_out(page):
    page.click(".who button[type=submit]")
    page.wait_for_url(page.base + "/login")


def test_the_listener_does_catch_a_violation(browser_page):
    page = browser_page
    page.goto(page.base + "/login")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    settle(page)
    assert any("style-src" in v for v in page.violations), page.violations


def test_key_pages_work_under_the_policy(browser_page):
    page = browser_page

    # the clerk: home, a table page with a cell saved through htmx
    sign_in(page, "ln-02")
    assert page.url == page.base + "/"
    check(page, "clerk home")
    page.goto(page.base + "/campaigns/kl49-2024/tables/II.1.5")
    check(page, "table page")
    page.fill("#cell-2019-xa_tong", "40")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.keyboard.press("Tab")
    assert info.value.status == 200
    page.wait_for_function("document.querySelector('#row-0-2019 td.derived').innerText.trim() !== ''")
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 40
    check(page, "table page after an htmx save")
    page.goto(page.base + "/password")
    check(page, "change password")
    sign_out(page)

    # the compiler: the dashboard's progress bars, the appendix and a drill-down through htmx
    sign_in(page, "ln-btg")
    page.goto(page.base + "/campaigns/kl49-2024/dashboard")
    check(page, "dashboard")
    assert page.locator("table.matrix progress.bar").count() > 0
    width = page.evaluate("document.querySelector('table.matrix progress.bar').getBoundingClientRect().height")
    assert 0 < width <= 6  # drawn by app.css as a thin bar
    page.goto(page.base + "/campaigns/kl49-2024/appendix")
    check(page, "appendix")
    link = page.locator("a.drill:not(.empty)").first
    with page.expect_response(lambda r: "/cell" in r.url) as info:
        link.click()
    assert info.value.status == 200
    page.locator("#drill-content .drill-body").wait_for()
    assert page.url.endswith("/appendix")  # swapped in place, not followed
    check(page, "appendix after a drill-down")
    page.goto(page.base + "/campaigns/kl49-2024/breakdown/II.1.1")
    check(page, "breakdown")
    sign_out(page)


def test_the_sign_in_slip_prints_through_app_js(browser_page):
    page = browser_page
    sign_in(page, "admin")
    page.goto(page.base + "/admin/units")
    check(page, "units")
    form = page.locator("form[action$='/reset-password']").first
    form.locator("button").click()  # the data-confirm question is accepted by the dialog handler
    page.locator(".slip").wait_for()
    check(page, "slip")
    password = page.inner_text("#slip-password")
    assert re.fullmatch(r"[a-z0-9]{10,}", password)
    page.evaluate("window.print = function () { window.__printed = true; }")
    page.click("button[data-print]")
    assert page.evaluate("window.__printed") is True
    assert page.evaluate("matchMedia('print').matches") is False
    page.emulate_media(media="print")
    assert page.locator(".topbar").is_hidden() and page.locator(".slip-tools").is_hidden()
    assert page.locator(".slip").is_visible()
