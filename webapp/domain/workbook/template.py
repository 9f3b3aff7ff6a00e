"""A unit's template: its table sheets holding its current values, its own cells open for input."""

from __future__ import annotations

import os
from typing import IO, Any

from xlsxwriter.worksheet import Worksheet

from ..layout import LIST_MIN_ROWS, Cell, Layout, build_layout
from ..outline import LIST_GROUP_KEY, Column, Frame, Outline, Table
from ..ownership import Ownership
from ..parts import Part
from ..columns import row_values
from .frame import _column_widths, _draw_frame, headings_above, _freeze, _height, _lines, _print_setup, _protect
from .official import set_official_header, table_notes, top_margin, write_notes
from .meta import KIND, TEMPLATE_KIND, UNIT, UNIT_NAME, _Meta
from .styles import INPUT_FILL, OTHER_FILL, _Styles
from .xlsx import _number, _open, _put, _total_formula, _total_numbers, row_formula


def write_template(target: str | os.PathLike | IO[bytes], outline: Outline, frame: Frame | list[int], part: Part,
                   owned: dict[str, set[str]], identity: dict[str, str], unit_kind: str | None = None) -> None:
    """Write a unit's Excel template holding its current values (``part``).

    ``owned``: table code → the column groups the unit fills (``b0g1`` …, ``rows`` for a list); in a
    table whose rows are the units, the unit (``identity["unit"]``) fills its own row only.
    A list's rows carry their identity (``part.list_ids``) in a hidden column beside the table.
    ``identity``: written to the very hidden ``_meta`` sheet and the custom document properties;
    keys ``campaign`` (code), ``unit`` (code), ``unit_name``, ``outline`` (ident, ``kl49@1``),
    ``outline_digest`` and any others; ``kind`` is set to ``template``. ``unit_kind``: the kind of
    the campaign's compiling unit (it chooses a target column's ``by_kind`` values).
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
        ownership = Ownership.of(table, owned.get(table.code, set()), identity.get(UNIT))
        if table.is_list:
            editable = LIST_GROUP_KEY in ownership.groups
            rows = part.lists.get(table.code, []) if editable else []
            layout = build_layout(table, frame, list_rows=max(LIST_MIN_ROWS, len(rows) + LIST_MIN_ROWS))
            widths = _column_widths(layout)
            _draw_frame(ws, st, layout, widths)
            _template_list(ws, st, meta, layout, rows, editable, widths)
            if rows:
                _template_list_ids(ws, layout, part.list_ids.get(table.code, []))
        else:
            layout = build_layout(table, frame)
            widths = _column_widths(layout)
            _draw_frame(ws, st, layout, widths)
            _template_grid(ws, st, meta, layout, part, ownership, unit_kind)
        # the headings above the title and the footnote of reconstructed headers under the table (for
        # a list, under its blank rows: in column A, which is its serial number, read by nobody)
        lines = set_official_header(ws, headings_above(table))
        last = write_notes(ws, st, widths, layout.last_row + 2, table_notes(layout, None)) - 1
        _print_setup(ws, layout, max(last, layout.last_row), top_margin(lines))
        _freeze(ws, layout)
        _protect(ws)
    meta.write(wb)
    wb.close()


def unit_row_numbers(table: Table, part: Part, groups: set[str], row_key: str,
                     unit_code: str | None = None) -> dict[str, int | None]:
    """A unit's numbers in one row: its own cells only, with the fixed 1 of the cells it owns."""
    return Ownership.of(table, groups, unit_code).numbers(row_key, lambda key: part.number(table.code, row_key, key))


def _template_grid(ws: Worksheet, st: _Styles, meta: _Meta, layout: Layout, part: Part,
                   ownership: Ownership, unit_kind: str | None) -> None:
    table = layout.table

    def numbers_of(row_key: str) -> dict[str, int | None]:
        return ownership.numbers(row_key, lambda key: part.number(table.code, row_key, key))

    for lrow in layout.rows:
        numbers = _total_numbers(layout, lrow, numbers_of) if lrow.total else numbers_of(lrow.key)
        values = row_values(table.columns, numbers, lrow.key, unit_kind)
        for cell in lrow.cells:
            c = cell.column
            fixed = ownership.fixed_value(lrow.key, c.key)
            if c.is_derived:  # a formula everywhere; blank ("") where the operands are not the unit's
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c),
                     values[c.key], row_formula(table, lrow, c, yesno_as_text=True))
            elif cell.total:  # the sum of the unit rows above: a live formula
                formula = _total_formula(layout, lrow, cell) if c.kind.summed else None
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c), _number(values.get(c.key)), formula)
            elif not c.is_input and c.is_numeric:  # a unit count's fixed 1 (its own cells), a target
                shown = fixed is not None or not c.kind.summed
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c, fill=None if shown else OTHER_FILL),
                     values[c.key] if shown else None)
            elif ownership.may_enter(lrow.key, c.key):
                value = c.kind.excel_value(part.number(table.code, lrow.key, c.key),
                                           part.text(table.code, lrow.key, c.key), as_text=True)
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
            if not c.is_input:  # TT: numbered by the app, locked
                _put(ws, cell.row, cell.col, 1, st.body(c), i + 1)
            elif editable:
                value = c.kind.excel_value(None, data.get(c.key), as_text=True)
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


def _input_cell(ws: Worksheet, st: _Styles, meta: _Meta, cell: Cell, value: Any) -> None:
    """An unlocked input cell of the unit, pre-filled, with its data validation."""
    c = cell.column
    _put(ws, cell.row, cell.col, cell.colspan, st.body(c, locked=False, fill=INPUT_FILL, as_text=True), value)
    rule = _validation(c, meta)
    if rule:
        ws.data_validation(cell.row, cell.col, cell.row, cell.col + cell.colspan - 1, rule)


def _validation(column: Column, meta: _Meta) -> dict[str, Any] | None:
    """Excel data validation for an input column (the importer checks again: Excel can be bypassed)."""
    rule = column.kind.validation(meta.list_source)
    if rule is None:
        return None
    rule["error_title"] = "Giá trị không hợp lệ"
    if column.question:
        rule["input_title"] = _clip(column.label, 32)
        rule["input_message"] = _clip(column.question, 255)
    return rule


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
