"""A unit's report written in Word, uploaded: its text taken section by section by the headings and
stored as the unit's answers, all or nothing, under the locks and audit of typed answers."""

from __future__ import annotations

import io

import docx
from sqlalchemy import select

from conftest import in_app, login
from webapp.models import ANSWER, AuditEvent, Campaign, CampaignUnit, NarrativeAnswer, Unit

BASE = "/campaigns/kl49-2024/narrative"


def word_report(*parts: tuple[str, str]) -> io.BytesIO:
    """A .docx with a heading then a paragraph per (heading, text)."""
    document = docx.Document()
    document.add_paragraph("BÁO CÁO SƠ KẾT 5 NĂM")  # text before the first heading: a warning
    for heading, text in parts:
        document.add_heading(heading, level=2)
        paragraph = document.add_paragraph(text)
        paragraph.add_run(" (đậm)").bold = True
    out = io.BytesIO()
    document.save(out)
    out.seek(0)
    return out


def answers_of(unit_code: str) -> dict[str, str]:
    with in_app() as session:
        rows = session.execute(select(NarrativeAnswer.section_code, NarrativeAnswer.html)
                               .join(Unit, Unit.id == NarrativeAnswer.unit_id)
                               .where(Unit.code == unit_code, NarrativeAnswer.kind == ANSWER))
        return {code: html for code, html in rows}


def uploads() -> list[tuple[str, str | None]]:
    with in_app() as session:
        return session.execute(select(AuditEvent.row_key, AuditEvent.via)
                               .where(AuditEvent.action == "narrative", AuditEvent.via == "upload")).all()


def post(client, data: io.BytesIO, name: str = "bao-cao.docx"):
    page = client.get(f"{BASE}/upload")
    assert page.status_code == 200 and "Nộp báo cáo bằng tệp Word" in page.get_data(as_text=True)
    return client.post(f"{BASE}/upload", data={"document": (data, name)}, content_type="multipart/form-data")


def test_a_clerk_uploads_its_report_and_each_section_takes_its_text(app):
    clerk = login(app.test_client(), "ln-02")
    assert f'href="{BASE}/upload"' in clerk.get(BASE).get_data(as_text=True)
    before = answers_of("ln-02")
    response = post(clerk, word_report(
        ("1. Công tác nghiên cứu, phổ biến, quán triệt, tổ chức triển khai Kết luận số 49-KL/TW ở cơ quan, đơn vị.",
         "Đã tổ chức 12 hội nghị quán triệt."),
        ("2. Công tác kiểm tra, giám sát, khảo sát Kết luận số 49-KL/TW ở cơ quan, đơn vị.", "Kiểm tra 5 chi bộ.")))
    assert response.status_code == 302 and response.headers["Location"].endswith(BASE)
    page = clerk.get(BASE).get_data(as_text=True)
    assert "Đã nhận báo cáo của Xã Lộc Hòa: 2 mục có nội dung, 2 mục thay đổi." in page
    assert "flash warning" in page  # the title before the first heading is reported, not lost silently
    after = answers_of("ln-02")
    assert after["p1_i_1"] == "<p>Đã tổ chức 12 hội nghị quán triệt.<strong> (đậm)</strong></p>"
    assert after["p1_i_2"] == "<p>Kiểm tra 5 chi bộ.<strong> (đậm)</strong></p>"
    assert {k: v for k, v in after.items() if k not in ("p1_i_1", "p1_i_2")} == \
        {k: v for k, v in before.items() if k not in ("p1_i_1", "p1_i_2")}  # the other sections stay
    assert sorted(key for key, _ in uploads()) == ["p1_i_1", "p1_i_2"]  # one audit event per section


def test_a_file_that_is_no_report_stores_nothing_and_says_why(app):
    clerk = login(app.test_client(), "ln-02")
    before = answers_of("ln-02")
    refused = post(clerk, io.BytesIO(b"PK\x03\x04 not really a zip"))
    assert refused.status_code == 422 and "Chưa nhận tệp" in refused.get_data(as_text=True)
    no_heading = post(clerk, word_report(("Một đề mục không có trong đề cương", "Nội dung")))
    assert no_heading.status_code == 422 and "không có đề mục nào của đề cương" in no_heading.get_data(as_text=True)
    wrong_kind = post(clerk, io.BytesIO(b"abc"), "bao-cao.doc")
    assert wrong_kind.status_code == 400 and "Chỉ nhận tệp Word .docx" in wrong_kind.get_data(as_text=True)
    assert answers_of("ln-02") == before and uploads() == []


def test_a_submitted_part_takes_no_upload(app):
    with in_app() as session:
        unit = session.scalar(select(Unit).where(Unit.code == "ln-02"))
        campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        part = session.get(CampaignUnit, (campaign.id, unit.id))
        part.status = "submitted"
        session.commit()
    clerk = login(app.test_client(), "ln-02")
    before = answers_of("ln-02")
    response = post(clerk, word_report(("2. Công tác kiểm tra, giám sát, khảo sát Kết luận số 49-KL/TW ở cơ quan, "
                                        "đơn vị.", "Muộn.")))
    assert response.status_code == 422 and answers_of("ln-02") == before and uploads() == []


def test_only_a_units_clerk_uploads(app):
    compiler = login(app.test_client(), "ln-btg")
    assert compiler.get(f"{BASE}/upload").status_code == 403
    assert compiler.post(f"{BASE}/upload", data={}, content_type="multipart/form-data").status_code == 403
