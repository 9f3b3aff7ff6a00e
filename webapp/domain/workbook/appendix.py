"""The assembled appendix workbook: cover, the table sheets at the template's addresses, breakdowns."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import IO, Any

from xlsxwriter.worksheet import Worksheet

from ..layout import Layout, build_layout
from ..outline import Frame, Outline, Table
from ..ownership import breakdown_tables
from ..parts import Part
from ..columns import row_values
from .breakdown import _write_breakdown
from .charts import write_charts
from .cover import COVER_SHEET, _write_cover
from .frame import _column_widths, _draw_frame, headings_above, _height, _lines, _print_setup, _protect, _span_width
from .official import Issuer, set_official_header, table_notes, top_margin, write_notes, write_signature
from .meta import APPENDIX_KIND, CAMPAIGN, KIND, OUTLINE, OUTLINE_DIGEST, _Meta
from .styles import _Styles
from .xlsx import _number, _open, _put, _total_formula, _total_numbers, row_formula

# A table's breakdown rows, read as they are written: the names of its units, and their parts in the
# same order (an iterator: a province's parts are never all in memory at once).
BreakdownRows = Callable[[Table], tuple[list[str], Iterable[Part]]]


def write_appendix(target: str | os.PathLike | IO[bytes], outline: Outline, frame: Frame | list[int], part: Part,
                   cover: dict[str, Any], breakdowns: list[tuple[str, Part]] | BreakdownRows,
                   fillers: dict[str, set[str]] | None = None, with_cover: bool = True) -> None:
    """Write the assembled appendix workbook.

    Sheets: the cover ``Bìa`` (a status page for internal use; left out when not ``with_cover``);
    every table sheet of the template at the same addresses, holding the
    assembled ``part`` (yes/no as the count of yes, unit counts as the number of units, rates as
    formulas carrying values recomputed from the assembled numbers; the total row of a table of unit
    rows as live SUM formulas); one ``<sheet> theo ĐV`` sheet per grid table (but those whose rows are
    the units: they are their own breakdown) with a row per unit of ``breakdowns`` (unit name, that unit's part) and a total row —
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
      outline's ``subtitle``), ``compiler_kind`` str (the compiling unit's kind: it chooses a target
      column's ``by_kind`` values).

    The table sheets print in the official form of a Vietnamese document (``official``; no cell
    moves for it): the first table's first page is headed by the issuing body, the party's name or
    the state motto, the appendix's title and the report it goes with; every table's headings print
    above its title; reconstructed headers are marked * and footnoted under the table, followed by
    ``basis``; the last table ends with place and date and the signature block. Its ``cover`` keys:
      ``issuer_name`` str (HUYỆN ỦY LỘC NINH; default ``compiler``), ``issuer_parent`` str
      (ĐẢNG BỘ TỈNH BÌNH PHƯỚC), ``issuer_is_party`` bool (default True; False: a state body),
      ``report_number`` str (125-BC/HU), ``report_date`` date, ``report_place`` str (Lộc Ninh),
      ``signer_title`` str (one line each: "T/M BAN THƯỜNG VỤ\nPHÓ BÍ THƯ"; default "T/M BAN
      THƯỜNG VỤ" for a party body, "TM. <issuer_name>" for a state body), ``signer_name`` str,
      ``basis`` str (the sentence saying which units' parts the figures count).
    """
    wb = _open(target, streamed=True)
    st = _Styles(wb)
    meta = _Meta({CAMPAIGN: cover.get("campaign_code", ""), OUTLINE: outline.ident,
                  OUTLINE_DIGEST: outline.digest, KIND: APPENDIX_KIND})
    wb.set_properties({"title": outline.title, "subject": cover.get("campaign_name", ""),
                       "author": cover.get("compiler", ""), "comments": cover.get("subtitle", outline.subtitle)})
    frame = Frame.of(frame)
    if with_cover:
        _write_cover(wb.add_worksheet(COVER_SHEET), st, outline, list(frame.years), cover)
    issuer = Issuer.of(cover)
    for table in outline.tables:
        ws = wb.add_worksheet(table.sheet)
        if table.is_list:
            rows = part.lists.get(table.code, [])
            # the first row laid out, the others are its cells lower down: a province's documents
            # (thousands of rows) are written without a layout of every one
            layout = build_layout(table, frame, list_rows=min(len(rows), 1))
            widths = _column_widths(layout)
            _draw_frame(ws, st, layout, widths)
            _appendix_list(ws, st, layout, rows, widths)
            last_row = layout.last_row + max(len(rows) - 1, 0)
        else:
            layout = build_layout(table, frame)
            widths = _column_widths(layout)
            _draw_frame(ws, st, layout, widths)
            _appendix_grid(ws, st, layout, part, widths, cover.get("compiler_kind"))
            last_row = layout.last_row
        first, last = table is outline.tables[0], table is outline.tables[-1]
        lines = set_official_header(ws, headings_above(table), (issuer, outline.title) if first else None)
        row = write_notes(ws, st, widths, last_row + 2, table_notes(layout, cover.get("basis")))
        row = write_charts(wb, ws, layout, table.sheet, row + 1)
        if last:
            row = write_signature(ws, st, widths, row + 2, issuer)
        _print_setup(ws, layout, row, top_margin(lines))
        _protect(ws)
    if not callable(breakdowns):
        if fillers is None:  # not known: every unit fills every table
            fillers = {t.code: {name for name, _ in breakdowns} for t in outline.tables}
        breakdowns = _listed(breakdowns, fillers)
    for table in breakdown_tables(outline.tables, fillers):
        names, parts = breakdowns(table)
        _write_breakdown(wb, st, table, frame, names, parts, part, cover.get("total_label") or "Toàn huyện",
                         cover.get("compiler_kind"))
    meta.write(wb)
    wb.close()


def _listed(breakdowns: list[tuple[str, Part]], fillers: dict[str, set[str]]) -> BreakdownRows:
    """The BreakdownRows of a list of (unit name, part): a table's, those of the units filling it."""
    def rows(table: Table) -> tuple[list[str], Iterable[Part]]:
        kept = [(name, p) for name, p in breakdowns if name in fillers[table.code]]
        return [name for name, _ in kept], [p for _, p in kept]
    return rows


def _appendix_grid(ws: Worksheet, st: _Styles, layout: Layout, part: Part, widths: list[float],
                   unit_kind: str | None) -> None:
    table = layout.table
    def numbers_of(row_key: str) -> dict[str, int | None]:
        return part.row_numbers(table.code, row_key)

    for lrow in layout.rows:
        numbers = _total_numbers(layout, lrow, numbers_of) if lrow.total else numbers_of(lrow.key)
        values = row_values(table.columns, numbers, lrow.key, unit_kind)
        height = 1
        for cell in lrow.cells:
            c = cell.column
            if c.is_derived:  # recomputed from the assembled numbers, never averaged
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c), values[c.key],
                     row_formula(table, lrow, c, yesno_as_text=False))
            elif cell.total:  # the sum of the unit rows above: a live formula carrying its value
                formula = _total_formula(layout, lrow, cell) if c.kind.summed else None
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c), _number(values.get(c.key)), formula)
            elif c.is_numeric:
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c), _number(values[c.key]))
            else:
                value = c.kind.excel_value(None, part.text(table.code, lrow.key, c.key))
                _put(ws, cell.row, cell.col, cell.colspan, st.body(c), value)
                if isinstance(value, str):
                    height = max(height, _lines(value, _span_width(widths, cell.col, cell.colspan)))
        if height > 1:
            ws.set_row(lrow.row, _height(height))


def _appendix_list(ws: Worksheet, st: _Styles, layout: Layout, rows: list[dict[str, str]],
                   widths: list[float]) -> None:
    """The list's ``rows``, each in the cells of ``layout``'s first row moved down to its place."""
    if not rows:
        return
    first = layout.rows[0]
    for i, data in enumerate(rows):
        row, height = first.row + i, 1
        for cell in first.cells:
            c = cell.column
            if not c.is_input:  # TT
                _put(ws, row, cell.col, 1, st.body(c), i + 1)
                continue
            value = c.kind.excel_value(None, data.get(c.key))
            _put(ws, row, cell.col, 1, st.body(c), value)
            if isinstance(value, str):
                height = max(height, _lines(value, widths[cell.col]))
        if height > 1:
            ws.set_row(row, _height(height))
        ws.flush_rows(row + 1)  # a province's documents: thousands of rows
