"""Campaigns set up by the staff (issue 13): campaign-create and campaign-copy on the command line,
the create, settings, grid and copy pages, and who may use them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from conftest import DEMO_TODAY, in_app, login, post_as_page, stored, unit_id
from webapp.models import Assignment, AuditEvent, Campaign, CampaignUnit, CellValue, Unit, User

SOURCE = "kl49-2024"
FUTURE = (DEMO_TODAY + dt.timedelta(days=30)).isoformat()
FUTURE_VN = (DEMO_TODAY + dt.timedelta(days=30)).strftime("%d/%m/%Y")
DEMO_UNITS = [f"ln-{i:02d}" for i in range(1, 17)] + ["ln-ubnd", "ln-ldld", "ln-hkh", "ln-mttq"]


def counts() -> dict[str, int]:
    with in_app() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model))
                for model in (Campaign, CampaignUnit, Assignment, AuditEvent)}


def campaign(code: str) -> Campaign | None:
    with in_app() as session:
        found = session.scalar(select(Campaign).where(Campaign.code == code))
        if found is not None:
            session.expunge(found)
        return found


def units_of(code: str) -> list[str]:
    with in_app() as session:
        c = session.scalar(select(Campaign).where(Campaign.code == code))
        return [u.code for u in c.units]


def assignments_of(code: str) -> set[tuple[str, str, str]]:
    with in_app() as session:
        c = session.scalar(select(Campaign).where(Campaign.code == code))
        return {(u, t, g) for u, t, g in session.execute(
            select(Unit.code, Assignment.table_code, Assignment.group_key).join(Unit, Unit.id == Assignment.unit_id)
            .where(Assignment.campaign_id == c.id))}


def events(code: str, action: str) -> list[AuditEvent]:
    with in_app() as session:
        c = session.scalar(select(Campaign).where(Campaign.code == code))
        found = list(session.scalars(select(AuditEvent).where(AuditEvent.campaign_id == c.id,
                                                              AuditEvent.action == action).order_by(AuditEvent.id)))
        for e in found:
            session.expunge(e)
        return found


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


CREATE = ["campaign-create", "bc-2025", "--outline", "kl49@1", "--name", "Báo cáo năm 2025", "--years", "2025-2025",
          "--deadline", FUTURE, "--compiler", "ln-btg"]


# --- the command line ---------------------------------------------------------------------------

def test_campaign_create_prints_the_code_and_asks_the_demos_twenty_units(app):
    result = cli(app, *CREATE)
    assert result.exit_code == 0, result.output
    assert result.stdout == "bc-2025\n"
    assert "Traceback" not in result.stderr
    made = campaign("bc-2025")
    assert made.status == "open" and (made.outline_code, made.outline_version) == ("kl49", 1)
    assert (made.year_from, made.year_to, made.deadline.isoformat()) == (2025, 2025, FUTURE)
    assert units_of("bc-2025") == DEMO_UNITS
    # the units fill what the outline gives their kind: as the demo campaign
    assert assignments_of("bc-2025") == assignments_of(SOURCE)
    assert [e.via for e in events("bc-2025", "campaign_create")] == ["cli"]


def test_campaign_create_takes_the_newest_version_without_one_and_a_list_of_units(app):
    args = CREATE[:2] + ["--outline", "kl49"] + CREATE[4:] + ["--units", "ln-02, ln-ubnd,ln-02"]
    result = cli(app, *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == "bc-2025\n"
    assert units_of("bc-2025") == ["ln-02", "ln-ubnd"]
    assert {(u, t) for u, t, _ in assignments_of("bc-2025")} >= {("ln-02", "II.1.5"), ("ln-ubnd", "II.1.4")}


def replaced(option: str, value: str) -> list[str]:
    args = list(CREATE)
    args[args.index(option) + 1] = value
    return args


@pytest.mark.parametrize("args, message", [
    (replaced("--outline", "nope"), "Không có đề cương 'nope'"),
    (replaced("--outline", "kl49@9"), "Đề cương kl49 không có phiên bản 9 (đã nạp: 1, 2)"),
    (replaced("--outline", "kl49@x"), "--outline 'kl49@x'"),
    (CREATE + ["--units", "ln-02,ln-99"], "Đơn vị 'ln-99' không có"),
    (replaced("--compiler", "btg-khong-co"), "Đơn vị tổng hợp 'btg-khong-co' không có"),
    (replaced("--years", "2025"), "--years '2025'"),
    (replaced("--years", "2025-2019"), "Các năm báo cáo không hợp lệ (2025–2019)"),
    (replaced("--years", "1990-2025"), "tối đa 20 năm"),
    (replaced("--deadline", "2025-13-01"), "--deadline '2025-13-01'"),
    (replaced("--deadline", "15/05/2025"), "--deadline '15/05/2025'"),
    (replaced("--deadline", (DEMO_TODAY - dt.timedelta(days=1)).isoformat()), "đã qua"),
    (CREATE[:1] + ["kl49-2024"] + CREATE[2:], "Mã đợt 'kl49-2024' đã được dùng"),
    (CREATE[:1] + ["Bad Code"] + CREATE[2:], "Mã đợt chỉ gồm chữ thường"),
    (replaced("--name", "  "), "Cần nhập tên đợt báo cáo"),
])
def test_campaign_create_refuses_with_exit_1_and_stores_nothing(app, args, message):
    before = counts()
    result = cli(app, *args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr
    assert counts() == before


def test_campaign_create_lists_every_problem_at_once(app):
    args = replaced("--years", "20x5") + ["--units", "ln-02,ln-98,ln-99"]
    args[args.index("--deadline") + 1] = "mai"
    args[1] = "kl49-2024"
    result = cli(app, *args)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any("--years '20x5'" in line for line in lines)
    assert any("--deadline 'mai'" in line for line in lines)
    assert any("'ln-98'" in line for line in lines) and any("'ln-99'" in line for line in lines)
    assert any("Mã đợt 'kl49-2024' đã được dùng" in line for line in lines)
    assert campaign("kl49-2024").name.startswith("Sơ kết")


def test_campaign_copy_keeps_the_outline_version_units_assignments_and_prints(app):
    with in_app() as session:  # the source as a compiler left it: one group moved, print fields filled
        source = session.scalar(select(Campaign).where(Campaign.code == SOURCE))
        session.add(Assignment(campaign_id=source.id, unit_id=unit_id("ln-mttq"), table_code="II.1.8",
                               group_key="cong_nhan"))
        source.request_document = "Công văn số 1241-CV/HU ngày 03/5/2024 của BTV Huyện ủy"
        source.report_number, source.report_date = "125-BC/HU", dt.date(2024, 5, 25)
        source.signer_name = "Nguyễn Văn A"
        session.commit()
    result = cli(app, "campaign-copy", SOURCE, "kl49-2029", "--years", "2024-2028", "--deadline", FUTURE)
    assert result.exit_code == 0, result.output
    assert result.stdout == "kl49-2029\n"
    copy = campaign("kl49-2029")
    assert (copy.outline_code, copy.outline_version, copy.year_from, copy.year_to) == ("kl49", 2, 2024, 2028)
    assert copy.status == "open" and copy.deadline.isoformat() == FUTURE
    assert units_of("kl49-2029") == units_of(SOURCE)
    assert ("ln-mttq", "II.1.8", "cong_nhan") in assignments_of("kl49-2029")
    assert assignments_of("kl49-2029") == assignments_of(SOURCE)
    assert copy.request_document == "Công văn số 1241-CV/HU ngày 03/5/2024 của BTV Huyện ủy"
    assert (copy.issuer_name, copy.issuer_parent, copy.report_place) == ("HUYỆN ỦY LỘC NINH", "ĐẢNG BỘ TỈNH BÌNH PHƯỚC",
                                                                         "Lộc Ninh")
    assert copy.signer_title == "T/M BAN THƯỜNG VỤ\nPHÓ BÍ THƯ" and copy.signer_name == "Nguyễn Văn A"
    assert copy.report_number == "" and copy.report_date is None
    with in_app() as session:  # nothing of the values comes along
        assert session.scalar(select(func.count()).select_from(CellValue).where(CellValue.campaign_id == copy.id)) == 0
        parts = session.scalars(select(CampaignUnit).where(CampaignUnit.campaign_id == copy.id)).all()
        assert {p.status for p in parts} == {"open"} and not any(p.return_reason for p in parts)


@pytest.mark.parametrize("args, message", [
    (["nope", "x-2025", "--years", "2025-2025", "--deadline", FUTURE], "Không có đợt báo cáo 'nope'"),
    ([SOURCE, SOURCE, "--years", "2025-2025", "--deadline", FUTURE], "đã được dùng"),
    ([SOURCE, "x-2025", "--years", "2025/2025", "--deadline", FUTURE], "--years '2025/2025'"),
    ([SOURCE, "x-2025", "--years", "2025-2025", "--deadline", "2025-02-30"], "--deadline '2025-02-30'"),
])
def test_campaign_copy_refuses_with_exit_1_and_stores_nothing(app, args, message):
    before = counts()
    result = cli(app, "campaign-copy", *args)
    assert result.exit_code == 1 and result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr
    assert counts() == before


# --- the create page ----------------------------------------------------------------------------

def compiler_unit_id() -> int:
    return unit_id("ln-btg")


def create_form(**overrides) -> dict:
    data = {"outline": "kl49@1", "code": "bc-2025", "name": "Báo cáo năm 2025", "year_from": "2025",
            "year_to": "2025", "deadline": FUTURE, "compiler": str(compiler_unit_id()),
            "units": [str(unit_id(c)) for c in DEMO_UNITS], "issuer_is_party": "party",
            "request_document": "Kế hoạch số 12-KH/HU", "submit": "1"}
    data.update(overrides)
    return data


def checked_units(page: str) -> set[str]:
    return set(re.findall(r'name="units" value="(\d+)" checked', page))


def test_the_create_page_offers_stored_versions_and_ticks_the_default_units(admin):
    page = admin.get("/admin/campaigns/new").get_data(as_text=True)
    assert re.search(r'<option (selected )?value="kl49@1"( selected)?>kl49 · phiên bản 1 · PHỤ LỤC', page), page[:3000]
    # the first stored outline (by code) is chosen: cdht, seed 003's, filled by the communes only
    assert re.search(r'<option (selected value="cdht@1"|value="cdht@1" selected)>', page), page[:3000]
    assert checked_units(page) == {str(unit_id(c)) for c in DEMO_UNITS[:16]}
    assert "Huyện Lộc Ninh" in page  # the units are grouped under their parent
    assert 'hx-get="/admin/campaigns/new/units"' in page


def test_the_units_fragment_recomputes_the_defaults(admin):
    response = admin.get("/admin/campaigns/new/units", headers={"HX-Request": "true"},
                         query_string={"outline": "kl49@1", "compiler": compiler_unit_id()})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="units-box"')
    assert checked_units(page) == {str(unit_id(c)) for c in DEMO_UNITS}
    # without a compiling unit there is nothing to tick
    empty = admin.get("/admin/campaigns/new/units", query_string={"outline": "kl49@1"}, headers={"HX-Request": "true"})
    assert "Chọn đơn vị tổng hợp" in empty.get_data(as_text=True)


def test_the_recompute_button_ticks_the_defaults_without_a_script(admin):
    response = admin.post("/admin/campaigns/new", data=create_form(units=[], recompute="1", submit=None))
    assert response.status_code == 200
    assert checked_units(response.get_data(as_text=True)) == {str(unit_id(c)) for c in DEMO_UNITS}
    assert campaign("bc-2025") is None


def test_a_campaign_created_on_the_page_is_open_and_its_units_enter_values(app, admin):
    chosen = [str(unit_id("ln-02")), str(unit_id("ln-ubnd"))]
    response = admin.post("/admin/campaigns/new", data=create_form(units=chosen))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].endswith("/admin/campaigns/bc-2025/assignments")
    made = campaign("bc-2025")
    assert made.status == "open" and made.request_document == "Kế hoạch số 12-KH/HU" and made.issuer_is_party
    assert units_of("bc-2025") == ["ln-02", "ln-ubnd"]
    assert [e.via for e in events("bc-2025", "campaign_create")] == ["web"]
    clerk = login(app.test_client(), "ln-02")
    assert "Báo cáo năm 2025" in clerk.get("/").get_data(as_text=True)
    saved = post_as_page(clerk, "/campaigns/bc-2025/tables/II.1.5/cells/2025/xa_tong", {"value": "31"})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    with in_app() as session:
        value = session.scalar(select(CellValue).where(CellValue.campaign_id == made.id,
                                                       CellValue.unit_id == unit_id("ln-02")))
        assert (value.table_code, value.row_key, value.col_key, value.num) == ("II.1.5", "2025", "xa_tong", 31)
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num != 31  # the demo campaign's value is its own


@pytest.mark.parametrize("overrides, field, message", [
    ({"code": "kl49-2024"}, "code", "đã được dùng"),
    ({"code": ""}, "code", "Cần nhập mã đợt"),
    ({"name": ""}, "name", "Cần nhập tên đợt báo cáo"),
    ({"year_from": "hai"}, "year_from", "không phải một năm"),
    ({"year_from": "2026"}, "year_from", "năm đầu phải trước hoặc bằng năm cuối"),
    ({"deadline": "31/02/2025"}, "deadline", "không phải một ngày"),
    ({"deadline": ""}, "deadline", "Cần nhập hạn gửi"),
    ({"deadline": (DEMO_TODAY - dt.timedelta(days=3)).isoformat()}, "deadline", "đã qua"),
    ({"units": []}, "units", "Cần chọn ít nhất một đơn vị báo cáo"),
    ({"outline": "kl49@7"}, "outline", "Lựa chọn này không có trong danh sách"),
    ({"report_number": "x" * 61}, "report_number", "Dài quá 60 ký tự"),
])
def test_bad_input_on_the_create_page_is_said_at_its_field(admin, overrides, field, message):
    before = counts()
    response = admin.post("/admin/campaigns/new", data=create_form(**overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page, page[:4000]
    if field != "units":  # marked, and the cursor starts there
        tag = re.search(rf'<(?:input|select)[^>]*\bid="{field}"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in tag and " autofocus" in tag, tag
    assert counts() == before


def test_a_compiler_creates_only_campaigns_of_their_own_unit(app, compiler):
    page = compiler.get("/admin/campaigns/new").get_data(as_text=True)
    compilers = re.search(r'<select[^>]*id="compiler".*?</select>', page, re.S).group(0)
    assert "Ban Tuyên giáo Huyện ủy Lộc Ninh" in compilers and compilers.count("<option") == 1
    with in_app() as session:  # another district's committee
        other = Unit(code="btg-khac", name="Ban Tuyên giáo Huyện ủy Bù Đốp", kind="huyen_uy", sort_order=99)
        session.add(other)
        session.commit()
        other_id = other.id
    before = counts()
    response = compiler.post("/admin/campaigns/new", data=create_form(compiler=str(other_id)))
    assert response.status_code == 422 and counts() == before
    assert compiler.post("/admin/campaigns/new", data=create_form()).status_code == 302
    assert campaign("bc-2025").compiler_unit_id == compiler_unit_id()


# --- settings -----------------------------------------------------------------------------------

def settings_form(**overrides) -> dict:
    data = {"name": "Sơ kết 5 năm thực hiện Kết luận số 49-KL/TW – Phụ lục số liệu", "description": "",
            "deadline": FUTURE_VN, "request_document": "Công văn số 1241-CV/HU ngày 03/5/2024 của BTV Huyện ủy",
            "issuer_name": "HUYỆN ỦY LỘC NINH", "issuer_parent": "ĐẢNG BỘ TỈNH BÌNH PHƯỚC", "issuer_is_party": "party",
            "report_number": "125-BC/HU", "report_date": "2024-05-25", "report_place": "Lộc Ninh",
            "signer_title": "T/M BAN THƯỜNG VỤ\nPHÓ BÍ THƯ", "signer_name": "Nguyễn Văn A"}
    data.update(overrides)
    return data


def test_the_deadline_change_and_the_print_fields_are_saved_and_audited(compiler):
    old = campaign(SOURCE).deadline
    page = compiler.get(f"/admin/campaigns/{SOURCE}/settings").get_data(as_text=True)
    assert f'value="{old.strftime("%d/%m/%Y")}"' in page and "HUYỆN ỦY LỘC NINH" in page
    response = compiler.post(f"/admin/campaigns/{SOURCE}/settings", data=settings_form())
    assert response.status_code == 302
    changed = campaign(SOURCE)
    assert changed.deadline.isoformat() == FUTURE
    assert changed.request_document.startswith("Công văn số 1241") and changed.report_number == "125-BC/HU"
    assert changed.report_date == dt.date(2024, 5, 25) and changed.signer_name == "Nguyễn Văn A"
    (event,) = events(SOURCE, "deadline")
    assert (event.old, event.new) == (old.strftime("%d/%m/%Y"), FUTURE_VN)
    with in_app() as session:
        assert session.get(User, event.user_id).username == "ln-btg"
    edits = {e.col_key: (e.old, e.new) for e in events(SOURCE, "campaign_edit")}
    assert edits["report_number"] == (None, "125-BC/HU") and "deadline" not in edits
    # saving the same again records nothing
    compiler.post(f"/admin/campaigns/{SOURCE}/settings", data=settings_form())
    assert len(events(SOURCE, "deadline")) == 1


@pytest.mark.parametrize("overrides, message", [
    ({"deadline": ""}, "Cần nhập hạn gửi"),
    ({"deadline": "15/13/2025"}, "không phải một ngày"),
    ({"name": " "}, "Cần nhập tên đợt báo cáo"),
    ({"issuer_is_party": "army"}, "Lựa chọn này không có trong danh sách"),
    ({"signer_name": "x" * 121}, "Dài quá 120 ký tự"),
])
def test_bad_settings_are_refused_at_the_field(admin, overrides, message):
    before = campaign(SOURCE)
    response = admin.post(f"/admin/campaigns/{SOURCE}/settings", data=settings_form(**overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    after = campaign(SOURCE)
    assert (after.deadline, after.name, after.report_number) == (before.deadline, before.name, before.report_number)
    assert events(SOURCE, "deadline") == [] and events(SOURCE, "campaign_edit") == []


def test_close_and_reopen_from_the_settings_page(admin):
    response = admin.post(f"/admin/campaigns/{SOURCE}/status", data={"status": "closed"})
    assert response.status_code == 302 and campaign(SOURCE).status == "closed"
    assert "Mở lại đợt báo cáo" in admin.get(f"/admin/campaigns/{SOURCE}/settings").get_data(as_text=True)
    admin.post(f"/admin/campaigns/{SOURCE}/status", data={"status": "open"})
    assert campaign(SOURCE).status == "open"
    assert [e.action for e in events(SOURCE, "close") + events(SOURCE, "open")] == ["close", "open"]


# --- the grid -----------------------------------------------------------------------------------

def ticks(code: str, without: set[tuple[str, str, str]] = frozenset(), plus=frozenset()) -> list[str]:
    """The grid's ticks as the page posts them: every assignment of ``code``, less ``without``, plus ``plus``."""
    keys = (assignments_of(code) - set(without)) | set(plus)
    return [f"{unit_id(u)}|{t}|{g}" for u, t, g in sorted(keys)]


def test_the_grid_shows_units_by_name_and_tables_over_their_groups(compiler):
    page = compiler.get(f"/admin/campaigns/{SOURCE}/assignments").get_data(as_text=True)
    head = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
    first, second = re.findall(r"<tr>(.*?)</tr>", head, re.S)
    assert re.findall(r'colspan="(\d+)" scope="colgroup" class="table-start" id="t-[^"]+">([^<]+)<', first)[:3] == [
        ("1", "I"), ("2", "II.1.1"), ("2", "II.1.2")]
    labels = re.findall(r'<th scope="col" id="g-[^"]+"[^>]*>([^<]+)</th>', second)
    assert labels[:3] == ["(cả bảng)", "Cấp xã", "Cấp huyện"] and "(cả bảng)" in labels[3:]
    assert "Xã Lộc Hòa" in page and "Ủy ban nhân dân huyện Lộc Ninh" in page
    assert page.count('name="a"') == 20 * len(labels)
    assert len(re.findall(r'name="a" value="[^"]+" checked', page)) == len(assignments_of(SOURCE))


def test_taking_a_group_with_values_asks_first_then_keeps_the_values(app, compiler):
    lost = ("ln-02", "II.1.5", "xa")
    with in_app() as session:
        values = session.scalar(select(func.count()).select_from(CellValue).where(
            CellValue.unit_id == unit_id("ln-02"), CellValue.table_code == "II.1.5", CellValue.group_key == "xa",
            CellValue.num.is_not(None)))
    assert values > 0
    before = assignments_of(SOURCE)
    url = f"/admin/campaigns/{SOURCE}/assignments"
    asked = compiler.post(url, data={"a": ticks(SOURCE, without={lost})})
    assert asked.status_code == 409
    page = asked.get_data(as_text=True)
    assert f"Bỏ giao sẽ khiến {values} giá trị đã nhập không còn được tính" in page
    assert f"Xã Lộc Hòa – Biểu II.1.5 · Công chức cấp xã: {values} giá trị" in page
    assert assignments_of(SOURCE) == before  # nothing changed yet
    token = re.search(r'name="confirm"[^>]*value="([0-9a-f]+)"', page).group(1)
    done = compiler.post(url, data={"a": ticks(SOURCE, without={lost}), "confirm": token})
    assert done.status_code == 302
    assert assignments_of(SOURCE) == before - {lost}
    (event,) = events(SOURCE, "assignment_update")
    assert (event.unit_id, event.table_code, event.old, event.new) == (unit_id("ln-02"), "II.1.5", "Công chức cấp xã",
                                                                       "không giao")
    # the clerk can no longer edit it; the values stay in the database
    clerk = login(app.test_client(), "ln-02")
    refused = post_as_page(clerk, f"/campaigns/{SOURCE}/tables/II.1.5/cells/2019/xa_tong", {"value": "3"})
    assert refused.status_code == 403
    with in_app() as session:
        assert session.scalar(select(func.count()).select_from(CellValue).where(
            CellValue.unit_id == unit_id("ln-02"), CellValue.table_code == "II.1.5", CellValue.group_key == "xa",
            CellValue.num.is_not(None))) == values
    # the grid shows them as kept, and giving the group back needs no confirmation
    assert re.search(r'<td class="[^"]*\bkept"><label><input type="checkbox" name="a" value="%d\|II.1.5\|xa"'
                     % unit_id("ln-02"), compiler.get(url).get_data(as_text=True))
    assert compiler.post(url, data={"a": ticks(SOURCE, plus={lost})}).status_code == 302
    assert assignments_of(SOURCE) == before


def test_giving_a_group_needs_no_confirmation_and_a_stale_token_asks_again(compiler):
    url = f"/admin/campaigns/{SOURCE}/assignments"
    extra = ("ln-mttq", "II.1.8", "cong_nhan")
    assert compiler.post(url, data={"a": ticks(SOURCE, plus={extra})}).status_code == 302
    assert extra in assignments_of(SOURCE)
    before = assignments_of(SOURCE)
    asked = compiler.post(url, data={"a": ticks(SOURCE, without={("ln-03", "II.1.1", "xa")}), "confirm": "0" * 16})
    assert asked.status_code == 409 and assignments_of(SOURCE) == before


def test_a_tick_outside_the_campaign_is_refused(compiler):
    url = f"/admin/campaigns/{SOURCE}/assignments"
    before = assignments_of(SOURCE)
    for bad in ([f"{unit_id('ln-btg')}|II.1.5|xa"], [f"{unit_id('ln-02')}|II.9|xa"], ["x|y"], ["²|II.1.5|xa"]):
        response = compiler.post(url, data={"a": ticks(SOURCE) + bad})
        assert response.status_code == 422, bad
    assert assignments_of(SOURCE) == before


def test_a_unit_joins_a_running_campaign_with_its_default_groups_and_leaves_while_empty(compiler):
    with in_app() as session:
        district = session.scalar(select(Unit).where(Unit.code == "ln"))
        session.add(Unit(code="ln-17", name="Xã Lộc Mới", kind="xa", parent=district, sort_order=17))
        session.commit()
    page = compiler.get(f"/admin/campaigns/{SOURCE}/assignments").get_data(as_text=True)
    assert "Xã Lộc Mới" in page and 'id="add-unit"' in page
    response = compiler.post(f"/admin/campaigns/{SOURCE}/units/add", data={"unit": str(unit_id("ln-17"))})
    assert response.status_code == 302
    assert "ln-17" in units_of(SOURCE)
    mine = {(t, g) for u, t, g in assignments_of(SOURCE) if u == "ln-17"}
    assert mine == {(t, g) for u, t, g in assignments_of(SOURCE) if u == "ln-16"}  # a commune's groups
    assert [e.unit_id for e in events(SOURCE, "unit_add")] == [unit_id("ln-17")]
    # a unit that stored nothing (Lộc Khánh) leaves; one with values (Lộc Hòa) cannot
    page = compiler.get(f"/admin/campaigns/{SOURCE}/assignments").get_data(as_text=True)
    assert "/units/ln-16/remove" in page and "/units/ln-02/remove" not in page
    assert compiler.post(f"/admin/campaigns/{SOURCE}/units/ln-16/remove").status_code == 302
    assert "ln-16" not in units_of(SOURCE) and not any(u == "ln-16" for u, _, _ in assignments_of(SOURCE))
    refused = compiler.post(f"/admin/campaigns/{SOURCE}/units/ln-02/remove", follow_redirects=True)
    assert "đã nhập" in refused.get_data(as_text=True) and "ln-02" in units_of(SOURCE)
    assert [e.unit_id for e in events(SOURCE, "unit_remove")] == [unit_id("ln-16")]
    # adding a unit already in the campaign is refused at the field
    before = counts()
    again = compiler.post(f"/admin/campaigns/{SOURCE}/units/add", data={"unit": str(unit_id("ln-02"))})
    assert again.status_code == 422 and "Lựa chọn này không có trong danh sách" in again.get_data(as_text=True)
    assert counts() == before


# --- copy on the page ---------------------------------------------------------------------------

def test_copy_on_the_page_offers_the_next_period_and_copies(admin):
    source = campaign(SOURCE)
    page = admin.get(f"/admin/campaigns/{SOURCE}/copy").get_data(as_text=True)
    assert 'value="2024"' in page and 'value="2028"' in page  # the next five years
    assert 'value="kl49-2029"' in page and "Sơ kết 5 năm thực hiện Kết luận số 49-KL/TW" in page
    assert f'value="{source.deadline.replace(year=source.deadline.year + 5).strftime("%d/%m/%Y")}"' in page
    response = admin.post(f"/admin/campaigns/{SOURCE}/copy", data={
        "code": "kl49-2029", "name": "Sơ kết giai đoạn 2024–2028", "year_from": "2024", "year_to": "2028",
        "deadline": FUTURE})
    assert response.status_code == 302
    copy = campaign("kl49-2029")
    assert copy.name == "Sơ kết giai đoạn 2024–2028" and copy.status == "open"
    assert assignments_of("kl49-2029") == assignments_of(SOURCE) and units_of("kl49-2029") == units_of(SOURCE)
    assert copy.issuer_name == "HUYỆN ỦY LỘC NINH"
    bad = admin.post(f"/admin/campaigns/{SOURCE}/copy", data={"code": "kl49-2029", "name": "x", "year_from": "2030",
                                                              "year_to": "2029", "deadline": FUTURE})
    assert bad.status_code == 422
    assert "đã được dùng" in bad.get_data(as_text=True) and "năm đầu phải trước" in bad.get_data(as_text=True)


def test_next_name_moves_the_years_on():
    from webapp.campaigns import next_name, next_period

    yearly = Campaign(code="bc-2024", name="Báo cáo kết quả năm 2024", year_from=2024, year_to=2024,
                      deadline=dt.date(2024, 12, 10))
    offer = next_period(yearly)
    assert (offer.code, offer.name, offer.year_from, offer.year_to, offer.deadline) == (
        "bc-2025", "Báo cáo kết quả năm 2025", 2025, 2025, dt.date(2025, 12, 10))
    review = Campaign(code="so-ket", name="Sơ kết 2019–2023", year_from=2019, year_to=2023,
                      deadline=dt.date(2024, 2, 29))
    assert next_name(review, 2024, 2028) == "Sơ kết 2024–2028"
    assert next_period(review).deadline == dt.date(2029, 2, 28) and next_period(review).code == ""


# --- who may -------------------------------------------------------------------------------------

SETUP_PAGES = [("GET", "/admin/campaigns/new"), ("GET", f"/admin/campaigns/{SOURCE}/settings"),
               ("GET", f"/admin/campaigns/{SOURCE}/assignments"), ("GET", f"/admin/campaigns/{SOURCE}/copy")]
SETUP_WRITES = [f"/admin/campaigns/{SOURCE}/settings", f"/admin/campaigns/{SOURCE}/status",
                f"/admin/campaigns/{SOURCE}/assignments", f"/admin/campaigns/{SOURCE}/units/add",
                f"/admin/campaigns/{SOURCE}/units/ln-16/remove", f"/admin/campaigns/{SOURCE}/copy",
                "/admin/campaigns/new"]


def test_clerks_are_turned_away_and_change_nothing(clerk):
    for _, url in SETUP_PAGES:
        assert clerk.get(url).status_code == 403, url
    assert clerk.get("/admin/campaigns/new/units", headers={"HX-Request": "true"}).status_code == 403
    before = counts()
    for url in SETUP_WRITES:
        assert clerk.post(url, data={"status": "closed", "unit": "1", **create_form()}).status_code == 403, url
    assert counts() == before


def test_a_compiler_of_another_unit_does_not_see_this_campaign(app):
    with in_app() as session:
        unit = Unit(code="btg-khac", name="Ban Tuyên giáo Huyện ủy Bù Đốp", kind="huyen_uy", sort_order=99)
        user = User(username="btg-khac", full_name="Cán bộ tổng hợp huyện khác", role="compiler", unit=unit)
        user.set_password("demo123")
        session.add_all([unit, user])
        session.commit()
    outsider = login(app.test_client(), "btg-khac")
    for _, url in SETUP_PAGES[1:]:
        assert outsider.get(url).status_code == 404, url
    before = counts()
    for url in SETUP_WRITES[:-1]:
        assert outsider.post(url, data={"status": "closed", "unit": "1"}).status_code == 404, url
    assert counts() == before and campaign(SOURCE).status == "open"
    # the create page is theirs, for their own unit only
    page = outsider.get("/admin/campaigns/new").get_data(as_text=True)
    assert "Ban Tuyên giáo Huyện ủy Bù Đốp" in page and "Ban Tuyên giáo Huyện ủy Lộc Ninh" not in page


def test_the_staffs_campaign_list_links_to_the_set_up(compiler, admin):
    for client in (compiler, admin):
        page = client.get("/").get_data(as_text=True)
        assert 'href="/admin/campaigns/new"' in page and "Tạo đợt báo cáo" in page
        for what in ("settings", "assignments", "copy"):
            assert f'href="/admin/campaigns/{SOURCE}/{what}"' in page


def test_an_administrator_sets_up_any_campaign(admin):
    for _, url in SETUP_PAGES:
        assert admin.get(url).status_code == 200, url
    page = admin.get("/admin/campaigns/new").get_data(as_text=True)
    compilers = re.search(r'<select[^>]*id="compiler".*?</select>', page, re.S).group(0)
    assert "Ban Tuyên giáo Huyện ủy Lộc Ninh" in compilers and "Xã Lộc Hòa" not in compilers
