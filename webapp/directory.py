"""Units and accounts from a list (issue 13): the administrator's list template, reading a filled list
(.xlsx or .csv), checking it whole and storing it all or nothing.

A list has one row per account, or per unit without an account: the unit's fields (code, name,
kind, parent unit, phone) and the account's (username, full name, role). A unit with several
accounts takes several rows with the same code, whose unit fields agree; an account row may leave
the unit's fields all empty, and then belongs to the unit of its code given on another row or
already stored. Columns are named in the first row, by their keys (``code`` …) or by the template's
Vietnamese headers. Problems name the file's row (the header is row 1); a problem of the file as a
whole (empty, not a workbook, unreadable) is put on row 1.

``read_list`` gives the rows (or raises ListRefused), ``plan_import`` compares them with what is
stored and finds every problem, ``apply_plan`` stores the plan (flushes; the caller commits).
``import_list`` does all three. ``write_list_template`` writes the template, prefilled with the
installation's active units and accounts, so that a list downloaded, edited and loaded again
changes only what was edited. No Flask here.

What a list does to what is stored:
- a new unit or account is created (audited ``unit_create`` / ``user_create``; a new account gets a
  random first password, to be changed at its first sign-in, returned once and stored nowhere);
- a stored unit's changed name, phone, kind or parent is updated (``unit_update``); kind and parent
  are refused for a reporting unit of a campaign (the accounts page changes them deliberately);
- a stored account's changed full name is updated (``user_update``); an account is never moved to
  another unit nor given another role by a list (refused: that is done on the accounts page);
- nothing is deactivated or deleted: a unit or account missing from the list stays as it is.
The same list loaded twice changes nothing and records nothing.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .domain.archive import MAX_FILE_BYTES, MB, OLE2_MAGIC, archive_problem, seekable, size_text
from .models import ROLE_CLERK, ROLE_NAMES, AuditEvent, Campaign, CampaignUnit, Unit, User
from .outline_store import unit_kinds
from .passwords import generate_password

# --- the columns ----------------------------------------------------------------------------------

KEYS = ("code", "name", "kind", "parent", "phone", "username", "full_name", "role")
UNIT_FIELDS = ("name", "kind", "parent", "phone")
HEADERS = {
    "code": "Mã đơn vị",
    "name": "Tên đơn vị",
    "kind": "Loại đơn vị",
    "parent": "Mã đơn vị cấp trên",
    "phone": "Điện thoại",
    "username": "Tên đăng nhập",
    "full_name": "Họ và tên",
    "role": "Vai trò",
}
# other names people give these columns (the accounts page's labels, common variants)
ALIASES = {
    "code": ("Mã", "Mã ĐV"),
    "name": ("Tên", "Đơn vị"),
    "kind": ("Loại",),
    "parent": ("Cấp trên", "Mã cấp trên", "Thuộc đơn vị", "Đơn vị cấp trên"),
    "phone": ("Số điện thoại", "SĐT", "ĐT"),
    "username": ("Tài khoản",),
    "full_name": ("Họ tên", "Người dùng"),
    "role": (),
}
REQUIRED_COLUMNS = ("code", "name", "kind")
# the database's column lengths (models.py)
MAX_LENGTH = {"code": 40, "name": 200, "parent": 40, "phone": 40, "username": 60, "full_name": 120}
# as on the accounts page (admin/forms.py): codes and usernames are lowercase, without accents
UNIT_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
PHONE = re.compile(r"^[0-9 +().-]*$")
MAX_ROWS = 5000  # a province with every commune and several accounts each stays far below
MAX_COLUMNS = 40  # read this far right in a worksheet: the list has 8 columns
LIST_SHEET, HELP_SHEET, CHOICES_SHEET = "Danh sách", "Hướng dẫn", "DanhMuc"
TOP, EMPTY = "(cấp cao nhất)", "(trống)"  # in the audit trail (the accounts page writes the same)

# file-level messages (put on row 1)
FILE_EMPTY = "Tệp rỗng: không có dòng tiêu đề nào; hãy tải mẫu danh sách, điền rồi nạp lại"
FILE_TOO_LARGE = "Tệp quá lớn ({size}); chỉ nhận tệp tối đa {limit} MB"
NOT_UTF8 = ("Tệp CSV không ở mã UTF-8 (có thể Excel đã lưu theo bảng mã Windows); trong Excel hãy chọn "
            "Lưu thành › «CSV UTF-8 (Comma delimited) (*.csv)», hoặc nạp chính tệp Excel .xlsx")
NOT_TEXT = "Tệp không phải tệp CSV (văn bản) cũng không phải sổ tính Excel .xlsx"
NO_SHEET = "Sổ tính không có trang tính nào đọc được"
UNREADABLE = "Không đọc được nội dung tệp ({error}); hãy tải mẫu danh sách mới, điền lại rồi nạp"
TOO_MANY_ROWS = "Tệp có hơn {limit} dòng dữ liệu; hãy chia danh sách thành nhiều tệp"
ACCOUNTS_PAGE = "trang «Đơn vị và tài khoản»"
# what a file starts with when it is not text: a zip archive (an .xlsx, a .docx, an .ods), an .xls
# or encrypted workbook, a PDF; the workbook checks say which
WORKBOOK_LIKE = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", OLE2_MAGIC, b"%PDF")


@dataclass(frozen=True)
class Problem:
    """Something wrong with the list, on a row of the file (1: the header, or the file as a whole)."""

    row: int
    message: str

    def line(self, word: str = "Row") -> str:
        """``Row 5: message`` (the command line) or, with ``word="Dòng"``, as the page shows it."""
        return f"{word} {self.row}: {self.message}"


class ListRefused(Exception):
    """The list is refused whole; ``problems`` names every problem found, by row."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.line() for p in problems))
        self.problems = sorted(problems, key=lambda p: p.row)  # stable: a row's problems keep their order

    def lines(self, word: str = "Row") -> list[str]:
        return [p.line(word) for p in self.problems]


@dataclass
class Row:
    """One row of data: its number in the file and its values by key ("" when empty)."""

    number: int
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values.get(key, "")


# --- reading a file -------------------------------------------------------------------------------

def read_list(source: str | os.PathLike | bytes | IO[bytes], filename: str = "") -> list[Row]:
    """The data rows of a list, from an .xlsx workbook (its first sheet, or «Danh sách») or a .csv
    file (UTF-8 with or without a BOM, ``,`` ``;`` or tab, detected from the header line). The kind
    is told by the content, then by ``filename``. Raises ListRefused for a problem of the file or of
    its header row. The .xlsx is checked against zip bombs and odd archives before openpyxl opens it
    (domain/archive.py), and read in streaming mode."""
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(bytes(source))
    source = seekable(source)
    head = _head(source)
    if head is None:
        raise ListRefused([Problem(1, UNREADABLE.format(error="không mở được tệp"))])
    if head.startswith(WORKBOOK_LIKE) or filename.lower().endswith(".xlsx"):
        table = _xlsx_table(source)
    else:
        table = _csv_table(source)
    return _rows(table)


def _head(source: Any) -> bytes | None:
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as fp:
                return fp.read(8)
        start = source.tell()
        data = source.read(8)
        source.seek(start)
        return data
    except OSError:
        return None


def _read_bytes(source: Any) -> bytes:
    """At most MAX_FILE_BYTES + 1 bytes of the file (one more than allowed is enough to refuse it)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fp:
            return fp.read(MAX_FILE_BYTES + 1)
    return source.read(MAX_FILE_BYTES + 1)


def _csv_table(source: Any) -> list[tuple[int, list[str]]]:
    """The CSV's records with their row numbers (a record's first line in the file)."""
    try:
        data = _read_bytes(source)
    except OSError as exc:
        raise ListRefused([Problem(1, UNREADABLE.format(error=exc.strerror or type(exc).__name__))]) from None
    if not data:
        raise ListRefused([Problem(1, FILE_EMPTY)])
    if len(data) > MAX_FILE_BYTES:
        raise ListRefused([Problem(1, FILE_TOO_LARGE.format(size=size_text(len(data)), limit=MAX_FILE_BYTES // MB))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ListRefused([Problem(1, NOT_UTF8)]) from None
    if "\x00" in text:
        raise ListRefused([Problem(1, NOT_TEXT)])
    first_line_end = len(text.split("\n", 1)[0]) + 1
    first = text[:first_line_end].strip("\r\n")
    offset = 0
    match = re.fullmatch(r'"?sep=(.)"?[,;\t]*', first.strip())
    if match:  # Excel's "sep=;" line: the separator given, the header on the next line
        delimiter = match.group(1)
        text = text[first_line_end:]
        offset = 1
    else:
        delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table, filled = [], 0
    try:
        for record in reader:
            # reader.line_num is the last line read: a record spanning lines starts earlier
            table.append((reader.line_num + offset, record))
            filled += any(c.strip() for c in record)
            if filled > MAX_ROWS + 1:
                raise ListRefused([Problem(1, TOO_MANY_ROWS.format(limit=MAX_ROWS))])
    except csv.Error as exc:
        raise ListRefused([Problem(reader.line_num + offset, f"Dòng CSV không đọc được ({exc})")]) from None
    starts, line = [], 1 + offset
    for number, record in table:  # the first line of each record: what a spreadsheet calls its row
        starts.append(line)
        line = number + 1
    return [(start, record) for start, (_, record) in zip(starts, table)]


def _delimiter(header: str) -> str:
    """``;`` (Excel in a Vietnamese locale), ``,`` or a tab: the one the header line has most of,
    outside quotes; ``,`` when there is none (a one-column header)."""
    outside = re.sub(r'"[^"]*"', "", header)
    counts = {d: outside.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _xlsx_table(source: Any) -> list[tuple[int, list[str]]]:
    problem = archive_problem(source)
    if problem:
        raise ListRefused([Problem(1, problem)])
    from .domain.importer import _load, _openpyxl_silenced  # the template importer's guarded loader

    with _openpyxl_silenced():
        wb = _load(source)
        if isinstance(wb, str):
            raise ListRefused([Problem(1, wb)])
        try:
            return _sheet_table(wb)
        except ListRefused:
            raise
        except Exception as exc:  # a file odd in a way not foreseen: refused, never a crash
            raise ListRefused([Problem(1, UNREADABLE.format(error=type(exc).__name__))]) from None
        finally:
            wb.close()


def _sheet_table(wb) -> list[tuple[int, list[str]]]:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    sheets = [ws for ws in wb.worksheets if isinstance(ws, ReadOnlyWorksheet)]
    if not sheets:
        raise ListRefused([Problem(1, NO_SHEET)])
    ws = next((s for s in sheets if s.title == LIST_SHEET), sheets[0])
    ws.reset_dimensions()  # a wrong <dimension> (some programs write A1) must not hide rows
    table, filled = [], 0
    problems: list[Problem] = []
    for number, cells in enumerate(ws.iter_rows(min_row=1, max_col=MAX_COLUMNS), start=1):
        values = []
        for cell in cells:
            if getattr(cell, "data_type", None) == "f":
                problems.append(Problem(number, f"Ô {cell.coordinate} chứa công thức ({str(cell.value)[:40]}); "
                                                "hãy ghi giá trị, không ghi công thức"))
                values.append("")
                continue
            values.append(_cell_text(cell.value))
        if any(values):
            filled += 1
            if filled > MAX_ROWS + 1:
                raise ListRefused([Problem(1, TOO_MANY_ROWS.format(limit=MAX_ROWS))])
        table.append((number, values))
    if problems:
        raise ListRefused(problems)
    return table


def _cell_text(value: Any) -> str:
    """A cell's value as text: whole numbers without ".0" (a code or phone typed as a number)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return str(value)


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


def clean(value: str) -> str:
    """A cell as written, tidied: NFC (Vietnamese typed with combining accents compares equal),
    no zero-width characters, runs of spaces (also non-breaking) as one, trimmed; the ``'`` an
    export puts before text that would read as a formula is taken off."""
    text = unicodedata.normalize("NFC", value).translate(_INVISIBLE)
    text = " ".join(text.split())
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]
    return text


def fold(text: str) -> str:
    """How names are compared: cleaned and case-folded."""
    return clean(text).casefold()


def _header_keys() -> dict[str, str]:
    names = {}
    for key in KEYS:
        for name in (key, HEADERS[key], *ALIASES[key]):
            names[fold(name)] = key
    return names


HEADER_KEYS = _header_keys()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _rows(table: list[tuple[int, list[str]]]) -> list[Row]:
    """The data rows under the header row; problems of the header refuse the file."""
    table = [(n, [clean(v) for v in values]) for n, values in table]
    if not table or not any(table[0][1]):
        if any(any(values) for _, values in table):
            raise ListRefused([Problem(table[0][0] if table else 1,
                                       "Dòng đầu tiên phải là dòng tiêu đề (tên các cột); dòng này trống")])
        raise ListRefused([Problem(1, FILE_EMPTY)])
    header_row, header = table[0]
    problems: list[Problem] = []
    columns: dict[int, str] = {}
    seen: dict[str, int] = {}
    known = ", ".join(f"{HEADERS[k]} ({k})" for k in KEYS)
    for index, name in enumerate(header):
        if not name:
            continue
        key = HEADER_KEYS.get(fold(name.rstrip("*: ")))
        if key is None:
            problems.append(Problem(header_row, f"Cột «{name}» (cột {_column_letter(index)}) không phải cột của "
                                                f"danh sách; các cột: {known}"))
        elif key in seen:
            problems.append(Problem(header_row, f"Cột «{HEADERS[key]}» có hai lần (cột {_column_letter(seen[key])} "
                                                f"và cột {_column_letter(index)})"))
        else:
            seen[key] = index
            columns[index] = key
    for key in REQUIRED_COLUMNS:
        if key not in seen:
            problems.append(Problem(header_row, f"Thiếu cột «{HEADERS[key]}» ({key})"))
    if ("full_name" in seen or "role" in seen) and "username" not in seen:
        problems.append(Problem(header_row, f"Có cột họ tên hoặc vai trò nhưng thiếu cột «{HEADERS['username']}» "
                                            "(username)"))
    rows = []
    unnamed: set[str] = set()
    for number, values in table[1:]:
        if not any(values):
            continue
        for index, value in enumerate(values):
            if value and index not in columns and index < len(header) and not header[index] or \
                    value and index >= len(header):
                unnamed.add(_column_letter(index))
        rows.append(Row(number, {key: values[index] if index < len(values) else "" for index, key in columns.items()}))
    if unnamed:
        problems.append(Problem(header_row, f"Có dữ liệu ở cột không có tên trong dòng tiêu đề "
                                            f"(cột {', '.join(sorted(unnamed, key=lambda c: (len(c), c)))})"))
    if problems:
        raise ListRefused(problems)
    return rows


# --- planning: the list against what is stored ----------------------------------------------------

@dataclass
class UnitSpec:
    """A unit as the list gives it (kind as its code, parent as a code or None)."""

    row: int
    code: str
    name: str
    kind: str
    parent: str | None
    phone: str | None


@dataclass
class AccountSpec:
    row: int
    username: str
    full_name: str
    role: str | None  # None: not given (clerk for a new account, unchanged for a stored one)
    unit: str  # the unit's code


@dataclass
class Plan:
    """What loading the list would do, or the problems that refuse it."""

    new_units: list[UnitSpec] = field(default_factory=list)  # parents before their children
    unit_changes: list[tuple[Unit, UnitSpec]] = field(default_factory=list)
    new_accounts: list[AccountSpec] = field(default_factory=list)
    account_changes: list[tuple[User, AccountSpec]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Outcome:
    """What a stored list did. The passwords of the new accounts are here and nowhere else."""

    units_created: list[Unit] = field(default_factory=list)
    units_updated: list[Unit] = field(default_factory=list)
    accounts_created: list[tuple[User, str]] = field(default_factory=list)
    accounts_updated: list[User] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.units_created or self.units_updated or self.accounts_created or self.accounts_updated)


class _Lookup:
    """A kind or role by its code or its Vietnamese name, case and spacing aside."""

    def __init__(self, names: dict[str, str]):
        self.names = names
        self.by_text: dict[str, str] = {}
        for code, name in names.items():
            self.by_text.setdefault(fold(name), code)
        for code in names:
            self.by_text[fold(code)] = code

    def __call__(self, text: str) -> str | None:
        return self.by_text.get(fold(text))


def _labels(campaigns: list[Campaign]) -> str:
    shown = ", ".join(f"«{c.name}» ({c.code})" for c in campaigns[:3])
    return shown + (" …" if len(campaigns) > 3 else "")


def plan_import(session: Session, rows: list[Row], kinds: dict[str, str] | None = None) -> Plan:
    """Compare the rows with the stored units and accounts: what would be created and updated, and
    every problem, each on its row."""
    kinds = unit_kinds(session) if kinds is None else kinds
    kind_of, role_of = _Lookup(kinds), _Lookup(ROLE_NAMES)
    plan = Plan()
    problems = plan.problems

    def problem(row: Row | int, message: str) -> None:
        problems.append(Problem(row if isinstance(row, int) else row.number, message))

    stored_units = {u.code.lower(): u for u in session.scalars(select(Unit))}
    stored_users = {u.username.lower(): u for u in session.scalars(select(User))}

    units: dict[str, UnitSpec] = {}  # by code, as first given
    mentioned: set[str] = set()  # every code a row gives a unit for, right or wrong
    accounts: dict[str, AccountSpec] = {}
    account_units: list[AccountSpec] = []  # accounts whose unit is to be found
    for row in rows:
        code = row["code"].lower()
        username = row["username"].lower()
        unit_given = any(row[k] for k in UNIT_FIELDS)
        ok = True
        for key, limit in MAX_LENGTH.items():
            if len(row[key]) > limit:
                problem(row, f"{HEADERS[key]} dài quá {limit} ký tự ({len(row[key])} ký tự)")
                ok = False
        if not code:
            if username:
                problem(row, f"Tài khoản {row['username']} thiếu mã đơn vị: mỗi tài khoản thuộc một đơn vị; "
                             f"hãy ghi mã đơn vị của tài khoản ở cột «{HEADERS['code']}»")
            elif row["role"] or row["full_name"]:
                problem(row, "Có họ tên hoặc vai trò nhưng thiếu tên đăng nhập và mã đơn vị")
            else:
                problem(row, f"Thiếu mã đơn vị (cột «{HEADERS['code']}»)")
            continue
        if len(code) <= MAX_LENGTH["code"] and not UNIT_CODE.match(code):
            problem(row, f"Mã đơn vị «{row['code']}» chỉ được gồm chữ thường không dấu, chữ số, '-' và '_' "
                         "(ví dụ ln-17)")
            ok = False
        if unit_given or not username:
            mentioned.add(code)
            spec = _unit_spec(row, code, kind_of, stored_units.get(code), problem)
            if spec is None:
                ok = False
            elif ok:
                first = units.get(code)
                if first is None:
                    units[code] = spec
                else:
                    _agree(row, first, spec, kinds, problem)
        # the account on the row
        if not username:
            if row["role"] or row["full_name"]:
                problem(row, f"Có họ tên hoặc vai trò nhưng thiếu tên đăng nhập (cột «{HEADERS['username']}»); "
                             "một dòng không có tên đăng nhập chỉ ghi đơn vị")
            continue
        account_ok = True
        if len(username) <= MAX_LENGTH["username"] and not USERNAME.match(username):
            problem(row, f"Tên đăng nhập «{row['username']}» chỉ được gồm chữ thường không dấu, chữ số, '.', '-' "
                         "và '_'")
            account_ok = False
        role = None
        if row["role"]:
            role = role_of(row["role"])
            if role is None:
                problem(row, f"Vai trò «{row['role']}» không có; các vai trò: "
                             + ", ".join(f"{name} ({code_})" for code_, name in ROLE_NAMES.items()))
                account_ok = False
        spec = AccountSpec(row.number, username, row["full_name"], role, code)
        first = accounts.get(username)
        if first is not None:
            problem(row, f"Tên đăng nhập {username} đã có ở dòng {first.row}: mỗi tài khoản chỉ ghi một dòng")
            continue
        accounts[username] = spec
        if account_ok and ok and len(username) <= MAX_LENGTH["username"] and len(row["full_name"]) <= MAX_LENGTH["full_name"]:
            account_units.append(spec)

    _plan_units(session, plan, units, mentioned, stored_units, kinds, problem)
    _plan_accounts(plan, account_units, mentioned, stored_units, stored_users, problem)
    return plan


def _unit_spec(row: Row, code: str, kind_of: _Lookup, stored: Unit | None, problem) -> UnitSpec | None:
    """The unit given on ``row``, or None after naming what is missing or wrong."""
    ok = True
    if not row["name"]:
        problem(row, f"Thiếu tên đơn vị của mã {code} (cột «{HEADERS['name']}»)")
        ok = False
    kind = None
    if not row["kind"]:
        problem(row, f"Thiếu loại đơn vị của mã {code} (cột «{HEADERS['kind']}»)")
        ok = False
    else:
        kind = kind_of(row["kind"])
        if kind is None and stored is not None and fold(row["kind"]) == fold(stored.kind):
            kind = stored.kind  # a stored unit keeps a kind no outline names any more
        if kind is None:
            problem(row, f"Loại đơn vị «{row['kind']}» không có; hãy chọn trong danh sách thả xuống của mẫu "
                         f"(các loại: {'; '.join(kind_of.names.values())})")
            ok = False
    parent = row["parent"].lower() or None
    if parent is not None and len(parent) <= MAX_LENGTH["parent"] and not UNIT_CODE.match(parent):
        problem(row, f"Mã đơn vị cấp trên «{row['parent']}» không phải một mã đơn vị (chữ thường không dấu, "
                     "chữ số, '-' và '_')")
        ok = False
    phone = row["phone"] or None
    if phone is not None and not PHONE.match(phone):
        problem(row, f"Số điện thoại «{phone}» chỉ được gồm chữ số, khoảng trắng và + ( ) . -")
        ok = False
    if not ok:
        return None
    return UnitSpec(row.number, code, row["name"], kind, parent, phone)


def _agree(row: Row, first: UnitSpec, spec: UnitSpec, kinds: dict[str, str], problem) -> None:
    """Rows of one code must give the same unit."""
    for key, label in (("name", "tên"), ("kind", "loại"), ("parent", "mã đơn vị cấp trên"), ("phone", "điện thoại")):
        a, b = getattr(first, key), getattr(spec, key)
        if (fold(a) if a else "") != (fold(b) if b else ""):
            shown = (lambda v: kinds.get(v, v)) if key == "kind" else (lambda v: v)
            problem(row, f"Mã đơn vị {spec.code} đã ghi ở dòng {first.row} với {label} «{shown(a) if a else ''}», "
                         f"ở đây «{shown(b) if b else ''}»: các dòng cùng mã đơn vị phải ghi đơn vị giống nhau "
                         "(một mã là một đơn vị)")


def _reporting_campaigns(session: Session, unit: Unit) -> list[Campaign]:
    return list(session.scalars(select(Campaign).join(CampaignUnit, CampaignUnit.campaign_id == Campaign.id)
                                .where(CampaignUnit.unit_id == unit.id).order_by(Campaign.created_at.desc())))


def _plan_units(session: Session, plan: Plan, units: dict[str, UnitSpec], mentioned: set[str],
                stored: dict[str, Unit], kinds: dict[str, str], problem) -> None:
    stored_code = {u.id: code for code, u in stored.items()}
    # parents: a code of the list or a stored unit
    parent_of: dict[str, str | None] = {code: stored_code.get(u.parent_id) for code, u in stored.items()}
    for code, spec in units.items():
        if spec.parent is not None and spec.parent not in units and spec.parent not in stored:
            if spec.parent not in mentioned:  # else the parent's own row says what is wrong with it
                problem(spec.row, f"Không có đơn vị cấp trên «{spec.parent}» của {code}: mã này không có trong "
                                  "danh sách và chưa có trong hệ thống")
            parent_of[code] = None  # checked no further
            continue
        parent_of[code] = spec.parent
    # cycles, through the list's and the stored parents
    reported: set[str] = set()
    for code, spec in units.items():
        path, at = [], code
        while at is not None and at not in path:
            path.append(at)
            at = parent_of.get(at)
        if at is not None:  # back to a unit on the way: a cycle
            cycle = path[path.index(at):]
            if not reported & set(cycle):
                reported |= set(cycle)
                first = min((units[c] for c in cycle if c in units), key=lambda s: s.row)
                shown = " → ".join(cycle[cycle.index(first.code):] + cycle[:cycle.index(first.code)] + [first.code])
                problem(first.row, f"Đơn vị cấp trên tạo thành vòng lặp: {shown} (mỗi mũi tên chỉ tới đơn vị cấp trên)")
    # what changes for stored units; the new ones
    for code, spec in units.items():
        unit = stored.get(code)
        parent = stored.get(spec.parent) if spec.parent else None
        if unit is None:
            if parent is not None and not parent.active:
                problem(spec.row, f"Đơn vị cấp trên {parent.name} ({parent.code}) đã ngừng hoạt động")
            plan.new_units.append(spec)
            continue
        stored_parent = stored_code.get(unit.parent_id)
        kind_changed = spec.kind != unit.kind
        parent_changed = spec.parent != stored_parent
        if kind_changed or parent_changed:
            reporting = _reporting_campaigns(session, unit)
            if reporting and kind_changed:
                problem(spec.row, f"Không đổi được loại của đơn vị {unit.code} ({unit.name}) từ "
                                  f"«{kinds.get(unit.kind, unit.kind)}» sang «{kinds.get(spec.kind, spec.kind)}»: đơn "
                                  f"vị là đơn vị báo cáo của đợt {_labels(reporting)}, phần việc của đơn vị được giao "
                                  "theo loại đơn vị")
            if reporting and parent_changed:
                problem(spec.row, f"Không đổi được đơn vị cấp trên của {unit.code} ({unit.name}) từ "
                                  f"«{stored_parent or TOP}» sang «{spec.parent or TOP}» bằng danh sách: đơn vị là đơn "
                                  f"vị báo cáo của đợt {_labels(reporting)}; nếu thật cần, hãy sửa đơn vị ở "
                                  f"{ACCOUNTS_PAGE}")
            if parent_changed and parent is not None and not parent.active:
                problem(spec.row, f"Đơn vị cấp trên {parent.name} ({parent.code}) đã ngừng hoạt động")
        if (spec.name != unit.name or (spec.phone or None) != (unit.phone or None) or kind_changed
                or parent_changed):
            plan.unit_changes.append((unit, spec))
    plan.new_units = _parents_first(plan.new_units, units)


def _parents_first(specs: list[UnitSpec], units: dict[str, UnitSpec]) -> list[UnitSpec]:
    """The new units, each after its parent when both are new (list order otherwise)."""
    new = {s.code for s in specs}
    out: list[UnitSpec] = []
    placed: set[str] = set()

    def place(spec: UnitSpec, depth: int = 0) -> None:
        if spec.code in placed or depth > len(specs):
            return
        if spec.parent in new and spec.parent not in placed:
            place(units[spec.parent], depth + 1)
        placed.add(spec.code)
        out.append(spec)
    for spec in specs:
        place(spec)
    return out


def _plan_accounts(plan: Plan, accounts: list[AccountSpec], mentioned: set[str], stored_units: dict[str, Unit],
                   stored_users: dict[str, User], problem) -> None:
    for spec in accounts:
        unit = stored_units.get(spec.unit)
        if spec.unit not in mentioned and unit is None:
            problem(spec.row, f"Đơn vị «{spec.unit}» của tài khoản {spec.username} không có trong danh sách và chưa "
                              "có trong hệ thống; hãy ghi tên và loại đơn vị ở dòng này")
            continue
        user = stored_users.get(spec.username)
        if user is None:
            if unit is not None and not unit.active:
                problem(spec.row, f"Đơn vị {unit.name} ({unit.code}) đã ngừng hoạt động: không thêm tài khoản "
                                  f"{spec.username} vào đơn vị này")
                continue
            plan.new_accounts.append(spec)
            continue
        ok = True
        if user.unit.code.lower() != spec.unit:
            problem(spec.row, f"Tài khoản {user.username} đã có, thuộc đơn vị {user.unit.name} ({user.unit.code}), "
                              f"không phải {spec.unit}: danh sách không chuyển tài khoản sang đơn vị khác; muốn "
                              f"chuyển, hãy sửa tài khoản ở {ACCOUNTS_PAGE}")
            ok = False
        if spec.role is not None and spec.role != user.role:
            problem(spec.row, f"Tài khoản {user.username} đã có với vai trò {ROLE_NAMES.get(user.role, user.role)}, "
                              f"không phải {ROLE_NAMES[spec.role]}: danh sách không đổi vai trò của tài khoản; muốn "
                              f"đổi, hãy sửa tài khoản ở {ACCOUNTS_PAGE}")
            ok = False
        if ok and spec.full_name != (user.full_name or ""):
            plan.account_changes.append((user, spec))


# --- storing --------------------------------------------------------------------------------------

def unit_facts(unit: Unit, kinds: dict[str, str]) -> dict[str, str]:
    """A unit's details as the audit trail reads them (the same labels as the accounts page)."""
    return {"Tên": unit.name, "Loại": kinds.get(unit.kind, unit.kind),
            "Thuộc": unit.parent.name if unit.parent else TOP, "Điện thoại": unit.phone or EMPTY,
            "Thứ tự": str(unit.sort_order)}


def user_facts(user: User) -> dict[str, str]:
    return {"Họ tên": user.full_name or EMPTY, "Vai trò": user.role_name, "Đơn vị": user.unit.name}


def described(name: str, facts: dict[str, str]) -> str:
    """``ln-17 — Tên: Xã Lộc Mới; Loại: …``."""
    return f"{name} — " + "; ".join(f"{label}: {value}" for label, value in facts.items())


def changed_facts(name: str, before: dict[str, str], after: dict[str, str]) -> tuple[str, str] | None:
    """The old and new text of the details that changed, or None when none did."""
    labels = [label for label in before if before[label] != after[label]]
    if not labels:
        return None
    return (described(name, {label: before[label] for label in labels}),
            described(name, {label: after[label] for label in labels}))


def apply_plan(session: Session, plan: Plan, actor: User | None = None, via: str = "cli",
               kinds: dict[str, str] | None = None) -> Outcome:
    """Store a plan without problems: create and update units and accounts, each change audited
    (``actor`` and ``via`` on every event). Flushes, never commits: the caller commits, or rolls
    back and nothing is stored. A code or username taken meanwhile by another change raises
    ListRefused (after a rollback)."""
    if plan.problems:
        raise ListRefused(plan.problems)
    kinds = unit_kinds(session) if kinds is None else kinds
    outcome = Outcome()
    actor_id = actor.id if actor is not None else None

    def audit(action: str, unit_id: int, old: str | None, new: str | None) -> None:
        session.add(AuditEvent(action=action, via=via, user_id=actor_id, unit_id=unit_id, old=old, new=new))

    def by_code(code: str | None) -> Unit | None:
        if code is None:
            return None
        return session.scalar(select(Unit).where(func.lower(Unit.code) == code))

    try:
        next_order: dict[int | None, int] = {}

        def order_under(parent: Unit | None) -> int:
            key = parent.id if parent is not None else None
            if key not in next_order:
                last = session.scalar(select(func.max(Unit.sort_order)).where(
                    Unit.parent_id == parent.id if parent is not None else Unit.parent_id.is_(None)))
                next_order[key] = 0 if last is None else last + 1
            next_order[key] += 1
            return next_order[key] - 1

        # the new units, parents first (under a stored unit or a new one), then the stored units'
        # changes (a stored unit may move under a new one)
        for spec in plan.new_units:
            parent = by_code(spec.parent)
            unit = Unit(code=spec.code, name=spec.name, kind=spec.kind, parent=parent, phone=spec.phone,
                        sort_order=order_under(parent), active=True)
            session.add(unit)
            session.flush()
            audit("unit_create", unit.id, None, described(unit.code, unit_facts(unit, kinds)))
            outcome.units_created.append(unit)
        for unit, spec in plan.unit_changes:
            before = unit_facts(unit, kinds)
            unit.name, unit.kind, unit.phone = spec.name, spec.kind, spec.phone
            parent = by_code(spec.parent)
            if (parent.id if parent else None) != unit.parent_id:
                unit.parent = parent
            change = changed_facts(unit.code, before, unit_facts(unit, kinds))
            if change:
                audit("unit_update", unit.id, *change)
                outcome.units_updated.append(unit)
        for user, spec in plan.account_changes:
            before = user_facts(user)
            user.full_name = spec.full_name
            change = changed_facts(user.username, before, user_facts(user))
            if change:
                audit("user_update", user.unit_id, *change)
                outcome.accounts_updated.append(user)
        for spec in plan.new_accounts:
            unit = by_code(spec.unit)
            password = generate_password()
            user = User(username=spec.username, full_name=spec.full_name, role=spec.role or ROLE_CLERK, unit=unit,
                        active=True, must_change_password=True)
            user.set_password(password)
            session.add(user)
            session.flush()
            audit("user_create", unit.id, None, described(user.username, user_facts(user)))
            outcome.accounts_created.append((user, password))
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ListRefused([Problem(1, "Một mã đơn vị hoặc tên đăng nhập trong danh sách vừa được thêm bởi một thay "
                                      "đổi khác cùng lúc; không có gì được lưu. Hãy nạp lại danh sách")]) from None
    return outcome


def import_list(session: Session, source: str | os.PathLike | bytes | IO[bytes], filename: str = "",
                actor: User | None = None, via: str = "cli") -> Outcome:
    """Read, check and store a list, all or nothing (flushed; the caller commits). Raises
    ListRefused with every problem, by row, and then nothing is stored."""
    rows = read_list(source, filename)
    kinds = unit_kinds(session)
    plan = plan_import(session, rows, kinds)
    if plan.problems:
        raise ListRefused(plan.problems)
    return apply_plan(session, plan, actor, via, kinds)


# --- the list template ----------------------------------------------------------------------------

def _tree(session: Session) -> list[Unit]:
    """Every unit, depth first in the units' order (parents before children)."""
    units = list(session.scalars(select(Unit).order_by(Unit.sort_order, Unit.id)))
    known = {u.id for u in units}
    children: dict[int | None, list[Unit]] = {}
    for u in units:
        children.setdefault(u.parent_id if u.parent_id in known else None, []).append(u)
    out: list[Unit] = []
    seen: set[int] = set()

    def walk(parent_id: int | None) -> None:
        for u in children.get(parent_id, []):
            if u.id not in seen:
                seen.add(u.id)
                out.append(u)
                walk(u.id)
    walk(None)
    return out


COLUMN_WIDTHS = {"code": 14, "name": 42, "kind": 36, "parent": 16, "phone": 16, "username": 18, "full_name": 44,
                 "role": 20}
HELP_LINE = 100  # characters on a line of the instructions' column (110 wide)
TEMPLATE_ROWS = 2000  # rows under the header with the drop-downs and text format

HELP = [
    ("Cách dùng", [
        "Trang «Danh sách» ghi mỗi tài khoản một dòng, kèm đơn vị của tài khoản. Đơn vị chưa có tài khoản ghi một "
        "dòng, để trống các cột tài khoản.",
        "Mẫu tải về đã có sẵn các đơn vị và tài khoản đang hoạt động. Sửa hoặc thêm dòng rồi nạp lại ở trang "
        "«Nạp danh sách đơn vị và tài khoản»; các dòng không sửa giữ nguyên, nạp lại cùng danh sách không thay đổi gì.",
        "Danh sách được nhận toàn bộ hoặc không nhận gì: nếu có lỗi, mọi lỗi được liệt kê theo số dòng "
        "(«Dòng 5: …») và không có gì được lưu. Sửa trong tệp rồi nạp lại.",
        "Có thể lưu thành tệp CSV (trong Excel: Lưu thành › «CSV UTF-8 (Comma delimited) (*.csv)»); dấu phân cách "
        "là dấu phẩy hoặc dấu chấm phẩy. Dòng đầu tiên luôn là dòng tiêu đề; không đổi tên các cột.",
    ]),
    ("Các cột", [
        "Mã đơn vị (bắt buộc): chữ thường không dấu, chữ số, '-' và '_', ví dụ ln-17. Mỗi mã là một đơn vị; "
        "đơn vị có nhiều tài khoản ghi nhiều dòng cùng mã, các cột đơn vị ghi giống nhau (hoặc để trống cả bốn "
        "cột Tên đơn vị, Loại đơn vị, Mã đơn vị cấp trên, Điện thoại ở các dòng sau).",
        "Tên đơn vị (bắt buộc), ví dụ «Xã Lộc Hòa». Sửa tên ở đây thì tên đơn vị được cập nhật.",
        "Loại đơn vị (bắt buộc): chọn trong danh sách thả xuống (bảng bên dưới). Loại quyết định đơn vị điền những "
        "biểu nào. Đơn vị đã là đơn vị báo cáo của một đợt thì không đổi được loại.",
        "Mã đơn vị cấp trên: mã của đơn vị chứa đơn vị này (ghi trong danh sách hoặc đã có trong hệ thống); để "
        "trống nếu là đơn vị cấp cao nhất (huyện, tỉnh).",
        "Điện thoại: chữ số, khoảng trắng và + ( ) . -",
        "Tên đăng nhập: chữ thường không dấu, chữ số, '.', '-' và '_'. Tài khoản mới nhận mật khẩu tạm ngẫu nhiên, "
        "in trên phiếu đăng nhập ngay sau khi nạp (chỉ hiện một lần); người dùng phải đổi mật khẩu ở lần đăng nhập "
        "đầu tiên.",
        "Họ và tên: người dùng tài khoản (có thể để trống).",
        "Vai trò: Cán bộ nhập liệu (điền số liệu của đơn vị), Cán bộ tổng hợp (mở đợt, duyệt, xuất phụ lục) hoặc "
        "Quản trị (đơn vị, tài khoản). Để trống: Cán bộ nhập liệu.",
    ]),
    ("Không làm được bằng danh sách", [
        "Chuyển tài khoản sang đơn vị khác, đổi vai trò, đặt lại mật khẩu, ngừng hoạt động đơn vị hay tài khoản: "
        "làm ở trang «Đơn vị và tài khoản». Xóa một dòng khỏi danh sách không xóa đơn vị hay tài khoản nào.",
    ]),
]


def write_list_template(session: Session, out: str | os.PathLike | IO[bytes]) -> None:
    """The list template: the sheet «Danh sách» with the Vietnamese headers, prefilled with the
    active units (in the units' tree order) and their active accounts; drop-downs of the kinds'
    and roles' names (the kinds from a hidden sheet: the list is too long for an inline one);
    codes, usernames and phones formatted as text (Excel keeps 01 as 01); the sheet «Hướng dẫn»
    with the instructions and the kinds."""
    import xlsxwriter

    kinds = unit_kinds(session)
    units = [u for u in _tree(session) if u.active]
    users: dict[int, list[User]] = {}
    for user in session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)):
        users.setdefault(user.unit_id, []).append(user)
    codes = {u.id: u.code for u in session.scalars(select(Unit))}

    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    wb.set_properties({"title": "Danh sách đơn vị và tài khoản", "subject": "Mẫu danh sách đơn vị và tài khoản",
                       "comments": "Tải từ trang Đơn vị và tài khoản; nạp lại ở trang Nạp danh sách"})
    head = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True, "valign": "vcenter"})
    required = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True,
                              "valign": "vcenter"})
    text = wb.add_format({"num_format": "@"})
    title = wb.add_format({"bold": True, "font_size": 14})
    bold = wb.add_format({"bold": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})

    ws = wb.add_worksheet(LIST_SHEET)
    help_ws = wb.add_worksheet(HELP_SHEET)
    choices = wb.add_worksheet(CHOICES_SHEET)

    for col, key in enumerate(KEYS):
        ws.set_column(col, col, COLUMN_WIDTHS[key], text)
        ws.write_string(0, col, HEADERS[key], required if key in REQUIRED_COLUMNS else head)
    ws.set_row(0, 30)
    ws.freeze_panes(1, 0)
    row = 1
    for unit in units:
        unit_values = [unit.code, unit.name, kinds.get(unit.kind, unit.kind), codes.get(unit.parent_id, ""),
                       unit.phone or ""]
        for user in users.get(unit.id, []) or [None]:
            values = unit_values + ([user.username, user.full_name or "", user.role_name] if user else ["", "", ""])
            for col, value in enumerate(values):
                if value:
                    ws.write_string(row, col, value)
            row += 1
    last = max(row + 500, TEMPLATE_ROWS)
    choices.write_column(0, 0, list(kinds.values()))
    choices.write_column(0, 1, list(ROLE_NAMES.values()))
    choices.hide()
    kind_col, role_col = KEYS.index("kind"), KEYS.index("role")
    ws.data_validation(1, kind_col, last, kind_col, {
        "validate": "list", "source": f"={CHOICES_SHEET}!$A$1:$A${len(kinds)}",
        "input_title": "Loại đơn vị", "input_message": "Chọn trong danh sách thả xuống",
        "error_title": "Loại đơn vị", "error_message": "Hãy chọn một loại trong danh sách thả xuống"})
    ws.data_validation(1, role_col, last, role_col, {
        "validate": "list", "source": f"={CHOICES_SHEET}!$B$1:$B${len(ROLE_NAMES)}",
        "input_title": "Vai trò", "input_message": "Để trống: Cán bộ nhập liệu",
        "error_title": "Vai trò", "error_message": "Hãy chọn một vai trò trong danh sách thả xuống"})
    ws.autofilter(0, 0, max(row - 1, 1), len(KEYS) - 1)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.activate()

    help_ws.set_column(0, 0, 110, wrap)
    help_ws.set_column(1, 1, 16)
    help_ws.write_string(0, 0, "Hướng dẫn điền danh sách đơn vị và tài khoản", title)
    line = 2
    for heading, paragraphs in HELP:
        help_ws.write_string(line, 0, heading, bold)
        line += 1
        for paragraph in paragraphs:
            help_ws.write_string(line, 0, "• " + paragraph, wrap)
            # spreadsheet programs do not grow a row for wrapped text they did not lay out themselves
            help_ws.set_row(line, 15 * -(-len(paragraph) // HELP_LINE))
            line += 1
        line += 1
    help_ws.write_string(line, 0, "Các loại đơn vị (cột Loại đơn vị: ghi tên, hoặc mã)", bold)
    help_ws.write_string(line, 1, "Mã", bold)
    for name, code in ((n, c) for c, n in kinds.items()):
        line += 1
        help_ws.write_string(line, 0, name)
        help_ws.write_string(line, 1, code)
    line += 2
    help_ws.write_string(line, 0, "Các vai trò (cột Vai trò: ghi tên, hoặc mã)", bold)
    help_ws.write_string(line, 1, "Mã", bold)
    for code, name in ROLE_NAMES.items():
        line += 1
        help_ws.write_string(line, 0, name)
        help_ws.write_string(line, 1, code)
    help_ws.set_paper(9)
    help_ws.fit_to_pages(1, 0)
    wb.close()
