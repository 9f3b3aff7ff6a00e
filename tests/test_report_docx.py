"""The district's report as a Word document (issue 15, point 5): the heading block of a party or a
state body, the numbered sections with the draft's text, "Nơi nhận", the signature, the page set-up
of Vietnamese official documents, and every appendix table with the assembled values of the demo."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import shutil
import subprocess

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.shared import Pt
from sqlalchemy import select

from conftest import in_app, login
from test_docx_sections import SECTIONS  # the ĐỀ CƯƠNG's shape: parts, roman numerals, numbers
from webapp.domain.layout import build_layout
from webapp.domain.parts import Counted
from webapp.domain.report_docx import EMPTY_SECTION, INFERRED_NOTE, Issuer, write_report
from webapp.domain.values import assembled_text, show
from webapp.models import Campaign
from webapp.report import build_report

CAMPAIGN = "kl49-2024"

DRAFTS = {
    "p1.I.1": "<p>Ban Thường vụ đã <strong>quán triệt</strong> Kết luận tới <em>100%</em> chi bộ.</p>"
              "<ul><li>Hội nghị cấp huyện</li><li>Hội nghị <u>cấp xã</u></li></ul>"
              "<ol><li>Thứ nhất</li><li>Thứ hai</li></ol><blockquote><p>Trích dẫn ý kiến</p></blockquote>",
    "p2.3": "<p>Đề nghị Tỉnh ủy quan tâm.</p>",
}


def demo_report(counted: Counted = Counted.ALL):
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
        campaign.report_number = "125-BC/HU"
        campaign.report_date = dt.date(2024, 5, 3)
        campaign.signer_name = "Nguyễn Văn An"
        return build_report(session, campaign, counted), campaign.frame, campaign.compiler_kind


def written(report) -> docx.document.Document:
    out = io.BytesIO()
    write_report(out, report)
    out.seek(0)
    return docx.Document(out)


def mm(*lengths) -> list[int]:
    """Lengths in whole millimetres (Word stores twentieths of a point)."""
    return [round(length.mm) for length in lengths]


def texts(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def all_text(document) -> str:
    """Every paragraph's text, and every table cell's, in the document."""
    parts = texts(document)
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def with_sections(report):
    return dataclasses.replace(report, sections=SECTIONS, drafts=DRAFTS)


def test_every_section_heading_is_written_with_the_drafts_text_bold_and_italic(app):
    report, *_ = demo_report()
    document = written(with_sections(report))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    for section in (s for top in SECTIONS for s in top.walk()):
        assert any(section.number in h and section.title in h for h in headings), section
    body = texts(document)
    assert "Ban Thường vụ đã quán triệt Kết luận tới 100% chi bộ." in body
    runs = {r.text: r for p in document.paragraphs for r in p.runs}
    assert runs["quán triệt"].bold and runs["100%"].italic and runs["cấp xã"].underline
    bullets = [p for p in document.paragraphs if p.text in ("Hội nghị cấp huyện", "Hội nghị cấp xã")]
    assert [p.style.name for p in bullets] == ["List Bullet", "List Bullet"]
    assert "1. Thứ nhất" in body and "2. Thứ hai" in body
    quote = next(p for p in document.paragraphs if p.text == "Trích dẫn ý kiến")
    assert quote.paragraph_format.left_indent and quote.paragraph_format.left_indent > 0
    # an answered section with no draft says so; a heading that only groups others does not
    after = body[body.index(next(h for h in body if "Công tác kiểm tra, giám sát" in h)) + 1]
    assert after == EMPTY_SECTION
    undrafted = [s for top in SECTIONS for s in top.walk() if s.answered and s.code not in DRAFTS]
    assert body.count(EMPTY_SECTION) == len(undrafted) == 5


def test_the_party_heading_block_number_place_date_recipients_and_signature(app):
    report, *_ = demo_report()
    document = written(report)
    head = document.tables[0]
    left, right = head.rows[0].cells[0].text, head.rows[0].cells[1].text
    assert left.splitlines() == ["ĐẢNG BỘ TỈNH BÌNH PHƯỚC", "HUYỆN ỦY LỘC NINH", "*", "Số 125-BC/HU"]
    title_run = next(r for p in head.rows[0].cells[1].paragraphs for r in p.runs if r.text == "ĐẢNG CỘNG SẢN VIỆT NAM")
    assert title_run.bold and title_run.underline
    assert "Lộc Ninh, ngày 03 tháng 5 năm 2024" in right
    date_run = next(r for p in head.rows[0].cells[1].paragraphs for r in p.runs if "ngày 03" in r.text)
    assert date_run.italic
    body = texts(document)
    assert "BÁO CÁO" in body and report.title in body
    name_run = next(r for p in head.rows[0].cells[0].paragraphs for r in p.runs if r.text == "HUYỆN ỦY LỘC NINH")
    assert name_run.bold
    closing = document.tables[1]  # the borderless table of "Nơi nhận" and the signature
    recipients, signature = closing.rows[0].cells[0].text, closing.rows[0].cells[1].text
    assert recipients.startswith("Nơi nhận:") and "- Lưu" in recipients
    assert signature.splitlines()[:2] == ["T/M BAN THƯỜNG VỤ", "PHÓ BÍ THƯ"]
    assert signature.splitlines()[-1] == "Nguyễn Văn An"
    assert closing._tbl.tblPr.find(docx.oxml.ns.qn("w:tblBorders")) is None and closing.style.name != "Table Grid"
    # the block is never split across pages (the room to sign alone on a page) and the text before it
    # goes with it
    assert closing.rows[0]._tr.trPr.find(docx.oxml.ns.qn("w:cantSplit")) is not None
    before_closing = closing._tbl.getprevious()
    assert docx.text.paragraph.Paragraph(before_closing, document).paragraph_format.keep_with_next
    # party margins (Hướng dẫn 36-HD/VPTW), A4, Times New Roman 14 pt
    section = document.sections[0]
    assert mm(section.page_width, section.page_height) == [210, 297]
    assert mm(section.top_margin, section.bottom_margin, section.left_margin, section.right_margin) == [25, 25, 35, 15]
    normal = document.styles["Normal"].font
    assert normal.name == "Times New Roman" and normal.size == Pt(14)
    assert document.styles["Heading 1"].font.name == "Times New Roman"


def test_a_state_body_has_the_national_motto_and_the_decree_margins(app):
    report, *_ = demo_report()
    state = dataclasses.replace(report, issuer=Issuer(name="ỦY BAN NHÂN DÂN HUYỆN LỘC NINH", is_party=False),
                                number="", date=None)
    document = written(state)
    right = document.tables[0].rows[0].cells[1].text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in right and "Độc lập - Tự do - Hạnh phúc" in right
    assert "ĐẢNG CỘNG SẢN" not in right
    assert "ngày … tháng … năm …" in right  # no date yet: written by hand when signed
    assert document.tables[0].rows[0].cells[0].text.splitlines()[0] == "ỦY BAN NHÂN DÂN HUYỆN LỘC NINH"
    section = document.sections[0]
    assert mm(section.top_margin, section.bottom_margin, section.left_margin, section.right_margin) == [20, 20, 30, 15]


def cell_texts(table) -> list[str]:
    return [cell.text for row in table.rows for cell in row.cells]


def test_every_appendix_table_holds_the_assembled_values_of_the_demo(app):
    report, frame, unit_kind = demo_report()
    document = written(report)
    body = all_text(document)
    assert "PHỤ LỤC" in body and "Kèm theo Báo cáo số 125-BC/HU" in body
    assert report.basis in body and Counted.ALL.label in report.basis
    appendix = report.appendix
    tables = document.tables[2:]  # after the heading block and the signature
    found = 0
    assert any(t.inferred or any(c.inferred for c in t.columns) for t in appendix.tables)
    for table in appendix.tables:
        assert table.title in body
        rows = appendix.part.lists.get(table.code, []) if table.is_list else None
        layout = build_layout(table, frame, list_rows=len(rows) if rows is not None else 0)
        for block in layout.blocks:
            written_table = tables[found]
            found += 1
            cells = cell_texts(written_table)
            for h in block.header:
                assert any(text.startswith(h.text) for text in cells), (table.code, h.text)
            for lrow in block.rows:
                for cell in lrow.cells:
                    if table.is_list:
                        value = rows[int(lrow.key) - 1].get(cell.column.key) if cell.column.is_input else lrow.key
                        expected = show(cell.column, None, value) if cell.column.is_input else value
                    else:
                        expected = assembled_text(table, cell.column, appendix.part, lrow.key, unit_kind)
                    if expected:
                        assert expected in cells, (table.code, lrow.key, cell.column.key, expected)
                assert lrow.label in cells
    assert found == len(tables)
    assert INFERRED_NOTE in body
    # wide tables are printed in landscape sections
    assert any(s.orientation == WD_ORIENT.LANDSCAPE for s in document.sections)
    assert document.sections[0].orientation == WD_ORIENT.PORTRAIT


def test_the_command_writes_the_report_and_a_wrong_campaign_exits_1(app, tmp_path):
    runner = app.test_cli_runner()  # Click 8.2+: stdout and stderr apart
    out = tmp_path / "bao-cao.docx"
    result = runner.invoke(args=["report", CAMPAIGN, "-o", str(out), "--parts", "accepted"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    document = docx.Document(str(out))
    assert Counted.ACCEPTED.label in all_text(document)
    wrong = runner.invoke(args=["report", "khong-co", "-o", str(tmp_path / "x.docx")])
    assert wrong.exit_code == 1 and not (tmp_path / "x.docx").exists()
    assert wrong.stdout == "" and len(wrong.stderr.strip().splitlines()) == 1 and "khong-co" in wrong.stderr
    bad = runner.invoke(args=["report", CAMPAIGN, "-o", str(out), "--parts", "some"])
    assert bad.exit_code == 2


@pytest.mark.parametrize("user,status", [("ln-02", 403), ("ln-btg", 200), ("admin", 200)])
def test_the_report_is_for_the_compiler_and_the_administrator(app, user, status):
    client = login(app.test_client(), user)
    response = client.get(f"/campaigns/{CAMPAIGN}/report.docx?parts=submitted")
    assert response.status_code == status
    if status == 200:
        assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        assert "attachment" in response.headers["Content-Disposition"]
        document = docx.Document(io.BytesIO(response.data))
        assert Counted.SUBMITTED.label in all_text(document)
    assert client.get(f"/campaigns/{CAMPAIGN}/report.docx?parts=bogus").status_code in (400, 403)


def test_the_appendix_page_links_to_the_report(app):
    page = login(app.test_client(), "ln-btg").get(f"/campaigns/{CAMPAIGN}/appendix").get_data(as_text=True)
    assert f"/campaigns/{CAMPAIGN}/report.docx" in page


SOFFICE = "/usr/bin/soffice"


@pytest.mark.skipif(not (os.path.exists(SOFFICE) and shutil.which("pdftotext")), reason="needs LibreOffice and poppler")
def test_libreoffice_prints_the_demo_report_with_every_table_on_few_pages(app, tmp_path):
    """As an office prints it: the heading block, the sections, the signature and every table's
    title in the PDF, the whole in a few pages (7 for the demo with two parts of sections)."""
    report, *_ = demo_report()
    source = tmp_path / "bao-cao.docx"
    write_report(str(source), with_sections(report))
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "bao-cao.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    pages = text.split("\f")
    flat = " ".join(text.split())
    for words in ("ĐẢNG CỘNG SẢN VIỆT NAM", "HUYỆN ỦY LỘC NINH", "BÁO CÁO", "Nơi nhận:", "T/M BAN THƯỜNG VỤ",
                  "PHỤ LỤC", "Kiến nghị, đề xuất", *(t.title for t in report.appendix.tables)):
        assert " ".join(words.split()) in flat, words
    assert len([p for p in pages if p.strip()]) <= 8


def test_the_figures_count_the_parts_chosen(app):
    every, *_ = demo_report(Counted.ALL)
    accepted, *_ = demo_report(Counted.ACCEPTED)
    assert accepted.appendix.part.numbers != every.appendix.part.numbers
    assert Counted.ACCEPTED.label in accepted.basis and Counted.ALL.label in every.basis
