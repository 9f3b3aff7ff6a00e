"""A table sheet's frame: title, headers, column numbers and row labels, column widths, row heights,
print setup, frozen panes and protection."""

from __future__ import annotations

import math
import re

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ..layout import CONTEXT_ROW, FIRST_TABLE_ROW, TITLE_ROW, HeaderCell, Layout
from ..outline import PERIODS, Table
from .styles import FONT, INFERRED_MARK, LINE_HEIGHT, MIN_TABLE_WIDTH, _Styles
from .xlsx import _merged_text

SECTION_HEADING = re.compile(r"^\s*(?:[IVXLC]+|\d+(?:\.\d+)*|[a-zđ])[.)]\s")  # "II. …", "1. …", "1.2. …", "a) …"


def headings_above(table: Table) -> tuple[str, ...]:
    """The table's headings when they are numbered section headings ("II. …", "1. …"): printed in the
    seed's order above the title, by the page header; () when they are lines under the title
    ("Tính đến ngày …", "(số liệu do … cung cấp)"), which cell A2 prints where it is."""
    if table.headings and all(SECTION_HEADING.match(h) for h in table.headings):
        return table.headings
    return ()


def _lines(text: str, width_chars: float, bold: bool = False) -> int:
    """How many lines ``text`` wraps to in a cell ``width_chars`` wide (an estimate for row heights)."""
    # Times New Roman is narrower than the digit "0" that column widths count in; bold is wider.
    per_line = max(width_chars - 1.5, 1) * (0.95 if bold else 1.12)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def _height(lines: int) -> float:
    return lines * LINE_HEIGHT + 3


def _px(width_chars: float) -> int:
    return int(width_chars * 7 + 5)


def _column_widths(layout: Layout) -> list[float]:
    """A width per sheet column, from the types of the cells that sit alone in it."""
    table = layout.table
    widths: list[float] = [0.0] * max(layout.width, 1)
    for cell in layout.cells:
        if cell.colspan == 1:
            widths[cell.col] = max(widths[cell.col], cell.column.kind.preferred_width(table.is_list))
    label = layout.label_index
    if layout.label_col:
        labels = [r.label for r in layout.rows if table.blocks[r.block].rows != PERIODS]
        widths[label] = max([11.0] + [min(len(t) + 2, 52) for t in labels])
        if label:  # the serial-number column before the labels
            widths[0] = 6.0
    widths = [w or 12.0 for w in widths]
    # A narrow table is widened (up to twice) so that its title and headers do not wrap into towers.
    kept = label + 1 if layout.label_col else 0  # the serial and label columns keep their width
    fixed = sum(widths[:kept])
    rest = sum(widths) - fixed
    if rest and sum(widths) < MIN_TABLE_WIDTH:
        factor = min(2.0, (MIN_TABLE_WIDTH - fixed) / rest)
        widths = [w if i < kept else round(w * factor, 1) for i, w in enumerate(widths)]
    return widths


def _span_width(widths: list[float], col: int, colspan: int) -> float:
    return sum(widths[col:col + colspan])


def _draw_frame(ws: Worksheet, st: _Styles, layout: Layout, widths: list[float]) -> dict[int, float]:
    """Title, headings, headers, column numbers and period labels; returns the header row heights."""
    table = layout.table
    last_col = len(widths) - 1
    total = sum(widths)
    _merged_text(ws, TITLE_ROW, 0, last_col, table.title, st.title())
    ws.set_row(TITLE_ROW, _height(_lines(table.title, total, bold=True)) + 2)
    if table.headings:  # section headings: kept at their address, hidden (the page header prints them)
        text = "\n".join(table.headings)
        _merged_text(ws, CONTEXT_ROW, 0, last_col, text, st.context())
        ws.set_row(CONTEXT_ROW, _height(_lines(text, total, bold=True)), None,
                   {"hidden": bool(headings_above(table))})
    heights: dict[int, float] = {}
    for block in layout.blocks:
        for h in block.header:  # a reconstructed header is marked, as on the web page (importer: unread)
            _header_cell(ws, h, st.header(), INFERRED_MARK if h.inferred else "")
        for h in block.numbers:
            _header_cell(ws, h, st.numbering())
        heights.update(_header_heights(block.header, widths))
        if layout.label_col:
            left = table.blocks[block.index].rows != PERIODS  # "+ Tổng số …:" lines read as text
            for lrow in block.rows:
                if lrow.serial:  # 1, 2 …; blank in the total row
                    ws.write_number(lrow.row, 0, int(lrow.serial), st.body(None))
                elif lrow.serial is not None:
                    ws.write_blank(lrow.row, 0, None, st.body(None))
                ws.write_string(lrow.row, lrow.label_col, lrow.label, st.label(left=left))
                if left:
                    ws.set_row(lrow.row, _height(_lines(lrow.label, widths[lrow.label_col])))
    for row, height in heights.items():
        ws.set_row(row, height)
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    return heights


def _header_cell(ws: Worksheet, h: HeaderCell, fmt: Format, mark: str = "") -> None:
    if h.rowspan > 1 or h.colspan > 1:
        ws.merge_range(h.row, h.col, h.last_row, h.last_col, "", fmt)
    ws.write_string(h.row, h.col, h.text + mark, fmt)


def _header_heights(cells: list[HeaderCell], widths: list[float]) -> dict[int, float]:
    """Row heights so that every wrapped header text shows (merged cells are not auto-fitted)."""
    heights = {r: LINE_HEIGHT + 3 for h in cells for r in range(h.row, h.last_row + 1)}
    need = {h: _height(_lines(h.text, _span_width(widths, h.col, h.colspan), bold=True)) for h in cells}
    for h in cells:
        if h.rowspan == 1:
            heights[h.row] = max(heights[h.row], need[h])
    for h in cells:
        if h.rowspan > 1:
            have = sum(heights[r] for r in range(h.row, h.last_row + 1))
            if have < need[h]:
                heights[h.last_row] += need[h] - have
    return heights


def _print_setup(ws: Worksheet, layout: Layout, last_row: int, top: float = 0.6) -> None:
    """A4 landscape, one page wide, header rows repeated, centred: like the printed form; ``top``:
    the top margin (inches), room for the first page's header."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=top, bottom=0.7)
    ws.center_horizontally()
    ws.set_footer(f'&C&"{FONT},Regular"&9Trang &P/&N')
    repeat = layout.header_row_indexes
    if repeat:
        ws.repeat_rows(repeat[0], repeat[-1])
    ws.print_area(0, 0, max(last_row, FIRST_TABLE_ROW), max(layout.width - 1, 0))
    ws.hide_gridlines(2)


def _freeze(ws: Worksheet, layout: Layout) -> None:
    first = layout.blocks[0]
    if first.rows and first.header_rows:
        ws.freeze_panes(first.rows[0].row, layout.label_index + 1 if layout.label_col else 0)


def _protect(ws: Worksheet) -> None:
    # No password: protection guards against slips, and a clerk may still widen columns or rows.
    ws.protect("", {"format_columns": True, "format_rows": True})
