"""Entering a unit's cells in the browser: one-cell saves, plain POSTs, refusals, ownership, roles."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conftest import in_app, login, post_as_page, stored, unit_id
from webapp.models import AuditEvent, Campaign, CellValue, ListRow

URL = "/campaigns/kl49-2024/tables/{}"


def count(model) -> int:
    with in_app() as session:
        return session.scalar(select(func.count()).select_from(model))


def save_cell(client, table, row, col, value, **query):
    """One cell as the page's script saves it (entry.save_cell; see test_cell_save.py)."""
    return post_as_page(client, URL.format(table) + f"/cells/{row}/{col}", data={"value": value}, query_string=query)


# --- saving one cell (the page's script) --------------------------------------------------------

def test_a_cell_save_stores_the_value_and_returns_the_cell_with_its_rate(clerk):
    # Lộc Thành (ln-11) filled 2019-2021 only; ln-02 has every row: use ln-02's 2019 row.
    response = save_cell(clerk, "II.1.5", "2019", "xa_tong", "40")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<td id="td-2019-xa_tong"') and "<html" not in html
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 40
    trained = stored("ln-02", "II.1.5", "2019", "xa_dt").num
    expected = f"{trained * 100 / 40:.2f}".replace(".", ",")
    assert f'<span class="value">{expected}</span>' in html
    with in_app() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.table_code, event.row_key, event.col_key, event.new) == (
        "cell", "II.1.5", "2019", "xa_tong", "40")


def test_vietnamese_thousands_are_read_and_shown(clerk):
    response = save_cell(clerk, "II.1.3", "2020", "d60_tong", "12.345")
    assert response.status_code == 200
    assert stored("ln-02", "II.1.3", "2020", "d60_tong").num == 12345
    assert 'value="12.345"' in response.get_data(as_text=True)


def test_yes_no_saved_as_one_and_zero(clerk):
    assert save_cell(clerk, "II.1.1", "2023", "xa_dat", "Không").status_code == 200
    assert stored("ln-02", "II.1.1", "2023", "xa_dat").num == 0
    html = save_cell(clerk, "II.1.1", "2023", "xa_dat", "Có").get_data(as_text=True)
    assert stored("ln-02", "II.1.1", "2023", "xa_dat").num == 1
    assert '<span class="value">100,00</span>' in html  # 1 of 1 commune


def test_clearing_a_cell(clerk):
    assert save_cell(clerk, "II.1.5", "2020", "xa_dt", "").status_code == 200
    value = stored("ln-02", "II.1.5", "2020", "xa_dt")
    assert value.num is None and value.text is None


@pytest.mark.parametrize("table, row, col, value, message", [
    ("II.1.5", "2019", "xa_tong", "-5", "Không được là số âm"),
    ("II.1.5", "2019", "xa_tong", "12,5", "Phải là số nguyên (không có phần thập phân)"),
    ("II.1.5", "2019", "xa_tong", "hai mươi", "Phải là một số nguyên không âm"),
    ("II.1.5", "2019", "xa_dt", "999", "không được lớn hơn tổng số"),
    ("II.1.5", "2019", "xa_tong", "1", "không được lớn hơn tổng số"),  # total below its "of which"
    ("II.1.3", "2021", "d35_dtts", "100000", "không được lớn hơn số người từ 15 đến 35 tuổi"),
    ("II.1.1", "2019", "xa_dat", "Có thể", "Chỉ nhận “Có” hoặc “Không”"),
])
def test_invalid_values_are_refused_kept_and_explained(clerk, table, row, col, value, message):
    before = stored("ln-02", table, row, col)
    before_value, before_version = before.num, before.version
    events = count(AuditEvent)
    response = save_cell(clerk, table, row, col, value)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html
    assert f'value="{value}"' in html or f'value="{value}" selected' in html  # what was typed is kept
    after = stored("ln-02", table, row, col)
    assert (after.num, after.version) == (before_value, before_version)
    assert count(AuditEvent) == events


def test_soft_warning_is_stored_and_flagged(clerk):
    mu_chu = stored("ln-02", "II.1.3", "2019", "mu_chu").num
    response = save_cell(clerk, "II.1.3", "2019", "huy_dong", str(mu_chu + 5))
    assert response.status_code == 200
    assert stored("ln-02", "II.1.3", "2019", "huy_dong").num == mu_chu + 5
    assert 'class="msg warning"' in response.get_data(as_text=True)


# --- plain POST (no JavaScript) -----------------------------------------------------------------

def test_plain_post_saves_the_whole_form(clerk):
    response = post_as_page(clerk, URL.format("II.1.5"), data={"cell:2019:xa_tong": "30", "cell:2019:xa_dt": "25",
                                                      "cell:2020:xa_tong": "31"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/tables/II.1.5")
    assert stored("ln-02", "II.1.5", "2019", "xa_dt").num == 25
    assert stored("ln-02", "II.1.5", "2020", "xa_tong").num == 31


def test_plain_post_checks_a_row_with_its_new_values_together(clerk):
    # raising the total and the trained count in one POST is valid even if either alone is not
    response = post_as_page(clerk, URL.format("II.1.5"), data={"cell:2021:xa_tong": "500", "cell:2021:xa_dt": "400"})
    assert response.status_code == 302
    assert stored("ln-02", "II.1.5", "2021", "xa_dt").num == 400


def test_plain_post_with_one_bad_value_stores_nothing(clerk):
    before = stored("ln-02", "II.1.5", "2019", "xa_tong").num
    events = count(AuditEvent)
    response = post_as_page(clerk, URL.format("II.1.5"), data={"cell:2019:xa_tong": "77", "cell:2020:xa_tong": "-1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" in html and "Không được là số âm" in html and 'value="77"' in html
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == before
    assert count(AuditEvent) == events


# --- ownership ----------------------------------------------------------------------------------

@pytest.mark.parametrize("table, row, col, one_cell", [
    ("II.1.1", "2019", "huyen_dat", 403),   # the district's group
    ("II.1.1", "2019", "xa_tyle", 403),     # a derived rate
    ("II.1.1", "2019", "xa_tong", 403),     # the fixed "Tổng số xã"
    ("II.1.8", "2019", "cn_tong", 403),     # a table of the labour confederation
    ("II.1.5", "2030", "xa_tong", 404),     # a row outside the campaign's years (no such cell to save)
])
def test_a_clerk_cannot_write_a_cell_the_unit_does_not_own(clerk, table, row, col, one_cell):
    cells = count(CellValue)
    assert save_cell(clerk, table, row, col, "1").status_code == one_cell
    assert clerk.post(URL.format(table), data={f"cell:{row}:{col}": "1"}).status_code == 403
    assert count(CellValue) == cells


def test_a_clerk_cannot_write_another_units_cells(clerk):
    before = stored("ln-03", "II.1.5", "2019", "xa_tong").num
    assert save_cell(clerk, "II.1.5", "2019", "xa_tong", "99", unit="ln-03").status_code == 403
    assert clerk.post(URL.format("II.1.5") + "?unit=ln-03", data={"cell:2019:xa_tong": "99"}).status_code == 403
    assert stored("ln-03", "II.1.5", "2019", "xa_tong").num == before
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num != 99


def test_a_clerk_sees_only_their_own_unit(clerk):
    assert clerk.get(URL.format("II.1.5") + "?unit=ln-03").status_code == 403
    assert clerk.get("/campaigns/kl49-2024/dashboard").status_code == 403
    assert clerk.get("/admin/units").status_code == 403


def test_the_compiler_reads_and_corrects_a_unit_only_on_purpose(compiler, admin):
    page = compiler.get(URL.format("II.1.5") + "?unit=ln-03")
    assert page.status_code == 200 and "<input" not in page.get_data(as_text=True).split("<table", 1)[1]
    # ln-01 has submitted (locked for its clerk); ln-03's part is accepted (locked for everyone)
    page = compiler.get(URL.format("II.1.5") + "?unit=ln-01&sua=1").get_data(as_text=True)
    assert 'name="cell:2019:xa_tong"' in page and "Bạn đang sửa số liệu thay cho Thị trấn Lộc Ninh" in page
    assert save_cell(compiler, "II.1.5", "2019", "xa_tong", "300", unit="ln-01").status_code == 200
    assert stored("ln-01", "II.1.5", "2019", "xa_tong").num == 300
    with in_app() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.via, event.user.username, event.unit.code, event.new) == ("compiler", "ln-btg", "ln-01", "300")
    page = compiler.get(URL.format("II.1.5") + "?unit=ln-03&sua=1").get_data(as_text=True)
    assert 'name="cell:2019:xa_tong"' not in page and "mở lại (Mở lại để sửa)" in page
    # administrators manage accounts, they do not enter figures
    assert save_cell(admin, "II.1.5", "2019", "xa_tong", "301", unit="ln-01").status_code == 403
    assert stored("ln-01", "II.1.5", "2019", "xa_tong").num == 300


def test_district_clerk_fills_the_district_group(district_clerk):
    response = save_cell(district_clerk, "II.1.1", "2019", "huyen_dat", "Có")
    assert response.status_code == 200
    assert stored("ln-ubnd", "II.1.1", "2019", "huyen_dat").num == 1
    assert save_cell(district_clerk, "II.1.1", "2019", "xa_dat", "Có").status_code == 403


# --- pages and fragments ------------------------------------------------------------------------

TABLES = ["I", "II.1.1", "II.1.2", "II.1.3", "II.1.4", "II.1.5", "II.1.6", "II.1.7", "II.1.8", "III"]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ["/", URL.format("II.1.1"), "/campaigns/kl49-2024/dashboard", "/admin/units"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert post_as_page(client, URL.format("II.1.1"), data={"cell:2019:xa_dat": "Có"}).status_code == 302


def test_every_page_renders_for_every_role_that_may_see_it(app):
    clerk = login(app.test_client(), "ln-02")
    home = clerk.get("/").get_data(as_text=True)
    assert "Xã Lộc Hòa" in home and "Sơ kết 5 năm thực hiện Kết luận số 49-KL/TW" in home
    for code in TABLES:
        response = clerk.get(URL.format(code))
        assert response.status_code == 200, code
        assert "<html" in response.get_data(as_text=True)
    for username in ("ln-btg", "admin"):
        staff = login(app.test_client(), username)
        assert staff.get("/").status_code == 200
        assert staff.get("/campaigns/kl49-2024/dashboard").status_code == 200
        assert staff.get("/admin/units").status_code == 200
        for code in TABLES:
            assert staff.get(URL.format(code) + "?unit=ln-ubnd").status_code == 200, (username, code)
        assert staff.get(URL.format("II.1.1")).status_code == 404  # a staff member must name the unit
    for username in ("ln-ubnd", "ln-ldld", "ln-hkh", "ln-mttq", "ln-16"):
        other = login(app.test_client(), username)
        assert other.get("/").status_code == 200
        for code in TABLES:
            assert other.get(URL.format(code)).status_code == 200, (username, code)


def test_home_shows_deadline_days_left_and_progress(app):
    from webapp.templating import local_today

    with in_app() as session:
        session.scalar(select(Campaign)).deadline = local_today()
        session.commit()
    html = login(app.test_client(), "ln-11").get("/").get_data(as_text=True)
    assert "hôm nay là hạn cuối" in html
    # ln-11 (Lộc Thành) filled 1.5 for 2019-2021 only: 6 of its 10 cells
    assert "6/10 ô" in html
    untouched = login(app.test_client(), "ln-16").get("/").get_data(as_text=True)
    assert "0/65 ô" in untouched and "0 văn bản" in untouched


def test_table_page_shows_the_printed_layout_with_only_own_cells_as_inputs(clerk):
    html = clerk.get(URL.format("II.1.1")).get_data(as_text=True)
    assert html.count('colspan="3"') >= 2 and "Số xã Đạt mức độ 2" in html and "Năm 2023" in html
    assert 'name="cell:2019:xa_dat"' in html and 'name="cell:2019:huyen_dat"' not in html
    assert 'name="cell:2019:xa_tong"' not in html and 'name="cell:2019:xa_tyle"' not in html


def test_unknown_campaign_or_table_is_404(clerk):
    assert clerk.get("/campaigns/nope/tables/I").status_code == 404
    assert clerk.get(URL.format("IX")).status_code == 404


# --- the list table (I) -------------------------------------------------------------------------

def new_row(**values):
    data = {"new:the_loai": "Nghị quyết", "new:so_hieu": "07-NQ/ĐU", "new:ngay_ban_hanh": "12/06/2019",
            "new:trich_yeu": "Về công tác khuyến học", "new:co_quan": "Đảng ủy xã Lộc Hòa"}
    data.update({f"new:{k}": v for k, v in values.items()})
    return data


def list_rows(unit_code):
    uid = unit_id(unit_code)
    with in_app() as session:
        return list(session.scalars(select(ListRow).where(ListRow.unit_id == uid, ListRow.table_code == "I")))


def test_list_rows_are_added_edited_and_removed_in_place(clerk):
    response = clerk.post(URL.format("I") + "/rows", data=new_row(), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    (row,) = list_rows("ln-02")
    # only the new document's row comes back: the page's script puts it where the typed row waits
    assert html.lstrip().startswith(f'<tr id="lrow-{row.id}"') and html.count("<tr") == 1 and "07-NQ/ĐU" in html
    assert f'name="v:row:{row.id}" value="{row.version}"' in html
    assert row.data["ngay_ban_hanh"] == "2019-06-12" and row.data["the_loai"] == "Nghị quyết"

    edit = {f"row:{row.id}:{k}": v for k, v in {
        "the_loai": "Kế hoạch", "so_hieu": "07-KH/ĐU", "ngay_ban_hanh": "13/06/2019",
        "trich_yeu": "Về công tác khuyến học", "co_quan": "Đảng ủy xã Lộc Hòa"}.items()}
    response = post_as_page(clerk, URL.format("I") + f"/rows/{row.id}", data=edit, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.get_data(as_text=True).lstrip().startswith(f'<tr id="lrow-{row.id}"')
    assert list_rows("ln-02")[0].data["so_hieu"] == "07-KH/ĐU"

    response = post_as_page(clerk, URL.format("I") + f"/rows/{row.id}/delete", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.get_data(as_text=True) == ""  # the script removes the row
    assert list_rows("ln-02") == []
    uid = unit_id("ln-02")
    with in_app() as session:
        actions = [e.action for e in session.scalars(
            select(AuditEvent).where(AuditEvent.table_code == "I", AuditEvent.unit_id == uid))]
    assert actions == ["list_add", "list_edit", "list_delete"]


def _list_events() -> list[str]:
    with in_app() as session:
        return [e.action for e in session.scalars(select(AuditEvent).where(
            AuditEvent.table_code == "I", AuditEvent.unit_id == unit_id("ln-02")).order_by(AuditEvent.id))]


def test_a_document_sent_twice_is_added_once(clerk):
    """A page that sends its addition again after a lost answer gets the same row back: a second
    identical row would be the same document (the assembly merges them) and one the page never shows."""
    first = clerk.post(URL.format("I") + "/rows", data=new_row(), headers={"HX-Request": "true"})
    again = clerk.post(URL.format("I") + "/rows", data=new_row(), headers={"HX-Request": "true"})
    assert first.status_code == again.status_code == 200
    (row,) = list_rows("ln-02")
    assert first.get_data(as_text=True) == again.get_data(as_text=True)
    assert _list_events() == ["list_add"]
    other = clerk.post(URL.format("I") + "/rows", data=new_row(so_hieu="08-NQ/ĐU"), headers={"HX-Request": "true"})
    assert other.status_code == 200 and len(list_rows("ln-02")) == 2


def test_a_document_edit_sent_again_after_a_lost_answer_is_no_conflict(clerk):
    clerk.post(URL.format("I") + "/rows", data=new_row(), headers={"HX-Request": "true"})
    (row,) = list_rows("ln-02")
    edit = {f"row:{row.id}:{k[4:]}": v for k, v in new_row(so_hieu="07-KH/ĐU").items()}
    edit[f"v:row:{row.id}"] = str(row.version)
    for _ in range(2):  # the second carries the version the page had before the first was stored
        response = post_as_page(clerk, URL.format("I") + f"/rows/{row.id}", data=edit, headers={"HX-Request": "true"})
        assert response.status_code == 200
        assert "người khác" not in response.get_data(as_text=True)
    assert list_rows("ln-02")[0].data["so_hieu"] == "07-KH/ĐU"
    assert _list_events() == ["list_add", "list_edit"]
    # a different edit on that stale version is still a conflict
    edit[f"row:{row.id}:so_hieu"] = "07-CT/ĐU"
    response = post_as_page(clerk, URL.format("I") + f"/rows/{row.id}", data=edit, headers={"HX-Request": "true"})
    assert response.status_code == 409 and list_rows("ln-02")[0].data["so_hieu"] == "07-KH/ĐU"


def test_a_document_removed_meanwhile_is_410_for_the_script_not_a_locked_part(clerk):
    """Only that row is concerned: the page's script must not stop saving everything else (423)."""
    clerk.post(URL.format("I") + "/rows", data=new_row(), headers={"HX-Request": "true"})
    (row,) = list_rows("ln-02")
    fields = {f"row:{row.id}:{k[4:]}": v for k, v in new_row().items()}
    assert post_as_page(clerk, URL.format("I") + f"/rows/{row.id}/delete", headers={"HX-Request": "true"}).status_code == 200
    for path, data in ((f"/rows/{row.id}", fields), (f"/rows/{row.id}/delete", {})):
        response = post_as_page(clerk, URL.format("I") + path, data=data, headers={"HX-Request": "true"})
        assert response.status_code == 410
        assert response.get_data(as_text=True).startswith("Văn bản này không còn trong danh mục")
        plain = post_as_page(clerk, URL.format("I") + path, data=data)  # without the script: the page, with why
        assert plain.status_code == 302
    assert list_rows("ln-02") == []


def test_list_row_errors_store_nothing(clerk):
    response = clerk.post(URL.format("I") + "/rows", data=new_row(ngay_ban_hanh="31/02/2019", co_quan=""),
                          headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ngày không hợp lệ" in html and "Chưa nhập (bắt buộc khi dòng có dữ liệu)" in html
    assert 'value="31/02/2019"' in html
    response = clerk.post(URL.format("I") + "/rows", data={"new:so_hieu": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and "Dòng còn trống" in response.get_data(as_text=True)
    assert list_rows("ln-02") == []


def test_list_plain_post_adds_and_edits_all_or_nothing(clerk):
    assert clerk.post(URL.format("I"), data=new_row()).status_code == 302
    (row,) = list_rows("ln-02")
    bad = {f"row:{row.id}:so_hieu": "", **{f"row:{row.id}:{k}": v for k, v in row.data.items() if k != "so_hieu"},
           **new_row(so_hieu="08-NQ/ĐU")}
    response = clerk.post(URL.format("I"), data=bad)
    assert response.status_code == 422
    assert [r.data["so_hieu"] for r in list_rows("ln-02")] == ["07-NQ/ĐU"]


def test_another_units_list_row_cannot_be_touched(app):
    mine = login(app.test_client(), "ln-01")  # the demo gave Thị trấn Lộc Ninh one document
    (row,) = list_rows("ln-01")
    other = login(app.test_client(), "ln-02")
    assert other.post(URL.format("I") + f"/rows/{row.id}/delete", headers={"HX-Request": "true"}).status_code == 403
    assert other.post(URL.format("I") + f"/rows/{row.id}", data={f"row:{row.id}:so_hieu": "X"}).status_code == 403
    assert len(list_rows("ln-01")) == 1 and list_rows("ln-01")[0].data == row.data
    assert mine.get(URL.format("I")).status_code == 200


# --- sign-in ------------------------------------------------------------------------------------

def test_sign_in_and_out(client):
    response = client.post("/login", data={"username": "ln-02", "password": "wrong"})
    assert response.status_code == 401 and "không đúng" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    login(client, "ln-02")
    assert client.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_sign_in_never_redirects_off_site(client):
    response = client.post("/login?next=//evil.example/x", data={"username": "ln-02", "password": "demo123"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_table_the_unit_is_not_asked_for_cannot_be_posted_to(app):
    from webapp.models import Assignment

    uid = unit_id("ln-02")
    with in_app() as session:
        session.query(Assignment).filter_by(unit_id=uid, table_code="I").delete()
        session.commit()
    clerk = login(app.test_client(), "ln-02")
    assert clerk.post(URL.format("I"), data=new_row()).status_code == 403
    assert clerk.post(URL.format("I") + "/rows", data=new_row()).status_code == 403
    assert list_rows("ln-02") == []
