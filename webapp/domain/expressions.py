"""Arithmetic over the columns of a row, as an outline writes it: ``c2 + c3 + c4 + c5``, ``c6 / c3 * 100``.

A small parser of its own (never ``eval``): numbers (``100``, ``0.5``, ``0,5``), column keys, the
operators ``+ - * /``, unary minus and parentheses. An expression is evaluated exactly with Decimal
(None when an input is empty or a division by zero) and written out as an Excel formula. Relations
(``c1 = c2 + c3``, with ``= != <= >= < >`` and a tolerance) are what the checks of a row judge.
Messages are Vietnamese: the outline loader shows them with the line and place of the mistake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_TOKEN = re.compile(r"\s*(?:(\d+(?:[.,]\d+)?)|([a-z][a-z0-9_]*)|(<=|>=|!=|[-+*/()=<>]))")
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
RELATIONS = ("<=", ">=", "!=", "=", "<", ">")
MAX_LENGTH = 500  # an expression is a line of an outline file


class ExpressionError(ValueError):
    """An expression that cannot be read; ``str()`` says why, in Vietnamese."""


@dataclass(frozen=True)
class Expr:
    """A parsed expression: ``keys`` the column keys it reads (in order of appearance, once each)."""

    text: str
    node: tuple
    keys: tuple[str, ...]

    def evaluate(self, values: Mapping[str, int | Decimal | None]) -> Decimal | None:
        """The exact value for the row ``values``; None when an input is empty or a divisor is zero."""
        return _evaluate(self.node, values)

    def excel(self, ref_of: Callable[[str], str]) -> str:
        """The expression as Excel formula text (without ``=``), ``ref_of(key)`` naming each column's cell."""
        return _excel(self.node, ref_of)

    @property
    def is_key(self) -> bool:
        """Just one column (``d35_dtts``), as the rules of the first outlines were written."""
        return self.node[0] == "key"


def parse(text: str, known_keys: Iterable[str] | None = None) -> Expr:
    """Read ``text``; raises ExpressionError. ``known_keys``: the columns it may read (None: any)."""
    tokens = _tokens(text)
    node, rest = _chain(tokens, 0, text)
    if rest != len(tokens):
        raise ExpressionError(f"không hiểu '{text}' từ '{tokens[rest][1]}'")
    keys = tuple(dict.fromkeys(_keys(node)))
    if known_keys is not None:
        known = set(known_keys)
        for key in keys:
            if key not in known:
                raise ExpressionError(f"cột '{key}' không có trong khối")
    return Expr(text.strip(), node, keys)


def _tokens(text: str) -> list[tuple[str, str]]:
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("biểu thức trống")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"biểu thức dài quá {MAX_LENGTH} ký tự")
    tokens, pos = [], 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if not m:
            raise ExpressionError(f"không hiểu '{text.strip()}' từ '{stripped[pos:].strip()}'")
        number, key, op = m.groups()
        tokens.append(("num", number) if number else ("key", key) if key else ("op", op))
        pos = m.end()
    return tokens


_LEVELS = (("+", "-"), ("*", "/"))  # by precedence, loosest first


def _chain(tokens, i, text, level=0):
    """Operands joined by the operators of one precedence level, left to right (a - b - c = (a - b) - c)."""
    def operand(j):
        return _chain(tokens, j, text, level + 1) if level + 1 < len(_LEVELS) else _unary(tokens, j, text)

    node, i = operand(i)
    while i < len(tokens) and tokens[i][0] == "op" and tokens[i][1] in _LEVELS[level]:
        right, j = operand(i + 1)
        node, i = ("bin", tokens[i][1], node, right), j
    return node, i


def _unary(tokens, i, text):
    if i < len(tokens) and tokens[i] == ("op", "-"):
        node, i = _unary(tokens, i + 1, text)
        return ("neg", node), i
    return _atom(tokens, i, text)


def _atom(tokens, i, text):
    if i >= len(tokens):
        raise ExpressionError(f"'{text.strip()}' thiếu số hạng ở cuối")
    kind, value = tokens[i]
    if kind == "num":
        return ("num", Decimal(value.replace(",", ".")), value), i + 1
    if kind == "key":
        return ("key", value), i + 1
    if value == "(":
        node, j = _chain(tokens, i + 1, text)
        if j >= len(tokens) or tokens[j] != ("op", ")"):
            raise ExpressionError(f"'{text.strip()}' thiếu dấu ')'")
        return node, j + 1
    raise ExpressionError(f"không hiểu '{text.strip()}' ở '{value}'")


def _keys(node) -> list[str]:
    if node[0] == "key":
        return [node[1]]
    if node[0] == "neg":
        return _keys(node[1])
    if node[0] == "bin":
        return _keys(node[2]) + _keys(node[3])
    return []


def _evaluate(node, values) -> Decimal | None:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "key":
        value = values.get(node[1])
        return None if value is None else Decimal(value)
    if kind == "neg":
        inner = _evaluate(node[1], values)
        return None if inner is None else -inner
    left, right = _evaluate(node[2], values), _evaluate(node[3], values)
    if left is None or right is None:
        return None
    op = node[1]
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        return None
    try:
        return left / right
    except InvalidOperation:
        return None


def _precedence(node) -> int:
    return _PRECEDENCE[node[1]] if node[0] == "bin" else 3


def _excel(node, ref_of) -> str:
    kind = node[0]
    if kind == "num":
        return str(node[1])
    if kind == "key":
        return ref_of(node[1])
    if kind == "neg":
        inner = _excel(node[1], ref_of)
        return f"-({inner})" if node[1][0] == "bin" else f"-{inner}"
    op, left, right = node[1], node[2], node[3]
    mine = _PRECEDENCE[op]
    left_text = _excel(left, ref_of)
    if _precedence(left) < mine:
        left_text = f"({left_text})"
    right_text = _excel(right, ref_of)
    if _precedence(right) < mine or (_precedence(right) == mine and op in "-/"):
        right_text = f"({right_text})"
    return f"{left_text}{op}{right_text}"


# --- relations: what a check of a row judges ------------------------------------------------------

@dataclass(frozen=True)
class Tolerance:
    """How far apart two sides may be and still agree: an absolute amount, or a share of the larger side."""

    amount: Decimal = Decimal(0)
    relative: bool = False

    def margin(self, left: Decimal, right: Decimal) -> Decimal:
        if self.relative:
            return self.amount / 100 * max(abs(left), abs(right))
        return self.amount

    def __str__(self) -> str:
        return f"{self.amount}%" if self.relative else str(self.amount)


def parse_tolerance(raw: object) -> Tolerance:
    """``0``, ``2``, ``0.5`` (absolute) or ``"1%"`` (relative to the larger side); raises ExpressionError."""
    if raw is None:
        return Tolerance()
    relative = isinstance(raw, str) and raw.strip().endswith("%")
    text = str(raw).strip().rstrip("%").strip().replace(",", ".") if not isinstance(raw, bool) else "x"
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ExpressionError(f"'{raw}' không phải là số (ví dụ 0, 2 hoặc \"1%\")") from None
    if not amount.is_finite() or amount < 0:
        raise ExpressionError(f"'{raw}' phải là số không âm")
    return Tolerance(amount, relative)


def compare(left: Decimal | int, op: str, right: Decimal | int, tolerance: Tolerance = Tolerance()) -> bool:
    """Whether ``left op right`` holds, ``tolerance`` relaxing each relation by its margin."""
    left, right = Decimal(left), Decimal(right)
    margin = tolerance.margin(left, right)
    return {
        "=": abs(left - right) <= margin,
        "!=": abs(left - right) > margin,
        "<=": left <= right + margin,
        ">=": left >= right - margin,
        "<": left < right + margin,
        ">": left > right - margin,
    }[op]


@dataclass(frozen=True)
class Relation:
    """``left op right`` between two expressions of a row."""

    left: Expr
    op: str
    right: Expr
    tolerance: Tolerance = Tolerance()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.left.keys + self.right.keys))

    def sides(self, values: Mapping[str, int | Decimal | None]) -> tuple[Decimal | None, Decimal | None]:
        return self.left.evaluate(values), self.right.evaluate(values)

    def holds(self, values: Mapping[str, int | Decimal | None]) -> bool | None:
        """Whether the row ``values`` satisfy it; None (not judged) when a side has an empty input."""
        left, right = self.sides(values)
        if left is None or right is None:
            return None
        return compare(left, self.op, right, self.tolerance)


_RELATION = re.compile(r"^(.*?)(<=|>=|!=|=|<|>)(.*)$", re.S)


def parse_relation(text: str, known_keys: Iterable[str] | None = None,
                   tolerance: Tolerance = Tolerance()) -> Relation:
    """``c1 = c2 + c3 + c4 + c5``: two expressions and one of = != <= >= < >; raises ExpressionError."""
    m = _RELATION.match(text or "")
    if not m:
        raise ExpressionError(f"không hiểu '{(text or '').strip()}' (dạng: cot_a <= cot_b, hoặc c1 = c2 + c3)")
    left_text, op, right_text = m.groups()
    if any(sign in right_text for sign in "=<>!"):
        raise ExpressionError(f"'{text.strip()}' chỉ được có một dấu so sánh")
    return Relation(parse(left_text, known_keys), op, parse(right_text, known_keys), tolerance)
