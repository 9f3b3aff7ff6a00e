"""A list quota in a real browser: Lộc Hòa (ln-02) has proposed its 2 collectives in khenthuong-2020;
a third one typed on the list page is refused with the quota's message, nothing stored."""

from __future__ import annotations

import pytest

from conftest import browser, live_server, signed_in  # noqa: F401
from test_list_quota import MESSAGE, kinds

pytestmark = pytest.mark.browser


def test_a_third_collective_typed_on_the_list_page_is_refused_with_the_quota(browser, live_server):  # noqa: F811
    page = signed_in(browser, live_server, "ln-02")
    page.goto(page.base + "/campaigns/khenthuong-2020/tables/IV")
    assert "tối đa 2 Tập thể (đã có 2)" in page.inner_text("#list-quota")
    page.select_option("#new-loai", "Tập thể")
    for field, text in [("ten", "Chi hội Khuyến học ấp 3"), ("don_vi", "Xã Lộc Hòa"),
                        ("thanh_tich", "Vận động 40 hộ đạt Gia đình học tập")]:
        page.click(f"#new-{field}")
        page.keyboard.type(text, delay=15)
    page.select_option("#new-hinh_thuc", "Giấy khen của Chủ tịch UBND huyện")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/rows")) as answer:
        page.click("#list-new button[data-add]")
    assert answer.value.status == 422
    message = page.locator("tr.refused-row .msg.error")
    message.first.wait_for()
    assert message.first.inner_text() == MESSAGE
    # what was typed stays in the refused row, to change to an individual and add again
    refused = page.locator("tr.refused-row")
    assert refused.locator("input[id$='-ten']").input_value() == "Chi hội Khuyến học ấp 3"
    assert kinds() == ["Tập thể", "Tập thể", "Cá nhân"]
    page.close()
