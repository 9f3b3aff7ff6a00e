"""What is counted is chosen and said (issue 15, point 1): every part as it stands (the default), the
parts submitted or accepted, or the accepted parts only; on the appendix page, a cell's drill-down,
the breakdown by unit, the exported workbook and the command line, each saying which and how many units.

The demo campaign kl49-2024 has every kind of part: Xã Lộc Hòa (ln-02) open and complete, Xã Lộc
Quang (ln-09) returned, Thị trấn Lộc Ninh (ln-01) submitted, Xã Lộc An (ln-03) accepted, Xã Lộc Khánh
(ln-16) untouched; 6 accepted and 5 submitted parts of 20.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from conftest import in_app
from webapp.domain.assembly import add_parts, assemble, count_basis, unit_parts
from webapp.domain.layout import build_layout
from webapp.domain.outline import TOTAL_ROW_KEY
from webapp.domain.parts import Basis, Counted
from webapp.models import Assignment, Campaign, CampaignUnit, CellValue, ListRow, Unit

BASE = "/campaigns/kl49-2024"
CELL = ("II.1.5", "2021", "xa_dt")  # a number every commune fills
COUNTED_STATUSES = {Counted.ALL: None, Counted.SUBMITTED: {"submitted", "accepted"}, Counted.ACCEPTED: {"accepted"}}


def campaign_of(session, code: str = "kl49-2024") -> Campaign:
    return session.scalar(select(Campaign).where(Campaign.code == code))


def statuses(code: str = "kl49-2024") -> dict[str, str]:
    """unit code -> its part's stored status (open, submitted, accepted)."""
    with in_app() as session:
        campaign = campaign_of(session, code)
        return dict(session.execute(select(Unit.code, CampaignUnit.status).join(CampaignUnit)
                                    .where(CampaignUnit.campaign_id == campaign.id)).all())


def counts(counted: Counted, status: str) -> bool:
    return COUNTED_STATUSES[counted] is None or status in COUNTED_STATUSES[counted]


def by_hand(table: str, row: str, col: str, counted: Counted) -> int | None:
    """The sum of the stored values of one cell over the units whose part is counted, added here
    from each unit's own value (not through the assembly)."""
    status = statuses()
    with in_app() as session:
        campaign = campaign_of(session)
        values = session.execute(select(Unit.code, CellValue.num).join(Unit, Unit.id == CellValue.unit_id).where(
            CellValue.campaign_id == campaign.id, CellValue.table_code == table, CellValue.row_key == row,
            CellValue.col_key == col, CellValue.num.is_not(None))).all()
    chosen = [num for code, num in values if counts(counted, status[code])]
    return sum(chosen) if chosen else None


def entered(counted: Counted) -> int:
    """How many counted units have a number in CELL."""
    status = statuses()
    with in_app() as session:
        campaign = campaign_of(session)
        codes = session.scalars(select(Unit.code).join(CellValue, Unit.id == CellValue.unit_id).where(
            CellValue.campaign_id == campaign.id, CellValue.table_code == CELL[0], CellValue.row_key == CELL[1],
            CellValue.col_key == CELL[2], CellValue.num.is_not(None))).all()
    return sum(counts(counted, status[code]) for code in codes)


def set_value(unit_code: str, table: str, row: str, col: str, num: int) -> None:
    with in_app() as session:
        campaign = campaign_of(session)
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        value = session.scalar(select(CellValue).where(
            CellValue.campaign_id == campaign.id, CellValue.unit_id == unit.id, CellValue.table_code == table,
            CellValue.row_key == row, CellValue.col_key == col))
        value.num = num
        session.commit()


def assembled(counted: Counted, code: str = "kl49-2024", table_code: str | None = None):
    with in_app() as session:
        campaign = campaign_of(session, code)
        return assemble(session, campaign.id, campaign.outline, campaign.frame, table_code=table_code,
                        counted=counted)


# --- the assembly ------------------------------------------------------------------------------

def test_the_demo_has_every_kind_of_part(app):
    status = statuses()
    assert (status["ln-02"], status["ln-09"], status["ln-01"], status["ln-03"]) == \
        ("open", "open", "submitted", "accepted")
    with in_app() as session:
        assert session.scalar(select(CampaignUnit.return_reason).join(Unit).where(
            Unit.code == "ln-09", CampaignUnit.campaign_id == campaign_of(session).id))


@pytest.mark.parametrize("counted", list(Counted))
def test_every_number_is_the_sum_over_the_counted_units(app, counted):
    """Summed here from the stored values; and the counted units' own parts (unit_parts, what the
    breakdowns show) add up to the same appendix."""
    status = statuses()
    with in_app() as session:
        campaign = campaign_of(session)
        part = assemble(session, campaign.id, campaign.outline, campaign.frame, counted=counted)
        parts = unit_parts(session, campaign.id, campaign.outline, campaign.frame, counted=counted)
        one_table = unit_parts(session, campaign.id, campaign.outline, campaign.frame, table_code="II.1.5",
                               counted=counted)
        units = {u.id: u for u in campaign.units}
        rows = session.execute(select(Unit.code, CellValue.table_code, CellValue.row_key, CellValue.col_key,
                                      CellValue.num).join(Unit, Unit.id == CellValue.unit_id)
                               .where(CellValue.campaign_id == campaign.id, CellValue.num.is_not(None))).all()
    expected: dict = {}
    for code, table, row, col, num in rows:
        if counts(counted, status[code]):
            expected[(table, row, col)] = expected.get((table, row, col), 0) + num
    stored_keys = {(t, r, c) for _, t, r, c, _ in rows}
    assert {k: v for k, v in part.numbers.items() if k in stored_keys} == expected
    assert parts and all(counts(counted, status[units[i].code]) for i in parts) and set(one_table) <= set(parts)
    ids = [i for i in units if i in parts]
    assert add_parts([parts[i] for i in ids], campaign.outline, [units[i].name for i in ids]) == part


def test_the_sums_change_with_the_choice_as_computed_by_hand(app):
    """Known values in the four kinds of part: the open and the returned part count only in "all"."""
    for code, num in (("ln-02", 1000), ("ln-09", 200), ("ln-01", 30), ("ln-03", 4)):
        set_value(code, *CELL, num)
    base = {c: by_hand(*CELL, c) for c in Counted}
    for counted in Counted:
        assert assembled(counted).number(*CELL) == base[counted], counted
    set_value("ln-02", *CELL, 1000 + 7)  # the open part: only "all" moves
    set_value("ln-09", *CELL, 200 + 50)  # the returned part: only "all" moves
    assert assembled(Counted.ALL).number(*CELL) == base[Counted.ALL] + 57
    assert assembled(Counted.SUBMITTED).number(*CELL) == base[Counted.SUBMITTED]
    assert assembled(Counted.ACCEPTED).number(*CELL) == base[Counted.ACCEPTED]
    set_value("ln-01", *CELL, 30 + 100)  # submitted: "all" and "submitted"
    assert assembled(Counted.SUBMITTED).number(*CELL) == base[Counted.SUBMITTED] + 100
    assert assembled(Counted.ACCEPTED).number(*CELL) == base[Counted.ACCEPTED]
    set_value("ln-03", *CELL, 4 + 1)  # accepted: all three
    assert assembled(Counted.ACCEPTED).number(*CELL) == base[Counted.ACCEPTED] + 1
    assert assembled(Counted.ALL).number(*CELL) == base[Counted.ALL] + 57 + 100 + 1


def test_unit_counts_count_the_counted_units_that_fill_the_group(app):
    status = statuses()
    with in_app() as session:
        campaign = campaign_of(session)
        fillers = session.execute(select(Unit.code, Assignment.group_key).join(Unit, Unit.id == Assignment.unit_id)
                                  .where(Assignment.campaign_id == campaign.id,
                                         Assignment.table_code == "II.1.1")).all()
        table = campaign.outline.table("II.1.1")
    xa_group, huyen_group = table.group_key_of("xa_tong"), table.group_key_of("huyen_tong")
    communes = {code for code, group in fillers if group == xa_group}
    district = {code for code, group in fillers if group == huyen_group}
    assert len(communes) == 16 and len(district) == 1
    for counted in Counted:
        part = assembled(counted)
        want = sum(counts(counted, status[c]) for c in communes)
        assert part.number("II.1.1", "2019", "xa_tong") == (want or None), counted
        want = sum(counts(counted, status[c]) for c in district)
        assert part.number("II.1.1", "2019", "huyen_tong") == (want or None), counted
    assert assembled(Counted.SUBMITTED).number("II.1.1", "2019", "xa_tong") == 8  # ln-01, ln-03…08, ln-10
    assert assembled(Counted.ACCEPTED).number("II.1.1", "2019", "xa_tong") == 6


def test_notes_and_list_rows_follow_the_choice(app):
    status = statuses()
    with in_app() as session:
        campaign = campaign_of(session)
        names = {u.code: u.name for u in campaign.units}
        listed = session.execute(select(Unit.code, ListRow.data).join(Unit, Unit.id == ListRow.unit_id)
                                 .where(ListRow.campaign_id == campaign.id, ListRow.table_code == "I")).all()
    note = "Ủy ban MTTQ Việt Nam huyện Lộc Ninh: "  # ln-mttq, submitted
    assert assembled(Counted.SUBMITTED).text("III", "2023", "ghi_chu").startswith(note)
    assert assembled(Counted.ACCEPTED).text("III", "2023", "ghi_chu") is None
    for counted in Counted:
        part = assembled(counted)
        for text in part.texts.values():
            for line in text.splitlines():
                code = next(c for c, n in names.items() if line.startswith(n + ": "))
                assert counts(counted, status[code]), (counted, line)
        rows = part.lists["I"]
        allowed = [data for code, data in listed if counts(counted, status[code])]
        assert all(row in allowed for row in rows), counted
        assert {tuple(sorted(r.items())) for r in rows} == {tuple(sorted(r.items())) for r in allowed}
    assert len(assembled(Counted.ACCEPTED).lists["I"]) < len(assembled(Counted.ALL).lists["I"])


def test_the_total_row_of_a_table_of_unit_rows_adds_the_counted_rows(app):
    """cdht-2024's rows are the communes; two of them submitted: the total row is their two rows."""
    with in_app() as session:
        campaign = campaign_of(session, "cdht-2024")
        chosen = [u for u in campaign.units][:2]
        for cu in session.scalars(select(CampaignUnit).where(CampaignUnit.campaign_id == campaign.id,
                                                             CampaignUnit.unit_id.in_([u.id for u in chosen]))):
            cu.status = "submitted"
        session.commit()
        codes = [u.code for u in chosen]
        table = next(t for t in campaign.outline.tables if any(b.by_unit and b.total for b in t.blocks))
    full, handed = assembled(Counted.ALL, "cdht-2024"), assembled(Counted.SUBMITTED, "cdht-2024")
    rows_of = {row for (t, row, _) in handed.numbers if t == table.code}
    assert rows_of == {*codes, TOTAL_ROW_KEY}
    summed = [c.key for b in table.blocks if b.by_unit and b.total for c in b.columns if c.kind.summed]
    checked = 0
    for col in summed:
        own = [handed.number(table.code, code, col) for code in codes]
        if any(v is not None for v in own):
            assert handed.number(table.code, TOTAL_ROW_KEY, col) == sum(v or 0 for v in own)
            assert full.number(table.code, TOTAL_ROW_KEY, col) > handed.number(table.code, TOTAL_ROW_KEY, col)
            checked += 1
    assert checked


def test_the_filter_runs_on_sqlite_and_postgresql(demo_app_on_both):
    """The filtered owners (a subquery joined in every query of the assembly) on both databases:
    the counted units' parts add up to the assembly, and the basis counts the same units."""
    from webapp.extensions import db

    with demo_app_on_both.app_context():
        campaign = campaign_of(db.session)
        outline, frame = campaign.outline, campaign.frame
        for counted, included in ((Counted.ALL, 20), (Counted.SUBMITTED, 11), (Counted.ACCEPTED, 6)):
            part = assemble(db.session, campaign.id, outline, frame, counted=counted)
            parts = unit_parts(db.session, campaign.id, outline, frame, counted=counted)
            assert add_parts(list(parts.values()), outline).numbers == part.numbers, counted
            assert count_basis(db.session, campaign.id, counted) == Basis(counted, included, 20)
        assert part.number("II.1.1", "2019", "xa_tong") == 6


def test_the_basis_says_which_parts_and_how_many_units(app):
    with in_app() as session:
        campaign = campaign_of(session)
        bases = {c: count_basis(session, campaign.id, c) for c in Counted}
    assert bases[Counted.ALL] == Basis(Counted.ALL, 20, 20)
    assert bases[Counted.SUBMITTED] == Basis(Counted.SUBMITTED, 11, 20)
    assert bases[Counted.ACCEPTED] == Basis(Counted.ACCEPTED, 6, 20)
    assert bases[Counted.SUBMITTED].sentence == "Số liệu tổng hợp: các phần đã nộp và đã duyệt — 11/20 đơn vị."
    assert bases[Counted.ACCEPTED].sentence == "Số liệu tổng hợp: chỉ các phần đã duyệt — 6/20 đơn vị."
    assert bases[Counted.ALL].sentence == ("Số liệu tổng hợp: mọi phần số liệu hiện có (kể cả đang nhập, "
                                           "bị trả lại) — 20/20 đơn vị.")


# --- the pages ---------------------------------------------------------------------------------

def page(client, url: str, **query) -> str:
    response = client.get(url, query_string=query) if query else client.get(url)
    assert response.status_code == 200, (url, query, response.status_code)
    return html_lib.unescape(response.get_data(as_text=True))


def shown(number: int | None) -> str:
    return "" if number is None else f"{number:,}".replace(",", ".")


def drill_text(text: str, table: str, row: str, col: str) -> str:
    """What the appendix page shows in one cell (the text of its drill-down link)."""
    match = re.search(rf'<a class="drill[^"]*" href="[^"]*/appendix/{re.escape(table)}/cell\?row={row}&col={col}'
                      rf'[^"]*"[^>]*>([^<]*)</a>', text)
    assert match, (table, row, col)
    return match.group(1).strip()


def test_the_appendix_page_sums_and_says_what_it_counts(compiler):
    for code, num in (("ln-02", 1000), ("ln-09", 200), ("ln-01", 30), ("ln-03", 4)):
        set_value(code, *CELL, num)
    default = page(compiler, f"{BASE}/appendix")
    assert "Số liệu tổng hợp: mọi phần số liệu hiện có (kể cả đang nhập, bị trả lại) — 20/20 đơn vị." in default
    assert drill_text(default, *CELL) == shown(by_hand(*CELL, Counted.ALL))
    for counted, sentence in ((Counted.SUBMITTED, "các phần đã nộp và đã duyệt — 11/20 đơn vị."),
                              (Counted.ACCEPTED, "chỉ các phần đã duyệt — 6/20 đơn vị.")):
        text = page(compiler, f"{BASE}/appendix", parts=counted.value)
        assert f"Số liệu tổng hợp: {sentence}" in text
        assert drill_text(text, *CELL) == shown(by_hand(*CELL, counted))
        assert drill_text(text, "II.1.1", "2019", "xa_tong") == shown(8 if counted is Counted.SUBMITTED else 6)
        # the choice carries to every drill-down, breakdown and export link of the page
        assert f"/appendix/II.1.5/cell?row=2021&col=xa_dt&parts={counted.value}" in text
        assert f"/breakdown/II.1.5?parts={counted.value}" in text
        assert f"/export.xlsx?parts={counted.value}" in text
        assert re.search(rf'<a href="[^"]*/appendix\?parts={counted.value}"[^>]*aria-current', text)
    assert drill_text(default, *CELL) != drill_text(page(compiler, f"{BASE}/appendix", parts="submitted"), *CELL)


def test_the_selector_offers_the_three_choices(compiler):
    text = page(compiler, f"{BASE}/appendix")
    for label in ("Tất cả các phần", "Đã nộp và đã duyệt", "Chỉ đã duyệt"):
        assert label in text
    assert re.search(r'<a href="[^"]*/appendix"[^>]*aria-current="true"', text)  # all: the default, no parameter
    assert f'href="{BASE}/appendix?parts=accepted"' in text


@pytest.mark.parametrize("url", [f"{BASE}/appendix", f"{BASE}/breakdown/II.1.5",
                                 f"{BASE}/appendix/II.1.5/cell?row=2021&col=xa_dt", f"{BASE}/export.xlsx"])
def test_an_unknown_choice_is_refused_with_a_message(compiler, url):
    response = compiler.get(url + ("&" if "?" in url else "?") + "parts=draft")
    assert response.status_code == 400
    assert "all, submitted hoặc accepted" in response.get_data(as_text=True)


def test_the_drill_down_counts_the_chosen_parts_and_marks_the_others(compiler):
    for code, num in (("ln-02", 1000), ("ln-09", 200), ("ln-01", 30), ("ln-03", 4)):
        set_value(code, *CELL, num)
    url = f"{BASE}/appendix/II.1.5/cell?row=2021&col=xa_dt"
    fragment = page(compiler, url + "&parts=submitted")  # the page (no htmx)
    assert "Số liệu tổng hợp: các phần đã nộp và đã duyệt — 11/20 đơn vị." in fragment
    assert f"Tổng: <strong>{shown(by_hand(*CELL, Counted.SUBMITTED))}</strong> từ {entered(Counted.SUBMITTED)} đơn vị" in fragment
    rows = {name.strip(): cls for cls, name in re.findall(r'<tr class="(counted|not-counted)"><td>([^<]+)<', fragment)}
    assert rows["Xã Lộc Hòa"] == rows["Xã Lộc Quang"] == "not-counted"
    assert rows["Thị trấn Lộc Ninh"] == rows["Xã Lộc An"] == "counted"
    assert "Không tính" in fragment
    hoa = fragment.split("Xã Lộc Hòa", 1)[1].split("</tr>", 1)[0]
    assert "Đang nhập" in hoa and "1.000" in hoa
    assert "Bị trả lại" in fragment.split("Xã Lộc Quang", 1)[1].split("</tr>", 1)[0]
    everything = page(compiler, url)
    assert f"Tổng: <strong>{shown(by_hand(*CELL, Counted.ALL))}</strong> từ {entered(Counted.ALL)} đơn vị" in everything
    assert "not-counted" not in everything
    htmx = compiler.get(url + "&parts=accepted", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert htmx.lstrip().startswith('<div class="drill-body">')
    assert f"Tổng: <strong>{shown(by_hand(*CELL, Counted.ACCEPTED))}</strong> từ {entered(Counted.ACCEPTED)} đơn vị" in htmx


def rowheads(text: str) -> dict[str, str]:
    """The breakdown's unit rows: name -> the status shown beside it."""
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return dict(re.findall(r'<th scope="row" class="rowhead">([^<]+?) <span class="status [^"]*">([^<]+)</span>', body))


def test_the_breakdown_lists_the_counted_units_with_their_status(compiler):
    for code, num in (("ln-02", 1000), ("ln-09", 200), ("ln-01", 30), ("ln-03", 4)):
        set_value(code, *CELL, num)
    url = f"{BASE}/breakdown/II.1.5"
    everything = page(compiler, url, row="2021")
    units = rowheads(everything)
    assert units["Xã Lộc Hòa"] == "Đang nhập" and units["Xã Lộc Quang"] == "Bị trả lại"
    assert units["Thị trấn Lộc Ninh"] == "Đã nộp" and units["Xã Lộc An"] == "Đã duyệt"
    assert units["Xã Lộc Khánh"] == "Chưa bắt đầu"
    assert "— 20/20 đơn vị." in everything
    accepted = page(compiler, url, row="2021", parts="accepted")
    assert set(rowheads(accepted).values()) == {"Đã duyệt"} and len(rowheads(accepted)) == 6
    assert "Số liệu tổng hợp: chỉ các phần đã duyệt — 6/20 đơn vị." in accepted
    submitted = page(compiler, url, row="2021", parts="submitted")
    assert set(rowheads(submitted).values()) == {"Đã duyệt", "Đã nộp"} and "Xã Lộc Hòa" not in rowheads(submitted)
    for text, counted in ((everything, Counted.ALL), (submitted, Counted.SUBMITTED), (accepted, Counted.ACCEPTED)):
        total = text.split('<tr class="total">', 1)[1].split("</tr>", 1)[0]
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", total)
        columns = [c.key for c in build_layout_columns()]
        assert cells[columns.index("xa_dt") + 1] == shown(by_hand(*CELL, counted)), counted
    # the choice carries to the sort, period and table links, and to the htmx fragment
    assert "sort=xa_tong&order=asc&parts=accepted" in accepted or "parts=accepted&sort=xa_tong" in accepted
    assert re.search(r'href="[^"]*/breakdown/II.1.5\?row=2019[^"]*parts=accepted"', accepted)
    assert re.search(r'href="[^"]*/breakdown/II.1.1\?parts=accepted"', accepted)
    tab = compiler.get(f"{BASE}/breakdown", query_string={"parts": "accepted"})  # the tab's first table
    assert tab.status_code == 302 and tab.headers["Location"].endswith(f"{BASE}/breakdown/II.1.1?parts=accepted")
    fragment = compiler.get(url, query_string={"row": "2021", "sort": "xa_dt", "parts": "accepted"},
                            headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="breakdown"') and len(rowheads(fragment)) == 6


def build_layout_columns():
    """The columns of II.1.5's breakdown page for one period, as the page lays them out."""
    with in_app() as session:
        campaign = campaign_of(session)
        table = campaign.outline.table("II.1.5")
        from webapp.domain.layout import build_breakdown
        layout = build_breakdown(table, campaign.frame, [], "Toàn huyện", period="2021")
    return [b.column for b in layout.columns]


# --- the workbook ------------------------------------------------------------------------------

def cell_address(table_code: str, row: str, col: str) -> str:
    with in_app() as session:
        campaign = campaign_of(session)
        return build_layout(campaign.outline.table(table_code), campaign.frame).find(row, col).address


def cover_text(wb) -> str:
    return " ".join(str(v) for row in wb["Bìa"].iter_rows(values_only=True) for v in row if v)


def test_the_web_export_follows_the_choice_and_says_it_on_the_cover(compiler):
    for code, num in (("ln-02", 1000), ("ln-09", 200), ("ln-01", 30), ("ln-03", 4)):
        set_value(code, *CELL, num)
    address = cell_address(*CELL)
    for counted in Counted:
        query = {} if counted is Counted.ALL else {"parts": counted.value}
        response = compiler.get(f"{BASE}/export.xlsx", query_string=query)
        assert response.status_code == 200
        wb = openpyxl.load_workbook(io.BytesIO(response.data))
        assert wb[CELL[0]][address].value == by_hand(*CELL, counted), counted
        with in_app() as session:
            sentence = count_basis(session, campaign_of(session).id, counted).sentence
        assert sentence in cover_text(wb), counted


def test_the_cover_lists_each_unit_with_its_status_and_whether_it_counts(compiler):
    response = compiler.get(f"{BASE}/export.xlsx", query_string={"parts": "submitted"})
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = {str(r[0]): r[1] for r in wb["Bìa"].iter_rows(values_only=True) if r and r[0]}
    line = {name.split(". ", 1)[1]: value for name, value in rows.items() if re.match(r"\d+\. ", name)}
    assert line["Xã Lộc Hòa"] == "Đang nhập — không tính"
    assert line["Xã Lộc Quang"] == "Bị trả lại — không tính"
    assert line["Thị trấn Lộc Ninh"] == "Đã nộp — được tính"
    assert line["Xã Lộc An"] == "Đã duyệt — được tính"
    assert len(line) == 20
    breakdown = [n for n in wb.sheetnames if n.startswith("II.1.5") and n != "II.1.5"][0]
    names = {str(v) for row in wb[breakdown].iter_rows(values_only=True) for v in row if v}
    assert "Thị trấn Lộc Ninh" in names and "Xã Lộc Hòa" not in names and "Xã Lộc Quang" not in names


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_the_command_line_export_takes_parts(app, tmp_path):
    for code, num in (("ln-02", 1000), ("ln-09", 200), ("ln-01", 30), ("ln-03", 4)):
        set_value(code, *CELL, num)
    address = cell_address(*CELL)
    for option, counted in (([], Counted.ALL), (["--parts", "all"], Counted.ALL),
                            (["--parts", "submitted"], Counted.SUBMITTED), (["--parts", "accepted"], Counted.ACCEPTED)):
        out = tmp_path / f"{counted.value}-{len(option)}.xlsx"
        result = cli(app, "export", "kl49-2024", "-o", str(out), *option)
        assert result.exit_code == 0 and result.stdout == "", result.output
        wb = openpyxl.load_workbook(out)
        assert wb[CELL[0]][address].value == by_hand(*CELL, counted)
        assert f"— {({Counted.ALL: 20, Counted.SUBMITTED: 11, Counted.ACCEPTED: 6})[counted]}/20 đơn vị." in cover_text(wb)


def test_a_bad_parts_value_is_a_usage_error(app, tmp_path):
    out = tmp_path / "x.xlsx"
    result = cli(app, "export", "kl49-2024", "-o", str(out), "--parts", "draft")
    assert result.exit_code == 2 and not out.exists()
    assert "Invalid value for '--parts'" in result.output
    result = cli(app, "export", "no-such", "-o", str(out), "--parts", "accepted")
    assert result.exit_code == 1 and not out.exists()


# --- in the browser ----------------------------------------------------------------------------

def test_the_choice_reads_on_a_phone_and_carries_to_the_drill_panel(browser, live_server):
    from conftest import signed_in

    page = signed_in(browser, live_server, "ln-btg", width=360, height=740)
    for url in (f"{BASE}/appendix?parts=submitted", f"{BASE}/breakdown/II.1.5?row=2021&parts=accepted",
                f"{BASE}/appendix/II.1.5/cell?row=2021&col=xa_dt&parts=submitted"):
        page.goto(live_server + url)
        assert page.locator(".counted-bar .basis, .drill-body .basis").first.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
    page.goto(live_server + f"{BASE}/appendix")
    page.click(".counted-bar a[href$='parts=accepted']")
    page.wait_for_url(f"**{BASE}/appendix?parts=accepted")
    assert "chỉ các phần đã duyệt — 6/20 đơn vị." in page.inner_text(".counted-bar")
    page.click("a.drill[href*='row=2021&col=xa_dt']")  # htmx fills the panel with the same choice
    page.wait_for_selector("#drill-content .drill-body")
    panel = page.inner_text("#drill-content")
    assert "chỉ các phần đã duyệt — 6/20 đơn vị." in panel and "Không tính" in panel
