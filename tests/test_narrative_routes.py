"""The narrative report's pages and saves, by role: a clerk writes only its own unit's answers,
a compiler (or administrator) reads every unit's and writes the draft; campaigns on an outline
without sections show nothing narrative."""

from __future__ import annotations

import re

from sqlalchemy import select

from conftest import in_app, login
from test_routes_roles import add_outsider
from webapp.models import ANSWER, DRAFT, AuditEvent, Campaign, NarrativeAnswer, Unit

BASE = "/campaigns/kl49-2024/narrative"
HX = {"HX-Request": "true"}


def stored(unit_code="ln-02", section="p1_ii_1", kind=ANSWER):
    with in_app() as session:
        row = session.scalar(select(NarrativeAnswer).join(Unit, Unit.id == NarrativeAnswer.unit_id).where(
            Unit.code == unit_code, NarrativeAnswer.section_code == section, NarrativeAnswer.kind == kind))
        return (row.html, row.version) if row else None


def audit_count() -> int:
    with in_app() as session:
        return len(session.scalars(select(AuditEvent.id).where(AuditEvent.action.like("narrative%"))).all())


def test_the_unit_page_shows_every_heading_with_guidance_and_an_editor_per_answered_section(clerk):
    page = clerk.get(BASE).get_data(as_text=True)
    assert "Báo cáo thuyết minh" in page and "Xã Lộc Hòa" in page
    assert page.index("Phần thứ nhất") < page.index("TỔ CHỨC TRIỂN KHAI") < page.index("Phần thứ hai")
    assert "Lưu ý: nhấn mạnh việc đổi mới hình thức tuyên truyền" in page
    forms = re.findall(r'<form method="post" action="(/campaigns/kl49-2024/narrative/[a-z0-9_]+)"', page)
    assert len(forms) == 16 and f"{BASE}/p1_ii_1" in forms and f"{BASE}/p1" not in forms
    assert "pell.min.js" in page and "narrative.js" in page and "cells.js" in page
    assert ' style=' not in page and "<script>" not in page


def test_the_home_page_and_the_compilers_tabs_link_the_report(clerk, compiler):
    assert f'href="{BASE}"' in clerk.get("/").get_data(as_text=True)
    assert f'href="{BASE}/compile"' in compiler.get("/campaigns/kl49-2024").get_data(as_text=True) or \
        f'href="{BASE}/compile"' in compiler.get("/campaigns/kl49-2024/dashboard").get_data(as_text=True)


def test_a_clerk_saves_its_answer_as_the_script_does(clerk):
    before = audit_count()
    response = clerk.post(f"{BASE}/p1_ii_1", data={"value": "<p class='x'>Một <b>hai</b></p>", "v:text": "0"}, headers=HX)
    assert response.status_code == 200
    assert 'data-version="1"' in response.get_data(as_text=True)
    assert stored() == ("<p>Một <b>hai</b></p>", 1) and audit_count() == before + 1
    # an older version: 409 with the text now stored, nothing written
    response = clerk.post(f"{BASE}/p1_ii_1", data={"value": "<p>Khác</p>", "v:text": "0"}, headers=HX)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert 'data-version="1"' in body and "<p>Một <b>hai</b></p>" in body and "vừa được người khác sửa" in body
    assert stored() == ("<p>Một <b>hai</b></p>", 1) and audit_count() == before + 1
    # too long: 422 with the message
    response = clerk.post(f"{BASE}/p1_ii_1", data={"value": "a" * 200_001, "v:text": "1"}, headers=HX)
    assert response.status_code == 422 and "quá giới hạn" in response.get_data(as_text=True)
    # without the text: no request to clear it
    assert clerk.post(f"{BASE}/p1_ii_1", data={"v:text": "1"}, headers=HX).status_code == 400


def test_without_javascript_the_form_saves_and_a_conflict_comes_back_with_both_texts(clerk):
    response = clerk.post(f"{BASE}/p1_ii_2", data={"value": "<p>Lần đầu</p>", "v:text": "0"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#s-p1_ii_2")
    response = clerk.post(f"{BASE}/p1_ii_2", data={"value": "<p>Của tôi</p>", "v:text": "0"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "Nội dung đang lưu:" in page and "&lt;p&gt;Của tôi&lt;/p&gt;" in page
    assert stored(section="p1_ii_2") == ("<p>Lần đầu</p>", 1)


def test_another_units_answer_a_heading_or_the_draft_is_refused_to_a_clerk(clerk):
    assert clerk.post(f"{BASE}/p1_i_1?unit=ln-03", data={"value": "x", "v:text": "1"}, headers=HX).status_code == 403
    assert clerk.post(f"{BASE}/draft/p1_i_1", data={"value": "x", "v:text": "1"}, headers=HX).status_code == 403
    assert clerk.get(f"{BASE}/compile").status_code == 403
    assert clerk.post(f"{BASE}/p1", data={"value": "x", "v:text": "0"}, headers=HX).status_code == 404
    assert stored("ln-03", "p1_i_1")[1] == 1 and stored("ln-btg", "p1_i_1", DRAFT)[1] == 1


def test_a_closed_part_shows_the_text_read_only_and_refuses_saves(app):
    submitted = login(app.test_client(), "ln-01")
    page = submitted.get(BASE).get_data(as_text=True)
    assert "Kế hoạch số 12-KH/ĐU" in page and "<form method=\"post\" action=\"/campaigns" not in page
    assert "narrative.js" not in page and "đã nộp báo cáo" in page
    response = submitted.post(f"{BASE}/p1_i_1", data={"value": "<p>x</p>", "v:text": "1"}, headers=HX)
    assert response.status_code == 423 and "đã nộp báo cáo" in response.get_data(as_text=True)


def test_the_compiler_reads_every_answer_and_who_has_not_answered(compiler):
    page = compiler.get(f"{BASE}/compile?section=p1_i_1").get_data(as_text=True)
    assert page.count('class="answer-card"') == 3
    for name in ("Thị trấn Lộc Ninh", "Xã Lộc An", "Xã Lộc Tấn"):
        assert f"<h3>{name}</h3>" in page
    assert "Chưa viết (17):" in page and "Xã Lộc Khánh" in page
    assert page.count("data-quote") == 3 and 'id="draft"' in page and "Các cấp ủy, chính quyền" in page
    assert ">3/20</span>" in page and ">0/20</span>" in page
    assert compiler.get(BASE).status_code == 302  # staff go to their desk
    assert compiler.get(f"{BASE}/compile?section=p1").status_code == 404
    assert compiler.post(f"{BASE}/p1_i_1", data={"value": "x", "v:text": "1"}, headers=HX).status_code == 403


def test_the_compiler_and_the_administrator_write_the_draft(compiler, admin):
    response = compiler.post(f"{BASE}/draft/p1_iii_1", data={"value": "<p>Ưu điểm</p>", "v:text": "0"}, headers=HX)
    assert response.status_code == 200 and stored("ln-btg", "p1_iii_1", DRAFT) == ("<p>Ưu điểm</p>", 1)
    response = admin.post(f"{BASE}/draft/p1_iii_1", data={"value": "<p>Khác</p>", "v:text": "0"}, headers=HX)
    assert response.status_code == 409
    assert admin.post(f"{BASE}/draft/p1_iii_1", data={"value": "<p>Khác</p>", "v:text": "1"}, headers=HX).status_code == 200
    page = admin.get(f"{BASE}/compile?section=p1_iii_1").get_data(as_text=True)
    assert "&lt;p&gt;Khác&lt;/p&gt;" in page  # the draft's text in the editor's text box


def test_a_compiler_of_another_district_is_refused(app):
    add_outsider()
    other = login(app.test_client(), "btg-khac")
    assert other.get(f"{BASE}/compile").status_code == 403
    assert other.post(f"{BASE}/draft/p1_i_1", data={"value": "x", "v:text": "1"}, headers=HX).status_code == 403


def test_a_campaign_on_an_outline_without_sections_shows_nothing_narrative(app, compiler):
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        campaign.outline_version = 1
        session.commit()
    clerk = login(app.test_client(), "ln-02")
    assert clerk.get(BASE).status_code == 404
    assert "/narrative" not in clerk.get("/").get_data(as_text=True)
    assert "/narrative" not in compiler.get("/campaigns/kl49-2024/dashboard").get_data(as_text=True)
    assert clerk.post(f"{BASE}/p1_i_1", data={"value": "x", "v:text": "0"}, headers=HX).status_code == 404


def test_the_vendored_editor_is_the_recorded_file():
    """pell 1.0.6 from `npm pack pell@1.0.6` (package/dist/pell.min.js), as recorded beside it."""
    import hashlib
    from pathlib import Path

    static = Path(__file__).resolve().parent.parent / "webapp" / "static"
    recorded = (static / "pell.min.js.sha256").read_text().split()[0]
    assert hashlib.sha256((static / "pell.min.js").read_bytes()).hexdigest() == recorded
