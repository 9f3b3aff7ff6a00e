"""The table page in a real browser: htmx saves on leaving a cell, Tab and Enter move like a spreadsheet.

Needs Debian's Chromium at /usr/bin/chromium (`apt-get install chromium`): skipped without it, a
failure under CI=true (the `browser` fixture of conftest.py decides).
"""

from __future__ import annotations

import pytest

from conftest import CHROMIUM, live_server, signed_in, stored  # noqa: F401  (re-exported for other modules)
from conftest import CHROMIUM_ARGS as ARGS  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):  # noqa: F811
    yield signed_in(browser, live_server, "ln-02")


def test_typing_and_tab_saves_the_cell_and_updates_the_rate(page):
    page.goto(page.base + "/campaigns/kl49-2024/tables/II.1.5")
    trained = stored("ln-02", "II.1.5", "2019", "xa_dt").num
    page.fill("#cell-2019-xa_tong", "40")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.keyboard.press("Tab")
    assert info.value.status == 200
    rate = page.locator("#row-0-2019 td.derived").first
    assert rate.inner_text().strip() == f"{trained * 100 / 40:.2f}".replace(".", ",")
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 40
    # the swap kept the focus on the next cell of the row
    assert page.evaluate("document.activeElement.id") == "cell-2019-xa_dt"


def test_enter_moves_down_and_an_invalid_value_is_shown_not_stored(page):
    page.goto(page.base + "/campaigns/kl49-2024/tables/II.1.5")
    before = stored("ln-02", "II.1.5", "2019", "xa_dt").num
    page.fill("#cell-2019-xa_dt", "-4")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.keyboard.press("Enter")
    assert info.value.status == 422
    message = page.locator("#cell-2019-xa_dt-msg")
    message.wait_for()
    assert message.inner_text() == "Không được là số âm"
    assert page.input_value("#cell-2019-xa_dt") == "-4"
    assert page.evaluate("document.activeElement.id") == "cell-2020-xa_dt"
    assert stored("ln-02", "II.1.5", "2019", "xa_dt").num == before


def test_a_document_is_added_to_table_one_in_place(page):
    page.goto(page.base + "/campaigns/kl49-2024/tables/I")
    page.select_option("#new-the_loai", "Nghị quyết")
    page.fill("#new-so_hieu", "09-NQ/ĐU")
    page.fill("#new-ngay_ban_hanh", "05/07/2020")
    page.fill("#new-trich_yeu", "Về xây dựng xã hội học tập")
    page.fill("#new-co_quan", "Đảng ủy xã Lộc Hòa")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/rows")):
        page.click("#list-new button")
    row = page.locator("#list-body tr").first
    row.wait_for()
    assert "09-NQ/ĐU" in page.input_value("#list-body tr input[id$='-so_hieu']")
    assert page.input_value("#new-so_hieu") == ""


@pytest.mark.parametrize("failure, expected", [
    ("server error", "máy chủ gặp lỗi (mã 500)"),
    ("expired session", "phiên làm việc đã hết hạn"),
    ("no connection", "không kết nối được máy chủ"),
])
def test_a_failed_save_is_announced_and_the_cell_marked(page, failure, expected):
    """A save that did not reach the database must never look saved: a banner says so and the cell
    is marked; the next successful save clears the banner."""
    page.goto(page.base + "/campaigns/kl49-2024/tables/II.1.5")
    before = stored("ln-02", "II.1.5", "2019", "xa_tong").num
    assert before not in (41, 42)

    def fail(route):
        if route.request.method != "POST":
            return route.continue_()
        if failure == "no connection":
            return route.abort("connectionrefused")
        return route.fulfill(status=500 if failure == "server error" else 400, body="<p>x</p>")

    page.route("**/tables/II.1.5", fail)
    page.fill("#cell-2019-xa_tong", "41")
    page.keyboard.press("Tab")
    banner = page.locator("#request-failed")
    banner.wait_for(state="visible")
    assert expected in banner.inner_text()
    assert "unsaved" in page.get_attribute("#cell-2019-xa_tong", "class")
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == before

    page.unroute("**/tables/II.1.5")
    page.fill("#cell-2019-xa_tong", "42")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.keyboard.press("Tab")
    assert info.value.status == 200
    banner.wait_for(state="hidden")
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 42


def test_on_a_phone_the_breakdown_opens_over_the_appendix_and_closes(browser, live_server):  # noqa: F811
    """Below 900 px the panel would sit under the whole appendix: it must open on screen instead."""
    page = signed_in(browser, live_server, "ln-btg", width=360, height=740)
    page.goto(live_server + "/campaigns/kl49-2024/appendix")
    assert page.locator(".drill-close").is_hidden()
    page.locator("a.drill:not(.empty)").nth(5).click()
    page.locator("#drill-content .drill-body").wait_for()
    box = page.locator("#drill").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 740 + 1  # within the screen
    assert page.locator(".drill-hint").is_hidden()
    page.click(".drill-close")
    assert page.locator("#drill-content .drill-body").count() == 0
    assert page.locator("#drill").bounding_box()["y"] > 740  # back below the appendix
