"""Outline definitions: what the tables of an appendix are, read from a YAML file.

An outline is data. The loader checks the whole file and reports every mistake with its place
(``tables[3] (II.1.3) > blocks[0] > groups[1] > columns[2] (d35_md1): …``) so that the person who
corrects a header sees where, without reading code.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

INPUT_TYPES = {"count", "yesno", "text", "date", "choice"}
DERIVED_TYPES = {"percent"}
FIXED_TYPES = {"unit_count", "serial"}
COLUMN_TYPES = INPUT_TYPES | DERIVED_TYPES | FIXED_TYPES
NUMERIC_TYPES = {"count", "yesno", "unit_count", "percent"}
RULE_PATTERN = re.compile(r"^\s*(\w+)\s*(<=|>=|<|>)\s*(\w+)\s*$")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class OutlineError(ValueError):
    """An outline file that cannot be used; ``problems`` lists every mistake with its place."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


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

    @property
    def is_input(self) -> bool:
        return self.type in INPUT_TYPES

    @property
    def is_derived(self) -> bool:
        return self.type in DERIVED_TYPES

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class Group:
    key: str  # stable: who fills what (assignments) and stored values refer to it
    label: str | None
    owner: tuple[str, ...]
    columns: tuple[Column, ...]
    inferred: bool = False


@dataclass(frozen=True)
class Rule:
    left: str
    op: str
    right: str
    level: str  # "error" blocks the value, "warning" only flags it
    message: str

    def holds(self, left: float, right: float) -> bool:
        return {
            "<=": left <= right,
            ">=": left >= right,
            "<": left < right,
            ">": left > right,
        }[self.op]


@dataclass(frozen=True)
class RowSpec:
    key: str
    label: str


@dataclass(frozen=True)
class Block:
    rows: str | tuple[RowSpec, ...]  # "periods" or explicit rows
    groups: tuple[Group, ...]
    rules: tuple[Rule, ...] = ()
    header: bool = True

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(c for g in self.groups for c in g.columns)

    def row_specs(self, years: list[int]) -> list[RowSpec]:
        if self.rows == "periods":
            return [RowSpec(str(y), f"Năm {y}") for y in years]
        return list(self.rows)


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

    def expected_inputs(self, groups: set[str], years: list[int]) -> int:
        """How many number and yes/no cells a unit that fills ``groups`` is asked for; notes are
        optional and a list has no expected size."""
        return self._expected_inputs(frozenset(groups), tuple(years))

    @functools.lru_cache(maxsize=4096)  # asked for every unit × table on each completeness count
    def _expected_inputs(self, groups: frozenset[str], years: tuple[int, ...]) -> int:
        total = 0
        for group_key, group in self.groups:
            if group_key in groups:
                rows = len(self.block_of(group.columns[0].key).row_specs(years))
                total += rows * sum(1 for c in group.columns if c.is_input and c.type != "text")
        return total

    def place_label(self, years: list[int], row_key: str | None = None, col_key: str | None = None) -> str:
        """Where a cell is, in the printed words: "Biểu II.1.5 · Năm 2021 · Cấp xã › Tổng số".
        Keys the outline does not know (a list row's id, an old column) are shown as they are."""
        parts = [f"Biểu {self.code}"]
        if row_key:
            if self.is_list:
                parts.append(f"văn bản mã {row_key}")
            else:
                labels = {spec.key: spec.label for block in self.blocks for spec in block.row_specs(years)}
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
class Outline:
    code: str
    version: int
    title: str
    subtitle: str
    unit_kinds: dict[str, str]
    tables: tuple[Table, ...]
    source: str = ""
    digest: str = field(default="", compare=False)

    def table(self, code: str) -> Table:
        for t in self.tables:
            if t.code == code:
                return t
        raise KeyError(code)

    @property
    def ident(self) -> str:
        return f"{self.code}@{self.version}"


class _Reader:
    """Walks the raw YAML, collecting problems with their place instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, place: str, message: str) -> None:
        self.problems.append(f"{place}: {message}" if place else message)

    def get(self, data: Any, key: str, place: str, kind: type | tuple, required: bool = True,
            default: Any = None) -> Any:
        if not isinstance(data, dict):
            self.problem(place, "phải là một bảng khóa: giá trị (mapping)")
            return default
        if key not in data:
            if required:
                self.problem(place, f"thiếu khóa '{key}'")
            return default
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.problem(f"{place} > {key}", f"phải có kiểu {names}, đang là {type(value).__name__}")
            return default
        return value


def parse_outline(data: Any, source: str = "<outline>") -> Outline:
    r = _Reader()
    code = r.get(data, "code", "", str, default="")
    version = r.get(data, "version", "", int, default=0)
    title = r.get(data, "title", "", str, default="")
    subtitle = r.get(data, "subtitle", "", str, required=False, default="")
    kinds = r.get(data, "unit_kinds", "", dict, default={}) or {}
    raw_tables = r.get(data, "tables", "", list, default=[]) or []
    if isinstance(data, dict):
        for extra in sorted(set(data) - {"code", "version", "title", "subtitle", "unit_kinds", "tables"}):
            r.problem("", f"khóa không được biết '{extra}'")
    if not raw_tables and not r.problems:
        r.problem("tables", "không có bảng nào")

    tables: list[Table] = []
    seen_codes: set[str] = set()
    seen_sheets: set[str] = set()
    for ti, raw in enumerate(raw_tables):
        label = raw.get("code") if isinstance(raw, dict) else None
        place = f"tables[{ti}]" + (f" ({label})" if label else "")
        table = _parse_table(r, raw, place, kinds)
        if table is None:
            continue
        if table.code in seen_codes:
            r.problem(place, f"mã bảng '{table.code}' bị trùng")
        if table.sheet in seen_sheets:
            r.problem(place, f"tên sheet '{table.sheet}' bị trùng")
        if len(table.sheet) > 31 or re.search(r"[\[\]:*?/\\]", table.sheet):
            r.problem(place, f"tên sheet '{table.sheet}' không hợp lệ trong Excel")
        seen_codes.add(table.code)
        seen_sheets.add(table.sheet)
        tables.append(table)

    if r.problems:
        raise OutlineError(source, r.problems)
    return Outline(code=code, version=version, title=title, subtitle=subtitle,
                   unit_kinds=dict(kinds), tables=tuple(tables), source=source)


_TABLE_KEYS = {"code", "sheet", "kind", "title", "headings", "blocks", "columns", "owner", "order_by",
               "unique_by", "inferred", "note"}
_BLOCK_KEYS = {"rows", "groups", "rules", "header"}
_GROUP_KEYS = {"key", "label", "owner", "columns", "inferred"}
LIST_GROUP_KEY = "rows"  # a list table has one "group": its rows
GROUP_KEY_MAX = 20
_COLUMN_KEYS = {"key", "label", "type", "span", "choices", "required", "max_length", "question",
                "inferred", "of", "over"}


def _unknown_keys(r: _Reader, raw: Any, allowed: set[str], place: str) -> None:
    if isinstance(raw, dict):
        for extra in sorted(set(raw) - allowed):
            r.problem(place, f"khóa không được biết '{extra}'")


def _parse_owner(r: _Reader, raw: Any, place: str, kinds: dict) -> tuple[str, ...]:
    owner = r.get(raw, "owner", place, list, default=[]) or []
    for k in owner:
        if k not in kinds:
            r.problem(f"{place} > owner", f"loại đơn vị '{k}' không có trong unit_kinds")
    if isinstance(raw, dict) and "owner" in raw and not owner:
        r.problem(f"{place} > owner", "cần ít nhất một loại đơn vị")
    return tuple(owner)


def _parse_table(r: _Reader, raw: Any, place: str, kinds: dict) -> Table | None:
    if not isinstance(raw, dict):
        r.problem(place, "phải là một bảng khóa: giá trị (mapping)")
        return None
    _unknown_keys(r, raw, _TABLE_KEYS, place)
    code = r.get(raw, "code", place, str, default="?")
    kind = r.get(raw, "kind", place, str, required=False, default="grid")
    common = dict(
        code=code,
        sheet=r.get(raw, "sheet", place, str, required=False, default=code),
        title=r.get(raw, "title", place, str, default=""),
        kind=kind,
        headings=tuple(r.get(raw, "headings", place, list, required=False, default=[]) or []),
        inferred=bool(r.get(raw, "inferred", place, bool, required=False, default=False)),
        note=r.get(raw, "note", place, str, required=False),
    )
    if kind == "list":
        owner = _parse_owner(r, raw, place, kinds)
        cols = [_parse_column(r, c, f"{place} > columns[{i}]", owner, None, 0)
                for i, c in enumerate(r.get(raw, "columns", place, list, default=[]) or [])]
        cols = [c for c in cols if c]
        keys = {c.key for c in cols}
        _check_unique_keys(r, cols, place)
        order_by = r.get(raw, "order_by", place, str, required=False)
        unique_by = tuple(r.get(raw, "unique_by", place, list, required=False, default=[]) or [])
        for k in ([order_by] if order_by else []) + list(unique_by):
            if k not in keys:
                r.problem(place, f"cột '{k}' không có trong bảng")
        for c in cols:
            if c.type in DERIVED_TYPES | {"unit_count"}:
                r.problem(f"{place} > columns ({c.key})", f"kiểu '{c.type}' không dùng được trong bảng danh sách")
        return Table(**common, list_columns=tuple(cols), owner=owner, order_by=order_by, unique_by=unique_by)
    if kind != "grid":
        r.problem(f"{place} > kind", f"phải là 'grid' hoặc 'list', đang là '{kind}'")
        return None

    blocks: list[Block] = []
    group_keys: set[str] = set()
    for bi, rb in enumerate(r.get(raw, "blocks", place, list, default=[]) or []):
        bplace = f"{place} > blocks[{bi}]"
        if not isinstance(rb, dict):
            r.problem(bplace, "phải là một bảng khóa: giá trị (mapping)")
            continue
        _unknown_keys(r, rb, _BLOCK_KEYS, bplace)
        rows_raw = r.get(rb, "rows", bplace, (str, list), default="periods")
        rows: str | tuple[RowSpec, ...] = "periods"
        if isinstance(rows_raw, str):
            if rows_raw != "periods":
                r.problem(f"{bplace} > rows", "phải là 'periods' hoặc danh sách các dòng {key, label}")
        else:
            specs = []
            for ri, row in enumerate(rows_raw):
                rplace = f"{bplace} > rows[{ri}]"
                key = r.get(row, "key", rplace, str, default="")
                if key and not KEY_PATTERN.match(key):
                    r.problem(rplace, f"mã dòng '{key}' chỉ gồm chữ thường, số và '_'")
                specs.append(RowSpec(key, r.get(row, "label", rplace, str, default="")))
            rows = tuple(specs)
        groups: list[Group] = []
        for gi, rg in enumerate(r.get(rb, "groups", bplace, list, default=[]) or []):
            gplace = f"{bplace} > groups[{gi}]"
            if not isinstance(rg, dict):
                r.problem(gplace, "phải là một bảng khóa: giá trị (mapping)")
                continue
            _unknown_keys(r, rg, _GROUP_KEYS, gplace)
            gkey = r.get(rg, "key", gplace, str, default="")
            if gkey:
                gplace = f"{gplace} ({gkey})"
                if not KEY_PATTERN.match(gkey) or len(gkey) > GROUP_KEY_MAX:
                    r.problem(gplace, f"mã nhóm cột '{gkey}' chỉ gồm chữ thường, số và '_', bắt đầu bằng chữ, "
                                      f"tối đa {GROUP_KEY_MAX} ký tự")
                elif gkey == LIST_GROUP_KEY:
                    r.problem(gplace, f"mã nhóm cột '{LIST_GROUP_KEY}' được dành cho bảng danh sách")
                elif gkey in group_keys:
                    r.problem(gplace, f"mã nhóm cột '{gkey}' bị trùng trong bảng")
                group_keys.add(gkey)
            owner = _parse_owner(r, rg, gplace, kinds)
            label = r.get(rg, "label", gplace, str, required=False)
            cols = [_parse_column(r, c, f"{gplace} > columns[{ci}]", owner, label, gi)
                    for ci, c in enumerate(r.get(rg, "columns", gplace, list, default=[]) or [])]
            groups.append(Group(key=gkey, label=label, owner=owner, columns=tuple(c for c in cols if c),
                                inferred=bool(rg.get("inferred", False))))
        if not groups:
            r.problem(bplace, "không có nhóm cột nào")
        block_cols = [c for g in groups for c in g.columns]
        rules = []
        for ri, rr in enumerate(r.get(rb, "rules", bplace, list, required=False, default=[]) or []):
            rule = _parse_rule(r, rr, f"{bplace} > rules[{ri}]", {c.key: c for c in block_cols})
            if rule:
                rules.append(rule)
        blocks.append(Block(rows=rows, groups=tuple(groups), rules=tuple(rules),
                            header=bool(rb.get("header", True))))
    if not blocks:
        r.problem(place, "không có khối (blocks) nào")
    all_cols = [c for b in blocks for c in b.columns]
    _check_unique_keys(r, all_cols, place)
    by_key = {c.key: c for c in all_cols}
    for c in all_cols:
        if c.type == "percent":
            for role in ("of", "over"):
                ref = getattr(c, role)
                if ref is None:
                    r.problem(f"{place} > {c.key}", f"cột tỷ lệ cần khóa '{role}'")
                elif ref not in by_key:
                    r.problem(f"{place} > {c.key} > {role}", f"cột '{ref}' không có trong bảng")
                elif not by_key[ref].is_numeric or by_key[ref].is_derived:
                    r.problem(f"{place} > {c.key} > {role}", f"cột '{ref}' phải là cột số nhập vào")
    return Table(**common, blocks=tuple(blocks))


def _check_unique_keys(r: _Reader, cols: list[Column], place: str) -> None:
    seen: set[str] = set()
    for c in cols:
        if c.key in seen:
            r.problem(place, f"mã cột '{c.key}' bị trùng")
        seen.add(c.key)


def _parse_column(r: _Reader, raw: Any, place: str, owner: tuple[str, ...], group_label: str | None,
                  group_index: int) -> Column | None:
    if not isinstance(raw, dict):
        r.problem(place, "phải là một bảng khóa: giá trị (mapping)")
        return None
    key = raw.get("key")
    if isinstance(key, str):
        place = f"{place} ({key})"
    _unknown_keys(r, raw, _COLUMN_KEYS, place)
    key = r.get(raw, "key", place, str, default="")
    if key and not KEY_PATTERN.match(key):
        r.problem(place, f"mã cột '{key}' chỉ gồm chữ thường, số và '_', bắt đầu bằng chữ")
    ctype = r.get(raw, "type", place, str, default="")
    if ctype and ctype not in COLUMN_TYPES:
        r.problem(f"{place} > type", f"kiểu '{ctype}' không được biết (dùng một trong: {', '.join(sorted(COLUMN_TYPES))})")
    choices = r.get(raw, "choices", place, list, required=ctype == "choice", default=[]) or []
    if ctype == "choice" and isinstance(raw.get("choices"), list) and not choices:
        r.problem(f"{place} > choices", "cần ít nhất một lựa chọn")
    if ctype in {"count", "yesno", "unit_count"} and len(owner) != 1:
        r.problem(place, "một cột số phải do đúng một loại đơn vị điền (owner)")
    span = r.get(raw, "span", place, int, required=False, default=1)
    if span < 1:
        r.problem(f"{place} > span", "phải lớn hơn hoặc bằng 1")
    return Column(
        key=key,
        label=r.get(raw, "label", place, str, default=""),
        type=ctype,
        owner=owner,
        span=span,
        group_label=group_label,
        group_index=group_index,
        choices=tuple(str(c) for c in choices),
        required=bool(raw.get("required", False)),
        max_length=r.get(raw, "max_length", place, int, required=False, default=1000),
        question=r.get(raw, "question", place, str, required=False),
        inferred=bool(raw.get("inferred", False)),
        of=raw.get("of"),
        over=raw.get("over"),
    )


def _parse_rule(r: _Reader, raw: Any, place: str, cols: dict[str, Column]) -> Rule | None:
    check = r.get(raw, "check", place, str, default="")
    level = r.get(raw, "level", place, str, default="error")
    message = r.get(raw, "message", place, str, default="")
    if level not in ("error", "warning"):
        r.problem(f"{place} > level", f"phải là 'error' hoặc 'warning', đang là '{level}'")
    m = RULE_PATTERN.match(check or "")
    if not m:
        if check:
            r.problem(f"{place} > check", f"không hiểu '{check}' (dạng: cot_a <= cot_b)")
        return None
    left, op, right = m.groups()
    for k in (left, right):
        if k not in cols:
            r.problem(f"{place} > check", f"cột '{k}' không có trong khối")
        elif cols[k].type != "count":
            r.problem(f"{place} > check", f"cột '{k}' phải là cột số (count)")
    return Rule(left=left, op=op, right=right, level=level, message=message)


def outline_digest(text: str) -> str:
    """The short fingerprint of an outline file's text that templates carry (``outline_digest``)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_outline(text: str, source: str = "<outline>") -> Outline:
    """Parse and validate an outline file's text; raises OutlineError naming every mistake's place."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"dòng {mark.line + 1}, cột {mark.column + 1}" if mark else "?"
        raise OutlineError(source, [f"{where}: YAML không hợp lệ ({getattr(exc, 'problem', exc)})"]) from exc
    outline = parse_outline(data, source)
    return Outline(**{**outline.__dict__, "digest": outline_digest(text)})


def load_outline(path: str | Path) -> Outline:
    """Read and validate an outline file; raises OutlineError naming every mistake's place."""
    path = Path(path)
    return read_outline(path.read_text(encoding="utf-8"), path.name)


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
