"""The values of one part of an appendix: one unit's entries, or a whole assembled appendix.

Both have the same shape, so that an assembled district appendix can stand as one unit's part of a
wider (province) campaign, and so that templates, imports and the assembled workbook share one type.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Part:
    # (table code, row key, column key) -> number: counts, yes/no as 1/0, and "Tổng số xã"-style
    # unit counts (a unit's own part holds 1 there for the groups it fills). Derived cells are never
    # stored: they are computed from these by values.derive().
    numbers: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # (table code, row key, column key) -> text (notes; an assembled note is "Unit name: note" lines)
    texts: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # table code -> the rows of a list table, each {column key: text}; dates as ISO yyyy-mm-dd
    lists: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # table code -> the identity of each of those rows (the stored row's id; None: a new row), beside
    # ``lists`` in the same order: what a unit's template carries so that an import matches its rows
    # to the stored ones. Not a value: parts holding the same values are equal whatever their ids.
    list_ids: dict[str, list[int | None]] = field(default_factory=dict, compare=False)

    def number(self, table: str, row: str, col: str) -> int | None:
        return self.numbers.get((table, row, col))

    def text(self, table: str, row: str, col: str) -> str | None:
        return self.texts.get((table, row, col))

    def row_numbers(self, table: str, row: str) -> dict[str, int | None]:
        """The numbers of one row, by column key (what values.derive() takes)."""
        return {c: v for (t, r, c), v in self.numbers.items() if t == table and r == row}
