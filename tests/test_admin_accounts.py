"""The administrator adds, edits, deactivates and reactivates units and accounts one by one (issue 13,
item 1): every change is audited, bad input is refused at its field with nothing stored, a deactivated
account cannot sign in and keeps everything it wrote, compilers only read."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select, update

from conftest import account_named, unit_named, in_app, login
from webapp.models import AuditEvent, Campaign, CampaignUnit, CellValue, Unit, User, UserSession

ADMIN_ACTIONS = ("unit_create", "unit_update", "unit_deactivate", "unit_activate",
                 "user_create", "user_update", "user_deactivate", "user_activate")


# --- reading the database -------------------------------------------------------------------------

unit, account = unit_named, account_named  # as stored now, detached


def events(*actions: str) -> list[AuditEvent]:
    with in_app() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action.in_(actions or ADMIN_ACTIONS))
                                    .order_by(AuditEvent.id)))
        session.expunge_all()
        return rows


def counts() -> dict[str, int]:
    """How many units, accounts and administration events there are: what a refusal must not change."""
    with in_app() as session:
        return {"units": session.scalar(select(func.count()).select_from(Unit)),
                "accounts": session.scalar(select(func.count()).select_from(User)),
                "events": session.scalar(select(func.count()).select_from(AuditEvent)
                                         .where(AuditEvent.action.in_(ADMIN_ACTIONS)))}


def open_sessions(username: str) -> int:
    with in_app() as session:
        return session.scalar(select(func.count()).select_from(UserSession).join(User)
                              .where(User.username == username, UserSession.ended_at.is_(None)))


def text(response) -> str:
    """The page's text without tags, spaces collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def field_error(response, field: str) -> str:
    """The message shown at a field of the form (the <p class="msg error"> after its input)."""
    page = response.get_data(as_text=True)
    found = re.search(rf'id="{field}"[^>]*>(?:\s*</select>)?.*?<p class="msg error"[^>]*>([^<]+)</p>', page, re.S)
    assert found, f"no message at {field}"
    return html.unescape(found.group(1))


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def attempt(client, username: str, password: str = "demo123"):
    return client.post("/login", data={"username": username, "password": password})


NEW_UNIT = {"code": "ln-17", "name": "Xã Lộc Mới", "kind": "xa", "parent": "", "phone": "0271 3866 017",
            "sort_order": "17"}


def new_unit(client, **changes):
    data = {**NEW_UNIT, "parent": str(unit("ln").id), **changes}
    return client.post("/admin/units/new", data=data)


def edit_unit(client, unit_code: str, **changes):
    u = unit(unit_code)
    data = {"name": u.name, "kind": u.kind, "parent": str(u.parent_id or ""), "phone": u.phone or "",
            "sort_order": str(u.sort_order), **changes}
    return client.post(f"/admin/units/{u.id}/edit", data=data)


def new_user(client, **changes):
    data = {"username": "ln-17", "full_name": "Nguyễn Văn An", "role": "clerk", "unit": str(unit("ln-16").id),
            **changes}
    return client.post("/admin/users/new", data=data)


def edit_user(client, username: str, **changes):
    u = account(username)
    data = {"full_name": u.full_name, "role": u.role, "unit": str(u.unit_id), **changes}
    return client.post(f"/admin/users/{u.id}/edit", data=data)


def slip_password(response) -> str:
    return re.search(r'id="slip-password">([^<]+)<', response.get_data(as_text=True)).group(1)


# --- units ----------------------------------------------------------------------------------------

def test_the_add_unit_form_names_kinds_and_parents(admin):
    response = admin.get("/admin/units/new")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    kinds = dict(re.findall(r'<option (?:selected )?value="([^"]*)">([^<]*)</option>',
                            re.search(r'<select[^>]*id="kind".*?</select>', page, re.S).group(0)))
    assert kinds["xa"] == "Xã, phường, thị trấn" and kinds["huyen_uy"] == "Huyện ủy và các ban của Huyện ủy"
    parents = re.search(r'<select[^>]*id="parent".*?</select>', page, re.S).group(0)
    # by name, below the district indented by one level; two top units (the district and the demo
    # province, demo_province.py): none is chosen for the administrator
    assert re.search(rf'<option value="{unit("ln").id}">Huyện Lộc Ninh</option>', parents)
    assert re.search(rf'<option value="{unit("bp").id}">Tỉnh Bình Phước</option>', parents)
    assert re.search(rf'<option value="{unit("ln-02").id}">(\xa0)+Xã Lộc Hòa</option>', parents)


def test_the_administrator_adds_a_unit(admin):
    response = new_unit(admin)
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/units")
    added = unit("ln-17")
    assert (added.name, added.kind, added.parent_id, added.phone, added.sort_order, added.active) == (
        "Xã Lộc Mới", "xa", unit("ln").id, "0271 3866 017", 17, True)
    [event] = events()
    assert (event.action, event.user_id, event.unit_id, event.campaign_id) == (
        "unit_create", account("admin").id, added.id, None)
    assert event.old is None
    assert event.new == ("ln-17 — Tên: Xã Lộc Mới; Loại: Xã, phường, thị trấn; Thuộc: Huyện Lộc Ninh; "
                         "Điện thoại: 0271 3866 017; Thứ tự: 17")
    page = admin.get("/admin/units")
    assert "Đã thêm đơn vị Xã Lộc Mới" in text(page) and "ln-17" in text(page)


def test_a_unit_without_an_order_goes_after_its_siblings(admin):
    assert new_unit(admin, sort_order="", code=" LN-18 ").status_code == 302
    last = max(u.sort_order for u in (unit(f"ln-{i:02d}") for i in range(1, 17)))
    added = unit("ln-18")  # the code is taken in lowercase, without the spaces around it
    assert added.sort_order > last


@pytest.mark.parametrize("field, value, message", [
    ("code", "", "Nhập mã đơn vị"),
    ("code", "ln 17", "Mã đơn vị chỉ gồm chữ thường không dấu, chữ số, '-' và '_'"),
    ("code", "lộc-mới", "Mã đơn vị chỉ gồm chữ thường không dấu, chữ số, '-' và '_'"),
    ("code", "ln-02", "Mã đơn vị 'ln-02' đã có (Xã Lộc Hòa)"),
    ("name", "   ", "Nhập tên đơn vị"),
    ("name", "X" * 201, "Tên đơn vị dài quá 200 ký tự"),
    ("kind", "", "Chọn loại đơn vị"),
    ("kind", "khong_co", "Loại đơn vị không có trong danh sách"),
    ("parent", "99999", "Đơn vị cấp trên không có trong danh sách"),
    ("phone", "gọi ông An", "Số điện thoại chỉ gồm chữ số, khoảng trắng và + ( ) . -"),
    ("sort_order", "ba", "Thứ tự là một số nguyên không âm"),
    ("sort_order", "-3", "Thứ tự là một số nguyên không âm"),
])
def test_bad_unit_input_is_refused_at_its_field(admin, field, value, message):
    before = counts()
    response = new_unit(admin, **{field: value})
    assert response.status_code == 422
    assert field_error(response, field) == message
    assert counts() == before and unit("ln-17") is None


def test_a_unit_is_not_put_under_an_inactive_unit(admin):
    deactivated = unit("ln-16")
    assert admin.post(f"/admin/units/{deactivated.id}/deactivate").status_code == 302
    before = counts()
    response = new_unit(admin, parent=str(deactivated.id))
    assert response.status_code == 422
    assert field_error(response, "parent") == "Đơn vị cấp trên Xã Lộc Khánh đã ngừng hoạt động"
    assert counts() == before
    # nor offered: the drop-down lists active units only
    assert f'value="{deactivated.id}"' not in admin.get("/admin/units/new").get_data(as_text=True)


def test_the_administrator_edits_a_unit(admin):
    response = admin.get(f"/admin/units/{unit('ln-02').id}/edit")
    assert response.status_code == 200 and "ln-02" in text(response)
    assert 'name="code"' not in response.get_data(as_text=True)  # a unit's code never changes
    response = edit_unit(admin, "ln-02", name="Phường Lộc Hòa", phone="0271 3866 222", sort_order="2",
                         code="khac")
    assert response.status_code == 302
    edited = unit("ln-02")
    assert (edited.code, edited.name, edited.phone, edited.kind) == ("ln-02", "Phường Lộc Hòa", "0271 3866 222", "xa")
    [event] = events()
    assert (event.action, event.unit_id, event.user_id) == ("unit_update", edited.id, account("admin").id)
    assert event.old == "ln-02 — Tên: Xã Lộc Hòa; Điện thoại: 0271 3866 002"
    assert event.new == "ln-02 — Tên: Phường Lộc Hòa; Điện thoại: 0271 3866 222"


def test_saving_a_unit_unchanged_records_nothing(admin):
    assert edit_unit(admin, "ln-02").status_code == 302
    assert events() == []


def test_a_kind_change_is_refused_for_a_reporting_unit_of_a_campaign(admin):
    before = counts()
    response = edit_unit(admin, "ln-02", kind="doan_the", name="Tên khác")
    assert response.status_code == 422
    message = field_error(response, "kind")
    assert "Xã Lộc Hòa là đơn vị báo cáo của đợt" in message
    with in_app() as session:  # the demo's campaigns of ln-02 (kl49-2024, cdht-2024 …): one of them is named
        codes = session.scalars(select(Campaign.code).join(CampaignUnit).join(Unit).where(Unit.code == "ln-02")).all()
    assert len(codes) > 1 and any(f"({code})" in message for code in codes)
    assert (unit("ln-02").kind, unit("ln-02").name) == ("xa", "Xã Lộc Hòa") and counts() == before
    # a unit of no campaign changes its kind
    assert new_unit(admin).status_code == 302
    assert edit_unit(admin, "ln-17", kind="doan_the").status_code == 302
    assert unit("ln-17").kind == "doan_the"
    assert events("unit_update")[0].new == "ln-17 — Loại: Mặt trận Tổ quốc và các đoàn thể"


def test_a_parent_that_makes_a_cycle_is_refused(admin):
    before = counts()
    response = edit_unit(admin, "ln", parent=str(unit("ln-02").id))
    assert response.status_code == 422
    assert field_error(response, "parent") == ("Không đặt được Xã Lộc Hòa làm đơn vị cấp trên của Huyện Lộc Ninh: "
                                               "Xã Lộc Hòa nằm trong Huyện Lộc Ninh (sẽ thành vòng lặp)")
    response = edit_unit(admin, "ln-02", parent=str(unit("ln-02").id))
    assert response.status_code == 422
    assert field_error(response, "parent") == "Một đơn vị không thể là đơn vị cấp trên của chính nó"
    assert unit("ln").parent_id is None and unit("ln-02").parent_id == unit("ln").id and counts() == before
    # the edit form does not offer the unit itself nor what lies below it
    page = admin.get(f"/admin/units/{unit('ln').id}/edit").get_data(as_text=True)
    parents = re.search(r'<select[^>]*id="parent".*?</select>', page, re.S).group(0)
    assert f'value="{unit("ln-02").id}"' not in parents and f'value="{unit("ln").id}"' not in parents


def test_deactivating_and_reactivating_a_unit(app, admin):
    target = unit("ln-16")
    held = login(app.test_client(), "ln-16")
    response = admin.post(f"/admin/units/{target.id}/deactivate")
    assert response.status_code == 302
    assert unit("ln-16").active is False
    [event] = events()
    assert (event.action, event.unit_id, event.old, event.new) == (
        "unit_deactivate", target.id, "ln-16 — Đang hoạt động", "ln-16 — Ngừng hoạt động")
    page = admin.get("/admin/units").get_data(as_text=True)
    block = re.search(rf'<li id="unit-{target.id}" class="unit inactive">.*?</div>', page, re.S).group(0)
    assert "Ngừng hoạt động" in block
    assert "Đã ngừng hoạt động đơn vị Xã Lộc Khánh" in page
    # its accounts keep working unless deactivated themselves
    assert signed_in(held) and attempt(app.test_client(), "ln-16").status_code == 302
    # offered for no new account either
    assert f'value="{target.id}"' not in admin.get("/admin/users/new").get_data(as_text=True)
    # deactivating it again records nothing
    assert admin.post(f"/admin/units/{target.id}/deactivate").status_code == 302 and len(events()) == 1
    response = admin.post(f"/admin/units/{target.id}/activate")
    assert response.status_code == 302 and unit("ln-16").active is True
    assert [(e.action, e.old, e.new) for e in events()][1] == (
        "unit_activate", "ln-16 — Ngừng hoạt động", "ln-16 — Đang hoạt động")


def test_a_deactivated_unit_is_offered_for_no_new_campaign(app, admin):
    from webapp import campaigns, outline_store

    admin.post(f"/admin/units/{unit('ln-16').id}/deactivate")
    with in_app() as session:
        compiler = session.scalar(select(Unit).where(Unit.code == "ln-btg"))
        offered = campaigns.default_units(session, outline_store.find(session, "kl49", 1), compiler)
        assert "ln-16" not in {u.code for u in offered} and "ln-15" in {u.code for u in offered}


def test_a_unit_that_compiles_an_open_campaign_is_not_deactivated(admin):
    compiler_unit = unit("ln-btg")
    before = counts()
    response = admin.post(f"/admin/units/{compiler_unit.id}/deactivate", follow_redirects=True)
    assert response.status_code == 200
    words = text(response)
    assert "Không ngừng hoạt động được Ban Tuyên giáo Huyện ủy Lộc Ninh: đơn vị đang tổng hợp đợt báo cáo" in words
    assert "(kl49-2024)" in words and "chưa kết thúc" in words
    assert unit("ln-btg").active is True and counts() == before
    with in_app() as session:  # once the campaign is closed, it may be
        session.execute(update(Campaign).values(status="closed"))
        session.commit()
    assert admin.post(f"/admin/units/{compiler_unit.id}/deactivate").status_code == 302
    assert unit("ln-btg").active is False


def test_unknown_units_and_accounts_are_404(admin):
    for path in ("/admin/units/99999/edit", "/admin/users/99999/edit"):
        assert admin.get(path).status_code == 404
    for path in ("/admin/units/99999/deactivate", "/admin/units/99999/activate",
                 "/admin/users/99999/deactivate", "/admin/users/99999/activate"):
        assert admin.post(path).status_code == 404


# --- accounts -------------------------------------------------------------------------------------

def test_the_administrator_adds_an_account_and_gets_its_slip_once(app, admin):
    page = admin.get(f"/admin/users/new?unit={unit('ln-16').id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{unit("ln-16").id}">(\xa0)*Xã Lộc Khánh</option>', page)
    roles = re.search(r'<select[^>]*id="role".*?</select>', page, re.S).group(0)
    assert ">Cán bộ nhập liệu<" in roles and ">Cán bộ tổng hợp<" in roles and ">Quản trị<" in roles
    response = new_user(admin)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = slip_password(response)
    assert "Xã Lộc Khánh" in text(response) and "Nguyễn Văn An" in text(response)
    assert "http://localhost/login" in text(response)
    added = account("ln-17")
    assert (added.full_name, added.role, added.unit_id, added.active, added.must_change_password) == (
        "Nguyễn Văn An", "clerk", unit("ln-16").id, True, True)
    assert added.check_password(password)
    [event] = events()
    assert (event.action, event.user_id, event.unit_id, event.old) == (
        "user_create", account("admin").id, unit("ln-16").id, None)
    assert event.new == "ln-17 — Họ tên: Nguyễn Văn An; Vai trò: Cán bộ nhập liệu; Đơn vị: Xã Lộc Khánh"
    assert password not in (event.new or "") and password not in admin.get("/admin/units").get_data(as_text=True)
    # the new account signs in with the slip's password and must change it first
    clerk = app.test_client()
    response = attempt(clerk, "ln-17", password)
    assert response.status_code == 302 and response.headers["Location"].startswith("/password")


@pytest.mark.parametrize("field, value, message", [
    ("username", "", "Nhập tên đăng nhập"),
    ("username", "nguyễn an", "Tên đăng nhập chỉ gồm chữ thường không dấu, chữ số, '.', '-' và '_'"),
    ("username", "ln-02", "Tên đăng nhập 'ln-02' đã có (Xã Lộc Hòa)"),
    ("username", "x" * 61, "Tên đăng nhập dài quá 60 ký tự"),
    ("full_name", "A" * 121, "Họ tên dài quá 120 ký tự"),
    ("role", "boss", "Vai trò không có trong danh sách"),
    ("unit", "", "Chọn đơn vị"),
    ("unit", "99999", "Đơn vị không có trong danh sách"),
])
def test_bad_account_input_is_refused_at_its_field(admin, field, value, message):
    before = counts()
    response = new_user(admin, **{field: value})
    assert response.status_code == 422
    assert field_error(response, field) == message
    assert counts() == before and account("ln-17") is None


def test_an_account_is_not_added_to_an_inactive_unit(admin):
    admin.post(f"/admin/units/{unit('ln-16').id}/deactivate")
    before = counts()
    response = new_user(admin)
    assert response.status_code == 422
    assert field_error(response, "unit") == "Đơn vị Xã Lộc Khánh đã ngừng hoạt động"
    assert counts() == before


def test_the_administrator_edits_an_account(app, admin):
    response = admin.get(f"/admin/users/{account('ln-03').id}/edit")
    assert response.status_code == 200 and "ln-03" in text(response)
    form = re.search(r'<form method="post" novalidate>.*?</form>', response.get_data(as_text=True), re.S).group(0)
    assert 'name="username"' not in form and 'type="password"' not in form
    response = edit_user(admin, "ln-03", full_name="Trần Thị Bình", role="compiler", unit=str(unit("ln-04").id))
    assert response.status_code == 302
    edited = account("ln-03")
    assert (edited.full_name, edited.role, edited.unit_id) == ("Trần Thị Bình", "compiler", unit("ln-04").id)
    [event] = events()
    assert (event.action, event.user_id, event.unit_id) == ("user_update", account("admin").id, unit("ln-04").id)
    assert event.old == "ln-03 — Họ tên: Cán bộ nhập liệu – Xã Lộc An; Vai trò: Cán bộ nhập liệu; Đơn vị: Xã Lộc An"
    assert event.new == "ln-03 — Họ tên: Trần Thị Bình; Vai trò: Cán bộ tổng hợp; Đơn vị: Xã Lộc Tấn"
    assert edit_user(admin, "ln-03").status_code == 302 and len(events()) == 1  # unchanged: nothing recorded


def test_a_deactivated_account_cannot_sign_in_and_keeps_what_it_wrote(app, admin):
    target = account("ln-01")  # the town's clerk: its part is filled in and submitted in the demo

    def kept() -> tuple[list, list]:
        with in_app() as session:
            return (session.execute(select(CellValue.id, CellValue.num, CellValue.text, CellValue.version)
                                    .where(CellValue.unit_id == target.unit_id).order_by(CellValue.id)).all(),
                    session.execute(select(AuditEvent.id, AuditEvent.action)
                                    .where(AuditEvent.user_id == target.id).order_by(AuditEvent.id)).all())
    values, own_events = kept()
    assert values and ("submit" in {action for _, action in own_events})
    held = login(app.test_client(), "ln-01")
    response = admin.post(f"/admin/users/{target.id}/deactivate")
    assert response.status_code == 302
    assert account("ln-01").active is False
    assert not signed_in(held) and open_sessions("ln-01") == 0  # every session ended
    [event] = events()
    assert (event.action, event.user_id, event.unit_id, event.old, event.new) == (
        "user_deactivate", account("admin").id, target.unit_id, "ln-01 — Đang hoạt động",
        "ln-01 — Ngừng hoạt động")
    # the right password: a clear message; a wrong one: the usual one (nothing more is told)
    refused = attempt(app.test_client(), "ln-01")
    assert refused.status_code == 401 and "Tài khoản này đã ngừng hoạt động" in text(refused)
    wrong = attempt(app.test_client(), "ln-01", "sai-mat-khau")
    assert wrong.status_code == 401 and "ngừng hoạt động" not in text(wrong)
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in text(wrong)
    # nothing it wrote is lost (its values and its events, the failed sign-ins added after), and the
    # history pages still name it
    after_values, after_events = kept()
    assert after_values == values and after_events[:len(own_events)] == own_events
    compiler = login(app.test_client(), "ln-btg")
    changes = compiler.get("/campaigns/kl49-2024/changes", query_string={"unit": "ln-01"})
    assert changes.status_code == 200
    assert re.search(r"Cán bộ nhập liệu – Thị trấn Lộc Ninh ln-01 .*Nộp báo cáo", text(changes))
    page = admin.get("/admin/units").get_data(as_text=True)
    line = re.search(rf'<li id="user-{target.id}" class="account inactive">.*?</li>', page, re.S).group(0)
    assert "Ngừng hoạt động" in line and "reset-password" not in line
    # reactivated, it signs in again
    assert admin.post(f"/admin/users/{target.id}/activate").status_code == 302
    assert account("ln-01").active is True
    assert events()[-1].action == "user_activate"
    assert attempt(app.test_client(), "ln-01").status_code == 302


def test_compilers_get_403_on_every_change_and_read_the_page(app, compiler):
    u, a = unit("ln-02"), account("ln-03")
    before = counts()
    for path in ("/admin/units/new", f"/admin/units/{u.id}/edit", "/admin/users/new", f"/admin/users/{a.id}/edit"):
        assert compiler.get(path).status_code == 403, path
    for path, data in [("/admin/units/new", {**NEW_UNIT, "parent": str(unit("ln").id)}),
                       (f"/admin/units/{u.id}/edit", {"name": "X", "kind": "xa", "parent": "", "phone": "",
                                                      "sort_order": "1"}),
                       (f"/admin/units/{u.id}/deactivate", {}), (f"/admin/units/{u.id}/activate", {}),
                       ("/admin/users/new", {"username": "ln-17", "full_name": "", "role": "admin",
                                             "unit": str(u.id)}),
                       (f"/admin/users/{a.id}/edit", {"full_name": "", "role": "admin", "unit": str(u.id)}),
                       (f"/admin/users/{a.id}/deactivate", {}), (f"/admin/users/{a.id}/activate", {})]:
        assert compiler.post(path, data=data).status_code == 403, path
        assert app.test_client().post(path, data=data).status_code == 302  # anonymous: to the sign-in page
    assert counts() == before and unit("ln-02").name == "Xã Lộc Hòa" and account("ln-03").role == "clerk"
    page = compiler.get("/admin/units")
    assert page.status_code == 200 and "Xã Lộc Hòa" in text(page)
    html = page.get_data(as_text=True)
    for hidden in ("/admin/units/new", "/edit", "/deactivate", "/admin/users/new"):
        assert hidden not in html, hidden


def test_the_administrator_neither_deactivates_nor_demotes_their_own_account(admin):
    me = account("admin")
    before = counts()
    response = admin.post(f"/admin/users/{me.id}/deactivate", follow_redirects=True)
    assert "Bạn không thể ngừng hoạt động tài khoản của chính mình" in text(response)
    response = edit_user(admin, "admin", role="compiler")
    assert response.status_code == 422
    assert field_error(response, "role") == "Bạn không thể tự bỏ quyền quản trị của chính mình"
    assert (account("admin").active, account("admin").role) == (True, "admin") and counts() == before
    # the rest of one's own account may change
    assert edit_user(admin, "admin", full_name="Quản trị mạng").status_code == 302
    assert account("admin").full_name == "Quản trị mạng"
    page = admin.get("/admin/units").get_data(as_text=True)
    assert f"/admin/users/{me.id}/deactivate" not in page and f"/admin/users/{me.id}/edit" in page


def test_another_administrator_may_be_demoted_or_deactivated_but_never_the_last(app, admin):
    response = new_user(admin, username="admin2", role="admin", unit=str(unit("ln-btg").id))
    second = login(app.test_client(), "admin2", slip_password(response))
    second.post("/password", data={"current": slip_password(response), "new": "mat-khau-2", "confirm": "mat-khau-2"})
    assert second.post(f"/admin/users/{account('admin').id}/deactivate").status_code == 302
    assert account("admin").active is False and not signed_in(admin)
    # admin2 is now the last active administrator: the guard holds whoever asks
    from webapp.admin.accounts import admin_guard

    with in_app() as session:
        last, first = (session.scalar(select(User).where(User.username == n)) for n in ("admin2", "admin"))
        assert admin_guard(session, first, last, deactivate=True) == (
            "Không ngừng hoạt động được admin2: đây là tài khoản quản trị cuối cùng còn hoạt động")
        assert admin_guard(session, first, last, role="clerk") == (
            "Không bỏ được quyền quản trị của admin2: đây là tài khoản quản trị cuối cùng còn hoạt động")
        assert admin_guard(session, first, last, role="admin") is None
    assert second.post(f"/admin/users/{account('admin').id}/activate").status_code == 302
    assert edit_user(second, "admin", role="clerk").status_code == 302
    assert account("admin").role == "clerk"


def test_the_units_page_shows_state_and_the_administrators_tools(app, admin):
    admin.post(f"/admin/users/{account('ln-05').id}/reset-password")
    page = admin.get("/admin/units")
    html, words = page.get_data(as_text=True), text(page)
    assert "Thêm đơn vị" in words and "Thêm tài khoản" in words
    ln05 = account("ln-05")
    line = re.search(rf'<li id="user-{ln05.id}" class="account">.*?</li>', html, re.S).group(0)
    assert "Cán bộ nhập liệu" in line and "chờ đổi mật khẩu" in line and "Đang hoạt động" not in line
    for action in ("edit", "deactivate", "reset-password"):
        assert f"/admin/users/{ln05.id}/{action}" in line
    ln02 = unit("ln-02")
    assert f"/admin/units/{ln02.id}/edit" in html and f"/admin/units/{ln02.id}/deactivate" in html
    assert f"/admin/users/new?unit={ln02.id}" in html
    assert "Xã, phường, thị trấn" in words and "ĐT 0271 3866 002" in words


def test_every_administration_action_has_a_vietnamese_name():
    from webapp.review.service import ACTION_NAMES

    for action in (*ADMIN_ACTIONS, "outline_load", "campaign_create", "campaign_copy", "campaign_update",
                   "assignment_update", "deadline", "user_import"):
        assert action in ACTION_NAMES and ACTION_NAMES[action] != action
    assert ACTION_NAMES["user_deactivate"] == "Ngừng hoạt động tài khoản"
    assert ACTION_NAMES["outline_load"] == "Nạp đề cương"


# --- in the browser, with the keyboard ------------------------------------------------------------

@pytest.mark.browser
def test_adding_a_unit_and_an_account_with_the_keyboard(browser, live_server):
    from conftest import signed_in as browser_signed_in

    page = browser_signed_in(browser, live_server, "admin")
    page.goto(live_server + "/admin/units")
    page.screenshot(path="/tmp/admin-units-1366.png", full_page=False)
    page.click("text=Thêm đơn vị")
    page.wait_for_url(live_server + "/admin/units/new")
    assert page.evaluate("document.activeElement.id") == "code"  # the cursor starts in the first box
    page.keyboard.type("ln-17", delay=30)
    page.keyboard.press("Tab")
    page.keyboard.type("Xã Lộc Mới", delay=30)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "kind"
    page.keyboard.type("X", delay=80)  # a closed drop-down picks the first option whose name starts so
    assert page.input_value("#kind") == "xa"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "parent"  # the district, chosen already
    page.keyboard.press("Tab")
    page.keyboard.type("0271 3866 017", delay=30)
    page.keyboard.press("Tab")
    page.keyboard.type("17", delay=30)
    page.screenshot(path="/tmp/admin-unit-form-1366.png", full_page=True)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.startswith(live_server + "/admin/units")
    assert "Đã thêm đơn vị Xã Lộc Mới" in page.inner_text("main")
    added = unit("ln-17")
    assert (added.name, added.kind, added.phone, added.sort_order) == ("Xã Lộc Mới", "xa", "0271 3866 017", 17)

    # its account: the link beside the new unit, the unit chosen already
    page.click(f"#unit-{added.id} a[href$='/admin/users/new?unit={added.id}']")
    page.wait_for_selector("#username")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("ln-17", delay=30)
    page.keyboard.press("Tab")
    page.keyboard.type("Nguyễn Văn An", delay=30)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "role" and page.input_value("#role") == "clerk"
    assert page.input_value("#unit") == str(added.id)
    page.screenshot(path="/tmp/admin-user-form-1366.png", full_page=True)
    page.keyboard.press("Tab")  # the unit
    page.keyboard.press("Tab")  # the button (Enter on a drop-down opens it, it does not send the form)
    assert page.evaluate("document.activeElement.id") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    password = page.inner_text("#slip-password")
    assert re.fullmatch(r"[a-z0-9]{12}", password)
    assert "Xã Lộc Mới" in page.inner_text(".slip")
    page.screenshot(path="/tmp/admin-slip-1366.png", full_page=True)
    assert account("ln-17").check_password(password)

    # the same pages on a 360 px phone: nothing wider than the screen
    phone = browser_signed_in(browser, live_server, "admin", width=360, height=740)
    for url, shot in [("/admin/units", "admin-units-360"), ("/admin/units/new", "admin-unit-form-360"),
                      (f"/admin/users/new?unit={added.id}", "admin-user-form-360"),
                      (f"/admin/units/{added.id}/edit", "admin-unit-edit-360")]:
        phone.goto(live_server + url)
        width, inner = phone.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert width <= inner, f"{url}: {width} px"
        phone.screenshot(path=f"/tmp/{shot}.png", full_page=url != "/admin/units")
    phone.goto(live_server + "/admin/units/new")
    phone.click("#submit")  # nothing filled in: the messages at the fields
    assert "Nhập mã đơn vị" in phone.inner_text("main")
    phone.screenshot(path="/tmp/admin-unit-form-errors-360.png", full_page=True)
    # deactivating Lộc Khánh's account and unit from the page: each asks first (data-confirm)
    page.goto(live_server + "/admin/units")
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    clerk = account("ln-16")
    with page.expect_navigation():
        page.click(f"#user-{clerk.id} form[action$='/deactivate'] button")
    with page.expect_navigation():
        page.click(f"#unit-{clerk.unit_id} > .unit-head form[action$='/deactivate'] button")
    assert "Ngừng hoạt động tài khoản ln-16?" in questions[0] and "Xã Lộc Khánh" in questions[1]
    assert not account("ln-16").active and not unit("ln-16").active
    assert page.inner_text(f"#user-{clerk.id} .state") == "Ngừng hoạt động"
    page.locator(f"#unit-{added.id}").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/admin-units-after-1366.png", full_page=False)
