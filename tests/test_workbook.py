"""The unit's Excel template, its import, and the assembled appendix workbook (no Flask, no database)."""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import zipfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from webapp.domain import importer
from webapp.domain.importer import read_template
from webapp.domain.layout import build_layout
from webapp.domain.outline import shipped_outline
from webapp.domain.parts import Part
from webapp.domain.values import NO, YES, derive, percent
from webapp.domain.workbook import (
    COVER_SHEET, META_SHEET, breakdown_sheet_name, unit_row_numbers, write_appendix, write_template,
)

YEARS = [2019, 2020, 2021, 2022, 2023]
OUTLINE = shipped_outline("kl49")
SOFFICE = "/usr/bin/soffice"
KINDS = ["xa", "ubnd_huyen", "ldld_huyen", "hkh_huyen", "doan_the"]


def owned_for(kind: str) -> dict[str, set[str]]:
    """Every group whose owner kinds contain ``kind`` (as the default assignments do)."""
    return {t.code: {g for g, grp in t.groups if kind in grp.owner}
            | ({"rows"} if t.is_list and kind in t.owner else set()) for t in OUTLINE.tables}


def identity(unit: str = "XA01") -> dict[str, str]:
    return {"campaign": "kl49-2024", "unit": unit, "unit_name": f"Đơn vị {unit}",
            "outline": OUTLINE.ident, "outline_digest": OUTLINE.digest}


def expected(unit: str = "XA01") -> dict[str, str]:
    return {"campaign": "kl49-2024", "unit": unit, "outline": OUTLINE.ident}


def with_unit_counts(part: Part, owned: dict[str, set[str]]) -> Part:
    """A unit's part holds the fixed 1 of the unit counts of the groups it fills."""
    for table in OUTLINE.tables:
        for lrow in build_layout(table, YEARS).rows if not table.is_list else []:
            for cell in lrow.cells:
                c = cell.column
                if c.type == "unit_count" and table.group_key_of(c.key) in owned.get(table.code, set()):
                    part.numbers[(table.code, lrow.key, c.key)] = 1
    return part


def random_text(rng: random.Random, words: int = 4) -> str:
    pool = ["Kế hoạch", "khuyến học", "xã hội học tập", "năm", "Đảng ủy", "triển khai", "“Công dân học tập”", "01/2024"]
    return " ".join(rng.choice(pool) for _ in range(words))


def fill_randomly(path: Path, owned: dict[str, set[str]], rng: random.Random) -> Part:
    """Put random valid values into every owned input cell of every table; the Part they make."""
    wb = openpyxl.load_workbook(path)
    part = with_unit_counts(Part(), owned)
    for table in OUTLINE.tables:
        ws = wb[table.sheet]
        groups = owned.get(table.code, set())
        if table.is_list:
            if "rows" in groups:
                part.lists[table.code] = fill_list(ws, table, rng)
            continue
        for lrow in build_layout(table, YEARS).rows:
            mine = [c for c in lrow.cells if c.column.is_input and table.group_key_of(c.column.key) in groups]
            counts = {c.column.key: rng.randint(0, 5000) for c in mine if c.column.type == "count"}
            for rule in table.blocks[lrow.block].rules:
                if rule.level == "error" and rule.left in counts and rule.right in counts:
                    counts[rule.left] = rng.randint(0, counts[rule.right])
            for cell in mine:
                c, key = cell.column, (table.code, lrow.key, cell.column.key)
                target = ws.cell(cell.row + 1, cell.col + 1)
                if c.type == "count":
                    target.value = counts[c.key]
                    part.numbers[key] = counts[c.key]
                elif c.type == "yesno":
                    answer = rng.random() < 0.5
                    target.value = YES if answer else NO
                    part.numbers[key] = int(answer)
                else:
                    text = random_text(rng)
                    if rng.random() < 0.3:
                        text = "=" + text  # a note that looks like a formula stays text
                    target.value = text
                    target.data_type = "s"
                    part.texts[key] = text
    wb.save(path)
    return part


def fill_list(ws, table, rng: random.Random) -> list[dict[str, str]]:
    layout = build_layout(table, YEARS, list_rows=5)
    rows = []
    for lrow in layout.rows[: rng.randint(1, 5)]:
        day = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 1800))
        data = {"the_loai": rng.choice(table.column("the_loai").choices), "so_hieu": f"{rng.randint(1, 300)}-KH/ĐU",
                "ngay_ban_hanh": day.isoformat(), "trich_yeu": random_text(rng, 8), "co_quan": "Đảng ủy xã"}
        for cell in lrow.cells:
            if cell.column.key in data:
                value = data[cell.column.key]
                ws.cell(cell.row + 1, cell.col + 1).value = (
                    dt.datetime.combine(day, dt.time()) if cell.column.type == "date" else value)
        rows.append(data)
    return rows


@pytest.fixture
def xa_template(tmp_path) -> Path:
    path = tmp_path / "mau.xlsx"
    write_template(path, OUTLINE, YEARS, with_unit_counts(Part(), owned_for("xa")), owned_for("xa"), identity())
    return path


def set_cell(path: Path, sheet: str, address: str, value, as_text: bool = False) -> None:
    wb = openpyxl.load_workbook(path)
    cell = wb[sheet][address]
    cell.value = value
    if as_text:
        cell.data_type = "s"
    wb.save(path)


def address(table_code: str, row_key: str, column_key: str) -> str:
    return build_layout(OUTLINE.table(table_code), YEARS).find(row_key, column_key).address


# --------------------------------------------------------------------------------------- round trip

@pytest.mark.parametrize("kind", KINDS)
def test_filled_template_reads_back_as_written(tmp_path, kind):
    owned = owned_for(kind)
    path = tmp_path / f"{kind}.xlsx"
    write_template(path, OUTLINE, YEARS, with_unit_counts(Part(), owned), owned, identity())
    written = fill_randomly(path, owned, random.Random(kind))
    part, errors = read_template(path, OUTLINE, YEARS, owned, expected())
    assert errors == []
    assert part == written


@pytest.mark.parametrize("kind", ["xa", "ubnd_huyen"])
def test_template_holds_the_units_current_values(tmp_path, kind):
    owned = owned_for(kind)
    scratch = tmp_path / "scratch.xlsx"
    write_template(scratch, OUTLINE, YEARS, Part(), owned, identity())
    current = fill_randomly(scratch, owned, random.Random(7))
    path = tmp_path / "prefilled.xlsx"
    write_template(path, OUTLINE, YEARS, current, owned, identity())
    part, errors = read_template(path, OUTLINE, YEARS, owned, expected())
    assert errors == []
    assert part == current
    # numbers are numeric cells, yes/no the text Có/Không, dates real dates
    wb = openpyxl.load_workbook(path)
    for (code, row, col), num in current.numbers.items():
        column = OUTLINE.table(code).column(col)
        cell = wb[OUTLINE.table(code).sheet][address(code, row, col)]
        if column.type == "yesno":
            assert cell.value == (YES if num else NO)
        else:
            assert cell.value == num and cell.number_format == "#,##0"
    for code, rows in current.lists.items():
        ws = wb[OUTLINE.table(code).sheet]
        layout = build_layout(OUTLINE.table(code), YEARS, list_rows=len(rows))
        for lrow, data in zip(layout.rows, rows):
            date_cell = ws[lrow.cell("ngay_ban_hanh").address]
            assert date_cell.value.date().isoformat() == data["ngay_ban_hanh"]
            assert date_cell.number_format == "dd/mm/yyyy"


@pytest.mark.skipif(not os.path.exists(SOFFICE), reason="LibreOffice is not installed")
def test_template_survives_libreoffice(tmp_path):
    owned = owned_for("xa")
    path = tmp_path / "mau.xlsx"
    write_template(path, OUTLINE, YEARS, with_unit_counts(Part(), owned), owned, identity())
    written = fill_randomly(path, owned, random.Random(49))
    out = tmp_path / "lo"
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=180)
    part, errors = read_template(out / "mau.xlsx", OUTLINE, YEARS, owned, expected())
    assert errors == []
    assert part == written


# ------------------------------------------------------------------------------- the template itself

@pytest.mark.parametrize("kind", ["xa", "ubnd_huyen"])
def test_only_own_input_cells_are_unlocked(tmp_path, kind):
    owned = owned_for(kind)
    path = tmp_path / "mau.xlsx"
    write_template(path, OUTLINE, YEARS, Part(), owned, identity())
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [t.sheet for t in OUTLINE.tables] + [META_SHEET]
    assert wb[META_SHEET].sheet_state == "veryHidden"
    unlocked_seen = 0
    for table in OUTLINE.tables:
        ws = wb[table.sheet]
        groups = owned[table.code]
        assert ws.protection.sheet
        assert ws["A1"].value == table.title
        layout = build_layout(table, YEARS, list_rows=20) if table.is_list else build_layout(table, YEARS)
        for cell in layout.cells:
            c = cell.column
            xc = ws[cell.address]
            mine = table.group_key_of(c.key) in groups
            own_input = mine and c.is_input
            assert xc.protection.locked is not own_input, (table.code, cell.address)
            unlocked_seen += own_input
            if c.is_derived:
                assert xc.data_type == "f" and xc.value.startswith("=IF(")
            elif c.type == "unit_count":
                assert xc.value == (1 if mine else None)
            elif c.type == "serial":
                assert xc.value == int(cell.row_key)
            elif not mine:
                assert xc.value is None
        for lrow in layout.rows if not table.is_list else []:
            assert ws.cell(lrow.row + 1, 1).value == lrow.label  # period labels are text
        if table.is_list:  # at least 20 blank rows to add documents
            assert ws.max_row >= layout.rows[0].row + 20
    assert unlocked_seen


def test_input_cells_carry_data_validation(xa_template):
    wb = openpyxl.load_workbook(xa_template)

    def rule_at(sheet: str, address_: str):
        found = [dv for dv in wb[sheet].data_validations.dataValidation if address_ in dv.sqref]
        assert len(found) == 1, (sheet, address_)
        return found[0]

    count = rule_at("II.1.5", address("II.1.5", "2019", "xa_tong"))
    assert (count.type, count.operator, count.formula1) == ("whole", "greaterThanOrEqual", "0")
    yesno = rule_at("II.1.1", address("II.1.1", "2019", "xa_dat"))
    assert (yesno.type, yesno.formula1) == ("list", '"Có,Không"')
    first = build_layout(OUTLINE.table("I"), YEARS).rows[0]
    choice = rule_at("I", first.cell("the_loai").address)
    assert choice.type == "list" and choice.formula1 == '"' + ",".join(OUTLINE.table("I").column("the_loai").choices) + '"'
    assert rule_at("I", first.cell("ngay_ban_hanh").address).type == "date"


def test_template_identity_is_hidden_and_in_the_properties(xa_template):
    wb = openpyxl.load_workbook(xa_template)
    meta = {k: v for k, v in wb[META_SHEET].iter_rows(max_col=2, values_only=True)}
    assert meta["campaign"] == "kl49-2024" and meta["unit"] == "XA01" and meta["outline"] == OUTLINE.ident
    props = {p.name: p.value for p in wb.custom_doc_props}
    assert props["unit"] == "XA01" and props["outline_digest"] == OUTLINE.digest
    for table in OUTLINE.tables:  # never in the table cells
        for row in wb[table.sheet].iter_rows(values_only=True):
            assert "XA01" not in row


def test_percent_formula_carries_the_units_rate(tmp_path):
    owned = owned_for("xa")
    part = with_unit_counts(Part(), owned)
    part.numbers[("II.1.5", "2020", "xa_tong")] = 3
    part.numbers[("II.1.5", "2020", "xa_dt")] = 2
    part.numbers[("II.1.1", "2020", "xa_dat")] = 1
    path = tmp_path / "mau.xlsx"
    write_template(path, OUTLINE, YEARS, part, owned, identity())
    formulas = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    rate = address("II.1.5", "2020", "xa_tyle")
    tong, dt_ = address("II.1.5", "2020", "xa_tong"), address("II.1.5", "2020", "xa_dt")
    assert formulas["II.1.5"][rate].value == f'=IF(OR({dt_}="",{tong}="",{tong}=0),"",ROUND({dt_}/{tong}*100,2))'
    assert Decimal(str(cached["II.1.5"][rate].value)) == Decimal("66.67")
    yes_rate = formulas["II.1.1"][address("II.1.1", "2020", "xa_tyle")].value
    assert 'IF(C' in yes_rate and '="Có",1,0)' in yes_rate  # yes/no text turned into 1/0
    assert cached["II.1.1"][address("II.1.1", "2020", "xa_tyle")].value == 100
    assert cached["II.1.5"][address("II.1.5", "2019", "xa_tyle")].value in (None, "")


# ------------------------------------------------------------------------------------------- errors

def read(path, unit="XA01", owned=None):
    return read_template(path, OUTLINE, YEARS, owned or owned_for("xa"), expected(unit))


@pytest.mark.parametrize("value, message", [
    (-5, "Không được là số âm"),
    (12.5, "Phải là số nguyên (không có phần thập phân)"),
    ("mười hai", "Phải là một số nguyên không âm, ví dụ 125 hoặc 1.250"),
    ("=1+1", "Không nhận công thức; hãy nhập giá trị"),
])
def test_bad_count_is_refused_at_its_cell(xa_template, value, message):
    where = address("II.1.5", "2020", "xa_tong")
    set_cell(xa_template, "II.1.5", where, value)
    part, errors = read(xa_template)
    assert errors == [f"II.1.5!{where}: {message}"]


def test_whole_float_is_a_whole_number(xa_template):
    set_cell(xa_template, "II.1.5", address("II.1.5", "2020", "xa_tong"), 12.0)
    part, errors = read(xa_template)
    assert errors == [] and part.number("II.1.5", "2020", "xa_tong") == 12


def test_of_which_above_total_is_refused(xa_template):
    set_cell(xa_template, "II.1.5", address("II.1.5", "2021", "xa_tong"), 10)
    set_cell(xa_template, "II.1.5", address("II.1.5", "2021", "xa_dt"), 12)
    set_cell(xa_template, "II.1.3", address("II.1.3", "2019", "d60_tong"), 5)
    set_cell(xa_template, "II.1.3", address("II.1.3", "2019", "d60_dtts"), 6)
    _, errors = read(xa_template)
    assert errors == [
        f"II.1.3!{address('II.1.3', '2019', 'd60_dtts')}: Số người dân tộc thiểu số (15–60 tuổi) không được "
        "lớn hơn số người từ 15 đến 60 tuổi",
        f"II.1.5!{address('II.1.5', '2021', 'xa_dt')}: Số công chức cấp xã được đào tạo, bồi dưỡng không được "
        "lớn hơn tổng số",
    ]


def test_warning_rules_do_not_block(xa_template):
    set_cell(xa_template, "II.1.3", address("II.1.3", "2019", "mu_chu"), 5)
    set_cell(xa_template, "II.1.3", address("II.1.3", "2019", "huy_dong"), 9)
    part, errors = read(xa_template)
    assert errors == [] and part.number("II.1.3", "2019", "huy_dong") == 9


def test_bad_yes_no_is_refused(xa_template):
    where = address("II.1.1", "2022", "xa_dat")
    set_cell(xa_template, "II.1.1", where, "Có lẽ")
    assert read(xa_template)[1] == [f"II.1.1!{where}: Chỉ nhận “Có” hoặc “Không”"]


def test_value_in_another_units_cell_is_refused(xa_template):
    where = address("II.1.5", "2020", "huyen_tong")
    set_cell(xa_template, "II.1.5", where, 5)
    other = address("II.1.1", "2020", "huyen_tong")  # another unit's fixed 1
    set_cell(xa_template, "II.1.1", other, 1)
    assert read(xa_template)[1] == [f"II.1.1!{other}: {importer.NOT_OWNED}", f"II.1.5!{where}: {importer.NOT_OWNED}"]


def test_value_over_a_derived_cell_is_refused(xa_template):
    where = address("II.1.5", "2020", "xa_tyle")
    set_cell(xa_template, "II.1.5", where, 50)
    assert read(xa_template)[1] == [f"II.1.5!{where}: {importer.OVER_DERIVED}"]


def test_derived_formula_is_fine_whatever_its_cached_value(xa_template):
    where = address("II.1.5", "2020", "xa_tyle")
    set_cell(xa_template, "II.1.5", where, "=1/0")  # openpyxl drops every cached value as well
    assert read(xa_template)[1] == []


def test_unit_count_may_be_blank_but_not_changed(xa_template):
    blank, changed = address("II.1.1", "2019", "xa_tong"), address("II.1.1", "2020", "xa_tong")
    set_cell(xa_template, "II.1.1", blank, None)
    set_cell(xa_template, "II.1.1", changed, 2)
    part, errors = read(xa_template)
    assert errors == [f"II.1.1!{changed}: {importer.FIXED_ONE}"]
    assert part.number("II.1.1", "2019", "xa_tong") == 1


def test_partly_filled_list_row_names_the_missing_cells(xa_template):
    rows = build_layout(OUTLINE.table("I"), YEARS).rows
    set_cell(xa_template, "I", rows[2].cell("the_loai").address, "Kế hoạch")
    set_cell(xa_template, "I", rows[2].cell("so_hieu").address, "12-KH/ĐU")
    set_cell(xa_template, "I", rows[4].cell("the_loai").address, "Thư")
    part, errors = read(xa_template)
    missing = [rows[2].cell(k).address for k in ("ngay_ban_hanh", "trich_yeu", "co_quan")]
    assert errors[:3] == [f"I!{a}: {importer.REQUIRED}" for a in missing]
    assert errors[3].startswith(f"I!{rows[4].cell('the_loai').address}: Chọn một trong: Nghị quyết, Chỉ thị")
    assert len(errors) == 3 + 1 + 4


def test_blank_list_rows_are_skipped_and_tt_ignored(xa_template):
    rows = build_layout(OUTLINE.table("I"), YEARS).rows
    values = {"the_loai": "kế hoạch", "so_hieu": "5-KH/ĐU", "ngay_ban_hanh": "03/05/2024",
              "trich_yeu": "Về xây dựng xã hội học tập", "co_quan": "Đảng ủy xã"}
    for key, value in values.items():
        set_cell(xa_template, "I", rows[6].cell(key).address, value)
    set_cell(xa_template, "I", rows[6].cell("tt").address, 99)
    part, errors = read(xa_template)
    assert errors == []
    assert part.lists["I"] == [{**values, "the_loai": "Kế hoạch", "ngay_ban_hanh": "2024-05-03"}]


def test_list_rows_of_a_unit_without_list_are_refused(tmp_path):
    owned = {**owned_for("xa"), "I": set()}
    path = tmp_path / "mau.xlsx"
    write_template(path, OUTLINE, YEARS, Part(), owned, identity())
    cell = build_layout(OUTLINE.table("I"), YEARS).rows[0].cell("so_hieu").address
    set_cell(path, "I", cell, "1-NQ")
    assert read(path, owned=owned)[1] == [f"I!{cell}: {importer.NOT_OWNED}"]


def test_every_error_is_reported_at_once(xa_template):
    assert address("II.1.5", "2019", "xa_tong") == "B7"
    set_cell(xa_template, "II.1.5", "B7", -1)
    set_cell(xa_template, "III", address("III", "2019", "xa_hkh"), "có thể")
    _, errors = read(xa_template)
    assert errors == ["II.1.5!B7: Không được là số âm", "III!C7: Chỉ nhận “Có” hoặc “Không”"]


def test_another_units_template_is_refused(xa_template):
    part, errors = read(xa_template, unit="XA02")
    assert errors == ["Mẫu này là của đơn vị khác (XA01 – Đơn vị XA01), không phải của đơn vị XA02"]
    assert part == Part()


def test_another_outline_version_or_campaign_is_refused(tmp_path):
    path = tmp_path / "mau.xlsx"
    write_template(path, OUTLINE, YEARS, Part(), owned_for("xa"),
                   {**identity(), "outline": "kl49@0", "campaign": "kl49-2023"})
    part, errors = read(path)
    assert errors == [
        "Mẫu này thuộc đợt báo cáo khác (kl49-2023), không phải đợt kl49-2024",
        f"Mẫu này được lập theo phiên bản đề cương khác (kl49@0), không phải {OUTLINE.ident}; hãy tải mẫu mới",
    ]


def test_identity_falls_back_to_document_properties(xa_template):
    wb = openpyxl.load_workbook(xa_template)
    del wb[META_SHEET]
    wb.save(xa_template)
    assert read(xa_template)[1] == []
    assert read(xa_template, unit="XA09")[1][0].startswith("Mẫu này là của đơn vị khác (XA01")


def test_a_workbook_without_identity_is_refused(tmp_path):
    path = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Bảng tự làm"
    wb.save(path)
    assert read(path)[1] == [importer.NO_IDENTITY]


def test_missing_sheet_is_reported(xa_template):
    wb = openpyxl.load_workbook(xa_template)
    del wb["II.1.3"]
    del wb["II.1.6"]  # not the commune's: no complaint
    wb.save(xa_template)
    assert read(xa_template)[1] == [f"II.1.3: {importer.MISSING_SHEET}"]


@pytest.mark.parametrize("content", [b"hello, not a workbook", b"PK\x03\x04broken zip", "zip"])  # empty: test_hostile_files
def test_not_a_workbook_is_one_clear_error(tmp_path, content):
    path = tmp_path / "upload.xlsx"
    if content == "zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("readme.txt", "a zip but no workbook")
    else:
        path.write_bytes(content)
    part, errors = read(path)
    assert errors == [importer.NOT_A_WORKBOOK] and part == Part()


def test_a_file_object_is_read_too(xa_template):
    with open(xa_template, "rb") as fh:
        assert read(fh)[1] == []


def test_an_appendix_is_not_a_template(tmp_path):
    path = tmp_path / "phuluc.xlsx"
    write_appendix(path, OUTLINE, YEARS, Part(), {"campaign_code": "kl49-2024"}, [])
    assert read(path)[1] == [importer.IS_APPENDIX]


# ----------------------------------------------------------------------------------------- appendix

def assemble(units: list[tuple[str, Part]]) -> Part:
    """The assembly rule, the simple way: sum every number, join notes, concatenate lists."""
    total = Part()
    notes: dict[tuple, list[str]] = defaultdict(list)
    for name, part in units:
        for key, num in part.numbers.items():
            total.numbers[key] = total.numbers.get(key, 0) + num
        for key, text in part.texts.items():
            notes[key].append(f"{name}: {text}")
        for code, rows in part.lists.items():
            total.lists.setdefault(code, []).extend(rows)
    total.texts = {k: "\n".join(v) for k, v in notes.items()}
    for rows in total.lists.values():
        rows.sort(key=lambda r: r["ngay_ban_hanh"])
    return total


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """Three communes and the district committee, filled randomly through their templates."""
    tmp = tmp_path_factory.mktemp("district")
    units = []
    for i, kind in enumerate(["xa", "xa", "xa", "ubnd_huyen", "hkh_huyen"]):
        owned = owned_for(kind)
        path = tmp / f"{i}.xlsx"
        write_template(path, OUTLINE, YEARS, Part(), owned, identity())
        units.append((f"Đơn vị số {i + 1}", fill_randomly(path, owned, random.Random(i))))
    units.append(("Xã chưa nhập", with_unit_counts(Part(), owned_for("xa"))))
    assembled = assemble(units)
    path = tmp / "phuluc.xlsx"
    cover = {"campaign_code": "kl49-2024", "campaign_name": "Sơ kết 5 năm thực hiện Kết luận 49-KL/TW",
             "compiler": "Ban Tuyên giáo Huyện ủy", "generated_at": dt.datetime(2024, 5, 20, 9, 30),
             "deadline": dt.date(2024, 5, 15), "units_total": 6, "units_submitted": 5,
             "missing_units": ["Xã chưa nhập"]}
    write_appendix(path, OUTLINE, YEARS, assembled, cover, units)
    template = tmp / "0.xlsx"
    return path, assembled, units, template


def test_appendix_sheets_and_addresses_match_the_template(district):
    path, assembled, _, template = district
    wb = openpyxl.load_workbook(path)
    tpl = openpyxl.load_workbook(template)
    assert wb.sheetnames[0] == COVER_SHEET
    assert set(tpl.sheetnames) <= set(wb.sheetnames)
    for table in OUTLINE.tables:
        ws, ts = wb[table.sheet], tpl[table.sheet]
        layout = build_layout(table, YEARS)
        body = layout.blocks[0].rows[0].row + 1  # 1-based first body row
        frame = [(1, 1), (2, 1)] + [(h.row + 1, h.col + 1) for b in layout.blocks for h in b.header + b.numbers]
        if not table.is_list:
            frame += [(r.row + 1, 1) for r in layout.rows]  # period labels
        for r, c in frame:
            assert ws.cell(r, c).value == ts.cell(r, c).value, (table.code, r, c)
            assert ts.cell(r, c).value is not None or (r, c) == (2, 1)
        merged = {str(m) for m in ts.merged_cells.ranges if table.is_list is False or m.min_row < body}
        assert merged <= {str(m) for m in ws.merged_cells.ranges}, table.code


def test_appendix_holds_the_assembled_numbers(district):
    path, assembled, _, _ = district
    wb = openpyxl.load_workbook(path)
    checked = 0
    for table in OUTLINE.tables:
        if table.is_list:
            continue
        ws = wb[table.sheet]
        for cell in build_layout(table, YEARS).cells:
            c = cell.column
            xc = ws[cell.address]
            if c.is_numeric and not c.is_derived:
                assert xc.value == assembled.number(table.code, cell.row_key, c.key)
                assert xc.value is None or (isinstance(xc.value, int) and xc.number_format == "#,##0")
                checked += 1
            elif c.type == "text":
                assert xc.value == assembled.text(table.code, cell.row_key, c.key)
                if xc.value:
                    assert xc.data_type == "s"  # notes starting with "=" stay text
    assert checked
    assert assembled.number("II.1.1", "2019", "xa_tong") == 4  # four communes
    assert assembled.number("II.1.1", "2019", "huyen_tong") == 1


def test_appendix_rates_are_formulas_carrying_recomputed_values(district):
    path, assembled, _, _ = district
    formulas = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    seen = 0
    for table in OUTLINE.tables:
        for lrow in build_layout(table, YEARS).rows if not table.is_list else []:
            numbers = assembled.row_numbers(table.code, lrow.key)
            for cell in lrow.cells:
                if not cell.column.is_derived:
                    continue
                of, over = lrow.cell(cell.column.of).address, lrow.cell(cell.column.over).address
                assert formulas[table.sheet][cell.address].value == (
                    f'=IF(OR({of}="",{over}="",{over}=0),"",ROUND({of}/{over}*100,2))')
                value = cached[table.sheet][cell.address].value
                want = percent(numbers.get(cell.column.of), numbers.get(cell.column.over))
                assert (None if value in (None, "") else Decimal(str(value))) == want
                assert want == derive(cell.column, numbers)
                seen += want is not None
    assert seen > 10


def test_appendix_list_is_numbered(district):
    path, assembled, _, _ = district
    ws = openpyxl.load_workbook(path)["I"]
    rows = assembled.lists["I"]
    layout = build_layout(OUTLINE.table("I"), YEARS, list_rows=len(rows))
    for i, (lrow, data) in enumerate(zip(layout.rows, rows)):
        assert ws[lrow.cell("tt").address].value == i + 1
        assert ws[lrow.cell("so_hieu").address].value == data["so_hieu"]
        assert ws[lrow.cell("ngay_ban_hanh").address].value.date().isoformat() == data["ngay_ban_hanh"]
    assert ws.max_row == layout.rows[-1].row + 1


def test_appendix_cover(district):
    path, *_ = district
    ws = openpyxl.load_workbook(path)[COVER_SHEET]
    text = [v for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert ws["A1"].value == OUTLINE.title
    for expected_text in ("kl49-2024", "Ban Tuyên giáo Huyện ủy", "1. Xã chưa nhập", "Năm 2019 – Năm 2023"):
        assert expected_text in text
    assert dt.datetime(2024, 5, 20, 9, 30) in text


def test_breakdown_sheets_sum_the_units(district):
    path, assembled, units, _ = district
    formulas = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    for table in OUTLINE.tables:
        if table.is_list:
            assert breakdown_sheet_name(table) not in formulas.sheetnames
            continue
        name = breakdown_sheet_name(table)
        assert len(name) <= 31
        ws, wc = formulas[name], cached[name]
        header = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "A"][0]
        first, total = header + 1, header + 1 + len(units)
        assert [ws.cell(r, 2).value for r in range(first, total)] == [n for n, _ in units]
        assert ws.cell(total, 1).value == "Toàn huyện"
        for col in range(3, ws.max_column + 1):
            formula = ws.cell(total, col).value
            assert isinstance(formula, str) and formula.startswith("=")
            column_values = [wc.cell(r, col).value for r in range(first, total)]
            carried = wc.cell(total, col).value
            if "SUM(" in formula:
                nums = [v for v in column_values if v not in (None, "")]
                assert carried == (sum(nums) if nums else None)
    # a per-unit rate is that unit's rate, the total rate the rate of the sums
    ws, wc = formulas["II.1.5 theo ĐV"], cached["II.1.5 theo ĐV"]
    numbers_row = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "A"][0]
    rate_col = 3 + 2  # Năm 2019 › Công chức cấp xã › Tổng số, Số được đào tạo, Tỷ lệ (%)
    assert (ws.cell(numbers_row - 3, 3).value, ws.cell(numbers_row - 2, 3).value) == ("Năm 2019", "Công chức cấp xã")
    assert ws.cell(numbers_row - 1, rate_col).value == "Tỷ lệ (%)"
    for i, (_, part) in enumerate(units):
        want = percent(part.number("II.1.5", "2019", "xa_dt"), part.number("II.1.5", "2019", "xa_tong"))
        got = wc.cell(numbers_row + 1 + i, rate_col).value
        assert (None if got in (None, "") else Decimal(str(got))) == want
    want = percent(assembled.number("II.1.5", "2019", "xa_dt"), assembled.number("II.1.5", "2019", "xa_tong"))
    assert Decimal(str(wc.cell(numbers_row + 1 + len(units), rate_col).value)) == want


def test_template_and_appendix_agree_on_unit_numbers():
    table = OUTLINE.table("II.1.1")
    numbers = unit_row_numbers(table, Part(), {"xa"}, "2019")
    assert numbers == {"xa_tong": 1, "xa_dat": None, "huyen_tong": None, "huyen_dat": None}


def test_long_choice_lists_live_on_the_meta_sheet(tmp_path):
    from webapp.domain.outline import parse_outline

    choices = [f"Loại văn bản số {i:02d} rất dài" for i in range(20)]
    outline = parse_outline({
        "code": "thu", "version": 1, "title": "Thử", "unit_kinds": {"xa": "Xã"},
        "tables": [{"code": "I", "kind": "list", "title": "I. Danh mục", "owner": ["xa"], "columns": [
            {"key": "tt", "label": "TT", "type": "serial"},
            {"key": "loai", "label": "Loại", "type": "choice", "choices": choices, "required": True}]}],
    })
    path = tmp_path / "mau.xlsx"
    owned = {"I": {"rows"}}
    write_template(path, outline, YEARS, Part(), owned, {"unit": "XA01"})
    wb = openpyxl.load_workbook(path)
    rule = [dv for dv in wb["I"].data_validations.dataValidation if "B6" in dv.sqref][0]
    assert rule.formula1 == "'_meta'!$D$1:$D$20"
    assert [wb[META_SHEET].cell(i + 1, 4).value for i in range(20)] == choices
    wb["I"]["B6"] = choices[3]
    wb.save(path)
    part, errors = read_template(path, outline, YEARS, owned, {"unit": "XA01"})
    assert errors == [] and part.lists == {"I": [{"loai": choices[3]}]}


@pytest.mark.parametrize("formula", [
    '=IF(OR(C12="",D12="",D12=0),"",ROUND(C12/D12*100,2))',   # a rate: stored by the shortcut
    '=IF(COUNT(C7:C9)=0,"",SUM(C7:C9))',                     # a total: stored by the shortcut
    '=LOG10(C5)+SUM(C1:C2)',                                 # another function: XlsxWriter's path
    '=FILTER(A1:A9,B1:B9>0)',                                # a dynamic array: XlsxWriter's path
    '=CONCAT(A1,"SUM(")',                                    # a newer function: prefixed _xlfn.
])
def test_the_formula_shortcut_stores_what_xlsxwriter_would(formula):
    """The app's worksheets skip XlsxWriter's formula rewriting for formulas calling only long-standing
    functions; what they store must be the same as XlsxWriter's own worksheet stores."""
    import io

    import xlsxwriter

    from webapp.domain.workbook import _open

    ours, theirs = _open(io.BytesIO()).add_worksheet("a"), xlsxwriter.Workbook(io.BytesIO()).add_worksheet("a")
    for ws in (ours, theirs):
        assert ws.write_formula(4, 2, formula, None, 12.5) == 0
    assert type(ours).__name__ == "_Worksheet"
    assert ours.table[4][2] == theirs.table[4][2]
    assert ours.dim_rowmax == theirs.dim_rowmax == 4 and ours.dim_colmax == theirs.dim_colmax == 2
    assert ours.write_formula(1_048_576, 0, formula) == theirs.write_formula(1_048_576, 0, formula) == -1


def _sheet_xml(workbook_bytes: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(workbook_bytes)) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml"}


def test_the_cell_writer_writes_what_xlsxwriter_writes(monkeypatch):
    """The app's worksheets write the XML of their cells without XlsxWriter's per-cell escaping; every
    kind of cell, with a format and without, must come out byte for byte as XlsxWriter writes it."""
    import io

    from xlsxwriter.worksheet import Worksheet

    from webapp.domain.workbook import _open, _Worksheet

    def build() -> bytes:
        out = io.BytesIO()
        wb = _open(out)
        fmt, bold = wb.add_format({"border": 1, "num_format": "0.00"}), wb.add_format({"bold": True})
        ws = wb.add_worksheet("Cells & <kinds>")
        ws.set_row(40, None, bold)  # a row format, and a column format, under unformatted cells
        ws.set_column(9, 9, 12, fmt)
        for row, f in enumerate((fmt, None)):
            base = row * 20
            ws.write_number(base, 0, 1234567.125, f)
            ws.write_number(base, 1, 1e-20, f)
            ws.write_number(base, 2, -0.0, f)
            ws.write_string(base, 3, 'Số "xã" & <huyện>', f)
            ws.write_string(base, 4, "=A1+1", f)  # text that looks like a formula stays a string
            ws.write_blank(base, 5, None, f)
            ws.write_datetime(base, 6, dt.datetime(2024, 5, 15, 8, 30), f)
            ws.write_formula(base + 1, 0, '=IF(OR(C12="",D12=0),"",ROUND(C12/D12*100,2))', f, 95.24)
            ws.write_formula(base + 1, 1, '=IF(COUNT(C7:C9)=0,"",SUM(C7:C9))', f, "")
            ws.write_formula(base + 1, 2, "=A1>2", f, True)  # a boolean result
            ws.write_formula(base + 1, 3, "=1/0", f, "#DIV/0!")  # an error result
            ws.write_formula(base + 1, 4, '=A1&"x"', f, "1x")  # a text result
            ws.write_formula(base + 1, 5, "=A1*2", f, 7)  # an integer result
            ws.write_boolean(base + 2, 0, False, f)
            ws.write_rich_string(base + 2, 1, "a ", bold, "b", *([f] if f else []))
            ws.write_array_formula(base + 3, 0, base + 3, 1, "{=A1:B1*2}", f, 4)
            ws.merge_range(base + 4, 0, base + 4, 3, "gộp", f)
        ws.write_number(40, 1, 5)  # takes the row's format
        ws.write_number(41, 9, 6)  # takes the column's format
        wb.close()
        return out.getvalue()

    ours = _sheet_xml(build())
    monkeypatch.setattr(_Worksheet, "_write_cell", Worksheet._write_cell)
    assert _sheet_xml(build()) == ours


def test_the_whole_appendix_is_written_as_xlsxwriter_would(app, monkeypatch):
    import io

    from xlsxwriter.worksheet import Worksheet

    from conftest import in_app
    from webapp.domain.workbook import _Worksheet
    from webapp.exchange import write_campaign_appendix
    from webapp.models import Campaign

    def export() -> dict[str, bytes]:
        out = io.BytesIO()
        with in_app() as session:
            campaign = session.query(Campaign).filter_by(code="kl49-2024").one()
            write_campaign_appendix(session, campaign, out, dt.datetime(2024, 5, 20, 8, 30))
        return _sheet_xml(out.getvalue())

    ours = export()
    assert len(ours) > 16  # every sheet (no breakdown of the tables one unit fills), and the shared strings
    monkeypatch.setattr(_Worksheet, "_write_cell", Worksheet._write_cell)
    assert export() == ours


def test_the_collector_is_paused_during_an_export_and_restored_after():
    import gc

    from webapp.domain.workbook import collector_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("the export failed")
    assert gc.isenabled()  # restored even when the export fails
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
