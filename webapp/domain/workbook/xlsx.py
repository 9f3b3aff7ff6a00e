"""XlsxWriter plumbing: the workbook and worksheet classes, writing one value, and the rate formula."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import os
import re
import shutil
import tempfile
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import _utf16_len, xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import (CellBlankTuple, CellDatetimeTuple, CellFormulaTuple, CellNumberTuple,
                                  CellStringTuple, Worksheet)

from ..layout import Cell, Layout, LayoutRow
from ..outline import Column, Table
from ..columns import percent_formula  # noqa: F401 (the rate formula: cover, breakdown)
from .styles import FONT

_FUNCTION_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")
HEADER_LIMIT = 255  # characters of a page header or footer (Excel's limit)
PLAIN_FUNCTIONS = frozenset({"IF", "OR", "AND", "ROUND", "SUM", "COUNT", "IFERROR"})  # the functions we write


class _Worksheet(Worksheet):
    """A worksheet with a first page header of its own, that stores formulas calling only
    long-standing Excel functions as they are.

    The first page's header (``set_first_header``; XlsxWriter writes only the odd pages' one) is
    Excel's "different first page" (``differentFirst``), which LibreOffice prints too: an official
    document's head is printed once, above the first page.

    XlsxWriter runs a large regular expression (dynamic array functions) and some thirty more (to
    prefix newer functions with ``_xlfn.``) over every formula; with a formula in every rate cell of
    every unit's breakdown row, that was the bulk of the export. None of them can match a formula
    that calls only PLAIN_FUNCTIONS; any other formula goes through XlsxWriter unchanged.
    """

    first_header = ""
    _written_rows = 0  # rows above this one are written out already (flush_rows)
    _rows_file: IO[str] | None = None  # their XML, until the sheet is saved

    def flush_rows(self, before: int) -> None:
        """Write out the rows above ``before`` now and forget their cells: a sheet with a row per unit
        of a province then holds a few rows in memory, not every one (XlsxWriter's constant_memory
        mode, but per sheet and without its conditions: the writer says when the rows above are
        done, cells may be written in any order until then, and the file is the same byte for byte).

        Only whole blocks of 16 rows are written (the ``spans`` of a row element are per 16 rows);
        nothing may be written above ``before`` afterwards."""
        end = before - before % 16
        if self.dim_rowmin is None or end <= self._written_rows:
            return
        if self._rows_file is None:
            self._rows_file = tempfile.TemporaryFile("w+", encoding="utf-8")
        fh, first, last = self.fh, self.dim_rowmin, self.dim_rowmax
        self.fh, self.dim_rowmin, self.dim_rowmax = self._rows_file, max(first, self._written_rows), end - 1
        try:
            if self.dim_rowmin <= self.dim_rowmax:
                super()._write_rows()
        finally:
            self.fh, self.dim_rowmin, self.dim_rowmax = fh, first, last
        for row in range(self._written_rows, end):
            self.table.pop(row, None)
            self.row_info.pop(row, None)
        self._written_rows = end

    def _write_rows(self) -> None:
        """The rows flushed earlier (flush_rows), then the others."""
        if self._rows_file is None:
            return super()._write_rows()
        self._rows_file.seek(0)
        shutil.copyfileobj(self._rows_file, self.fh)
        self._rows_file.close()
        self._rows_file = None
        first = self.dim_rowmin
        self.dim_rowmin = max(first, self._written_rows)
        try:
            if self.dim_rowmin <= self.dim_rowmax:
                super()._write_rows()
        finally:
            self.dim_rowmin = first

    def set_first_header(self, header: str) -> None:
        """The first page's header (the odd pages keep ``set_header``'s; the footer is the same)."""
        if _utf16_len(header) > HEADER_LIMIT:
            raise ValueError(f"a page header holds at most {HEADER_LIMIT} characters")
        self.first_header = header
        self.header_footer_changed = True

    def _write_header_footer(self) -> None:
        if not self.first_header:
            return super()._write_header_footer()
        self._xml_start_tag("headerFooter", [("differentFirst", 1)])
        if self.header:
            self._write_odd_header()
        if self.footer:
            self._write_odd_footer()
        self._xml_data_element("firstHeader", self.first_header)
        if self.footer:
            self._xml_data_element("firstFooter", self.footer)
        self._xml_end_tag("headerFooter")

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


def _open(target: str | os.PathLike | IO[bytes], streamed: bool = False) -> xlsxwriter.Workbook:
    """A workbook; ``streamed``: one that may be large (a province's appendix), whose sheets are
    written to temporary files when it is saved rather than all held in memory as text, and whose
    writer may flush rows (_Worksheet.flush_rows). A small one is written in memory (faster)."""
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    return _Workbook(target, {
        "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
        "remove_timezone": True, "in_memory": not streamed,
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


def _number(value: int | Decimal | None) -> int | float | None:
    """A value as a numeric cell holds it (a decimal as a float: Excel has no other number)."""
    return float(value) if isinstance(value, Decimal) else value


def _carried(value: int | Decimal | None) -> int | float | str:
    """A formula's cached result: a number, or "" (blank) when undefined."""
    if value is None:
        return ""
    return float(value) if isinstance(value, Decimal) else value


def _merged_text(ws: Worksheet, row: int, first_col: int, last_col: int, text: str, fmt: Format) -> None:
    if last_col > first_col:
        ws.merge_range(row, first_col, row, last_col, "", fmt)
    ws.write_string(row, first_col, text, fmt)


def _summed_rows(layout: Layout, lrow: LayoutRow) -> list[LayoutRow]:
    """The unit rows a total row sums: the other rows of its block."""
    return [r for r in layout.blocks[lrow.block].rows if not r.total]


def _total_formula(layout: Layout, lrow: LayoutRow, cell: Cell) -> str | None:
    """=SUM of the unit rows above a total row's cell, in its column (None: no unit row to sum)."""
    rows = _summed_rows(layout, lrow)
    if not rows:
        return None
    return f"=SUM({xl_rowcol_to_cell_fast(rows[0].row, cell.col)}:{xl_rowcol_to_cell_fast(rows[-1].row, cell.col)})"


def _total_numbers(layout: Layout, lrow: LayoutRow, numbers_of) -> dict[str, int | None]:
    """A total row's numbers: the sum of ``numbers_of(row key)`` over the unit rows (None where all are
    blank, as SUM's cached value shows blank then)."""
    out: dict[str, int | None] = {}
    for r in _summed_rows(layout, lrow):
        for key, value in numbers_of(r.key).items():
            if value is not None:
                out[key] = (out.get(key) or 0) + value
            else:
                out.setdefault(key, None)
    return out


def row_formula(table: Table, lrow: LayoutRow, column: Column, yesno_as_text: bool) -> str | None:
    """The live formula of a derived cell over the cells of its row (in a template a yes/no operand
    holds Có/Không: ``yesno_as_text``)."""
    return column.kind.formula(lambda key: lrow.cell(key).address,
                               lambda key: yesno_as_text and table.column(key).kind.written_as_text)
