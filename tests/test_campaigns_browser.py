"""Setting up a campaign in a real browser (Debian's Chromium through Playwright): created with the
keyboard, the grid ticked, both pages at an office PC's 1366 px and a phone's 360 px (screenshots
under /tmp), the units recomputed when the compiling unit changes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from conftest import DEMO_TODAY, in_app, unit_id
from webapp.models import Assignment, Campaign

pytestmark = pytest.mark.browser

SHOTS = "/tmp/campaigns-"
DEADLINE = DEMO_TODAY + dt.timedelta(days=40)


def sign_in(browser, base: str, username: str, width: int = 1366, height: int = 900):
    """A page in Vietnamese (the date input shows dd/mm/yyyy), signed in as ``username``."""
    page = browser.new_page(viewport={"width": width, "height": height}, locale="vi-VN")
    page.problems = []  # what the Content-Security-Policy refused, and script errors
    page.on("console", lambda m: page.problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "demo123")
    page.click("input[type=submit]")
    page.wait_for_url(base + "/")
    return page


def type_slowly(page, text: str) -> None:
    page.keyboard.type(text, delay=25)


def no_page_scroll(page) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width <= inner, f"{page.url}: {width} px wide in a {inner} px window"


def choose_outline_by_typing(page, code: str) -> None:
    """Type the outline's code into the focused list, as a clerk picks from a select, and wait for the
    units it fills to be offered (the list reloads on change)."""
    if page.locator("#outline option:checked").inner_text().startswith(code):
        return
    with page.expect_response(lambda r: "/admin/campaigns/new/units" in r.url):
        page.keyboard.type(code, delay=80)
        page.keyboard.press("Tab")  # leaving the list commits the change
    page.focus("#outline")


def test_a_compiler_creates_a_campaign_with_the_keyboard_and_ticks_the_grid(browser, live_server):
    page = sign_in(browser, live_server, "ln-btg")
    page.click("text=Tạo đợt báo cáo")
    page.wait_for_url(live_server + "/admin/campaigns/new")
    page.focus("#outline")
    choose_outline_by_typing(page, "kl49")  # the demo stores several outlines: the first by code is offered
    assert page.locator("#outline option:checked").inner_text().startswith("kl49 · phiên bản 2 · PHỤ LỤC")
    page.keyboard.press("Tab")
    type_slowly(page, "bc-2025")
    page.keyboard.press("Tab")
    type_slowly(page, "Báo cáo kết quả khuyến học năm 2025")
    page.keyboard.press("Tab")
    type_slowly(page, "2025")
    page.keyboard.press("Tab")
    type_slowly(page, "2025")
    page.keyboard.press("Tab")
    type_slowly(page, DEADLINE.strftime("%d/%m/%Y"))
    assert page.get_attribute("#deadline", "placeholder") == "ngày/tháng/năm"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "compiler"
    page.keyboard.press("Tab")  # the first reporting unit: Thị trấn Lộc Ninh, ticked by default
    assert page.evaluate("document.activeElement.name") == "units"
    assert page.evaluate("document.activeElement.checked")
    page.keyboard.press("Space")
    assert not page.evaluate("document.activeElement.checked")
    assert page.locator("input[name=units]:checked").count() == 19
    page.screenshot(path=SHOTS + "create-1366.png", full_page=True)
    for _ in range(40):  # past the other units and the print fields' summary to the button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "submit":
            break
    assert page.evaluate("document.activeElement.id") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == live_server + "/admin/campaigns/bc-2025/assignments"
    assert "Đã tạo đợt báo cáo «Báo cáo kết quả khuyến học năm 2025» (19 đơn vị báo cáo)" in page.inner_text("main")

    with in_app() as session:
        made = session.scalar(select(Campaign).where(Campaign.code == "bc-2025"))
        assert made.status == "open" and made.deadline == DEADLINE and (made.year_from, made.year_to) == (2025, 2025)
        assert "ln-01" not in [u.code for u in made.units] and len(made.units) == 19

    # the grid: the front (ln-mttq) is given II.1.8 as well, Lộc Hòa loses table I
    give = page.locator(f'input[name=a][value="{unit_id("ln-mttq")}|II.1.8|cong_nhan"]')
    take = page.locator(f'input[name=a][value="{unit_id("ln-02")}|I|rows"]')
    assert not give.is_checked() and take.is_checked()
    give.focus()
    page.keyboard.press("Space")
    take.focus()
    page.keyboard.press("Space")
    page.screenshot(path=SHOTS + "grid-1366.png", full_page=True)
    page.focus("#submit")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Đã lưu bảng giao biểu: giao thêm 1, bỏ giao 1 nhóm cột." in page.inner_text("main")
    with in_app() as session:
        made = session.scalar(select(Campaign).where(Campaign.code == "bc-2025"))
        keys = set(session.execute(select(Assignment.unit_id, Assignment.table_code, Assignment.group_key)
                                   .where(Assignment.campaign_id == made.id)))
        assert (unit_id("ln-mttq"), "II.1.8", "cong_nhan") in keys and (unit_id("ln-02"), "I", "rows") not in keys
    no_page_scroll(page)
    assert page.problems == []
    page.close()

    # on a phone: the pages fit, the wide grid scrolls inside its box
    phone = sign_in(browser, live_server, "ln-btg", width=360, height=740)
    phone.goto(live_server + "/admin/campaigns/bc-2025/assignments")
    no_page_scroll(phone)
    box = phone.evaluate("(() => { const b = document.querySelector('.assign-box');"
                         " return [b.scrollWidth, b.clientWidth]; })()")
    assert box[0] > box[1] + 200, box  # much wider than the screen, scrolled in its box
    phone.evaluate("document.querySelector('.assign-box').scrollLeft = 400")
    phone.screenshot(path=SHOTS + "grid-360.png", full_page=False)
    for url in ("/", "/admin/campaigns/new", "/admin/campaigns/bc-2025/settings", "/admin/campaigns/bc-2025/copy"):
        phone.goto(live_server + url)
        no_page_scroll(phone)
    phone.goto(live_server + "/admin/campaigns/new")
    phone.screenshot(path=SHOTS + "create-360.png", full_page=True)
    phone.goto(live_server + "/admin/campaigns/bc-2025/settings")
    phone.screenshot(path=SHOTS + "settings-360.png", full_page=True)
    assert phone.problems == []
    phone.close()


def test_the_default_units_follow_the_compiling_unit(browser, live_server):
    page = sign_in(browser, live_server, "admin")
    page.goto(live_server + "/admin/campaigns/new")
    page.focus("#outline")
    choose_outline_by_typing(page, "kl49")  # kl49's kinds: the communes and the district's bodies
    first = page.locator("input[name=units]").first
    first.uncheck()
    assert page.locator("input[name=units]:checked").count() == 19
    options = page.locator("#compiler option")
    other = next(options.nth(i).get_attribute("value") for i in range(options.count())
                 if options.nth(i).inner_text() == "Huyện Lộc Ninh")
    with page.expect_response(lambda r: "/admin/campaigns/new/units" in r.url) as answer:
        page.select_option("#compiler", other)
    assert answer.value.status == 200
    # the district itself compiles: its units are the same twenty, ticked again, and its board is offered
    page.wait_for_function("document.querySelectorAll('input[name=units]:checked').length === 20")
    assert "Ban Tuyên giáo Huyện ủy Lộc Ninh" in page.inner_text("#units-box")
    assert page.problems == []
    page.close()
