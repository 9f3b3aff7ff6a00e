"""The new column types in a browser: a decimal typed "80,5" is stored exactly and shown back as
typed; the row's sum and formula follow each save (tests/outlines/types.yaml)."""

from __future__ import annotations

from conftest import CURRENT, signed_in, stored
from test_browser_typing import all_saved
from test_column_types import _types_campaign


def type_into(page, selector: str, text: str) -> None:
    """A clerk's way into a cell: click, select what is there, type with a human's pauses, Tab."""
    page.click(selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text, delay=70)
    page.keyboard.press("Tab")


def test_a_decimal_typed_in_the_browser_is_stored_exactly_and_the_computed_cells_follow(browser, live_server):
    _types_campaign(CURRENT["app"])
    page = signed_in(browser, live_server, "ln-02")
    page.goto(f"{live_server}/campaigns/kc-2025/tables/T1")
    page.wait_for_selector("#cell-2024-ty_le")
    assert page.get_attribute("#cell-2024-ty_le", "inputmode") == "decimal"
    type_into(page, "#cell-2024-ty_le", "80,5")
    type_into(page, "#cell-2024-n1", "1")
    type_into(page, "#cell-2024-n2", "2")
    all_saved(page)
    assert stored("ln-02", "T1", "2024", "ty_le").num == 805
    assert page.input_value("#cell-2024-ty_le") == "80,5"
    assert page.locator("#td-2024-tong").inner_text().strip() == "3"
    assert page.locator("#td-2024-c7").inner_text().strip() == "33,33"
    assert page.locator("#td-2024-mt").inner_text().strip() == "80,0"
    page.reload()
    assert page.input_value("#cell-2024-ty_le") == "80,5"
