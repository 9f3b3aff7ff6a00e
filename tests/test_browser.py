"""The table page in a real browser: a cell is saved on leaving it, Tab and Enter move like a spreadsheet.

Needs Debian's Chromium at /usr/bin/chromium (`apt-get install chromium`): skipped without it, a
failure under CI=true (the `browser` fixture of conftest.py decides).
"""

from __future__ import annotations

import pytest

from conftest import CHROMIUM, live_server, retype, signed_in, stored  # noqa: F401  (re-exported for other modules)
from conftest import CHROMIUM_ARGS as ARGS  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_server):  # noqa: F811
    yield signed_in(browser, live_server, "ln-02")


def test_typing_and_tab_saves_the_cell_and_updates_the_rate(page):
    page.goto(page.base + "/campaigns/kl49-2024/tables/II.1.5")
    trained = stored("ln-02", "II.1.5", "2019", "xa_dt").num
    page.click("#cell-2019-xa_tong")
    page.keyboard.press("Control+A")
    page.keyboard.type("40")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.keyboard.press("Tab")
    assert info.value.status == 200
    assert "/cells/2019/xa_tong" in info.value.url
    rate = page.locator("#row-0-2019 td.derived").first
    expected = f"{trained * 100 / 40:.2f}".replace(".", ",")
    page.wait_for_function(f"() => document.querySelector('#row-0-2019 td.derived').innerText.trim() === '{expected}'")
    assert rate.inner_text().strip() == expected
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 40
    # the answer left the focus on the next cell of the row, its text selected for typing over
    assert page.evaluate("document.activeElement.id") == "cell-2019-xa_dt"


def test_enter_moves_down_and_an_invalid_value_is_shown_not_stored(page):
    page.goto(page.base + "/campaigns/kl49-2024/tables/II.1.5")
    before = stored("ln-02", "II.1.5", "2019", "xa_dt").num
    page.click("#cell-2019-xa_dt")
    page.keyboard.press("Control+A")
    page.keyboard.type("-4")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.keyboard.press("Enter")
    assert info.value.status == 422
    message = page.locator("#cell-2019-xa_dt-msg")
    message.wait_for()
    assert message.inner_text() == "Không được là số âm"
    assert page.input_value("#cell-2019-xa_dt") == "-4"
    assert page.evaluate("document.activeElement.id") == "cell-2020-xa_dt"
    assert stored("ln-02", "II.1.5", "2019", "xa_dt").num == before
    assert "bị từ chối" in page.inner_text("#save-status")


def test_a_document_is_added_to_table_one_in_place(page):
    page.goto(page.base + "/campaigns/kl49-2024/tables/I")
    rows = page.locator("#list-body tr[id^='lrow-']").count()
    page.select_option("#new-the_loai", "Nghị quyết")
    for field, text in [("so_hieu", "09-NQ/ĐU"), ("ngay_ban_hanh", "05/07/2020"),
                        ("trich_yeu", "Về xây dựng xã hội học tập"), ("co_quan", "Đảng ủy xã Lộc Hòa")]:
        page.click(f"#new-{field}")
        page.keyboard.type(text)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/rows")):
        page.click("#list-new button[data-add]")
    page.wait_for_function(f"() => document.querySelectorAll('#list-body tr[id^=lrow-]').length === {rows + 1}")
    last = page.locator("#list-body tr[id^='lrow-']").last
    assert last.locator("input[id$='-so_hieu']").input_value() == "09-NQ/ĐU"
    assert last.locator("input[id$='-ngay_ban_hanh']").input_value() == "05/07/2020"
    assert page.input_value("#new-so_hieu") == ""


@pytest.mark.parametrize("failure, expected", [
    ("server error", "máy chủ gặp lỗi (mã 500)"),
    ("no connection", "không kết nối được máy chủ"),
])
def test_a_failed_save_is_announced_marked_and_sent_again(page, failure, expected):
    """A save that did not reach the database never looks saved: a banner says so and the cell is
    marked; it is sent again by itself, and once it is stored the banner goes."""
    page.goto(page.base + "/campaigns/kl49-2024/tables/II.1.5")
    before = stored("ln-02", "II.1.5", "2019", "xa_tong").num
    assert before != 41

    def fail(route):
        if failure == "no connection":
            return route.abort("connectionrefused")
        return route.fulfill(status=500, body="<p>x</p>")

    page.route("**/cells/**", fail)
    retype(page, "#cell-2019-xa_tong", "41")
    banner = page.locator("#request-failed")
    banner.wait_for(state="visible")
    assert expected in banner.inner_text()
    assert page.get_attribute("#cell-2019-xa_tong", "data-state") == "failed"
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == before
    assert "1 ô chưa lưu" in page.inner_text("#save-status")

    page.unroute("**/cells/**")
    banner.wait_for(state="hidden", timeout=20000)
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 41
    assert page.get_attribute("#cell-2019-xa_tong", "data-state") in (None, "saved")


def test_an_expired_session_stops_saving_and_says_to_reload(page):
    """A refused token (400) will not pass by being sent again: the page says what to do, and the
    cell stays marked as not saved."""
    page.goto(page.base + "/campaigns/kl49-2024/tables/II.1.5")
    sent = []

    def expired(route):
        sent.append(route.request.url)
        return route.fulfill(status=400, body="x")

    page.route("**/cells/**", expired)
    retype(page, "#cell-2019-xa_tong", "41")
    page.locator("#request-failed").wait_for(state="visible")
    assert "phiên làm việc đã hết hạn" in page.inner_text("#request-failed")
    page.keyboard.type("7")
    page.keyboard.press("Tab")
    page.wait_for_timeout(1500)
    assert len(sent) == 1
    assert page.get_attribute("#cell-2019-xa_tong", "data-state") == "failed"
    assert page.get_attribute("#cell-2019-xa_dt", "data-state") == "failed"


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
