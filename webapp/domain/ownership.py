"""Which cells of one table a unit fills: the one answer entry, template, import, assembly and review ask.

A unit owns a cell when the cell's column group is assigned to it and, in a block whose rows are the
reporting units (``rows: units``), when the row is its own. The "Tổng số xã"-style unit counts
(``unit_count``) are fixed, not entered: a unit counts once (1) in each row it owns of them, so that
the assembled cell is the number of units that fill it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from .layout import Cell, Layout
from .outline import LIST_GROUP_KEY, Frame, Table

U = TypeVar("U")  # a unit, however the caller names it (id, name, model)


@dataclass(frozen=True)
class Ownership:
    table: Table
    groups: frozenset[str]  # the column groups assigned to the unit (``rows`` for a list table)
    unit_code: str | None = None  # whose row it is in a block of unit rows; None: no such row is its

    @classmethod
    def of(cls, table: Table, groups: Iterable[str], unit_code: str | None) -> Ownership:
        return cls(table, frozenset(groups), unit_code)

    @functools.cached_property
    def _places(self) -> dict[str, tuple[bool, bool]]:
        """column key -> (its group is the unit's, its block's rows are the units)."""
        if self.table.is_list:
            return {c.key: (LIST_GROUP_KEY in self.groups, False) for c in self.table.columns}
        return {c.key: (group.key in self.groups, block.by_unit)
                for block in self.table.blocks for group in block.groups for c in group.columns}

    def fills_column(self, column_key: str) -> bool:
        """Whether the column's group is assigned to the unit (in some row it owns the column's cells)."""
        return self._places.get(column_key, (False, False))[0]

    def owns(self, row_key: str, column_key: str) -> bool:
        """The unit's cell: of a group assigned to it and, where the rows are the units, in its own row."""
        mine, by_unit = self._places.get(column_key, (False, False))
        return mine and (not by_unit or row_key == self.unit_code)

    def may_enter(self, row_key: str, column_key: str) -> bool:
        """A cell the unit types a value into: its own, and an input column."""
        return self.owns(row_key, column_key) and self.table.column(column_key).is_input

    def fixed_value(self, row_key: str, column_key: str) -> int | None:
        """The value of a cell fixed by ownership: 1 in a "Tổng số xã" (unit_count) cell the unit owns;
        None for any other cell."""
        if not self.table.column(column_key).kind.fixed_one:
            return None
        return 1 if self.owns(row_key, column_key) else None

    def numbers(self, row_key: str, value_of: Callable[[str], int | None]) -> dict[str, int | None]:
        """The unit's numbers in one row: ``value_of(column key)`` for the number cells it owns, its fixed
        1s; None elsewhere (what the row's rules and derived cells read)."""
        numbers: dict[str, int | None] = {}
        for c in self.table.columns:
            if not c.kind.summed:
                continue
            if c.kind.fixed_one:
                numbers[c.key] = self.fixed_value(row_key, c.key)
            else:
                numbers[c.key] = value_of(c.key) if self.owns(row_key, c.key) else None
        return numbers

    def owned_cells(self, layout: Layout) -> list[Cell]:
        """The cells of ``layout`` the unit owns (a total row is nobody's: it is the sum)."""
        return [cell for cell in layout.cells if not cell.total and self.owns(cell.row_key, cell.column.key)]

    def fixed_cells(self, frame: Frame) -> dict[tuple[str, str, str], int]:
        """(table code, row key, column key) -> the fixed value of every fixed cell the unit owns."""
        out: dict[tuple[str, str, str], int] = {}
        if self.table.is_list:
            return out
        for block in self.table.blocks:
            counts = [c.key for c in block.columns if c.kind.fixed_one and self.fills_column(c.key)]
            if not counts:
                continue
            for spec in block.row_specs(frame):
                for key in counts:
                    value = None if spec.total else self.fixed_value(spec.key, key)
                    if value is not None:
                        out[(self.table.code, spec.key, key)] = value
        return out


# ------------------------------------------------------------------- which tables get a breakdown by unit

def fills_numbers(table: Table, groups: Iterable[str]) -> bool:
    """Whether a unit given these column groups of ``table`` fills a number of it (not only a note:
    a unit asked only for kl49's "Ghi chú" of table III would be a row of blanks in a breakdown)."""
    return not table.is_list and bool(number_groups(table) & set(groups))


def number_groups(table: Table) -> set[str]:
    """The column groups of a grid table that hold a number (not only notes): a unit shows in the
    table's breakdown by unit when it fills one of them (a unit asked only for a note, such as kl49's
    "Ghi chú" of table III or the schools' "Kiến nghị" in mini's Biểu 2, would be a row of blanks)."""
    return {key for key, group in table.groups if any(c.is_numeric for c in group.columns)}


def number_fillers(tables: Iterable[Table], assignments: Iterable[tuple[U, str, str]]) -> dict[str, set[U]]:
    """Table code -> the units that fill a number of it, from a campaign's assignments
    (unit, table code, column group key); every table of ``tables`` is a key."""
    by_table = {t.code: t for t in tables}
    groups: dict[tuple[str, U], set[str]] = {}
    for unit, table_code, group_key in assignments:
        if table_code in by_table:
            groups.setdefault((table_code, unit), set()).add(group_key)
    fillers: dict[str, set[U]] = {code: set() for code in by_table}
    for (table_code, unit), keys in groups.items():
        if fills_numbers(by_table[table_code], keys):
            fillers[table_code].add(unit)
    return fillers


def breakdown_tables(tables: Iterable[Table], fillers: Mapping[str, Collection[object]]) -> list[Table]:
    """The tables that get a breakdown by unit in a campaign (the appendix's "theo ĐV" sheets, the
    breakdown page): the grids whose rows are not the units (``Table.has_breakdown``) that more than
    one unit fills a number of (``fillers``: table code -> those units, as ``number_fillers`` gives).
    A table filled by a single unit would break down into one row equal to its total."""
    return [t for t in tables if t.has_breakdown and len(fillers.get(t.code, ())) > 1]
