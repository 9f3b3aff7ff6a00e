"""Reading, checking and showing cell values, the same for the browser, the plain POST and the import.

A stored value is a number (counts; yes/no as 1/0) or a text (notes, list columns; dates as ISO text).
Messages are Vietnamese: they are shown next to the cell or listed as ``Sheet!Cell: message``.
"""

from __future__ import annotations

from decimal import Decimal

from .columns import (MAX_COUNT, NO, NO_WORDS, YES, YES_WORDS, Parsed, ValueProblem,  # noqa: F401 (the names values
                      format_date, format_number, parse_date, percent, row_values)  # has always offered)
from .outline import Column, Table
from .parts import Part

REQUIRED_IN_ROW = "Chưa nhập (bắt buộc khi dòng có dữ liệu)"


def parse_input(column: Column, raw: object) -> Parsed:
    """Read what a clerk typed (or a spreadsheet cell held) into a storable value, or raise ValueProblem."""
    return column.kind.parse(raw)


def show(column: Column, num: int | None, text: str | None, assembled: bool = False) -> str:
    """A stored (or assembled, ``assembled``) value as the clerk sees it in an input or a read-only
    cell: the one way a value is shown, its column type's (columns.py)."""
    return column.kind.show_stored(num, text, assembled)


def assembled_text(table: Table, column: Column, part: Part, row_key: str, unit_kind: str | None = None) -> str:
    """An assembled value as shown (the appendix page, the report): yes/no as the count of yes,
    rates recomputed, notes as lines."""
    if not column.is_numeric:
        return part.text(table.code, row_key, column.key) or ""
    values = row_values(table.columns, part.row_numbers(table.code, row_key), row_key, unit_kind)
    return column.kind.show(values[column.key], assembled=True)


def row_noun(table: Table) -> str:
    """What one row of a list table is called in pages and messages ("Đã thêm văn bản", "Chưa có dòng
    nào"): "văn bản" for a list of documents (kl49's table I, whose title says so), else "dòng"."""
    return "văn bản" if "văn bản" in table.title.casefold() else "dòng"


def this_row(table: Table) -> str:
    """"Văn bản này" / "Dòng này": a row of a list table, at the start of a message."""
    return f"{row_noun(table).capitalize()} này"




def derive(column: Column, values: dict[str, int | Decimal | None]) -> Decimal | None:
    """The value of a derived column from the values of its row (columns.row_values gives them)."""
    return column.kind.compute(values)
