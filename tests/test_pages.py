"""The pages as people read them: table navigation through one's own tables, names instead of codes,
each thing said once, where the cursor starts, and no page wider than a phone's screen."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from conftest import in_app, login, signed_in, unit_id

CAMPAIGN = "/campaigns/kl49-2024"
KIND_CODES = ("xa", "ubnd_huyen", "ldld_huyen", "hkh_huyen", "doan_the", "huyen", "huyen_uy")


def text_of(page: bytes) -> str:
    """A page's visible words: tags out, entities decoded, whitespace collapsed."""
    body = page.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def pager(page: bytes) -> dict[str, str]:
    """The ‹ Biểu / Biểu › links of a table page: {"prev"|"next": href}."""
    nav = re.search(r'<nav class="pager">(.*?)</nav>', page.decode(), re.S).group(1)
    links = {}
    for href, label in re.findall(r'<a href="([^"]+)">([^<]*)</a>', nav):
        label = html.unescape(label)
        if label.startswith("‹ Biểu"):
            links["prev"] = html.unescape(href)
        elif label.startswith("Biểu") and label.endswith("›"):
            links["next"] = html.unescape(href)
    return links


def table_code_of(href: str) -> str:
    return re.search(r"/tables/([^/?]+)", href).group(1)


def assigned_tables(unit_code: str) -> list[str]:
    """The unit's tables in the outline's order, from its Assignment rows."""
    from webapp.models import Assignment, Campaign

    uid = unit_id(unit_code)
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        owned = set(session.scalars(select(Assignment.table_code).where(
            Assignment.campaign_id == campaign.id, Assignment.unit_id == uid)))
        return [t.code for t in campaign.outline.tables if t.code in owned]


def walk(client, first_url: str) -> tuple[list[str], list[str]]:
    """Follow "Biểu ›" from ``first_url`` to the end; the table codes visited and every link's href."""
    codes, hrefs, url = [], [], first_url
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        codes.append(table_code_of(url))
        links = pager(response.data)
        hrefs += links.values()
        url = links.get("next")
        assert len(codes) < 20, "the pager goes round in circles"
    return codes, hrefs


# --- ‹ Biểu / Biểu › -----------------------------------------------------------------------------

def test_prev_and_next_go_only_through_the_clerks_own_tables(clerk):
    own = assigned_tables("ln-02")
    assert "II.1.4" not in own and "II.1.5" in own  # a commune fills no table of district offices
    codes, hrefs = walk(clerk, f"{CAMPAIGN}/tables/{own[0]}")
    assert codes == own
    assert pager(clerk.get(f"{CAMPAIGN}/tables/{own[0]}").data).get("prev") is None
    links = pager(clerk.get(f"{CAMPAIGN}/tables/II.1.5").data)
    assert table_code_of(links["prev"]) == own[own.index("II.1.5") - 1]
    assert table_code_of(links["next"]) == own[own.index("II.1.5") + 1]
    assert all("unit=" not in h for h in hrefs)  # a clerk's links name no unit


def test_a_compiler_viewing_a_unit_steps_through_that_units_tables(compiler):
    own = assigned_tables("ln-ubnd")
    assert "II.1.4" in own and "II.1.3" not in own
    codes, hrefs = walk(compiler, f"{CAMPAIGN}/tables/{own[0]}?unit=ln-ubnd")
    assert codes == own
    assert all("unit=ln-ubnd" in h for h in hrefs)
    commune, _ = walk(compiler, f"{CAMPAIGN}/tables/I?unit=ln-02")
    assert commune == assigned_tables("ln-02")


def test_a_table_that_is_not_the_units_has_the_units_tables_either_side(clerk):
    response = clerk.get(f"{CAMPAIGN}/tables/II.1.4")  # read-only: another kind of unit fills it
    assert response.status_code == 200
    links = pager(response.data)
    assert (table_code_of(links["prev"]), table_code_of(links["next"])) == ("II.1.3", "II.1.5")


# --- words -----------------------------------------------------------------------------------------

def test_unit_kinds_are_shown_by_name_not_code(compiler, admin):
    for client in (compiler, admin):
        page = client.get("/admin/units")
        assert page.status_code == 200
        words = text_of(page.data)
        assert "Xã, phường, thị trấn" in words and "Ủy ban nhân dân huyện" in words
        assert "Mặt trận Tổ quốc và các đoàn thể" in words and "Huyện ủy" in words
        shown = re.findall(r'<span class="muted">([^<·]*?)\s*(?:·|</span>)', page.data.decode())
        assert shown and not set(k.strip() for k in shown) & set(KIND_CODES), shown
    unit_page = text_of(compiler.get(f"{CAMPAIGN}/units/ln-ubnd").data)
    assert "Ủy ban nhân dân huyện" in unit_page


def test_the_unit_kind_names_come_from_one_place(app):
    from webapp.domain.outline import shipped_outline
    from webapp.domain.unit_kinds import CONTAINER_KINDS
    from webapp.templating import unit_kind_name

    with app.app_context():  # the stored outlines name the reporting kinds
        for kind, name in shipped_outline("kl49").unit_kinds.items():
            assert unit_kind_name(kind) == name
        for kind in ("huyen", "huyen_uy", "tinh_uy"):
            assert unit_kind_name(kind) == CONTAINER_KINDS[kind]
        assert unit_kind_name("khac") == "khac"


def test_a_submitted_part_says_submitted_once(app):
    home = text_of(login(app.test_client(), "ln-01").get("/").data)  # the town: submitted
    assert "Đã nộp" in home and re.search(r"Hạn gửi: [0-9/]+ — nộp lúc [0-9:]+ [0-9/]+ \(đúng hạn\)", home)
    assert "nộp nộp" not in home and "nộp · nộp" not in home
    unit = text_of(login(app.test_client(), "ln-btg").get(f"{CAMPAIGN}/units/ln-01").data)
    assert "Đã nộp lúc" in unit and "nộp nộp" not in unit
    accepted = text_of(login(app.test_client(), "ln-03").get("/").data)
    assert "Đã duyệt" in accepted and "— nộp lúc" in accepted and "nộp nộp" not in accepted


def test_the_return_reason_is_shown_once_with_the_place_to_correct(app):
    from webapp.models import Campaign, CampaignUnit

    with in_app() as session:
        reason = session.scalar(select(CampaignUnit.return_reason).join(Campaign).where(
            CampaignUnit.unit_id == unit_id("ln-09"), Campaign.code == "kl49-2024"))
    assert reason
    place = "Biểu II.1.5 · Năm 2021 · Công chức cấp xã › Số được đào tạo, bồi dưỡng"
    home = text_of(login(app.test_client(), "ln-09").get("/").data)
    assert home.count(reason) == 1
    assert f"{place} : {reason}" in home  # the reason beside the place it points at
    unit = login(app.test_client(), "ln-btg").get(f"{CAMPAIGN}/units/ln-09").data
    banner = text_of(re.search(rb'<div class="banner returned">.*?</div>', unit, re.S).group(0))
    assert banner.count(reason) == 1 and f"{place} : {reason}" in banner  # (the change log below has it too)


def not_started_stat(page: bytes) -> tuple[str, int]:
    m = re.search(r'<div class="(stat[^"]*)"><strong>(\d+)</strong><span>chưa bắt đầu</span>', page.decode())
    return m.group(1), int(m.group(2))


def test_no_unit_not_started_is_not_shown_in_red(app, compiler):
    assert not_started_stat(compiler.get(f"{CAMPAIGN}/dashboard").data) == ("stat late", 1)  # Lộc Khánh
    khanh = login(app.test_client(), "ln-16")
    saved = khanh.post(f"{CAMPAIGN}/tables/II.1.5", data={"cell:2019:xa_tong": "4"})
    assert saved.status_code == 302
    assert not_started_stat(compiler.get(f"{CAMPAIGN}/dashboard").data) == ("stat", 0)


# --- signing in -----------------------------------------------------------------------------------

def test_the_cursor_starts_in_the_username_box_then_in_the_password_box(client):
    page = client.get("/login").data.decode()
    assert re.search(r'<input[^>]*\bautofocus\b[^>]*id="username"|<input[^>]*id="username"[^>]*\bautofocus\b', page)
    assert page.count("autofocus") == 1
    failed = client.post("/login", data={"username": "ln-02", "password": "wrong"}).data.decode()
    assert re.search(r'<input[^>]*id="password"[^>]*\bautofocus\b|<input[^>]*\bautofocus\b[^>]*id="password"', failed)
    assert failed.count("autofocus") == 1


def test_the_change_password_page_starts_in_its_first_box(clerk):
    page = clerk.get("/password").data.decode()
    assert re.search(r'<input[^>]*id="current"[^>]*\bautofocus\b|<input[^>]*\bautofocus\b[^>]*id="current"', page)
    assert page.count("autofocus") == 1


def test_no_please_sign_in_banner_on_the_first_visit_to_the_home_page(client):
    first = client.get("/", follow_redirects=True)
    assert first.status_code == 200 and "Đăng nhập" in text_of(first.data)
    assert "Vui lòng đăng nhập" not in text_of(first.data)
    assert "Vui lòng đăng nhập" not in text_of(client.get("/login").data)  # nor left for the next page


def test_the_banner_says_why_when_a_deeper_page_sent_one_to_sign_in(client):
    deep = client.get(f"{CAMPAIGN}/tables/II.1.5", follow_redirects=True)
    assert "Vui lòng đăng nhập" in text_of(deep.data)
    signed_in = client.post(f"/login?next={CAMPAIGN}/tables/II.1.5", data={"username": "ln-02", "password": "demo123"})
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/tables/II.1.5")


# --- no page wider than a phone ------------------------------------------------------------------

PHONE_PAGES = {  # who: the pages they open
    None: ["/login"],
    "ln-02": ["/", f"{CAMPAIGN}/tables/II.1.3", f"{CAMPAIGN}/tables/I", f"{CAMPAIGN}/submit", "/password"],
    "ln-09": ["/"],
    "ln-btg": ["/", f"{CAMPAIGN}/dashboard", f"{CAMPAIGN}/appendix", f"{CAMPAIGN}/breakdown/II.1.3",
               f"{CAMPAIGN}/units/ln-10", f"{CAMPAIGN}/units/ln-09", f"{CAMPAIGN}/tables/II.1.3?unit=ln-09",
               f"{CAMPAIGN}/changes", "/admin/units"],
    "admin": ["/", "/admin/units"],
}


@pytest.mark.browser
def test_no_page_is_wider_than_a_360_px_phone(browser, live_server):
    too_wide = []
    for username, urls in PHONE_PAGES.items():
        if username:
            page = signed_in(browser, live_server, username, width=360, height=740)
        else:
            page = browser.new_page(viewport={"width": 360, "height": 740})
        for url in urls:
            response = page.goto(live_server + url)
            assert response.status == 200, url
            scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            if scroll_width > inner_width:
                too_wide.append(f"{username or '-'} {url}: {scroll_width} px")
            if username and url == f"{CAMPAIGN}/tables/II.1.3":  # the fields have 16 px text (no iOS zoom)
                assert page.evaluate("getComputedStyle(document.querySelector('input.cell')).fontSize") == "16px"
        page.close()
    assert not too_wide, too_wide
