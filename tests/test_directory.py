"""Units and accounts from a list (issue 13, item 1): the list template, .csv and .xlsx lists, all or
nothing with every problem by row, reloading, audit, the import-units command and the sign-in slips."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import unicodedata

import openpyxl
import pytest
from sqlalchemy import func, select

from conftest import account_named, database_copy, unit_named, in_app, login
from webapp.directory import HEADERS, KEYS, ListRefused, import_list, read_list
from webapp.models import AuditEvent, Unit, User

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER_VI = ";".join(HEADERS[k] for k in KEYS)
PASSWORD = re.compile(r"^[a-z0-9]{12}$")

# A district on an empty installation, as Vietnamese Excel saves it: UTF-8 with a BOM, ";".
TAM_DUONG = "\ufeff" + "\r\n".join([
    HEADER_VI,
    "td;Huyện Tam Đường;Huyện;;;;;",
    "td-btg;Ban Tuyên giáo Huyện ủy Tam Đường;Huyện ủy và các ban của Huyện ủy;td;0213 3875 100;"
    "td-admin;Lò Văn Minh;Quản trị",
    "td-btg;Ban Tuyên giáo Huyện ủy Tam Đường;Huyện ủy và các ban của Huyện ủy;td;0213 3875 100;"
    "td-btg;Nguyễn Thị Hoa;Cán bộ tổng hợp",
    "td-01;Thị trấn Tam Đường;Xã, phường, thị trấn;td;0213 3875 001;td-01;Vàng Thị Mai;Cán bộ nhập liệu",
    "td-02;Xã Bản Giang;xã, phường, thị trấn;td;;td-02;;",
    ";;;;;;;",  # a blank row is skipped
    "td-02;;;;;td-02b;Lý A Páo;",  # a second account of td-02: the unit's fields left empty
    "td-ubnd;Ủy ban nhân dân huyện Tam Đường;Ủy ban nhân dân huyện;td;;;;",
]) + "\r\n"


def counts() -> dict[str, int]:
    with in_app() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model))
                for model in (Unit, User, AuditEvent)}


unit, account = unit_named, account_named  # as stored now, detached


def events(*actions: str) -> list[tuple[str, str | None, str | None, str]]:
    with in_app() as session:
        return [(e.action, e.old, e.new, e.via) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.id))]


def load(data: str | bytes, filename: str = "list.csv") -> dict[str, str]:
    """Import through the domain, committed; the new accounts' passwords by username."""
    with in_app() as session:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        outcome = import_list(session, raw, filename)
        session.commit()
        return {user.username: password for user, password in outcome.accounts_created}


def refused(data: str | bytes, filename: str = "list.csv") -> list[str]:
    """The problems of a refused list, as the command prints them; nothing may be stored."""
    before = counts()
    with in_app() as session:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        with pytest.raises(ListRefused) as caught:
            import_list(session, raw, filename)
        session.rollback()
    assert counts() == before
    return caught.value.lines()


def cp1258(text: str) -> bytes:
    """``text`` as old Excel saves a CSV in a Vietnamese Windows: code page 1258, whose letters carry
    the tone as a combining mark (ộ is ô and a dot below)."""
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        for i, mark in enumerate(marks):
            try:
                out += (unicodedata.normalize("NFC", base + "".join(marks[:i] + marks[i + 1:])) + mark).encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
    return out


def csv_list(*rows: str, header: str = HEADER_VI) -> str:
    return "\n".join([header, *rows]) + "\n"


# --- reading: csv and xlsx -----------------------------------------------------------------------

def test_a_csv_with_a_bom_and_semicolons_sets_up_a_district(empty_app):
    passwords = load(TAM_DUONG)
    assert list(passwords) == ["td-admin", "td-btg", "td-01", "td-02", "td-02b"]
    assert all(PASSWORD.match(p) for p in passwords.values())
    district, btg, commune = unit("td"), unit("td-btg"), unit("td-02")
    assert (district.name, district.kind, district.parent_id, district.phone) == ("Huyện Tam Đường", "huyen", None, None)
    assert (btg.kind, btg.parent_id, btg.phone) == ("huyen_uy", district.id, "0213 3875 100")
    assert (commune.kind, commune.parent_id) == ("xa", district.id)
    assert unit("td-ubnd").kind == "ubnd_huyen"
    admin, clerk, second = account("td-admin"), account("td-01"), account("td-02b")
    assert (admin.role, admin.unit_id, admin.full_name) == ("admin", btg.id, "Lò Văn Minh")
    assert (account("td-btg").role, clerk.role, second.role) == ("compiler", "clerk", "clerk")
    assert (second.unit_id, second.full_name, account("td-02").full_name) == (commune.id, "Lý A Páo", "")
    assert all(account(u).must_change_password and account(u).check_password(p) for u, p in passwords.items())
    created = events("unit_create", "user_create")
    assert [e[0] for e in created].count("unit_create") == 5 and [e[0] for e in created].count("user_create") == 5
    assert ("unit_create", None, "td-btg — Tên: Ban Tuyên giáo Huyện ủy Tam Đường; Loại: Huyện ủy và các ban của "
            "Huyện ủy; Thuộc: Huyện Tam Đường; Điện thoại: 0213 3875 100; Thứ tự: 0", "cli") in created
    assert ("user_create", None, "td-01 — Họ tên: Vàng Thị Mai; Vai trò: Cán bộ nhập liệu; Đơn vị: Thị trấn Tam "
            "Đường", "cli") in created
    assert not any(p in (e[2] or "") for e in created for p in passwords.values())
    # siblings in the list's order
    assert [unit(c).sort_order for c in ("td-btg", "td-01", "td-02", "td-ubnd")] == [0, 1, 2, 3]


def test_a_csv_without_bom_with_commas_and_key_headers(empty_app):
    data = csv_list(
        "lc,Tỉnh Lào Cai,tinh,,,,,",
        '"lc-bx","Huyện Bảo Yên, Lào Cai",huyen,lc,,,,',
        "lc-bx-01,Thị trấn Phố Ràng,xa,lc-bx,,bx-01,,clerk",
        "lc-bx-btg,Ban Tuyên giáo Huyện ủy Bảo Yên,huyen_uy,lc-bx,,bx-btg,Hà Văn Dũng,compiler",
        header=",".join(KEYS))
    passwords = load(data)
    assert list(passwords) == ["bx-01", "bx-btg"]
    assert unit("lc-bx").name == "Huyện Bảo Yên, Lào Cai" and unit("lc-bx").parent_id == unit("lc").id
    assert unit("lc").kind == "tinh" and unit("lc-bx-btg").kind == "huyen_uy"
    assert account("bx-btg").role == "compiler"


def test_rows_may_come_in_any_order_and_codes_are_read_lowercase(empty_app):
    load(csv_list("X-01;Xã Một;xa;HUYEN-X;;;;", "huyen-x;Huyện X;huyen;;;;;"))
    assert unit("x-01").parent_id == unit("huyen-x").id


def test_reading_keeps_row_numbers_and_detects_the_separator():
    rows = read_list(("code;name;kind\n\n" + 'a;"Tên; có chấm phẩy";xa\n' + 'b;"hai\ndòng";xa\nc;C;xa\n').encode(),
                     "x.csv")
    assert [(r.number, r["code"], r["name"]) for r in rows] == [
        (3, "a", "Tên; có chấm phẩy"), (4, "b", "hai dòng"), (6, "c", "C")]
    rows = read_list("\ufeffMã đơn vị,Tên đơn vị,Loại đơn vị\nA , Xã  \u00a0Mới ,Xã\n".encode(), "x.csv")
    assert [(r["code"], r["name"], r["kind"]) for r in rows] == [("A", "Xã Mới", "Xã")]
    # combining accents (NFD) read as the precomposed letters
    rows = read_list(unicodedata.normalize("NFD", "code;name;kind\na;Xã Lộc Hòa;xa\n").encode(), "x.csv")
    assert rows[0]["name"] == "Xã Lộc Hòa"


def test_an_xlsx_list_with_key_headers(empty_app, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(KEYS))
    ws.append(["h", "Huyện H", "Huyện", None, None, None, None, None])
    ws.append(["h-01", "Xã Một", "Xã, phường, thị trấn", "h", 2133875001, "h-01", "Lò Thị Một", "Cán bộ nhập liệu"])
    ws.append([None] * 8)
    ws.append(["h-02", "Xã Hai", "xa", "h", None, 1234, None, None])  # a username typed as a number
    path = tmp_path / "list.xlsx"
    wb.save(path)
    with in_app() as session:
        outcome = import_list(session, str(path), "list.xlsx")
        session.commit()
        assert [u.username for u, _ in outcome.accounts_created] == ["h-01", "1234"]
    assert unit("h-01").phone == "2133875001"


# --- the list template: download, edit, upload ---------------------------------------------------

def template_workbook(client) -> openpyxl.Workbook:
    response = client.get("/admin/units/list.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.data))


def upload(client, data: bytes, filename: str):
    return client.post("/admin/units/import", data={"listfile": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_the_template_holds_the_units_and_accounts_with_drop_downs(app, admin):
    wb = template_workbook(admin)
    assert wb.sheetnames[:2] == ["Danh sách", "Hướng dẫn"]
    ws = wb["Danh sách"]
    assert [c.value for c in ws[1]] == [HEADERS[k] for k in KEYS]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2) if any(c.value for c in row)]
    with in_app() as session:  # a row per account, and one for each unit without any: the districts, the province
        assert len(rows) == session.scalar(select(func.count()).select_from(User)) + 3
    assert rows[0][:5] == ["ln", "Huyện Lộc Ninh", "Huyện", None, None]
    assert ["ln-02", "Xã Lộc Hòa", "Xã, phường, thị trấn", "ln", "0271 3866 002", "ln-02",
            "Cán bộ nhập liệu – Xã Lộc Hòa", "Cán bộ nhập liệu"] in rows
    assert [r[5] for r in rows if r[0] == "ln-btg"] == ["admin", "ln-btg"]  # one row per account
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    kind = next(dv for ref, dv in validations.items() if ref.startswith("C2:"))
    role = next(dv for ref, dv in validations.items() if ref.startswith("H2:"))
    assert kind.type == role.type == "list"
    choices = wb["DanhMuc"]
    assert choices.sheet_state == "hidden"
    kinds = [c.value for c in choices["A"] if c.value]
    assert kind.formula1 == f"DanhMuc!$A$1:$A${len(kinds)}"
    assert {"Xã, phường, thị trấn", "Huyện", "Tỉnh ủy và các ban của Tỉnh ủy", "Ủy ban nhân dân huyện"} <= set(kinds)
    assert [c.value for c in choices["B"] if c.value] == ["Cán bộ nhập liệu", "Cán bộ tổng hợp", "Quản trị"]
    help_text = " ".join(str(c.value) for c in wb["Hướng dẫn"]["A"] if c.value)
    assert "toàn bộ hoặc không nhận gì" in help_text and "Mã đơn vị cấp trên" in help_text


def test_the_template_round_trip_uploads_unchanged_then_edited(app, admin, tmp_path):
    wb = template_workbook(admin)
    buffer = io.BytesIO()
    wb.save(buffer)
    before, first_events = counts(), counts()["AuditEvent"]
    response = upload(admin, buffer.getvalue(), "danh-sach.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert "Danh sách không có gì mới" in response.get_data(as_text=True)
    assert counts() == before and counts()["AuditEvent"] == first_events
    ws = wb["Danh sách"]
    last = max(r[0].row for r in ws.iter_rows(min_row=2) if r[0].value)
    ws.append([])  # rows appended after the last one written
    for row in ws.iter_rows(min_row=2, max_row=last):
        if row[0].value == "ln-16":
            row[1].value = "Xã Lộc Khánh (mới)"
            row[4].value = "0271 3866 999"
    new = [["ln-17", "Xã Lộc Mới", "Xã, phường, thị trấn", "ln", "0271 3866 017", "ln-17", "Trần Văn Bình",
            "Cán bộ nhập liệu"],
           ["ln-17", "Xã Lộc Mới", "Xã, phường, thị trấn", "ln", "0271 3866 017", "ln-17b", None, None]]
    for values in new:
        last += 1
        for col, value in enumerate(values, start=1):
            ws.cell(last, col, value)
    buffer = io.BytesIO()
    wb.save(buffer)
    response = upload(admin, buffer.getvalue(), "danh-sach.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert unit("ln-17").parent_id == unit("ln").id and unit("ln-16").name == "Xã Lộc Khánh (mới)"
    slips = dict(re.findall(r'data-username="([^"]+)".*?class="secret slip-password"[^>]*>([^<]+)<', page, re.S))
    assert set(slips) == {"ln-17", "ln-17b"} and account("ln-17").check_password(slips["ln-17"])
    assert [e[0] for e in events("unit_create", "unit_update", "user_create")] == [
        "unit_create", "unit_update", "user_create", "user_create"]
    assert all(e[3] == "upload" for e in events("unit_create", "unit_update", "user_create"))


# --- every problem by its row, nothing stored -----------------------------------------------------

DEMO_CASES = [
    # (rows under the Vietnamese header, the expected problem lines)
    (["ln-17;;xa;ln;;;;"], ["Row 2: Thiếu tên đơn vị của mã ln-17"]),
    (["ln-17;Xã Mới;;ln;;;;"], ["Row 2: Thiếu loại đơn vị của mã ln-17"]),
    (["ln-17;Xã Mới;phuong;ln;;;;"], ["Row 2: Loại đơn vị «phuong» không có"]),
    (["ln-17;Xã Mới;xa;zz;;;;"], ["Row 2: Không có đơn vị cấp trên «zz» của ln-17"]),
    (["a;A;xa;b;;;;", "b;B;xa;c;;;;", "c;C;xa;a;;;;"], ["Row 2: Đơn vị cấp trên tạo thành vòng lặp: a → b → c → a"]),
    (["ln-17;Xã Mới;xa;ln-17;;;;"], ["Row 2: Đơn vị cấp trên tạo thành vòng lặp: ln-17 → ln-17"]),
    # (the demo province's unit: Huyện Lộc Ninh is a reporting unit of kl49-tinh-2024, which a move also refuses)
    (["bp;Tỉnh Bình Phước;tinh;bp-btg;;;;"], ["Row 2: Đơn vị cấp trên tạo thành vòng lặp: bp → bp-btg → bp"]),
    (["ln-05;Xã Lộc Thạnh;xa;ln-ubnd;0271 3866 005;;;"],
     ["Row 2: Không đổi được đơn vị cấp trên của ln-05 (Xã Lộc Thạnh) từ «ln» sang «ln-ubnd» bằng danh sách: đơn vị "
      "là đơn vị báo cáo của đợt"]),
    (["ln-17;Xã Mới;xa;ln;;u1;;", "ln-17;Xã Mới khác;xa;ln;;u2;;"],
     ["Row 3: Mã đơn vị ln-17 đã ghi ở dòng 2 với tên «Xã Mới», ở đây «Xã Mới khác»"]),
    (["ln-17;Xã Mới;xa;ln;;u1;;", "ln-17;Xã Mới;huyen;ln;0271;u2;;"],
     ["Row 3: Mã đơn vị ln-17 đã ghi ở dòng 2 với loại «Xã, phường, thị trấn», ở đây «Huyện»",
      "Row 3: Mã đơn vị ln-17 đã ghi ở dòng 2 với điện thoại «», ở đây «0271»"]),
    (["ln-17;Xã Mới;xa;ln;;u1;;", "ln-18;Xã Mới 2;xa;ln;;U1;;"], ["Row 3: Tên đăng nhập u1 đã có ở dòng 2"]),
    (["ln-03;;;;;ln-02;;"], ["Row 2: Tài khoản ln-02 đã có, thuộc đơn vị Xã Lộc Hòa (ln-02), không phải ln-03"]),
    (["ln-02;;;;;ln-02;;Cán bộ tổng hợp"],
     ["Row 2: Tài khoản ln-02 đã có với vai trò Cán bộ nhập liệu, không phải Cán bộ tổng hợp"]),
    ([";;;;;u1;Nguyễn Văn A;Cán bộ nhập liệu"], ["Row 2: Tài khoản u1 thiếu mã đơn vị"]),
    ([";;;;;;Nguyễn Văn A;Cán bộ nhập liệu"], ["Row 2: Có họ tên hoặc vai trò nhưng thiếu tên đăng nhập và mã đơn vị"]),
    (["ln-17;Xã Mới;xa;ln;;;Nguyễn Văn A;"], ["Row 2: Có họ tên hoặc vai trò nhưng thiếu tên đăng nhập"]),
    (["ln-02;;;;;u1;;sếp"], ["Row 2: Vai trò «sếp» không có"]),
    (["ln-99;;;;;u1;;"], ["Row 2: Đơn vị «ln-99» của tài khoản u1 không có trong danh sách và chưa có trong hệ thống"]),
    ([f"ln-17;{'X' * 201};xa;ln;;;;"], ["Row 2: Tên đơn vị dài quá 200 ký tự (201 ký tự)"]),
    ([f"ln-17;Xã Mới;xa;ln;;u{'x' * 60};;"], ["Row 2: Tên đăng nhập dài quá 60 ký tự (61 ký tự)"]),
    ([f"ln-17;Xã Mới;xa;ln;;u1;{'A' * 121};"], ["Row 2: Họ và tên dài quá 120 ký tự (121 ký tự)"]),
    (["Lộc 17;Xã Mới;xa;ln;;;;"], ["Row 2: Mã đơn vị «Lộc 17» chỉ được gồm chữ thường không dấu"]),
    (["ln-17;Xã Mới;xa;ln;;Nguyễn An;;"], ["Row 2: Tên đăng nhập «Nguyễn An» chỉ được gồm chữ thường không dấu"]),
    (["ln-17;Xã Mới;xa;ln;số 5;;;"], ["Row 2: Số điện thoại «số 5» chỉ được gồm chữ số"]),
    (["ln-01;Thị trấn Lộc Ninh;Hội Khuyến học huyện;ln;0271 3866 001;;;"],
     ["Row 2: Không đổi được loại của đơn vị ln-01 (Thị trấn Lộc Ninh) từ «Xã, phường, thị trấn» sang «Hội Khuyến "
      "học huyện»: đơn vị là đơn vị báo cáo của đợt"]),
    (["ln-17;Xã Mới;xa;ln;;;;"] * 1 + [";;;;;;;"] + ["ln-18;;xa;ln;;;;", "ln-19;Xã;;ln;;u1;;"],
     ["Row 4: Thiếu tên đơn vị của mã ln-18", "Row 5: Thiếu loại đơn vị của mã ln-19"]),
]


@pytest.mark.parametrize("rows, expected", DEMO_CASES)
def test_every_refused_row_is_named_and_nothing_is_stored(app, rows, expected):
    lines = refused(csv_list(*rows))
    assert len(lines) == len(expected), lines
    for line, start in zip(lines, expected):
        assert line.startswith(start), (line, start)


def test_a_stored_account_in_an_inactive_unit_or_a_new_one_under_it(app):
    with in_app() as session:
        session.scalar(select(Unit).where(Unit.code == "ln-16")).active = False
        session.commit()
    assert refused(csv_list("ln-16;;;;;u9;;")) == [
        "Row 2: Đơn vị Xã Lộc Khánh (ln-16) đã ngừng hoạt động: không thêm tài khoản u9 vào đơn vị này"]
    assert refused(csv_list("ln-16-a;Thôn A;xa;ln-16;;;;")) == [
        "Row 2: Đơn vị cấp trên Xã Lộc Khánh (ln-16) đã ngừng hoạt động"]


@pytest.mark.parametrize("data, filename, expected", [
    (b"", "list.csv", "Row 1: Tệp rỗng"),
    (b"\n\n", "list.csv", "Row 1: Tệp rỗng"),
    ("Mã đơn vị;Tên đơn vị;Loại đơn vị;Ghi chú\n".encode(), "list.csv",
     "Row 1: Cột «Ghi chú» (cột D) không phải cột của danh sách"),
    ("Mã đơn vị;Tên đơn vị\nln-17;Xã\n".encode(), "list.csv", "Row 1: Thiếu cột «Loại đơn vị» (kind)"),
    ("Mã đơn vị;Tên đơn vị;Loại đơn vị;code\n".encode(), "list.csv",
     "Row 1: Cột «Mã đơn vị» có hai lần (cột A và cột D)"),
    ("Mã đơn vị;Tên đơn vị;Loại đơn vị;;\nln-17;Xã;xa;;?\n".encode(), "list.csv",
     "Row 1: Có dữ liệu ở cột không có tên trong dòng tiêu đề (cột E)"),
    ("code;name;kind;full_name\n".encode(), "list.csv", "Row 1: Có cột họ tên hoặc vai trò nhưng thiếu cột"),
    (cp1258("Mã đơn vị;Tên đơn vị;Loại đơn vị\nln-17;Xã Lộc Mới;xa\n"), "list.csv",
     "Row 1: Tệp CSV không ở mã UTF-8"),
    (b"%PDF-1.4 not a list", "list.csv", "Row 1: Tệp này là tệp PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "list.xls", "Row 1: Tệp này là sổ tính Excel 97–2003"),
    (b"code;name;kind\n", "list.xlsx", "Row 1: Tệp tải lên không phải là sổ tính Excel"),
    ("\n;;\ncode;name;kind\n".encode(), "list.csv", "Row 1: Dòng đầu tiên phải là dòng tiêu đề"),
])
def test_a_bad_file_or_header_is_refused_on_row_1(app, data, filename, expected):
    lines = refused(data, filename)
    assert lines[0].startswith(expected), lines


def test_a_formula_in_an_xlsx_list_is_refused_at_its_row(app, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["code", "name", "kind"])
    wb.active.append(["ln-17", "=A2&\" mới\"", "xa"])
    buffer = io.BytesIO()
    wb.save(buffer)
    assert refused(buffer.getvalue(), "list.xlsx")[0].startswith("Row 2: Ô B2 chứa công thức")


def test_a_zip_bomb_is_refused_before_it_is_opened(app):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (120 * 1024 * 1024))
    lines = refused(buffer.getvalue(), "list.xlsx")
    assert lines[0].startswith("Row 1: Tệp có cấu trúc bất thường")


# --- reloading and updating ------------------------------------------------------------------------

def test_loading_the_same_list_again_changes_nothing(empty_app):
    load(TAM_DUONG)
    before = counts()
    assert load(TAM_DUONG) == {}
    assert counts() == before
    # the same with the unit fields in other letter case, spacing and kind by code
    again = TAM_DUONG.replace("Huyện;;;;;", "huyen;;;;;").replace("td-01;Thị trấn", "TD-01;Thị trấn")
    assert load(again) == {} and counts() == before


def test_a_changed_name_or_phone_is_updated_and_audited(app):
    first = counts()["AuditEvent"]
    assert load(csv_list("ln-16;Xã Lộc Khánh mới;Xã, phường, thị trấn;ln;0912 345 678;ln-16;Cán bộ nhập liệu – Xã "
                         "Lộc Khánh;Cán bộ nhập liệu",
                         "ln-15;Xã Lộc Thịnh;xa;ln;;;;")) == {}
    assert unit("ln-16").name == "Xã Lộc Khánh mới" and unit("ln-16").phone == "0912 345 678"
    assert unit("ln-15").phone is None
    assert events("unit_update") == [
        ("unit_update", "ln-16 — Tên: Xã Lộc Khánh; Điện thoại: 0271 3866 016",
         "ln-16 — Tên: Xã Lộc Khánh mới; Điện thoại: 0912 345 678", "cli"),
        ("unit_update", "ln-15 — Điện thoại: 0271 3866 015", "ln-15 — Điện thoại: (trống)", "cli")]
    assert counts()["AuditEvent"] == first + 2


def test_a_full_name_is_updated_and_a_unit_of_no_campaign_may_change_kind_and_parent(app):
    load(csv_list("ln-x;Cụm X;huyen;ln;;;;", "ln-y;Cụm Y;huyen;ln;;;;"))
    load(csv_list("ln-x;Cụm X;doan_the;ln-y;;;;", "ln-02;;;;;ln-02;Nguyễn Thị Lan;"))
    assert unit("ln-x").kind == "doan_the" and unit("ln-x").parent_id == unit("ln-y").id
    assert account("ln-02").full_name == "Nguyễn Thị Lan"
    assert events("unit_update", "user_update") == [
        ("unit_update", "ln-x — Loại: Huyện; Thuộc: Huyện Lộc Ninh",
         "ln-x — Loại: Mặt trận Tổ quốc và các đoàn thể; Thuộc: Cụm Y", "cli"),
        ("user_update", "ln-02 — Họ tên: Cán bộ nhập liệu – Xã Lộc Hòa", "ln-02 — Họ tên: Nguyễn Thị Lan", "cli")]


def test_a_stored_unit_moves_under_a_new_unit_of_the_list(app):
    load(csv_list("ln-cum;Cụm xã phía Bắc;huyen;ln;;;;", "ln-x;Cụm X;huyen;ln;;;;"))
    load(csv_list("ln-x;Cụm X;huyen;ln-cum2;;;;", "ln-cum2;Cụm 2;huyen;ln;;;;"))
    assert unit("ln-x").parent_id == unit("ln-cum2").id


# --- the command -----------------------------------------------------------------------------------

def test_import_units_prints_one_line_per_account_created(empty_app, tmp_path):
    path = tmp_path / "danh-sach.csv"
    path.write_text(TAM_DUONG, encoding="utf-8")
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["import-units", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["td-admin", "td-btg", "td-01", "td-02", "td-02b"]
    assert all(line.count("\t") == 1 and PASSWORD.match(line.split("\t")[1]) for line in lines)
    assert "5 tài khoản mới" in result.stderr
    result = runner.invoke(args=["import-units", str(path)])
    assert (result.exit_code, result.stdout) == (0, "")


def test_import_units_refuses_with_every_problem_by_row(empty_app, tmp_path):
    path = tmp_path / "danh-sach.csv"
    path.write_text(csv_list("h;Huyện H;huyen;;;;;", "h-01;;xa;h;;h-01;;", "h-02;Xã Hai;xa;zz;;h-02;;boss"),
                    encoding="utf-8")
    result = empty_app.test_cli_runner().invoke(args=["import-units", str(path)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "Row 3: Thiếu tên đơn vị của mã h-01 (cột «Tên đơn vị»)",
        "Row 4: Vai trò «boss» không có; các vai trò: Cán bộ nhập liệu (clerk), Cán bộ tổng hợp (compiler), "
        "Quản trị (admin)",
        "Row 4: Không có đơn vị cấp trên «zz» của h-02: mã này không có trong danh sách và chưa có trong hệ thống"]
    assert counts()["Unit"] == 0
    result = empty_app.test_cli_runner().invoke(args=["import-units", str(tmp_path / "none.csv")])
    assert result.exit_code == 1 and result.stderr.startswith("Row 1: Không có tệp")


def test_the_command_as_a_script_runs_it(migrated_db, tmp_path):
    """As an administrator's script: a real process, stdout only the accounts, stderr the rest."""
    with database_copy(migrated_db, tmp_path) as url:  # SQLite, or PostgreSQL in its pass of .ci/run
        run_the_script(url, tmp_path)


def run_the_script(url: str, tmp_path) -> None:
    good, bad = tmp_path / "list.csv", tmp_path / "bad.csv"
    good.write_text(TAM_DUONG, encoding="utf-8")
    bad.write_bytes(b"PK\x03\x04 broken")
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x" * 32}
    flask = [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi", "import-units"]
    run = subprocess.run(flask + [str(good)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert [line.split("\t")[0] for line in run.stdout.splitlines()] == ["td-admin", "td-btg", "td-01", "td-02",
                                                                        "td-02b"]
    again = subprocess.run(flask + [str(good)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert (again.returncode, again.stdout) == (0, "")
    failed = subprocess.run(flask + [str(bad)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1 and failed.stdout == "" and "Traceback" not in failed.stderr
    assert [line for line in failed.stderr.splitlines() if line.startswith("Row ")] == [
        "Row 1: Tệp tải lên không phải là sổ tính Excel (.xlsx) đọc được; hãy lưu lại dưới dạng Excel Workbook "
        "(.xlsx) rồi thử lại"]


def test_a_new_account_changes_its_password_at_its_first_sign_in(empty_app):
    passwords = load(TAM_DUONG)
    client = empty_app.test_client()
    response = client.post("/login", data={"username": "td-01", "password": passwords["td-01"]})
    assert response.status_code == 302 and response.headers["Location"].startswith("/password")
    assert client.get("/").headers["Location"].startswith("/password")
    response = client.post("/password", data={"current": passwords["td-01"], "new": "mat-khau-moi-1",
                                              "confirm": "mat-khau-moi-1"})
    assert response.status_code == 302 and not account("td-01").must_change_password


# --- the pages -------------------------------------------------------------------------------------

def test_the_upload_page_lists_every_problem_and_stores_nothing(app, admin):
    page = admin.get("/admin/units/import")
    assert page.status_code == 200 and "Tải mẫu danh sách" in page.get_data(as_text=True)
    before = counts()
    response = upload(admin, csv_list("ln-17;;xa;ln;;u1;;", "ln-18;Xã;xa;zz;;;;").encode(), "ds.csv")
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and counts() == before
    assert "Chưa nạp danh sách: 2 lỗi" in text
    assert "<strong class=\"where\">Dòng 2</strong>: Thiếu tên đơn vị của mã ln-17" in text
    assert "<strong class=\"where\">Dòng 3</strong>: Không có đơn vị cấp trên «zz»" in text
    response = upload(admin, b"<html>", "ds.docx")
    assert response.status_code == 400 and "Chỉ nhận tệp Excel .xlsx" in response.get_data(as_text=True)


def test_the_slips_are_shown_once_and_never_cached(app, admin):
    response = upload(admin, csv_list("ln-17;Xã Lộc Mới;xa;ln;;ln-17;Trần Văn Bình;",
                                      "ln-17;;;;;ln-17b;;Cán bộ nhập liệu").encode("utf-8-sig"), "ds.csv")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    slips = dict(re.findall(r'data-username="([^"]+)".*?class="secret slip-password"[^>]*>([^<]+)<', text, re.S))
    assert set(slips) == {"ln-17", "ln-17b"}
    assert "2 phiếu đăng nhập bên dưới chỉ hiện một lần" in text and "Trần Văn Bình" in text
    assert "http://localhost/login" in text
    for username, password in slips.items():
        assert account(username).check_password(password)
    # the same list again: nothing new, no slip, no password
    again = upload(admin, csv_list("ln-17;Xã Lộc Mới;xa;ln;;ln-17;Trần Văn Bình;",
                                   "ln-17;;;;;ln-17b;;Cán bộ nhập liệu").encode(), "ds.csv")
    again_text = again.get_data(as_text=True)
    assert again.status_code == 200 and "Danh sách không có gì mới" in again_text
    assert "slip-password" not in again_text and not any(p in again_text for p in slips.values())
    units_page = admin.get("/admin/units").get_data(as_text=True)
    assert not any(p in units_page for p in slips.values())
    clerk = app.test_client()
    response = clerk.post("/login", data={"username": "ln-17b", "password": slips["ln-17b"]})
    assert response.headers["Location"].startswith("/password")


def test_the_single_slip_of_a_reset_still_shows(app, admin):
    user_id = account("ln-05").id
    response = admin.post(f"/admin/users/{user_id}/reset-password")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Đã đặt lại mật khẩu của tài khoản" in text
    password = re.search(r'id="slip-password">([^<]+)<', text).group(1)
    assert account("ln-05").check_password(password) and "Xã Lộc Thạnh" in text


@pytest.mark.parametrize("who", ["ln-btg", "ln-02"])
def test_only_administrators_load_lists(app, who):
    client = login(app.test_client(), who)
    before = counts()
    assert client.get("/admin/units/list.xlsx").status_code == 403
    assert client.get("/admin/units/import").status_code == 403
    assert upload(client, csv_list("ln-17;Xã Lộc Mới;xa;ln;;u1;;").encode(), "ds.csv").status_code == 403
    assert counts() == before
    anonymous = app.test_client()
    assert anonymous.get("/admin/units/import").status_code == 302


def test_the_template_saved_again_by_libreoffice_loads_unchanged(app, admin, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("needs LibreOffice (soffice)")
    path = tmp_path / "danh-sach.xlsx"
    path.write_bytes(admin.get("/admin/units/list.xlsx").data)
    out = tmp_path / "lo"
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--convert-to",
                    "xlsx", "--outdir", str(out), str(path)], check=True, capture_output=True, timeout=180)
    saved = openpyxl.load_workbook(out / path.name)
    assert saved["DanhMuc"].sheet_state == "hidden"
    kinds = len([c for c in saved["DanhMuc"]["A"] if c.value])
    assert {str(dv.formula1) for dv in saved["Danh sách"].data_validations.dataValidation} == {
        f"DanhMuc!$A$1:$A${kinds}", "DanhMuc!$B$1:$B$3"}
    before = counts()
    response = upload(admin, (out / path.name).read_bytes(), "danh-sach.xlsx")
    assert response.status_code == 200 and "Danh sách không có gì mới" in response.get_data(as_text=True)
    assert counts() == before


def test_a_file_over_the_limit_is_refused_on_the_page(app, admin):
    from webapp.domain.archive import MAX_FILE_BYTES

    before = counts()
    response = upload(admin, b"code;name;kind\n" + b"x" * (MAX_FILE_BYTES + 100 * 1024), "ds.csv")
    assert response.status_code == 413 and counts() == before
    assert "<strong class=\"where\">Dòng 1</strong>: Tệp quá lớn" in response.get_data(as_text=True)
    # just under the limit of the body, over the list's: refused by the reader
    response = upload(admin, b"code;name;kind\n" + b"x" * (MAX_FILE_BYTES + 10), "ds.csv")
    assert response.status_code == 422 and "Dòng 1: Tệp quá lớn" in re.sub(r"<[^>]+>", "", response.get_data(as_text=True))
