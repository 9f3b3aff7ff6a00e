"""Judging values: one engine for every check an outline declares.

- the rules of a block (``rules``): a relation between expressions of one row's columns
  (``d35_dtts <= d35_tong``, ``c1 = c2 + c3 + c4 + c5``), with a tolerance;
- the outline's ``checks``: ``same`` (the same quantity in two tables must agree), ``covers`` (a
  unit's value against the sum of the units it covers) and ``outlier`` (a value far from the
  unit's own previous period).

An ``error`` is never stored (the browser, the plain POST and the import refuse it through
check_rules); a ``warning`` is stored and flagged, and the unit confirms it when it submits.
campaign_findings judges a campaign's stored values at once, for the data-quality view, the
``checks`` command, the submission and the flags of the entry page. No Flask, no database here:
webapp/quality.py reads the values and hands them over.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from .expressions import compare
from .outline import Block, Outline, OutlineCheck, Rule, Table
from . import columns
from .ownership import Ownership
from .values import format_number

Numbers = Mapping[str, "int | Decimal | None"]


# --- the rules of a row ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Breach:
    """A rule of a block that a row breaks."""

    rule: Rule
    left: Decimal | None = None
    right: Decimal | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The cells the breach is shown at; the first (of the left side) is where a list reports it."""
        return self.rule.keys

    @property
    def message(self) -> str:
        return self.rule.message

    @property
    def detail(self) -> str:
        """The compared values: "12 > 10"."""
        return f"{_number(self.left)} {self.rule.op} {_number(self.right)}"


def check_rules(block: Block, values: Numbers, level: str | None = None) -> list[Breach]:
    """The rules of ``block`` that the row ``values`` break; a rule with an empty side is not judged."""
    breaches = []
    for rule in block.rules:
        if level and rule.level != level:
            continue
        left, right = rule.relation.sides(values)
        if left is None or right is None:
            continue
        if not rule.holds(left, right):
            breaches.append(Breach(rule, left, right))
    return breaches


def row_values(table: Table, numbers: Numbers, row_key: str | None = None) -> dict[str, int | Decimal | None]:
    """A row's stored numbers as values (decimals scaled back, targets filled in) with its derived
    columns (rates, sums, formulas) computed: what checks read (columns.row_values)."""
    return columns.row_values(table.columns, numbers, row_key)


def _number(value) -> str:
    if value is None:
        return "trống"
    value = Decimal(value)
    decimals = 0 if value == value.to_integral_value() else 2
    return format_number(value, decimals)


# --- the findings over a campaign -----------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """A check that a unit's stored values break, reported at one cell (``col_key`` of ``row_key``);
    ``columns``: the cells of that row the entry page flags. ``detail``: the values compared (a
    confirmation holds for these values only)."""

    unit_id: int
    table_code: str
    row_key: str
    col_key: str
    level: str
    message: str
    check_id: str
    detail: str
    columns: tuple[str, ...] = ()

    @property
    def cell(self) -> tuple[int, str, str, str, str]:
        """What identifies a finding (and its confirmation)."""
        return (self.unit_id, self.table_code, self.row_key, self.col_key, self.check_id)


@dataclass(frozen=True)
class UnitNode:
    id: int
    code: str
    parent_id: int | None


@dataclass
class CampaignValues:
    """What the engine judges: every unit's stored numbers and the groups it fills.

    ``stored``: (unit id, table code, row key, column key) → number; ``groups``: unit id → table
    code → the column groups it fills; ``previous``: the stored numbers of the previous campaign of
    the same outline, keyed the same way (empty when there is none)."""

    outline: Outline
    years: list[int]
    units: list[UnitNode]
    stored: dict[tuple[int, str, str, str], int | Decimal]
    groups: dict[int, dict[str, set[str]]]
    previous: dict[tuple[int, str, str, str], int | Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rows: dict[tuple[int, str], dict[str, dict[str, int | Decimal]]] = defaultdict(lambda: defaultdict(dict))
        for (unit_id, table_code, row_key, col_key), num in self.stored.items():
            self._rows[(unit_id, table_code)][row_key][col_key] = num
        self._values: dict[tuple[int, str, str], dict] = {}
        self._orders: dict[str, dict[str, int]] = {}
        self._codes = {u.id: u.code for u in self.units}

    def row_keys(self, unit_id: int, table_code: str) -> list[str]:
        """The rows where the unit stored something in the table, in the table's order."""
        stored = self._rows.get((unit_id, table_code), {})
        order = self._row_order(table_code)
        return sorted(stored, key=lambda key: (order.get(key, len(order)), key))

    def _row_order(self, table_code: str) -> dict[str, int]:
        if table_code not in self._orders:
            table = self.outline.table(table_code)
            keys = [spec.key for block in table.blocks if block.rows != "units" for spec in block.row_specs(self.years)]
            keys += [u.code for u in self.units]  # rows: units, in the campaign's unit order
            self._orders[table_code] = {key: i for i, key in enumerate(dict.fromkeys(keys))}
        return self._orders[table_code]

    def values(self, unit_id: int, table: Table, row_key: str) -> dict[str, int | Decimal | None]:
        """The unit's numbers in one row (its own cells, its fixed 1s, the derived columns)."""
        key = (unit_id, table.code, row_key)
        if key not in self._values:
            own = self._rows.get((unit_id, table.code), {}).get(row_key, {})
            groups = self.groups.get(unit_id, {}).get(table.code, set())
            ownership = Ownership.of(table, groups, self._codes.get(unit_id))
            self._values[key] = row_values(table, ownership.numbers(row_key, own.get), row_key)
        return self._values[key]


def campaign_findings(data: CampaignValues, unit_ids: Iterable[int] | None = None, rules: bool = True
                      ) -> list[Finding]:
    """Every check the stored values break, for all units or those of ``unit_ids``, in the
    outline's order (tables, then the outline's checks); ``rules`` False: the outline's checks only."""
    wanted = set(unit_ids) if unit_ids is not None else {u.id for u in data.units}
    out: list[Finding] = []
    grids = [t for t in data.outline.tables if not t.is_list]
    for unit in data.units:
        if unit.id not in wanted or not rules:
            continue
        for table in grids:
            for row_key in data.row_keys(unit.id, table.code):
                values = data.values(unit.id, table, row_key)
                for block in table.blocks:
                    for breach in check_rules(block, values):
                        out.append(Finding(unit.id, table.code, row_key, breach.columns[0], breach.rule.level,
                                           breach.message, f"rule:{breach.rule.ident}", breach.detail,
                                           breach.columns))
    for check in data.outline.checks:
        judge = {"same": _same, "covers": _covers, "outlier": _outlier}[check.kind]
        out.extend(f for f in judge(data, check) if f.unit_id in wanted)
    return out


def _same(data: CampaignValues, check: OutlineCheck) -> Iterable[Finding]:
    """Each unit's cells of one row key in the tables named must agree; a breach is shown at each."""
    tables = {code: data.outline.table(code) for code, _ in check.cells}
    for unit in data.units:
        row_keys = dict.fromkeys(k for code, _ in check.cells for k in data.row_keys(unit.id, code))
        for row_key in row_keys:
            present = [(code, col, data.values(unit.id, tables[code], row_key).get(col)) for code, col in check.cells]
            present = [(code, col, v) for code, col, v in present if v is not None]
            if len(present) < 2:
                continue
            first = present[0][2]
            if all(compare(v, "=", first, check.tolerance) for _, _, v in present[1:]):
                continue
            detail = " ≠ ".join(_number(v) for _, _, v in present)
            for code, col, _ in present:
                yield Finding(unit.id, code, row_key, col, check.level, check.message, check.ident, detail, (col,))


def _covers(data: CampaignValues, check: OutlineCheck) -> Iterable[Finding]:
    """A unit's value against the sum of its children's (those of the campaign), row by row; a
    ``rows: units`` block holds each unit's value in its own row (row key = unit code)."""
    (code, col), = check.cells
    table = data.outline.table(code)
    by_unit_rows = table.block_of(col).rows == "units"
    children: dict[int, list[UnitNode]] = defaultdict(list)
    for unit in data.units:
        if unit.parent_id is not None:
            children[unit.parent_id].append(unit)
    for parent in data.units:
        if not children.get(parent.id):
            continue
        for row_key in data.row_keys(parent.id, code):
            if by_unit_rows and row_key != parent.code:
                continue
            own = data.values(parent.id, table, row_key).get(col)
            if own is None:
                continue
            parts = [data.values(child.id, table, child.code if by_unit_rows else row_key).get(col)
                     for child in children[parent.id]]
            parts = [p for p in parts if p is not None]
            if not parts:
                continue
            total = sum(Decimal(p) for p in parts)
            if not compare(own, "=", total, check.tolerance):
                yield Finding(parent.id, code, row_key, col, check.level, check.message, check.ident,
                              f"{_number(own)} ≠ {_number(total)} (tổng {len(parts)} đơn vị)", (col,))


def _outlier(data: CampaignValues, check: OutlineCheck) -> Iterable[Finding]:
    """A value more than ``factor`` times, or less than 1/``factor`` of, the unit's own previous
    period: the previous row of a ``rows: periods`` block, and the same cell in the previous campaign."""
    tables = [t for t in data.outline.tables if not t.is_list and (not check.tables or t.code in check.tables)]
    for unit in data.units:
        for table in tables:
            for row_key in data.row_keys(unit.id, table.code):
                for block in table.blocks:
                    earlier = str(int(row_key) - 1) if block.rows == "periods" and row_key.isdigit() else None
                    for column in block.columns:
                        if not _judged_for_outliers(column):
                            continue
                        value = data.values(unit.id, table, row_key).get(column.key)
                        if value is None:
                            continue
                        before = []
                        if earlier is not None:
                            before.append(data.values(unit.id, table, earlier).get(column.key))
                        before.append(data.previous.get((unit.id, table.code, row_key, column.key)))
                        for old in before:
                            if old and _far(Decimal(value), Decimal(old), check.factor):
                                yield Finding(unit.id, table.code, row_key, column.key, check.level, check.message,
                                              check.ident, f"{_number(value)} so với {_number(old)} kỳ trước",
                                              (column.key,))
                                break


def _judged_for_outliers(column) -> bool:
    """Entered quantities: not yes/no, not the fixed 1, not derived, not text."""
    return column.is_input and column.kind.quantity


def _far(value: Decimal, old: Decimal, factor: Decimal) -> bool:
    return old > 0 and (value > factor * old or value * factor < old)
