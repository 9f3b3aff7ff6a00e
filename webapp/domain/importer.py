"""Reading a unit's filled Excel template back into a Part, with every problem at its cell.

The template is read through the same layout that wrote it (``layout.build_layout``), so a cell is
found at the address it was written to. Values go through ``values.parse_input`` and the row's hard
rules through ``checks.check_rules``, so a message is the one the browser shows. The file is opened
with formulas, never with cached results: spreadsheet programs drop or change cached values.
It is opened read-only (streaming): only the sheets of the outline and _meta are read, each once,
a grid only down to its layout's last row, into a dict of the cells that hold something (openpyxl
looks at the start of every sheet for its size when opening; no other sheet is read further).
Each part is at most ``archive.MAX_PART_BYTES``, which bounds what reading a sheet costs.
Nothing here raises on a bad file; problems come back as ``Sheet!Cell: message`` lines, and
nothing else: openpyxl's warnings about odd files (a date serial past any date, unsupported
extensions) are silenced while a file is read, or they would reach stderr before the messages.
A list table's rows come back with the identity each carries in the template's hidden column
(``Part.list_ids``), so that an import can tell an edited document from a new one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import warnings
from typing import IO, Any, NamedTuple

import openpyxl
from defusedxml import DefusedXmlException
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from .archive import NOT_A_WORKBOOK, archive_problem, seekable
from xlsxwriter.utility import xl_rowcol_to_cell

from .layout import Cell, LayoutRow, build_layout
from .outline import LIST_GROUP_KEY, Column, Frame, Outline, Table
from .ownership import Ownership
from .parts import Part
from .checks import check_rules, row_values
from .values import REQUIRED_IN_ROW, ValueProblem, parse_input, row_noun
from .workbook import APPENDIX_KIND, CAMPAIGN, KIND, META_SHEET, OUTLINE, UNIT, UNIT_NAME, list_id_column

XML_FORBIDDEN = ("Tệp chứa khai báo thực thể XML (DTD), điều mà Excel không bao giờ ghi; có thể là tệp "
                 "độc hại nên không được mở. Hãy tải mẫu mới, điền lại rồi nộp")
NO_IDENTITY = ("Tệp này không phải là mẫu Excel của ứng dụng (không có thông tin nhận dạng mẫu); "
               "hãy tải mẫu Excel của đơn vị rồi điền vào đó")
IS_APPENDIX = "Tệp này là sổ tính tổng hợp (phụ lục), không phải mẫu nhập liệu của một đơn vị"
MISSING_SHEET = "Thiếu sheet này trong tệp; hãy dùng mẫu Excel tải từ ứng dụng"
NOT_OWNED = "Ô này không thuộc phần đơn vị điền; phải để trống"
OVER_DERIVED = "Ô này tính tự động bằng công thức; không được nhập giá trị"
FIXED_ONE = "Ô này cố định là 1 (đơn vị tự tính là 1); không được sửa"
FORMULA_INPUT = "Không nhận công thức; hãy nhập giá trị"
NOT_A_TABLE = "Sheet này không phải là bảng tính của mẫu (có thể đã bị thay bằng biểu đồ); hãy dùng mẫu Excel tải từ ứng dụng"
MOVED_ROW = "Ô này phải là “{label}”: không chèn, xóa hay đổi thứ tự dòng trong mẫu; sheet này chưa được đọc"
TOO_MANY_ROWS = "Danh sách có dữ liệu tới dòng {last}; mẫu chỉ nhận tối đa {limit} {noun}"
UNREADABLE = "Không đọc được nội dung tệp ({error}); hãy tải mẫu mới, điền lại rồi nộp"
MAX_LIST_ROWS = 2000  # documents a unit may list in one template
REQUIRED = REQUIRED_IN_ROW  # the same message as in the browser


def read_template(source: str | os.PathLike | IO[bytes], outline: Outline, frame: Frame | list[int],
                  owned: dict[str, set[str]], expected: dict[str, str],
                  unit_code: str | None = None) -> tuple[Part, list[str]]:
    """The unit's Part read from a filled template, and the errors (empty when it can be stored).

    ``owned``: table code → the column groups the unit fills (``rows`` for a list table);
    ``unit_code``: the unit's row in the tables whose rows are the units (the others must stay blank).
    ``expected``: identity the template must carry, e.g. ``{"campaign": …, "unit": …, "outline":
    "kl49@1"}`` (keys as written by ``workbook.write_template``).
    The unit's own part holds the fixed 1 of the unit counts of the groups it fills.
    A file that is too large, not an xlsx archive or a zip bomb is refused (``archive``) before
    openpyxl parses anything; an XML bomb is stopped by defusedxml, which openpyxl uses. A sheet
    that cannot be parsed refuses the whole file with one message, as when opening it fails.
    """
    source = seekable(source)
    problem = archive_problem(source)
    if problem:
        return Part(), [problem]
    with _openpyxl_silenced():  # read-only: openpyxl parses (and warns) while the rows are read
        return _read(source, outline, frame, owned, expected, unit_code)


def _read(source: IO[bytes], outline: Outline, frame: Frame | list[int], owned: dict[str, set[str]],
          expected: dict[str, str], unit_code: str | None) -> tuple[Part, list[str]]:
    wb = _load(source)
    if isinstance(wb, str):
        return Part(), [wb]
    try:
        problems = _identity_problems(_identity(wb), expected)
        if problems:
            return Part(), problems
        part, errors = Part(), []
        for table in outline.tables:
            groups = owned.get(table.code, set())
            ownership = Ownership.of(table, groups, unit_code)
            if table.sheet not in wb.sheetnames:
                if groups:
                    errors.append(f"{table.sheet}: {MISSING_SHEET}")
                continue
            ws = wb[table.sheet]
            if not isinstance(ws, ReadOnlyWorksheet):  # e.g. a chart sheet under the table's name
                errors.append(f"{table.sheet}: {NOT_A_TABLE}")
                continue
            reader = _read_list if table.is_list else _read_grid
            errors.extend(f"{table.sheet}!{where}: {message}"
                          for where, message in reader(ws, table, frame, ownership, part))
        return part, errors
    except _Unparsable as exc:
        return Part(), [exc.message]
    except Exception as exc:  # a file odd in a way not foreseen: refused, never a crash
        return Part(), [UNREADABLE.format(error=type(exc).__name__)]
    finally:
        wb.close()


_silence_lock = threading.Lock()
_silenced_reads = 0
_silence: warnings.catch_warnings | None = None


@contextlib.contextmanager
def _openpyxl_silenced():
    """No warning is shown while a template is read (openpyxl warns about odd cells with
    ``warnings.warn``, which prints to stderr).

    ``warnings.catch_warnings`` swaps the process-wide filter list and puts back, on leaving, the
    list it found: two reads overlapping in two threads (the web server's) would leave the
    "ignore" of the first one in place for good. So the filter is set once for all the reads
    under way, by the first to start, and put back by the last to finish."""
    global _silenced_reads, _silence
    with _silence_lock:
        if _silenced_reads == 0:
            _silence = warnings.catch_warnings()
            _silence.__enter__()
            warnings.simplefilter("ignore")
        _silenced_reads += 1
    try:
        yield
    finally:
        with _silence_lock:
            _silenced_reads -= 1
            if _silenced_reads == 0 and _silence is not None:
                _silence.__exit__(None, None, None)
                _silence = None


def _load(source: Any) -> Workbook | str:
    """The workbook, read-only, with its formulas (not cached values), or why it cannot be read.

    Read-only, openpyxl parses a sheet only when its rows are asked for (``_rows``)."""
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    try:
        return openpyxl.load_workbook(source, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on damaged files: a refusal, never a crash
        return _refusal(exc)


def _refusal(exc: BaseException) -> str:
    return XML_FORBIDDEN if _caused_by(exc, DefusedXmlException) else NOT_A_WORKBOOK


class _Unparsable(Exception):
    """A sheet's XML could not be parsed: the file is refused as if it could not be opened."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _caused_by(exc: BaseException | None, kind: type) -> bool:
    """``exc`` or an exception it was raised from (openpyxl wraps a sheet's XML error in a ValueError)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


# ---------------------------------------------------------------------------------------- identity

def _identity(wb: Workbook) -> dict[str, str]:
    """Key/value pairs of the hidden _meta sheet, else of the custom document properties."""
    found: dict[str, str] = {}
    if META_SHEET in wb.sheetnames and isinstance(wb[META_SHEET], ReadOnlyWorksheet):
        for key, value in _rows(wb[META_SHEET], width=2, values_only=True):
            if isinstance(key, str) and key and value is not None:
                found[key] = _as_text(value)
    if not found:
        try:
            found = {p.name: _as_text(p.value) for p in wb.custom_doc_props if p.value is not None}
        except Exception:  # unreadable properties: treated as absent
            found = {}
    return found


def _as_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():  # a spreadsheet may turn "12" into 12.0
        value = int(value)
    return str(value).strip()


def _identity_problems(found: dict[str, str], expected: dict[str, str]) -> list[str]:
    if not found:
        return [NO_IDENTITY]
    if found.get(KIND) == APPENDIX_KIND:
        return [IS_APPENDIX]
    problems = []
    for key, want in expected.items():
        have = found.get(key)
        if have == str(want):
            continue
        shown = have or "không rõ"
        if key == UNIT:
            name = found.get(UNIT_NAME)
            shown = f"{shown} – {name}" if have and name else shown
            problems.append(f"Mẫu này là của đơn vị khác ({shown}), không phải của đơn vị {want}")
        elif key == CAMPAIGN:
            problems.append(f"Mẫu này thuộc đợt báo cáo khác ({shown}), không phải đợt {want}")
        elif key == OUTLINE:
            problems.append(f"Mẫu này được lập theo phiên bản đề cương khác ({shown}), không phải {want}; "
                            "hãy tải mẫu mới")
        else:
            problems.append(f"Thông tin nhận dạng “{key}” của mẫu ({shown}) không khớp ({want})")
    return problems


# -------------------------------------------------------------------------------------------- cells

MAX_ROW = 1_048_576  # a spreadsheet's last row


class XlCell(NamedTuple):
    """What the reader needs of a spreadsheet cell: its value (a formula as "=…") and data type."""
    value: Any
    data_type: str


BLANK = XlCell(None, "n")
Cells = dict[tuple[int, int], XlCell]  # 0-based (row, column) → a cell holding something


def _rows(ws: ReadOnlyWorksheet, width: int, max_row: int = MAX_ROW, values_only: bool = False):
    """The sheet's rows from the first, cut to ``width`` columns and ``max_row`` rows, parsed as they
    stream from the file (openpyxl stops reading after ``max_row``). A sheet whose XML cannot be
    parsed raises ``_Unparsable``, whose message is the one for a file that cannot be opened."""
    try:
        yield from ws.iter_rows(min_row=1, max_row=max_row, min_col=1, max_col=width, values_only=values_only)
    except Exception as exc:  # openpyxl raises many kinds on a damaged sheet: a refusal, never a crash
        raise _Unparsable(_refusal(exc)) from exc


def _cells(ws: ReadOnlyWorksheet, width: int, max_row: int = MAX_ROW, keep_rows: int = MAX_ROW,
           data_width: int | None = None) -> tuple[Cells, int]:
    """The cells holding something in the first ``width`` columns (in memory: only the first
    ``keep_rows`` rows), and one past the last 0-based row that holds a value or formula in the
    first ``data_width`` columns (all of them by default)."""
    cells: Cells = {}
    last = 0
    data_width = width if data_width is None else data_width
    for r, row in enumerate(_rows(ws, width, max_row)):
        for c, xc in enumerate(row):
            if xc.value is None:
                continue
            if c < data_width and (xc.data_type == "f" or not _is_blank(xc.value)):
                last = r + 1
            if r < keep_rows:
                cells[(r, c)] = XlCell(xc.value, xc.data_type)
    return cells, last


def _xl(cells: Cells, cell: Cell | LayoutRow, col: int | None = None) -> XlCell:
    """The cell at a layout position (both 0-based)."""
    return cells.get((cell.row, cell.col if col is None else col), BLANK)


def _is_formula(xc: XlCell) -> bool:
    return xc.data_type == "f"


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _raw(column: Column, value: Any) -> Any:
    """A spreadsheet value as parse_input expects it (undoing what spreadsheet programs change)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)  # LibreOffice and Excel may store 12 as 12.0 (12.5 stays: not whole)
    if isinstance(value, dt.time):
        return value.isoformat()
    return value


def _parse(column: Column, xc: XlCell):
    """The parsed value of an input cell, or a message."""
    if _is_formula(xc):
        return None, FORMULA_INPUT
    try:
        return parse_input(column, _raw(column, xc.value)), None
    except ValueProblem as exc:
        return None, str(exc)


# --------------------------------------------------------------------------------------------- grid

def _read_grid(ws: ReadOnlyWorksheet, table: Table, frame: Frame | list[int], ownership: Ownership, part: Part):
    """Yield (address, message) for a grid table, storing the unit's values into ``part``.

    The sheet is parsed once, down to the layout's last row and across its width only."""
    layout = build_layout(table, frame)
    cells, _ = _cells(ws, layout.width, max_row=layout.last_row + 1)
    for lrow in layout.rows:  # rows inserted or removed would put values under the wrong period
        label = _xl(cells, lrow, lrow.label_col)
        if str(label.value or "").strip() != lrow.label.strip():
            yield xl_rowcol_to_cell(lrow.row, lrow.label_col), MOVED_ROW.format(label=lrow.label)
            return
    for lrow in layout.rows:
        row_numbers: dict[str, int | None] = {}
        bad: set[str] = set()
        for cell in lrow.cells:
            c = cell.column
            mine = ownership.owns(lrow.key, c.key)
            xc = _xl(cells, cell)
            if c.is_derived or cell.total:  # the template's formulas (a rate, the total row's sums)
                if not (_is_formula(xc) or _is_blank(xc.value)):
                    yield cell.address, OVER_DERIVED
            elif not (c.is_input or c.kind.summed):  # a target: the outline's, whatever the sheet holds
                continue
            elif not mine:
                if _is_formula(xc) or not _is_blank(xc.value):
                    yield cell.address, NOT_OWNED
            elif (fixed := ownership.fixed_value(lrow.key, c.key)) is not None:
                if not (_is_blank(xc.value) or _raw(c, xc.value) == fixed):
                    yield cell.address, FIXED_ONE
                part.numbers[(table.code, lrow.key, c.key)] = fixed
                row_numbers[c.key] = fixed
            elif c.is_input:
                parsed, message = _parse(c, xc)
                if message:
                    bad.add(c.key)
                    yield cell.address, message
                    continue
                key = (table.code, lrow.key, c.key)
                if c.is_numeric:
                    row_numbers[c.key] = parsed.num
                    if parsed.num is not None:
                        part.numbers[key] = parsed.num
                elif parsed.text is not None:
                    part.texts[key] = parsed.text
        yield from _rule_errors(table, lrow, row_numbers, bad)


def _rule_errors(table: Table, lrow: LayoutRow, numbers: dict[str, int | None], bad: set[str]):
    """The row's hard rules, reported at the "of which" (left) cell; unreadable cells are not judged."""
    for breach in check_rules(table.blocks[lrow.block], row_values(table, numbers, lrow.key), level="error"):
        if not set(breach.columns) & bad:
            yield lrow.cell(breach.columns[0]).address, breach.message


# --------------------------------------------------------------------------------------------- list

def _read_list(ws: ReadOnlyWorksheet, table: Table, frame: Frame | list[int], ownership: Ownership, part: Part):
    """Yield (address, message) for a list table, appending the unit's rows to ``part`` and the
    identity each row carries to ``part.list_ids`` (None where it carries none).

    The whole sheet is parsed once, across the layout's width and the hidden identity column only
    (a value typed far below the list must be found), keeping in memory no more rows than a list
    may have. An identity alone (its row blank) is no document."""
    probe = build_layout(table, frame, list_rows=0)
    first = probe.blocks[0].number_row + 1  # the first body row (0-based)
    id_col = list_id_column(probe)
    cells, last = _cells(ws, id_col + 1, keep_rows=first + MAX_LIST_ROWS + 1, data_width=probe.width)
    last = max(last, first)  # one past the last body row holding anything (at least the first)
    if last - first > MAX_LIST_ROWS:
        yield f"A{last}", TOO_MANY_ROWS.format(last=last, limit=MAX_LIST_ROWS, noun=row_noun(table))
        return
    layout = build_layout(table, frame, list_rows=last - first)
    editable = LIST_GROUP_KEY in ownership.groups
    rows: list[dict[str, str]] = []
    ids: list[int | None] = []
    for lrow in layout.rows:
        inputs = [c for c in lrow.cells if c.column.is_input]  # TT (serial) is the app's: ignored
        filled = [c for c in inputs if _is_formula(_xl(cells, c)) or not _is_blank(_xl(cells, c).value)]
        if not filled:
            continue  # an entirely blank row is no document
        if not editable:
            for cell in filled:
                yield cell.address, NOT_OWNED
            continue
        data: dict[str, str] = {}
        problems: list[tuple[str, str]] = []
        for cell in inputs:
            parsed, message = _parse(cell.column, _xl(cells, cell))
            if message:
                problems.append((cell.address, message))
            elif parsed.text is not None:
                data[cell.column.key] = parsed.text
        for cell in inputs:
            c = cell.column
            if c.required and c.key not in data and not any(a == cell.address for a, _ in problems):
                problems.append((cell.address, REQUIRED))
        if problems:
            yield from sorted(problems, key=lambda p: _column_order(lrow, p[0]))
        else:
            rows.append(data)
            ids.append(_row_id(cells.get((lrow.row, id_col), BLANK)))
    if rows:
        part.lists[table.code] = rows
        part.list_ids[table.code] = ids


def _row_id(xc: XlCell) -> int | None:
    """The identity a list row carries (a stored row's id, as the template wrote it), or None when
    there is none or it is not a positive whole number; whose row it is, the import decides."""
    value = xc.value
    if _is_formula(xc) or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet program may store 12 as 12.0
    elif isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
        value = int(value.strip())
    return value if isinstance(value, int) and 0 < value < 2 ** 63 else None


def _column_order(lrow: LayoutRow, address: str) -> int:
    return next((c.col for c in lrow.cells if c.address == address), 0)
