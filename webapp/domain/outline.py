"""Outline definitions: what the tables of an appendix are, read from a YAML file.

An outline is data. The loader checks the whole file and reports every mistake with its line and
place (``dòng 134: tables[3] (II.1.3) > blocks[0] > groups[1] (d35) > columns[2] (d35_md1) > type: …``)
so that the person who corrects a header sees where, without reading code. The file is read with a
yaml SafeLoader that remembers the line of every mapping, key and list item (MarkedDict, MarkedList)
and every key written twice in one mapping (yaml alone keeps the last silently); parse_outline also
takes plain dicts, whose mistakes are named by place only.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from .columns import TYPES, ColumnType, column_type
from .expressions import ExpressionError, Relation, Tolerance, compare, parse_relation, parse_tolerance

COLUMN_TYPES = set(TYPES)
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class OutlineError(ValueError):
    """An outline file that cannot be used; ``problems`` lists every mistake with its place."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def _told_by_kind(attribute: str, doc: str) -> property:
    """A read-only attribute of a Column that its type (Column.kind) answers."""
    return property(lambda column: getattr(column.kind, attribute), doc=doc)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    type: str
    owner: tuple[str, ...]
    span: int = 1
    group_label: str | None = None
    group_index: int = 0
    choices: tuple[str, ...] = ()
    required: bool = False
    max_length: int = 1000
    question: str | None = None
    inferred: bool = False
    of: str | None = None  # percent: numerator column
    over: str | None = None  # percent: denominator column
    unit: str | None = None  # unit of measure of a number, printed in the header: "Tỷ lệ (%)"
    decimals: int | None = None  # decimal, formula, sum, target: places shown (a decimal: also stored)
    minimum: Decimal | None = None  # decimal: bounds of what may be entered
    maximum: Decimal | None = None
    sum_of: tuple[str, ...] = ()  # sum: the columns added
    formula: str | None = None  # formula: its text over the block's column keys
    targets: tuple[tuple[str, tuple[tuple[str, Decimal], ...]], ...] = ()  # target: (unit kind or "", (row key, value)…)

    @functools.cached_property
    def kind(self) -> ColumnType:
        """What the column's type knows (parse, show, stored form, Excel, HTML): webapp/domain/columns.py."""
        return column_type(self)

    header = _told_by_kind("header", "The printed header of the column: its label, with its unit of measure.")
    is_input = _told_by_kind("is_input", "Whether the unit enters its values.")
    is_derived = _told_by_kind("is_derived", "Whether its values are computed from other columns (a rate, a sum).")
    is_numeric = _told_by_kind("numeric", "Whether its values are numbers.")


@dataclass(frozen=True)
class Group:
    key: str  # stable: who fills what (assignments) and stored values refer to it
    label: str | None  # its header levels joined by " › " (as a screen reader and the pages name it)
    owner: tuple[str, ...]
    columns: tuple[Column, ...]
    inferred: bool = False
    levels: tuple[str, ...] = ()  # the header rows above its columns, outermost first

    def __post_init__(self):
        if self.label and not self.levels:
            object.__setattr__(self, "levels", (self.label,))


@dataclass(frozen=True)
class Rule:
    """A check of one row: ``left op right`` between expressions of the block's columns
    (``d35_dtts <= d35_tong``, ``c1 = c2 + c3 + c4 + c5``); webapp/domain/checks.py judges it."""

    left: str  # the expressions as written
    op: str
    right: str
    level: str  # "error" blocks the value, "warning" only flags it
    message: str
    relation: Relation = field(compare=False, repr=False, default=None)
    tolerance: Tolerance = Tolerance()

    @property
    def keys(self) -> tuple[str, ...]:
        """The columns the rule reads, left side first: a breach is reported at the first."""
        return self.relation.keys

    @property
    def ident(self) -> str:
        """What names the rule in stored confirmations: its relation as written."""
        return f"{self.left} {self.op} {self.right}"

    def holds(self, left, right) -> bool:
        """Whether the two sides' values satisfy the relation, within the tolerance."""
        return compare(left, self.op, right, self.tolerance)


CHECK_KINDS = ("same", "covers", "outlier")
DEFAULT_OUTLIER_FACTOR = Decimal(3)


@dataclass(frozen=True)
class OutlineCheck:
    """A check across tables, units or periods (the outline's root key ``checks``).

    same: the cells ``cells`` (table code, column key) of one unit and row key must agree;
    covers: a unit's value in ``cells[0]`` against the sum of its children's (the unit tree);
    outlier: a value more than ``factor`` times, or less than 1/``factor`` of, the unit's own
    previous period (``tables``: only these; empty: all)."""

    kind: str
    level: str
    message: str
    cells: tuple[tuple[str, str], ...] = ()
    tables: tuple[str, ...] = ()
    factor: Decimal = DEFAULT_OUTLIER_FACTOR
    tolerance: Tolerance = Tolerance()

    @property
    def ident(self) -> str:
        """What names the check in stored confirmations."""
        if self.kind == "outlier":
            return "outlier"
        return f"{self.kind}:" + ",".join(f"{t}.{c}" for t, c in self.cells)


@dataclass(frozen=True)
class RowSpec:
    key: str
    label: str
    total: bool = False  # the derived total row of a block whose rows are the units ("Toàn huyện")


PERIODS, UNITS = "periods", "units"  # the row kinds a block names; else its rows are listed
TOTAL_ROW_KEY = "total"
PERIOD_LABEL = "Năm {year}"
CORNER_LABELS = {PERIODS: "Thời gian", UNITS: "Đơn vị"}  # over the row labels; listed rows: "Nội dung"
NAMED_ROWS_CORNER = "Nội dung"


@dataclass(frozen=True)
class FrameUnit:
    code: str
    name: str
    kind: str = ""  # "": a unit of any kind (it is a row of every units block)


@dataclass(frozen=True)
class Frame:
    """What a campaign gives an outline's rows: its years (``rows: periods``) and its reporting units
    in their order (``rows: units``)."""

    years: tuple[int, ...]
    units: tuple[FrameUnit, ...] = ()

    @classmethod
    def of(cls, frame: Frame | Any) -> Frame:
        """``frame`` itself, or a frame of the years given (a list of years: no unit rows)."""
        return frame if isinstance(frame, Frame) else cls(tuple(frame))


@dataclass(frozen=True)
class ChartSpec:
    """A chart the table asks for (key ``chart``): one indicator's values over the rows, against its
    target; drawn by domain/charts.py on the page and as a native chart in the workbook."""

    value: str  # the column whose values are the bars
    target: str | None = None  # the column of the target (a dashed line per row that has one)
    title: str | None = None  # default: the value column's group label, else its label


@dataclass(frozen=True)
class Block:
    rows: str | tuple[RowSpec, ...]  # "periods", "units" or explicit rows
    groups: tuple[Group, ...]
    rules: tuple[Rule, ...] = ()
    header: bool = True
    total: str | None = None  # rows: units: the label of the total row printed last (row key "total")
    corner: str | None = None  # the header over the row labels (default CORNER_LABELS / NAMED_ROWS_CORNER)
    serial: str | None = None  # the header of a leading serial-number column ("STT"); None: no such column
    period_label: str = PERIOD_LABEL  # rows: periods: a row's label, "{year}" replaced
    numbers: str | tuple[str, ...] = "auto"  # the column-number row: "auto", "none" or the printed texts

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(c for g in self.groups for c in g.columns)

    @property
    def by_unit(self) -> bool:
        """Whether the rows are the reporting units (each unit fills its own row)."""
        return self.rows == UNITS

    @property
    def corner_label(self) -> str:
        if self.corner is not None:
            return self.corner
        return CORNER_LABELS.get(self.rows, NAMED_ROWS_CORNER) if isinstance(self.rows, str) else NAMED_ROWS_CORNER

    @property
    def owner_kinds(self) -> set[str]:
        return {k for g in self.groups for k in g.owner}

    def row_specs(self, frame: Frame | list[int]) -> list[RowSpec]:
        """The rows of the block for a campaign's ``frame`` (a list of years: a frame without units)."""
        frame = Frame.of(frame)
        if self.rows == PERIODS:
            return [RowSpec(str(y), self.period_label.format(year=y)) for y in frame.years]
        if self.rows == UNITS:
            kinds = self.owner_kinds
            specs = [RowSpec(u.code, u.name) for u in frame.units if not u.kind or u.kind in kinds]
            return specs + ([RowSpec(TOTAL_ROW_KEY, self.total, total=True)] if self.total else [])
        return list(self.rows)


QUOTA_MESSAGE = "Mỗi đơn vị có tối đa {n} dòng «{category}»"


@dataclass(frozen=True)
class Quota:
    """At most so many rows of a list per unit for some values of one of its choice columns
    (seed 001: each district proposes at most 2 collectives and 2 individuals)."""

    column: str
    per_unit: tuple[tuple[str, int], ...]  # (category, at most that many rows of it per unit)
    message: str = QUOTA_MESSAGE  # {n}: the limit, {category}: the category

    def limit(self, category: object) -> int | None:
        return next((n for c, n in self.per_unit if c == category), None)

    def breach(self, rows: list[dict], categories: set | None = None) -> str | None:
        """Why the unit's rows ``rows`` (their data) break the quota, for the first category over its
        limit (among ``categories`` when given); None when they keep it."""
        for category, n in self.per_unit:
            used = sum(1 for data in rows if data.get(self.column) == category)
            if used > n and (categories is None or category in categories):
                return self.message.format(n=n, category=category) + "."
        return None


@dataclass(frozen=True)
class Table:
    code: str
    sheet: str
    title: str
    kind: str  # "grid" or "list"
    headings: tuple[str, ...] = ()
    blocks: tuple[Block, ...] = ()
    list_columns: tuple[Column, ...] = ()
    owner: tuple[str, ...] = ()  # list tables: who adds rows
    order_by: str | None = None
    unique_by: tuple[str, ...] = ()
    inferred: bool = False
    note: str | None = None
    charts: tuple[ChartSpec, ...] = ()
    quota: Quota | None = None  # list tables: at most so many rows of a category per unit

    @property
    def is_list(self) -> bool:
        return self.kind == "list"

    @property
    def columns(self) -> tuple[Column, ...]:
        if self.is_list:
            return self.list_columns
        return tuple(c for b in self.blocks for c in b.columns)

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def block_of(self, key: str) -> Block:
        for b in self.blocks:
            if any(c.key == key for c in b.columns):
                return b
        raise KeyError(key)

    @property
    def by_unit(self) -> bool:
        """A grid whose rows are the reporting units: it is its own breakdown by unit (none is drawn)."""
        return not self.is_list and all(b.by_unit for b in self.blocks)

    @property
    def has_breakdown(self) -> bool:
        """Whether the table has a breakdown by unit (page and "theo ĐV" sheet): a grid not of unit rows."""
        return not self.is_list and not self.by_unit

    @property
    def owner_kinds(self) -> tuple[str, ...]:
        if self.is_list:
            return self.owner
        kinds: list[str] = []
        for c in self.columns:
            for k in c.owner:
                if k not in kinds:
                    kinds.append(k)
        return tuple(kinds)

    @property
    def groups(self) -> list[tuple[str, Group]]:
        """The column groups with their keys (``xa``, ``huyen`` …, from the file): the unit of assignment."""
        return [(g.key, g) for b in self.blocks for g in b.groups]

    def expected_inputs(self, groups: set[str], frame: Frame | list[int]) -> int:
        """How many number and yes/no cells a unit that fills ``groups`` is asked for; notes are
        optional and a list has no expected size. A block whose rows are the units asks for one row:
        the unit's own."""
        return self._expected_inputs(frozenset(groups), Frame.of(frame))

    @functools.lru_cache(maxsize=4096)  # asked for every unit × table on each completeness count
    def _expected_inputs(self, groups: frozenset[str], frame: Frame) -> int:
        total = 0
        for group_key, group in self.groups:
            if group_key in groups:
                block = self.block_of(group.columns[0].key)
                rows = 1 if block.by_unit else len(block.row_specs(frame))
                total += rows * sum(1 for c in group.columns if c.kind.counts_as_expected)
        return total

    def place_label(self, frame: Frame | list[int], row_key: str | None = None, col_key: str | None = None) -> str:
        """Where a cell is, in the printed words: "Biểu II.1.5 · Năm 2021 · Cấp xã › Tổng số".
        Keys the outline does not know (a list row's id, an old column) are shown as they are."""
        parts = [f"Biểu {self.code}"]
        if row_key:
            if self.is_list:
                parts.append(f"văn bản mã {row_key}")
            else:
                labels = {spec.key: spec.label for block in self.blocks for spec in block.row_specs(frame)}
                parts.append(labels.get(row_key, row_key))
        if col_key:
            try:
                column = self.column(col_key)
            except KeyError:
                parts.append(col_key)
            else:
                parts.append(f"{column.group_label} › {column.label}" if column.group_label else column.label)
        return " · ".join(parts)

    def group_key_of(self, column_key: str) -> str:
        for gkey, g in self.groups:
            if any(c.key == column_key for c in g.columns):
                return gkey
        if self.is_list:
            return LIST_GROUP_KEY
        raise KeyError(column_key)


@dataclass(frozen=True)
class Section:
    """A numbered heading of the outline's narrative report (the ĐỀ CƯƠNG): what each unit answers
    in words, section by section, and what the district's report is written to."""
    code: str  # stable key, unique in the outline: stored answers refer to it ("p1.II.2")
    number: str  # as printed: "Phần thứ nhất", "I-", "1.", "1.1."
    title: str  # as printed
    guidance: str = ""  # the outline's guidance text under the heading (paragraphs split by blank lines)
    children: tuple[Section, ...] = ()
    answered: bool = True  # units write an answer here (False: a heading that only groups others)

    def walk(self):
        """This section, then its descendants, in the printed order."""
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def heading(self) -> str:
        """Number and title as one printed line: "1. Sự lãnh đạo của Đảng, …"."""
        return f"{self.number} {self.title}"

    def guidance_blocks(self) -> list[tuple[str, str | list[str]]]:
        """The guidance as printed: ("p", text) per paragraph (split by blank lines), ("ul", items)
        for a run of lines that begin with "- " (a bulleted list)."""
        blocks: list[tuple[str, str | list[str]]] = []
        for chunk in re.split(r"\n\s*\n", self.guidance):
            lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
            if not lines:
                continue
            if all(line.startswith("- ") for line in lines):
                items = [line[2:].strip() for line in lines]
                if blocks and blocks[-1][0] == "ul":  # bullets split by blank lines: one list
                    blocks[-1][1].extend(items)
                else:
                    blocks.append(("ul", items))
            else:
                blocks.append(("p", " ".join(lines)))
        return blocks


@dataclass(frozen=True)
class Outline:
    code: str
    version: int
    title: str
    subtitle: str
    unit_kinds: dict[str, str]
    tables: tuple[Table, ...]
    source: str = ""
    checks: tuple[OutlineCheck, ...] = ()
    digest: str = field(default="", compare=False)
    sections: tuple[Section, ...] = ()  # the narrative report's headings; () for a tables-only outline

    def table(self, code: str) -> Table:
        for t in self.tables:
            if t.code == code:
                return t
        raise KeyError(code)

    @property
    def ident(self) -> str:
        return f"{self.code}@{self.version}"

    def all_sections(self) -> list[Section]:
        """Every narrative section, in the printed order."""
        return [s for top in self.sections for s in top.walk()]


# --- reading the file: every mapping and sequence remembers its line ------------------------------

MAX_OUTLINE_BYTES = 1024 * 1024  # an outline file is text of some tens of KB (kl49.yaml: 17 KB)
CODE_MAX = 40  # outline.code
TITLE_MAX = 300  # outline.title
TABLE_CODE_MAX = 20  # table codes in cell values, assignments, notes
COLUMN_KEY_MAX = 40  # column and row keys in cell values and notes
KIND_KEY_MAX = 30  # unit.kind
VERSION_MAX = 2_147_483_647
TABLE_CODE_FORBIDDEN = re.compile(r"[/\\?#%]")  # a table code is a part of the pages' addresses


class MarkedDict(dict):
    """A mapping read from a file: ``line`` where it starts, ``key_lines`` where each key is (1-based),
    ``duplicates`` the keys written twice (key, line, line of the first)."""

    line: int | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}
        self.duplicates: list[tuple[Any, int, int]] = []
        self.reported = False


class MarkedList(list):
    """A sequence read from a file: ``line`` where it starts, ``item_lines`` where each item is."""

    line: int | None = None

    def __init__(self, *args):
        super().__init__(*args)
        self.item_lines: list[int] = []


class _LineLoader(yaml.SafeLoader):
    """yaml's safe loader, keeping lines (MarkedDict, MarkedList) and every duplicate key (yaml
    itself keeps the last silently). Aliases (``*name``) are refused: every group and column of an
    outline is written out where it stands, with its own key."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"không dùng bí danh YAML (*{event.anchor}) trong đề cương: hãy viết đầy đủ",
                event.start_mark)
        return super().compose_node(parent, index)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode):
    data = MarkedDict()
    data.line = node.start_mark.line + 1
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError("while constructing a mapping", node.start_mark,
                                                    "found unhashable key", key_node.start_mark) from None
        line = key_node.start_mark.line + 1
        if key in data:
            data.duplicates.append((key, line, data.key_lines[key]))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = line


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode):
    data = MarkedList()
    data.line = node.start_mark.line + 1
    yield data
    for child in node.value:
        data.append(loader.construct_object(child, deep=True))
        data.item_lines.append(child.start_mark.line + 1)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def line_of(node: Any, key: Any = None, index: int | None = None) -> int | None:
    """The line of ``node`` in its file (of its ``key`` or its item ``index`` when given), or None
    for data that was not read from a file."""
    if key is not None and isinstance(node, MarkedDict) and key in node.key_lines:
        return node.key_lines[key]
    if index is not None and isinstance(node, MarkedList) and index < len(node.item_lines):
        return node.item_lines[index]
    return getattr(node, "line", None)


class _Reader:
    """Walks the raw YAML, collecting problems with their line and place instead of stopping at the first."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, str]] = []

    @property
    def problems(self) -> list[str]:
        """Every problem as ``dòng N: place: message`` (no line for data not read from a file), by line."""
        ordered = sorted(enumerate(self.entries), key=lambda e: (e[1][0], e[0]))
        return [text for _, (_, text) in ordered]

    def problem(self, place: str, message: str, line: int | None = None) -> None:
        text = f"{place}: {message}" if place else message
        self.entries.append((line or 0, f"dòng {line}: {text}" if line else text))

    def mapping(self, raw: Any, place: str) -> bool:
        """Whether ``raw`` is a mapping (else a problem at ``place``); its duplicate keys are named here."""
        if not isinstance(raw, dict):
            self.problem(place, "phải là một bảng khóa: giá trị (mapping)", line_of(raw))
            return False
        if isinstance(raw, MarkedDict) and not raw.reported:
            raw.reported = True
            for key, line, first in raw.duplicates:
                self.problem(place, f"khóa '{key}' bị lặp lại (đã có ở dòng {first})", line)
        return True

    def get(self, data: Any, key: str, place: str, kind: type | tuple, required: bool = True,
            default: Any = None) -> Any:
        if not isinstance(data, dict):
            self.problem(place, "phải là một bảng khóa: giá trị (mapping)", line_of(data))
            return default
        if key not in data:
            if required:
                self.problem(place, f"thiếu khóa '{key}'", line_of(data))
            return default
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.problem(f"{place} > {key}" if place else key, f"phải có kiểu {names}, đang là {type(value).__name__}",
                         line_of(data, key))
            return default
        return value

    def strings(self, data: Any, key: str, place: str, required: bool = False) -> list[str]:
        """A list of strings under ``key`` (items of another type are named and left out)."""
        items = self.get(data, key, place, list, required=required, default=[]) or []
        out = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                out.append(item)
            else:
                self.problem(f"{place} > {key}[{i}]", f"phải có kiểu str, đang là {type(item).__name__}",
                             line_of(items, index=i) or line_of(data, key))
        return out

    def flag(self, data: Any, key: str, place: str) -> bool:
        return bool(self.get(data, key, place, bool, required=False, default=False))

    def unreported_duplicates(self, data: Any) -> None:
        """Duplicate keys in parts of the file the walk did not visit (under an unknown key …)."""
        stack, seen = [data], set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, dict):
                if isinstance(node, MarkedDict) and not node.reported:
                    node.reported = True
                    for key, line, first in node.duplicates:
                        self.problem("", f"khóa '{key}' bị lặp lại (đã có ở dòng {first})", line)
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)


_ROOT_KEYS = {"code", "version", "title", "subtitle", "unit_kinds", "tables", "checks", "sections"}


def parse_outline(data: Any, source: str = "<outline>") -> Outline:
    """Check ``data`` (the outline file as read by yaml: plain dicts and lists, or those of
    read_outline, which carry their lines) and build the Outline; raises OutlineError naming the
    place (and, read from a file, the line) of every mistake."""
    r = _Reader()
    if not r.mapping(data, ""):
        raise OutlineError(source, r.problems)
    code = r.get(data, "code", "", str, default="")
    if code and (not KEY_PATTERN.match(code) or len(code) > CODE_MAX):
        r.problem("code", f"mã đề cương '{code}' chỉ gồm chữ thường không dấu, số và '_', bắt đầu bằng chữ, "
                          f"tối đa {CODE_MAX} ký tự", line_of(data, "code"))
    version = r.get(data, "version", "", int, default=0)
    if isinstance(data.get("version"), int) and not isinstance(data["version"], bool):
        if version < 1:
            r.problem("version", f"phiên bản phải là số nguyên từ 1 trở lên, đang là {version}",
                      line_of(data, "version"))
        elif version > VERSION_MAX:
            r.problem("version", f"phiên bản {version} quá lớn", line_of(data, "version"))
    title = r.get(data, "title", "", str, default="")
    if "title" in data and isinstance(data["title"], str) and not title.strip():
        r.problem("title", "tiêu đề không được để trống", line_of(data, "title"))
    elif re.search(r"[\x00-\x1f\x7f]", title):
        r.problem("title", "tiêu đề phải nằm trên một dòng, không có ký tự điều khiển", line_of(data, "title"))
    elif len(title) > TITLE_MAX:
        r.problem("title", f"tiêu đề dài {len(title)} ký tự, tối đa {TITLE_MAX}", line_of(data, "title"))
    subtitle = r.get(data, "subtitle", "", str, required=False, default="")
    kinds = _parse_kinds(r, data)
    raw_tables = r.get(data, "tables", "", list, default=[]) or []
    for extra in sorted(set(data) - _ROOT_KEYS, key=str):
        r.problem("", f"khóa không được biết '{extra}'", line_of(data, extra))
    if not raw_tables and not r.entries:
        r.problem("tables", "không có bảng nào", line_of(data, "tables"))

    tables: list[Table] = []
    seen_codes: set[str] = set()
    seen_sheets: set[str] = set()
    for ti, raw in enumerate(raw_tables):
        label = raw.get("code") if isinstance(raw, dict) else None
        place = f"tables[{ti}]" + (f" ({label})" if label else "")
        table = _parse_table(r, raw, place, kinds)
        if table is None:
            continue
        code_line = line_of(raw, "code")
        sheet_line = line_of(raw, "sheet") if "sheet" in raw else code_line
        if table.code in seen_codes:
            r.problem(place, f"mã bảng '{table.code}' bị trùng", code_line)
        if table.sheet in seen_sheets:
            r.problem(place, f"tên sheet '{table.sheet}' bị trùng", sheet_line)
        if len(table.sheet) > 31 or re.search(r"[\[\]:*?/\\]", table.sheet):
            r.problem(place, f"tên sheet '{table.sheet}' không hợp lệ trong Excel", sheet_line)
        seen_codes.add(table.code)
        seen_sheets.add(table.sheet)
        tables.append(table)

    checks = _parse_checks(r, data, tables)
    sections = _parse_sections(r, data, "", set())
    r.unreported_duplicates(data)
    if r.entries:
        raise OutlineError(source, r.problems)
    return Outline(code=code, version=version, title=title, subtitle=subtitle,
                   unit_kinds=dict(kinds), tables=tuple(tables), source=source, checks=checks,
                   sections=sections)


_SECTION_KEYS = {"key", "number", "title", "guidance", "sections", "answered"}
SECTION_KEY_MAX = 40  # narrative_answer.section_code
SECTION_NUMBER_MAX = 40
SECTION_KEY_MISSING = ("thiếu khóa 'key': mỗi mục của đề cương báo cáo cần một mã ổn định (ví dụ key: p1_ii_2); "
                       "bài viết của các đơn vị gắn với mã này, không với số thứ tự hay vị trí của mục")


def _parse_sections(r: _Reader, parent: Any, place: str, seen: set[str]) -> tuple[Section, ...]:
    """The ``sections`` under ``parent`` (the root or a section): the narrative report's headings,
    each with its stable key, its number and title as printed, its guidance and its subsections."""
    raw_sections = r.get(parent, "sections", place, list, required=False, default=[]) or []
    if isinstance(parent, dict) and isinstance(parent.get("sections"), list) and not raw_sections:
        r.problem(f"{place} > sections" if place else "sections", "cần ít nhất một mục (hoặc bỏ khóa 'sections')",
                  line_of(parent, "sections"))
    out = []
    for i, raw in enumerate(raw_sections):
        here = f"{place} > sections[{i}]" if place else f"sections[{i}]"
        if not isinstance(raw, dict):
            r.problem(here, "phải là một bảng khóa: giá trị (mapping) với key, number, title",
                      line_of(raw_sections, index=i))
            continue
        read = _read_keyed(r, raw, here, _SECTION_KEYS, SECTION_KEY_MISSING)
        if read is None:
            continue
        here, key = read
        if key and (not KEY_PATTERN.match(key) or len(key) > SECTION_KEY_MAX):
            r.problem(here, f"mã mục '{key}' chỉ gồm chữ thường không dấu, số và '_', bắt đầu bằng chữ, "
                            f"tối đa {SECTION_KEY_MAX} ký tự", line_of(raw, "key"))
        elif key and key in seen:
            r.problem(here, f"mã mục '{key}' bị trùng (mỗi mục một mã riêng trong cả đề cương)", line_of(raw, "key"))
        seen.add(key)
        number = _section_line(r, raw, "number", here, SECTION_NUMBER_MAX)
        title = _section_line(r, raw, "title", here, TITLE_MAX)
        guidance = r.get(raw, "guidance", here, str, required=False, default="") or ""
        children = _parse_sections(r, raw, here, seen)
        answered = r.get(raw, "answered", here, bool, required=False, default=not children)
        out.append(Section(code=key, number=number, title=title, guidance=guidance.strip(),
                           children=children, answered=answered))
    return tuple(out)


def _section_line(r: _Reader, raw: dict, key: str, place: str, most: int) -> str:
    """A section's ``number`` or ``title``: one line of printed text, not empty, at most ``most`` characters."""
    text = r.get(raw, key, place, str, default="") or ""
    line = line_of(raw, key)
    if key in raw and isinstance(raw[key], str):
        if not text.strip():
            r.problem(f"{place} > {key}", "không được để trống", line)
        elif re.search(r"[\x00-\x1f\x7f]", text):
            r.problem(f"{place} > {key}", "phải nằm trên một dòng, không có ký tự điều khiển", line)
        elif len(text) > most:
            r.problem(f"{place} > {key}", f"dài {len(text)} ký tự, tối đa {most}", line)
    return text.strip()


def _parse_kinds(r: _Reader, data: dict) -> dict[str, str]:
    kinds = r.get(data, "unit_kinds", "", dict, default={}) or {}
    if not kinds or not r.mapping(kinds, "unit_kinds"):
        return {}
    good = {}
    for key, name in kinds.items():
        line = line_of(kinds, key)
        if not isinstance(key, str) or not KEY_PATTERN.match(key) or len(key) > KIND_KEY_MAX:
            r.problem("unit_kinds", f"mã loại đơn vị '{key}' chỉ gồm chữ thường không dấu, số và '_', "
                                    f"bắt đầu bằng chữ, tối đa {KIND_KEY_MAX} ký tự", line)
        elif not isinstance(name, str) or not name.strip():
            r.problem(f"unit_kinds > {key}", "cần tên của loại đơn vị", line)
        else:
            good[key] = name
    return good


_TABLE_KEYS = {"code", "sheet", "kind", "title", "headings", "blocks", "columns", "owner", "order_by",
               "unique_by", "inferred", "note", "chart", "quota"}
_QUOTA_KEYS = {"column", "per_unit", "message"}
_BLOCK_KEYS = {"rows", "groups", "rules", "header", "numbers", "total", "corner", "serial", "period_label"}
_GROUP_KEYS = {"key", "label", "owner", "columns", "inferred"}
LIST_GROUP_KEY = "rows"  # a list table has one "group": its rows
GROUP_KEY_MISSING = ("thiếu khóa 'key': mỗi nhóm cột cần một mã ổn định (ví dụ key: xa); việc giao biểu và số liệu "
                     "đã nhập gắn với mã này, không với vị trí của nhóm trong tệp")
COLUMN_KEY_MISSING = ("thiếu khóa 'key': mỗi cột cần một mã ổn định (ví dụ key: xa_tong); số liệu đã nhập gắn với "
                      "mã này, không với vị trí của cột trong tệp")
GROUP_KEY_MAX = 20
_TYPE_KEYS = frozenset().union(*(t.keys for t in TYPES.values())) - {"choices"}  # a type's own keys
_COLUMN_KEYS = {"key", "label", "type", "span", "choices", "required", "max_length", "question",
                "inferred"} | _TYPE_KEYS
_ROW_KEYS = {"key", "label"}
_RULE_KEYS = {"check", "level", "message", "tolerance"}


def _unknown_keys(r: _Reader, raw: Any, allowed: set[str], place: str) -> None:
    if isinstance(raw, dict):
        for extra in sorted(set(raw) - allowed, key=str):
            r.problem(place, f"khóa không được biết '{extra}'", line_of(raw, extra))


def _parse_owner(r: _Reader, raw: Any, place: str, kinds: dict) -> tuple[str, ...]:
    owner = r.get(raw, "owner", place, list, default=[]) or []
    for i, k in enumerate(owner):
        if not isinstance(k, str) or k not in kinds:
            r.problem(f"{place} > owner", f"loại đơn vị '{k}' không có trong unit_kinds",
                      line_of(owner, index=i) or line_of(raw, "owner"))
    if isinstance(raw, dict) and "owner" in raw and isinstance(raw["owner"], list) and not owner:
        r.problem(f"{place} > owner", "cần ít nhất một loại đơn vị", line_of(raw, "owner"))
    return tuple(owner)


def _parse_table(r: _Reader, raw: Any, place: str, kinds: dict) -> Table | None:
    if not r.mapping(raw, place):
        return None
    _unknown_keys(r, raw, _TABLE_KEYS, place)
    code = r.get(raw, "code", place, str, default="?")
    if code != "?" and (not code.strip() or code != code.strip() or len(code) > TABLE_CODE_MAX
                        or TABLE_CODE_FORBIDDEN.search(code)):
        r.problem(f"{place} > code", f"mã bảng '{code}' phải có từ 1 đến {TABLE_CODE_MAX} ký tự, không có "
                                     "khoảng trắng ở đầu hay cuối, không có / \\ ? # %", line_of(raw, "code"))
    kind = r.get(raw, "kind", place, str, required=False, default="grid")
    common = dict(
        code=code,
        sheet=r.get(raw, "sheet", place, str, required=False, default=code),
        title=r.get(raw, "title", place, str, default=""),
        kind=kind,
        headings=tuple(r.strings(raw, "headings", place)),
        inferred=r.flag(raw, "inferred", place),
        note=r.get(raw, "note", place, str, required=False),
    )
    if kind == "list":
        for misplaced in ("blocks", "chart"):
            if misplaced in raw:
                r.problem(place, f"bảng danh sách không có khóa '{misplaced}' (dùng 'columns')",
                          line_of(raw, misplaced))
        owner = _parse_owner(r, raw, place, kinds)
        raw_cols = r.get(raw, "columns", place, list, default=[]) or []
        parsed = [_parse_column(r, c, f"{place} > columns[{i}]", owner, None, 0) for i, c in enumerate(raw_cols)]
        pairs = [(c, rc) for c, rc in zip(parsed, raw_cols) if c]
        cols = [c for c, _ in pairs]
        keys = {c.key for c in cols}
        _check_unique_keys(r, pairs, place)
        order_by = r.get(raw, "order_by", place, str, required=False)
        if order_by and order_by not in keys:
            r.problem(place, f"cột '{order_by}' không có trong bảng", line_of(raw, "order_by"))
        unique_list = raw.get("unique_by")
        unique_by = tuple(r.strings(raw, "unique_by", place))
        for i, k in enumerate(unique_by):
            if k not in keys:
                r.problem(place, f"cột '{k}' không có trong bảng", line_of(unique_list, index=i))
        for c, rc in pairs:
            if not c.kind.in_lists:
                r.problem(f"{place} > columns ({c.key})", f"kiểu '{c.type}' không dùng được trong bảng danh sách",
                          line_of(rc, "type"))
        if not cols and isinstance(raw.get("columns"), list):
            r.problem(place, "không có cột nào", line_of(raw, "columns"))
        quota = _parse_quota(r, raw, place, {c.key: c for c in cols}) if "quota" in raw else None
        return Table(**common, list_columns=tuple(cols), owner=owner, order_by=order_by, unique_by=unique_by,
                     quota=quota)
    if kind != "grid":
        r.problem(f"{place} > kind", f"phải là 'grid' hoặc 'list', đang là '{kind}'", line_of(raw, "kind"))
        return None
    for misplaced in ("columns", "owner", "order_by", "unique_by", "quota"):
        if misplaced in raw:
            r.problem(place, f"khóa '{misplaced}' chỉ dùng cho bảng danh sách (kind: list); bảng lưới khai báo "
                             "cột trong blocks > groups", line_of(raw, misplaced))

    blocks: list[Block] = []
    group_keys: set[str] = set()
    pairs: list[tuple[Column, Any]] = []
    raw_blocks = r.get(raw, "blocks", place, list, default=[]) or []
    for bi, rb in enumerate(raw_blocks):
        bplace = f"{place} > blocks[{bi}]"
        if not r.mapping(rb, bplace):
            continue
        _unknown_keys(r, rb, _BLOCK_KEYS, bplace)
        rows_raw = r.get(rb, "rows", bplace, (str, list), default=PERIODS)
        rows: str | tuple[RowSpec, ...] = PERIODS
        if isinstance(rows_raw, str):
            if rows_raw in (PERIODS, UNITS):
                rows = rows_raw
            else:
                r.problem(f"{bplace} > rows", "phải là 'periods', 'units' hoặc danh sách các dòng {key, label}",
                          line_of(rb, "rows"))
        else:
            specs = []
            row_keys: set[str] = set()
            for ri, row in enumerate(rows_raw):
                rplace = f"{bplace} > rows[{ri}]"
                if not r.mapping(row, rplace):
                    continue
                _unknown_keys(r, row, _ROW_KEYS, rplace)
                key = r.get(row, "key", rplace, str, default="")
                if key and (not KEY_PATTERN.match(key) or len(key) > COLUMN_KEY_MAX):
                    r.problem(rplace, f"mã dòng '{key}' chỉ gồm chữ thường, số và '_'", line_of(row, "key"))
                elif key in row_keys:
                    r.problem(rplace, f"mã dòng '{key}' bị trùng trong khối", line_of(row, "key"))
                row_keys.add(key)
                specs.append(RowSpec(key, r.get(row, "label", rplace, str, default="")))
            if not rows_raw:
                r.problem(f"{bplace} > rows", "cần ít nhất một dòng", line_of(rb, "rows"))
            rows = tuple(specs)
        groups: list[Group] = []
        block_pairs: list[tuple[Column, Any]] = []
        for gi, rg in enumerate(r.get(rb, "groups", bplace, list, default=[]) or []):
            read = _read_keyed(r, rg, f"{bplace} > groups[{gi}]", _GROUP_KEYS, GROUP_KEY_MISSING)
            if read is None:
                continue
            gplace, gkey = read
            if gkey:
                key_line = line_of(rg, "key")
                if not KEY_PATTERN.match(gkey) or len(gkey) > GROUP_KEY_MAX:
                    r.problem(gplace, f"mã nhóm cột '{gkey}' chỉ gồm chữ thường, số và '_', bắt đầu bằng chữ, "
                                      f"tối đa {GROUP_KEY_MAX} ký tự", key_line)
                elif gkey == LIST_GROUP_KEY:
                    r.problem(gplace, f"mã nhóm cột '{LIST_GROUP_KEY}' được dành cho bảng danh sách", key_line)
                elif gkey in group_keys:
                    r.problem(gplace, f"mã nhóm cột '{gkey}' bị trùng trong bảng", key_line)
                group_keys.add(gkey)
            owner = _parse_owner(r, rg, gplace, kinds)
            levels = _group_levels(r, rg, gplace)
            label = " › ".join(levels) or None
            raw_cols = r.get(rg, "columns", gplace, list, default=[]) or []
            parsed = [_parse_column(r, c, f"{gplace} > columns[{ci}]", owner, label, gi)
                      for ci, c in enumerate(raw_cols)]
            group_pairs = [(c, rc) for c, rc in zip(parsed, raw_cols) if c]
            if not group_pairs and isinstance(rg.get("columns"), list):
                r.problem(gplace, "không có cột nào", line_of(rg, "columns"))
            pairs.extend(group_pairs)
            groups.append(Group(key=gkey, label=label, owner=owner, columns=tuple(c for c, _ in group_pairs),
                                inferred=r.flag(rg, "inferred", gplace), levels=levels))
            block_pairs.extend(group_pairs)
        groups = _derived_checked(r, groups, block_pairs, place)
        if not groups:
            r.problem(bplace, "không có nhóm cột nào", line_of(rb))
        block_cols = [c for g in groups for c in g.columns]
        rules = []
        for ri, rr in enumerate(r.get(rb, "rules", bplace, list, required=False, default=[]) or []):
            rule = _parse_rule(r, rr, f"{bplace} > rules[{ri}]", {c.key: c for c in block_cols})
            if rule:
                rules.append(rule)
        blocks.append(Block(rows=rows, groups=tuple(groups), rules=tuple(rules),
                            header=bool(r.get(rb, "header", bplace, bool, required=False, default=True)),
                            numbers=_number_row(r, rb, bplace, len(block_cols), 2 if "serial" in rb else 1),
                            **_row_options(r, rb, bplace, rows)))
    if not blocks:
        r.problem(place, "không có khối (blocks) nào", line_of(raw, "blocks") if "blocks" in raw else line_of(raw))
    _check_unique_keys(r, pairs, place)
    return Table(**common, blocks=tuple(blocks), charts=_parse_charts(r, raw, place, blocks))


def _number_row(r: _Reader, raw: Any, place: str, columns: int, lead: int = 1) -> str | tuple[str, ...]:
    """A block's ``numbers``: "auto" (A, 1, 2, 3=1/2*100 …), "none", or the texts as printed, one per
    printed column, the row label column first (``lead`` 2: after the serial-number column)."""
    value = r.get(raw, "numbers", place, (str, list), required=False, default="auto")
    if isinstance(value, str):
        if value not in ("auto", "none"):
            r.problem(f"{place} > numbers", f"phải là 'auto', 'none' hoặc danh sách các số cột, đang là '{value}'",
                      line_of(raw, "numbers"))
            return "auto"
        return value
    texts = [str(v) for v in value if isinstance(v, (str, int)) and not isinstance(v, bool)]
    if len(texts) != len(value):
        r.problem(f"{place} > numbers", "mỗi số cột phải là một chữ hoặc một số", line_of(raw, "numbers"))
    elif len(texts) != columns + lead:
        serial = "cột số thứ tự, " if lead == 2 else ""
        r.problem(f"{place} > numbers", f"cần {columns + lead} số cột ({serial}cột tên dòng và {columns} cột của "
                                        f"khối), đang có {len(texts)}", line_of(raw, "numbers"))
    return tuple(texts)


def _group_levels(r: _Reader, raw: Any, place: str) -> tuple[str, ...]:
    """A group's ``label``: one header text, or a list of levels (outermost first)."""
    value = r.get(raw, "label", place, (str, list), required=False)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        levels = tuple(r.strings(raw, "label", place))
        if not levels:
            r.problem(f"{place} > label", "cần ít nhất một tầng tiêu đề", line_of(raw, "label"))
        return levels
    return ()


def _derived_checked(r: _Reader, groups: list[Group], pairs: list[tuple[Column, Any]], place: str) -> list[Group]:
    """Check what the block's derived columns read (columns of the same block, numbers, no cycle) and
    give each sum the places of its operands; returns the groups with those sums."""
    by_key = {c.key: c for c, _ in pairs}
    for c, rc in pairs:
        for role, ref in c.kind.operand_roles:
            where = f"{place} > {c.key} > {role}"
            if ref not in by_key:
                within = "bảng" if c.type == "percent" else "khối"  # a rate's words as the first outlines had them
                r.problem(where, f"cột '{ref}' không có trong {within}", line_of(rc, role))
            elif ref == c.key or not by_key[ref].is_numeric or (by_key[ref].kind.written_as_text
                                                                 and not c.kind.reads_yes_no):
                r.problem(where, f"cột '{ref}' phải là cột số", line_of(rc, role))
    decimals: dict[str, int] = {}

    def settle(key: str, seen: tuple[str, ...]) -> int:
        """The places of a column; a sum's are its operands' largest (a cycle is named once)."""
        c = by_key[key]
        if not c.kind.takes_operand_places:
            return c.kind.decimals
        if key in seen:
            raise RecursionError(key)
        if key not in decimals:
            decimals[key] = max([0] + [settle(k, seen + (key,)) for k in c.sum_of if k in by_key])
        return decimals[key]

    for c, rc in pairs:
        if c.is_derived:
            try:
                _no_cycle(by_key, c.key, ())
                if c.kind.takes_operand_places and c.decimals is None:
                    settle(c.key, ())
            except RecursionError:
                r.problem(f"{place} > {c.key}", "công thức vòng quanh: cột này tự tính từ chính nó", line_of(rc))
    if not decimals:
        return groups
    return [replace(g, columns=tuple(replace(c, decimals=decimals[c.key]) if c.key in decimals else c
                                     for c in g.columns)) for g in groups]


def _no_cycle(by_key: dict[str, Column], key: str, seen: tuple[str, ...]) -> None:
    if key in seen:
        raise RecursionError(key)
    column = by_key.get(key)
    if column is not None and column.is_derived:
        for ref in column.kind.operands:
            _no_cycle(by_key, ref, seen + (key,))


_CHART_KEYS = {"value", "target", "title"}


def _parse_charts(r: _Reader, raw: dict, place: str, blocks: list[Block]) -> tuple[ChartSpec, ...]:
    """The table's ``chart``: one mapping ``{value, target, title}`` or a list of them (one per
    indicator); a chart's value and target are numbers of the same block (the same rows)."""
    if "chart" not in raw:
        return ()
    columns = {c.key: c for b in blocks for c in b.columns}
    block_of = {c.key: i for i, b in enumerate(blocks) for c in b.columns}
    given = raw["chart"]
    items = given if isinstance(given, list) else [given]
    charts = []
    for i, item in enumerate(items):
        cplace = f"{place} > chart[{i}]" if isinstance(given, list) else f"{place} > chart"
        if not isinstance(item, dict):
            r.problem(cplace, "phải là một bảng khóa {value, target, title} hoặc danh sách các bảng đó",
                      line_of(given, index=i) if isinstance(given, list) else line_of(raw, "chart"))
            continue
        r.mapping(item, cplace)
        _unknown_keys(r, item, _CHART_KEYS, cplace)
        refs = {role: r.get(item, role, cplace, str, required=role == "value") for role in ("value", "target")}
        for role, ref in refs.items():
            if ref is None:
                continue
            if ref not in columns:
                r.problem(f"{cplace} > {role}", f"cột '{ref}' không có trong bảng", line_of(item, role))
            elif not columns[ref].is_numeric:
                r.problem(f"{cplace} > {role}", f"cột '{ref}' phải là cột số", line_of(item, role))
            elif role == "target" and refs["value"] in block_of and block_of[ref] != block_of[refs["value"]]:
                r.problem(f"{cplace} > target", f"cột '{ref}' phải cùng khối với cột '{refs['value']}' (cùng các dòng)",
                          line_of(item, role))
        if refs["value"] is not None:
            charts.append(ChartSpec(value=refs["value"], target=refs["target"],
                                    title=r.get(item, "title", cplace, str, required=False)))
    return tuple(charts)


def _row_options(r: _Reader, rb: dict, place: str, rows: str | tuple[RowSpec, ...]) -> dict[str, Any]:
    """A block's keys about its rows: ``total`` (rows: units), ``corner``, ``serial``, ``period_label``
    (rows: periods)."""
    options: dict[str, Any] = {}
    for key in ("total", "corner", "serial", "period_label"):
        value = r.get(rb, key, place, str, required=False)
        if value is None:
            continue
        if not value.strip():
            r.problem(f"{place} > {key}", "không được để trống", line_of(rb, key))
            continue
        options[key] = value
    if "total" in options and rows != UNITS:
        r.problem(f"{place} > total", "dòng tổng chỉ dùng khi các dòng là đơn vị (rows: units)", line_of(rb, "total"))
        del options["total"]
    label = options.get("period_label")
    if label is not None:
        if rows != PERIODS:
            r.problem(f"{place} > period_label", "chỉ dùng khi các dòng là các năm (rows: periods)",
                      line_of(rb, "period_label"))
            del options["period_label"]
        elif label.replace("{year}", "").count("{") or label.replace("{year}", "").count("}") or "{year}" not in label:
            r.problem(f"{place} > period_label", f"'{label}' phải chứa {{year}} (ví dụ \"9/{{year}}\") và không có "
                                                   "dấu ngoặc nhọn nào khác", line_of(rb, "period_label"))
            del options["period_label"]
    return options
def _parse_quota(r: _Reader, raw: dict, place: str, cols: dict[str, Column]) -> Quota | None:
    """``quota: {column: loai, per_unit: {"Tập thể": 2, …}, message: "…{n} {category}"}`` of a list table."""
    qplace = f"{place} > quota"
    rq = raw["quota"]
    if not r.mapping(rq, qplace):
        return None
    _unknown_keys(r, rq, _QUOTA_KEYS, qplace)
    column = r.get(rq, "column", qplace, str, default="")
    choices: tuple[str, ...] = ()
    if column:
        if column not in cols:
            r.problem(f"{qplace} > column", f"cột '{column}' không có trong bảng", line_of(rq, "column"))
        elif cols[column].type != "choice":
            r.problem(f"{qplace} > column", f"cột '{column}' phải là cột chọn (type: choice)", line_of(rq, "column"))
        else:
            choices = cols[column].choices
    per_unit = r.get(rq, "per_unit", qplace, dict, default={}) or {}
    if "per_unit" in rq and isinstance(rq["per_unit"], dict) and not per_unit:
        r.problem(f"{qplace} > per_unit", "cần ít nhất một loại và số dòng tối đa của nó", line_of(rq, "per_unit"))
    if per_unit:
        r.mapping(per_unit, f"{qplace} > per_unit")
    limits = []
    for category, n in per_unit.items():
        line = line_of(per_unit, category)
        if choices and category not in choices:
            r.problem(f"{qplace} > per_unit", f"'{category}' không phải một lựa chọn của cột '{column}' "
                                              f"({', '.join(choices)})", line)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            r.problem(f"{qplace} > per_unit > {category}", f"số dòng tối đa phải là số nguyên từ 1 trở lên, đang là "
                                                           f"'{n}'", line)
            continue
        limits.append((str(category), n))
    message = r.get(rq, "message", qplace, str, required=False, default=QUOTA_MESSAGE)
    try:
        message.format(n=1, category="x")
    except (KeyError, IndexError, ValueError):
        r.problem(f"{qplace} > message", "chỉ dùng được {n} (số tối đa) và {category} (loại) trong câu thông báo",
                  line_of(rq, "message"))
        message = QUOTA_MESSAGE
    return Quota(column=column, per_unit=tuple(limits), message=message)


def _check_unique_keys(r: _Reader, pairs: list[tuple[Column, Any]], place: str) -> None:
    seen: set[str] = set()
    for c, raw in pairs:
        if c.key in seen:
            r.problem(place, f"mã cột '{c.key}' bị trùng", line_of(raw, "key"))
        seen.add(c.key)


def _read_keyed(r: _Reader, raw: Any, place: str, known: set[str], key_missing: str) -> tuple[str, str] | None:
    """Begin reading a group or a column, which its key names: None for an entry that is no mapping;
    else (its place, naming its key; its key, "" when it has none), the unknown keys and a missing
    key reported."""
    if not isinstance(raw, dict):
        r.mapping(raw, place)
        return None
    if isinstance(raw.get("key"), str) and raw["key"]:
        place = f"{place} ({raw['key']})"
    r.mapping(raw, place)
    _unknown_keys(r, raw, known, place)
    if "key" not in raw:
        r.problem(place, key_missing, line_of(raw))
    return place, r.get(raw, "key", place, str, required=False, default="")


def _parse_column(r: _Reader, raw: Any, place: str, owner: tuple[str, ...], group_label: str | None,
                  group_index: int) -> Column | None:
    read = _read_keyed(r, raw, place, _COLUMN_KEYS, COLUMN_KEY_MISSING)
    if read is None:
        return None
    place, key = read
    if key and (not KEY_PATTERN.match(key) or len(key) > COLUMN_KEY_MAX):
        r.problem(place, f"mã cột '{key}' chỉ gồm chữ thường, số và '_', bắt đầu bằng chữ", line_of(raw, "key"))
    ctype = r.get(raw, "type", place, str, default="")
    if ctype and ctype not in COLUMN_TYPES:
        r.problem(f"{place} > type", f"kiểu '{ctype}' không được biết (dùng một trong: {', '.join(sorted(COLUMN_TYPES))})",
                  line_of(raw, "type"))
    choices = r.get(raw, "choices", place, list, required=ctype == "choice", default=[]) or []
    if ctype == "choice" and isinstance(raw.get("choices"), list) and not choices:
        r.problem(f"{place} > choices", "cần ít nhất một lựa chọn", line_of(raw, "choices"))
    kind = TYPES.get(ctype)
    if kind is not None and kind.summed and len(owner) != 1:  # whose number is summed must be clear
        r.problem(place, "một cột số phải do đúng một loại đơn vị điền (owner)", line_of(raw))
    span = r.get(raw, "span", place, int, required=False, default=1)
    if span < 1:
        r.problem(f"{place} > span", "phải lớn hơn hoặc bằng 1", line_of(raw, "span"))
    max_length = r.get(raw, "max_length", place, int, required=False, default=1000)
    if max_length < 1:
        r.problem(f"{place} > max_length", "phải lớn hơn hoặc bằng 1", line_of(raw, "max_length"))
    typed: dict[str, Any] = {}
    if kind is not None:
        for extra in sorted((_TYPE_KEYS - kind.keys) & set(raw), key=str):
            owners = ", ".join(sorted(t.name for t in TYPES.values() if extra in t.keys))
            r.problem(f"{place} > {extra}", f"chỉ cột kiểu {owners} có khóa này", line_of(raw, extra))

        def problem(key: str, message: str) -> None:
            top = key.split(" > ")[0]
            r.problem(f"{place} > {key}" if key else place, message,
                      line_of(raw, top) if top in raw else line_of(raw))

        typed = {k: v for k, v in kind.check(raw, problem).items() if v is not None}
    return Column(
        key=key,
        label=r.get(raw, "label", place, str, default=""),
        type=ctype,
        owner=owner,
        span=span,
        group_label=group_label,
        group_index=group_index,
        choices=tuple(str(c) for c in choices),
        required=r.flag(raw, "required", place),
        max_length=max_length,
        question=r.get(raw, "question", place, str, required=False),
        inferred=r.flag(raw, "inferred", place),
        **typed,
    )


def _parse_level(r: _Reader, raw: dict, place: str) -> str:
    level = r.get(raw, "level", place, str, default="error")
    if level not in ("error", "warning"):
        r.problem(f"{place} > level", f"phải là 'error' hoặc 'warning', đang là '{level}'", line_of(raw, "level"))
    return level


def _parse_tolerance(r: _Reader, raw: dict, place: str) -> Tolerance:
    if not isinstance(raw.get("tolerance", 0), (int, float, str)) or isinstance(raw.get("tolerance"), bool):
        r.problem(f"{place} > tolerance", "phải là một số (0, 2) hoặc một tỷ lệ (\"1%\")", line_of(raw, "tolerance"))
        return Tolerance()
    try:
        return parse_tolerance(raw.get("tolerance"))
    except ExpressionError as exc:
        r.problem(f"{place} > tolerance", str(exc), line_of(raw, "tolerance"))
        return Tolerance()


def _parse_rule(r: _Reader, raw: Any, place: str, cols: dict[str, Column]) -> Rule | None:
    if not r.mapping(raw, place):
        return None
    _unknown_keys(r, raw, _RULE_KEYS, place)
    check = r.get(raw, "check", place, str, default="")
    level = _parse_level(r, raw, place)
    message = r.get(raw, "message", place, str, default="")
    tolerance = _parse_tolerance(r, raw, place)
    check_line = line_of(raw, "check")
    if not check:
        return None
    numeric = [k for k, c in cols.items() if c.kind.quantity]
    try:
        relation = parse_relation(check, cols, tolerance)
    except ExpressionError as exc:
        r.problem(f"{place} > check", str(exc), check_line)
        return None
    wrong = [k for k in relation.keys if k not in numeric]
    for k in wrong:
        r.problem(f"{place} > check", f"cột '{k}' phải là cột số (count)", check_line)
    if wrong:
        return None
    return Rule(left=relation.left.text, op=relation.op, right=relation.right.text, level=level,
                message=message, relation=relation, tolerance=tolerance)


def _table_column(r: _Reader, ref: Any, tables: dict[str, Table], place: str, line: int | None
                  ) -> tuple[str, str] | None:
    """``"CDHT1.tong"`` (or ``{table: CDHT1, column: tong}``) as (table code, column key), named if unknown."""
    if isinstance(ref, dict):
        table_code, column_key = ref.get("table"), ref.get("column")
    elif isinstance(ref, str) and "." in ref:
        table_code, _, column_key = ref.rpartition(".")
    else:
        r.problem(place, f"'{ref}' phải có dạng BẢNG.CỘT (ví dụ II.1.1.xa_tong)", line)
        return None
    table = tables.get(table_code)
    if table is None or table.is_list:
        r.problem(place, f"bảng '{table_code}' không có trong đề cương (hoặc là bảng danh sách)", line)
        return None
    try:
        column = table.column(column_key)
    except KeyError:
        r.problem(place, f"cột '{column_key}' không có trong bảng {table_code}", line)
        return None
    if not column.kind.quantity:
        r.problem(place, f"cột '{column_key}' của bảng {table_code} phải là cột số", line)
        return None
    return table_code, column_key


def _parse_checks(r: _Reader, data: dict, tables: list[Table]) -> tuple[OutlineCheck, ...]:
    """The root key ``checks``: same, covers and outlier checks, each with level and message."""
    by_code = {t.code: t for t in tables}
    raw_checks = r.get(data, "checks", "", list, required=False, default=[]) or []
    checks = []
    for i, raw in enumerate(raw_checks):
        place = f"checks[{i}]"
        if not r.mapping(raw, place):
            continue
        kinds = [k for k in CHECK_KINDS if k in raw]
        if len(kinds) != 1:
            r.problem(place, "cần đúng một trong các khóa: " + ", ".join(CHECK_KINDS), line_of(raw))
            continue
        kind = kinds[0]
        place = f"{place} ({kind})"
        _unknown_keys(r, raw, {kind, "level", "message", "tolerance"} | ({"tables"} if kind == "outlier" else set()),
                      place)
        level = _parse_level(r, raw, place)
        message = r.get(raw, "message", place, str, default="")
        tolerance = _parse_tolerance(r, raw, place)
        body, line = raw[kind], line_of(raw, kind)
        cells: list[tuple[str, str]] = []
        factor, limit = DEFAULT_OUTLIER_FACTOR, ()
        if kind == "same":
            if not isinstance(body, list) or len(body) < 2:
                r.problem(f"{place} > same", "cần một danh sách từ hai ô BẢNG.CỘT trở lên", line)
                continue
            for j, ref in enumerate(body):
                cell = _table_column(r, ref, by_code, f"{place} > same[{j}]", line_of(body, index=j) or line)
                if cell:
                    cells.append(cell)
            if len(cells) != len(body):
                continue
        elif kind == "covers":
            cell = _table_column(r, body, by_code, f"{place} > covers", line)
            if not cell:
                continue
            cells.append(cell)
        else:
            if body is None:
                body = {}
            if not r.mapping(body, f"{place} > outlier"):
                continue
            _unknown_keys(r, body, {"factor"}, f"{place} > outlier")
            raw_factor = body.get("factor", 3)
            if isinstance(raw_factor, bool) or not isinstance(raw_factor, (int, float)) or raw_factor <= 1:
                r.problem(f"{place} > outlier > factor", f"phải là một số lớn hơn 1, đang là '{raw_factor}'",
                          line_of(body, "factor") or line)
                continue
            factor = Decimal(str(raw_factor))
            limit = tuple(r.strings(raw, "tables", place))
            for j, code in enumerate(limit):
                if code not in by_code:
                    r.problem(f"{place} > tables[{j}]", f"bảng '{code}' không có trong đề cương",
                              line_of(raw.get("tables"), index=j) or line_of(raw, "tables"))
        checks.append(OutlineCheck(kind=kind, level=level, message=message, cells=tuple(cells), tables=limit,
                                   factor=factor, tolerance=tolerance))
    return tuple(checks)


def outline_digest(text: str) -> str:
    """The short fingerprint of an outline file's text that templates carry (``outline_digest``)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def decode_outline(data: bytes, source: str = "<outline>") -> str:
    """An outline file's bytes as text: UTF-8 (a leading byte-order mark is dropped), line ends as
    ``\\n``, at most MAX_OUTLINE_BYTES; raises OutlineError naming the line otherwise."""
    if len(data) > MAX_OUTLINE_BYTES:
        line = data[:MAX_OUTLINE_BYTES].count(b"\n") + 1
        size = f"{len(data) / 1024 / 1024:.1f}".replace(".", ",")
        raise OutlineError(source, [
            f"dòng {line}: tệp dài {size} MB, vượt quá giới hạn 1 MB của một tệp đề cương từ dòng này "
            "(một đề cương chỉ vài chục KB: có đúng là tệp đề cương không?)"])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start:exc.start].decode("utf-8", errors="replace")) + 1
        raise OutlineError(source, [
            f"dòng {line}, cột {column}: tệp không phải văn bản UTF-8 (byte 0x{data[exc.start]:02X} không đọc "
            "được); hãy lưu tệp với mã hóa UTF-8"]) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def yaml_with_lines(text: str) -> Any:
    """The YAML ``text`` as yaml.safe_load reads it, but mappings and sequences are MarkedDict and
    MarkedList (their lines, the duplicate keys) and aliases are refused; raises yaml.YAMLError."""
    return yaml.load(text, Loader=_LineLoader)  # noqa: S506 (_LineLoader is a SafeLoader)


def read_outline(text: str, source: str = "<outline>") -> Outline:
    """Parse and validate an outline file's text; raises OutlineError naming the line and place of
    every mistake."""
    try:
        data = yaml_with_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"dòng {mark.line + 1}, cột {mark.column + 1}" if mark else "?"
        message = f"{where}: YAML không hợp lệ ({getattr(exc, 'problem', None) or exc})"
        start = getattr(exc, "context_mark", None)  # where what is unclosed began ("[" …)
        if start is not None and mark is not None and start.line != mark.line:
            message += f"; phần này bắt đầu ở dòng {start.line + 1}, cột {start.column + 1}"
        raise OutlineError(source, [message]) from exc
    except RecursionError:
        raise OutlineError(source, ["YAML không hợp lệ (lồng nhau quá sâu)"]) from None
    if data is None:
        raise OutlineError(source, ["dòng 1: tệp đề cương trống"])
    outline = parse_outline(data, source)
    return Outline(**{**outline.__dict__, "digest": outline_digest(text)})


def read_outline_file(data: bytes, source: str = "<outline>") -> tuple[str, Outline]:
    """An uploaded or given outline file's bytes: (its text as stored, the outline); raises OutlineError."""
    text = decode_outline(data, source)
    return text, read_outline(text, source)


def load_outline(path: str | Path) -> Outline:
    """Read and validate an outline file; raises OutlineError naming every mistake's line and place."""
    path = Path(path)
    return read_outline_file(path.read_bytes(), path.name)[1]


# The outlines shipped with the application: stored in the database by `db upgrade`
# (webapp/outline_store.py); campaigns read their version from the database, never from here.
OUTLINE_DIR = Path(__file__).resolve().parent.parent / "outlines"


def shipped_outline_files() -> list[Path]:
    return sorted(OUTLINE_DIR.glob("*.yaml"))


@functools.cache
def shipped_outline(code: str) -> Outline:
    """The shipped file ``outlines/<code>.yaml``, parsed once: for tests and benchmarks that need an
    outline without a database. Campaigns read their stored version (webapp/outline_store.py)."""
    if not KEY_PATTERN.match(code):
        raise KeyError(code)
    return load_outline(OUTLINE_DIR / f"{code}.yaml")
