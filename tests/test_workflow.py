"""Submit, review and lock: the part's states, the deadline and extensions, lost updates, the audit trail.

The demo's parts: ln-02 complete and open, ln-01 and ln-10 submitted, ln-03 … ln-08 accepted,
ln-09 returned with a note on II.1.5 / 2021 / xa_dt, ln-11 … ln-15 partly filled, ln-16 empty.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from conftest import htmx_headers, in_app, login, post_as_page, stored, unit_id
from webapp.models import AuditEvent, Campaign, CampaignUnit, CellValue, ReturnNote
from webapp.workflow import campaign_today

BASE = "/campaigns/kl49-2024"


def save_cell(client, table, row, col, value, version=None, **query):
    """One cell as the page's script saves it (entry.save_cell; see test_cell_save.py)."""
    data = {"value": value} if version is None else {"value": value, "version": str(version)}
    return post_as_page(client, f"{BASE}/tables/{table}/cells/{row}/{col}", data=data, query_string=query)


def locked(response, reason: str) -> bool:
    """A write the part's state refuses: 423 with the reason as plain text (the script shows it)."""
    return (response.status_code, response.mimetype) == (423, "text/plain") and reason in response.get_data(as_text=True)


def part(code: str) -> CampaignUnit:
    with in_app() as session:
        cu = session.scalar(select(CampaignUnit).join(Campaign).where(  # kl49-2024's (the demo has others)
            CampaignUnit.unit_id == unit_id(code), Campaign.code == BASE.rsplit("/", 1)[1]))
        session.expunge(cu)
        return cu


def events(action: str | None = None) -> int:
    """The audit events of the demo's kl49-2024 (the other demo campaigns have their own)."""
    with in_app() as session:
        query = select(func.count()).select_from(AuditEvent).join(Campaign).where(Campaign.code == "kl49-2024")
        if action:
            query = query.where(AuditEvent.action == action)
        return session.scalar(query)


def set_deadline(days_from_today: int) -> dt.date:
    with in_app() as session:
        campaign = session.scalar(select(Campaign))
        campaign.deadline = campaign_today() + dt.timedelta(days=days_from_today)
        session.commit()
        return campaign.deadline


# --- the unit's side ------------------------------------------------------------------------------

def test_a_complete_part_is_submitted_and_then_locked_for_the_unit(app, clerk):
    page = clerk.get(f"{BASE}/submit").get_data(as_text=True)
    # every number is in; only table I has no document yet: listed, to be confirmed
    assert "Còn 1 ô trống" in page and "chưa có văn bản nào" in page and "vi phạm" not in page
    assert clerk.post(f"{BASE}/submit", data={}).status_code == 200
    assert part("ln-02").status == "open"
    response = clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"})
    assert response.status_code == 302
    cu = part("ln-02")
    assert cu.status == "submitted" and cu.submitted_at is not None and not cu.submitted_late
    assert events("submit") == 12 + 1  # the demo's twelve and this one
    # locked: a cell save is refused with why (423); nothing stored
    before = stored("ln-02", "II.1.5", "2019", "xa_tong").num
    response = save_cell(clerk, "II.1.5", "2019", "xa_tong", str(before + 1))
    assert locked(response, "đang chờ duyệt: không sửa được")
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == before
    # so is a document added with htmx (423 and the reason); without JavaScript the page says it
    document = {"new:the_loai": "Khác", "new:so_hieu": "9-KH", "new:ngay_ban_hanh": "01/03/2020",
                "new:trich_yeu": "A", "new:co_quan": "B"}
    assert locked(clerk.post(f"{BASE}/tables/I/rows", data=document, headers={"HX-Request": "true"}),
                  "đang chờ duyệt: không sửa được")
    response = clerk.post(f"{BASE}/tables/I/rows", data=document, follow_redirects=True)
    assert response.status_code == 200 and "đang chờ duyệt: không sửa được" in response.get_data(as_text=True)
    page = clerk.get(f"{BASE}/tables/II.1.5").get_data(as_text=True)
    assert "đang chờ duyệt: không sửa được" in page and 'name="cell:2019:xa_tong"' not in page
    home = clerk.get("/").get_data(as_text=True)
    assert "Đã nộp" in home and "nộp lúc" in home
    # a plain POST and a template upload are refused the same way
    assert clerk.post(f"{BASE}/tables/II.1.5", data={"cell:2019:xa_tong": "1"}).status_code == 302
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == before
    template = clerk.get(f"{BASE}/template.xlsx").data
    upload = clerk.post(f"{BASE}/import", data={"workbook": (__import__("io").BytesIO(template), "mau.xlsx")},
                        content_type="multipart/form-data")
    assert upload.status_code == 422 and "đang chờ duyệt" in upload.get_data(as_text=True)


def test_empty_cells_are_listed_and_must_be_confirmed(app):
    clerk = login(app.test_client(), "ln-11")
    page = clerk.get(f"{BASE}/submit").get_data(as_text=True)
    gaps = int(re.search(r"Còn (\d+) ô trống", page).group(1))
    assert gaps > 0 and "Biểu II.1.3" in page and "Năm 2022" in page
    clerk.post(f"{BASE}/submit", data={})
    assert part("ln-11").status == "open"
    assert clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"}).status_code == 302
    assert part("ln-11").status == "submitted"
    with in_app() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "submit")
                                .order_by(AuditEvent.id.desc())).first()
        assert event.new == f"đúng hạn, {gaps} ô trống được xác nhận"


def test_a_stored_value_that_breaks_a_hard_rule_stops_the_submission(app, clerk):
    with in_app() as session:  # stored before the rule existed: trained above the total
        session.execute(update(CellValue).where(
            CellValue.unit_id == unit_id("ln-02"), CellValue.table_code == "II.1.5", CellValue.row_key == "2020",
            CellValue.col_key == "xa_dt").values(num=999))
        session.commit()
    page = clerk.get(f"{BASE}/submit").get_data(as_text=True)
    assert "Chưa nộp được: 1 chỗ vi phạm điều kiện" in page and "Năm 2020" in page
    clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"})
    assert part("ln-02").status == "open"


def test_a_part_with_an_of_which_but_no_total_cannot_be_submitted(app, clerk):
    """'Of which' 18 with the total cleared breaks no rule while entering (the total may come next),
    but a submitted part must let every rule be checked: the gap cannot be confirmed away."""
    assert save_cell(clerk, "II.1.5", "2021", "xa_tong", "").status_code == 200
    assert stored("ln-02", "II.1.5", "2021", "xa_dt").num
    page = clerk.get(f"{BASE}/submit").get_data(as_text=True)
    assert "Chưa nộp được: 1 chỗ vi phạm điều kiện" in page and "«Tổng số» còn trống" in page
    clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"})
    assert part("ln-02").status == "open"
    assert save_cell(clerk, "II.1.5", "2021", "xa_dt", "0").status_code == 200  # nothing trained: no whole needed
    clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"})
    assert part("ln-02").status == "submitted"


# --- the compiler's side --------------------------------------------------------------------------

def test_return_with_a_note_reaches_the_unit_beside_the_cell_and_resubmission_clears_it(app, compiler):
    response = compiler.post(f"{BASE}/units/ln-01/return", data={
        "reason": "Số lớp năm 2019 chưa khớp báo cáo năm", "table": "II.1.5", "row": "2019", "col": "xa_tong"})
    assert response.status_code == 302
    cu = part("ln-01")
    assert cu.status == "open" and cu.return_reason == "Số lớp năm 2019 chưa khớp báo cáo năm"
    clerk = login(app.test_client(), "ln-01")
    home = clerk.get("/").get_data(as_text=True)
    assert "Bị trả lại" in home and "Số lớp năm 2019 chưa khớp báo cáo năm" in home
    table = clerk.get(f"{BASE}/tables/II.1.5").get_data(as_text=True)
    cell = table.split('id="cell-2019-xa_tong"', 1)[1].split("</td>", 1)[0]
    assert "Cần sửa:</strong> Số lớp năm 2019 chưa khớp" in cell
    assert save_cell(clerk, "II.1.5", "2019", "xa_tong", "30").status_code == 200  # open again
    assert clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"}).status_code == 302
    assert part("ln-01").status == "submitted" and part("ln-01").return_reason is None
    with in_app() as session:
        assert session.scalar(select(func.count()).select_from(ReturnNote).where(
            ReturnNote.unit_id == unit_id("ln-01"), ReturnNote.resolved_at.is_(None))) == 0


def test_the_return_form_points_at_a_column_by_its_printed_name(app, compiler):
    page = compiler.get(f"{BASE}/units/ln-01").get_data(as_text=True)
    assert '<option value="II.1.5|xa_tong">II.1.5: Công chức cấp xã › Tổng số</option>' in page
    assert 'value="II.1.5|huyen_tong"' not in page  # a commune is not asked for the district's columns
    response = compiler.post(f"{BASE}/units/ln-01/return", data={
        "reason": "Kiểm tra tổng số năm 2020", "table": "II.1.5|xa_tong", "row": "2020"})
    assert response.status_code == 302
    with in_app() as session:
        note = session.scalars(select(ReturnNote).where(ReturnNote.unit_id == unit_id("ln-01"))).one()
        assert (note.table_code, note.row_key, note.col_key) == ("II.1.5", "2020", "xa_tong")
    # the unit's page and its change log say where and what in words, not keys and state codes
    page = compiler.get(f"{BASE}/units/ln-01").get_data(as_text=True)
    place = "Biểu II.1.5 · Năm 2020 · Công chức cấp xã › Tổng số"
    assert f"{place}</a>: Kiểm tra tổng số năm 2020" in page
    log = compiler.get(f"{BASE}/changes", query_string={"unit": "ln-01"}).get_data(as_text=True)
    assert '<td class="old">Đã nộp</td>' in log and '<td class="old">submitted</td>' not in log
    clerk = login(app.test_client(), "ln-01")
    assert f"{place}</a>: Kiểm tra tổng số năm 2020" in clerk.get("/").get_data(as_text=True)
    response = compiler.post(f"{BASE}/units/ln-10/return", data={"reason": "x", "table": "II.1.5|nope"},
                             follow_redirects=True)
    assert "Không có cột này trong bảng." in response.get_data(as_text=True)
    assert part("ln-10").status == "submitted"  # a column the table has not: nothing returned


def test_a_return_needs_a_reason_and_a_real_place(app, compiler):
    compiler.post(f"{BASE}/units/ln-01/return", data={"reason": "  "})
    compiler.post(f"{BASE}/units/ln-01/return", data={"reason": "x", "table": "II.1.5", "row": "1999"})
    compiler.post(f"{BASE}/units/ln-01/return", data={"reason": "x", "table": "II.9"})
    assert part("ln-01").status == "submitted" and events("return") == 1  # the demo's only


def test_accept_reopen_and_decide_several_at_once(app, compiler):
    assert compiler.post(f"{BASE}/units/ln-01/accept").status_code == 302
    assert part("ln-01").status == "accepted"
    # accepted: locked even for the compiler's corrections until reopened
    assert locked(save_cell(compiler, "II.1.5", "2019", "xa_tong", "31", unit="ln-01"), "Mở lại để sửa")
    compiler.post(f"{BASE}/units/ln-01/reopen")
    assert part("ln-01").status == "submitted"
    response = compiler.post(f"{BASE}/decide", data={"action": "accept", "units": ["ln-01", "ln-10", "ln-16"]},
                             follow_redirects=True)
    assert "Đã duyệt 2 đơn vị. Bỏ qua 1 đơn vị chưa nộp: Xã Lộc Khánh." in response.get_data(as_text=True)
    assert [part(c).status for c in ("ln-01", "ln-10", "ln-16")] == ["accepted", "accepted", "open"]
    compiler.post(f"{BASE}/decide", data={"action": "return", "reason": "Thiếu chữ ký", "units": ["ln-01", "ln-03"]})
    assert [part(c).status for c in ("ln-01", "ln-03")] == ["open", "open"]
    assert part("ln-03").return_reason == "Thiếu chữ ký"


def test_only_the_compiler_decides(app, clerk, admin):
    for client in (clerk, admin):
        assert client.post(f"{BASE}/units/ln-01/accept").status_code == 403
        assert client.post(f"{BASE}/units/ln-01/return", data={"reason": "x"}).status_code == 403
        assert client.post(f"{BASE}/status", data={"status": "closed"}).status_code == 403
    assert part("ln-01").status == "submitted"


def test_after_the_deadline_entry_closes_unless_the_unit_is_given_more_time(app, clerk, compiler):
    deadline = set_deadline(-1)
    response = save_cell(clerk, "II.1.5", "2019", "xa_tong", "33")
    assert locked(response, f"Đã quá hạn nộp ({deadline:%d/%m/%Y})")
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num != 33
    page = clerk.get(f"{BASE}/tables/II.1.5").get_data(as_text=True)
    assert f"Đã quá hạn nộp ({deadline:%d/%m/%Y})" in page
    # the compiler grants two more days: entry reopens for that unit only
    until = campaign_today() + dt.timedelta(days=2)
    compiler.post(f"{BASE}/units/ln-02/extend", data={"until": until.isoformat()})
    assert part("ln-02").extended_until == until
    assert save_cell(clerk, "II.1.5", "2019", "xa_tong", "33").status_code == 200
    other = login(app.test_client(), "ln-11")
    assert locked(save_cell(other, "II.1.5", "2019", "xa_tong", "33"), "Đã quá hạn nộp")
    # a submission after the deadline is marked late, on the unit's page and the dashboard
    clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"})
    assert part("ln-02").submitted_late
    assert "nộp muộn" in compiler.get(f"{BASE}/units/ln-02").get_data(as_text=True)
    # an extension must lie after the deadline and not in the past
    compiler.post(f"{BASE}/units/ln-11/extend", data={"until": (campaign_today() - dt.timedelta(days=3)).isoformat()})
    assert part("ln-11").extended_until is None


def test_closing_the_campaign_stops_entry_submission_and_decisions(app, clerk, compiler):
    compiler.post(f"{BASE}/status", data={"status": "closed"})
    assert locked(save_cell(clerk, "II.1.5", "2019", "xa_tong", "33"), "Đợt báo cáo đã kết thúc")
    clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"})
    compiler.post(f"{BASE}/units/ln-01/accept")
    assert (part("ln-02").status, part("ln-01").status) == ("open", "submitted")
    assert "Đợt báo cáo đã kết thúc" in clerk.get("/").get_data(as_text=True)
    compiler.post(f"{BASE}/status", data={"status": "open"})
    assert save_cell(clerk, "II.1.5", "2019", "xa_tong", "33").status_code == 200


def test_a_request_without_an_address_is_not_taken_for_the_command_line(app, clerk):
    """Behind a unix socket the server is told no client address: the change is the clerk's in the
    browser, not an anonymous command-line one."""
    response = post_as_page(clerk, f"{BASE}/tables/II.1.5/cells/2019/xa_tong", data={"value": "77"},
                          environ_overrides={"REMOTE_ADDR": ""})
    assert response.status_code == 200
    with in_app() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.new, event.via, event.ip) == ("77", "web", None) and event.user.username == "ln-02"


# --- no lost update -------------------------------------------------------------------------------

def version_on_page(client, table, row, col, **query) -> int:
    html = client.get(f"{BASE}/tables/{table}", query_string=query).get_data(as_text=True)
    return int(re.search(rf'name="v:{row}:{col}" value="(\d+)"', html).group(1))


def test_the_second_of_two_changes_to_one_cell_is_told_and_overwrites_nothing(app):
    first, second = login(app.test_client(), "ln-02"), login(app.test_client(), "ln-02")
    seen_first = version_on_page(first, "II.1.5", "2019", "xa_tong")
    seen_second = version_on_page(second, "II.1.5", "2019", "xa_tong")
    assert seen_first == seen_second
    assert save_cell(first, "II.1.5", "2019", "xa_tong", "41", seen_first).status_code == 200
    response = save_cell(second, "II.1.5", "2019", "xa_tong", "42", seen_second)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "vừa được người khác sửa thành «41»" in html and "Bạn đã nhập: «42»" in html
    assert 'value="41"' in html  # the current value is what the cell now shows
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 41
    # with the version the answer brought back, the second person's deliberate change goes through
    fresh = int(re.search(r'name="v:2019:xa_tong" value="(\d+)"', html).group(1))
    assert save_cell(second, "II.1.5", "2019", "xa_tong", "42", fresh).status_code == 200
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 42


def test_a_stale_whole_table_save_refuses_the_changed_cell(app):
    first, second = login(app.test_client(), "ln-02"), login(app.test_client(), "ln-02")
    seen = version_on_page(second, "II.1.5", "2020", "xa_tong")
    assert save_cell(first, "II.1.5", "2020", "xa_tong", "50", seen).status_code == 200
    response = second.post(f"{BASE}/tables/II.1.5", data={"cell:2020:xa_tong": "51", "v:2020:xa_tong": str(seen)})
    assert response.status_code == 422 and "vừa được người khác sửa thành «50»" in response.get_data(as_text=True)
    assert stored("ln-02", "II.1.5", "2020", "xa_tong").num == 50


def form_fields(html: str) -> dict[str, str]:
    """What the page's form sends without JavaScript: every named input with its value (the table
    pages' inputs and hidden versions; II.1.5 has no drop-downs)."""
    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", html):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and name.group(1).startswith(("cell:", "v:")):
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def test_saving_again_after_a_stale_whole_table_save_does_not_revert_the_other_change(app):
    """Without JavaScript the refused form is drawn again: the changed cell must come back with the
    value now stored (and its new version), or pressing Lưu again would put the old value back."""
    first, second = login(app.test_client(), "ln-02"), login(app.test_client(), "ln-02")
    html = second.get(f"{BASE}/tables/II.1.5").get_data(as_text=True)
    form = form_fields(html)  # the whole page, as it stands in the second browser
    assert save_cell(first, "II.1.5", "2019", "xa_tong", "30", int(form["v:2019:xa_tong"])).status_code == 200
    form["cell:2021:xa_tong"] = "44"  # the second person changes another cell only
    refused = second.post(f"{BASE}/tables/II.1.5", data=form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "vừa được người khác sửa thành «30»" in page
    again = form_fields(page)
    assert again["cell:2019:xa_tong"] == "30" and again["cell:2021:xa_tong"] == "44"  # theirs, and mine kept
    assert second.post(f"{BASE}/tables/II.1.5", data=again).status_code == 302
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 30  # not reverted
    assert stored("ln-02", "II.1.5", "2021", "xa_tong").num == 44


def test_a_typing_mistake_in_a_stale_cell_still_reports_the_change_under_it(app):
    """A cell changed meanwhile and mistyped must come back as a conflict showing the stored value,
    not as a typing error carrying the new version (the corrected save would then overwrite)."""
    first, second = login(app.test_client(), "ln-02"), login(app.test_client(), "ln-02")
    form = form_fields(second.get(f"{BASE}/tables/II.1.5").get_data(as_text=True))
    assert save_cell(first, "II.1.5", "2019", "xa_tong", "30", int(form["v:2019:xa_tong"])).status_code == 200
    form["cell:2019:xa_tong"] = "abc"
    refused = second.post(f"{BASE}/tables/II.1.5", data=form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "vừa được người khác sửa thành «30»" in page and "Bạn đã nhập: «abc»" in page
    again = form_fields(page)
    assert again["cell:2019:xa_tong"] == "30"
    again["cell:2019:xa_tong"] = "500"  # the person corrects their mistake, now seeing 30: deliberate
    assert second.post(f"{BASE}/tables/II.1.5", data=again).status_code == 302
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 500
    # and a stale page whose mistake is corrected without seeing the new value is refused again
    assert save_cell(first, "II.1.5", "2019", "xa_tong", "31", int(again["v:2019:xa_tong"]) + 1).status_code == 200
    form["cell:2019:xa_tong"] = "500"
    assert second.post(f"{BASE}/tables/II.1.5", data=form).status_code == 422
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 31


DOCUMENT = {"the_loai": "Kế hoạch", "ngay_ban_hanh": "01/03/2020", "co_quan": "Đảng ủy"}


def add_document(client, so_hieu: str, trich_yeu: str = "A") -> tuple[int, int, dict[str, str]]:
    """Add a document to ln-02's table I: its id, its version, and its fields but the summary
    (trich_yeu) as an edit posts them."""
    assert client.post(f"{BASE}/tables/I/rows", data={f"new:{k}": v for k, v in
                                                     {**DOCUMENT, "so_hieu": so_hieu, "trich_yeu": trich_yeu}.items()}
                       ).status_code == 302
    with in_app() as session:
        from webapp.models import ListRow
        row = session.scalars(select(ListRow).where(ListRow.unit_id == unit_id("ln-02"))
                              .order_by(ListRow.id.desc())).first()
        fields = {f"row:{row.id}:{k}": v for k, v in {**DOCUMENT, "so_hieu": so_hieu}.items()}
        return row.id, row.version, fields


def test_a_stale_list_row_delete_is_refused(app):
    clerk, other = login(app.test_client(), "ln-02"), login(app.test_client(), "ln-02")
    row_id, version, fields = add_document(clerk, "2-KH")
    edited = other.post(f"{BASE}/tables/I/rows/{row_id}", headers=htmx_headers(f"row:{row_id}:trich_yeu"),
                        data={**fields, f"row:{row_id}:trich_yeu": "Sửa lại", f"v:row:{row_id}": str(version)})
    assert edited.status_code == 200
    for headers in (htmx_headers(f"row:{row_id}"), {}):  # with htmx and without
        stale = clerk.post(f"{BASE}/tables/I/rows/{row_id}/delete", data={f"v:row:{row_id}": str(version)},
                           headers=headers, follow_redirects=True)
        assert stale.status_code in (200, 409)
        assert "Chưa xóa: Văn bản này vừa được người khác sửa" in stale.get_data(as_text=True)
    with in_app() as session:
        from webapp.models import ListRow
        assert session.get(ListRow, row_id).data["trich_yeu"] == "Sửa lại"  # still there, corrected
    fresh = clerk.post(f"{BASE}/tables/I/rows/{row_id}/delete", data={f"v:row:{row_id}": str(version + 1)})
    assert fresh.status_code == 302
    with in_app() as session:
        from webapp.models import ListRow
        assert session.get(ListRow, row_id) is None


def test_a_stale_list_page_saved_without_javascript_keeps_the_other_change_and_what_was_typed(app):
    clerk, other = login(app.test_client(), "ln-02"), login(app.test_client(), "ln-02")
    (first, version, fields), (second, _, _) = add_document(clerk, "4-KH"), add_document(clerk, "5-KH")
    html = clerk.get(f"{BASE}/tables/I").get_data(as_text=True)
    form = {}
    for tag in re.findall(r"<input\b[^>]*>|<select\b[^>]*>.*?</select>", html, flags=re.S):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or not name.group(1).startswith(("row:", "v:row:")):
            continue
        value = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)', tag) if tag.startswith("<select") \
            else re.search(r'value="([^"]*)"', tag)
        form[name.group(1)] = (value.group(1) or value.group(2)) if tag.startswith("<select") else (value.group(1) if value else "")
    # someone else corrects the first document; the stale page changes both
    assert other.post(f"{BASE}/tables/I/rows/{first}", headers=htmx_headers(f"row:{first}:trich_yeu"),
                      data={**fields, f"row:{first}:trich_yeu": "Của người khác",
                            f"v:row:{first}": str(version)}).status_code == 200
    form[f"row:{first}:trich_yeu"] = "Cũ của tôi"
    form[f"row:{second}:trich_yeu"] = "Mới của tôi"
    refused = clerk.post(f"{BASE}/tables/I", data=form)
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Văn bản này vừa được người khác sửa thành" in page and "Của người khác" in page
    assert 'value="Mới của tôi"' in page and 'value="Cũ của tôi"' not in page  # mine kept, theirs shown
    with in_app() as session:
        from webapp.models import ListRow
        assert session.get(ListRow, first).data["trich_yeu"] == "Của người khác"
        assert session.get(ListRow, second).data["trich_yeu"] == "A"  # all or nothing


def test_a_document_removed_while_another_save_waits_is_a_message_not_an_error(app, clerk):
    """The part's rows are read before its write lock is taken: a row removed in between must be
    refused with a message, not crash on re-reading it."""
    from webapp.entry.service import ROW_GONE, UnitList
    from webapp.workflow import Refused

    add_document(clerk, "3-KH")
    with in_app() as session:
        campaign = session.scalar(select(Campaign))
        from webapp.models import ListRow, Unit
        unit = session.scalar(select(Unit).where(Unit.code == "ln-02"))
        for action in ("update", "delete"):
            part = UnitList(session, campaign, unit, campaign.outline.table("I"))
            row = part.rows[-1]
            data = dict(row.data)
            with in_app() as other:  # someone else removes it meanwhile
                other.delete(other.get(ListRow, row.id))
                other.commit()
            with pytest.raises(Refused, match=re.escape(ROW_GONE)):
                if action == "update":
                    part.update(row, {**data, "trich_yeu": "B"}, None, via="web")
                else:
                    part.delete(row, None, via="web")
            session.rollback()
            # put a row back for the second round
            session.add(ListRow(campaign_id=campaign.id, unit_id=unit.id, table_code="I", data=data))
            session.commit()


def test_a_stale_list_row_edit_is_refused(app):
    clerk = login(app.test_client(), "ln-02")
    row_id, version, fields = add_document(clerk, "1-KH")
    url = f"{BASE}/tables/I/rows/{row_id}"
    ok = clerk.post(url, data={**fields, f"row:{row_id}:trich_yeu": "B", f"v:row:{row_id}": str(version)},
                    headers=htmx_headers(f"row:{row_id}:trich_yeu"))
    assert ok.status_code == 200
    stale = clerk.post(url, data={**fields, f"row:{row_id}:trich_yeu": "C", f"v:row:{row_id}": str(version)},
                       headers=htmx_headers(f"row:{row_id}:trich_yeu"))
    assert stale.status_code == 409 and "vừa được người khác sửa" in stale.get_data(as_text=True)
    with in_app() as session:
        from webapp.models import ListRow
        assert session.get(ListRow, row_id).data["trich_yeu"] == "B"


def test_a_change_posted_without_its_version_is_a_conflict(app):
    """A request that leaves out the version it was drawn with cannot skip the lost-update check:
    a stale value would overwrite a newer one, a stale removal would remove a corrected document."""
    clerk, other = login(app.test_client(), "ln-02"), login(app.test_client(), "ln-02")
    seen = version_on_page(other, "II.1.5", "2019", "xa_tong")
    assert save_cell(other, "II.1.5", "2019", "xa_tong", "41", seen).status_code == 200
    assert save_cell(clerk, "II.1.5", "2019", "xa_tong", "42", version="").status_code == 409  # no version
    whole = clerk.post(f"{BASE}/tables/II.1.5", data={"cell:2019:xa_tong": "43"})
    assert whole.status_code == 422 and "vừa được người khác sửa thành «41»" in whole.get_data(as_text=True)
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 41
    # retrying with no version what is stored already changes nothing and is no conflict
    assert save_cell(clerk, "II.1.5", "2019", "xa_tong", "41", version="").status_code == 200

    row_id, version, fields = add_document(clerk, "3-KH")
    edit = clerk.post(f"{BASE}/tables/I/rows/{row_id}", headers=htmx_headers(f"row:{row_id}:trich_yeu"),
                      data={**fields, f"row:{row_id}:trich_yeu": "Không có phiên bản"})
    assert edit.status_code == 409
    page = clerk.post(f"{BASE}/tables/I", data={**fields, f"row:{row_id}:trich_yeu": "Cũng không"})
    assert page.status_code == 409
    for headers in (htmx_headers(f"row:{row_id}"), {}):
        removal = clerk.post(f"{BASE}/tables/I/rows/{row_id}/delete", headers=headers, follow_redirects=True)
        assert "Chưa xóa: Văn bản này vừa được người khác sửa" in removal.get_data(as_text=True)
    with in_app() as session:
        from webapp.models import ListRow
        row = session.get(ListRow, row_id)
        assert row is not None and row.version == version and row.data["trich_yeu"] == "A"


# --- the audit trail ------------------------------------------------------------------------------

def test_every_change_is_recorded_once_and_never_edited(app, compiler, tmp_path):
    clerk = login(app.test_client(), "ln-02")
    before = events()
    with in_app() as session:
        before_id = session.scalar(select(func.max(AuditEvent.id)))
    expected = 0
    for value in ("60", "61", "61", "62"):  # the repeated value changes nothing: no event
        assert save_cell(clerk, "II.1.5", "2021", "xa_tong", value).status_code == 200
    expected += 3
    assert save_cell(clerk, "II.1.5", "2021", "xa_tong", "-1").status_code == 422  # refused: no event
    post_as_page(clerk, f"{BASE}/tables/II.1.5", data={"cell:2022:xa_tong": "70", "cell:2023:xa_tong": "71"})
    expected += 2
    # an import that changes two values
    from openpyxl import load_workbook
    import io
    from webapp.domain.layout import build_layout
    from webapp.domain.outline import shipped_outline
    wb = load_workbook(io.BytesIO(clerk.get(f"{BASE}/template.xlsx").data))
    layout = build_layout(shipped_outline("kl49").table("II.1.5"), list(range(2019, 2024)))
    wb["II.1.5"][layout.find("2019", "xa_tong").address] = 80
    wb["II.1.5"][layout.find("2020", "xa_tong").address] = 81
    path = tmp_path / "t.xlsx"
    wb.save(path)
    with open(path, "rb") as fh:
        assert clerk.post(f"{BASE}/import", data={"workbook": (fh, "t.xlsx")},
                          content_type="multipart/form-data").status_code == 302
    expected += 2
    clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"})
    expected += 1
    assert save_cell(compiler, "II.1.5", "2019", "xa_tong", "82", unit="ln-02").status_code == 200
    expected += 1
    compiler.post(f"{BASE}/units/ln-02/accept")
    compiler.post(f"{BASE}/units/ln-02/reopen")
    compiler.post(f"{BASE}/units/ln-02/return", data={"reason": "Kiểm tra lại"})
    expected += 3
    # table I: a document added, corrected and removed (the part is open again after the return)
    assert clerk.post(f"{BASE}/tables/I/rows", data={
        "new:the_loai": "Kế hoạch", "new:so_hieu": "9-KH", "new:ngay_ban_hanh": "01/02/2020",
        "new:trich_yeu": "A", "new:co_quan": "Đảng ủy"}).status_code == 302
    with in_app() as session:
        from webapp.models import ListRow
        row_id = session.scalars(select(ListRow.id).where(ListRow.unit_id == unit_id("ln-02"))
                                 .order_by(ListRow.id.desc())).first()
    fields = {f"row:{row_id}:{k}": v for k, v in (("the_loai", "Kế hoạch"), ("so_hieu", "9-KH"),
                                                  ("ngay_ban_hanh", "01/02/2020"), ("co_quan", "Đảng ủy"))}
    assert post_as_page(clerk, f"{BASE}/tables/I/rows/{row_id}", data={**fields, f"row:{row_id}:trich_yeu": "B"}).status_code == 302
    history = clerk.get(f"{BASE}/tables/I/history", query_string={"row": row_id})
    assert history.status_code == 200
    page = history.get_data(as_text=True)
    assert f"Lịch sử văn bản: Biểu I · văn bản mã {row_id}" in page
    assert page.count("<tr>") - 1 == 2 and "Thêm văn bản" in page and "Sửa văn bản" in page  # newest first
    assert f'href="/campaigns/kl49-2024/tables/I/history?row={row_id}"' in clerk.get(f"{BASE}/tables/I").get_data(as_text=True)
    assert post_as_page(clerk, f"{BASE}/tables/I/rows/{row_id}/delete").status_code == 302
    expected += 3
    # SQLite may give the next document the removed one's id: its history starts with its own addition
    assert clerk.post(f"{BASE}/tables/I/rows", data={
        "new:the_loai": "Nghị quyết", "new:so_hieu": "10-NQ", "new:ngay_ban_hanh": "03/04/2021",
        "new:trich_yeu": "C", "new:co_quan": "Đảng ủy"}).status_code == 302
    expected += 1
    with in_app() as session:
        new_id = session.scalars(select(ListRow.id).where(ListRow.unit_id == unit_id("ln-02"))
                                 .order_by(ListRow.id.desc())).first()
    page = clerk.get(f"{BASE}/tables/I/history", query_string={"row": new_id}).get_data(as_text=True)
    assert page.count("<tr>") - 1 == 1 and "10-NQ" in page and "9-KH" not in page
    assert clerk.get(f"{BASE}/tables/I/history", query_string={"row": "²"}).status_code == 404
    # an extension, closing and reopening the campaign
    compiler.post(f"{BASE}/units/ln-02/extend", data={"until": (campaign_today() + dt.timedelta(days=30)).isoformat()})
    compiler.post(f"{BASE}/status", data={"status": "closed"})
    compiler.post(f"{BASE}/status", data={"status": "open"})
    expected += 3
    assert events() - before == expected
    with in_app() as session:  # each recorded from where it came: the test client's address
        origins = set(session.scalars(select(AuditEvent.ip).where(AuditEvent.id > before_id)))
    assert origins == {"127.0.0.1"}
    with in_app() as session:
        cell = session.scalars(select(AuditEvent).where(
            AuditEvent.unit_id == unit_id("ln-02"), AuditEvent.row_key == "2019", AuditEvent.col_key == "xa_tong")
            .order_by(AuditEvent.id)).all()
        assert [(e.via, e.old, e.new) for e in cell[-2:]] == [("upload", cell[-2].old, "80"), ("compiler", "80", "82")]
        # append-only: the database refuses to change or remove an event
        for statement in ("UPDATE audit_event SET new = 'x' WHERE id = :id", "DELETE FROM audit_event WHERE id = :id"):
            with pytest.raises(DBAPIError, match="never changed or removed"):
                session.execute(text(statement), {"id": cell[-1].id})
            session.rollback()
    # the history of that cell, as the clerk and the compiler see it
    history = clerk.get(f"{BASE}/tables/II.1.5/history", query_string={"row": "2019", "col": "xa_tong"})
    html = history.get_data(as_text=True)
    assert history.status_code == 200 and "bộ phận tổng hợp sửa" in html and "nộp tệp Excel" in html
    assert login(app.test_client(), "ln-03").get(f"{BASE}/tables/II.1.5/history", query_string={
        "unit": "ln-02", "row": "2019", "col": "xa_tong"}).status_code == 403
    log = compiler.get(f"{BASE}/changes", query_string={"unit": "ln-02"}).get_data(as_text=True)
    assert log.count("<tr>") >= expected and "Trả lại" in log and "Kiểm tra lại" in log
