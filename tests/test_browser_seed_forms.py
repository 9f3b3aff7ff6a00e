"""Typing the seeds' forms as a commune's clerk does: keyboard only, a pause to read the paper after
each cell, a slow link. Seed 003's participation table (cdht-2024, CDHT2) has one row per commune:
the clerk types its own row, and what is stored, shown and flagged follows what was typed.
"""

from __future__ import annotations

import pytest

from conftest import signed_in, stored

pytestmark = pytest.mark.browser

CAMPAIGN, TABLE, UNIT = "cdht-2024", "CDHT2", "ln-02"  # Xã Lộc Hòa: the seed prints 5.482 ≠ 764+4.175+536+8


def open_cdht(browser, live_server, latency_ms: int):
    page = signed_in(browser, live_server, UNIT)
    page.goto(f"{live_server}/campaigns/{CAMPAIGN}/tables/{TABLE}")
    page.wait_for_function("() => document.documentElement.classList.contains('saves-by-cell')")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": latency_ms,
                                                   "downloadThroughput": -1, "uploadThroughput": -1})
    return page


def test_a_commune_types_its_own_row_on_a_slow_link_and_the_seeds_warning_goes(browser, live_server):
    page = open_cdht(browser, live_server, latency_ms=300)
    editable = page.eval_on_selector_all("input.cell[data-save]", "els => els.map(e => e.id)")
    assert editable == [f"cell-{UNIT}-c{i}" for i in range(1, 7)]  # its own row only, the rate is computed
    row = page.locator(f"#cell-{UNIT}-c1").locator("xpath=ancestor::tr")
    assert "Cột 1 phải bằng tổng các cột 2, 3, 4, 5" in row.inner_text()  # the seed's own figures
    typed = {"c1": "5.409", "c2": "700", "c3": "4200", "c4": "500", "c5": "9", "c6": "120"}
    page.click(f"#cell-{UNIT}-c1")
    page.keyboard.press("Control+A")
    for key, value in typed.items():
        page.keyboard.type(value, delay=60)
        page.keyboard.press("Tab")
        page.wait_for_timeout(400)  # reading the next figure off the paper
    page.wait_for_function(
        "() => { const s = document.getElementById('save-status');"
        " return s && s.dataset.unsaved === '0' && s.textContent.indexOf('Đã lưu tất cả') >= 0; }",
        timeout=60_000)
    for key, value in typed.items():
        value_stored = stored(UNIT, TABLE, UNIT, key)
        assert value_stored is not None and value_stored.num == int(value.replace(".", "")), key
        assert page.input_value(f"#cell-{UNIT}-{key}").replace(".", "") == value.replace(".", ""), key
    rate = page.locator(f"#td-{UNIT}-c7").inner_text()
    assert rate.strip() == "2,86"  # 120 / 4.200 × 100, rounded half up
    assert "Cột 1 phải bằng tổng các cột 2, 3, 4, 5" not in row.inner_text()  # 5.409 = 700+4.200+500+9
    other = stored("ln-03", TABLE, "ln-03", "c1")
    assert other is not None and other.num == 7724  # the neighbour's row is as the seed prints it
