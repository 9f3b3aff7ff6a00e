"""The appendix's breakdown sheets (``<sheet> theo ĐV``): a row per unit and a total row."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ..layout import FIRST_TABLE_ROW, TITLE_ROW, HeaderCell
from ..outline import Column, Frame, Table
from ..parts import Part
from ..columns import row_values
from .frame import _header_cell, _header_heights, _height, _lines, _protect, _px
from .styles import COUNT_FORMAT, FONT, MIN_PRINT_SCALE, PAGE_PIXELS, _Styles
from .xlsx import _carried, _merged_text, _number

BREAKDOWN_SUFFIX = " theo ĐV"


@dataclass(frozen=True)
class _BCol:
    """One column of a breakdown sheet: ``column`` of the table in the period row ``row_key``."""

    col: int
    row_key: str
    column: Column
    number: int  # in the column-number row
    group: str  # the table's column group key: columns of one group share a group header


def breakdown_sheet_name(table: Table) -> str:
    return table.sheet[:31 - len(BREAKDOWN_SUFFIX)] + BREAKDOWN_SUFFIX


def _breakdown_columns(table: Table, frame: Frame | list[int]) -> tuple[list[tuple[str, str, list[_BCol]]], int]:
    """The period groups (row key, label, columns) of a breakdown, and the number of columns used."""
    periods: dict[str, tuple[str, list[Column]]] = {}
    for block in table.blocks:
        for spec in block.row_specs(frame):
            label = spec.label.strip().lstrip("+").strip().rstrip(":").strip()
            cols = periods.setdefault(spec.key, (label, []))[1]
            cols.extend(c for c in block.columns if c.is_numeric)
    groups = []
    col, number = 2, 0
    for key, (label, columns) in periods.items():
        bcols = []
        for c in columns:
            number += 1
            bcols.append(_BCol(col, key, c, number, table.group_key_of(c.key)))
            col += 1
        if bcols:
            groups.append((key, label, bcols))
    return groups, col


def _write_breakdown(wb: xlsxwriter.Workbook, st: _Styles, table: Table, frame: Frame | list[int],
                     breakdowns: list[tuple[str, Part]], total: Part, total_label: str,
                     unit_kind: str | None = None) -> None:
    """One row per unit and a total row, like the per-commune tables of the district reports."""
    ws = wb.add_worksheet(breakdown_sheet_name(table))
    groups, width = _breakdown_columns(table, frame)
    # the unit names on one line each: rows are not heightened for wrapped names
    name_width = min(45.0, max([28.0] + [len(name) * 1.1 + 2 for name, _ in breakdowns]))
    widths = [5.0, name_width] + [10.0 for _, _, cols in groups for _ in cols]
    title = f"{table.title.rstrip(': ')} – chi tiết theo đơn vị"
    _merged_text(ws, TITLE_ROW, 0, max(width - 1, 1), title, st.title())
    ws.set_row(TITLE_ROW, _height(_lines(title, min(sum(widths), 120), bold=True)) + 2)
    number_row = _breakdown_header(ws, st, groups, widths)
    first = number_row + 1
    # What every unit row repeats, worked out once: a sheet has a row per unit of a province.
    serial_fmt, name_fmt = st.body(None), st.label(left=True)
    periods = [([((table.code, b.row_key, b.column.key), b.column.key, b.col, st.body(b.column),
                  Decimal(10) ** b.column.kind.decimals if b.column.kind.decimals else None)
                 for b in cols if b.column.kind.summed], _other_cells(st, cols), cols[0].row_key,
                [b.column for b in cols])
               for _, _, cols in groups]
    write_number, write_blank = ws.write_number, ws.write_blank
    for i, (name, upart) in enumerate(breakdowns):
        row = first + i
        write_number(row, 0, i + 1, serial_fmt)
        ws.write_string(row, 1, name, name_fmt)
        stored = upart.numbers
        for plain, others, row_key, columns in periods:
            # the innermost loop of a province's export (units × periods × columns): no _put dispatch
            numbers = {}
            for stored_key, key, col, fmt, scale in plain:
                value = numbers[key] = stored.get(stored_key)
                if value is None:
                    write_blank(row, col, None, fmt)
                else:
                    write_number(row, col, value / scale if scale else value, fmt)
            if others:
                _breakdown_others(ws, row, others, row_values(columns, numbers, row_key, unit_kind))
    total_row = first + len(breakdowns)
    _breakdown_total(ws, st, table, groups, total if breakdowns else Part(), first, total_row, total_label,
                     unit_kind)
    for col, w in enumerate(widths):
        ws.set_column(col, col, w)
    ws.freeze_panes(first, 2)
    _breakdown_print(ws, groups, widths, FIRST_TABLE_ROW, number_row, total_row, width)
    _protect(ws)


def _breakdown_header(ws: Worksheet, st: _Styles, groups, widths: list[float]) -> int:
    """STT | Đơn vị | period › (group ›) column label, then the column-number row; returns its row."""
    top = FIRST_TABLE_ROW
    labelled = any(b.column.group_label for _, _, cols in groups for b in cols)
    depth = 3 if labelled else 2
    cells = [HeaderCell("STT", top, 0, rowspan=depth), HeaderCell("Đơn vị", top, 1, rowspan=depth)]
    for _, label, cols in groups:
        cells.append(HeaderCell(label, top, cols[0].col, colspan=len(cols)))
        for _, run in itertools.groupby(cols, key=lambda b: b.group):
            run = list(run)
            group_label = run[0].column.group_label
            if group_label:  # "Cấp xã" over its columns, as in the table itself
                cells.append(HeaderCell(group_label, top + 1, run[0].col, colspan=len(run)))
                cells.extend(HeaderCell(b.column.header, top + 2, b.col) for b in run)
            else:
                cells.extend(HeaderCell(b.column.header, top + 1, b.col, rowspan=depth - 1) for b in run)
    for h in cells:
        _header_cell(ws, h, st.header())
    for row, height in _header_heights(cells, widths).items():
        ws.set_row(row, height)
    number_row = top + depth
    ws.write_string(number_row, 0, "A", st.numbering())
    ws.write_string(number_row, 1, "B", st.numbering())
    for _, _, cols in groups:
        local = {b.column.key: b.number for b in cols}
        for b in cols:
            ws.write_string(number_row, b.col, b.column.kind.number_text(local, b.number), st.numbering())
    return number_row


def _breakdown_total(ws: Worksheet, st: _Styles, table: Table, groups, total: Part,
                     first: int, total_row: int, total_label: str, unit_kind: str | None = None) -> None:
    """The "Toàn huyện" row: SUM formulas carrying the assembled numbers (the sums of the rows above:
    the rows are the parts of the units that fill the table), rates recomputed from them."""
    bold = st.get(bold=True, border=1, align="center", num_format=COUNT_FORMAT)
    ws.merge_range(total_row, 0, total_row, 1, "", bold)
    ws.write_string(total_row, 0, total_label, bold)
    for _, _, cols in groups:
        sums = {b.column.key: total.number(table.code, b.row_key, b.column.key) for b in cols if b.column.kind.summed}
        for b in cols:
            if not b.column.kind.summed:
                continue
            fmt = st.get(bold=True, border=1, **b.column.kind.excel_format())
            if total_row > first:  # blank, not 0, when no unit has a number there
                rng = f"{xl_rowcol_to_cell(first, b.col)}:{xl_rowcol_to_cell(total_row - 1, b.col)}"
                ws.write_formula(total_row, b.col, f'=IF(COUNT({rng})=0,"",SUM({rng}))', fmt,
                                 _carried(b.column.kind.value(sums[b.column.key])))
            else:
                ws.write_blank(total_row, b.col, None, fmt)
        others = _other_cells(st, cols, bold=True)
        if others:
            _breakdown_others(ws, total_row, others, row_values([b.column for b in cols], sums, cols[0].row_key,
                                                                 unit_kind))


def _other_cells(st: _Styles, cols: list[_BCol], bold: bool = False) -> list[tuple[_BCol, dict[str, str], Format]]:
    """The cells of one period that are not summed (rates, sums of columns, formulas, targets), each
    with the column letters of the period's columns and its format."""
    letter = {b.column.key: xl_col_to_name(b.col) for b in cols}
    out = []
    for b in cols:
        if not b.column.kind.summed:
            props = {"border": 1, **b.column.kind.excel_format(), **({"bold": True} if bold else {})}
            out.append((b, letter, st.get(**props)))
    return out


def _put_number(ws: Worksheet, row: int, col: int, fmt: Format, value) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, _number(value), fmt)


def _breakdown_others(ws: Worksheet, row: int, others, values: dict) -> None:
    """A breakdown row's derived cells (recomputed from that row's numbers: a unit's, or the sums),
    as live formulas, and its targets."""
    for b, letter, fmt in others:
        kind = b.column.kind
        formula = kind.formula(lambda key: f"{letter[key]}{row + 1}")
        if formula is None:
            _put_number(ws, row, b.col, fmt, values.get(b.column.key))
        else:
            ws.write_formula(row, b.col, formula, fmt, _carried(values.get(b.column.key)))

def _breakdown_print(ws: Worksheet, groups, widths: list[float], top: int, number_row: int,
                     total_row: int, width: int) -> None:
    """Landscape A4; unit names and headers repeated; wide sheets break between periods."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.7)
    ws.set_footer(f'&C&"{FONT},Regular"&9Trang &P/&N')
    ws.repeat_rows(top, number_row)
    ws.print_area(0, 0, total_row, max(width - 1, 1))
    ws.hide_gridlines(2)
    fixed = _px(widths[0]) + _px(widths[1])
    if fixed + sum(_px(w) for w in widths[2:]) <= PAGE_PIXELS * 100 / MIN_PRINT_SCALE:
        ws.fit_to_pages(1, 0)  # narrow enough to print one page wide, legibly
        return
    # Otherwise as many whole periods per page as fit at a legible scale, unit names repeated.
    ws.repeat_columns(0, 1)
    period_px = [sum(_px(widths[b.col]) for b in cols) for _, _, cols in groups]
    widest = max(period_px)
    per_page = max(1, int((PAGE_PIXELS * 100 / MIN_PRINT_SCALE - fixed) // widest))
    scale = max(MIN_PRINT_SCALE // 2, min(100, int(PAGE_PIXELS * 100 / (fixed + per_page * widest))))
    room = PAGE_PIXELS * 100 / scale - fixed
    breaks, used = [], 0
    for (_, _, cols), px in zip(groups, period_px):
        if used and used + px > room:
            breaks.append(cols[0].col)
            used = 0
        used += px
    ws.set_print_scale(scale)
    ws.set_v_pagebreaks(breaks)
