"""The new column types and header shapes through every output, on tests/outlines/types.yaml: the
layout (two header levels sharing a merged cell, a printed number row, none), the unit's template
(validation, live formulas), its import back (decimals from numbers and from "80,5"), assembly
(decimals summed exactly, derived recomputed, targets not summed) and the exported appendix."""

import io
import os
from decimal import Decimal

import openpyxl
import pytest

from webapp.domain.assembly import add_parts
from webapp.domain.importer import read_template
from webapp.domain.layout import build_layout
from webapp.domain.outline import OutlineError, load_outline, parse_outline
from webapp.domain.parts import Part
from webapp.domain.workbook import write_appendix, write_template

OUTLINE = load_outline(os.path.join(os.path.dirname(__file__), "outlines", "types.yaml"))
TABLE = OUTLINE.table("T1")
YEARS = [2024, 2025]
OWNED = {"T1": {"tuoi", "gioi", "ket_qua"}}
IDENTITY = {"campaign": "kc-2025", "unit": "x1", "unit_name": "Xã Một", "outline": OUTLINE.ident,
            "outline_digest": OUTLINE.digest}


def header(block: int = 0) -> list[tuple[str, int, int, int, int]]:
    layout = build_layout(TABLE, YEARS)
    return sorted((h.text, h.row, h.col, h.rowspan, h.colspan) for h in layout.blocks[block].header)


def test_groups_sharing_their_first_level_share_one_merged_header_cell():
    assert header() == sorted([
        ("Thời gian", 3, 0, 3, 1),
        ("TỔNG SỐ CHIA RA", 3, 1, 1, 3),  # over both groups whose first level it is
        ("Nhóm tuổi", 4, 1, 1, 2), ("Giới tính", 4, 3, 1, 1),
        ("Kết quả", 3, 4, 1, 4),  # one level: its columns reach down to the number row
        ("15–35 (người)", 5, 1, 1, 1), ("36–60", 5, 2, 1, 1), ("Nữ", 5, 3, 1, 1),
        ("Tổng", 4, 4, 2, 1), ("Tỷ lệ biết chữ (%)", 4, 5, 2, 1), ("Tỉ lệ nhóm trẻ", 4, 6, 2, 1),
        ("Mục tiêu (%)", 4, 7, 2, 1)])


def test_the_number_row_is_printed_as_the_outline_writes_it_or_left_out():
    layout = build_layout(TABLE, YEARS)
    first, second = layout.blocks
    assert first.number_row == 6
    assert [(h.text, h.col) for h in first.numbers] == [
        ("A", 0), ("1", 1), ("2", 2), ("3", 3), ("4=1+2", 4), ("5", 5), ("6=1/4*100", 6), ("7", 7)]
    assert [r.row for r in first.rows] == [7, 8]
    assert second.number_row is None and second.numbers == []
    assert second.rows[0].row == second.header_rows[-1] + 1  # the body follows the header at once


def test_the_automatic_number_row_writes_sums_and_formulas():
    data = {"code": "x", "version": 1, "title": "X", "unit_kinds": {"xa": "Xã"}, "tables": [
        {"code": "T", "title": "T", "blocks": [{"rows": "periods", "groups": [{"key": "g", "owner": ["xa"], "columns": [
            {"key": "a", "label": "A", "type": "count"}, {"key": "b", "label": "B", "type": "count"},
            {"key": "s", "label": "S", "type": "sum", "of": ["a", "b"]},
            {"key": "f", "label": "F", "type": "formula", "formula": "a / s * 100"}]}]}]}]}
    layout = build_layout(parse_outline(data).tables[0], YEARS)
    assert [h.text for h in layout.blocks[0].numbers] == ["A", "1", "2", "3=1+2", "4=1/3*100"]


def test_a_number_row_of_the_wrong_length_is_named():
    text = open(os.path.join(os.path.dirname(__file__), "outlines", "types.yaml"), encoding="utf-8").read()
    broken = text.replace('"6=1/4*100", "7"]', '"6=1/4*100"]')
    from webapp.domain.outline import read_outline
    with pytest.raises(OutlineError) as info:
        read_outline(broken)
    line = text[:text.index("numbers: [")].count("\n") + 1
    assert info.value.problems == [f"dòng {line}: tables[0] (T1) > blocks[0] > numbers: cần 8 số cột (cột tên dòng "
                                   "và 7 cột của khối), đang có 7"]


def _template(part: Part) -> openpyxl.Workbook:
    buffer = io.BytesIO()
    write_template(buffer, OUTLINE, YEARS, part, OWNED, IDENTITY)
    buffer.seek(0)
    return buffer


def test_the_template_validates_decimals_and_carries_live_formulas_and_targets():
    part = Part(numbers={("T1", "2024", "n1"): 30, ("T1", "2024", "n2"): 10, ("T1", "2024", "ty_le"): 805})
    wb = openpyxl.load_workbook(_template(part))
    ws = wb["T1"]
    assert ws["B8"].value == 30 and ws["F8"].value == 80.5
    assert ws["F8"].number_format == "#,##0.0"
    assert ws["E8"].value == '=IF(COUNT(B8,C8)=0,"",SUM(B8,C8))'
    assert ws["G8"].value == '=IF(OR(B8="",E8=""),"",IFERROR(ROUND(B8/E8*100,2),""))'
    assert ws["H8"].value == 80 and ws["H9"].value == 85.5 and ws["H8"].protection.locked
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert rules["F8"].type == "decimal" and (rules["F8"].formula1, rules["F8"].formula2) == ("0", "100")
    # the block without a number row: its body right under its header
    assert (ws["B11"].value, ws["A12"].value, ws["E12"].value) == ("Được giao", "Kinh phí", None)


def test_carried_values_are_the_computed_ones():
    part = Part(numbers={("T1", "2024", "n1"): 1, ("T1", "2024", "n2"): 2})
    buffer = _template(part)
    wb = openpyxl.load_workbook(buffer, data_only=True)  # what a reader without recalculation sees
    assert wb["T1"]["E8"].value == 3 and wb["T1"]["G8"].value == 33.33


def test_a_filled_template_imports_back_with_its_decimals():
    wb = openpyxl.load_workbook(_template(Part()))
    ws = wb["T1"]
    ws["B8"], ws["C8"], ws["D8"], ws["F8"] = 30, 10, 12, 80.5  # a number as Excel stores it
    ws["F9"] = "72,25"  # typed as text, Vietnamese style: more places than the column has
    ws["B9"] = 5
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    part, errors = read_template(out, OUTLINE, YEARS, OWNED, IDENTITY)
    assert errors == ["T1!F9: Tối đa 1 chữ số thập phân"]
    ws["F9"] = "72,5"
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    part, errors = read_template(out, OUTLINE, YEARS, OWNED, IDENTITY)
    assert errors == []
    assert part.numbers == {("T1", "2024", "n1"): 30, ("T1", "2024", "n2"): 10, ("T1", "2024", "nu"): 12,
                            ("T1", "2024", "ty_le"): 805, ("T1", "2025", "n1"): 5, ("T1", "2025", "ty_le"): 725}


def test_assembly_sums_stored_decimals_exactly_recomputes_derived_and_keeps_targets_and_exports_them():
    one = Part(numbers={("T1", "2024", "n1"): 1, ("T1", "2024", "n2"): 2, ("T1", "2024", "ty_le"): 1,
                        ("T1", "kp", "kp_giao"): 10010, ("T1", "kp", "kp_chi"): 2})
    two = Part(numbers={("T1", "2024", "n1"): 2, ("T1", "2024", "ty_le"): 2, ("T1", "kp", "kp_chi"): 1})
    total = add_parts([one, two], OUTLINE)
    assert total.number("T1", "2024", "ty_le") == 3  # 0,1 + 0,2 = 0,3 exactly (no float)
    out = io.BytesIO()
    write_appendix(out, OUTLINE, YEARS, total, {"campaign_code": "kc-2025", "compiler_kind": "huyen"},
                   [("Xã Một", one), ("Xã Hai", two)])
    out.seek(0)
    wb = openpyxl.load_workbook(out)
    ws = wb["T1"]
    assert (ws["B8"].value, ws["C8"].value, ws["F8"].value) == (3, 2, 0.3)
    assert ws["E8"].value == '=IF(COUNT(B8,C8)=0,"",SUM(B8,C8))'
    assert ws["H8"].value == 80  # the target, once: never summed over units
    assert ws["E12"].value == 100  # by the compiling unit's kind (huyen)
    assert ws["D12"].value == '=IF(OR(B12="",C12=""),"",IFERROR(ROUND(B12-C12,2),""))'
    out.seek(0)
    carried = openpyxl.load_workbook(out, data_only=True)["T1"]
    assert (carried["E8"].value, carried["G8"].value, carried["D12"].value) == (5, 60, 100.07)
    breakdown = wb["T1 theo ĐV"]
    rows = [[c.value for c in row] for row in breakdown.iter_rows(min_row=1, max_row=breakdown.max_row)]
    unit_one = next(r for r in rows if r[1] == "Xã Một")
    assert 0.1 in unit_one and 80 in unit_one  # its decimal scaled back; the target on its row


def test_kl49_is_laid_out_as_before_the_column_types():
    """kl49 declares none of the new keys: its header and number rows keep the single-string labels."""
    kl49 = load_outline(os.path.join(os.path.dirname(__file__), "..", "webapp", "outlines", "kl49.yaml"))
    for table in kl49.tables:
        for block in table.blocks:
            assert block.numbers == "auto"
            assert all(len(g.levels) <= 1 for g in block.groups)


# --- the entry page, on the demo's database with a campaign of this outline -------------------------

def _types_campaign(app):
    """A campaign of types.yaml over 2024–2025, its reporting units the demo's by default."""
    import datetime as dt

    from sqlalchemy import select

    from webapp import outline_store
    from webapp.campaigns import CampaignSpec, create_campaign
    from webapp.extensions import db
    from webapp.models import Campaign

    with app.app_context():
        with open(os.path.join(os.path.dirname(__file__), "outlines", "types.yaml"), encoding="utf-8") as handle:
            outline_row, _ = outline_store.store_outline(db.session, handle.read(), "types.yaml", via="cli")
        demo = db.session.scalars(select(Campaign)).first()
        create_campaign(db.session, outline_row, CampaignSpec(
            code="kc-2025", name="Thử các kiểu cột", year_from=2024, year_to=2025,
            deadline=demo.deadline + dt.timedelta(days=30), compiler_unit=demo.compiler_unit), via="cli")
        db.session.commit()


def test_a_decimal_typed_on_the_page_is_stored_exactly_and_shown_back_with_the_rows_computed_cells(app):
    from conftest import login, post_as_page, stored

    _types_campaign(app)
    clerk = login(app.test_client(), "ln-02")
    url = "/campaigns/kc-2025/tables/T1"
    page = clerk.get(url).get_data(as_text=True)
    assert 'inputmode="decimal"' in page and 'name="cell:2024:ty_le"' in page
    assert '<th colspan="3" scope="col">TỔNG SỐ CHIA RA</th>' in page and ">Tỷ lệ biết chữ (%)</th>" in page
    assert page.count('<tr class="numbers">') == 1 and "<td>6=1/4*100</td>" in page  # the second block has none
    assert '<span class="value">80,0</span>' in page and '<span class="value">85,5</span>' in page  # targets
    response = post_as_page(clerk, url + "/cells/2024/ty_le", data={"value": "80,5"})
    assert response.status_code == 200
    assert 'value="80,5"' in response.get_data(as_text=True)
    assert stored("ln-02", "T1", "2024", "ty_le").num == 805
    refused = post_as_page(clerk, url + "/cells/2024/ty_le", data={"value": "100,5"})
    assert refused.status_code == 422 and "Không được lớn hơn 100,0" in refused.get_data(as_text=True)
    for key, value in (("n1", "1"), ("n2", "2")):
        assert post_as_page(clerk, url + f"/cells/2024/{key}", data={"value": value}).status_code == 200
    page = clerk.get(url).get_data(as_text=True)
    assert 'id="td-2024-tong" class="derived t-sum"><span class="value">3</span>' in page
    assert 'id="td-2024-c7" class="derived t-formula"><span class="value">33,33</span>' in page
    assert 'value="80,5"' in page
    compiler = login(app.test_client(), "ln-btg")
    appendix = compiler.get("/campaigns/kc-2025/appendix").get_data(as_text=True)
    assert ">80,5</a>" in appendix  # the assembled decimal, drillable
    assert 'class="t-sum derived">3</td>' in appendix.replace("\n", "").replace("        ", "")
    assert 'class="t-target fixed">80,0</td>' in appendix.replace("\n", "").replace("        ", "")
    drill = compiler.get("/campaigns/kc-2025/appendix/T1/cell?row=2024&col=ty_le").get_data(as_text=True)
    assert "Tổng: <strong>80,5</strong>" in drill
    breakdown = compiler.get("/campaigns/kc-2025/breakdown/T1?row=2024").get_data(as_text=True)
    assert "80,5" in breakdown and "33,33" in breakdown
    export = compiler.get("/campaigns/kc-2025/export.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(export.data))["T1"]
    assert (ws["F8"].value, ws["H8"].value) == (80.5, 80)
    assert ws["G8"].value.startswith('=IF(OR(B8="",E8=""),"",IFERROR(')
    admin = login(app.test_client(), "admin")
    preview = admin.get("/admin/outlines/kieu_cot/1").get_data(as_text=True)
    assert 'title="Tự tính: n1 / tong * 100"' in preview and 'title="Tự tính: tổng các cột n1, n2"' in preview
    assert '<input type="text" class="cell num dec" disabled' in preview
