"""The narrative report in the browser: typing into the editor on a slow link, leaving the page,
pasting from Word, quoting an answer into the draft; screenshots at 1366 and 360 px."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from conftest import in_app, signed_in
from test_browser_typing import all_saved, network
from webapp.domain.richtext import text_of
from webapp.models import ANSWER, DRAFT, NarrativeAnswer, Unit

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("NARRATIVE_SHOTS")  # a folder to keep the screenshots in (looked at by hand)


def stored(unit_code: str, section: str, kind: str = ANSWER) -> str | None:
    with in_app() as session:
        return session.scalar(select(NarrativeAnswer.html).join(Unit, Unit.id == NarrativeAnswer.unit_id).where(
            Unit.code == unit_code, NarrativeAnswer.section_code == section, NarrativeAnswer.kind == kind))


def open_report(browser, live_server, username: str, path: str = "/campaigns/kl49-2024/narrative", width: int = 1366):
    page = signed_in(browser, live_server, username, width=width)
    page.errors = []
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
            and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(live_server + path)
    page.wait_for_function("() => document.querySelector('.rich') !== null")
    return page


def shot(page, name: str):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_typing_on_a_slow_link_then_leaving_loses_nothing(browser, live_server):
    page = open_report(browser, live_server, "ln-02")
    network(page, latency_ms=400)
    editor = "#text-n-p1_ii_1"
    page.click(editor)
    page.keyboard.type("Huyện ủy đã ban hành kế hoạch thực hiện.", delay=35)
    page.keyboard.press("Enter")
    page.keyboard.press("Control+B")
    page.keyboard.type("Kết quả:", delay=35)
    page.keyboard.press("Control+B")
    page.keyboard.type(" 16/16 xã có mô hình “Gia đình học tập”.", delay=35)
    page.keyboard.press("Enter")
    page.keyboard.type("Dòng cuối, gõ ngay trước khi rời trang", delay=20)
    asked = []
    page.on("dialog", lambda d: (asked.append(d.type), d.dismiss()))
    page.click("a.brand")  # leaving at once: the page asks first, the clerk stays
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"] and "/narrative" in page.url
    all_saved(page)
    page.click("a.brand")  # everything stored: leaves without a question
    page.wait_for_url(live_server + "/")
    assert asked == ["beforeunload"]
    html = stored("ln-02", "p1_ii_1")
    # the browser writes the space typed after the bold words as &nbsp;: the same text
    assert html.replace("&nbsp;", " ") == (
        "<p>Huyện ủy đã ban hành kế hoạch thực hiện.</p>"
        "<p><b>Kết quả:</b> 16/16 xã có mô hình “Gia đình học tập”.</p>"
        "<p>Dòng cuối, gõ ngay trước khi rời trang</p>")
    assert text_of(html).replace("\xa0", " ") == (
        "Huyện ủy đã ban hành kế hoạch thực hiện.\nKết quả: 16/16 xã có mô hình “Gia đình học tập”.\n"
        "Dòng cuối, gõ ngay trước khi rời trang")
    assert page.errors == []


WORD = ('<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><style>p.MsoNormal{margin:0}</style>'
        '<!--[if gte mso 9]><xml><w:WordDocument><w:View>Normal</w:View></w:WordDocument></xml><![endif]--></head>'
        '<body><p class="MsoNormal" style="margin-bottom:0cm;line-height:normal"><span lang="VI" '
        'style="font-size:13.0pt;font-family:&quot;Times New Roman&quot;">Tuyên truyền <b>48 tin, bài</b>'
        '<o:p></o:p></span></p><ul style="margin-top:0cm"><li class="MsoListParagraph" style="mso-list:l0 level1 lfo1">'
        '<span style="color:red" onclick="alert(1)">12 buổi nói chuyện</span></li></ul>'
        '<script>alert(2)</script></body></html>')


def test_pasted_word_html_is_stored_clean(browser, live_server):
    page = open_report(browser, live_server, "ln-02")
    page.click("#text-n-p1_ii_2")
    page.evaluate("""html => {
        const dt = new DataTransfer();
        dt.setData('text/html', html);
        dt.setData('text/plain', 'Tuyên truyền 48 tin, bài');
        const target = document.querySelector('#text-n-p1_ii_2');
        target.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
    }""", WORD)
    page.keyboard.press("Tab")  # leaving the editor saves it
    all_saved(page)
    html = stored("ln-02", "p1_ii_2")
    assert "Tuyên truyền <b>48 tin, bài</b>" in html and "<li>12 buổi nói chuyện</li>" in html
    for junk in ("style", "class", "o:p", "span", "Mso", "script", "alert", "onclick", "xml", "lang="):
        assert junk not in html, (junk, html)
    assert page.errors == []


def test_the_compiler_quotes_an_answer_into_the_draft_and_the_pages_fit_a_phone(browser, live_server):
    page = open_report(browser, live_server, "ln-btg", "/campaigns/kl49-2024/narrative/compile?section=p1_ii_2")
    shot(page, "compile-1366.png")
    page.click("#draft .rich")
    page.keyboard.press("Control+End")
    page.locator("#answer-ln-03 button[data-quote]").click()
    all_saved(page)
    draft = stored("ln-btg", "p1_ii_2", DRAFT)
    assert draft.endswith("<p><strong>Xã Lộc An:</strong></p><p>Phát 1.200 tờ rơi về mô hình “Gia đình học tập”, "
                          "“Dòng họ học tập”.</p>"), draft
    assert draft.startswith("<p>Công tác tuyên truyền được đổi mới")
    assert page.errors == []
    phone = open_report(browser, live_server, "ln-btg", "/campaigns/kl49-2024/narrative/compile?section=p1_i_1",
                        width=360)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
    cards = phone.eval_on_selector_all(".answer-card", "els => els.map(e => e.getBoundingClientRect().left)")
    assert len(cards) == 3 and len(set(round(x) for x in cards)) == 1  # stacked
    shot(phone, "compile-360.png")
    unit = open_report(browser, live_server, "ln-02", width=360)
    assert unit.evaluate("() => document.documentElement.scrollWidth") <= 360
    shot(unit, "unit-360.png")
    wide = open_report(browser, live_server, "ln-02")
    shot(wide, "unit-1366.png")


def test_a_text_changed_meanwhile_shows_what_is_stored_and_keeps_what_was_typed(browser, live_server):
    """Someone else (another tab) saved the section since the page was drawn: the save is refused,
    the editor shows the stored text, what was typed stays below with a button to use it again."""
    page = open_report(browser, live_server, "ln-02")
    from webapp import narrative
    from webapp.models import Campaign, User

    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        unit = session.scalar(select(Unit).where(Unit.code == "ln-02"))
        clerk = session.scalar(select(User).where(User.username == "ln-02"))
        narrative.save_answer(session, campaign, unit, clerk, "p1_i_2", "<p>Từ thẻ khác</p>", 0)
    page.click("#text-n-p1_i_2")
    page.keyboard.type("Của tôi", delay=20)
    page.keyboard.press("Tab")
    page.wait_for_selector("#n-p1_i_2 .stored-text")
    assert page.inner_html("#text-n-p1_i_2") == "<p>Từ thẻ khác</p>"
    assert "vừa được người khác sửa" in page.inner_text("#n-p1_i_2")
    assert page.inner_text("#n-p1_i_2 .stored-text .answer-text") == "Của tôi"
    assert stored("ln-02", "p1_i_2") == "<p>Từ thẻ khác</p>"
    page.click("#n-p1_i_2 .stored-text button")  # deliberately: mine over theirs
    all_saved(page)
    assert stored("ln-02", "p1_i_2") == "<p>Của tôi</p>"
    assert page.errors == []
