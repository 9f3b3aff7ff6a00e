"""Races of the table page's saves on slow and broken links (static/cells.js, issue 11): a cell
changed again while its save is on its way, an answer lost after the server stored the value, a
document added, edited or removed while the link is weak. Each test was written failing against the
first version of cells.js (in a review, as a clerk would type) and is kept as a regression test; each
ends by comparing what the page shows, and says, with what the database holds.

"A slow link": Chromium's network emulation, 800 ms before each answer. "An answer lost": the request
reaches the server (which stores it) and the answer never comes back, as when the 20 s timeout
aborts a slow save or a mobile link drops; simulated with page.route (route.fetch, then abort).
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from conftest import in_app, retype, stored, unit_id
from test_browser_typing import DOCS, all_saved, network, open_table, type_document

pytestmark = pytest.mark.browser

SHORT = "II.1.5"  # 2019–2023 × (Tổng số, trong đó): "of which" ≤ total
SLOW = 800


def settled(page, timeout_s: float = 60):
    """Wait until nothing is queued, on its way or waiting to be sent again (saved, refused, in conflict)."""
    page.wait_for_function(
        """() => { const s = document.getElementById('save-status');
                   return s && s.textContent.indexOf('đang lưu') < 0 && !document.querySelector(
                     '[data-state=queued], [data-state=saving], [data-state=failed], tr.pending-row:not(.refused-row)'); }""",
        timeout=timeout_s * 1000)


def lose_first_answer(page, match, down_ms: int = 0):
    """The first request ``match``ing reaches the server, its answer is lost; for ``down_ms`` after
    that, the link is down (every request fails). Returns the list of requests seen."""
    state = {"lost": False, "until": 0.0, "seen": []}

    def handler(route):
        req = route.request
        if req.method != "POST":
            return route.continue_()
        state["seen"].append(req.url)
        if not state["lost"] and match(req.url):
            state["lost"] = True
            route.fetch()  # stored by the server…
            state["until"] = time.monotonic() + down_ms / 1000
            return route.abort("connectionreset")  # …and the answer never arrives
        if time.monotonic() < state["until"]:
            return route.abort("internetdisconnected")
        return route.continue_()

    page.route("**/*", handler)
    return state


def shown(page, selector: str) -> str:
    return page.input_value(selector)


def num(unit: str, table: str, row: str, col: str):
    v = stored(unit, table, row, col)
    return v.num if v else None


# --- grid cells: a cell changed again while its first save is on its way ----------------------------

def test_value_put_back_to_the_stored_one_while_its_save_is_on_its_way(browser, live_server):
    """5 in an empty cell, Tab; 'no, wrong row': Shift+Tab, Backspace, Tab. The page shows the cell
    empty and says everything is saved; the database holds 5."""
    page = open_table(browser, live_server, "ln-16", SHORT)
    network(page, latency_ms=SLOW)
    page.click("#cell-2019-xa_tong")
    page.keyboard.type("5")
    page.keyboard.press("Tab")
    page.wait_for_timeout(100)
    page.keyboard.press("Shift+Tab")  # Chromium selects the cell's text
    page.keyboard.press("Backspace")
    page.keyboard.press("Tab")
    all_saved(page)
    assert shown(page, "#cell-2019-xa_tong") == ""
    assert num("ln-16", SHORT, "2019", "xa_tong") is None, "screen empty, 'Đã lưu tất cả', database 5"


def test_value_changed_twice_back_to_the_one_on_its_way(browser, live_server):
    """30 Tab, back: 40 Tab, back: 30 Tab (the first save still on its way). The page shows 30 and
    says all is saved; the database holds 40 (the second save, never cancelled)."""
    page = open_table(browser, live_server, "ln-16", SHORT)
    network(page, latency_ms=SLOW)
    page.click("#cell-2019-xa_tong")
    page.keyboard.type("30")
    page.keyboard.press("Tab")
    for value in ("40", "30"):
        page.wait_for_timeout(80)
        page.keyboard.press("Shift+Tab")  # back: Chromium selects the cell's text
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    all_saved(page)
    assert shown(page, "#cell-2019-xa_tong") == "30"
    assert num("ln-16", SHORT, "2019", "xa_tong") == 30, "screen 30, 'Đã lưu tất cả', database 40"


@pytest.mark.parametrize("keys, want", [
    (["ArrowDown", "ArrowUp"], ""),                  # Có by mistake, back to blank
    (["ArrowDown", "ArrowDown", "ArrowUp"], "Có"),   # one too far, back one
])
def test_yes_no_by_arrow_keys_on_a_slow_link(browser, live_server, keys, want):
    """A yes/no list moved with the arrow keys (each press is a change, each change a save) and
    corrected at once, on a slow link."""
    page = open_table(browser, live_server, "ln-16", "II.1.1")
    network(page, latency_ms=SLOW)
    page.focus("#cell-2019-xa_dat")
    for key in keys:
        page.keyboard.press(key)
        page.wait_for_timeout(60)
    assert shown(page, "#cell-2019-xa_dat") == want
    page.keyboard.press("Tab")
    all_saved(page)
    value = stored("ln-16", "II.1.1", "2019", "xa_dat")
    got = {None: "", 1: "Có", 0: "Không"}[value.num if value else None]
    assert shown(page, "#cell-2019-xa_dat") == want
    assert got == want, f"screen {want!r}, 'Đã lưu tất cả', database {got!r}"


def test_escape_while_the_cells_save_is_on_its_way(browser, live_server):
    """30 Tab, then back and Esc ('put back what is stored') before the answer: the page shows the
    old value and says all is saved; the database holds 30."""
    page = open_table(browser, live_server, "ln-02", SHORT)
    before = shown(page, "#cell-2019-xa_tong")
    network(page, latency_ms=SLOW)
    retype(page, "#cell-2019-xa_tong", "30")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    all_saved(page)
    on_screen = shown(page, "#cell-2019-xa_tong").replace(".", "")
    in_db = num("ln-02", SHORT, "2019", "xa_tong")
    # as in Excel, Tab committed the 30: Esc afterwards puts back what is (being) stored, not older
    assert on_screen == "30" != before.replace(".", "")
    assert str(in_db) == on_screen, f"screen {on_screen}, 'Đã lưu tất cả', database {in_db}"


# --- grid cells: an answer lost (timeout, dropped link), then the cell corrected --------------------

def test_cell_corrected_after_its_answer_was_lost_is_no_conflict(browser, live_server):
    """30 Tab: stored, answer lost (the cell shows 'not saved, will retry'); the link down a moment;
    the clerk corrects the cell to 40. The page's own 30 comes back as 'changed by someone else'
    (409), the 40 is not stored and is replaced on screen by 30."""
    page = open_table(browser, live_server, "ln-16", SHORT)
    lose_first_answer(page, lambda url: url.endswith("/cells/2019/xa_tong"), down_ms=1500)
    page.click("#cell-2019-xa_tong")
    page.keyboard.type("30")
    page.keyboard.press("Tab")
    page.wait_for_function("() => document.getElementById('cell-2019-xa_tong').dataset.state === 'failed'")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("40")
    page.keyboard.press("Tab")
    settled(page)
    td = page.inner_text("#td-2019-xa_tong")
    assert "người khác" not in td, td
    assert num("ln-16", SHORT, "2019", "xa_tong") == 40
    assert shown(page, "#cell-2019-xa_tong") == "40"


# --- table I: documents ---------------------------------------------------------------------------

def documents(unit: str = "ln-02") -> list[dict]:
    from webapp.models import ListRow

    with in_app() as session:
        return [dict(r.data, id=r.id) for r in session.scalars(
            select(ListRow).where(ListRow.table_code == "I", ListRow.unit_id == unit_id(unit)).order_by(ListRow.id))]


def on_page(page) -> list[str]:
    return page.eval_on_selector_all("#list-body tr[id^='lrow-']", "els => els.map(e => e.id)")


def with_two_documents(browser, live_server):
    page = open_table(browser, live_server, "ln-02", "I")
    type_document(page, DOCS[0], 0)
    type_document(page, DOCS[1], 0)
    all_saved(page)
    return page


def test_document_added_once_when_its_answer_is_lost(browser, live_server):
    """A document typed and Enter; the server adds it, the answer is lost (timeout, dropped link):
    the page sends it again by itself and the server adds it a second time. One row on screen, two
    in the database."""
    page = open_table(browser, live_server, "ln-02", "I")
    before = len(documents())
    lose_first_answer(page, lambda url: url.endswith("/tables/I/rows"))
    type_document(page, DOCS[0], 0)
    settled(page)
    all_saved(page)
    added = documents()[before:]
    assert len(on_page(page)) == before + 1
    assert [d["so_hieu"] for d in added] == [DOCS[0][1]], f"{len(added)} documents stored for one typed"


def test_document_edit_whose_answer_was_lost_is_no_conflict(browser, live_server):
    """A document's number corrected; the edit is stored, its answer lost; sent again, the page's
    own edit comes back as 'changed meanwhile by someone else' (409; a grid cell's retry is not)."""
    page = with_two_documents(browser, live_server)
    row_id = on_page(page)[-1].removeprefix("lrow-")
    lose_first_answer(page, lambda url: url.endswith(f"/rows/{row_id}"))
    page.click(f"#lrow-{row_id}-so_hieu")
    page.keyboard.press("Control+A")
    page.keyboard.type("88/KH-UBND")
    page.click("#new-so_hieu")  # out of the row: it is saved
    settled(page)
    row = page.inner_text(f"#lrow-{row_id}")
    assert "người khác" not in row, row
    assert page.get_attribute(f"#lrow-{row_id}-so_hieu", "data-state") in (None, "saved")


def test_document_removal_whose_answer_was_lost_does_not_stop_the_page(browser, live_server):
    """Xóa, OK; the server removes it, the answer is lost; sent again, the removal is refused with
    423 'no longer in the list', which stops every save of the page ('Chưa lưu: …'): the next
    document typed is not saved."""
    page = with_two_documents(browser, live_server)
    row_id = on_page(page)[0].removeprefix("lrow-")
    lose_first_answer(page, lambda url: url.endswith(f"/rows/{row_id}/delete"))
    page.on("dialog", lambda d: d.accept())
    page.click(f"#lrow-{row_id} button[data-remove]")
    page.wait_for_timeout(2500)  # the retry after 1 s
    assert page.locator("#request-failed").is_hidden(), page.inner_text("#request-failed")
    type_document(page, DOCS[2], 0)
    page.wait_for_timeout(1000)
    assert DOCS[2][1] in [d["so_hieu"] for d in documents()]


@pytest.mark.parametrize("link", ["slow", "offline"])
def test_removing_an_edited_document_does_not_stop_the_page(browser, live_server, link):
    """A clerk corrects a document's number (slow: and is still in the row; offline: and has left
    it, the edit waits to be sent again), then removes the document (Xóa, OK). The removal goes;
    the row's edit is sent after it (focusout of the removed row's Xóa button), refused with 423
    'no longer in the list', which stops every save of the page while the status line says
    'Đã lưu tất cả': the next document typed is not saved."""
    page = with_two_documents(browser, live_server)
    row_id = on_page(page)[0].removeprefix("lrow-")
    network(page, latency_ms=300) if link == "slow" else network(page, offline=True)
    page.on("dialog", lambda d: d.accept())
    page.click(f"#lrow-{row_id}-so_hieu")
    page.keyboard.press("Control+A")
    page.keyboard.type("77-NQ/ĐU")
    if link == "offline":
        page.click("#new-so_hieu")  # out of the row: its save fails, to be sent again
        page.wait_for_function(f"() => document.getElementById('lrow-{row_id}-so_hieu').dataset.state === 'failed'")
    page.click(f"#lrow-{row_id} button[data-remove]")
    network(page, latency_ms=0)
    page.wait_for_function(f"() => !document.getElementById('lrow-{row_id}')", timeout=40000)
    page.wait_for_timeout(1500)
    assert int(row_id) not in [d["id"] for d in documents()]
    assert page.locator("#request-failed").is_hidden(), page.inner_text("#request-failed")
    type_document(page, DOCS[2], 0)
    page.wait_for_timeout(1000)
    assert DOCS[2][1] in [d["so_hieu"] for d in documents()], "the next document was not saved"


def correct_refused_document(page):
    """A document refused for its date (31/02) stays as its own row; on a slow link the clerk
    corrects the date there and presses Enter to add it again."""
    type_document(page, (DOCS[0][0], DOCS[0][1], "31/02/2020", *DOCS[0][3:]), 0)
    page.wait_for_selector("tr.refused-row")
    network(page, latency_ms=SLOW)
    retype(page, "#pending1-ngay_ban_hanh", DOCS[0][2], "Enter")


def test_refused_document_corrected_and_enter_pressed_twice_is_added_once(browser, live_server):
    """A refused document (31/02) corrected in its row, Enter; on a slow link nothing seems to
    happen, Enter again: the document is added twice, and the second is not on the page."""
    page = open_table(browser, live_server, "ln-02", "I")
    before = len(documents())
    correct_refused_document(page)
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.wait_for_timeout(4 * SLOW)
    all_saved(page)
    added = documents()[before:]
    assert len(on_page(page)) == len(documents())
    assert len(added) == 1, f"{len(added)} documents stored, {len(on_page(page)) - before} on the page"


def test_refused_document_typed_in_after_enter_is_not_dropped(browser, live_server):
    """A refused document corrected, Enter, and (still in its row) one more correction typed while it
    is being added: the answer replaces the row and the correction is gone, neither saved nor shown."""
    page = open_table(browser, live_server, "ln-02", "I")
    correct_refused_document(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("Trích yếu sửa lại")
    page.keyboard.press("Tab")
    page.wait_for_timeout(4 * SLOW)
    all_saved(page)
    # the document is locked while it is added (typing there changes nothing): what the page shows is
    # what is stored, never a correction shown but dropped
    typed = documents()[-1]["trich_yeu"]
    rows = page.eval_on_selector_all("#list-body input[id$='-trich_yeu']", "els => els.map(e => e.value)")
    assert rows[-1] == typed, (typed, rows)


def test_kind_changed_in_a_document_being_added_is_not_dropped(browser, live_server):
    """Enter adds a document; while it is on its way (pale, 'readonly') the clerk changes its kind in
    the list: a select is not made read-only by readOnly, the choice shows, then the answer replaces
    the row with the old kind, unsaved and without a word."""
    page = open_table(browser, live_server, "ln-02", "I")
    network(page, latency_ms=SLOW)
    type_document(page, DOCS[0], 0)
    page.focus("#pending1-the_loai")
    page.keyboard.type("Kế")  # Kế hoạch
    chosen = page.input_value("#pending1-the_loai")
    page.keyboard.press("Tab")
    page.wait_for_timeout(4 * SLOW)
    all_saved(page)
    assert documents()[-1]["the_loai"] == chosen, f"chose {chosen!r}, stored {documents()[-1]['the_loai']!r}"


def test_leaving_the_page_with_a_document_edited_asks_first(browser, live_server):
    """A document's number changed, Tab to its date (same row: not saved yet), then a reload or a
    typed address: nothing asks, and the change is lost (only the focused field is looked at)."""
    page = with_two_documents(browser, live_server)
    row_id = on_page(page)[0].removeprefix("lrow-")
    retype(page, f"#lrow-{row_id}-so_hieu", "55-NQ/ĐU")
    asked = []
    page.on("dialog", lambda d: (asked.append(d.type), d.dismiss()))
    page.evaluate("() => { window.location.href = '/'; }")
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]


def test_enter_in_a_document_being_added_does_not_add_it_twice(browser, live_server):
    """Enter adds a document; on a slow link the clerk clicks into the pale row (its fields are
    read-only, but focusable) and presses Enter again: it is sent a second time and stored twice."""
    page = open_table(browser, live_server, "ln-02", "I")
    before = len(documents())
    network(page, latency_ms=SLOW)
    type_document(page, DOCS[0], 0)
    page.click("#pending1-so_hieu")
    page.keyboard.press("Enter")
    page.wait_for_timeout(4 * SLOW)
    all_saved(page)
    added = documents()[before:]
    assert len(added) == 1, f"{len(added)} documents stored, {len(on_page(page)) - before} on the page"


def test_escape_in_one_field_of_a_document_keeps_the_others(browser, live_server):
    """A document's number corrected, Tab to its date, a slip typed there and Esc (as in Excel: put
    back that cell): the number typed a moment ago goes back too, and nothing says so."""
    page = with_two_documents(browser, live_server)
    row_id = on_page(page)[0].removeprefix("lrow-")
    retype(page, f"#lrow-{row_id}-so_hieu", "66-NQ/ĐU")
    page.keyboard.type("9")
    page.keyboard.press("Escape")
    assert shown(page, f"#lrow-{row_id}-ngay_ban_hanh") == "05/03/2020"
    assert shown(page, f"#lrow-{row_id}-so_hieu") == "66-NQ/ĐU"


def test_a_click_into_a_filled_cell_then_typing_replaces_its_value(browser, live_server):
    """As in Excel: click a cell holding 21, type 35, Tab: the cell holds 35 (it held 3521, the caret
    put before the old digits, and 3521 was stored). A second click in the same cell edits in place."""
    page = open_table(browser, live_server, "ln-02", SHORT)
    network(page, latency_ms=SLOW)
    before = num("ln-02", SHORT, "2019", "xa_tong")
    assert before is not None and shown(page, "#cell-2019-xa_tong") == str(before)
    page.click("#cell-2019-xa_tong")
    page.keyboard.type("35", delay=120)
    page.keyboard.press("Tab")
    page.wait_for_timeout(700)
    page.click("#cell-2020-xa_tong")
    page.click("#cell-2020-xa_tong", position={"x": 3, "y": 10})  # clicked again: the caret, at the start
    page.keyboard.type("1", delay=120)
    typed_over = shown(page, "#cell-2020-xa_tong")
    page.keyboard.press("Tab")
    all_saved(page)
    assert shown(page, "#cell-2019-xa_tong") == "35" and num("ln-02", SHORT, "2019", "xa_tong") == 35
    assert typed_over.startswith("1") and len(typed_over) > 1, typed_over  # edited in place, not replaced
    assert num("ln-02", SHORT, "2020", "xa_tong") == int(typed_over.replace(".", ""))
