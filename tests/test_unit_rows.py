"""Rows that are the reporting units (``rows: units``): one row per unit of the campaign, each unit
filling its own row only, and the total row ("Toàn huyện") as the sum of the unit rows; the corner
label, the serial-number column and the period labels a block may name.

The outline below is small on purpose (only kinds of columns every branch knows); seed 003's shipped
outline runs through the same paths in test_cdht.py.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import select

from conftest import in_app, login, post_as_page
from webapp.domain.layout import build_layout
from webapp.domain.outline import Frame, FrameUnit, OutlineError, parse_outline, read_outline, shipped_outline
from webapp.domain.ownership import Ownership

OUTLINE = """\
code: dvtest
version: 1
title: BIỂU THỬ DÒNG LÀ ĐƠN VỊ
unit_kinds:
  xa: Xã, thị trấn
tables:
  - code: DV
    sheet: DV
    title: Biểu theo đơn vị
    blocks:
      - rows: units
        total: Toàn huyện
        serial: STT
        corner: Xã/ thị trấn
        groups:
          - key: so
            label: Số người
            owner: [xa]
            columns:
              - {key: tong, label: Tổng số, type: count}
              - {key: dat, label: Đạt, type: count}
              - {key: ty_le, label: Tỷ lệ, type: percent, of: dat, over: tong}
          - key: dem
            owner: [xa]
            columns:
              - {key: so_xa, label: Số xã, type: unit_count}
        rules:
          - {check: dat <= tong, level: error, message: Số đạt không được lớn hơn tổng số}
  - code: NAM
    sheet: NAM
    title: Biểu theo năm
    blocks:
      - rows: periods
        period_label: "9/{year}"
        groups:
          - key: nam
            owner: [xa]
            columns:
              - {key: so, label: Số, type: count}
"""
CAMPAIGN = "dv-2024"
UNITS = ("ln-01", "ln-02", "ln-03")  # Thị trấn Lộc Ninh, Xã Lộc Hòa, Xã Lộc An
C = f"/campaigns/{CAMPAIGN}"
FRAME = Frame((2024,), (FrameUnit("ln-01", "Thị trấn Lộc Ninh", "xa"), FrameUnit("ln-02", "Xã Lộc Hòa", "xa"),
                        FrameUnit("ln-ubnd", "Ủy ban nhân dân huyện", "ubnd_huyen")))


@pytest.fixture
def units_app(app):
    """The demo with the outline above stored and the campaign dv-2024 of three communes."""
    from webapp import outline_store
    from webapp.campaigns import CampaignSpec, create_campaign
    from webapp.models import Unit

    with in_app() as session:
        row, _ = outline_store.store_outline(session, OUTLINE, "dvtest.yaml", via="cli")
        units = [session.scalar(select(Unit).where(Unit.code == code)) for code in UNITS]
        compiler = session.scalar(select(Unit).where(Unit.code == "ln-btg"))
        create_campaign(session, row, CampaignSpec(
            code=CAMPAIGN, name="Thử dòng là đơn vị", year_from=2024, year_to=2024,
            deadline=dt.date(2099, 12, 31), compiler_unit=compiler, units=units), via="cli")
        session.commit()
    return app


def _part(code: str, table: str = "DV"):
    from webapp.entry.service import UnitTable
    from webapp.models import Campaign, Unit

    session = _session()
    campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
    unit = session.scalar(select(Unit).where(Unit.code == code))
    return UnitTable(session, campaign, unit, campaign.outline.table(table))


def _session():
    from webapp.extensions import db

    return db.session


def _fill(values: dict[str, dict[str, object]]) -> None:
    """Store each unit's own row of DV through the clerk's checks."""
    with in_app() as session:
        for code, row in values.items():
            part = _part(code)
            for key, raw in row.items():
                part.store(code, key, part.check(code, key, raw), None, "demo")
        session.commit()


# ------------------------------------------------------------------------------------- the format

def test_the_format_reads_unit_rows_total_corner_serial_and_period_labels():
    outline = read_outline(OUTLINE)
    units, years = outline.table("DV").blocks[0], outline.table("NAM").blocks[0]
    assert (units.rows, units.total, units.corner, units.serial) == ("units", "Toàn huyện", "Xã/ thị trấn", "STT")
    assert units.by_unit and outline.table("DV").by_unit and not outline.table("NAM").by_unit
    assert years.period_label == "9/{year}" and years.corner_label == "Thời gian"
    assert [s.label for s in years.row_specs([2023, 2024])] == ["9/2023", "9/2024"]
    # the units of the block's kinds, in the campaign's order, then the total row
    assert [(s.key, s.label, s.total) for s in units.row_specs(FRAME)] == [
        ("ln-01", "Thị trấn Lộc Ninh", False), ("ln-02", "Xã Lộc Hòa", False), ("total", "Toàn huyện", True)]
    kl49 = shipped_outline("kl49")
    assert all(b.serial is None and b.total is None and b.corner is None for t in kl49.tables for b in t.blocks)


@pytest.mark.parametrize("written, instead, message", [
    ("rows: units", "rows: periods", "dòng tổng chỉ dùng khi các dòng là đơn vị"),
    ("total: Toàn huyện", "period_label: '9/{year}'", "chỉ dùng khi các dòng là các năm"),
    ("9/{year}", "9/2024", "phải chứa {year}"),
    ("rows: units", "rows: unit", "phải là 'periods', 'units' hoặc"),
    ("corner: Xã/ thị trấn", "corner: ''", "corner: không được để trống"),
])
def test_the_format_names_a_misused_row_key(written, instead, message):
    text = OUTLINE.replace(written, instead, 1)
    with pytest.raises(OutlineError) as caught:
        read_outline(text)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_the_layout_has_the_serial_column_the_corner_and_the_total_row_last():
    table = read_outline(OUTLINE).table("DV")
    layout = build_layout(table, FRAME)
    head = {(h.row, h.col): h.text for h in layout.blocks[0].header}
    assert head[(3, 0)] == "STT" and head[(3, 1)] == "Xã/ thị trấn" and head[(3, 2)] == "Số người"
    assert [h.text for h in layout.blocks[0].numbers][:3] == ["A", "B", "1"]
    assert [(r.serial, r.label, r.label_col) for r in layout.rows] == [
        ("1", "Thị trấn Lộc Ninh", 1), ("2", "Xã Lộc Hòa", 1), ("", "Toàn huyện", 1)]
    assert layout.find("ln-01", "tong").address == "C7"  # after STT (A) and the label (B)
    assert [c.kind for c in layout.row("total").cells] == ["total"] * 4
    kl49 = shipped_outline("kl49").table("II.1.5")
    assert build_layout(kl49, Frame((2019,))).find("2019", kl49.columns[0].key).col == 1  # unchanged


def test_ownership_is_the_units_own_row_and_the_fixed_one_there():
    table = read_outline(OUTLINE).table("DV")
    mine = Ownership.of(table, {"so", "dem"}, "ln-02")
    assert mine.owns("ln-02", "tong") and mine.may_enter("ln-02", "dat")
    assert not mine.owns("ln-01", "tong") and not mine.may_enter("ln-02", "ty_le")
    assert mine.fixed_value("ln-02", "so_xa") == 1 and mine.fixed_value("ln-01", "so_xa") is None
    assert [c.address for c in mine.owned_cells(build_layout(table, FRAME))] == ["C8", "D8", "E8", "F8"]
    assert mine.fixed_cells(FRAME) == {("DV", "ln-02", "so_xa"): 1}
    assert table.expected_inputs({"so", "dem"}, FRAME) == 2  # its own row: Tổng số and Đạt


# ---------------------------------------------------------------------------------------- entry

def test_a_unit_saves_its_own_row_and_is_refused_another_units_row(units_app):
    clerk = login(units_app.test_client(), "ln-02")
    page = clerk.get(f"{C}/tables/DV").get_data(as_text=True)
    for name in ("Thị trấn Lộc Ninh", "Xã Lộc Hòa", "Xã Lộc An", "Toàn huyện", "Xã/ thị trấn", "STT"):
        assert name in page
    assert 'name="cell:ln-02:tong"' in page
    assert 'name="cell:ln-01:tong"' not in page and 'name="cell:total:tong"' not in page
    ok = post_as_page(clerk, f"{C}/tables/DV/cells/ln-02/tong", data={"value": "120"})
    assert ok.status_code == 200
    refused = post_as_page(clerk, f"{C}/tables/DV/cells/ln-01/tong", data={"value": "5"})
    assert refused.status_code == 403
    total = post_as_page(clerk, f"{C}/tables/DV/cells/total/tong", data={"value": "5"})
    assert total.status_code == 403
    with in_app():
        from webapp.models import CellValue

        stored = {(v.row_key, v.col_key, v.num) for v in _session().scalars(
            select(CellValue).where(CellValue.table_code == "DV"))}
    assert stored == {("ln-02", "tong", 120)}


def test_the_units_rule_and_completeness_count_its_own_row_only(units_app):
    from webapp.entry.service import NotOwned
    from webapp.domain.values import ValueProblem

    with in_app():
        part = _part("ln-02")
        with pytest.raises(NotOwned):
            part.check("ln-03", "tong", "5")
        part.store("ln-02", "tong", part.check("ln-02", "tong", "10"), None, "demo")
        with pytest.raises(ValueProblem):
            part.check("ln-02", "dat", "11")  # dat <= tong in its own row
        assert part.numbers("ln-02")["so_xa"] == 1 and part.numbers("ln-01")["so_xa"] is None


# ------------------------------------------------------------------------------------- template

def _template(client, unit: str) -> bytes:
    response = client.get(f"{C}/template.xlsx")
    assert response.status_code == 200
    return response.data


def test_the_template_shows_every_unit_row_with_only_its_own_open_and_reads_back(units_app):
    from webapp.domain.importer import NOT_OWNED

    _fill({"ln-01": {"tong": 50, "dat": 20}, "ln-02": {"tong": 120, "dat": 30}})
    clerk = login(units_app.test_client(), "ln-02")
    data = _template(clerk, "ln-02")
    ws = openpyxl.load_workbook(io.BytesIO(data))["DV"]
    assert [ws[f"B{r}"].value for r in (7, 8, 9, 10)] == ["Thị trấn Lộc Ninh", "Xã Lộc Hòa", "Xã Lộc An", "Toàn huyện"]
    assert [ws[f"A{r}"].value for r in (7, 8, 9)] == [1, 2, 3]
    assert ws["C7"].value is None and ws["C7"].protection.locked  # another unit's row: blank, locked
    assert ws["C8"].value == 120 and not ws["C8"].protection.locked
    assert ws["C10"].value == "=SUM(C7:C9)" and ws["F8"].value == 1 and ws["F7"].value is None
    # read back unchanged (nothing changes), then a value typed into another unit's row is refused
    response = clerk.post(f"{C}/import", data={"workbook": (io.BytesIO(data), "mau.xlsx")},
                          content_type="multipart/form-data")
    assert "0 giá trị thay đổi" in clerk.get(response.headers["Location"]).get_data(as_text=True)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    wb["DV"]["C7"] = 999
    wb["DV"]["D8"] = 31
    changed = io.BytesIO()
    wb.save(changed)
    refused = clerk.post(f"{C}/import", data={"workbook": (io.BytesIO(changed.getvalue()), "mau.xlsx")},
                         content_type="multipart/form-data")
    assert refused.status_code == 422
    assert f'<strong class="where">DV!C7</strong>: {NOT_OWNED}' in refused.get_data(as_text=True)
    with in_app():
        from webapp.models import CellValue

        stored = {(v.row_key, v.col_key): v.num for v in _session().scalars(
            select(CellValue).where(CellValue.table_code == "DV"))}
    assert stored == {("ln-01", "tong"): 50, ("ln-01", "dat"): 20, ("ln-02", "tong"): 120, ("ln-02", "dat"): 30}


def test_the_template_round_trips_the_units_own_row(units_app):
    from webapp.domain.importer import read_template
    from webapp.domain.workbook import write_template
    from webapp.exchange import expected_identity, identity
    from webapp.entry.service import owned_groups
    from webapp.models import Campaign, Unit

    _fill({"ln-02": {"tong": 120, "dat": 30}})
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
        unit = session.scalar(select(Unit).where(Unit.code == "ln-02"))
        from webapp.domain.assembly import unit_parts

        part = unit_parts(session, campaign.id, campaign.outline, campaign.frame, unit_id=unit.id)[unit.id]
        groups = owned_groups(session, campaign, unit)
        target = io.BytesIO()
        write_template(target, campaign.outline, campaign.frame, part, groups, identity(campaign, unit))
        target.seek(0)
        back, errors = read_template(target, campaign.outline, campaign.frame, groups,
                                     expected_identity(campaign, unit), unit.code)
    assert errors == []
    assert back.numbers == part.numbers == {("DV", "ln-02", "tong"): 120, ("DV", "ln-02", "dat"): 30,
                                            ("DV", "ln-02", "so_xa"): 1}


# ------------------------------------------------------------------------------ assembly, export

def test_assembly_has_each_units_row_and_the_total_row(units_app):
    from webapp.domain.assembly import add_parts, assemble, unit_parts
    from webapp.models import Campaign

    _fill({"ln-01": {"tong": 50, "dat": 20}, "ln-02": {"tong": 120, "dat": 30}})
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
        part = assemble(session, campaign.id, campaign.outline, campaign.frame)
        parts = unit_parts(session, campaign.id, campaign.outline, campaign.frame)
        summed = add_parts(list(parts.values()), campaign.outline)
    dv = {(r, c): v for (t, r, c), v in part.numbers.items() if t == "DV"}
    assert dv == {("ln-01", "tong"): 50, ("ln-01", "dat"): 20, ("ln-02", "tong"): 120, ("ln-02", "dat"): 30,
                  ("ln-01", "so_xa"): 1, ("ln-02", "so_xa"): 1, ("ln-03", "so_xa"): 1,
                  ("total", "tong"): 170, ("total", "dat"): 50, ("total", "so_xa"): 3}
    assert summed.numbers == part.numbers  # the export's path gives the same


def test_the_appendix_page_shows_every_unit_row_and_the_total(units_app):
    _fill({"ln-01": {"tong": 1050, "dat": 20}, "ln-02": {"tong": 120, "dat": 30}})
    compiler = login(units_app.test_client(), "ln-btg")
    html = compiler.get(f"{C}/appendix").get_data(as_text=True)
    for text in ("Thị trấn Lộc Ninh", "Xã Lộc Hòa", "Xã Lộc An", "Toàn huyện", "1.170", "4,27", "STT"):
        assert text in html
    assert f"{C}/breakdown/DV" not in html  # a table of unit rows is its own breakdown
    assert compiler.get(f"{C}/breakdown/DV").status_code == 404
    drill = compiler.get(f"{C}/appendix/DV/cell", query_string={"row": "ln-01", "col": "tong"})
    body = drill.get_data(as_text=True)
    assert drill.status_code == 200 and "Thị trấn Lộc Ninh" in body and "Xã Lộc Hòa" not in body


def test_the_export_writes_the_total_row_as_live_sums_carrying_their_values(units_app):
    _fill({"ln-01": {"tong": 50, "dat": 20}, "ln-02": {"tong": 120, "dat": 30}})
    compiler = login(units_app.test_client(), "ln-btg")
    data = compiler.get(f"{C}/export.xlsx").data
    formulas = openpyxl.load_workbook(io.BytesIO(data))
    values = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    assert "DV theo ĐV" not in formulas.sheetnames and "NAM theo ĐV" in formulas.sheetnames
    ws, carried = formulas["DV"], values["DV"]
    assert [ws[f"B{r}"].value for r in (7, 8, 9, 10)] == ["Thị trấn Lộc Ninh", "Xã Lộc Hòa", "Xã Lộc An", "Toàn huyện"]
    assert (ws["C10"].value, ws["D10"].value, ws["F10"].value) == ("=SUM(C7:C9)", "=SUM(D7:D9)", "=SUM(F7:F9)")
    assert (carried["C10"].value, carried["D10"].value, carried["F10"].value) == (170, 50, 3)
    assert ws["E10"].value.startswith("=") and carried["E10"].value == pytest.approx(29.41)
    assert formulas["NAM"]["A6"].value == "9/2024"
