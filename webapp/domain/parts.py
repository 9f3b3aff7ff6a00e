"""The values of one part of an appendix: one unit's entries, or a whole assembled appendix.

Both have the same shape, so that an assembled district appendix can stand as one unit's part of a
wider (province) campaign, and so that templates, imports and the assembled workbook share one type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Counted(StrEnum):
    """Which units' parts an assembly counts: every part as it stands (the contract's assembly rule,
    the default), the parts submitted or accepted, or the accepted parts only. Chosen on the appendix,
    breakdown, drill-down, export and report, and stated on each of them."""
    ALL = "all"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"

    @property
    def statuses(self) -> tuple[str, ...] | None:
        """The part statuses counted (models.PART_*); None: every part whatever its status."""
        return {"all": None, "submitted": ("submitted", "accepted"), "accepted": ("accepted",)}[self.value]

    @property
    def label(self) -> str:
        """What the pages and documents say is counted."""
        return {"all": "mọi phần số liệu hiện có (kể cả đang nhập, bị trả lại)",
                "submitted": "các phần đã nộp và đã duyệt",
                "accepted": "chỉ các phần đã duyệt"}[self.value]

    def includes(self, status: str) -> bool:
        """Whether a part of stored status ``status`` (models.PART_*) is counted."""
        return self.statuses is None or status in self.statuses


@dataclass(frozen=True)
class Basis:
    """What an assembly counted: the choice, the units whose parts it includes, the campaign's units
    (assembly.count_basis reads it from the database)."""
    counted: Counted
    included: int
    total: int

    @property
    def sentence(self) -> str:
        """What every view and document says at its top (the workbook: on its cover and below the tables)."""
        return f"Số liệu tổng hợp: {self.counted.label} — {self.included}/{self.total} đơn vị."

    def to_json(self) -> dict:
        """The basis as JSON (kept beside a nested part's snapshot: what the district sent up)."""
        return {"counted": self.counted.value, "included": self.included, "total": self.total}

    @classmethod
    def from_json(cls, data: dict) -> Basis:
        return cls(Counted(data["counted"]), int(data["included"]), int(data["total"]))


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
    # (table code, row key, column key) -> how many more notes the cell has than ``texts`` holds: an
    # assembly asked for the first few notes of each cell only (assembly.assemble's ``note_lines``)
    notes_left: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # table code -> how many more rows the list has than ``lists`` holds (assemble's ``list_rows``)
    rows_left: dict[str, int] = field(default_factory=dict)

    def number(self, table: str, row: str, col: str) -> int | None:
        return self.numbers.get((table, row, col))

    def text(self, table: str, row: str, col: str) -> str | None:
        return self.texts.get((table, row, col))

    def row_numbers(self, table: str, row: str) -> dict[str, int | None]:
        """The numbers of one row, by column key (what values.derive() takes)."""
        return {c: v for (t, r, c), v in self.numbers.items() if t == table and r == row}

    def to_json(self) -> dict:
        """The part as JSON (what a nested part's snapshot stores; list row ids are not kept)."""
        return {"numbers": [[*key, value] for key, value in sorted(self.numbers.items())],
                "texts": [[*key, text] for key, text in sorted(self.texts.items())],
                "lists": self.lists}

    @classmethod
    def from_json(cls, data: dict, table_code: str | None = None) -> Part:
        """The part ``to_json`` wrote; only table ``table_code``'s cells when given."""
        def wanted(code: str) -> bool:
            return table_code is None or code == table_code

        return cls(numbers={(t, r, c): int(v) for t, r, c, v in data.get("numbers", []) if wanted(t)},
                   texts={(t, r, c): text for t, r, c, text in data.get("texts", []) if wanted(t)},
                   lists={code: list(rows) for code, rows in data.get("lists", {}).items() if wanted(code)})
