"""Assembly straight from the database: sums per cell over the owning units, rates re-derived."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, select

from conftest import in_app
from webapp.domain.assembly import add_parts, assemble, merge_list_rows, unit_parts
from webapp.domain.layout import build_layout
from webapp.domain.outline import shipped_outline
from webapp.domain.parts import Part
from webapp.domain.values import derive
from webapp.models import Assignment, Campaign, CellValue, Unit

OUTLINE = shipped_outline("kl49")


def campaign_of(session) -> Campaign:
    return session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))


def test_every_assembled_number_is_the_sum_over_the_units(app):
    with in_app() as session:
        campaign = campaign_of(session)
        assembled = assemble(session, campaign.id, OUTLINE, campaign.years)
        parts = unit_parts(session, campaign.id, OUTLINE, campaign.years)
        rows = session.execute(select(CellValue.table_code, CellValue.row_key, CellValue.col_key, CellValue.num)
                               .where(CellValue.campaign_id == campaign.id, CellValue.num.is_not(None))).all()
        units = [(u.name, parts.get(u.id)) for u in campaign.units if u.id in parts]
    expected: dict = {}
    for table_code, row_key, col_key, num in rows:
        expected[(table_code, row_key, col_key)] = expected.get((table_code, row_key, col_key), 0) + num
    for key, total in expected.items():
        assert assembled.numbers[key] == total, key
    # summing the units' own parts gives the same appendix (numbers, notes, list rows): the rule nests,
    # and the export builds its appendix this way from the one read of the parts it needs anyway
    summed = add_parts([p for _, p in units], OUTLINE, [name for name, _ in units])
    assert summed.numbers == assembled.numbers
    assert summed.texts == assembled.texts and assembled.texts
    assert summed.lists == assembled.lists
    assert len(assembled.lists["I"]) > len(units[0][1].lists.get("I", [])) > 0


def test_unit_counts_count_the_units_that_fill_the_group(app):
    with in_app() as session:
        campaign = campaign_of(session)
        part = assemble(session, campaign.id, OUTLINE, campaign.years)
    assert part.number("II.1.1", "2019", "xa_tong") == 16
    assert part.number("II.1.1", "2023", "huyen_tong") == 1
    assert part.number("III", "2020", "huyen_tong") == 1
    assert part.number("II.1.5", "2019", "tinh_tong") is None  # no province unit: blank, not zero


def test_rates_are_derived_from_assembled_numbers_not_averaged(app):
    with in_app() as session:
        campaign = campaign_of(session)
        part = assemble(session, campaign.id, OUTLINE, campaign.years)
        parts = unit_parts(session, campaign.id, OUTLINE, campaign.years)
    row = part.row_numbers("II.1.5", "2019")
    rate = derive(OUTLINE.table("II.1.5").column("xa_tyle"), row)
    assert rate == (Decimal(row["xa_dt"]) * 100 / row["xa_tong"]).quantize(Decimal("0.01"))
    unit_rates = [derive(OUTLINE.table("II.1.5").column("xa_tyle"), p.row_numbers("II.1.5", "2019"))
                  for p in parts.values()]
    unit_rates = [r for r in unit_rates if r is not None]
    assert rate != (sum(unit_rates) / len(unit_rates)).quantize(Decimal("0.01"))
    yes = part.number("II.1.1", "2019", "xa_dat")
    assert derive(OUTLINE.table("II.1.1").column("xa_tyle"), part.row_numbers("II.1.1", "2019")) == \
        (Decimal(yes) * 100 / 16).quantize(Decimal("0.01"))


def test_values_of_a_unit_no_longer_assigned_do_not_count(app):
    with in_app() as session:
        campaign = campaign_of(session)
        before = assemble(session, campaign.id, OUTLINE, campaign.years)
        commune = session.scalar(select(Unit).where(Unit.code == "ln-02"))
        own = session.scalar(select(CellValue.num).where(
            CellValue.unit_id == commune.id, CellValue.table_code == "II.1.5",
            CellValue.row_key == "2019", CellValue.col_key == "xa_tong"))
        session.execute(delete(Assignment).where(Assignment.unit_id == commune.id,
                                                 Assignment.table_code == "II.1.5"))
        after = assemble(session, campaign.id, OUTLINE, campaign.years)
    assert after.number("II.1.5", "2019", "xa_tong") == before.number("II.1.5", "2019", "xa_tong") - own


def test_notes_are_joined_with_the_unit_name(app):
    with in_app() as session:
        campaign = campaign_of(session)
        part = assemble(session, campaign.id, OUTLINE, campaign.years)
    assert part.text("III", "2023", "ghi_chu") == (
        "Ủy ban MTTQ Việt Nam huyện Lộc Ninh: Phối hợp tuyên truyền mô hình “Công dân học tập” ở 16/16 xã, thị trấn")


def test_document_list_is_the_union_ordered_by_date_with_duplicates_once(app):
    with in_app() as session:
        campaign = campaign_of(session)
        part = assemble(session, campaign.id, OUTLINE, campaign.years)
    dates = [row["ngay_ban_hanh"] for row in part.lists["I"]]
    assert dates == sorted(dates) and len(dates) == 5
    rows = [{"so_hieu": "12-KH/ĐU", "co_quan": "Đảng ủy xã A", "ngay_ban_hanh": "2020-01-02"},
            {"so_hieu": "12-KH/ĐU ", "co_quan": "đảng ủy  xã A", "ngay_ban_hanh": "2020-01-02"},
            {"so_hieu": "12-KH/ĐU", "co_quan": "Đảng ủy xã B", "ngay_ban_hanh": "2019-03-04"}]
    merged = merge_list_rows(rows, "ngay_ban_hanh", ("so_hieu", "co_quan"))
    assert [r["co_quan"] for r in merged] == ["Đảng ủy xã B", "Đảng ủy xã A"]


def restricted(part: Part, table_code: str) -> Part:
    """The cells of one table of an assembled part."""
    return Part({k: v for k, v in part.numbers.items() if k[0] == table_code},
                {k: v for k, v in part.texts.items() if k[0] == table_code},
                {k: v for k, v in part.lists.items() if k == table_code})


def test_one_assembly_for_the_page_the_drill_down_the_breakdown_and_the_workbook(app):
    """The appendix page, the export, a table's breakdown by unit and a cell's drill-down all take
    assemble()'s sums (a table's own for the last two), and they are the sums of the units' parts."""
    from webapp.review.service import cell_breakdown

    with in_app() as session:
        campaign = campaign_of(session)
        full = assemble(session, campaign.id, OUTLINE, campaign.years)
        parts = unit_parts(session, campaign.id, OUTLINE, campaign.years)
        names = {u.id: u.name for u in campaign.units}
        assert add_parts([parts[i] for i in names if i in parts], OUTLINE, [names[i] for i in names if i in parts]) == full
        drilled = 0
        for table in OUTLINE.tables:
            assert assemble(session, campaign.id, OUTLINE, campaign.years, table_code=table.code) == \
                restricted(full, table.code), table.code
            own = unit_parts(session, campaign.id, OUTLINE, campaign.years, table_code=table.code)
            assert own == {i: restricted(p, table.code) for i, p in parts.items() if i in own}, table.code
            assert all(restricted(p, table.code) == Part() for i, p in parts.items() if i not in own), table.code
            if table.is_list:
                continue
            for lrow in build_layout(table, campaign.years).rows[:2]:
                for cell in lrow.cells:
                    if cell.column.is_derived:
                        continue
                    b = cell_breakdown(session, campaign, table, lrow.key, lrow.label, cell.column.key)
                    want = full.number(table.code, lrow.key, cell.column.key)
                    assert b.total == want, (table.code, lrow.key, cell.column.key)
                    if cell.column.is_numeric:
                        assert want == (sum(c.num for c in b.entered if c.num is not None) if b.entered else None)
                    drilled += want is not None
    assert drilled > 20
