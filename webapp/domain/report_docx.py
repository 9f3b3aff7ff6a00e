"""The district's report as a Word document (.docx): what the committee signs and files.

Laid out as a Vietnamese official document: the heading block (the issuing body and the report's
number on the left; "ĐẢNG CỘNG SẢN VIỆT NAM", or the national motto for a state body, then place
and date on the right), "BÁO CÁO" and its subject, the numbered sections of the outline's narrative
with the compiler's draft, "Nơi nhận" and the signature, then "PHỤ LỤC" with every appendix table
and its assembled values, drawn from the one layout the pages and the workbook use
(``layout.build_layout``) and shown as the appendix page shows them (``values.assembled_text``).

Written with python-docx's public API. Three things it has no API for are small oxml touches, each
explained where it is made: the theme fonts of the built-in heading styles, the page number field,
and the header rows repeated on every printed page of a table.

No Flask here: ``write_report`` takes a ``Report`` of plain data (webapp/report.py builds it).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import IO

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT, WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from .layout import BlockLayout, HeaderCell, build_layout
from .outline import Frame, Section, Table
from .parts import Part
from .values import assembled_text, row_noun, show

FONT = "Times New Roman"
BODY_PT = 14  # the body of the text: 13–14 pt in both rules
SMALL_PT = 12  # "Nơi nhận", the recipients, the motto's first line of a state body
TABLE_PT = 11  # appendix tables; 10 pt, 9 pt when wide
EMPTY_SECTION = "(Chưa có nội dung)"
INFERRED_NOTE = ("* Tiêu đề có dấu * được dựng lại vì bản gốc của biểu bị mất chữ; "
                 "đề nghị đối chiếu với biểu gốc.")
PARTY_TITLE = "ĐẢNG CỘNG SẢN VIỆT NAM"
STATE_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
STATE_MOTTO = "Độc lập - Tự do - Hạnh phúc"


@dataclass(frozen=True)
class Margins:
    top: int  # mm
    bottom: int
    left: int
    right: int


# A4 (210 × 297 mm) page margins, in mm, chosen by the issuing body:
# - a party body: Hướng dẫn 36-HD/VPTW (03/4/2018) of the Party Central Office, as party committees
#   apply it (front side): top 25, bottom 25, left 35, right 15 mm;
# - a state body: Nghị định 30/2020/NĐ-CP, Phụ lục I: top and bottom 20–25, left 30–35, right
#   15–20 mm; the usual choice, used here: top 20, bottom 20, left 30, right 15 mm.
# Both: Times New Roman (Unicode, TCVN 6909:2001), body 13–14 pt; page numbers centred in the top
# margin from the second page.
PARTY_MARGINS = Margins(25, 25, 35, 15)
STATE_MARGINS = Margins(20, 20, 30, 15)
A4 = (210, 297)
LANDSCAPE_FROM = 8  # an appendix table of more columns is printed on a landscape page


@dataclass(frozen=True)
class Issuer:
    """The issuing body: "HUYỆN ỦY LỘC NINH" under "ĐẢNG BỘ TỈNH BÌNH PHƯỚC" (a party body), or a
    state body ("ỦY BAN NHÂN DÂN HUYỆN LỘC NINH"): it decides the heading block and the margins."""

    name: str
    parent: str = ""
    is_party: bool = True

    @property
    def margins(self) -> Margins:
        return PARTY_MARGINS if self.is_party else STATE_MARGINS


@dataclass(frozen=True)
class Appendix:
    """The appendix tables and their assembled values."""

    title: str  # the outline's title
    subtitle: str  # "(Kèm theo Công văn số 1241-CV/HU …)": the request the tables answer
    tables: Sequence[Table]
    frame: Frame
    part: Part
    unit_kind: str | None = None  # the compiler's kind: it chooses a target column's values


@dataclass(frozen=True)
class Report:
    issuer: Issuer
    number: str  # "125-BC/HU" ("Số" added); "" before it is numbered
    place: str
    date: dt.date | None  # None: "ngày … tháng … năm …", written by hand when signed
    title: str  # the subject under "BÁO CÁO"
    sections: Sequence[Section]  # the outline's narrative sections, a tree
    drafts: Mapping[str, str]  # section code → the draft's cleaned HTML
    recipients: Sequence[str]  # the "Nơi nhận" lines ("- Ban Thường vụ Tỉnh ủy,")
    signer_title: str  # lines: "T/M BAN THƯỜNG VỤ\nPHÓ BÍ THƯ"
    signer_name: str
    basis: str  # which units' parts the figures count
    appendix: Appendix | None = None


def write_report(target: str | IO[bytes], report: Report) -> None:
    """Write ``report`` as a .docx to ``target`` (a path or a binary file)."""
    document = Document()
    _set_up(document, report.issuer.margins)
    _heading_block(document, report)
    _title(document, report.title)
    for section in report.sections:
        _section(document, section, report.drafts, 0)
    if not report.sections:  # an outline of tables only: the body is written in Word
        _para(document, EMPTY_SECTION, italic=True, size=BODY_PT)
    _closing(document, report)
    if report.appendix is not None:
        _appendix(document, report, report.appendix)
    document.save(target)


# ------------------------------------------------------------------------------------------ page

def _set_up(document, margins: Margins) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(A4[0]), Mm(A4[1])
    section.orientation = WD_ORIENT.PORTRAIT
    section.top_margin, section.bottom_margin = Mm(margins.top), Mm(margins.bottom)
    section.left_margin, section.right_margin = Mm(margins.left), Mm(margins.right)
    section.header_distance = Mm(10)
    section.different_first_page_header_footer = True  # no number on the first page
    _page_number(section.header.paragraphs[0])
    styles = document.styles
    for name in ("Normal", "Heading 1", "Heading 2", "Heading 3", "Heading 4", "Heading 5", "Title",
                 "List Bullet", "List Bullet 2"):
        style = styles[name]
        _font(style.font)
        style.font.color.rgb = None
        if name.startswith("Heading"):
            style.font.size = Pt(BODY_PT)
            style.font.bold = True
            style.font.italic = False
            style.paragraph_format.space_before = Pt(6)
            style.paragraph_format.space_after = Pt(3)
            style.paragraph_format.keep_with_next = True
    styles["Normal"].font.size = Pt(BODY_PT)
    body = styles["Normal"].paragraph_format
    body.space_before, body.space_after, body.line_spacing = Pt(0), Pt(6), 1.1


def _font(font) -> None:
    """Times New Roman for every script. python-docx sets the ascii and hAnsi fonts only, and the
    built-in heading styles name theme fonts (w:asciiTheme …), which Word prefers to any named
    font: the smallest oxml touch drops them and names the font for East Asian and complex
    scripts as well."""
    font.name = FONT
    fonts = font.element.rPr.rFonts
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    fonts.set(qn("w:eastAsia"), FONT)
    fonts.set(qn("w:cs"), FONT)


def _page_number(paragraph) -> None:
    """The page number, centred in the top margin. python-docx has no field API: one w:fldSimple
    PAGE element (oxml) is the whole of it."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number = OxmlElement("w:fldSimple")
    number.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    number.append(run)
    paragraph._p.append(number)


def _text_width(section) -> int:
    return section.page_width - section.left_margin - section.right_margin


def _para(container, text: str = "", size: float | None = None, bold: bool = False, italic: bool = False,
          underline: bool = False, align=WD_ALIGN_PARAGRAPH.CENTER, after: float = 0):
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(after)
    paragraph.paragraph_format.first_line_indent = None
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
        if size:
            run.font.size = Pt(size)
    return paragraph


def _borderless(document, widths: Sequence[int]):
    """A table without borders (the default "Normal Table" style has none), of fixed column widths."""
    table = document.add_table(rows=1, cols=len(widths))
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths):
        column.width = width
    for cell, width in zip(table.rows[0].cells, widths):
        cell.width = width
    return table


def _first(cell, text: str, **kwargs):
    """The first paragraph of a new cell (it has one, empty), with ``text``."""
    paragraph = cell.paragraphs[0]
    paragraph.alignment = kwargs.pop("align", WD_ALIGN_PARAGRAPH.CENTER)
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    for key in ("bold", "italic", "underline"):
        setattr(run, key, kwargs.get(key) or None)
    if kwargs.get("size"):
        run.font.size = Pt(kwargs["size"])
    return paragraph


# -------------------------------------------------------------------------------- heading block

def number_text(number: str, is_party: bool) -> str:
    """"Số 125-BC/HU" (party) or "Số: 12/BC-UBND" (state); room to write it by hand when empty."""
    number = re.sub(r"^\s*số\s*:?\s*", "", number or "", flags=re.IGNORECASE).strip()
    if is_party:
        return f"Số {number}" if number else "Số        -BC/"
    return f"Số: {number}" if number else "Số:        /BC-"


def date_text(place: str, date: dt.date | None) -> str:
    """"Lộc Ninh, ngày 03 tháng 5 năm 2024": a day below 10 and the months 1 and 2 with a leading
    zero (Nghị định 30/2020, Phụ lục I; the party's rule reads the same)."""
    if date is None:
        when = "ngày … tháng … năm …"
    else:
        month = f"{date.month:02d}" if date.month < 3 else str(date.month)
        when = f"ngày {date.day:02d} tháng {month} năm {date.year}"
    return f"{place}, {when}" if place else when


def _heading_block(document, report: Report) -> None:
    issuer = report.issuer
    width = _text_width(document.sections[0])
    # "ĐẢNG BỘ TỈNH BÌNH PHƯỚC" on one line, the party's title on the other; the national title of a
    # state body is longer, its body's name goes on two lines
    left_width = int(width * (0.47 if issuer.is_party else 0.4))
    table = _borderless(document, [left_width, width - left_width])
    left, right = table.rows[0].cells
    size = 13 if issuer.is_party else SMALL_PT + 1
    paragraph = None
    if issuer.parent:
        paragraph = _first(left, issuer.parent.upper(), size=size)
    name = issuer.name.upper()
    if paragraph is None:
        _first(left, name, bold=True, size=size)
    else:
        _para(left, name, bold=True, size=size)
    if issuer.is_party:
        _para(left, "*", size=size)
    else:
        _para(left, "", size=6)
    _para(left, number_text(report.number, issuer.is_party), size=BODY_PT if issuer.is_party else 13)
    if issuer.is_party:
        _first(right, PARTY_TITLE, bold=True, underline=True, size=15)
    else:
        _first(right, STATE_TITLE, bold=True, size=SMALL_PT)
        _para(right, STATE_MOTTO, bold=True, underline=True, size=BODY_PT)
    _para(right, "", size=6)
    _para(right, date_text(report.place, report.date), italic=True, size=BODY_PT)


def _title(document, title: str) -> None:
    _para(document, "", after=6)
    _para(document, "BÁO CÁO", bold=True, size=15)
    _para(document, title, bold=True, size=BODY_PT)
    _para(document, "-----", size=BODY_PT, after=12)


# -------------------------------------------------------------------------------------- sections

def _section(document, section: Section, drafts: Mapping[str, str], depth: int) -> None:
    """A section's heading, its draft (or the note that it has none yet), then its sections."""
    level = min(depth + 1, 5)
    if section.number.casefold().startswith("phần"):  # "Phần thứ nhất" over its title, centred
        heading = document.add_heading(level=level)
        heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
        heading.add_run(section.number)
        heading.add_run().add_break()
        heading.add_run(section.title)
    else:
        heading = document.add_heading(f"{section.number} {section.title}".strip(), level=level)
        heading.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        heading.paragraph_format.first_line_indent = Mm(10)
        heading.runs[0].italic = depth >= 3 or None
    html = drafts.get(section.code, "")
    if html:
        write_html(document, html)
    elif section.answered:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.first_line_indent = Mm(10)
        paragraph.add_run(EMPTY_SECTION).italic = True
    for child in section.children:
        _section(document, child, drafts, depth + 1)


BREAK = object()  # a <br> among a block's runs


@dataclass
class _Block:
    kind: str  # "p", "quote", "bullet", "number"
    level: int = 0  # list nesting, 1 for a top-level list
    number: int = 0  # of a numbered item
    runs: list = field(default_factory=list)  # (text, bold, italic, underline) or BREAK


class _Blocks(HTMLParser):
    """Cleaned rich text (richtext.clean: p br strong b em i u ul ol li blockquote, no attributes)
    as a list of paragraphs, each a list of formatted runs."""

    MARKS = {"strong": "b", "b": "b", "em": "i", "i": "i", "u": "u"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.marks = {"b": 0, "i": 0, "u": 0}
        self.lists: list[list] = []  # [tag, items so far] of the open lists
        self.quote = 0
        self.current: _Block | None = None

    def _open(self, kind: str, **kwargs) -> _Block:
        self.current = _Block(kind, **kwargs)
        self.blocks.append(self.current)
        return self.current

    def _runs(self) -> list:
        if self.current is None:
            self._open("quote" if self.quote else "p")
        return self.current.runs

    def handle_starttag(self, tag, attrs):
        if tag in self.MARKS:
            self.marks[self.MARKS[tag]] += 1
        elif tag == "br":
            self._runs().append(BREAK)
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 0])
            self.current = None
        elif tag == "li":
            kind, count = self.lists[-1] if self.lists else ("ul", 0)
            if self.lists:
                self.lists[-1][1] += 1
            self._open("bullet" if kind == "ul" else "number", level=max(len(self.lists), 1), number=count + 1)
        elif tag == "p":
            self._open("quote" if self.quote else "p")
        elif tag == "blockquote":
            self.quote += 1
            self.current = None

    def handle_endtag(self, tag):
        if tag in self.MARKS:
            self.marks[self.MARKS[tag]] = max(self.marks[self.MARKS[tag]] - 1, 0)
        elif tag in ("p", "li"):
            self.current = None
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.current = None
        elif tag == "blockquote":
            self.quote = max(self.quote - 1, 0)
            self.current = None

    def handle_data(self, data):
        text = re.sub(r"\s+", " ", data)
        if self.current is None and not text.strip():
            return
        runs = self._runs()
        if not runs or runs[-1] is BREAK:
            text = text.lstrip()
        if text:
            runs.append((text, self.marks["b"] > 0, self.marks["i"] > 0, self.marks["u"] > 0))


def write_html(document, html: str) -> None:
    """Cleaned rich text as paragraphs: bold, italics and underline as runs; a bulleted list in
    Word's list style; a numbered list with its numbers written (each list counts from 1, which
    Word's one shared "List Number" numbering would not do); a quotation as an indented paragraph."""
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    for block in parser.blocks:
        if block.runs and block.runs[-1] is not BREAK and isinstance(block.runs[-1], tuple):
            text, *marks = block.runs[-1]
            block.runs[-1] = (text.rstrip(), *marks)
        if not any(r is not BREAK and r[0] for r in block.runs):
            continue
        if block.kind == "bullet":
            paragraph = document.add_paragraph(style="List Bullet" if block.level < 2 else "List Bullet 2")
        else:
            paragraph = document.add_paragraph()
        fmt = paragraph.paragraph_format
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if block.kind == "p":
            fmt.first_line_indent = Mm(10)
        elif block.kind == "bullet":  # under the text's first-line indent, not at the margin
            fmt.left_indent = Mm(10 * block.level + 6)
            fmt.first_line_indent = Mm(-6)
        elif block.kind == "number":
            fmt.left_indent = Mm(10 * block.level + 6)
            fmt.first_line_indent = Mm(-6)
            paragraph.add_run(f"{block.number}. ")
        elif block.kind == "quote":
            fmt.left_indent, fmt.right_indent = Mm(15), Mm(10)
        for run in block.runs:
            if run is BREAK:
                paragraph.add_run().add_break()
                continue
            text, bold, italic, underline = run
            written = paragraph.add_run(text)
            written.bold, written.italic, written.underline = bold or None, italic or None, underline or None


# -------------------------------------------------------------------------- recipients, signature

def _closing(document, report: Report) -> None:
    width = _text_width(document.sections[0])
    left_width = int(width * 0.45)
    # the signature block does not stand alone on a page: the report's last lines go with it
    for paragraph in document.paragraphs[-2:]:
        paragraph.paragraph_format.keep_with_next = True
    _para(document, "", after=6).paragraph_format.keep_with_next = True
    table = _borderless(document, [left_width, width - left_width])
    # never split: the room left to sign would run onto a page of its own (seen in LibreOffice)
    _row_flag(table.rows[0], "w:cantSplit")
    left, right = table.rows[0].cells
    _first(left, "Nơi nhận:", bold=True, italic=True, size=SMALL_PT, align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in report.recipients:
        _para(left, line, size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
    lines = [line.strip() for line in report.signer_title.splitlines() if line.strip()] or [""]
    _first(right, lines[0], bold=True, size=BODY_PT)
    for line in lines[1:]:
        _para(right, line, bold=True, size=BODY_PT)
    for _ in range(3):  # room for the signature and the seal
        _para(right, "", size=BODY_PT)
    _para(right, report.signer_name, bold=True, size=BODY_PT)


# -------------------------------------------------------------------------------------- appendix

def _appendix(document, report: Report, appendix: Appendix) -> None:
    """The appendix on pages of its own: landscape ones when a table is wide (all of them, so that
    the tables follow each other instead of each narrow one after a wide one taking a page)."""
    layouts = []
    for table in appendix.tables:
        rows = appendix.part.lists.get(table.code, []) if table.is_list else None
        layouts.append((table, build_layout(table, appendix.frame, list_rows=len(rows) if rows is not None else 0),
                        rows))
    if any(layout.width >= LANDSCAPE_FROM for _, layout, _ in layouts):
        _landscape(document)
    else:
        document.add_page_break()
    _para(document, "PHỤ LỤC", bold=True, size=BODY_PT)
    _para(document, appendix.title, bold=True, size=BODY_PT)
    if appendix.subtitle:
        _para(document, appendix.subtitle, italic=True, size=13)
    number = number_text(report.number, report.issuer.is_party).replace("Số: ", "số ").replace("Số ", "số ")
    dated = f", {date_text('', report.date)}" if report.date else ""
    _para(document, f"(Kèm theo Báo cáo {number}{dated})", italic=True, size=13)
    _para(document, report.basis, italic=True, size=13, after=6)
    for table, layout, rows in layouts:
        _appendix_table(document, appendix, table, layout, rows)


def _landscape(document) -> None:
    """Go on in a new section, on landscape pages."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.different_first_page_header_footer = False  # the appendix's first page is numbered too
    short, long = sorted((section.page_width, section.page_height))
    section.page_width, section.page_height = long, short


def _appendix_table(document, appendix: Appendix, table: Table, layout, rows) -> None:
    size = TABLE_PT if layout.width < 12 else (10 if layout.width < 16 else 9)
    for heading in table.headings:
        _para(document, heading, bold=True, size=13, align=WD_ALIGN_PARAGRAPH.LEFT).paragraph_format.keep_with_next = True
    title = _para(document, table.title + (" *" if table.inferred else ""), bold=True, size=13, after=4)
    title.paragraph_format.keep_with_next = True
    inferred = table.inferred
    for index, block in enumerate(layout.blocks):
        if index:  # a paragraph between two tables, or Word joins them into one
            _para(document, "", size=4)
        inferred |= _block_table(document, appendix, table, block, rows, size)
    if table.is_list and not rows:
        _para(document, f"Chưa đơn vị nào nhập {row_noun(table)} nào.", italic=True, size=size)
    if inferred:
        _para(document, INFERRED_NOTE, italic=True, size=size, align=WD_ALIGN_PARAGRAPH.LEFT)
    _para(document, "", size=6)


def _block_table(document, appendix: Appendix, table: Table, block: BlockLayout, rows, size: int) -> bool:
    """One block of the table as a bordered table: its header (merged cells as in the workbook), its
    column-number row and its rows of values; whether a header in it was reconstructed."""
    heads: list[HeaderCell] = block.header + block.numbers
    positions = [h.row for h in heads] + [r.row for r in block.rows]
    top = min(positions)
    width = max([h.last_col + 1 for h in heads] + [c.col + c.colspan for r in block.rows for c in r.cells])
    grid = document.add_table(rows=max(positions) - top + 1, cols=width)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    _widths(grid, table, block, width, _text_width(document.sections[-1]))
    inferred = False
    for h in heads:
        inferred |= h.inferred
        in_header = h in block.header  # else the column-number row, smaller
        _cell(grid, h.row - top, h.col, h.text + (" *" if h.inferred else ""), size if in_header else size - 2,
              bold=in_header, rowspan=h.rowspan, colspan=h.colspan)
    for lrow in block.rows:
        r = lrow.row - top
        if lrow.serial is not None:
            _cell(grid, r, 0, lrow.serial, size)
        if not table.is_list:
            _cell(grid, r, lrow.label_col, lrow.label, size, bold=lrow.total, align=WD_ALIGN_PARAGRAPH.LEFT)
        for cell in lrow.cells:
            if table.is_list:
                row = rows[int(lrow.key) - 1]
                text = show(cell.column, None, row.get(cell.column.key)) if cell.column.is_input else lrow.key
                align = WD_ALIGN_PARAGRAPH.LEFT if cell.column.type == "text" else WD_ALIGN_PARAGRAPH.CENTER
            else:
                text = assembled_text(table, cell.column, appendix.part, lrow.key, appendix.unit_kind)
                align = WD_ALIGN_PARAGRAPH.CENTER if cell.column.is_numeric else WD_ALIGN_PARAGRAPH.LEFT
            _cell(grid, r, cell.col, text, size, bold=lrow.total, colspan=cell.colspan, align=align)
    header_rows = {h.row - top for h in heads}
    for index in sorted(header_rows):
        _repeat_header(grid.rows[index])
    for row in grid.rows[:-1]:  # a table that fits on a page is not split (a longer one still runs on)
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True
    return inferred


SERIAL_WIDTH = Mm(12)  # "STT", "TT" on one line
WIDTH_WEIGHTS = {"text": 2.2, "date": 1.6}  # of a column, against 1 for a number (notes, summaries are wider)
SHORT_TEXT = 100  # characters: a text column no longer than this is as wide as a date


def _widths(grid, table: Table, block: BlockLayout, width: int, available: int) -> None:
    """Fixed column widths: a narrow serial column, a wide label column, the values sharing the
    rest by their type (a note or a summary wider than a number)."""
    fixed: dict[int, int] = {}
    if table.is_list:
        columns = {i: c for i, c in enumerate(table.columns)}
        fixed.update({i: SERIAL_WIDTH for i, c in columns.items() if not c.is_input})
    else:
        columns = {cell.col: cell.column for row in block.rows[:1] for cell in row.cells}
        if block.rows and block.rows[0].serial is not None:
            fixed[0] = SERIAL_WIDTH
        fixed[block.rows[0].label_col if block.rows else 0] = Mm(55 if width <= 4 else 38 if width <= 10 else 28)
    weights = {i: _weight(columns[i], crowded=width > 10) if i in columns else 1.0
               for i in range(width) if i not in fixed}
    share = (available - sum(fixed.values())) / max(sum(weights.values()), 1)
    widths = [fixed.get(i) or int(share * weights[i]) for i in range(width)]
    for column, w in zip(grid.columns, widths):
        column.width = w
    for row in grid.rows:
        for cell, w in zip(row.cells, widths):
            cell.width = w


def _weight(column, crowded: bool = False) -> float:
    """A column's share of a table's width: a long text (a summary) the most, a short one (a
    document number) like a date; in a table of many columns, a note no wider than a date."""
    if column.type == "text" and (crowded or column.max_length <= SHORT_TEXT):
        return WIDTH_WEIGHTS["date"]
    return WIDTH_WEIGHTS.get(column.type, 1.0)


def _cell(grid, row: int, col: int, text: str, size: int, bold: bool = False, rowspan: int = 1,
          colspan: int = 1, align=WD_ALIGN_PARAGRAPH.CENTER) -> None:
    cell = grid.cell(row, col)
    if rowspan > 1 or colspan > 1:
        cell = cell.merge(grid.cell(row + rowspan - 1, col + colspan - 1))
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    lines = (text or "").split("\n")
    for i, line in enumerate(lines):
        paragraph = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        paragraph.alignment = align
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.paragraph_format.line_spacing = 1.0
        run = paragraph.add_run(line)
        run.font.size = Pt(size)
        run.bold = bold or None


def _repeat_header(row) -> None:
    """Repeat the row at the top of every page the table runs onto."""
    _row_flag(row, "w:tblHeader")


def _row_flag(row, name: str) -> None:
    """Set an on/off property of a table row (w:tblHeader, w:cantSplit): python-docx has no API for
    them, so the flag goes into the row's properties (oxml)."""
    row._tr.get_or_add_trPr().append(OxmlElement(name))
