"""Reading, checking and showing cell values, the same for the browser, the plain POST and the import.

A stored value is a number (counts; yes/no as 1/0) or a text (notes, list columns; dates as ISO text).
Messages are Vietnamese: they are shown next to the cell or listed as ``Sheet!Cell: message``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .outline import Block, Column, Rule, Table

MAX_COUNT = 10**12
YES_WORDS = {"có", "co", "c", "x", "1", "yes", "y", "true", "đạt", "dat"}
NO_WORDS = {"không", "khong", "k", "0", "no", "n", "false", "chưa đạt", "chua dat"}
YES, NO = "Có", "Không"
REQUIRED_IN_ROW = "Chưa nhập (bắt buộc khi dòng có dữ liệu)"
_GROUPED = re.compile(r"^\d{1,3}([. ]\d{3})+$")
# C0 control characters other than tab and line breaks, and DEL: never typed, and a NUL cannot be
# stored in PostgreSQL text nor written to a workbook.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ValueProblem(ValueError):
    """A value that cannot be stored; ``str()`` is the message for the clerk."""


@dataclass(frozen=True)
class Parsed:
    """A value ready to store: ``num`` for numeric columns, ``text`` for the others; both None clears."""

    num: int | None = None
    text: str | None = None

    @property
    def empty(self) -> bool:
        return self.num is None and self.text is None


def parse_input(column: Column, raw: object) -> Parsed:
    """Read what a clerk typed (or a spreadsheet cell held) into a storable value, or raise ValueProblem."""
    if raw is None:
        return Parsed()
    if isinstance(raw, bool):
        raw = YES if raw else NO
    if isinstance(raw, (dt.datetime, dt.date)) and column.type == "date":
        return Parsed(text=_checked_year(raw.date() if isinstance(raw, dt.datetime) else raw).isoformat())
    if isinstance(raw, (int, float, Decimal)) and column.type == "count":
        return Parsed(num=_whole_number(Decimal(str(raw))))
    text = str(raw).strip()
    if text == "":
        return Parsed()
    if _CONTROL.search(text):
        raise ValueProblem("Có ký tự điều khiển không in được; hãy gõ lại giá trị này")
    kind = column.type
    if kind == "count":
        return Parsed(num=_parse_count(text))
    if kind == "yesno":
        word = text.lower()
        if word in YES_WORDS:
            return Parsed(num=1)
        if word in NO_WORDS:
            return Parsed(num=0)
        raise ValueProblem("Chỉ nhận “Có” hoặc “Không”")
    if kind == "text":
        if len(text) > column.max_length:
            raise ValueProblem(f"Dài quá {column.max_length} ký tự")
        return Parsed(text=text)
    if kind == "choice":
        for choice in column.choices:
            if choice.lower() == text.lower():
                return Parsed(text=choice)
        raise ValueProblem("Chọn một trong: " + ", ".join(column.choices))
    if kind == "date":
        return Parsed(text=parse_date(text).isoformat())
    raise ValueProblem("Ô này không nhập được")


def _parse_count(text: str) -> int:
    compact = text.replace("\u00a0", " ")
    if _GROUPED.match(compact):  # Vietnamese thousands: 1.234 or 1 234
        compact = compact.replace(".", "").replace(" ", "")
    if re.fullmatch(r"[+-]?\d+", compact):
        return _whole_number(Decimal(compact))
    if re.fullmatch(r"[+-]?\d*[.,]\d+", compact):
        value = Decimal(compact.replace(",", "."))
        if value < 0:
            raise ValueProblem("Không được là số âm")
        raise ValueProblem("Phải là số nguyên (không có phần thập phân)")
    raise ValueProblem("Phải là một số nguyên không âm, ví dụ 125 hoặc 1.250")


def _whole_number(value: Decimal) -> int:
    if not value.is_finite():
        raise ValueProblem("Phải là một số nguyên không âm")
    if value < 0:
        raise ValueProblem("Không được là số âm")
    if value != value.to_integral_value():
        raise ValueProblem("Phải là số nguyên (không có phần thập phân)")
    if value > MAX_COUNT:
        raise ValueProblem("Số quá lớn")
    return int(value)


def parse_date(text: str) -> dt.date:
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text) or None
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    try:
        if m:
            day, month, year = (int(x) for x in m.groups())
            value = dt.date(year, month, day)
        elif iso:
            value = dt.date.fromisoformat(text)
        else:
            raise ValueError
    except ValueError:
        raise ValueProblem("Ngày không hợp lệ; nhập theo dạng ngày/tháng/năm, ví dụ 03/05/2024") from None
    return _checked_year(value)


def _checked_year(value: dt.date) -> dt.date:
    if not 1930 <= value.year <= 2100:
        raise ValueProblem("Năm của ngày không hợp lệ")
    return value


def format_number(value: int | Decimal | float | None, decimals: int = 0) -> str:
    """Vietnamese number style: 1.234 and 59,72."""
    if value is None:
        return ""
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    whole, _, frac = f"{abs(q):f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = sign + ".".join(groups)
    return f"{out},{frac}" if decimals else out


def format_date(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def show(column: Column, num: int | Decimal | None, text: str | None) -> str:
    """A stored (or assembled) value as the clerk sees it in an input or a read-only cell."""
    if column.type == "yesno":
        return "" if num is None else (YES if num else NO)
    if column.type in ("count", "unit_count"):
        return format_number(num)
    if column.type == "percent":
        return format_number(num, 2)
    if column.type == "date":
        return format_date(text)
    return text or ""


def row_noun(table: Table) -> str:
    """What one row of a list table is called in pages and messages ("Đã thêm văn bản", "Chưa có dòng
    nào"): "văn bản" for a list of documents (kl49's table I, whose title says so), else "dòng"."""
    return "văn bản" if "văn bản" in table.title.casefold() else "dòng"


def this_row(table: Table) -> str:
    """"Văn bản này" / "Dòng này": a row of a list table, at the start of a message."""
    return f"{row_noun(table).capitalize()} này"


def percent(numerator: int | Decimal | None, denominator: int | Decimal | None) -> Decimal | None:
    """numerator / denominator * 100, rounded half away from zero to 2 decimals; None when undefined."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def derive(column: Column, values: dict[str, int | Decimal | None]) -> Decimal | None:
    """The value of a derived column from the numbers of its row (own or assembled)."""
    if column.type == "percent":
        return percent(values.get(column.of), values.get(column.over))
    raise ValueError(column.type)


@dataclass(frozen=True)
class Breach:
    rule: Rule

    @property
    def columns(self) -> tuple[str, str]:
        return (self.rule.left, self.rule.right)

    @property
    def message(self) -> str:
        return self.rule.message


def check_rules(block: Block, values: dict[str, int | None], level: str | None = None) -> list[Breach]:
    """The rules of ``block`` that the row ``values`` break; a rule with an empty side is not judged."""
    breaches = []
    for rule in block.rules:
        if level and rule.level != level:
            continue
        left, right = values.get(rule.left), values.get(rule.right)
        if left is None or right is None:
            continue
        if not rule.holds(left, right):
            breaches.append(Breach(rule))
    return breaches
