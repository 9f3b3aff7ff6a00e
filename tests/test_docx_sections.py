"""A unit's report uploaded as .docx, read section by section by its headings (issue 15, point 4),
and hostile or wrong files refused with one Vietnamese message before python-docx parses anything."""

from __future__ import annotations

import io
import zipfile

import docx

from webapp.domain import archive
from webapp.domain.docx_sections import read_sections
from webapp.domain.outline import Section

SECTIONS = (
    Section("p1", "Phần thứ nhất", "TÌNH HÌNH, KẾT QUẢ TRIỂN KHAI THỰC HIỆN KẾT LUẬN SỐ 49-KL/TW", answered=False,
            children=(
                Section("p1.I", "I-", "TỔ CHỨC TRIỂN KHAI KẾT LUẬN SỐ 49-KL/TW", answered=False, children=(
                    Section("p1.I.1", "1.", "Công tác nghiên cứu, phổ biến, quán triệt"),
                    Section("p1.I.2", "2.", "Công tác kiểm tra, giám sát"),
                )),
                Section("p1.III", "III-", "ĐÁNH GIÁ CHUNG", answered=False, children=(
                    Section("p1.III.1", "1.", "Ưu điểm."),
                    Section("p1.III.2", "2.", "Tồn tại, hạn chế."),
                )),
            )),
    Section("p2", "Phần thứ hai", "NHIỆM VỤ VÀ GIẢI PHÁP", answered=False, children=(
        Section("p2.1", "1.", "Bối cảnh", children=(
            Section("p2.1.1", "1.1.", "Bối cảnh."),
        )),
        Section("p2.3", "3.", "Kiến nghị, đề xuất"),
    )),
)


def saved(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def a_report() -> bytes:
    d = docx.Document()
    d.add_paragraph("BÁO CÁO của Đảng ủy xã Lộc Hòa")  # before the first heading: a warning
    d.add_paragraph("Phần thứ nhất")
    d.add_paragraph("Tình hình, kết quả triển khai thực hiện Kết luận số 49-KL/TW")
    d.add_heading("I.  Tổ chức triển khai Kết luận số 49-KL/TW", level=1)
    d.add_paragraph("1 - công tác nghiên cứu,  phổ biến, quán triệt:")
    p = d.add_paragraph("Đảng ủy đã ")
    p.add_run("quán triệt").bold = True
    p.add_run(" tới ")
    p.add_run("mọi chi bộ").italic = True
    p.add_run(".")
    d.add_paragraph("Hội nghị toàn xã", style="List Bullet")
    d.add_paragraph("Hội nghị chi bộ", style="List Bullet")
    d.add_paragraph("2) CÔNG TÁC KIỂM TRA, GIÁM SÁT")
    d.add_paragraph("Đã kiểm tra 5 chi bộ.")
    d.add_paragraph("Bước một", style="List Number")
    d.add_heading("3. Một mục tự thêm", level=2)  # not in the outline: a warning, its text kept above
    d.add_paragraph("Nội dung tự thêm.")
    d.add_paragraph("III- ĐÁNH GIÁ CHUNG")
    d.add_paragraph("Đánh giá khái quát.")  # under a heading that only groups others: a warning
    d.add_heading("Ưu điểm", level=2)  # Word auto-numbering: the number is not in the text
    d.add_paragraph("Nhiều mặt tiến bộ.")
    d.add_paragraph("Tồn tại, hạn chế", style="List Number")  # numbered by Word as a list item
    d.add_paragraph("Còn chậm.")
    d.add_paragraph("Phần thứ hai")
    d.add_paragraph("1.1. Bối cảnh")
    d.add_paragraph("Tình hình mới.")
    d.add_paragraph("3. Kiến nghị, đề xuất")
    return saved(d)


def test_headings_in_varied_forms_give_each_answered_section_its_text():
    read = read_sections(io.BytesIO(a_report()), SECTIONS)
    assert read.refusal is None
    answers = read.answers
    assert set(answers) == {"p1.I.1", "p1.I.2", "p1.III.1", "p1.III.2", "p2.1.1"}
    assert answers["p1.I.1"] == ("<p>Đảng ủy đã <strong>quán triệt</strong> tới <em>mọi chi bộ</em>.</p>"
                                 "<ul><li>Hội nghị toàn xã</li><li>Hội nghị chi bộ</li></ul>")
    assert answers["p1.I.2"].startswith("<p>Đã kiểm tra 5 chi bộ.</p><ol><li>Bước một</li></ol>")
    assert "Nội dung tự thêm." in answers["p1.I.2"] and "<strong>3. Một mục tự thêm</strong>" in answers["p1.I.2"]
    assert answers["p1.III.1"] == "<p>Nhiều mặt tiến bộ.</p>"
    assert answers["p1.III.2"] == "<p>Còn chậm.</p>"
    assert answers["p2.1.1"] == "<p>Tình hình mới.</p>"
    warnings = "\n".join(read.warnings)
    assert "BÁO CÁO của Đảng ủy xã Lộc Hòa" in warnings
    assert "3. Một mục tự thêm" in warnings
    assert "Đánh giá khái quát." in warnings or "ĐÁNH GIÁ CHUNG" in warnings
    assert len(read.warnings) == 3, read.warnings


def test_a_file_that_is_not_a_docx_is_refused_in_vietnamese():
    for data, words in ((b"plain text, not a document", "Word"), (b"%PDF-1.4 ...", "PDF"),
                        (archive.OLE2_MAGIC + b"\0" * 600, ".doc"), (b"", "rỗng")):
        read = read_sections(io.BytesIO(data), SECTIONS)
        assert read.refusal and words in read.refusal and read.answers == {}, (data[:10], read.refusal)
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    assert "Excel" in read_sections(io.BytesIO(workbook.getvalue()), SECTIONS).refusal


def rebuilt(replace: dict[str, bytes] = {}, add: dict[str, bytes] = {}) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(a_report())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, replace.get(info.filename, src.read(info)))
        for name, data in add.items():
            dst.writestr(name, data)
    return out.getvalue()


def test_a_zip_bomb_is_refused_from_the_sizes_it_declares():
    bomb = rebuilt(add={"word/media/filler.xml": b" " * (archive.MAX_PART_BYTES + 1024 * 1024)})
    read = read_sections(io.BytesIO(bomb), SECTIONS)
    assert read.refusal and "bất thường" in read.refusal


def test_xml_entity_expansion_is_refused():
    lol = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
           b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
           b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           b'<w:body><w:p><w:r><w:t>&c;</w:t></w:r></w:p></w:body></w:document>')
    read = read_sections(io.BytesIO(rebuilt(replace={"word/document.xml": lol})), SECTIONS)
    assert read.refusal and "DTD" in read.refusal and read.answers == {}


def test_a_file_too_large_is_refused():
    big = io.BytesIO(b"PK" + b"\0" * (archive.MAX_FILE_BYTES + 1))
    read = read_sections(big, SECTIONS)
    assert read.refusal and "quá lớn" in read.refusal


def test_a_damaged_document_is_refused_not_a_crash():
    read = read_sections(io.BytesIO(rebuilt(replace={"word/document.xml": b"<not xml"})), SECTIONS)
    assert read.refusal and "Word" in read.refusal


def test_the_xlsx_limits_are_unchanged_for_workbooks():
    assert "Excel" in archive.archive_problem(io.BytesIO(b"not a zip"))
