"""One table of an outline as a grid of positioned cells.

The HTML table, the unit's Excel template and the assembled workbook are all drawn from this
layout, so a cell sits at the same address everywhere and a corrected header reaches every output.
The breakdown of a table by unit (its page and its sheet of the appendix) is laid out once too, by
``build_breakdown``.
Rows and columns are 0-based sheet positions; row 0 holds the title (cell A1).
"""

from __future__ import annotations

import functools

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from xlsxwriter.utility import xl_rowcol_to_cell

from .outline import CORNER_LABELS, NAMED_ROWS_CORNER, PERIODS, Block, Column, Frame, Group, Table
from .parts import Part

if TYPE_CHECKING:  # ownership reads layouts: imported for the annotation only
    from .ownership import Ownership

TITLE_ROW = 0
CONTEXT_ROW = 1  # the section headings above the table ("II. …", "1. …")
FIRST_TABLE_ROW = 3
LIST_MIN_ROWS = 20
ROW_HEADER_LABEL = CORNER_LABELS[PERIODS]  # over the period labels ("Năm 2019" …), unless the block names its corner
NAMED_ROWS_HEADER_LABEL = NAMED_ROWS_CORNER  # over the labels of a block's own rows ("Phòng học kiên cố" …)


@dataclass(frozen=True)
class HeaderCell:
    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    inferred: bool = False
    column: Column | None = None  # set on the header of one column

    @property
    def last_row(self) -> int:
        return self.row + self.rowspan - 1

    @property
    def last_col(self) -> int:
        return self.col + self.colspan - 1


@dataclass(frozen=True)
class Cell:
    """A body cell: the value of ``column`` in the row ``row_key``."""

    row: int
    col: int
    colspan: int
    column: Column
    row_key: str
    total: bool = False  # in the total row of a block whose rows are the units: the sum of the rows above

    @property
    def address(self) -> str:
        return xl_rowcol_to_cell(self.row, self.col)

    @property
    def kind(self) -> str:
        if self.total:
            return "total"
        return self.column.kind.role


@dataclass
class LayoutRow:
    key: str
    label: str  # row header ("Năm 2019"); for list rows the TT number
    row: int
    block: int
    cells: list[Cell] = field(default_factory=list)
    label_col: int = 0  # the column of ``label`` (1 after a serial-number column)
    serial: str | None = None  # the serial number ("1", "2" …; "" in a total row) when the block has that column
    total: bool = False  # the total row of a block whose rows are the units

    def cell(self, column_key: str) -> Cell:
        for c in self.cells:
            if c.column.key == column_key:
                return c
        raise KeyError(column_key)


@dataclass
class BlockLayout:
    index: int
    header: list[HeaderCell]
    header_rows: list[int]
    number_row: int | None
    numbers: list[HeaderCell]
    rows: list[LayoutRow]


    def header_lines(self) -> list[list[HeaderCell]]:
        """The header cells row by row, left to right (for an HTML table)."""
        return [sorted((h for h in self.header if h.row == r), key=lambda h: h.col) for r in self.header_rows]


@dataclass
class Layout:
    table: Table
    width: int
    blocks: list[BlockLayout]
    label_col: bool  # grid tables have the row label column A ("Thời gian"); list tables do not

    @property
    def rows(self) -> list[LayoutRow]:
        return [r for b in self.blocks for r in b.rows]

    @property
    def cells(self) -> list[Cell]:
        return [c for r in self.rows for c in r.cells]

    @property
    def last_row(self) -> int:
        return self.rows[-1].row if self.rows else FIRST_TABLE_ROW

    @property
    def label_index(self) -> int:
        """The column of the row labels: 1 when a serial-number column comes first, else 0."""
        return 1 if any(r.label_col for r in self.rows) or any(b.serial for b in self.table.blocks) else 0

    @property
    def header_row_indexes(self) -> list[int]:
        """The rows to repeat on every printed page: the first block's header and number row."""
        b = self.blocks[0]
        return b.header_rows + ([b.number_row] if b.number_row is not None else [])

    def row(self, key: str, block: int | None = None) -> LayoutRow:
        for r in self.rows:
            if r.key == key and (block is None or r.block == block):
                return r
        raise KeyError(key)

    def find_row(self, row_key: str, column_key: str) -> LayoutRow:
        """The row holding the cell (row_key, column_key): a row key repeats across blocks."""
        for r in self.rows:
            if r.key == row_key and any(c.column.key == column_key for c in r.cells):
                return r
        raise KeyError((row_key, column_key))

    def find(self, row_key: str, column_key: str) -> Cell:
        for r in self.rows:
            if r.key == row_key:
                for c in r.cells:
                    if c.column.key == column_key:
                        return c
        raise KeyError((row_key, column_key))


def build_layout(table: Table, frame: Frame | list[int], list_rows: int = LIST_MIN_ROWS) -> Layout:
    """Position every header and body cell of ``table`` for a campaign's ``frame`` (its years and units)."""
    if table.is_list:
        return _list_layout(table, list_rows)
    row = FIRST_TABLE_ROW
    number = 0
    width = 0
    blocks: list[BlockLayout] = []
    for bi, block in enumerate(table.blocks):
        header: list[HeaderCell] = []
        header_rows: list[int] = []
        numbers: list[HeaderCell] = []
        col_of: dict[str, int] = {}
        label_col = 0 if block.serial is None else 1  # a serial-number column comes first
        col = label_col + 1
        for c in block.columns:
            col_of[c.key] = col
            col += c.span
        width = max(width, col)
        number_row = None
        if block.header:
            header = _header_cells(block, row, col_of, label_col)
            depth = max(h.last_row for h in header) - row + 1
            header_rows = list(range(row, row + depth))
            row += depth
            if block.numbers != "none":
                number_row = row
                numbers, number = _number_cells(block, row, col_of, number, label_col)
                row += 1
        body: list[LayoutRow] = []
        for n, spec in enumerate(block.row_specs(frame), start=1):
            serial = None if block.serial is None else ("" if spec.total else str(n))
            lr = LayoutRow(spec.key, spec.label, row, bi, label_col=label_col, serial=serial, total=spec.total)
            for c in block.columns:
                lr.cells.append(Cell(row, col_of[c.key], c.span, c, spec.key, total=spec.total))
            body.append(lr)
            row += 1
        blocks.append(BlockLayout(bi, header, header_rows, number_row, numbers, body))
    return Layout(table, width, blocks, label_col=True)


def _header_cells(block: Block, top: int, col_of: dict[str, int], label_col: int) -> list[HeaderCell]:
    """The header of a block: the serial column's header if any, the corner over the row labels, each
    level of the groups' labels (adjacent groups whose leading levels are equal share one merged
    cell), then each column's own header."""
    depth = max([len(g.levels) for g in block.groups] + [0]) + 1
    cells = [HeaderCell(block.serial, top, 0, rowspan=depth)] if block.serial is not None else []
    cells.append(HeaderCell(block.corner_label, top, label_col, rowspan=depth))
    for level in range(depth - 1):
        run: list[Group] = []
        for g in [*block.groups, None]:
            same = (g is not None and run and len(g.levels) > level
                    and g.levels[:level + 1] == run[0].levels[:level + 1])
            if same:
                run.append(g)
                continue
            if run:
                first = run[0].columns[0].key
                span = sum(c.span for grp in run for c in grp.columns)
                cells.append(HeaderCell(run[0].levels[level], top + level, col_of[first], colspan=span,
                                        inferred=any(grp.inferred for grp in run)))
            run = [g] if g is not None and len(g.levels) > level and g.columns else []
    for g in block.groups:
        sub = top + len(g.levels)
        for c in g.columns:
            cells.append(HeaderCell(c.header, sub, col_of[c.key], rowspan=depth - len(g.levels),
                                    colspan=c.span, inferred=c.inferred, column=c))
    return cells


def _number_cells(block: Block, row: int, col_of: dict[str, int], number: int,
                  label_col: int) -> tuple[list[HeaderCell], int]:
    """The column-number row of a block ("A, 1, 2, 3=1/2*100" or the outline's own texts; "A, B" over
    a serial and a label column), and the last number used (numbering runs on across the blocks)."""
    lead = label_col + 1  # the serial and label columns
    if block.numbers != "auto":
        texts = list(block.numbers)
        cells = [HeaderCell(text, row, i) for i, text in enumerate(texts[:lead])]
        cells += [HeaderCell(text, row, col_of[c.key], colspan=c.span, column=c)
                  for text, c in zip(texts[lead:], block.columns)]
        return cells, number
    cells = [HeaderCell(letter, row, i) for i, letter in enumerate("AB"[:lead])]
    local: dict[str, int] = {}
    for c in block.columns:
        number += 1
        local[c.key] = number
        cells.append(HeaderCell(c.kind.number_text(local, number), row, col_of[c.key], colspan=c.span, column=c))
    return cells, number


def _list_layout(table: Table, list_rows: int) -> Layout:
    row = FIRST_TABLE_ROW
    header = [HeaderCell(c.label, row, i, inferred=c.inferred, column=c) for i, c in enumerate(table.columns)]
    numbers = [HeaderCell(str(i + 1), row + 1, i, column=c) for i, c in enumerate(table.columns)]
    body: list[LayoutRow] = []
    for n in range(list_rows):
        r = row + 2 + n
        lr = LayoutRow(str(n + 1), str(n + 1), r, 0)
        lr.cells = [Cell(r, i, 1, c, str(n + 1)) for i, c in enumerate(table.columns)]
        body.append(lr)
    block = BlockLayout(0, header, [row], row + 1, numbers, body)
    return Layout(table, len(table.columns), [block], label_col=False)


# ------------------------------------------------------------------------------ breakdown by unit

SERIAL_LABEL = "STT"
UNIT_LABEL = "Đơn vị"
BREAKDOWN_FIRST_COL = 2  # after the serial number and the unit's name


@dataclass(frozen=True)
class BreakdownColumn:
    """One column of a breakdown by unit: ``column`` of the table in the period row ``row_key``."""

    col: int
    row_key: str
    column: Column
    number: int  # in the column-number row
    group: str  # the table's column group key: columns of one group share a group header


@dataclass
class BreakdownPeriod:
    """The columns of one period (one row key of the table) in a breakdown by unit."""

    key: str
    label: str
    columns: list[BreakdownColumn]

    @functools.cached_property
    def column_objects(self) -> tuple[Column, ...]:
        """The outline's columns of the period, in order (what a row's values are computed over)."""
        return tuple(b.column for b in self.columns)

    @property
    def stored(self) -> list[BreakdownColumn]:
        """The columns holding a stored number, summed over the units."""
        return [b for b in self.columns if b.column.kind.summed]

    @property
    def derived(self) -> list[BreakdownColumn]:
        """The columns computed from the row's numbers (rates, sums, formulas) or fixed by the outline (targets)."""
        return [b for b in self.columns if not b.column.kind.summed]


@dataclass(frozen=True)
class BreakdownRow:
    """A unit's row (``ownership``: which cells it fills, None when not known) or the total row."""

    row: int
    serial: int | None  # 1, 2, …; None on the total row
    label: str
    ownership: Ownership | None = None

    @property
    def is_total(self) -> bool:
        return self.serial is None


@dataclass
class BreakdownLayout:
    """A table by unit: serial, unit name, then a column group per period; a row per unit, a total row."""

    table: Table
    periods: list[BreakdownPeriod]
    header: list[HeaderCell]
    header_rows: list[int]
    number_row: int
    numbers: list[HeaderCell]
    rows: list[BreakdownRow]
    total: BreakdownRow
    width: int

    @property
    def columns(self) -> list[BreakdownColumn]:
        return [b for p in self.periods for b in p.columns]

    def header_lines(self) -> list[list[HeaderCell]]:
        """The header cells row by row, left to right (for an HTML table)."""
        return [sorted((h for h in self.header if h.row == r), key=lambda h: h.col) for r in self.header_rows]

    def fills(self, row: BreakdownRow, b: BreakdownColumn) -> bool:
        """Whether the row's unit fills that cell (the total row, and a unit of unknown groups, fill all)."""
        return row.ownership is None or row.ownership.fills_column(b.column.key)

    def numbers_of(self, part: Part, period: BreakdownPeriod) -> dict[str, int | None]:
        """A part's stored numbers in one period, by column key (what values.derive takes)."""
        code = self.table.code
        return {b.column.key: part.numbers.get((code, period.key, b.column.key)) for b in period.stored}


def breakdown_periods(table: Table, frame: Frame) -> list[tuple[str, str, list[Column]]]:
    """(row key, label, numeric columns) of each period of a grid table: a row key repeated across
    blocks (table 1.3) gathers the columns of all of them; "+ Tổng số …:" labels lose their marks."""
    periods: dict[str, tuple[str, list[Column]]] = {}
    for block in table.blocks:
        for spec in block.row_specs(frame):
            label = spec.label.strip().lstrip("+").strip().rstrip(":").strip()
            periods.setdefault(spec.key, (label, []))[1].extend(c for c in block.columns if c.is_numeric)
    return [(key, label, columns) for key, (label, columns) in periods.items() if columns]


def build_breakdown(table: Table, frame: Frame, units: list[tuple[str, Ownership | None]],
                    total_label: str, period: str | None = None) -> BreakdownLayout:
    """Position the breakdown by unit of a grid table (not one whose rows are the units: it is its own
    breakdown) for a campaign's ``frame``: ``units`` are (name, the cells it fills, None: all).

    Every period side by side under a period header row (the workbook's sheet), or with ``period``
    only that period's columns and no period row (the page, which picks the period itself)."""
    top = FIRST_TABLE_ROW
    periods: list[BreakdownPeriod] = []
    col, number = BREAKDOWN_FIRST_COL, 0
    for key, label, columns in breakdown_periods(table, frame):
        if period is not None and key != period:
            continue
        cols = []
        for c in columns:
            number += 1
            cols.append(BreakdownColumn(col, key, c, number, table.group_key_of(c.key)))
            col += 1
        periods.append(BreakdownPeriod(key, label, cols))
    period_rows = 1 if period is None else 0
    labelled = any(b.column.group_label for p in periods for b in p.columns)
    depth = period_rows + (2 if labelled else 1)
    header = [HeaderCell(SERIAL_LABEL, top, 0, rowspan=depth), HeaderCell(UNIT_LABEL, top, 1, rowspan=depth)]
    for p in periods:
        if period_rows:
            header.append(HeaderCell(p.label, top, p.columns[0].col, colspan=len(p.columns)))
        row = top + period_rows
        for _, run in itertools.groupby(p.columns, key=lambda b: b.group):
            run = list(run)
            group_label = run[0].column.group_label
            if group_label:  # "Cấp xã" over its columns, as in the table itself
                header.append(HeaderCell(group_label, row, run[0].col, colspan=len(run)))
                header.extend(HeaderCell(b.column.header, row + 1, b.col, column=b.column) for b in run)
            else:
                header.extend(HeaderCell(b.column.header, row, b.col, rowspan=depth - period_rows, column=b.column)
                              for b in run)
    number_row = top + depth
    numbers = [HeaderCell("A", number_row, 0), HeaderCell("B", number_row, 1)]
    for p in periods:
        local = {b.column.key: b.number for b in p.columns}
        for b in p.columns:
            numbers.append(HeaderCell(b.column.kind.number_text(local, b.number), number_row, b.col, column=b.column))
    first = number_row + 1
    rows = [BreakdownRow(first + i, i + 1, name, ownership) for i, (name, ownership) in enumerate(units)]
    total = BreakdownRow(first + len(rows), None, total_label)
    return BreakdownLayout(table, periods, header, list(range(top, top + depth)), number_row, numbers, rows,
                           total, col)


_SHARED: dict[tuple[int, Frame], tuple[Table, Layout]] = {}
SHARED_LAYOUTS = 256  # at most this many kept (each a few KB)


def shared_layout(table: Table, frame: Frame) -> Layout:
    """``build_layout(table, frame)``, built once per process and shared: callers only read it.
    Keyed by the table object (outlines are parsed once per process and never change; holding the
    table keeps its id from naming another) and the frame (a campaign's years or units changed make
    another key), so nothing here can disagree with what another worker builds."""
    key = (id(table), frame)
    found = _SHARED.get(key)
    if found is not None and found[0] is table:
        return found[1]
    layout = build_layout(table, frame)
    if len(_SHARED) >= SHARED_LAYOUTS:
        _SHARED.clear()
    _SHARED[key] = (table, layout)
    return layout
