"""The Excel round trip through the command line and the web: templates, imports, the appendix."""

from __future__ import annotations

import io
import os
import random
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select, update

from conftest import in_app, login, stored, unit_id
from webapp.domain.layout import build_layout
from webapp.domain.outline import shipped_outline
from webapp.domain.values import percent
from webapp.models import AuditEvent, CampaignUnit, CellValue, ListRow

OUTLINE = shipped_outline("kl49")
YEARS = [2019, 2020, 2021, 2022, 2023]
CHOICES = OUTLINE.table("I").column("the_loai").choices


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def db_state():
    """Everything an import could change, to compare before and after a refused one."""
    with in_app() as session:
        values = session.execute(select(CellValue.unit_id, CellValue.table_code, CellValue.row_key,
                                        CellValue.col_key, CellValue.num, CellValue.text, CellValue.version)
                                 .order_by(CellValue.id)).all()
        rows = session.execute(select(ListRow.id, ListRow.data).order_by(ListRow.id)).all()
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    return values, rows, events


def fill_randomly(path, rng: random.Random) -> None:
    """Put a valid random value in every unlocked cell of a template (rules respected)."""
    wb = openpyxl.load_workbook(path)
    for table in OUTLINE.tables:
        ws = wb[table.sheet]
        if table.is_list:
            layout = build_layout(table, YEARS, list_rows=20)
            for lrow in layout.rows[:rng.randint(0, 3)]:
                cells = {c.column.key: ws.cell(c.row + 1, c.col + 1) for c in lrow.cells}
                if cells["so_hieu"].protection.locked:
                    break
                cells["the_loai"].value = rng.choice(CHOICES)
                cells["so_hieu"].value = f"{rng.randint(1, 999)}-KH/{rng.choice('ABCD')}"
                cells["ngay_ban_hanh"].value = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2019, 2023)}"
                cells["trich_yeu"].value = "Về công tác khuyến học, khuyến tài"
                cells["co_quan"].value = "Cơ quan " + rng.choice("XYZ")
            continue
        layout = build_layout(table, YEARS)
        for lrow in layout.rows:
            values = {}
            for cell in lrow.cells:
                target = ws.cell(cell.row + 1, cell.col + 1)
                if target.protection.locked:
                    continue
                kind = cell.column.type
                if kind == "count":
                    values[cell.column.key] = target
                    target.value = rng.choice([None, 0, rng.randint(1, 5000)])
                elif kind == "yesno":
                    target.value = rng.choice([None, "Có", "Không"])
                elif kind == "text":
                    target.value = rng.choice([None, "=1+1 không phải công thức", "Ghi chú đơn vị"])
                    if target.value:
                        target.data_type = "s"  # a text cell, as Excel stores a typed note
            for rule in table.blocks[lrow.block].rules:
                left, right = values.get(rule.left), values.get(rule.right)
                if rule.level == "error" and left is not None and right is not None:
                    if left.value is not None and right.value is not None and left.value > right.value:
                        left.value = right.value
    wb.save(path)


def number_of(value) -> int:
    if value in (None, ""):
        return 0
    if value == "Có":
        return 1
    if value == "Không":
        return 0
    return int(value)


def test_every_units_random_template_imports_and_the_appendix_sums_them(app, tmp_path):
    rng = random.Random(2024)
    with in_app() as session:  # every part open again: the demo has submitted and accepted some
        session.execute(update(CampaignUnit).values(status="open"))
        session.commit()
    units = cli(app, "units", "kl49-2024").stdout.splitlines()
    templates = []
    for line in units:
        code = line.split("\t")[0]
        path = tmp_path / f"{code}.xlsx"
        assert cli(app, "template", "kl49-2024", code, "-o", str(path)).exit_code == 0
        fill_randomly(path, rng)
        result = cli(app, "import-xlsx", "kl49-2024", code, str(path))
        assert result.exit_code == 0, result.output
        templates.append(openpyxl.load_workbook(path))
    out = tmp_path / "appendix.xlsx"
    assert cli(app, "export", "kl49-2024", "-o", str(out)).exit_code == 0
    formulas = openpyxl.load_workbook(out)
    carried = openpyxl.load_workbook(out, data_only=True)
    checked_numbers = checked_formulas = 0
    for table in OUTLINE.tables:
        if table.is_list:
            continue
        layout = build_layout(table, YEARS)
        ws, cached = formulas[table.sheet], carried[table.sheet]
        for cell in layout.cells:
            value = ws[cell.address].value
            if isinstance(value, str) and value.startswith("="):
                column = cell.column
                row = {c.column.key: cached[c.address].value for c in layout.find_row(cell.row_key, column.key).cells}
                expected = percent(row[column.of], row[column.over])
                got = cached[cell.address].value
                assert (got in (None, "") and expected is None) or Decimal(str(got)) == expected, (table.code, cell.address)
                checked_formulas += 1
            elif cell.column.is_numeric:
                total = sum(number_of(t[table.sheet][cell.address].value) for t in templates)
                assert (value or 0) == total, (table.code, cell.address, value, total)
                checked_numbers += 1
            elif cell.column.type == "text":
                assert value is None or isinstance(value, str)
    assert (checked_numbers, checked_formulas) == (217, 40)  # every number and rate cell of the outline
    # the notes went in as text, never as formulas
    assert all(not str(ws[c.address].value or "").startswith("=1+1")
               for ws in [formulas["III"]] for c in build_layout(OUTLINE.table("III"), YEARS).cells
               if ws[c.address].data_type == "f")


def test_the_appendix_has_a_cover_every_table_and_breakdowns(app, tmp_path):
    out = tmp_path / "appendix.xlsx"
    result = cli(app, "export", "kl49-2024", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    wb = openpyxl.load_workbook(out)
    names = wb.sheetnames
    assert names[0] == "Bìa"
    for table in OUTLINE.tables:
        assert table.sheet in names
        assert wb[table.sheet]["A1"].value == table.title
    breakdown = [n for n in names if n.startswith("II.1.5") and n != "II.1.5"][0]
    values = [row for row in wb[breakdown].iter_rows(values_only=True)]
    assert any(row and "Toàn huyện" in [str(v) for v in row] for row in values)
    assert any(row and "Xã Lộc Khánh" in [str(v) for v in row] for row in values)
    cover = " ".join(str(v) for row in wb["Bìa"].iter_rows(values_only=True) for v in row if v)
    assert "kl49-2024" in cover and "Ban Tuyên giáo Huyện ủy Lộc Ninh" in cover and "Xã Lộc Khánh" in cover
    # handed in: 6 accepted and 5 submitted parts of 20; complete but not submitted is not handed in
    rows = {r[0]: r[1] for r in wb["Bìa"].iter_rows(values_only=True) if r and r[0]}
    assert (rows["Số đơn vị phải báo cáo"], rows["Số đơn vị đã nộp"]) == (20, 11)
    assert "Đơn vị chưa nộp (9)" in cover and "Xã Lộc Hòa" in cover and "Xã Lộc Quang" in cover


# --- refused imports change nothing -----------------------------------------------------------

@pytest.fixture
def template_path(app, tmp_path):
    path = tmp_path / "ln-02.xlsx"
    assert cli(app, "template", "kl49-2024", "ln-02", "-o", str(path)).exit_code == 0
    return path


def edit(path, changes):
    wb = openpyxl.load_workbook(path)
    for sheet, address, value in changes:
        wb[sheet][address] = value
    wb.save(path)


def address(table, row, col):
    return build_layout(OUTLINE.table(table), YEARS).find(row, col).address


def meta(path, key, value):
    wb = openpyxl.load_workbook(path)
    ws = wb["_meta"]
    for row in ws.iter_rows():
        if row[0].value == key:
            row[1].value = value
    wb.save(path)


@pytest.mark.parametrize("case, expected", [
    ("negative", "II.1.5!{xa_tong}: Không được là số âm"),
    ("fraction", "II.1.5!{xa_tong}: Phải là số nguyên (không có phần thập phân)"),
    ("text", "II.1.5!{xa_tong}: Phải là một số nguyên không âm"),
    ("of_which", "II.1.5!{xa_dt}: Số công chức cấp xã được đào tạo, bồi dưỡng không được lớn hơn tổng số"),
    ("yesno", "II.1.1!{xa_dat}: Chỉ nhận “Có” hoặc “Không”"),
    ("not_owned", "II.1.1!{huyen_dat}:"),
    ("derived", "II.1.5!{xa_tyle}:"),
    ("list_partial", "I!"),
    ("other_unit", "ln-03"),
    ("other_campaign", "kl49-2019"),
    ("other_version", "kl49@0"),
])
def test_each_kind_of_import_error_is_listed_and_stores_nothing(app, template_path, case, expected):
    places = {"xa_tong": address("II.1.5", "2019", "xa_tong"), "xa_dt": address("II.1.5", "2019", "xa_dt"),
              "xa_tyle": address("II.1.5", "2019", "xa_tyle"), "xa_dat": address("II.1.1", "2020", "xa_dat"),
              "huyen_dat": address("II.1.1", "2020", "huyen_dat")}
    good = ("II.1.5", places["xa_tong"], 33)  # a valid change that must not be stored either
    changes = {
        "negative": [("II.1.5", places["xa_tong"], -4)],
        "fraction": [("II.1.5", places["xa_tong"], 4.5)],
        "text": [("II.1.5", places["xa_tong"], "bốn")],
        "of_which": [("II.1.5", places["xa_tong"], 10), ("II.1.5", places["xa_dt"], 11)],
        "yesno": [good, ("II.1.1", places["xa_dat"], "Chắc có")],
        "not_owned": [good, ("II.1.1", places["huyen_dat"], "Có")],
        "derived": [good, ("II.1.5", places["xa_tyle"], 50)],
        "list_partial": [good, ("I", "C6", "15-NQ/ĐU")],
    }
    if case in changes:
        edit(template_path, changes[case])
    elif case == "other_unit":
        meta(template_path, "unit", "ln-03")
    elif case == "other_campaign":
        meta(template_path, "campaign", "kl49-2019")
    else:
        meta(template_path, "outline", "kl49@0")
    before = db_state()
    result = cli(app, "import-xlsx", "kl49-2024", "ln-02", str(template_path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.stdout == ""
    assert expected.format(**places) in result.stderr
    assert db_state() == before


def test_not_a_workbook_is_refused_in_one_line(app, tmp_path):
    path = tmp_path / "note.xlsx"
    path.write_text("không phải sổ tính")
    before = db_state()
    result = cli(app, "import-xlsx", "kl49-2024", "ln-02", str(path))
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "không phải là sổ tính Excel" in result.stderr
    assert db_state() == before


def test_a_clean_import_stores_changes_with_audit(app, template_path):
    edit(template_path, [("II.1.5", address("II.1.5", "2019", "xa_tong"), 35),
                         ("II.1.5", address("II.1.5", "2019", "xa_dt"), 30)])
    result = cli(app, "import-xlsx", "kl49-2024", "ln-02", str(template_path))
    assert result.exit_code == 0, result.stderr
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 35
    with in_app() as session:
        vias = set(session.scalars(select(AuditEvent.via).where(AuditEvent.col_key == "xa_tong",
                                                                 AuditEvent.row_key == "2019",
                                                                 AuditEvent.table_code == "II.1.5")))
    assert "cli" in vias
    # who: the command line and the server's account that ran it, shown so in the change log
    import getpass
    with in_app() as session:
        origins = set(session.scalars(select(AuditEvent.ip).where(AuditEvent.via == "cli")))
    assert origins == {f"cli:{getpass.getuser()}"}
    log = login(app.test_client(), "ln-btg").get("/campaigns/kl49-2024/changes", query_string={"unit": "ln-02"})
    assert f"dòng lệnh <small class=\"muted\">tài khoản máy {getpass.getuser()}</small>" in log.get_data(as_text=True)
    # importing the same file again changes nothing
    before = db_state()
    assert cli(app, "import-xlsx", "kl49-2024", "ln-02", str(template_path)).exit_code == 0
    assert db_state() == before


# --- the same in the browser --------------------------------------------------------------------

def test_clerk_downloads_and_uploads_a_template(app, clerk):
    response = clerk.get("/campaigns/kl49-2024/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "mau-kl49-2024-ln-02.xlsx" in response.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    wb["II.1.5"][address("II.1.5", "2020", "xa_tong")] = 44
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    response = clerk.post("/campaigns/kl49-2024/import", data={"workbook": (buffer, "ln-02.xlsx")},
                          content_type="multipart/form-data")
    assert response.status_code == 302
    assert stored("ln-02", "II.1.5", "2020", "xa_tong").num == 44


def test_a_refused_upload_lists_the_errors_and_stores_nothing(app, clerk):
    wb = openpyxl.load_workbook(io.BytesIO(clerk.get("/campaigns/kl49-2024/template.xlsx").data))
    wb["II.1.5"][address("II.1.5", "2020", "xa_tong")] = -1
    wb["II.1.5"][address("II.1.5", "2021", "xa_tong")] = 40
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    before = db_state()
    response = clerk.post("/campaigns/kl49-2024/import", data={"workbook": (buffer, "ln-02.xlsx")},
                          content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<strong class="where">II.1.5!{address("II.1.5", "2020", "xa_tong")}</strong>: Không được là số âm' in html
    assert db_state() == before
    response = clerk.post("/campaigns/kl49-2024/import", data={"workbook": (io.BytesIO(b"%PDF"), "a.pdf")},
                          content_type="multipart/form-data")
    assert response.status_code == 400 and "Chỉ nhận tệp Excel .xlsx" in response.get_data(as_text=True)
    assert db_state() == before


def test_who_may_download_upload_and_export(app, clerk, compiler):
    assert clerk.get("/campaigns/kl49-2024/template.xlsx?unit=ln-03").status_code == 403
    assert clerk.get("/campaigns/kl49-2024/import?unit=ln-03").status_code == 403
    assert clerk.get("/campaigns/kl49-2024/export.xlsx").status_code == 403
    assert clerk.get("/campaigns/kl49-2024/import").status_code == 200
    response = compiler.get("/campaigns/kl49-2024/export.xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert compiler.get("/campaigns/kl49-2024/template.xlsx?unit=ln-03").status_code == 200
    assert compiler.get("/campaigns/kl49-2024/import?unit=ln-03").status_code == 200
    assert login(app.test_client(), "admin").get("/campaigns/kl49-2024/export.xlsx").status_code == 200


# --- odd files found in review ------------------------------------------------------------------

def test_a_value_far_down_the_list_sheet_is_refused_quickly(app, template_path):
    edit(template_path, [("I", "F1048576", "x")])
    before = db_state()
    result = cli(app, "import-xlsx", "kl49-2024", "ln-02", str(template_path))
    assert result.exit_code == 1 and "I!A1048576: Danh sách có dữ liệu tới dòng 1048576" in result.stderr
    assert db_state() == before


def test_a_chart_sheet_in_place_of_a_table_is_refused(app, template_path):
    from openpyxl.chart import BarChart

    wb = openpyxl.load_workbook(template_path)
    index = wb.sheetnames.index("II.1.5")
    del wb["II.1.5"]
    chart = wb.create_chartsheet("II.1.5", index)
    chart.add_chart(BarChart())
    wb.save(template_path)
    result = cli(app, "import-xlsx", "kl49-2024", "ln-02", str(template_path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "II.1.5: Sheet này không phải là bảng tính của mẫu" in result.stderr


def test_a_row_inserted_above_the_periods_is_refused(app, template_path):
    wb = openpyxl.load_workbook(template_path)
    ws = wb["II.1.5"]
    ws.protection.sheet = False
    ws.insert_rows(int(address("II.1.5", "2019", "xa_tong")[1:]))  # above "Năm 2019"
    wb.save(template_path)
    before = db_state()
    result = cli(app, "import-xlsx", "kl49-2024", "ln-02", str(template_path))
    assert result.exit_code == 1
    assert "Ô này phải là “Năm 2019”: không chèn, xóa hay đổi thứ tự dòng trong mẫu" in result.stderr
    assert db_state() == before


def test_a_date_cell_out_of_range_is_refused_as_in_the_browser(app, template_path):
    import datetime as dt

    edit(template_path, [("I", "B6", "Kế hoạch"), ("I", "C6", "1-KH"), ("I", "D6", dt.datetime(2204, 5, 3)),
                         ("I", "E6", "Trích yếu"), ("I", "F6", "Cơ quan")])
    result = cli(app, "import-xlsx", "kl49-2024", "ln-02", str(template_path))
    assert result.exit_code == 1 and "I!D6: Năm của ngày không hợp lệ" in result.stderr


def test_writing_to_an_unwritable_path_is_a_message_not_a_traceback(app):
    for args in (["template", "kl49-2024", "ln-02", "-o", "/nonexistent/x.xlsx"],
                 ["export", "kl49-2024", "-o", "/nonexistent/x.xlsx"]):
        result = cli(app, *args)
        assert result.exit_code == 1 and "Không ghi được tệp /nonexistent/x.xlsx" in result.output
        assert "Traceback" not in result.output


# --- table I re-imported: each document matched by the identity its row carries ---------------------

LIST_LAYOUT = build_layout(OUTLINE.table("I"), YEARS, list_rows=0)
ID_COLUMN = LIST_LAYOUT.width + 1  # 1-based: the hidden column just right of the printed table
FIRST_DOC_ROW = LIST_LAYOUT.blocks[0].number_row + 2  # 1-based: the first body row


def nine_documents(unit_code: str = "ln-02") -> list[int]:
    """Store nine documents of table I for ``unit_code`` (as a clerk would); their row ids."""
    from webapp.entry.service import UnitList
    from webapp.models import Campaign, Unit

    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        docs = UnitList(session, campaign, unit, OUTLINE.table("I"))
        for i in range(9):
            docs.add({"the_loai": CHOICES[i % len(CHOICES)], "so_hieu": f"{i + 1}-KH/ĐU",
                      "ngay_ban_hanh": f"2020-0{i + 1}-1{i}", "trich_yeu": f"Văn bản số {i + 1} về khuyến học",
                      "co_quan": "Đảng ủy xã Lộc Hòa"}, None, "web", commit=False)
        session.commit()
        return [r.id for r in docs.rows]


@pytest.fixture
def documents(app, tmp_path):
    """ln-02 with nine documents, and its template written after them: (row ids, template path)."""
    ids = nine_documents()
    path = tmp_path / "ln-02-docs.xlsx"
    assert cli(app, "template", "kl49-2024", "ln-02", "-o", str(path)).exit_code == 0
    return ids, path


def list_rows(unit_code: str = "ln-02") -> list[tuple[int, dict, int]]:
    """(id, data, version) of the unit's documents, by id."""
    with in_app() as session:
        return [tuple(r) for r in session.execute(
            select(ListRow.id, ListRow.data, ListRow.version).where(ListRow.unit_id == unit_id(unit_code),
                                                                    ListRow.table_code == "I")
            .order_by(ListRow.id))]


def last_event_id() -> int:
    with in_app() as session:
        return session.scalar(select(func.max(AuditEvent.id))) or 0


def events_since(first: int) -> list[tuple[str, str | None]]:
    """(action, row key) of the audit events recorded after ``first``."""
    with in_app() as session:
        return [tuple(e) for e in session.execute(select(AuditEvent.action, AuditEvent.row_key)
                                                   .where(AuditEvent.id > first).order_by(AuditEvent.id))]


def import_ln02(app, path):
    result = cli(app, "import-xlsx", "kl49-2024", "ln-02", str(path))
    assert result.exit_code == 0, result.stderr
    return result


def test_the_template_carries_each_documents_identity_in_a_hidden_locked_column_outside_the_print_area(documents):
    ids, path = documents
    wb = openpyxl.load_workbook(path)
    ws = wb["I"]
    letter = openpyxl.utils.get_column_letter(ID_COLUMN)
    assert ws.column_dimensions[letter].hidden
    assert [ws.cell(FIRST_DOC_ROW + i, ID_COLUMN).value for i in range(len(ids) + 1)] == ids + [None]
    assert all(ws.cell(FIRST_DOC_ROW + i, ID_COLUMN).protection.locked for i in range(len(ids)))
    assert ws.protection.sheet
    last_col = openpyxl.utils.get_column_letter(ID_COLUMN - 1)
    assert ws.print_area.split("!")[1].startswith("$A$1:$" + last_col + "$")
    # the table's own cells are as before: TT numbered, the documents in the input columns
    assert [ws.cell(FIRST_DOC_ROW + i, 1).value for i in range(3)] == [1, 2, 3]


def test_reimporting_one_changed_document_records_one_edit_and_keeps_every_row(app, documents):
    ids, path = documents
    before = list_rows()
    first = last_event_id()
    row = FIRST_DOC_ROW + 3  # the fourth document
    edit(path, [("I", f"E{row}", "Văn bản số 4, trích yếu đã sửa")])
    result = import_ln02(app, path)
    assert "1 giá trị thay đổi" in result.stderr
    assert events_since(first) == [("list_edit", str(ids[3]))]
    after = list_rows()
    assert [r[0] for r in after] == ids
    assert after[3][1]["trich_yeu"] == "Văn bản số 4, trích yếu đã sửa" and after[3][2] == before[3][2] + 1
    assert [r for i, r in enumerate(after) if i != 3] == [r for i, r in enumerate(before) if i != 3]


def test_reimporting_an_unchanged_template_records_nothing(app, documents):
    _, path = documents
    before = db_state()
    result = import_ln02(app, path)
    assert "0 giá trị thay đổi" in result.stderr
    assert db_state() == before


def test_a_document_cleared_in_the_sheet_is_one_deletion(app, documents):
    ids, path = documents
    first = last_event_id()
    row = FIRST_DOC_ROW + 5
    edit(path, [("I", f"{col}{row}", None) for col in "BCDEF"])
    import_ln02(app, path)
    assert events_since(first) == [("list_delete", str(ids[5]))]
    assert [r[0] for r in list_rows()] == ids[:5] + ids[6:]


def id_cell(row: int) -> str:
    return f"{openpyxl.utils.get_column_letter(ID_COLUMN)}{row}"


def new_document(row: int, so_hieu: str, identity=None) -> list[tuple[str, str, object]]:
    """The edits that type a document into ``row`` of table I (and ``identity`` into its hidden cell)."""
    changes = [("I", f"B{row}", CHOICES[0]), ("I", f"C{row}", so_hieu), ("I", f"D{row}", "03/05/2024"),
               ("I", f"E{row}", "Văn bản mới"), ("I", f"F{row}", "Đảng ủy xã Lộc Hòa")]
    return changes + ([("I", id_cell(row), identity)] if identity is not None else [])


def test_a_document_typed_in_a_blank_row_is_one_addition(app, documents):
    ids, path = documents
    first = last_event_id()
    edit(path, new_document(FIRST_DOC_ROW + len(ids), "99-KH/ĐU"))
    import_ln02(app, path)
    rows = list_rows()
    assert [r[0] for r in rows[:-1]] == ids and rows[-1][1]["so_hieu"] == "99-KH/ĐU"
    assert events_since(first) == [("list_add", str(rows[-1][0]))]


def test_a_document_moved_to_another_row_keeps_its_identity(app, documents):
    """A clerk who unprotects the sheet and sorts it moves the hidden identity with the row."""
    ids, path = documents
    wb = openpyxl.load_workbook(path)
    ws = wb["I"]
    top, bottom = FIRST_DOC_ROW, FIRST_DOC_ROW + len(ids) - 1
    for col in range(2, ID_COLUMN + 1):  # swap the first and the last document, identities included
        a, b = ws.cell(top, col), ws.cell(bottom, col)
        a.value, b.value = b.value, a.value
    wb.save(path)
    before = db_state()
    import_ln02(app, path)
    assert db_state() == before


@pytest.mark.parametrize("forged", ["other_unit", 10 ** 9, "abc", -3, 2.5, "=1+1", "own_twice"])
def test_a_forged_identity_never_touches_another_units_document(app, documents, forged):
    """An identity that is not one of this unit's documents (another unit's, a made-up one, or one
    already used higher in the sheet) makes that row a new document of this unit."""
    ids, path = documents
    others = list_rows("ln-01")  # the town's document in the demo
    identity = {"other_unit": others[0][0], "own_twice": ids[0]}.get(forged, forged)
    before = list_rows()
    first = last_event_id()
    edit(path, new_document(FIRST_DOC_ROW + len(ids), "77-KH/ĐU", identity))
    import_ln02(app, path)
    assert list_rows("ln-01") == others
    rows = list_rows()
    assert rows[:-1] == before and rows[-1][1]["so_hieu"] == "77-KH/ĐU"
    assert rows[-1][0] not in (others[0][0], *ids)
    assert events_since(first) == [("list_add", str(rows[-1][0]))]


def strip_identities(path) -> None:
    """Make ``path`` look like a template written before rows carried their identity."""
    wb = openpyxl.load_workbook(path)
    ws = wb["I"]
    for r in range(FIRST_DOC_ROW, ws.max_row + 1):
        ws.cell(r, ID_COLUMN).value = None
    wb.save(path)


def test_an_old_template_without_identities_is_matched_by_content(app, documents):
    ids, path = documents
    strip_identities(path)
    before = db_state()
    import_ln02(app, path)  # unchanged: every document found by its content
    assert db_state() == before
    first = last_event_id()
    edit(path, [("I", f"E{FIRST_DOC_ROW + 2}", "Đã sửa trong mẫu cũ")])
    import_ln02(app, path)  # without identity a changed document cannot be told from a new one
    rows = list_rows()
    assert [r[0] for r in rows[:-1]] == ids[:2] + ids[3:] and rows[-1][1]["trich_yeu"] == "Đã sửa trong mẫu cũ"
    assert sorted(a for a, _ in events_since(first)) == ["list_add", "list_delete"]


SOFFICE = "/usr/bin/soffice"


@pytest.mark.skipif(not os.path.exists(SOFFICE), reason="LibreOffice is not installed")
def test_row_identities_survive_a_template_saved_again_by_libreoffice(app, documents, tmp_path):
    ids, path = documents
    out = tmp_path / "lo"
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=180)
    saved = out / path.name
    ws = openpyxl.load_workbook(saved)["I"]
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(ID_COLUMN)].hidden
    before = db_state()
    import_ln02(app, saved)
    assert db_state() == before
    first = last_event_id()
    edit(saved, [("I", f"C{FIRST_DOC_ROW + 7}", "8-KH/ĐU (sửa)")])
    import_ln02(app, saved)
    assert events_since(first) == [("list_edit", str(ids[7]))]
    assert [r[0] for r in list_rows()] == ids
