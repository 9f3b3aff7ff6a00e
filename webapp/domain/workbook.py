"""Excel workbooks drawn from the layout: a unit's template and the assembled appendix.

Every table sheet is drawn cell by cell from ``layout.build_layout``, so a template cell and the
assembled cell sit at the same address, and ``importer.read_template`` reads a template back through
the same layout. Text is always written with ``write_string`` (a note starting with "=" stays text),
numbers as numeric cells, dates as real dates, derived cells as formulas carrying their value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import itertools
import math
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell, xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import (CellBlankTuple, CellDatetimeTuple, CellFormulaTuple, CellNumberTuple,
                                  CellStringTuple, Worksheet)

from .layout import CONTEXT_ROW, FIRST_TABLE_ROW, LIST_MIN_ROWS, TITLE_ROW, Cell, HeaderCell, Layout, LayoutRow, build_layout
from .outline import Column, Outline, Table
from .parts import Part
from .values import NO, YES, derive, percent, unit_numbers

FONT = "Times New Roman"
META_SHEET = "_meta"
COVER_SHEET = "Bìa"
BREAKDOWN_SUFFIX = " theo ĐV"
# Identity keys of the _meta sheet and the custom document properties.
CAMPAIGN, UNIT, UNIT_NAME, OUTLINE, OUTLINE_DIGEST, KIND = (
    "campaign", "unit", "unit_name", "outline", "outline_digest", "kind")
TEMPLATE_KIND, APPENDIX_KIND = "template", "appendix"
INLINE_LIST_LIMIT = 255  # Excel refuses longer inline validation lists
MIN_DATE, MAX_DATE = dt.date(1930, 1, 1), dt.date(2100, 12, 31)  # as values.parse_date
COUNT_FORMAT, PERCENT_FORMAT, DATE_FORMAT = "#,##0", "0.00", "dd/mm/yyyy"
INPUT_FILL = "#FFF7D6"  # the unit's own input cells: visibly "fill me"
OTHER_FILL = "#EFEFEF"  # cells of other units: visibly "not yours"
LINE_HEIGHT = 14.0  # points per line of 11 pt Times New Roman, with a little room
PAGE_PIXELS = 1000  # printable width of A4 landscape at 100 % (narrow margins), in screen pixels
MIN_PRINT_SCALE = 70  # below this a printed 11 pt table is hard to read
MIN_TABLE_WIDTH = 90  # characters


# --------------------------------------------------------------------------------------------- styles

class _Styles:
    """The workbook's formats, created once each (an XlsxWriter format belongs to one workbook)."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self._cache: dict[tuple, Format] = {}

    def get(self, **props: Any) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format({"font_name": FONT, "font_size": 11, "valign": "vcenter", **props})
        return self._cache[key]

    def title(self) -> Format:
        return self.get(bold=True, font_size=12, text_wrap=True, valign="top")

    def context(self) -> Format:
        return self.get(bold=True, italic=True, text_wrap=True, valign="top")

    def header(self) -> Format:
        return self.get(bold=True, text_wrap=True, align="center", border=1)

    def numbering(self) -> Format:
        return self.get(italic=True, font_size=10, align="center", border=1, shrink=True)

    def label(self, left: bool = False) -> Format:
        return self.get(border=1, text_wrap=True, **({"align": "left", "indent": 1} if left else {"align": "center"}))

    def body(self, column: Column | None, locked: bool = True, fill: str | None = None,
             as_text: bool = False) -> Format:
        """The format of a body cell of ``column``; ``as_text`` for yes/no shown as Có/Không."""
        ctype = column.type if column else "count"
        key = ("body", ctype, locked, fill, as_text)  # asked for every cell: remembered by its inputs
        if key not in self._cache:
            props: dict[str, Any] = {"border": 1}
            if ctype == "percent":
                props.update(num_format=PERCENT_FORMAT, align="center")
            elif ctype == "date":
                props.update(num_format=DATE_FORMAT, align="center")
            elif ctype in ("text", "choice"):
                props.update(text_wrap=True, align="left", indent=1)
            elif ctype == "yesno" and as_text:
                props.update(align="center")
            else:  # count, unit_count, serial, yes/no counted
                props.update(num_format=COUNT_FORMAT, align="center")
            if not locked:
                props["locked"] = False
            if fill:
                props.update(bg_color=fill, pattern=1)
            self._cache[key] = self.get(**props)
        return self._cache[key]


_FUNCTION_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")
PLAIN_FUNCTIONS = frozenset({"IF", "OR", "AND", "ROUND", "SUM", "COUNT"})  # the functions we write


class _Worksheet(Worksheet):
    """A worksheet that stores formulas calling only long-standing Excel functions as they are.

    XlsxWriter runs a large regular expression (dynamic array functions) and some thirty more (to
    prefix newer functions with ``_xlfn.``) over every formula; with a formula in every rate cell of
    every unit's breakdown row, that was the bulk of the export. None of them can match a formula
    that calls only PLAIN_FUNCTIONS; any other formula goes through XlsxWriter unchanged.
    """

    def _write_formula(self, row, col, formula, cell_format=None, value=0):
        if self.constant_memory or not formula.startswith("=") or not _is_plain(formula.translate(_NO_DIGITS)):
            return super()._write_formula(row, col, formula, cell_format, value)
        if self._check_dimensions(row, col):
            return -1
        self.table[row][col] = CellFormulaTuple(formula[1:], cell_format, value)
        return 0

    def _write_cell(self, row, col, cell):
        """Write one cell's XML when the sheet is saved: the innermost loop of the export.

        For the cells this app writes (a cell with its own format holding a number, a date, a shared
        string, a blank, or a formula carrying a number or nothing) this writes exactly what
        XlsxWriter writes, without passing the address and the format index through its escaping
        (a regular expression, and an exception for the integer index) on every cell: neither can
        hold a character to escape. Any other cell goes through XlsxWriter."""
        fmt, kind = cell.format, cell.__class__
        if fmt is None or self.constant_memory:
            return super()._write_cell(row, col, cell)
        head = f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}"'
        if kind is CellNumberTuple or kind is CellDatetimeTuple:
            self.fh.write(f"{head}><v>{cell.number:.16G}</v></c>")
        elif kind is CellBlankTuple:
            self.fh.write(head + "/>")
        elif kind is CellStringTuple:
            self.fh.write(f'{head} t="s"><v>{cell.string}</v></c>')
        elif kind is CellFormulaTuple and (cell.value == "" or type(cell.value) in (int, float)):
            self.fh.write(f"{head}><f>{self._escape_data(cell.formula)}</f><v>{cell.value}</v></c>")
        else:
            super()._write_cell(row, col, cell)


_NO_DIGITS = str.maketrans("", "", "0123456789")


@functools.lru_cache(maxsize=1024)
def _is_plain(shape: str) -> bool:
    """Whether a formula, with its row numbers taken out, calls only PLAIN_FUNCTIONS (the same
    shape repeats on every row, so the check runs once per shape)."""
    return set(_FUNCTION_CALL.findall(shape)) <= PLAIN_FUNCTIONS


@contextlib.contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector while a workbook is built.

    XlsxWriter keeps every cell as a small tuple until the file is closed: a province's appendix is
    some 200,000 live objects, which the collector would scan again and again, finding nothing to
    free (about a tenth of the export's time). Reference counting still frees everything; the
    collector runs again afterwards (unless it was already off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Workbook(xlsxwriter.Workbook):
    worksheet_class = _Worksheet  # XlsxWriter's hook for its worksheet subclasses


def _open(target: str | os.PathLike | IO[bytes]) -> xlsxwriter.Workbook:
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    return _Workbook(target, {
        "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
        "remove_timezone": True, "in_memory": True,  # no temporary file per sheet
        "default_format_properties": {"font_name": FONT, "font_size": 11},
    })


# ----------------------------------------------------------------------------------------- low level

def _put(ws: Worksheet, row: int, col: int, colspan: int, fmt: Format, value: Any = None,
         formula: str | None = None) -> None:
    """Write one value of the right type, merging ``colspan`` columns first when it spans several."""
    if colspan > 1:
        ws.merge_range(row, col, row, col + colspan - 1, "", fmt)
    if formula is not None:
        ws.write_formula(row, col, formula, fmt, _carried(value))
    elif value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)  # never a formula, whatever it starts with
    elif isinstance(value, (dt.date, dt.datetime)):
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _carried(value: int | Decimal | None) -> int | float | str:
    """A formula's cached result: a number, or "" (blank) when undefined."""
    if value is None:
        return ""
    return float(value) if isinstance(value, Decimal) else value


def _merged_text(ws: Worksheet, row: int, first_col: int, last_col: int, text: str, fmt: Format) -> None:
    if last_col > first_col:
        ws.merge_range(row, first_col, row, last_col, "", fmt)
    ws.write_string(row, first_col, text, fmt)


def _lines(text: str, width_chars: float, bold: bool = False) -> int:
    """How many lines ``text`` wraps to in a cell ``width_chars`` wide (an estimate for row heights)."""
    # Times New Roman is narrower than the digit "0" that column widths count in; bold is wider.
    per_line = max(width_chars - 1.5, 1) * (0.95 if bold else 1.12)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def _height(lines: int) -> float:
    return lines * LINE_HEIGHT + 3


def _px(width_chars: float) -> int:
    return int(width_chars * 7 + 5)


def _iso_date(text: str | None) -> dt.date | str | None:
    """A stored ISO date as a real date (a date that does not parse stays text, never lost)."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text


def percent_formula(of_ref: str, over_ref: str, of_yesno: bool = False, over_yesno: bool = False) -> str:
    """The Excel formula of a rate: blank when an operand is blank or the denominator is 0.

    ROUND(…, 2) makes the formula's result equal the carried value (values.percent rounds half away
    from zero, as ROUND does). In a template a yes/no operand holds the text Có/Không, so it is
    turned into 1/0 inside the formula.
    """
    num = f'IF({of_ref}="{YES}",1,0)' if of_yesno else of_ref
    den = f'IF({over_ref}="{YES}",1,0)' if over_yesno else over_ref
    return f'=IF(OR({of_ref}="",{over_ref}="",{den}=0),"",ROUND({num}/{den}*100,2))'


def _row_percent_formula(table: Table, lrow: LayoutRow, column: Column, yesno_as_text: bool) -> str:
    of, over = table.column(column.of), table.column(column.over)
    return percent_formula(lrow.cell(of.key).address, lrow.cell(over.key).address,
                           yesno_as_text and of.type == "yesno", yesno_as_text and over.type == "yesno")


# ----------------------------------------------------------------------------------- the table frame

def _column_widths(layout: Layout) -> list[float]:
    """A width per sheet column, from the types of the cells that sit alone in it."""
    table = layout.table
    widths: list[float] = [0.0] * max(layout.width, 1)
    for cell in layout.cells:
        if cell.colspan == 1:
            widths[cell.col] = max(widths[cell.col], _preferred_width(cell.column, table.is_list))
    if layout.label_col:
        labels = [r.label for b in table.blocks if b.rows != "periods" for r in b.row_specs([])]
        widths[0] = max([11.0] + [min(len(t) + 2, 52) for t in labels])
    widths = [w or 12.0 for w in widths]
    # A narrow table is widened (up to twice) so that its title and headers do not wrap into towers.
    fixed = widths[0] if layout.label_col else 0.0
    rest = sum(widths) - fixed
    if rest and sum(widths) < MIN_TABLE_WIDTH:
        factor = min(2.0, (MIN_TABLE_WIDTH - fixed) / rest)
        widths = [w if (i == 0 and layout.label_col) else round(w * factor, 1) for i, w in enumerate(widths)]
    return widths


def _preferred_width(column: Column, in_list: bool) -> float:
    if column.type == "serial":
        return 5
    if column.type == "percent":
        return 9
    if column.type == "date":
        return 12
    if column.type == "choice":
        return max(12, min(18, max(len(c) for c in column.choices) + 2))
    if column.type == "text":
        if not in_list:
            return 22
        return 46 if column.max_length >= 300 else 26 if column.max_length >= 150 else 18
    return 12


def _span_width(widths: list[float], col: int, colspan: int) -> float:
    return sum(widths[col:col + colspan])


def _draw_frame(ws: Worksheet, st: _Styles, layout: Layout, widths: list[float]) -> dict[int, float]:
    """Title, headings, headers, column numbers and period labels; returns the header row heights."""
    table = layout.table
    last_col = len(widths) - 1
    total = sum(widths)
    _merged_text(ws, TITLE_ROW, 0, last_col, table.title, st.title())
    ws.set_row(TITLE_ROW, _height(_lines(table.title, total, bold=True)) + 2)
    if table.headings:
        text = "\n".join(table.headings)
        _merged_text(ws, CONTEXT_ROW, 0, last_col, text, st.context())
        ws.set_row(CONTEXT_ROW, _height(_lines(text, total, bold=True)))
    heights: dict[int, float] = {}
    for block in layout.blocks:
        for h in block.header:
            _header_cell(ws, h, st.header())
        for h in block.numbers:
            _header_cell(ws, h, st.numbering())
        heights.update(_header_heights(block.header, widths))
        if layout.label_col:
            left = table.blocks[block.index].rows != "periods"  # "+ Tổng số …:" lines read as text
            for lrow in block.rows:
                ws.write_string(lrow.row, 0, lrow.label, st.label(left=left))
                if left:
                    ws.set_row(lrow.row, _height(_lines(lrow.label, widths[0])))
    for row, height in heights.items():
        ws.set_row(row, height)
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    return heights


def _header_cell(ws: Worksheet, h: HeaderCell, fmt: Format) -> None:
    if h.rowspan > 1 or h.colspan > 1:
        ws.merge_range(h.row, h.col, h.last_row, h.last_col, "", fmt)
    ws.write_string(h.row, h.col, h.text, fmt)


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


def _print_setup(ws: Worksheet, layout: Layout, last_row: int) -> None:
    """A4 landscape, one page wide, header rows repeated, centred: like the printed form."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
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
        ws.freeze_panes(first.rows[0].row, 1 if layout.label_col else 0)


def _protect(ws: Worksheet) -> None:
    # No password: protection guards against slips, and a clerk may still widen columns or rows.
    ws.protect("", {"format_columns": True, "format_rows": True})


# ------------------------------------------------------------------------------------------- _meta

class _Meta:
    """The very hidden sheet naming the workbook (identity) and holding long choice lists."""

    def __init__(self, identity: dict[str, str]):
        self.identity = {k: str(v) for k, v in identity.items() if v is not None}
        self.lists: list[tuple[str, ...]] = []

    def list_source(self, choices: tuple[str, ...]) -> str | list[str]:
        """A validation list source: inline when Excel allows it, else a range of this sheet."""
        if len(",".join(choices)) <= INLINE_LIST_LIMIT and not any("," in c for c in choices):
            return list(choices)
        if choices not in self.lists:
            self.lists.append(choices)
        col = xl_col_to_name(3 + self.lists.index(choices))
        return f"='{META_SHEET}'!${col}$1:${col}${len(choices)}"

    def write(self, wb: xlsxwriter.Workbook) -> None:
        ws = wb.add_worksheet(META_SHEET)
        for i, (key, value) in enumerate(self.identity.items()):
            ws.write_string(i, 0, key)
            ws.write_string(i, 1, value)
        for j, choices in enumerate(self.lists):
            for i, choice in enumerate(choices):
                ws.write_string(i, 3 + j, choice)
        ws.very_hidden()
        _protect(ws)
        for key, value in self.identity.items():
            wb.set_custom_property(key, value, "text")


# ---------------------------------------------------------------------------------------- template

def write_template(target: str | os.PathLike | IO[bytes], outline: Outline, years: list[int], part: Part,
                   owned: dict[str, set[str]], identity: dict[str, str]) -> None:
    """Write a unit's Excel template holding its current values (``part``).

    ``owned``: table code → the column groups the unit fills (``b0g1`` …, ``rows`` for a list).
    A list's rows carry their identity (``part.list_ids``) in a hidden column beside the table.
    ``identity``: written to the very hidden ``_meta`` sheet and the custom document properties;
    keys ``campaign`` (code), ``unit`` (code), ``unit_name``, ``outline`` (ident, ``kl49@1``),
    ``outline_digest`` and any others; ``kind`` is set to ``template``.
    """
    wb = _open(target)
    st = _Styles(wb)
    meta = _Meta({**identity, KIND: TEMPLATE_KIND})
    wb.set_properties({
        "title": outline.title, "subject": f"Mẫu nhập liệu – {identity.get(UNIT_NAME, identity.get(UNIT, ''))}",
        "author": identity.get(UNIT_NAME, ""), "comments": outline.subtitle,
    })
    for table in outline.tables:
        ws = wb.add_worksheet(table.sheet)
        groups = owned.get(table.code, set())
        if table.is_list:
            rows = part.lists.get(table.code, []) if "rows" in groups else []
            layout = build_layout(table, years, list_rows=max(LIST_MIN_ROWS, len(rows) + LIST_MIN_ROWS))
            widths = _column_widths(layout)
            _draw_frame(ws, st, layout, widths)
            _template_list(ws, st, meta, layout, rows, "rows" in groups, widths)
            if rows:
                _template_list_ids(ws, layout, part.list_ids.get(table.code, []))
        else:
            layout = build_layout(table, years)
            widths = _column_widths(layout)
            _draw_frame(ws, st, layout, widths)
            _template_grid(ws, st, meta, layout, part, groups)
        _print_setup(ws, layout, layout.last_row)
        _freeze(ws, layout)
        _protect(ws)
    meta.write(wb)
    wb.close()


def unit_row_numbers(table: Table, part: Part, groups: set[str], row_key: str) -> dict[str, int | None]:
    """A unit's numbers in one row: its own cells only, with the fixed 1 of the groups it fills."""
    return unit_numbers(table, groups, lambda key: part.number(table.code, row_key, key))


def _template_grid(ws: Worksheet, st: _Styles, meta: _Meta, layout: Layout, part: Part,
                   groups: set[str]) -> None:
    table = layout.table
    for lrow in layout.rows:
        numbers = unit_row_numbers(table, part, groups, lrow.key)
        for cell in lrow.cells:
            c = cell.column
            mine = table.group_key_of(c.key) in groups
            if c.is_derived:  # a formula everywhere; blank ("") where the operands are not the unit's
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c),
                     derive(c, numbers), _row_percent_formula(table, lrow, c, yesno_as_text=True))
            elif c.type == "unit_count":
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c, fill=None if mine else OTHER_FILL),
                     1 if mine else None)
            elif mine and c.is_input:
                value = _template_value(c, part.number(table.code, lrow.key, c.key),
                                        part.text(table.code, lrow.key, c.key))
                _input_cell(ws, st, meta, cell, value)
            else:
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c, fill=OTHER_FILL, as_text=True))


def _template_list(ws: Worksheet, st: _Styles, meta: _Meta, layout: Layout, rows: list[dict[str, str]],
                   editable: bool, widths: list[float]) -> None:
    for i, lrow in enumerate(layout.rows):
        data = rows[i] if i < len(rows) else {}
        height = 1
        for cell in lrow.cells:
            c = cell.column
            if c.type == "serial":  # TT: numbered by the app, locked
                _put(ws, cell.row, cell.col, 1, st.body(c), i + 1)
            elif editable and c.is_input:
                value = _template_value(c, None, data.get(c.key))
                _input_cell(ws, st, meta, cell, value)
                if isinstance(value, str):
                    height = max(height, _lines(value, widths[cell.col]))
            else:
                _put(ws, cell.row, cell.col, 1, st.body(c, fill=OTHER_FILL, as_text=True))
        if height > 1:
            ws.set_row(lrow.row, _height(height))


def list_id_column(layout: Layout) -> int:
    """The 0-based column of a list sheet holding each row's identity: just right of the table,
    outside the print area, hidden."""
    return layout.width


def _template_list_ids(ws: Worksheet, layout: Layout, ids: list[int | None]) -> None:
    """Each stored row's id in the hidden, locked column beside it. Hidden and outside the print
    area, it neither shows nor prints; locked on a protected sheet, it cannot be typed over; beside
    the row, it moves with it when a clerk who unprotects the sheet sorts or moves rows. A row
    typed into a blank line has none: a new document."""
    col = list_id_column(layout)
    ws.set_column(col, col, None, None, {"hidden": True})
    for lrow, row_id in zip(layout.rows, ids):
        if row_id is not None:
            ws.write_number(lrow.row, col, row_id)


def _template_value(column: Column, num: int | None, text: str | None) -> Any:
    """A stored value as the template shows it: yes/no as Có/Không, dates as dates."""
    if column.type == "yesno":
        return None if num is None else (YES if num else NO)
    if column.type == "count":
        return num
    if column.type == "date":
        return _iso_date(text)
    return text


def _input_cell(ws: Worksheet, st: _Styles, meta: _Meta, cell: Cell, value: Any) -> None:
    """An unlocked input cell of the unit, pre-filled, with its data validation."""
    c = cell.column
    _put(ws, cell.row, cell.col, cell.colspan, st.body(c, locked=False, fill=INPUT_FILL, as_text=True), value)
    rule = _validation(c, meta)
    if rule:
        ws.data_validation(cell.row, cell.col, cell.row, cell.col + cell.colspan - 1, rule)


def _validation(column: Column, meta: _Meta) -> dict[str, Any] | None:
    """Excel data validation for an input column (the importer checks again: Excel can be bypassed)."""
    rule: dict[str, Any]
    if column.type == "count":
        rule = {"validate": "integer", "criteria": ">=", "value": 0,
                "error_message": "Phải là một số nguyên không âm, ví dụ 125 hoặc 1.250"}
    elif column.type == "yesno":
        rule = {"validate": "list", "source": [YES, NO], "error_message": "Chỉ nhận “Có” hoặc “Không”"}
    elif column.type == "choice":
        rule = {"validate": "list", "source": meta.list_source(column.choices),
                "error_message": _clip("Chọn một trong: " + ", ".join(column.choices), 255)}
    elif column.type == "date":
        rule = {"validate": "date", "criteria": "between", "minimum": MIN_DATE, "maximum": MAX_DATE,
                "error_message": "Ngày không hợp lệ; nhập theo dạng ngày/tháng/năm, ví dụ 03/05/2024"}
    elif column.type == "text":
        rule = {"validate": "length", "criteria": "<=", "value": column.max_length,
                "error_message": f"Dài quá {column.max_length} ký tự"}
    else:
        return None
    rule["error_title"] = "Giá trị không hợp lệ"
    if column.question:
        rule["input_title"] = _clip(column.label, 32)
        rule["input_message"] = _clip(column.question, 255)
    return rule


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ---------------------------------------------------------------------------------------- appendix

def write_appendix(target: str | os.PathLike | IO[bytes], outline: Outline, years: list[int], part: Part,
                   cover: dict[str, Any], breakdowns: list[tuple[str, Part]],
                   fillers: dict[str, set[str]] | None = None) -> None:
    """Write the assembled appendix workbook.

    Sheets: the cover ``Bìa``; every table sheet of the template at the same addresses, holding the
    assembled ``part`` (yes/no as the count of yes, unit counts as the number of units, rates as
    formulas carrying values recomputed from the assembled numbers); one ``<sheet> theo ĐV`` sheet per
    grid table with a row per unit of ``breakdowns`` (unit name, that unit's part) and a total row —
    when ``fillers`` (table code → names of the units that fill it) is given, only those units;
    and the very hidden ``_meta`` sheet. All sheets are locked and protected without a password
    (Review › Unprotect Sheet opens them for a last-minute edit).

    ``cover`` keys (all optional except ``campaign_code``):
      ``campaign_code`` str, ``campaign_name`` str, ``compiler`` str (the compiling unit),
      ``generated_at`` datetime (or str), ``deadline`` date/datetime (or str),
      ``units_total`` int (reporting units), ``units_submitted`` int,
      ``missing_units`` list[str] (units that have not submitted, as shown),
      ``total_label`` str (label of the breakdowns' total row, default "Toàn huyện"),
      ``subtitle`` str (the line under the title: the request the appendix answers; default the
      outline's ``subtitle``).
    """
    wb = _open(target)
    st = _Styles(wb)
    meta = _Meta({CAMPAIGN: cover.get("campaign_code", ""), OUTLINE: outline.ident,
                  OUTLINE_DIGEST: outline.digest, KIND: APPENDIX_KIND})
    wb.set_properties({"title": outline.title, "subject": cover.get("campaign_name", ""),
                       "author": cover.get("compiler", ""), "comments": cover.get("subtitle", outline.subtitle)})
    _write_cover(wb.add_worksheet(COVER_SHEET), st, outline, years, cover)
    for table in outline.tables:
        ws = wb.add_worksheet(table.sheet)
        if table.is_list:
            rows = part.lists.get(table.code, [])
            layout = build_layout(table, years, list_rows=len(rows))
            widths = _column_widths(layout)
            _draw_frame(ws, st, layout, widths)
            _appendix_list(ws, st, layout, rows, widths)
        else:
            layout = build_layout(table, years)
            widths = _column_widths(layout)
            _draw_frame(ws, st, layout, widths)
            _appendix_grid(ws, st, layout, part, widths)
        _print_setup(ws, layout, layout.last_row)
        _protect(ws)
    for table in outline.tables:
        if not table.is_list:
            rows = breakdowns if fillers is None else [b for b in breakdowns if b[0] in fillers.get(table.code, ())]
            _write_breakdown(wb, st, table, years, rows, part, cover.get("total_label") or "Toàn huyện")
    meta.write(wb)
    wb.close()


def _appendix_grid(ws: Worksheet, st: _Styles, layout: Layout, part: Part, widths: list[float]) -> None:
    table = layout.table
    for lrow in layout.rows:
        numbers = part.row_numbers(table.code, lrow.key)
        height = 1
        for cell in lrow.cells:
            c = cell.column
            if c.is_derived:  # recomputed from the assembled numbers, never averaged
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c), derive(c, numbers),
                     _row_percent_formula(table, lrow, c, yesno_as_text=False))
            elif c.is_numeric:
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c), numbers.get(c.key))
            else:
                text = part.text(table.code, lrow.key, c.key)
                value = _iso_date(text) if c.type == "date" else text
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c), value)
                if isinstance(value, str):
                    height = max(height, _lines(value, _span_width(widths, cell.col, cell.colspan)))
        if height > 1:
            ws.set_row(lrow.row, _height(height))


def _appendix_list(ws: Worksheet, st: _Styles, layout: Layout, rows: list[dict[str, str]],
                   widths: list[float]) -> None:
    for i, (lrow, data) in enumerate(zip(layout.rows, rows)):
        height = 1
        for cell in lrow.cells:
            c = cell.column
            if c.type == "serial":
                _put(ws, cell.row, cell.col, 1, st.body(c), i + 1)
                continue
            text = data.get(c.key)
            value = _iso_date(text) if c.type == "date" else text
            _put(ws, cell.row, cell.col, 1, st.body(c), value)
            if isinstance(value, str):
                height = max(height, _lines(value, widths[cell.col]))
        if height > 1:
            ws.set_row(lrow.row, _height(height))


# ------------------------------------------------------------------------------------------- cover

def _write_cover(ws: Worksheet, st: _Styles, outline: Outline, years: list[int], cover: dict[str, Any]) -> None:
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 70)
    big = st.get(bold=True, font_size=14, align="center", text_wrap=True)
    _merged_text(ws, 0, 0, 1, outline.title, big)
    ws.set_row(0, _height(2) + 6)
    subtitle = cover.get("subtitle", outline.subtitle)
    if subtitle:
        _merged_text(ws, 1, 0, 1, subtitle, st.get(italic=True, align="center", text_wrap=True))
    key_fmt = st.get(bold=True, border=1, text_wrap=True)
    val_fmt = st.get(border=1, text_wrap=True, align="left")
    row = 3
    period = f"Năm {years[0]} – Năm {years[-1]}" if years else ""
    info = [
        ("Đợt báo cáo", cover.get("campaign_name")),
        ("Mã đợt báo cáo", cover.get("campaign_code")),
        ("Đơn vị tổng hợp", cover.get("compiler")),
        ("Thời kỳ báo cáo", period),
        ("Hạn nộp của các đơn vị", cover.get("deadline")),
        ("Thời điểm xuất sổ tính", cover.get("generated_at")),
        ("Đề cương", f"{outline.code} phiên bản {outline.version}"),
    ]
    for label, value in info:
        if value in (None, ""):
            continue
        ws.write_string(row, 0, label, key_fmt)
        fmt = val_fmt
        if isinstance(value, dt.datetime):
            fmt = st.get(border=1, align="left", num_format="dd/mm/yyyy hh:mm")
        elif isinstance(value, dt.date):
            fmt = st.get(border=1, align="left", num_format=DATE_FORMAT)
        _put(ws, row, 1, 1, fmt, value if isinstance(value, (dt.date, str)) else str(value))
        row += 1

    row += 1
    ws.write_string(row, 0, "TÌNH HÌNH NỘP BÁO CÁO", st.get(bold=True))
    row += 1
    total, done = cover.get("units_total"), cover.get("units_submitted")
    num_fmt = st.get(border=1, align="left", num_format=COUNT_FORMAT)
    ws.write_string(row, 0, "Số đơn vị phải báo cáo", key_fmt)
    _put(ws, row, 1, 1, num_fmt, total)
    ws.write_string(row + 1, 0, "Số đơn vị đã nộp", key_fmt)
    _put(ws, row + 1, 1, 1, num_fmt, done)
    ws.write_string(row + 2, 0, "Tỷ lệ đã nộp (%)", key_fmt)
    _put(ws, row + 2, 1, 1, st.get(border=1, align="left", num_format=PERCENT_FORMAT), percent(done, total),
         percent_formula(xl_rowcol_to_cell(row + 1, 1), xl_rowcol_to_cell(row, 1)))
    row += 4
    missing = list(cover.get("missing_units") or [])
    ws.write_string(row, 0, f"Đơn vị chưa nộp ({len(missing)})", st.get(bold=True))
    row += 1
    for i, name in enumerate(missing, 1):
        ws.write_string(row, 1, f"{i}. {name}", st.get(text_wrap=True))
        row += 1
    if not missing:
        ws.write_string(row, 1, "(Tất cả các đơn vị đã nộp)", st.get(italic=True))
        row += 1

    row += 1
    ws.write_string(row, 0, "CÁC BIỂU TRONG SỔ TÍNH", st.get(bold=True))
    row += 1
    link = st.get(font_color="blue", underline=1, border=1)
    for table in outline.tables:
        ws.write_url(row, 0, f"internal:'{table.sheet}'!A1", link, table.sheet)
        ws.write_string(row, 1, table.title, val_fmt)
        ws.set_row(row, _height(_lines(table.title, 70)))
        row += 1
    ws.set_paper(9)
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.hide_gridlines(2)
    _protect(ws)


# ------------------------------------------------------------------------------------- breakdowns

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


def _breakdown_columns(table: Table, years: list[int]) -> tuple[list[tuple[str, str, list[_BCol]]], int]:
    """The period groups (row key, label, columns) of a breakdown, and the number of columns used."""
    periods: dict[str, tuple[str, list[Column]]] = {}
    for block in table.blocks:
        for spec in block.row_specs(years):
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


def _write_breakdown(wb: xlsxwriter.Workbook, st: _Styles, table: Table, years: list[int],
                     breakdowns: list[tuple[str, Part]], total: Part, total_label: str) -> None:
    """One row per unit and a total row, like the per-commune tables of the district reports."""
    ws = wb.add_worksheet(breakdown_sheet_name(table))
    groups, width = _breakdown_columns(table, years)
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
    rate_fmt = st.get(border=1, align="center", num_format=PERCENT_FORMAT)
    periods = [([((table.code, b.row_key, b.column.key), b.column.key, b.col, st.body(b.column))
                 for b in cols if not b.column.is_derived], _rate_cells(cols))
               for _, _, cols in groups]
    write_number, write_blank = ws.write_number, ws.write_blank
    for i, (name, upart) in enumerate(breakdowns):
        row = first + i
        write_number(row, 0, i + 1, serial_fmt)
        ws.write_string(row, 1, name, name_fmt)
        stored = upart.numbers
        for plain, rates in periods:
            # the innermost loop of a province's export (units × periods × columns): no _put dispatch
            numbers = {}
            for stored_key, key, col, fmt in plain:
                value = numbers[key] = stored.get(stored_key)
                if value is None:
                    write_blank(row, col, None, fmt)
                else:
                    write_number(row, col, value, fmt)
            _breakdown_rates(ws, rate_fmt, row, rates, numbers)
    total_row = first + len(breakdowns)
    _breakdown_total(ws, st, table, groups, total if breakdowns else Part(), first, total_row, total_label)
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
                cells.extend(HeaderCell(b.column.label, top + 2, b.col) for b in run)
            else:
                cells.extend(HeaderCell(b.column.label, top + 1, b.col, rowspan=depth - 1) for b in run)
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
            text = str(b.number)
            if b.column.type == "percent":
                text = f"{b.number}={local.get(b.column.of)}/{local.get(b.column.over)}*100"
            ws.write_string(number_row, b.col, text, st.numbering())
    return number_row


def _breakdown_total(ws: Worksheet, st: _Styles, table: Table, groups, total: Part,
                     first: int, total_row: int, total_label: str) -> None:
    """The "Toàn huyện" row: SUM formulas carrying the assembled numbers (the sums of the rows above:
    the rows are the parts of the units that fill the table), rates recomputed from them."""
    bold = st.get(bold=True, border=1, align="center", num_format=COUNT_FORMAT)
    ws.merge_range(total_row, 0, total_row, 1, "", bold)
    ws.write_string(total_row, 0, total_label, bold)
    for _, _, cols in groups:
        sums = {b.column.key: total.number(table.code, b.row_key, b.column.key)
                for b in cols if not b.column.is_derived}
        for b in cols:
            if b.column.is_derived:
                continue
            if total_row > first:  # blank, not 0, when no unit has a number there
                rng = f"{xl_rowcol_to_cell(first, b.col)}:{xl_rowcol_to_cell(total_row - 1, b.col)}"
                ws.write_formula(total_row, b.col, f'=IF(COUNT({rng})=0,"",SUM({rng}))', bold,
                                 _carried(sums[b.column.key]))
            else:
                ws.write_blank(total_row, b.col, None, bold)
        _breakdown_rates(ws, st.get(bold=True, border=1, align="center", num_format=PERCENT_FORMAT),
                         total_row, _rate_cells(cols), sums)


def _rate_cells(cols: list[_BCol]) -> list[tuple[_BCol, str, str]]:
    """The rate columns of one period, with the column letters of their numerator and denominator."""
    letter = {b.column.key: xl_col_to_name(b.col) for b in cols}
    return [(b, letter[b.column.of], letter[b.column.over]) for b in cols if b.column.is_derived]


def _breakdown_rates(ws: Worksheet, fmt: Format, row: int, rates: list[tuple[_BCol, str, str]],
                     numbers: dict) -> None:
    """Rates of one breakdown row, recomputed from that row's numbers (a unit's, or the sums)."""
    for b, of_letter, over_letter in rates:
        formula = percent_formula(f"{of_letter}{row + 1}", f"{over_letter}{row + 1}")
        ws.write_formula(row, b.col, formula, fmt, _carried(derive(b.column, numbers)))


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
