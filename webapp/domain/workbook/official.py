"""The printed form of a Vietnamese official document around a table sheet.

No cell moves for it: the title stays in A1 and every cell at the template's address (templates
handed out before must still import), so the frame goes where no cell is:

- the page header: on every table, the table's parent headings in the seed's order (printed above
  the title in A1; their cell A2, below the title, is kept where it was but hidden); above the
  first page of the appendix's first table (``_Worksheet.set_first_header``), the head of the
  document, printed once as in a document of several pages: the issuing body on the left (its
  parent body, its name in bold, a "*" under a party body's), "ĐẢNG CỘNG SẢN VIỆT NAM" or the state
  motto on the right, centred below them the appendix's title and "(Kèm theo Báo cáo số … ngày …)";
- rows below the table: the footnote for reconstructed headers (marked with a * in their header
  cell), what the figures count, and at the end of the appendix the place and date and the
  signature block.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass
from typing import Any

from xlsxwriter.utility import _utf16_len
from xlsxwriter.worksheet import Worksheet

from ..layout import Layout
from .frame import _height, _lines
from .styles import INFERRED_MARK, LINE_HEIGHT, _Styles
from .xlsx import HEADER_LIMIT, _merged_text

PARTY_NAME = "ĐẢNG CỘNG SẢN VIỆT NAM"
STATE_NAME, STATE_MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
PARTY_SIGNS_FOR = "T/M BAN THƯỜNG VỤ"  # a party committee's report is signed for its standing committee
INFERRED_NOTE = ("(*) Ghi chú về mẫu biểu: bản gốc của biểu này bị hỏng một phần; tiêu đề biểu và các tiêu đề "
                 f"có dấu {INFERRED_MARK} được dựng lại.")
RECONSTRUCTED_NOTE = "(*) Ghi chú về mẫu biểu: bản gốc của biểu này bị hỏng; biểu được dựng lại."
BLANK = "……"  # a number or a name still to be written by hand
HEADER_SIZE = "&12"  # the header's font size, when it fits
NOTE_CHARS_PER_WIDTH = 1.15  # characters of 10 pt italic per unit of column width
SIGNATURE_ROWS = 4  # blank rows left for the signature and the seal
HEADER_LINE_INCHES = 0.2  # one 12 pt line of the header, for the top margin


@dataclass(frozen=True)
class Issuer:
    """Who issues the report the appendix goes with, and who signs it (the campaign's fields)."""

    name: str = ""  # HUYỆN ỦY LỘC NINH
    parent: str = ""  # ĐẢNG BỘ TỈNH BÌNH PHƯỚC
    is_party: bool = True  # else a state body: the state motto, "TM." its name
    report_number: str = ""  # 125-BC/HU
    report_date: dt.date | None = None
    place: str = ""  # Lộc Ninh
    signer_title: str = ""  # "T/M BAN THƯỜNG VỤ\nPHÓ BÍ THƯ": one line each
    signer_name: str = ""

    @classmethod
    def of(cls, cover: dict[str, Any]) -> Issuer:
        """From the appendix's ``cover`` keys (``write_appendix``); the compiling unit names the issuing
        body when the campaign names none."""
        def text(key: str) -> str:
            return str(cover.get(key) or "").strip()
        date = cover.get("report_date")
        return cls(name=text("issuer_name") or text("compiler"), parent=text("issuer_parent"),
                   is_party=cover.get("issuer_is_party", True) is not False, report_number=text("report_number"),
                   report_date=date.date() if isinstance(date, dt.datetime) else date, place=text("report_place"),
                   signer_title=text("signer_title"), signer_name=text("signer_name"))

    @property
    def accompanies(self) -> str:
        """The line saying which report the appendix goes with."""
        date = _short_date(self.report_date) if self.report_date else "…/…/……"
        return f"(Kèm theo Báo cáo số {self.report_number or BLANK} ngày {date})"

    @property
    def place_and_date(self) -> str:
        place = self.place or BLANK
        d = self.report_date
        if d is None:
            return f"{place}, ngày … tháng … năm …"
        day, month = _day_month(d)
        return f"{place}, ngày {day} tháng {month} năm {d.year}"

    @property
    def signature_titles(self) -> list[str]:
        """The lines above the signature: the signer's title as given, else who the body signs for."""
        if self.signer_title:
            return [line.strip() for line in self.signer_title.splitlines() if line.strip()]
        if self.is_party:
            return [PARTY_SIGNS_FOR]
        return [f"TM. {self.name}"] if self.name else []


def _day_month(d: dt.date) -> tuple[str, str]:
    """Day and month as official documents write them: a day below 10 and the months 1 and 2 with a
    leading zero (Nghị định 30/2020/NĐ-CP)."""
    return (f"{d.day:02d}" if d.day < 10 else str(d.day)), (f"{d.month:02d}" if d.month < 3 else str(d.month))


def _short_date(d: dt.date) -> str:
    day, month = _day_month(d)
    return f"{day}/{month}/{d.year}"


def _escape(text: str) -> str:
    return text.replace("&", "&&")  # "&" starts a header code


def _section(code: str, lines: list[str], height: int, size: str = "") -> str:
    """One section of a header (``&L``, ``&C``, ``&R``), padded with empty lines to ``height`` lines:
    LibreOffice centres each section vertically, so sections of the same height start on the same line
    (the last padding line holds a no-break space: LibreOffice drops trailing empty lines).
    ``size``: a font size code (``&12``) for the section."""
    pad = height - len(lines)
    text = "\n".join(lines + [""] * (pad - 1) + ["\u00a0"] if pad > 0 else lines)
    return code + size + (" " + text if size and text[:1].isdigit() else text)  # "&121." is no size


def first_page_header(issuer: Issuer | None, headings: tuple[str, ...],
                      title: str | None = None) -> tuple[str, int]:
    """The first page's header: ``issuer``'s block on the left and the party's name or the state motto
    on the right (none without an issuer); centred below them the appendix's ``title`` (bold), the
    report the appendix goes with (italic) and the table's ``headings`` (bold, in the seed's order).
    In 12 pt when that keeps within Excel's 255 characters, else in the default size, leaving out the
    title first, then the report's line, then cutting the headings' end. Returns the header and the
    number of lines it takes."""
    left: list[str] = []
    right: list[str] = []
    if issuer is not None:
        left = ([_escape(issuer.parent)] if issuer.parent else []) + [f"&B{_escape(issuer.name)}&B"]
        if issuer.is_party:
            left.append("*")
            right = [f"&B&U{PARTY_NAME}&U&B"]
        else:
            right = [f"&B{STATE_NAME}", f"&U{STATE_MOTTO}&U&B"]
    top = max(len(left), len(right))
    extra = ([f"&B{_escape(title)}&B"] if title else []) + \
        ([f"&I{_escape(issuer.accompanies)}&I"] if issuer is not None else [])
    heads = [_escape(h) for h in headings]
    size = HEADER_SIZE
    while True:
        bold = [f"&B{heads[0]}", *heads[1:-1], f"{heads[-1]}&B"] if len(heads) > 1 else [f"&B{h}&B" for h in heads]
        centre = [""] * (top + 1 if top else 0) + extra + bold
        height = len(centre)
        header = "".join(_section(code, part, height, size) for code, part in
                         (("&L", left), ("&C", centre), ("&R", right)) if any(part))
        over = _utf16_len(header) - HEADER_LIMIT
        if over <= 0 or not (extra or heads or size):
            return (header, height) if over <= 0 else ("", 0)
        if size:
            size = ""
        elif extra:
            extra = extra[1:]
        elif len(heads[-1]) > over + 1:
            heads[-1] = heads[-1][:len(heads[-1]) - over - 1] + "…"
        else:
            heads = heads[:-1]


def set_official_header(ws: Worksheet, headings: tuple[str, ...], head: tuple[Issuer, str] | None = None) -> int:
    """Set a table sheet's page header: its ``headings`` on every page; with ``head`` (the issuer
    and the appendix's title: the appendix's first table), the document's head above the first
    page. The number of lines the taller header takes (0: none).

    LibreOffice prints a first page's header only on the page numbered 1, so the sheet that carries
    the head starts its page numbers at 1 (after the cover, the appendix's own page 1)."""
    header, lines = first_page_header(None, headings)
    if header:
        ws.set_header(header)
    if head is None:
        return lines
    first, first_lines = first_page_header(head[0], headings, head[1])
    if first:
        ws.set_first_header(first)
        ws.set_start_page(1)
    return max(lines, first_lines)


def top_margin(header_lines: int) -> float:
    """The top margin (inches) that leaves room for a header of ``header_lines`` lines."""
    return round(0.3 + header_lines * HEADER_LINE_INCHES, 2) if header_lines else 0.6


def reconstruction_note(layout: Layout) -> str | None:
    """The footnote of a table reconstructed from a damaged seed: its marked headers, or the whole."""
    if any(h.inferred for b in layout.blocks for h in b.header):
        return INFERRED_NOTE
    return RECONSTRUCTED_NOTE if layout.table.inferred else None


def write_notes(ws: Worksheet, st: _Styles, widths: list[float], row: int, notes: list[str]) -> int:
    """Write ``notes`` one under another from ``row``, each cut at word breaks into lines of the
    table's width, a line to a row in column A (unmerged and unwrapped: a list's column A is its
    serial number, which the importer does not read, and its input cells stay free below the
    list); the row after the last one."""
    fmt = st.get(italic=True, font_size=10)
    per_line = max(int(sum(widths) * NOTE_CHARS_PER_WIDTH), 40)
    for note in notes:
        for line in textwrap.wrap(note, per_line):
            ws.write_string(row, 0, line, fmt)
            row += 1
    return row


def table_notes(layout: Layout, basis: str | None) -> list[str]:
    """The notes printed under a table: the footnote for reconstructed headers, what is counted."""
    return [note for note in (reconstruction_note(layout), basis) if note]


def write_signature(ws: Worksheet, st: _Styles, widths: list[float], row: int, issuer: Issuer) -> int:
    """Place and date, the signer's title(s), room to sign, the signer's name, in the right half of
    the table's width from ``row``; the last row written."""
    last_col = len(widths) - 1
    first_col = _right_half(widths)
    _merged_text(ws, row, first_col, last_col, issuer.place_and_date,
                 st.get(italic=True, align="center", font_size=12))
    row += 1
    bold = st.get(bold=True, align="center", font_size=12)
    for title in issuer.signature_titles:
        _merged_text(ws, row, first_col, last_col, title, bold)
        row += 1
    for _ in range(SIGNATURE_ROWS):
        ws.set_row(row, LINE_HEIGHT + 6)
        row += 1
    _merged_text(ws, row, first_col, last_col, issuer.signer_name or "", bold)
    return row


def _right_half(widths: list[float]) -> int:
    """The first column of the right half of the table (at least some 40 characters wide)."""
    total, run = sum(widths), 0.0
    for col in range(len(widths) - 1, 0, -1):
        run += widths[col]
        if run >= max(total / 2, 40):
            return col
    return 0
