"""The compiler's desk: drill-down, breakdown by unit, completeness dashboard, for each role."""

from __future__ import annotations

import csv
import datetime as dt
import html.parser
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import in_app, login, post_as_page
from webapp.domain.assembly import assemble
from webapp.workflow import STATUS_NAMES, campaign_today
from webapp.models import Campaign
from webapp.review.service import cell_breakdown, completeness

BASE = "/campaigns/kl49-2024"


def assembled(table, row, col):
    with in_app() as session:
        campaign = session.scalar(select(Campaign))
        return assemble(session, campaign.id, campaign.outline, campaign.years).number(table, row, col)


def breakdown_of(table_code, row, col):
    with in_app() as session:
        campaign = session.scalar(select(Campaign))
        table = campaign.outline.table(table_code)
        return cell_breakdown(session, campaign, table, row, row, col)


@pytest.mark.parametrize("table, row, col", [
    ("II.1.5", "2019", "xa_dt"), ("II.1.5", "2022", "xa_tong"), ("II.1.1", "2020", "xa_dat"),
    ("II.1.1", "2021", "xa_tong"), ("II.1.3", "2023", "tong_md1"), ("II.1.8", "2019", "cn_tong")])
def test_a_cells_breakdown_sums_to_the_assembled_value(app, table, row, col):
    b = breakdown_of(table, row, col)
    assert b.total == sum(c.num for c in b.entered) == assembled(table, row, col)


def test_missing_owners_are_listed(app):
    b = breakdown_of("II.1.5", "2022", "xa_tong")  # five communes filled 2019-2021 only, one nothing
    assert [u.code for u in b.missing] == ["ln-11", "ln-12", "ln-13", "ln-14", "ln-15", "ln-16"]
    assert len(b.entered) == 10
    counted = breakdown_of("II.1.1", "2019", "xa_tong")  # "Tổng số xã": every commune counts 1
    assert counted.total == 16 and counted.missing == []


def test_a_cell_nobody_fills_or_has_entered_is_blank_not_zero(app, compiler):
    unowned = breakdown_of("II.1.5", "2019", "tinh_tong")  # the province's group: no unit of a district
    assert (unowned.owners, unowned.total, unowned.entered, unowned.missing) == (0, None, [], [])
    page = compiler.get(f"{BASE}/appendix/II.1.5/cell?row=2019&col=tinh_tong").get_data(as_text=True)
    assert "Không đơn vị nào được giao nhập ô này" in page and "Tất cả đơn vị phụ trách đã nhập" not in page
    waiting = breakdown_of("II.1.7", "2019", "htld_dt")  # owned by the district, not entered yet
    assert waiting.owners == 1 and waiting.total is None and len(waiting.missing) == 1
    page = compiler.get(f"{BASE}/appendix/II.1.7/cell?row=2019&col=htld_dt").get_data(as_text=True)
    assert "Chưa có số liệu" in page and "Tổng:" not in page and "Chưa nhập (1)" in page
    # a rate is recomputed from the sums, nobody enters it: no breakdown
    assert compiler.get(f"{BASE}/appendix/II.1.5/cell?row=2019&col=xa_tyle").status_code == 404


def test_drill_down_is_a_fragment_for_htmx_and_a_page_without(compiler):
    url = f"{BASE}/appendix/II.1.5/cell?row=2022&col=xa_tong"
    fragment = compiler.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Chưa nhập (6)" in fragment and "Xã Lộc Khánh" in fragment
    page = compiler.get(url)
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert compiler.get(f"{BASE}/appendix/II.1.5/cell?row=2099&col=xa_tong").status_code == 404
    assert compiler.get(f"{BASE}/appendix/II.1.5/cell?row=2019&col=nope").status_code == 404


def test_the_appendix_page_links_every_number_to_its_breakdown(compiler):
    html = compiler.get(f"{BASE}/appendix").get_data(as_text=True)
    assert html.count('class="drill') >= 217  # every number and note cell of the grid tables
    total = assembled("II.1.5", "2019", "xa_dt")
    assert re.search(r'row=2019&amp;col=xa_dt"[^>]*>' + re.escape(f"{total:,}".replace(",", ".")) + "</a>", html)
    assert "Kết quả xóa mù chữ" in html and "Ủy ban MTTQ Việt Nam huyện Lộc Ninh: Phối hợp" in html


def test_dashboard_counts_match_the_known_state(app, compiler):
    with in_app() as session:
        state = completeness(session, session.scalar(select(Campaign)))
    assert state.table_counts("II.1.5") == (17, 16, 11)   # 16 communes + the district
    assert state.table_counts("II.1.3") == (16, 10, 10)
    assert state.table_counts("II.1.8") == (1, 1, 1)
    with in_app() as session:  # table I: the units asked for documents, those that entered one, no "complete"
        from webapp.models import Assignment, ListRow
        kl49 = session.scalar(select(Campaign)).id  # other demo campaigns (the province's) have their own
        asked = set(session.scalars(select(Assignment.unit_id).where(Assignment.table_code == "I",
                                                                      Assignment.campaign_id == kl49)))
        with_rows = set(session.scalars(select(ListRow.unit_id).where(ListRow.table_code == "I",
                                                                      ListRow.campaign_id == kl49))) & asked
    assert len(asked) > len(with_rows) > 0
    assert state.table_counts("I") == (len(asked), len(with_rows), None)
    assert [u.unit.code for u in state.not_started] == ["ln-16"]
    # not handed in: the complete but unsubmitted ln-02, the returned ln-09, the partial ones, ln-16
    assert sorted(u.unit.code for u in state.not_done) == ["ln-02", "ln-09", "ln-11", "ln-12", "ln-13", "ln-14",
                                                            "ln-15", "ln-16", "ln-ubnd"]
    assert (state.count("accepted"), state.count("submitted"), state.count("returned")) == (6, 5, 1)
    by_code = {u.unit.code: u for u in state.units}
    assert [by_code[c].status for c in ("ln-03", "ln-01", "ln-09", "ln-02", "ln-11", "ln-16")] == [
        "accepted", "submitted", "returned", "part", "part", "todo"]
    assert by_code["ln-11"].counts == (5, 3, 0) and by_code["ln-01"].counts == (5, 5, 5)
    assert by_code["ln-mttq"].state == "done"  # asked only for documents and a note
    assert by_code["ln-11"].clerks == ["ln-11"] and by_code["ln-11"].unit.phone
    html = compiler.get(f"{BASE}/dashboard").get_data(as_text=True)
    assert "ngày đến hạn" in html and "0271 3866 016" in html and '<strong class="late">' not in html
    # starting to fill moves a unit out of "not started"
    clerk = login(app.test_client(), "ln-16")
    assert post_as_page(clerk, f"{BASE}/tables/II.1.5/cells/2019/xa_tong", data={"value": "12"}).status_code == 200
    with in_app() as session:
        state = completeness(session, session.scalar(select(Campaign)))
    assert state.not_started == [] and state.table_counts("II.1.5") == (17, 17, 11)
    # past the deadline the units that have not handed in are marked late, the others not
    with in_app() as session:
        campaign = session.scalar(select(Campaign))
        campaign.deadline = campaign_today() - dt.timedelta(days=2)
        session.commit()
        deadline = campaign.deadline
    html = compiler.get(f"{BASE}/dashboard").get_data(as_text=True)
    assert f"ngày quá hạn ({deadline:%d/%m/%Y})" in html
    assert html.count('<strong class="late">quá hạn</strong>') == 9


def test_the_list_of_units_to_call_downloads_as_csv(compiler):
    response = compiler.get(f"{BASE}/dashboard/chua-xong.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["Mã đơn vị", "Tên đơn vị", "Tình trạng", "Số ô đã nhập", "Số ô yêu cầu", "Tài khoản", "Điện thoại"]
    khanh = [r for r in rows if r[0] == "ln-16"][0]
    assert khanh[1:] == ["Xã Lộc Khánh", "Chưa bắt đầu", "0", "100", "ln-16", "0271 3866 016"]
    assert [r[2] for r in rows if r[0] == "ln-09"] == ["Bị trả lại"]
    assert len(rows) == 1 + 9


def test_before_the_deadline_nobody_is_late(app, compiler):
    import datetime as dt

    from webapp.templating import local_today

    with app.test_request_context():
        deadline = local_today() + dt.timedelta(days=5)
    with in_app() as session:
        session.scalar(select(Campaign)).deadline = deadline
        session.commit()
    rows = list(csv.reader(io.StringIO(compiler.get(f"{BASE}/dashboard/chua-xong.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[2] for r in rows if r[0] == "ln-16"] == ["Chưa bắt đầu"]
    html = compiler.get(f"{BASE}/dashboard").get_data(as_text=True)
    assert "ngày đến hạn" in html and "quá hạn" not in html


def test_breakdown_sorts_by_value_with_empty_cells_last_and_distinct_from_zero(app, compiler):
    clerk = login(app.test_client(), "ln-02")
    assert post_as_page(clerk, f"{BASE}/tables/II.1.5/cells/2021/xa_dt", data={"value": "0"}).status_code == 200
    html = compiler.get(f"{BASE}/breakdown/II.1.5?row=2021&sort=xa_dt&order=desc").get_data(as_text=True)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    names = re.findall(r'<th scope="row" class="rowhead">([^<]+?) <span class="status', body)
    assert names[-2:] == ["Xã Lộc Khánh", "Ủy ban nhân dân huyện Lộc Ninh"]  # no value: last
    assert names[-3] == "Xã Lộc Hòa"  # the zero sorts as a number, before the empty ones
    hoa_row = body.split("Xã Lộc Hòa", 1)[1].split("</tr>", 1)[0]
    assert '<td class="t-count">0</td>' in hoa_row
    khanh_row = body.split("Xã Lộc Khánh", 1)[1].split("</tr>", 1)[0]
    assert 'class="t-count empty"><span title="Chưa nhập">–</span>' in khanh_row  # fills it, has not yet
    district_row = body.split("Ủy ban nhân dân huyện Lộc Ninh", 1)[1].split("</tr>", 1)[0]
    assert district_row.count('<td class="na"') == 3 + 3  # the commune and province groups: not its cells
    assert "Chưa nhập" not in district_row.split('<td class="t-count">', 1)[0]
    total = html.split('<tr class="total">', 1)[1].split("</tr>", 1)[0]
    assert f">{assembled('II.1.5', '2021', 'xa_tong')}<" in total.replace(".", "")
    ascending = compiler.get(f"{BASE}/breakdown/II.1.5?row=2021&sort=unit&order=asc").get_data(as_text=True)
    assert re.findall(r'<th scope="row" class="rowhead">([^<]+?) <span', ascending)[0] == "Thị trấn Lộc Ninh"
    fragment = compiler.get(f"{BASE}/breakdown/II.1.5?row=2021&sort=xa_tong", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<div id="breakdown"')


def test_the_breakdown_tab_opens_the_first_grid_table(compiler):
    response = compiler.get(f"{BASE}/breakdown")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{BASE}/breakdown/II.1.1")  # table I is a list


def test_breakdown_of_an_unknown_period_or_a_list_table_is_404(compiler):
    assert compiler.get(f"{BASE}/breakdown/II.1.5?row=1999").status_code == 404
    assert compiler.get(f"{BASE}/breakdown/I").status_code == 404
    # a table that a single unit fills has no breakdown: its one row would equal the total
    assert compiler.get(f"{BASE}/breakdown/II.1.4").status_code == 404


REVIEW_PAGES = [f"{BASE}/dashboard", f"{BASE}/dashboard/chua-xong.csv", f"{BASE}/appendix",
                f"{BASE}/appendix/II.1.1/cell?row=2019&col=xa_dat", f"{BASE}/breakdown/II.1.3",
                f"{BASE}/breakdown/II.1.5", f"{BASE}/breakdown/III?row=2023&sort=cdht&order=desc"]


def test_each_view_for_each_role(app, client):
    for url in REVIEW_PAGES:
        assert client.get(url).status_code == 302, url
    clerk = login(app.test_client(), "ln-02")
    for url in REVIEW_PAGES:
        assert clerk.get(url).status_code == 403, url
    for username in ("ln-btg", "admin"):
        staff = login(app.test_client(), username)
        for url in REVIEW_PAGES:
            assert staff.get(url).status_code == 200, (username, url)


class _Table(html.parser.HTMLParser):
    """The cells of an HTML table, row by row: (tag, class, text) each."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[tuple[str, str, str]]] = []
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = [tag, dict(attrs).get("class") or "", ""]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[2] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append((self._cell[0], self._cell[1], " ".join(self._cell[2].split())))
            self._cell = None


def test_the_breakdown_page_and_sheet_show_the_same_cells(app, compiler, tmp_path):
    """Both are drawn from layout.build_breakdown: the page's header and every unit's and the total's
    cells of a period are the sheet's, in that period's columns (the page shows a number as text, a
    cell the unit does not fill greyed, an empty one as "–"; the sheet leaves both blank)."""
    import openpyxl

    from webapp.domain.layout import build_breakdown
    from webapp.domain.values import show
    from webapp.domain.workbook import breakdown_sheet_name
    from webapp.exchange import write_campaign_appendix
    from webapp.review.service import total_label

    path = tmp_path / "appendix.xlsx"
    with in_app() as session:
        campaign = session.scalar(select(Campaign))
        write_campaign_appendix(session, campaign, path, dt.datetime(2024, 5, 20, 9, 30))
        outline, frame, label = campaign.outline, campaign.frame, total_label(campaign)
    formulas, cached = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    checked = {"unit": 0, "total": 0, "na": 0, "empty": 0}
    sheets = [t for t in outline.tables if not t.is_list and breakdown_sheet_name(t) in formulas.sheetnames]
    # the tables a single unit fills have no sheet (ownership.breakdown_tables)
    assert {t.code for t in outline.tables if not t.is_list} - {t.code for t in sheets} == {
        "II.1.4", "II.1.6", "II.1.7", "II.1.8"}
    for table in sheets:
        ws, wc = formulas[breakdown_sheet_name(table)], cached[breakdown_sheet_name(table)]
        sheet_layout = build_breakdown(table, frame, [], label)
        number_row = sheet_layout.number_row + 1  # 1-based
        names = [ws.cell(r, 2).value for r in range(number_row + 1, ws.max_row)]
        for period in sheet_layout.periods:
            page = compiler.get(f"{BASE}/breakdown/{table.code}", query_string={"row": period.key})
            parsed = _Table()
            parsed.feed(page.get_data(as_text=True).split('<div id="breakdown"', 1)[1])
            head = [c for row in parsed.rows[:len(parsed.rows) - len(names) - 1] for c in row]
            body, total = parsed.rows[-len(names) - 1:-1], parsed.rows[-1]
            # the header: the sheet's below its period row, in this period's columns and A, B
            first, last = period.columns[0].col + 1, period.columns[-1].col + 1
            sheet_head = [ws.cell(r, c).value for r in range(sheet_layout.header_rows[0] + 1, number_row)
                          for c in [1, 2, *range(first, last + 1)]
                          if ws.cell(r, c).value is not None and not (r == sheet_layout.header_rows[0] + 1 and c > 2)]
            assert [text.rstrip(" ▲") for _, _, text in head] == sheet_head, (table.code, period.key)
            # a unit's row head is its name and its part's status (workflow.STATUS_NAMES)
            assert [re.sub(f" ({'|'.join(STATUS_NAMES.values())})$", "", row[1][2]) for row in body] == names, \
                (table.code, period.key)
            assert total[1][2] == ws.cell(ws.max_row, 1).value == label
            for r, row in enumerate([*body, total]):
                sheet_row = number_row + 1 + r
                for b, (_, css, text) in zip(period.columns, row[2:], strict=True):
                    value = wc.cell(sheet_row, b.col + 1).value
                    value = None if value in (None, "") else Decimal(str(value)) if b.column.is_derived else value
                    if "na" in css.split():
                        assert value is None, (table.code, period.key, names[r], b.column.key)
                        checked["na"] += 1
                    elif text == "–":
                        assert value is None, (table.code, period.key, b.column.key)
                        checked["empty"] += 1
                    elif row is total:
                        assert text == show(b.column, value, None, assembled=True), (table.code, period.key, b.column.key)
                        checked["total"] += 1
                    else:
                        assert text == show(b.column, value, None), (table.code, period.key, names[r], b.column.key)
                        checked["unit"] += 1
    assert min(checked.values()) > 0, checked
