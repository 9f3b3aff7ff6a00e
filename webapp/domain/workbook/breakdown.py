"""The appendix's breakdown sheets (``<sheet> theo ĐV``): a row per unit and a total row, drawn from
``layout.build_breakdown`` as the breakdown page is."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ..layout import TITLE_ROW, BreakdownColumn, BreakdownLayout, BreakdownPeriod, build_breakdown
from ..outline import Frame, Table
from ..parts import Part
from ..columns import row_values
from .frame import _header_cell, _header_heights, _height, _lines, _print_ranges, _protect, _px
from .styles import COUNT_FORMAT, FONT, MIN_PRINT_SCALE, PAGE_PIXELS, _Styles
from .xlsx import _carried, _merged_text, _number

BREAKDOWN_SUFFIX = " theo ĐV"


def breakdown_sheet_name(table: Table) -> str:
    return table.sheet[:31 - len(BREAKDOWN_SUFFIX)] + BREAKDOWN_SUFFIX


def _write_breakdown(wb: xlsxwriter.Workbook, st: _Styles, table: Table, frame: Frame, names: list[str],
                     parts: Iterable[Part], total: Part, total_label: str, unit_kind: str | None = None) -> None:
    """One row per unit (``names``, and their ``parts`` in the same order, read as the rows are
    written) and a total row, like the per-commune tables of the district reports."""
    ws = wb.add_worksheet(breakdown_sheet_name(table))
    layout = build_breakdown(table, frame, [(name, None) for name in names], total_label)
    # the unit names on one line each: rows are not heightened for wrapped names
    name_width = min(45.0, max([28.0] + [len(name) * 1.1 + 2 for name in names]))
    widths = [5.0, name_width] + [10.0 for _ in layout.columns]
    title = f"{table.title.rstrip(': ')} – chi tiết theo đơn vị"
    _merged_text(ws, TITLE_ROW, 0, max(layout.width - 1, 1), title, st.title())
    ws.set_row(TITLE_ROW, _height(_lines(title, min(sum(widths), 120), bold=True)) + 2)
    _breakdown_header(ws, st, layout, widths)
    # What every unit row repeats, worked out once: a sheet has a row per unit of a province.
    serial_fmt, name_fmt = st.body(None), st.label(left=True)
    periods = [(p, [(b.column.key, b.col, st.body(b.column), _scale(b)) for b in p.stored], _other_cells(st, p))
               for p in layout.periods]
    write_number, write_blank = ws.write_number, ws.write_blank
    for lrow, upart in zip(layout.rows, parts):
        row = lrow.row
        ws.flush_rows(row)  # the rows above are done: a province's units are not all held
        write_number(row, 0, lrow.serial, serial_fmt)
        ws.write_string(row, 1, lrow.label, name_fmt)
        for period, stored, others in periods:
            # the innermost loop of a province's export (units × periods × columns): no _put dispatch
            numbers = layout.numbers_of(upart, period)
            for key, col, fmt, scale in stored:
                value = numbers[key]
                if value is None:
                    write_blank(row, col, None, fmt)
                else:
                    write_number(row, col, value / scale if scale else value, fmt)
            if others:
                _breakdown_others(ws, row, others, period, numbers, unit_kind)
    _breakdown_total(ws, st, layout, total if names else Part(), unit_kind)
    for col, w in enumerate(widths):
        ws.set_column(col, col, w)
    ws.freeze_panes(layout.number_row + 1, 2)
    _breakdown_print(ws, layout, widths, title)
    _protect(ws)


def _breakdown_header(ws: Worksheet, st: _Styles, layout: BreakdownLayout, widths: list[float]) -> None:
    """STT | Đơn vị | period › (group ›) column label, then the column-number row."""
    for h in layout.header:
        _header_cell(ws, h, st.header())
    for row, height in _header_heights(layout.header, widths).items():
        ws.set_row(row, height)
    for h in layout.numbers:
        _header_cell(ws, h, st.numbering())


def _breakdown_total(ws: Worksheet, st: _Styles, layout: BreakdownLayout, total: Part,
                     unit_kind: str | None = None) -> None:
    """The "Toàn huyện" row: SUM formulas carrying the assembled numbers (the sums of the rows above:
    the rows are the parts of the units that fill the table), rates recomputed from them."""
    bold = st.get(bold=True, border=1, align="center", num_format=COUNT_FORMAT)
    total_row, first = layout.total.row, layout.number_row + 1
    ws.merge_range(total_row, 0, total_row, 1, "", bold)
    ws.write_string(total_row, 0, layout.total.label, bold)
    for period in layout.periods:
        sums = layout.numbers_of(total, period)
        for b in period.stored:
            fmt = st.get(bold=True, border=1, **b.column.kind.excel_format())
            if total_row > first:  # blank, not 0, when no unit has a number there
                rng = f"{xl_rowcol_to_cell(first, b.col)}:{xl_rowcol_to_cell(total_row - 1, b.col)}"
                ws.write_formula(total_row, b.col, f'=IF(COUNT({rng})=0,"",SUM({rng}))', fmt,
                                 _carried(b.column.kind.value(sums[b.column.key])))
            else:
                ws.write_blank(total_row, b.col, None, fmt)
        others = _other_cells(st, period, bold=True)
        if others:
            _breakdown_others(ws, total_row, others, period, sums, unit_kind)


def _scale(b: BreakdownColumn) -> Decimal | None:
    """What a stored number of the column is divided by to give its value (a decimal's 10**places)."""
    return Decimal(10) ** b.column.kind.decimals if b.column.kind.decimals else None


_ROW = "\x00"  # where a formula written once per period takes each row's number


def _other_cells(st: _Styles, period: BreakdownPeriod, bold: bool = False):
    """The cells of one period that are not summed (rates, sums, formulas: live formulas; targets),
    each with its formula written once for every row of the period (None: a constant) and its format."""
    letter = {b.column.key: xl_col_to_name(b.col) for b in period.columns}
    extra = {"bold": True} if bold else {}
    return [(b, b.column.kind.formula(lambda key: letter[key] + _ROW),
             st.get(border=1, **b.column.kind.excel_format(), **extra)) for b in period.derived]


def _breakdown_others(ws: Worksheet, row: int, others, period: BreakdownPeriod, numbers: dict,
                      unit_kind: str | None) -> None:
    """A breakdown row's computed cells, recomputed from that row's numbers (a unit's, or the sums),
    as live formulas carrying their values, and its targets."""
    values = row_values(period.column_objects, numbers, period.key, unit_kind)
    for b, formula, fmt in others:
        value = values.get(b.column.key)
        if formula is not None:
            ws.write_formula(row, b.col, formula.replace(_ROW, str(row + 1)), fmt, _carried(value))
        elif value is None:
            ws.write_blank(row, b.col, None, fmt)
        else:
            ws.write_number(row, b.col, _number(value), fmt)


HEADER_LIMIT = 255  # characters of a page header, its codes included (Excel's limit)


def print_blocks(layout: BreakdownLayout, widths: list[float]) -> list[list[BreakdownPeriod]]:
    """The periods printed side by side on one page: as many whole periods as fit the page at a
    legible scale (one at least, however wide: it is scaled to the page). A period is never split."""
    room = PAGE_PIXELS * 100 / MIN_PRINT_SCALE - _px(widths[0]) - _px(widths[1])
    blocks: list[list[BreakdownPeriod]] = []
    used = 0
    for p in layout.periods:
        px = sum(_px(widths[b.col]) for b in p.columns)
        if not blocks or used + px > room:
            blocks.append([])
            used = 0
        blocks[-1].append(p)
        used += px
    return blocks


def page_title(title: str) -> str:
    """The page header that repeats a sheet's title on every printed page (bold, at the left), never
    cut by the columns a page shows; a title longer than a header holds is shortened at a word."""
    code = f'&L&12&"{FONT},Bold"'  # the size before the font: a title may begin with digits ("1.1.")
    text = title.replace("&", "&&")
    if len(code) + len(text) > HEADER_LIMIT:
        text = text[:HEADER_LIMIT - len(code) - 1].rsplit(" ", 1)[0].rstrip("&") + "…"
    return code + text


def _breakdown_print(ws: Worksheet, layout: BreakdownLayout, widths: list[float], title: str) -> None:
    """Landscape A4. Each print range is a block of whole periods with the unit names, fitted to the
    page width on its own (LibreOffice scales each range; nothing depends on the column widths a
    program keeps); the title in the page header and the block's header rows on every page."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.set_margins(left=0.4, right=0.4, top=0.8, bottom=0.7)
    ws.set_header(page_title(title), {"margin": 0.3})
    ws.set_footer(f'&C&"{FONT},Regular"&9Trang &P/&N')
    ws.repeat_rows(layout.header_rows[0], layout.number_row)
    ws.hide_gridlines(2)
    ws.fit_to_pages(1, 0)
    top, bottom = layout.header_rows[0], layout.total.row
    blocks = print_blocks(layout, widths)
    if len(blocks) <= 1:
        ws.print_area(top, 0, bottom, max(layout.width - 1, 1))
        return
    ws.repeat_columns(0, 1)
    # several print ranges: the first with the unit names, the others beside the repeated names
    _print_ranges(ws, [(top, 0 if i == 0 else block[0].columns[0].col, bottom, block[-1].columns[-1].col)
                       for i, block in enumerate(blocks)])
