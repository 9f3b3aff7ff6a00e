"""Nested levels (issue 16, point 4): the province campaign kl49-tinh-2024, whose reporting units are
two districts, each fed by its own campaign, and a province unit.

- Huyện Lộc Ninh (``ln``) is fed by kl49-2024; its part is open, so it is assembled live.
- Huyện Bù Đốp (``bd``) is fed by kl49-bd-2024 (communes bd-01 … bd-03, bd-ubnd, bd-hkh); its part is
  submitted, so the province counts the snapshot taken then.
- Sở Nội vụ (``bp-snv``, kind tinh) fills "Công chức cấp tỉnh" of 1.5.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from conftest import CURRENT, in_app, login
from webapp import nesting, workflow
from webapp.domain.assembly import add_parts, assemble, unit_parts
from webapp.domain.parts import Counted
from webapp.models import Campaign, CampaignUnit, CellValue, Unit, User

PROVINCE, LN, BD = "kl49-tinh-2024", "kl49-2024", "kl49-bd-2024"
YEARS = ("2019", "2020", "2021", "2022", "2023")


@pytest.fixture
def both(demo_app_on_both):
    """The demo on SQLite, then on PostgreSQL, as the app ``in_app`` reads."""
    CURRENT["app"] = demo_app_on_both
    demo_app_on_both.config["WTF_CSRF_ENABLED"] = False  # as on SQLite: the tests sign in by a plain POST
    return demo_app_on_both


def campaign(session, code: str) -> Campaign:
    return session.scalar(select(Campaign).where(Campaign.code == code))


def unit(session, code: str) -> Unit:
    return session.scalar(select(Unit).where(Unit.code == code))


def assembled(code: str, counted: Counted = Counted.ALL):
    with in_app() as session:
        c = campaign(session, code)
        return assemble(session, c.id, c.outline, c.frame, counted=counted)


def stored_sum(codes: tuple[str, ...], table: str, row: str, col: str) -> int:
    """The stored values of one cell added up by hand over every unit of the campaigns ``codes``."""
    with in_app() as session:
        ids = [campaign(session, code).id for code in codes]
        return sum(session.scalars(select(CellValue.num).where(
            CellValue.campaign_id.in_(ids), CellValue.table_code == table, CellValue.row_key == row,
            CellValue.col_key == col, CellValue.num.is_not(None))))


def set_value(campaign_code: str, unit_code: str, table: str, row: str, col: str, num: int) -> None:
    """Store a clerk's value through the entry's checks (as the page does)."""
    from webapp.entry.service import UnitTable

    with in_app() as session:
        c, u = campaign(session, campaign_code), unit(session, unit_code)
        part = UnitTable(session, c, u, c.outline.table(table))
        part.store(row, col, part.check(row, col, num), None, "web")
        session.commit()


def value(campaign_code: str, table: str, row: str, col: str, counted: Counted = Counted.ALL):
    return assembled(campaign_code, counted).number(table, row, col)


def test_the_demo_province_lists_its_districts_and_province_unit(both):
    result = both.test_cli_runner().invoke(args=["units", PROVINCE])
    assert result.exit_code == 0, result.output
    assert sorted(result.output.splitlines()) == sorted(
        ["ln\tHuyện Lộc Ninh", "bd\tHuyện Bù Đốp", "bp-snv\tSở Nội vụ tỉnh Bình Phước"])
    with in_app() as session:
        province = campaign(session, PROVINCE)
        parts = {cu.unit.code: cu for cu in session.scalars(
            select(CampaignUnit).where(CampaignUnit.campaign_id == province.id))}
        assert parts["ln"].source_campaign.code == LN and parts["ln"].status == "open"
        assert parts["bd"].source_campaign.code == BD and parts["bd"].status == "submitted"
        assert parts["bd"].snapshot is not None and parts["bp-snv"].source_campaign_id is None


def test_province_is_the_sum_of_its_districts_and_of_their_communes_plus_district_cells(both):
    province = assembled(PROVINCE)
    ln, bd = assembled(LN), assembled(BD)
    with in_app() as session:
        c = campaign(session, PROVINCE)
        own = unit_parts(session, c.id, c.outline, c.frame)[unit(session, "bp-snv").id]
        assert add_parts([ln, bd, own], c.outline).numbers == province.numbers
    for year in YEARS:
        # communes' cells (1.5 cấp xã), the district bodies' cells (1.6, 1.8), the province unit's (1.5 cấp tỉnh)
        for table, col in (("II.1.5", "xa_dt"), ("II.1.5", "huyen_tong"), ("II.1.6", "ldnt_dt"), ("II.1.8", "cn_dt")):
            assert province.number(table, year, col) == stored_sum((LN, BD), table, year, col)
            # (Bù Đốp has no labour federation: 1.8 is Lộc Ninh's alone)
            assert province.number(table, year, col) == ln.number(table, year, col) + (bd.number(table, year, col) or 0)
        assert province.number("II.1.5", year, "tinh_tong") == stored_sum((PROVINCE,), "II.1.5", year, "tinh_tong")
        assert ln.number("II.1.5", year, "tinh_tong") is None  # blank, not zero, in a district campaign
    # the documents of table I: the union of both districts' lists
    assert len(province.lists["I"]) == len(ln.lists["I"]) + len(bd.lists.get("I", []))


def test_tong_so_huyen_is_the_number_of_districts_and_tong_so_xa_of_communes(both):
    province = assembled(PROVINCE)
    for year in YEARS:
        for table in ("II.1.1", "II.1.2"):
            assert province.number(table, year, "huyen_tong") == 2
            assert province.number(table, year, "xa_tong") == 16 + 3
        assert province.number("III", year, "huyen_tong") == 2
    assert assembled(LN).number("II.1.1", "2021", "huyen_tong") == 1


def test_an_edit_at_the_bottom_reaches_the_open_district_and_the_province(both):
    cell = ("II.1.5", "2021", "xa_dt")
    before_district, before_province = value(LN, *cell), value(PROVINCE, *cell)
    with in_app() as session:  # Xã Lộc Hòa (ln-02): open, its 2021 total in II.1.5 bounds the trained
        total = session.scalar(select(CellValue.num).where(
            CellValue.campaign_id == campaign(session, LN).id, CellValue.unit_id == unit(session, "ln-02").id,
            CellValue.table_code == "II.1.5", CellValue.row_key == "2021", CellValue.col_key == "xa_tong"))
        old = session.scalar(select(CellValue.num).where(
            CellValue.campaign_id == campaign(session, LN).id, CellValue.unit_id == unit(session, "ln-02").id,
            CellValue.table_code == "II.1.5", CellValue.row_key == "2021", CellValue.col_key == "xa_dt"))
    new = 0 if old else 1
    set_value(LN, "ln-02", *cell, new)
    assert value(LN, *cell) == before_district + new - old
    assert value(PROVINCE, *cell) == before_province + new - old
    del total


def test_the_submitted_district_is_frozen_until_returned(both):
    cell = ("II.1.6", "2021", "ldnt_dt")  # filled by Bù Đốp's people's committee
    before = value(PROVINCE, *cell)
    with in_app() as session:  # the unit's own part is submitted in its campaign: its compiler reopens it
        bd, clerk_unit = campaign(session, BD), unit(session, "bd-ubnd")
        compiler = session.scalar(select(User).where(User.username == "bd-btg"))
        workflow.return_parts(session, bd, [clerk_unit], compiler, "Kiểm tra lại số lao động năm 2021.")
    set_value(BD, "bd-ubnd", "II.1.6", "2021", "ldnt_vl", 0)
    set_value(BD, "bd-ubnd", "II.1.6", "2021", "ldnt_dt", 5)
    district = value(BD, *cell)
    assert district == 5
    assert value(PROVINCE, *cell) == before  # the province keeps what Bù Đốp submitted
    assert value(PROVINCE, *cell, counted=Counted.SUBMITTED) == value(PROVINCE, *cell) - value(LN, *cell)
    with in_app() as session:  # the province returns Bù Đốp's part: live again
        province = campaign(session, PROVINCE)
        compiler = session.scalar(select(User).where(User.username == "bp-btg"))
        workflow.return_parts(session, province, [unit(session, "bd")], compiler, "Huyện rà soát lại 1.6.")
    assert value(PROVINCE, *cell) == value(LN, *cell) + 5
    with in_app() as session:  # submitted again: frozen at the new figure
        province = campaign(session, PROVINCE)
        district_compiler = session.scalar(select(User).where(User.username == "bd-btg"))
        workflow.submit(session, province, unit(session, "bd"), district_compiler)
    set_value(BD, "bd-ubnd", "II.1.6", "2021", "ldnt_dt", 7)
    assert value(PROVINCE, *cell) == value(LN, *cell) + 5


def test_a_fed_part_takes_no_values_of_its_own(both):
    from webapp.entry.service import UnitTable

    with in_app() as session:
        province, lnd = campaign(session, PROVINCE), unit(session, "ln")
        cu = session.get(CampaignUnit, (province.id, lnd.id))
        assert "không nhập trực tiếp" in workflow.closed_reason(province, cu)
        part = UnitTable(session, province, lnd, province.outline.table("II.1.5"))
        for via in ("web", workflow.VIA_COMPILER):  # every write begins so (entry.service.begin_write)
            with pytest.raises(workflow.Refused, match="không nhập trực tiếp"):
                part.begin_write(via)


def test_a_link_is_refused_for_another_outline_a_loop_or_a_unit_with_values(both):
    with in_app() as session:
        province, ln = campaign(session, PROVINCE), campaign(session, LN)
        with pytest.raises(nesting.NestRefused, match="đề cương"):
            nesting.link(session, province, unit(session, "ln"), campaign(session, "cdht-2024"))
        with pytest.raises(nesting.NestRefused, match="vòng"):
            nesting.link(session, ln, unit(session, "ln-02"), province)
        with pytest.raises(nesting.NestRefused, match="đã tự nhập"):
            nesting.link(session, province, unit(session, "bp-snv"), ln)
        session.rollback()


# ------------------------------------------------------------------------------------- pages and roles

def test_the_province_compiler_sees_the_appendix_export_and_drills_down_to_a_district(both):
    client = login(both.test_client(), "bp-btg")
    page = client.get(f"/campaigns/{PROVINCE}/appendix")
    assert page.status_code == 200
    export = client.get(f"/campaigns/{PROVINCE}/export.xlsx")
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.data))["II.1.1"]
    assert 2 in [c.value for row in sheet.iter_rows() for c in row]  # Tổng số huyện
    drill = client.get(f"/campaigns/{PROVINCE}/appendix/II.1.5/cell?row=2021&col=xa_dt").get_data(as_text=True)
    assert "Huyện Lộc Ninh" in drill and "Huyện Bù Đốp" in drill
    assert "Đang nhập" in drill and "Đã nộp" in drill  # Lộc Ninh live, Bù Đốp as submitted
    link = f"/campaigns/{LN}/appendix/II.1.5/cell?row=2021&amp;col=xa_dt"
    assert link in drill and f"/campaigns/{BD}/appendix/II.1.5/cell?row=2021&amp;col=xa_dt" in drill
    below = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "Xã Lộc Hòa" in below  # a commune's figure, through the district's drill-down
    assert client.get(f"/campaigns/{LN}/units/ln-02").status_code == 200
    assert client.get(f"/campaigns/{LN}/tables/II.1.5?unit=ln-02").status_code == 200


def test_the_province_compiler_only_reads_a_district_campaign(app):
    client = login(app.test_client(), "bp-btg")
    assert client.post(f"/campaigns/{LN}/units/ln-01/accept").status_code == 403
    assert client.post(f"/campaigns/{LN}/tables/II.1.5/cells/2021/xa_dt?unit=ln-02",
                       data={"value": "1", "version": "1"}).status_code == 403
    assert client.post(f"/campaigns/{LN}/feeds/{PROVINCE}/submit").status_code == 403


def test_the_district_compiler_submits_its_part_to_the_province(app):
    client = login(app.test_client(), "ln-btg")
    desk = client.get(f"/campaigns/{LN}/dashboard").get_data(as_text=True)
    assert PROVINCE in desk and f"/campaigns/{LN}/feeds/{PROVINCE}/submit" in desk
    response = client.post(f"/campaigns/{LN}/feeds/{PROVINCE}/submit")
    assert response.status_code == 302
    with in_app() as session:
        province = campaign(session, PROVINCE)
        cu = session.get(CampaignUnit, (province.id, unit(session, "ln").id))
        assert cu.status == "submitted" and cu.snapshot is not None
    assert client.post(f"/campaigns/{LN}/feeds/{PROVINCE}/submit").status_code == 302  # refused, said, unchanged
    other = login(app.test_client(), "bd-btg")
    assert other.post(f"/campaigns/{LN}/feeds/{PROVINCE}/submit").status_code == 403


@pytest.mark.parametrize("username", ["ln-btg", "bd-btg", "ln-01", "bd-01", "ln-ubnd"])
def test_district_staff_do_not_see_the_province_campaign(app, username):
    client = login(app.test_client(), username)
    for path in ("appendix", "export.xlsx", "dashboard", "breakdown"):
        assert client.get(f"/campaigns/{PROVINCE}/{path}").status_code == 403
    assert PROVINCE not in client.get("/").get_data(as_text=True)


def test_each_district_compiler_sees_only_its_own_campaign(app):
    ln, bd = login(app.test_client(), "ln-btg"), login(app.test_client(), "bd-btg")
    assert ln.get(f"/campaigns/{BD}/appendix").status_code == 403
    assert bd.get(f"/campaigns/{LN}/appendix").status_code == 403
    assert bd.get(f"/campaigns/{BD}/appendix").status_code == 200


def test_campaign_feed_links_a_unit_to_its_campaign_or_says_why_not(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["campaign-feed", PROVINCE, "ln", "cdht-2024"])
    assert result.exit_code == 1 and "đề cương" in result.output and "Traceback" not in result.output
    result = runner.invoke(args=["campaign-feed", PROVINCE, "bd", "khong-co"])
    assert result.exit_code == 1 and "khong-co" in result.output
    result = runner.invoke(args=["campaign-feed", PROVINCE, "bd", LN])
    assert result.exit_code == 1 and "đã nộp" in result.output  # Bù Đốp's part is submitted
    with in_app() as session:
        compiler = session.scalar(select(User).where(User.username == "bp-btg"))
        workflow.return_parts(session, campaign(session, PROVINCE), [unit(session, "bd")], compiler, "Đổi nguồn.")
    result = runner.invoke(args=["campaign-feed", PROVINCE, "bd", LN])  # Bù Đốp now fed by Lộc Ninh's campaign
    assert result.exit_code == 0, result.output
    with in_app() as session:
        cu = session.get(CampaignUnit, (campaign(session, PROVINCE).id, unit(session, "bd").id))
        assert cu.source_campaign.code == LN and cu.snapshot is None
    assert value(PROVINCE, "II.1.6", "2021", "ldnt_dt") == 2 * value(LN, "II.1.6", "2021", "ldnt_dt")


def test_the_district_compiler_chooses_which_parts_it_submits_upward(app):
    """The snapshot is the district's appendix counted as its compiler chooses (default: every part),
    and says so on both desks; an unknown choice is a 400 that stores nothing."""
    client = login(app.test_client(), "ln-btg")
    desk = client.get(f"/campaigns/{LN}/dashboard").get_data(as_text=True)
    assert 'name="parts"' in desk and "Chỉ đã duyệt — 6/20 đơn vị" in desk
    assert client.post(f"/campaigns/{LN}/feeds/{PROVINCE}/submit", data={"parts": "some"}).status_code == 400
    with in_app() as session:
        cu = session.get(CampaignUnit, (campaign(session, PROVINCE).id, unit(session, "ln").id))
        assert cu.status == "open" and cu.snapshot is None
    accepted = assembled(LN, Counted.ACCEPTED)
    assert accepted != assembled(LN, Counted.ALL)  # the demo district has parts not yet accepted
    assert client.post(f"/campaigns/{LN}/feeds/{PROVINCE}/submit", data={"parts": "accepted"}).status_code == 302
    with in_app() as session:
        province = campaign(session, PROVINCE)
        cu = session.get(CampaignUnit, (province.id, unit(session, "ln").id))
        assert cu.status == "submitted"
        assert cu.snapshot["basis"] == {"counted": "accepted", "included": 6, "total": 20}
        ln_part = next(part for owner, _name, part in nesting_parts(session, province) if owner == cu.unit_id)
        assert ln_part == accepted
    desk = client.get(f"/campaigns/{LN}/dashboard").get_data(as_text=True)
    assert "Số liệu tổng hợp: chỉ các phần đã duyệt — 6/20 đơn vị." in desk


def nesting_parts(session, province):
    from webapp.domain.assembly import nested_parts

    return nested_parts(session, province.id, province.outline, province.frame)


def test_the_province_dashboard_shows_a_district_as_far_as_its_campaign_is(app):
    """A fed part enters nothing itself: its cells filled and expected are its campaign's (summed over
    the district's units), it is in progress while open, and its row leads to the district's desk."""
    from webapp.review.listing import UnitQuery, dashboard_page
    from webapp.review.service import completeness

    with in_app() as session:
        province, district = campaign(session, PROVINCE), campaign(session, LN)
        below = completeness(session, district)
        state = next(u for u in completeness(session, province).units if u.unit.code == "ln")
        for code, table in state.tables.items():
            assert table.filled == sum(u.tables[code].filled for u in below.units), code
            assert table.expected == sum(u.tables[code].expected for u in below.units), code
            assert table.rows == sum(u.tables[code].rows for u in below.units), code
        assert state.filled == sum(u.filled for u in below.units) > 0
        assert state.status == "part" and state.source.code == LN
        assert "ln-btg" in state.clerks  # whom to call: the district's compiler
        page = dashboard_page(session, province, UnitQuery())
        assert page.counts.get("todo", 0) == 0 and page.not_started == 0  # Lộc Ninh is under way
        whole = completeness(session, province)  # the counts by table agree with the units' states
        for code, (asked, started, complete) in page.table_counts.items():
            assert (asked, started, complete) == whole.table_counts(code), code
        assert page.done == sum(u.state == "done" for u in whole.units)
    client = login(app.test_client(), "bp-btg")
    html = client.get(f"/campaigns/{PROVINCE}/dashboard").get_data(as_text=True)
    assert f"/campaigns/{LN}/dashboard" in html
    assert "unit=ln\"" not in html.replace("&amp;", "&")  # no template or upload for a fed part
    assert f"{state.filled}/{state.expected} ô" in html
