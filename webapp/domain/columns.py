"""Column types: one class per ``type`` of an outline column, knowing all that differs between them.

A class knows how to read what a clerk typed or a spreadsheet cell held (``parse``), how a value is
shown (``show``, Vietnamese style: 1.234 and 80,5), its stored form (``cell_value.num`` is a whole
number: a decimal is stored scaled by 10**decimals, ``stored``/``value`` convert both ways), whether
it is entered, derived or fixed (``role``), whether assembly sums it (``summed``), its Excel number
format, data validation and formula, and the attributes of its HTML input. Adding a type is adding a
class here (and its tests): the pages, the workbooks and the importer ask the column's ``kind``.

Values handed around are of two forms: the *stored* numbers of a row (``numbers``: column key ->
int, as ``cell_value.num`` and the assembled sums hold them) and the *values* of a row
(``row_values``: column key -> int/Decimal, scaled back, with targets filled in and derived columns
computed in the order they depend on each other).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from . import expressions

if TYPE_CHECKING:
    from .outline import Column

INPUT, DERIVED, FIXED = "input", "derived", "fixed"
MAX_COUNT = 10**12
YES_WORDS = {"có", "co", "c", "x", "1", "yes", "y", "true", "đạt", "dat"}
NO_WORDS = {"không", "khong", "k", "0", "no", "n", "false", "chưa đạt", "chua dat"}
YES, NO = "Có", "Không"
MIN_DATE, MAX_DATE = dt.date(1930, 1, 1), dt.date(2100, 12, 31)
COUNT_FORMAT, DATE_FORMAT = "#,##0", "dd/mm/yyyy"
EXCEL_EPOCH = dt.date(1899, 12, 30)  # day 0 of Excel's date serials (from March 1900 on)
_GROUPED = re.compile(r"^\d{1,3}([. ]\d{3})+$")
_GROUPED_DECIMAL = re.compile(r"^\d{1,3}([. ]\d{3})+,\d+$")  # 1.234,5 or 1 234,5
_DECIMAL_COMMA_GROUPS = re.compile(r"^\d{1,3}(,\d{3})+\.\d+$")  # 1,234.5 (an English-style sheet)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
Number = int | Decimal


class ValueProblem(ValueError):
    """A value that cannot be stored; ``str()`` is the message for the clerk."""


class Parsed:
    """A value ready to store: ``num`` for numeric columns, ``text`` for the others; both None clears."""

    __slots__ = ("num", "text")

    def __init__(self, num: int | None = None, text: str | None = None):
        self.num, self.text = num, text

    @property
    def empty(self) -> bool:
        return self.num is None and self.text is None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parsed) and (self.num, self.text) == (other.num, other.text)

    def __repr__(self) -> str:
        return f"Parsed(num={self.num!r}, text={self.text!r})"


def format_number(value: Number | float | None, decimals: int = 0) -> str:
    """Vietnamese number style: 1.234 and 59,72 (rounded half away from zero to ``decimals``)."""
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
    if not MIN_DATE.year <= value.year <= MAX_DATE.year:
        raise ValueProblem("Năm của ngày không hợp lệ")
    return value


def number_format(decimals: int) -> str:
    """The Excel number format of ``decimals`` places, thousands grouped: #,##0 / #,##0.0 …"""
    return COUNT_FORMAT + ("." + "0" * decimals if decimals else "")


def rounded(value: Decimal | None, decimals: int) -> Decimal | None:
    """``value`` to ``decimals`` places, half away from zero, as Excel's ROUND."""
    return None if value is None else value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------- the base

class ColumnType:
    """What a column of one ``type`` is; an instance is bound to its column (``column.kind``)."""

    name: ClassVar[str]
    role: ClassVar[str] = INPUT
    numeric: ClassVar[bool] = False
    summed: ClassVar[bool] = False  # assembly adds the stored numbers of the units
    in_lists: ClassVar[bool] = True  # usable in a list table
    fixed_one: ClassVar[bool] = False  # 1 in the part of each unit that fills its group (unit counts)
    quantity: ClassVar[bool] = False  # a measured number that checks compare (not yes/no, not the fixed 1)
    reads_yes_no: ClassVar[bool] = False  # a derived column that may read a yes/no column (a rate)
    takes_operand_places: ClassVar[bool] = False  # shows as many places as its operands (a sum)
    keys: ClassVar[frozenset[str]] = frozenset()  # the type's own keys in the outline file
    widget: ClassVar[str] = "input"  # how it is entered on a page: "input", or a "select" of its choices
    css: ClassVar[str] = "text"
    inputmode: ClassVar[str | None] = None
    pattern: ClassVar[str | None] = None
    placeholder: ClassVar[str | None] = None
    width: ClassVar[float] = 12

    def __init__(self, column: Column):
        self.column = column

    # -- entering
    @property
    def is_input(self) -> bool:
        return self.role == INPUT

    @property
    def is_derived(self) -> bool:
        return self.role == DERIVED

    @property
    def counts_as_expected(self) -> bool:
        """Whether a unit is asked for this cell (notes are optional)."""
        return self.is_input

    def parse(self, raw: object) -> Parsed:
        """Read what a clerk typed (or a spreadsheet cell held), or raise ValueProblem."""
        if raw is None:
            return Parsed()
        if isinstance(raw, bool):
            raw = YES if raw else NO
        native = self.parse_native(raw)
        if native is not None:
            return native
        text = str(raw).strip()
        if text == "":
            return Parsed()
        if _CONTROL.search(text):
            raise ValueProblem("Có ký tự điều khiển không in được; hãy gõ lại giá trị này")
        return self.parse_text(text)

    def parse_native(self, raw: object) -> Parsed | None:
        """A spreadsheet's own value (a number, a date) read as such; None: read it as text."""
        return None

    def parse_text(self, text: str) -> Parsed:
        raise ValueProblem("Ô này không nhập được")

    # -- numbers
    @property
    def decimals(self) -> int:
        return 0

    def value(self, num: int | None) -> Number | None:
        """A stored number as the value it stands for (a decimal's scaled integer scaled back)."""
        if num is None:
            return None
        return Decimal(num).scaleb(-self.decimals) if self.decimals else num

    def stored(self, value: Number | None) -> int | None:
        """The stored whole number of a value (exact: a decimal of more places is refused)."""
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.decimals)
        if scaled != scaled.to_integral_value():
            raise ValueProblem(f"Tối đa {self.decimals} chữ số thập phân")
        return int(scaled)

    def compute(self, values: Mapping[str, Number | None]) -> Number | None:
        """A derived column's value from the row's values."""
        raise TypeError(self.name)

    @property
    def operand_roles(self) -> list[tuple[str, str]]:
        """(outline key, column key) of each column of the row a derived column reads."""
        return []

    @functools.cached_property  # asked for every row of every breakdown
    def operands(self) -> tuple[str, ...]:
        """The columns of the row a derived column reads."""
        return tuple(dict.fromkeys(key for _, key in self.operand_roles))

    @property
    def reads_unit_kind(self) -> bool:
        """Whether its values depend on the kind of the compiling unit (a target's ``by_kind``)."""
        return False

    def constant(self, row_key: str, unit_kind: str | None = None) -> Number | None:
        """A fixed value given by the outline (targets)."""
        return None

    # -- showing
    def show(self, value: Number | None = None, text: str | None = None, assembled: bool = False) -> str:
        """A value (or a stored text) as a clerk reads it; ``assembled``: a sum over units."""
        if self.numeric:
            return format_number(value, self.decimals)
        return text or ""

    def show_stored(self, num: int | None, text: str | None, assembled: bool = False) -> str:
        """A stored value (cell_value's num/text, or an assembled sum) as shown."""
        return self.show(self.value(num), text, assembled)

    @property
    def header(self) -> str:
        """The column's printed header: its label, with its unit of measure ("Tỷ lệ (%)")."""
        unit = self.column.unit
        return f"{self.column.label} ({unit})" if unit else self.column.label

    # -- Excel
    def excel_format(self, as_text: bool = False) -> dict[str, Any]:
        """The cell format properties of a body cell (``as_text``: yes/no written as Có/Không)."""
        if self.numeric:
            return {"num_format": number_format(self.decimals), "align": "center"}
        return {"text_wrap": True, "align": "left", "indent": 1}

    def preferred_width(self, in_list: bool) -> float:
        """Its sheet column's width in characters."""
        return self.width

    written_as_text: ClassVar[bool] = False  # a template holds it as text (Có/Không): formulas read it so

    def excel_value(self, num: int | None, text: str | None, as_text: bool = False) -> Any:
        """A stored value as a cell holds it (numbers as numbers, dates as dates, yes/no as Có/Không)."""
        if self.numeric:
            value = self.value(num)
            return float(value) if isinstance(value, Decimal) else value
        return text

    def validation(self, list_source: Callable[[Sequence[str]], Any]) -> dict[str, Any] | None:
        """Excel data validation of an input cell (the importer checks again: Excel can be bypassed)."""
        return None

    def formula(self, ref_of: Callable[[str], str], as_text: Callable[[str], bool] = lambda key: False) -> str | None:
        """A derived column's live Excel formula, ``ref_of(key)`` naming the operands' cells;
        ``as_text(key)``: the operand holds Có/Không (a template's yes/no)."""
        return None

    def number_text(self, number_of: Mapping[str, int], number: int) -> str:
        """Its text in the column-number row ("3", "3=1/2*100")."""
        return str(number)

    # -- HTML
    @property
    def input_attrs(self) -> dict[str, str]:
        """The attributes of its text input on the entry pages."""
        attrs = {"class": f"cell {self.css}"}
        if self.inputmode:
            attrs["inputmode"] = self.inputmode
        if self.pattern:
            attrs["pattern"] = self.pattern
        if self.placeholder:
            attrs["placeholder"] = self.placeholder
        if self.css == "text":
            attrs["maxlength"] = str(self.column.max_length)
        return attrs

    @property
    def choices(self) -> tuple[str, ...]:
        """The options of a select (yes/no, choice)."""
        return ()

    @property
    def explained(self) -> str | None:
        """Where a cell that is not entered gets its value, in words (a tooltip of the outline's preview)."""
        return None

    preview: ClassVar[str | None] = None  # what the outline's preview shows in such a cell

    # -- the outline
    @classmethod
    def check(cls, raw: Mapping[str, Any], problem: Callable[[str, str], None]) -> dict[str, Any]:
        """Read and check the type's own keys of a column's mapping; ``problem(key, message)``
        reports a mistake at that key. Returns the Column fields to set."""
        return {}


def _plain(value: Decimal) -> int | float:
    """A bound as Excel writes it best: 100, not 100.0."""
    return int(value) if value == value.to_integral_value() else float(value)


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


def _decimal_text(text: str) -> Decimal | None:
    """A typed number in any of the styles a clerk uses: 1.234 / 1 234 (thousands), 80,5 / 80.5,
    1.234,5, 1,234.5; None when it is no number."""
    compact = text.replace("\u00a0", " ").strip()
    if _GROUPED.match(compact):  # Vietnamese thousands: 1.234 or 1 234
        compact = compact.replace(".", "").replace(" ", "")
    elif _GROUPED_DECIMAL.match(compact):
        compact = compact.replace(".", "").replace(" ", "").replace(",", ".")
    elif _DECIMAL_COMMA_GROUPS.match(compact):
        compact = compact.replace(",", "")
    else:
        compact = compact.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", compact):
        return None
    try:
        return Decimal(compact)
    except InvalidOperation:  # pragma: no cover (the pattern admits only numbers)
        return None


def _refs(raw: Mapping[str, Any], key: str, problem, many: bool) -> Any:
    """A column key (``of``/``over``) or a list of them (``of`` of a sum)."""
    value = raw.get(key)
    if value is None:
        return None
    if many:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            problem(key, "phải là danh sách các mã cột, ví dụ [c2, c3]")
            return None
        return tuple(value)
    if not isinstance(value, str):
        problem(key, f"phải có kiểu str, đang là {type(value).__name__}")
        return None
    return value


def _number_key(raw: Mapping[str, Any], key: str, problem) -> Decimal | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problem(key, f"phải là một số, đang là {type(value).__name__}")
        return None
    return Decimal(str(value))


def _decimals_key(raw: Mapping[str, Any], problem, default: int | None) -> int | None:
    value = raw.get("decimals", default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
        problem("decimals", f"phải là số nguyên từ 0 đến 4, đang là {value!r}")
        return default
    return value


def _unit_key(raw: Mapping[str, Any], problem) -> str | None:
    value = raw.get("unit")
    if value is not None and (not isinstance(value, str) or not value.strip()):
        problem("unit", "phải là đơn vị tính, ví dụ \"%\" hoặc \"người\"")
        return None
    return value


# ------------------------------------------------------------------------------------------ input

class CountType(ColumnType):
    """A whole number >= 0, as "1.234" or 1234."""

    name = "count"
    quantity = True
    numeric = summed = True
    keys = frozenset({"unit"})
    css, inputmode = "num", "numeric"

    def parse_native(self, raw):
        if isinstance(raw, (int, float, Decimal)):
            return Parsed(num=_whole_number(Decimal(str(raw))))
        return None

    def parse_text(self, text):
        compact = text.replace("\u00a0", " ")
        if _GROUPED.match(compact):  # Vietnamese thousands: 1.234 or 1 234
            compact = compact.replace(".", "").replace(" ", "")
        if re.fullmatch(r"[+-]?\d+", compact):
            return Parsed(num=_whole_number(Decimal(compact)))
        if re.fullmatch(r"[+-]?\d*[.,]\d+", compact):
            if Decimal(compact.replace(",", ".")) < 0:
                raise ValueProblem("Không được là số âm")
            raise ValueProblem("Phải là số nguyên (không có phần thập phân)")
        raise ValueProblem("Phải là một số nguyên không âm, ví dụ 125 hoặc 1.250")

    def validation(self, list_source):
        return {"validate": "integer", "criteria": ">=", "value": 0,
                "error_message": "Phải là một số nguyên không âm, ví dụ 125 hoặc 1.250"}

    @classmethod
    def check(cls, raw, problem):
        return {"unit": _unit_key(raw, problem)}


class DecimalType(ColumnType):
    """A number with up to ``decimals`` places (1–4), typed "80,5" (also "80.5", "1.234,5");
    stored exactly as value × 10**decimals; optional ``min`` (default 0) and ``max``."""

    name = "decimal"
    quantity = True
    numeric = summed = True
    keys = frozenset({"decimals", "unit", "min", "max"})
    css, inputmode = "num dec", "decimal"
    pattern = r"[0-9., ]*"

    @property
    def decimals(self) -> int:
        return self.column.decimals if self.column.decimals is not None else 1

    @property
    def bounds(self) -> tuple[Decimal, Decimal]:
        c = self.column
        low = c.minimum if c.minimum is not None else Decimal(0)
        high = c.maximum if c.maximum is not None else Decimal(MAX_COUNT)
        return low, high

    def _checked(self, value: Decimal) -> Parsed:
        if not value.is_finite():
            raise ValueProblem("Phải là một số")
        low, high = self.bounds
        if value < low:
            raise ValueProblem("Không được là số âm" if low == 0 else f"Không được nhỏ hơn {format_number(low, self.decimals)}")
        if value > high:
            raise ValueProblem("Số quá lớn" if high == MAX_COUNT else f"Không được lớn hơn {format_number(high, self.decimals)}")
        return Parsed(num=self.stored(value))

    def parse_native(self, raw):
        if isinstance(raw, (int, Decimal)):
            return self._checked(Decimal(raw))
        if isinstance(raw, float):  # a sheet's 80.5 may be 80.49999999999999: its nearest of our places
            value = Decimal(repr(raw))
            near = rounded(value, self.decimals)
            return self._checked(near if abs(value - near) < Decimal("1e-9") else value)
        return None

    def parse_text(self, text):
        value = _decimal_text(text)
        if value is None:
            example = format_number(Decimal("80.5"), self.decimals)
            raise ValueProblem(f"Phải là một số, ví dụ {example}")
        return self._checked(value)

    def validation(self, list_source):
        low, high = self.bounds
        return {"validate": "decimal", "criteria": "between", "minimum": _plain(low), "maximum": _plain(high),
                "error_message": f"Phải là một số từ {format_number(low, self.decimals)}"
                                 f"{'' if high == MAX_COUNT else ' đến ' + format_number(high, self.decimals)}, "
                                 f"tối đa {self.decimals} chữ số thập phân"}

    @classmethod
    def check(cls, raw, problem):
        decimals = raw.get("decimals")
        if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int)
                                     or not 1 <= decimals <= 4):
            problem("decimals", f"phải là số nguyên từ 1 đến 4, đang là {decimals!r}")
            decimals = None
        low, high = _number_key(raw, "min", problem), _number_key(raw, "max", problem)
        if low is not None and high is not None and low > high:
            problem("max", "phải lớn hơn hoặc bằng min")
        return {"decimals": decimals, "unit": _unit_key(raw, problem), "minimum": low, "maximum": high}


class YesNoType(ColumnType):
    """Có/Không, stored 1/0; assembled it is the count of yes."""

    name = "yesno"
    numeric = summed = True
    written_as_text = True
    widget, css = "select", "yesno"
    choices = (YES, NO)  # type: ignore[assignment]

    def parse_text(self, text):
        word = text.lower()
        if word in YES_WORDS:
            return Parsed(num=1)
        if word in NO_WORDS:
            return Parsed(num=0)
        raise ValueProblem("Chỉ nhận “Có” hoặc “Không”")

    def show(self, value=None, text=None, assembled=False):
        if assembled:
            return format_number(value)
        return "" if value is None else (YES if value else NO)

    def excel_format(self, as_text=False):
        return {"align": "center"} if as_text else super().excel_format()

    def excel_value(self, num, text, as_text=False):
        if as_text:
            return None if num is None else (YES if num else NO)
        return num

    def validation(self, list_source):
        return {"validate": "list", "source": [YES, NO], "error_message": "Chỉ nhận “Có” hoặc “Không”"}


class TextType(ColumnType):
    """A note: free text of at most ``max_length`` characters; optional for completeness."""

    name = "text"
    width = 22

    @property
    def counts_as_expected(self) -> bool:
        return False

    def preferred_width(self, in_list):
        if not in_list:
            return 22
        length = self.column.max_length
        return 46 if length >= 300 else 26 if length >= 150 else 18

    def parse_text(self, text):
        if len(text) > self.column.max_length:
            raise ValueProblem(f"Dài quá {self.column.max_length} ký tự")
        return Parsed(text=text)

    def validation(self, list_source):
        return {"validate": "length", "criteria": "<=", "value": self.column.max_length,
                "error_message": f"Dài quá {self.column.max_length} ký tự"}


class DateType(ColumnType):
    """A date typed dd/mm/yyyy, stored as ISO text."""

    name = "date"
    css, inputmode, placeholder = "date", "numeric", "dd/mm/yyyy"
    width = 12

    def parse_native(self, raw):
        if isinstance(raw, (int, float, Decimal)):  # a sheet's date whose date format was lost: its serial
            try:
                raw = EXCEL_EPOCH + dt.timedelta(days=int(raw))
            except (OverflowError, ValueError):
                raise ValueProblem("Ngày không hợp lệ; nhập theo dạng ngày/tháng/năm, ví dụ 03/05/2024") from None
        if isinstance(raw, (dt.datetime, dt.date)):
            return Parsed(text=_checked_year(raw.date() if isinstance(raw, dt.datetime) else raw).isoformat())
        return None

    def parse_text(self, text):
        return Parsed(text=parse_date(text).isoformat())

    def show(self, value=None, text=None, assembled=False):
        return format_date(text)

    def excel_format(self, as_text=False):
        return {"num_format": DATE_FORMAT, "align": "center"}

    def excel_value(self, num, text, as_text=False):
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:  # a date that does not parse stays text, never lost
            return text

    def validation(self, list_source):
        return {"validate": "date", "criteria": "between", "minimum": MIN_DATE, "maximum": MAX_DATE,
                "error_message": "Ngày không hợp lệ; nhập theo dạng ngày/tháng/năm, ví dụ 03/05/2024"}


class ChoiceType(ColumnType):
    """One of the outline's ``choices``."""

    name = "choice"
    widget, css = "select", "choice"
    keys = frozenset({"choices"})

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.column.choices

    def preferred_width(self, in_list):
        return max(12, min(18, max(len(c) for c in self.column.choices) + 2)) if self.column.choices else 12

    def parse_text(self, text):
        for choice in self.column.choices:
            if choice.lower() == text.lower():
                return Parsed(text=choice)
        raise ValueProblem("Chọn một trong: " + ", ".join(self.column.choices))

    def validation(self, list_source):
        message = "Chọn một trong: " + ", ".join(self.column.choices)
        return {"validate": "list", "source": list_source(self.column.choices),
                "error_message": message if len(message) <= 255 else message[:254] + "…"}


# ------------------------------------------------------------------------------------------ fixed

class UnitCountType(ColumnType):
    """"Tổng số xã": a fixed 1 in the part of each unit that fills the group; assembled, their number."""

    name = "unit_count"
    role = FIXED
    numeric = summed = fixed_one = True
    in_lists = False
    keys = frozenset({"unit"})
    css = "num"
    explained = "Số 1 cố định trong phần của mỗi đơn vị điền nhóm này"  # type: ignore[assignment]
    preview = "1"

    @classmethod
    def check(cls, raw, problem):
        return {"unit": _unit_key(raw, problem)}


class SerialType(ColumnType):
    """A list's TT: numbered by the application."""

    name = "serial"
    role = FIXED
    css = "serial"
    width = 5

    def excel_format(self, as_text=False):
        return {"num_format": COUNT_FORMAT, "align": "center"}


class TargetType(ColumnType):
    """A constant per row key fixed by the outline (``targets``), or per kind of the compiling unit
    (``by_kind``); never entered nor summed across units."""

    name = "target"
    role = FIXED
    quantity = True
    numeric = True
    in_lists = False
    keys = frozenset({"targets", "by_kind", "unit", "decimals"})
    css = "num"
    explained = "Mục tiêu do đề cương đặt cho từng dòng, không nhập"  # type: ignore[assignment]

    @property
    def decimals(self) -> int:
        if self.column.decimals is not None:
            return self.column.decimals
        given = [v for _, table in self.column.targets for _, v in table]
        return max([0] + [max(0, -v.as_tuple().exponent) for v in given])

    @property
    def reads_unit_kind(self) -> bool:
        return any(kind for kind, _ in self.column.targets)

    def constant(self, row_key, unit_kind=None):
        for kind, table in self.column.targets:
            if kind in ("", unit_kind):
                for key, value in table:
                    if key == row_key:
                        return value
        return None

    @classmethod
    def check(cls, raw, problem):
        targets, by_kind = raw.get("targets"), raw.get("by_kind")
        out = {"unit": _unit_key(raw, problem), "decimals": _decimals_key(raw, problem, None)}
        if (targets is None) == (by_kind is None):
            problem("targets", "cột mục tiêu cần đúng một trong hai khóa 'targets' hoặc 'by_kind'")
            return {**out, "targets": ()}
        if targets is not None:
            return {**out, "targets": (("", cls._table(targets, "targets", problem)),)}
        if not isinstance(by_kind, dict) or not by_kind:
            problem("by_kind", "phải là bảng loại đơn vị: {dòng: giá trị}, ví dụ {tinh: {\"2025\": 80}}")
            return {**out, "targets": ()}
        return {**out, "targets": tuple((str(kind), cls._table(table, f"by_kind > {kind}", problem))
                                        for kind, table in by_kind.items())}

    @staticmethod
    def _table(raw, place, problem) -> tuple[tuple[str, Decimal], ...]:
        if not isinstance(raw, dict) or not raw:
            problem(place, "phải là bảng mã dòng: giá trị, ví dụ {\"2025\": 80}")
            return ()
        out = []
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problem(place, f"giá trị của dòng '{key}' phải là một số")
                continue
            out.append((str(key), Decimal(str(value))))
        return tuple(out)


# ---------------------------------------------------------------------------------------- derived

class DerivedType(ColumnType):
    role = DERIVED
    quantity = True
    numeric = True
    in_lists = False
    css = "num"
    width = 9

    def show(self, value=None, text=None, assembled=False):
        return format_number(value, self.decimals)

    def value(self, num):  # never stored: a computed value stands for itself
        return num


class PercentType(DerivedType):
    """of / over × 100 to 2 places, recomputed from the row's (or the sums') numbers, never averaged."""

    name = "percent"
    keys = frozenset({"of", "over", "unit"})
    reads_yes_no = True

    @property
    def decimals(self) -> int:
        return 2

    @property
    def operand_roles(self):
        return [(role, getattr(self.column, role)) for role in ("of", "over") if getattr(self.column, role)]

    def compute(self, values):
        return percent(values.get(self.column.of), values.get(self.column.over))

    @property
    def explained(self):
        return f"Tự tính: cột {self.column.of} / cột {self.column.over} × 100"

    def formula(self, ref_of, as_text=lambda key: False):
        return percent_formula(ref_of(self.column.of), ref_of(self.column.over),
                               as_text(self.column.of), as_text(self.column.over))

    def excel_format(self, as_text=False):
        return {"num_format": "0.00", "align": "center"}

    def number_text(self, number_of, number):
        return f"{number}={number_of.get(self.column.of)}/{number_of.get(self.column.over)}*100"

    @classmethod
    def check(cls, raw, problem):
        out = {"of": _refs(raw, "of", problem, many=False), "over": _refs(raw, "over", problem, many=False),
               "unit": _unit_key(raw, problem)}
        for role in ("of", "over"):
            if role not in raw:
                problem("", f"cột tỷ lệ cần khóa '{role}'")
        return out


class SumType(DerivedType):
    """The sum of columns of the row (``of: [c2, c3]``); blank when all of them are; =SUM(…) in Excel."""

    name = "sum"
    keys = frozenset({"of", "unit"})
    width = 12
    takes_operand_places = True

    @property
    def decimals(self) -> int:
        return self.column.decimals or 0  # set by the outline to its operands' largest

    @property
    def operand_roles(self):
        return [("of", key) for key in self.column.sum_of]

    @property
    def explained(self):
        return "Tự tính: tổng các cột " + ", ".join(self.column.sum_of)

    def compute(self, values):
        present = [values.get(k) for k in self.column.sum_of if values.get(k) is not None]
        return sum(present, Decimal(0)) if present else None

    def formula(self, ref_of, as_text=lambda key: False):
        refs = ",".join(ref_of(k) for k in self.column.sum_of)
        return f'=IF(COUNT({refs})=0,"",SUM({refs}))'

    def number_text(self, number_of, number):
        return f"{number}=" + "+".join(str(number_of.get(k)) for k in self.column.sum_of)

    @classmethod
    def check(cls, raw, problem):
        if "of" not in raw:
            problem("", "cột tổng cần khóa 'of' (danh sách các cột được cộng)")
        return {"sum_of": _refs(raw, "of", problem, many=True) or (), "unit": _unit_key(raw, problem)}


class FormulaType(DerivedType):
    """``formula: "c6 / c3 * 100"`` over the row's columns: + - * / ( ) and numbers; blank on a
    division by zero or an empty operand; ``decimals`` places (default 2), rounded half up."""

    name = "formula"
    keys = frozenset({"formula", "decimals", "unit"})

    @property
    def decimals(self) -> int:
        return 2 if self.column.decimals is None else self.column.decimals

    @functools.cached_property
    def expression(self) -> expressions.Expr:
        return expressions.parse(self.column.formula or "0")

    @property
    def operand_roles(self):
        return [("formula", key) for key in self.expression.keys] if self.column.formula else []

    def compute(self, values):
        return rounded(self.expression.evaluate(values), self.decimals)

    @property
    def explained(self):
        return f"Tự tính: {self.column.formula}"

    def formula(self, ref_of, as_text=lambda key: False):
        keys = self.expression.keys
        blank = ",".join(f'{ref_of(k)}=""' for k in keys)
        body = f"IFERROR(ROUND({self.expression.excel(ref_of)},{self.decimals}),\"\")"
        return f'=IF(OR({blank}),"",{body})' if keys else f"={body}"

    def number_text(self, number_of, number):
        return f"{number}=" + self.expression.excel(lambda k: str(number_of.get(k)))

    @classmethod
    def check(cls, raw, problem):
        text = raw.get("formula")
        if not isinstance(text, str) or not text.strip():
            problem("formula", "cột công thức cần khóa 'formula', ví dụ \"c6 / c3 * 100\"")
            text = None
        else:
            try:
                expressions.parse(text)
            except expressions.ExpressionError as exc:
                problem("formula", str(exc))
                text = None
        return {"formula": text, "decimals": _decimals_key(raw, problem, None), "unit": _unit_key(raw, problem)}


def percent(numerator: Number | None, denominator: Number | None) -> Decimal | None:
    """numerator / denominator * 100, rounded half away from zero to 2 decimals; None when undefined."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return rounded(Decimal(numerator) * 100 / Decimal(denominator), 2)


def percent_formula(of_ref: str, over_ref: str, of_yesno: bool = False, over_yesno: bool = False) -> str:
    """The Excel formula of a rate: blank when an operand is blank or the denominator is 0.

    ROUND(…, 2) makes the formula's result equal the carried value (``percent`` rounds half away
    from zero, as ROUND does). In a template a yes/no operand holds the text Có/Không, so it is
    turned into 1/0 inside the formula.
    """
    num = f'IF({of_ref}="{YES}",1,0)' if of_yesno else of_ref
    den = f'IF({over_ref}="{YES}",1,0)' if over_yesno else over_ref
    return f'=IF(OR({of_ref}="",{over_ref}="",{den}=0),"",ROUND({num}/{den}*100,2))'


# ------------------------------------------------------------------------------------------- rows

TYPES: dict[str, type[ColumnType]] = {cls.name: cls for cls in (
    CountType, DecimalType, YesNoType, TextType, DateType, ChoiceType, PercentType, SumType, FormulaType,
    TargetType, UnitCountType, SerialType)}


def column_type(column: Column) -> ColumnType:
    """The type of ``column``, bound to it (what ``column.kind`` is)."""
    return TYPES.get(column.type, ColumnType)(column)


def row_values(columns: Sequence[Column], numbers: Mapping[str, int | None], row_key: str | None = None,
               unit_kind: str | None = None) -> dict[str, Number | None]:
    """The values of one row: stored ``numbers`` scaled back, targets filled in for ``row_key``,
    derived columns computed (a formula may read a sum: each is computed after what it reads)."""
    values: dict[str, Number | None] = {}
    derived = {}
    for c in columns:
        kind = c.kind
        if kind.is_derived:
            derived[c.key] = kind
        elif kind.name == "target":
            values[c.key] = kind.constant(row_key or "", unit_kind)
        elif kind.numeric:
            values[c.key] = kind.value(numbers.get(c.key))

    def value_of(key: str, seen: tuple[str, ...] = ()) -> Number | None:
        if key in values or key not in derived or key in seen:
            return values.get(key)
        kind = derived[key]
        operands = {k: value_of(k, seen + (key,)) for k in kind.operands}
        values[key] = kind.compute(operands)
        return values[key]

    for key in derived:
        value_of(key)
    del value_of  # it refers to itself: a cycle that would outlive the call while the collector is paused
    return values
