"""CSRF protection, with the app made as in production (WTF_CSRF_ENABLED=True).

Every state-changing route (every rule that accepts POST) is called by a user who may use it, once
without the token (form field or ``X-CSRFToken`` header; htmx requests included): 400 and nothing
changed. Then the same request with the token the page gave (the form's hidden field, or the
``<meta name="csrf-token">`` that app.js sends as ``X-CSRFToken`` with htmx) goes through and does
change something: the 400 is the protection, not a request that could never succeed.

A POST route added without a case here fails ``test_every_post_route_has_a_case``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import openpyxl
import pytest
from sqlalchemy import func, select

from conftest import _app_on_copy, in_app, stored, unit_id
from test_routes_roles import word_report
from webapp.domain.layout import build_layout
from webapp.models import AuditEvent, Campaign, CampaignUnit, CellValue, ListRow, ReturnNote, Unit, User

CAMPAIGN = "kl49-2024"
C = f"/campaigns/{CAMPAIGN}"
NEW_PASSWORD = "mat-khau-moi-2024"
ROW = {"the_loai": "Nghị quyết", "so_hieu": "07-NQ/ĐU", "ngay_ban_hanh": "12/06/2019",
       "trich_yeu": "Về công tác khuyến học", "co_quan": "Đảng ủy xã Lộc Hòa"}


@pytest.fixture
def csrf_app(demo_db, tmp_path):
    """The app on a fresh copy of the demo database, with CSRF protection on."""
    yield from _app_on_copy(demo_db, tmp_path, WTF_CSRF_ENABLED=True)


# --- tokens ---------------------------------------------------------------------------------------

def form_token(html: str) -> str:
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'<input[^>]*value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, "no csrf_token field in the form"
    return match.group(1)


def meta_token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no <meta name=\"csrf-token\"> in the page"
    return match.group(1)


def sign_in(app, username: str):
    """Sign in as a browser does: the token comes from the sign-in form."""
    client = app.test_client()
    token = form_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": "demo123", "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def page_token(client, path: str = "/") -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return meta_token(response.get_data(as_text=True))


# --- the state a refused POST must leave alone --------------------------------------------------

def db_state():
    with in_app() as session:
        return {
            "values": session.execute(select(CellValue.id, CellValue.num, CellValue.text, CellValue.version)
                                      .order_by(CellValue.id)).all(),
            "list rows": session.execute(select(ListRow.id, ListRow.data, ListRow.version).order_by(ListRow.id)).all(),
            "campaigns": session.execute(select(Campaign.code, Campaign.name, Campaign.status)
                                         .order_by(Campaign.id)).all(),
            "audit events": dict(session.execute(select(AuditEvent.action, func.count())
                                                 .group_by(AuditEvent.action)).all()),
            "parts": session.execute(select(CampaignUnit.unit_id, CampaignUnit.status, CampaignUnit.revision,
                                            CampaignUnit.return_reason, CampaignUnit.extended_until)
                                     .order_by(CampaignUnit.unit_id)).all(),
            "campaigns": session.execute(select(Campaign.id, Campaign.status)).all(),
            "return notes": session.scalar(select(func.count()).select_from(ReturnNote)),
            "accounts": session.execute(select(User.id, User.password_hash, User.must_change_password)
                                        .order_by(User.id)).all(),
        }


def changed(before: dict, after: dict) -> list[str]:
    return [key for key in before if before[key] != after[key]]


# --- the cases: one or more per POST route --------------------------------------------------------

def list_row_id(unit_code: str) -> int:
    """A row of the unit's table I (the demo gave Lộc Hòa none: one is added)."""
    uid = unit_id(unit_code)
    with in_app() as session:
        rid = session.scalar(select(ListRow.id).where(ListRow.unit_id == uid, ListRow.table_code == "I"))
        if rid is None:
            campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
            row = ListRow(campaign_id=campaign.id, unit_id=uid, table_code="I",
                          data={**ROW, "ngay_ban_hanh": "2019-06-12"})
            session.add(row)
            session.commit()
            rid = row.id
        return rid


def inactive_unit(code: str) -> int:
    """The unit's id, deactivated first (so that reactivating it changes something)."""
    with in_app() as session:
        unit = session.scalar(select(Unit).where(Unit.code == code))
        unit.active = False
        session.commit()
        return unit.id


def inactive_user(username: str) -> int:
    """The account's id, deactivated first (so that reactivating it changes something)."""
    with in_app() as session:
        user = session.scalar(select(User).where(User.username == username))
        user.active = False
        session.commit()
        return user.id


def changed_template(unit_code: str) -> bytes:
    """The unit's Excel template with II.1.5's 2019 total raised by 7."""
    from webapp.exchange import write_unit_template

    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
        out = io.BytesIO()
        write_unit_template(session, campaign, session.scalar(select(Unit).where(Unit.code == unit_code)), out)
        table, years = campaign.outline.table("II.1.5"), campaign.years
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    cell = wb[table.sheet][build_layout(table, years).find("2019", "xa_tong").address]
    cell.value = (cell.value or 0) + 7
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def extension_day() -> str:
    with in_app() as session:
        deadline = session.scalar(select(Campaign.deadline).where(Campaign.code == CAMPAIGN))
    return (deadline + dt.timedelta(days=5)).isoformat()


def user_id(username: str) -> int:
    with in_app() as session:
        return session.scalar(select(User.id).where(User.username == username))


@dataclass
class Case:
    endpoint: str
    user: str | None  # None: an anonymous visitor
    build: Callable[[], dict]  # client.open's arguments, without any token
    htmx: bool = False  # the token goes in X-CSRFToken (else in the form's csrf_token field)
    token_page: str = "/"  # the page the token is taken from
    changes: bool = True  # False: a request that only shows something (a preview), changing nothing

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.user or 'anonymous'}{'-htmx' if self.htmx else ''}"


CELL = f"{C}/tables/II.1.5/cells/2019/xa_tong"  # entry.save_cell: the page's script sends the token in a header


def version(unit_code: str, row: str, col: str = "xa_tong") -> str:
    """The version the page shows for a cell of II.1.5 (0: never stored): a change carries it."""
    cell = stored(unit_code, "II.1.5", row, col)
    return str(cell.version if cell else 0)


def row_version(row_id: int) -> str:
    with in_app() as session:
        return str(session.get(ListRow, row_id).version)


def cell_save(value: str, **query) -> Callable[[], dict]:
    return lambda: {"path": CELL, "query_string": query,
                    "data": {"value": value, "version": version(query.get("unit", "ln-02"), "2019")}}


CASES = [
    Case("auth.login", None, lambda: {"path": "/login", "data": {"username": "ln-02", "password": "demo123"}},
         token_page="/login"),
    Case("auth.logout", "ln-02", lambda: {"path": "/logout"}),
    Case("auth.logout", "ln-02", lambda: {"path": "/logout", "headers": {"HX-Request": "true"}}, htmx=True),
    Case("auth.change_password", "ln-02", lambda: {"path": "/password", "data": {
        "current": "demo123", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD}}, token_page="/password"),
    Case("entry.save_cell", "ln-02", cell_save("40"), htmx=True, token_page=f"{C}/tables/II.1.5"),
    Case("entry.save", "ln-02", lambda: {"path": f"{C}/tables/II.1.5", "data": {
        "cell:2019:xa_tong": "41", "cell:2020:xa_tong": "42",
        "v:2019:xa_tong": version("ln-02", "2019"), "v:2020:xa_tong": version("ln-02", "2020")}},
        token_page=f"{C}/tables/II.1.5"),
    Case("entry.save_cell", "ln-btg", cell_save("300", unit="ln-01"), htmx=True,  # a compiler's correction
         token_page=f"{C}/tables/II.1.5?unit=ln-01&sua=1"),
    Case("entry.add_row", "ln-02", lambda: {"path": f"{C}/tables/I/rows", "headers": {"HX-Request": "true"},
                                            "data": {f"new:{k}": v for k, v in ROW.items()}},
         htmx=True, token_page=f"{C}/tables/I"),
    Case("entry.edit_row", "ln-02", lambda: (lambda rid: {
        "path": f"{C}/tables/I/rows/{rid}", "headers": {"HX-Request": "true"},
        "data": {**{f"row:{rid}:{k}": v for k, v in {**ROW, "so_hieu": "08-NQ/ĐU"}.items()},
                 f"v:row:{rid}": row_version(rid)}})(list_row_id("ln-02")),
        htmx=True, token_page=f"{C}/tables/I"),
    Case("entry.delete_row", "ln-02", lambda: (lambda rid: {
        "path": f"{C}/tables/I/rows/{rid}/delete", "headers": {"HX-Request": "true"},
        "data": {f"v:row:{rid}": row_version(rid)}})(list_row_id("ln-02")),
         htmx=True, token_page=f"{C}/tables/I"),
    Case("entry.submit", "ln-02", lambda: {"path": f"{C}/submit", "data": {"confirm_gaps": "y"}},
         token_page=f"{C}/submit"),
    Case("xlsx.upload", "ln-02", lambda: {"path": f"{C}/import", "content_type": "multipart/form-data",
                                          "data": {"workbook": (io.BytesIO(changed_template("ln-02")), "mau.xlsx")}},
         token_page=f"{C}/import"),
    Case("review.submit_feed", "ln-btg", lambda: {"path": f"{C}/feeds/kl49-tinh-2024/submit"},
         token_page=f"{C}/dashboard"),
    Case("review.accept", "ln-btg", lambda: {"path": f"{C}/units/ln-01/accept"}, token_page=f"{C}/units/ln-01"),
    Case("review.return_part", "ln-btg", lambda: {"path": f"{C}/units/ln-03/return", "data": {
        "reason": "Kiểm tra lại số liệu năm 2019", "table": "II.1.5", "row": "2019", "col": ""}},
        token_page=f"{C}/units/ln-03"),
    Case("review.reopen", "ln-btg", lambda: {"path": f"{C}/units/ln-03/reopen"}, token_page=f"{C}/units/ln-03"),
    Case("review.extend", "ln-btg", lambda: {"path": f"{C}/units/ln-02/extend", "data": {"until": extension_day()}},
         token_page=f"{C}/units/ln-02"),
    Case("review.decide", "ln-btg", lambda: {"path": f"{C}/decide", "data": {
        "action": "accept", "units": ["ln-01", "ln-10"], "reason": ""}}, token_page=f"{C}/dashboard"),
    Case("review.campaign_status", "ln-btg", lambda: {"path": f"{C}/status", "data": {"status": "closed"}},
         token_page=f"{C}/dashboard"),
    Case("admin.reset_password", "admin", lambda: {"path": f"/admin/users/{user_id('ln-16')}/reset-password"},
         token_page="/admin/units"),
    Case("admin.end_all_sessions", "admin", lambda: {"path": f"/admin/users/{user_id('ln-16')}/end-sessions"},
         token_page="/admin/units"),
    Case("admin.new_unit", "admin", lambda: {"path": "/admin/units/new", "data": {
        "code": "ln-17", "name": "Xã Lộc Mới", "kind": "xa", "parent": str(unit_id("ln")), "phone": "",
        "sort_order": ""}}, token_page="/admin/units/new"),
    Case("admin.edit_unit", "admin", lambda: {"path": f"/admin/units/{unit_id('ln-15')}/edit", "data": {
        "name": "Phường Lộc Thịnh", "kind": "xa", "parent": str(unit_id("ln")), "phone": "", "sort_order": "15"}},
         token_page="/admin/units"),
    Case("admin.deactivate_unit", "admin", lambda: {"path": f"/admin/units/{unit_id('ln-15')}/deactivate"},
         token_page="/admin/units"),
    Case("admin.activate_unit", "admin", lambda: {"path": f"/admin/units/{inactive_unit('ln-15')}/activate"},
         token_page="/admin/units"),
    Case("admin.new_user", "admin", lambda: {"path": "/admin/users/new", "data": {
        "username": "ln-17", "full_name": "", "role": "clerk", "unit": str(unit_id("ln-15"))}},
         token_page="/admin/users/new"),
    Case("admin.edit_user", "admin", lambda: {"path": f"/admin/users/{user_id('ln-15')}/edit", "data": {
        "full_name": "Nguyễn Văn An", "role": "clerk", "unit": str(unit_id("ln-15"))}}, token_page="/admin/units"),
    Case("admin.deactivate_user", "admin", lambda: {"path": f"/admin/users/{user_id('ln-15')}/deactivate"},
         token_page="/admin/units"),
    Case("admin.activate_user", "admin", lambda: {"path": f"/admin/users/{inactive_user('ln-15')}/activate"},
         token_page="/admin/units"),
]


def later(days: int) -> str:
    import datetime as dt

    from conftest import DEMO_TODAY

    return (DEMO_TODAY + dt.timedelta(days=days)).strftime("%d/%m/%Y")


def campaign_settings(**changes) -> dict:
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
        return {"name": campaign.name, "description": campaign.description,
                "deadline": campaign.deadline.strftime("%d/%m/%Y"),
                "issuer_is_party": "party" if campaign.issuer_is_party else "state", **changes}


def ticks_plus(extra: str) -> list[str]:
    """The assignment grid as shown, with one more tick (``unit code|table|group``)."""
    from webapp.models import Assignment

    code, table, group = extra.split("|")
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
        shown = [f"{u}|{t}|{g}" for u, t, g in session.execute(
            select(Assignment.unit_id, Assignment.table_code, Assignment.group_key)
            .where(Assignment.campaign_id == campaign.id))]
    return shown + [f"{unit_id(code)}|{table}|{group}"]


def fresh_unit(code: str, in_campaign: bool = False) -> int:
    """A new commune of the district (in the campaign, having stored nothing, with ``in_campaign``)."""
    from webapp.models import Unit

    with in_app() as session:
        existing = session.scalar(select(Unit).where(Unit.code == code))
        if existing is not None:
            return existing.id
        unit = Unit(code=code, name=f"Xã thử {code}", kind="xa", parent_id=unit_id("ln"), sort_order=90)
        session.add(unit)
        session.flush()
        if in_campaign:
            campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
            session.add(CampaignUnit(campaign_id=campaign.id, unit_id=unit.id))
        session.commit()
        return unit.id


def kl49_version(version: int) -> str:
    from webapp.domain.outline import OUTLINE_DIR

    return (OUTLINE_DIR / "kl49.yaml").read_text(encoding="utf-8").replace("\nversion: 2\n", f"\nversion: {version}\n", 1)


def outline_save(version: int) -> dict:
    import hashlib

    text = kl49_version(version)
    return {"path": "/admin/outlines/save",
            "data": {"text": text, "digest": hashlib.sha256(text.encode()).hexdigest(), "filename": "v.yaml"}}


A = "/admin" + C
CASES += [
    Case("admin.campaign_create", "admin", lambda: {"path": "/admin/campaigns/new", "data": {
        "outline": "kl49@1", "code": "csrf-dot", "name": "Đợt thử", "year_from": "2024", "year_to": "2024",
        "deadline": later(30), "compiler": str(unit_id("ln-btg")), "units": [str(unit_id("ln-02"))],
        "issuer_is_party": "party", "submit": "Tạo đợt báo cáo"}}, token_page="/admin/campaigns/new"),
    Case("admin.campaign_settings", "admin", lambda: {"path": f"{A}/settings",
                                                      "data": campaign_settings(name="Tên đợt đã sửa")},
         token_page=f"{A}/settings"),
    Case("admin.campaign_status", "admin", lambda: {"path": f"{A}/status", "data": {"status": "closed"}},
         token_page=f"{A}/settings"),
    Case("admin.campaign_assignments", "admin", lambda: {"path": f"{A}/assignments",
                                                         "data": {"a": ticks_plus("ln-02|II.1.4|tu_xa")}},
         token_page=f"{A}/assignments"),
    Case("admin.campaign_add_unit", "admin", lambda: {"path": f"{A}/units/add",
                                                      "data": {"unit": str(fresh_unit("ln-17"))}},
         token_page=f"{A}/assignments"),
    Case("admin.campaign_remove_unit", "admin", lambda: (fresh_unit("ln-18", in_campaign=True),
                                                         {"path": f"{A}/units/ln-18/remove"})[1],
         token_page=f"{A}/assignments"),
    Case("admin.campaign_copy", "admin", lambda: {"path": f"{A}/copy", "data": {
        "code": "csrf-copy", "name": "Kỳ sau", "year_from": "2024", "year_to": "2028", "deadline": later(40)}},
         token_page=f"{A}/copy"),
    Case("admin.outline_upload", "admin", lambda: {
        "path": "/admin/outlines/upload", "content_type": "multipart/form-data",
        "data": {"file": (io.BytesIO(kl49_version(3).encode()), "v3.yaml")}},
         token_page="/admin/outlines/upload", changes=False),
    Case("admin.outline_save", "admin", lambda: outline_save(3), token_page="/admin/outlines/upload"),
    Case("narrate.upload", "ln-02", lambda: {"path": f"{C}/narrative/upload", "content_type": "multipart/form-data",
                                            "data": {"document": (io.BytesIO(word_report("p1_ii_1", "Trả lời")),
                                                                  "bao-cao.docx")}},
         token_page=f"{C}/narrative/upload"),
    Case("narrate.save_answer", "ln-02", lambda: {"path": f"{C}/narrative/p1_ii_1",
                                                  "data": {"value": "<p>Trả lời</p>", "version": "0"}},
         htmx=True, token_page=f"{C}/narrative"),
    Case("narrate.save_draft", "ln-btg", lambda: {"path": f"{C}/narrative/draft/p1_iii_1",
                                                  "data": {"value": "<p>Dự thảo</p>", "version": "0"}},
         htmx=True, token_page=f"{C}/narrative/compile?section=p1_iii_1"),
    Case("admin.import_units", "admin", lambda: {
        "path": "/admin/units/import", "content_type": "multipart/form-data",
        "data": {"listfile": (io.BytesIO("code,name,kind\ncsrf-ds,Đơn vị thử danh sách,huyen\n".encode()), "ds.csv")}},
         token_page="/admin/units/import"),
]


def test_every_post_route_has_a_case(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert posts == {case.endpoint for case in CASES}


def with_token(kwargs: dict, token: str, htmx: bool) -> dict:
    if htmx:
        return {**kwargs, "headers": {**kwargs.get("headers", {}), "X-CSRFToken": token}}
    return {**kwargs, "data": {**kwargs.get("data", {}), "csrf_token": token}}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_a_post_without_the_token_is_refused_and_with_it_goes_through(csrf_app, case):
    client = sign_in(csrf_app, case.user) if case.user else csrf_app.test_client()
    token = (form_token if case.user is None else meta_token)(client.get(case.token_page).get_data(as_text=True))
    kwargs = case.build()  # before the snapshot: it may add the list row the request is about
    before = db_state()

    response = client.post(**kwargs)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert not changed(before, db_state())
    # still signed in (a refused sign-out) or still anonymous (a refused sign-in)
    assert client.get("/").status_code == (200 if case.user else 302)

    response = client.post(**with_token(case.build(), token, case.htmx))
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:300]
    assert response.status_code != 302 or "/login" not in response.headers["Location"] \
        or case.endpoint == "auth.logout"
    if case.changes:
        assert changed(before, db_state()), "the request with the token changed nothing: the case proves nothing"
    else:  # a preview: answered, not refused, and still nothing stored
        assert response.status_code == 200 and not changed(before, db_state())


def test_a_cell_save_with_the_pages_token_is_stored(csrf_app):
    clerk = sign_in(csrf_app, "ln-02")
    token = page_token(clerk, f"{C}/tables/II.1.5")
    seen = version("ln-02", "2019")
    response = clerk.post(CELL, data={"value": "45", "version": seen})
    assert response.status_code == 400
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num != 45
    response = clerk.post(CELL, data={"value": "45", "version": seen}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith('<td id="td-2019-xa_tong"')
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == 45


def test_a_token_is_bound_to_its_session(csrf_app):
    """Another signed-in user's token (or a token from before signing in) is no token."""
    other_token = page_token(sign_in(csrf_app, "ln-03"), f"{C}/tables/II.1.5")
    clerk = sign_in(csrf_app, "ln-02")
    before = db_state()
    response = clerk.post(CELL, data={"value": "46"}, headers={"X-CSRFToken": other_token})
    assert response.status_code == 400
    response = clerk.post(f"{C}/tables/II.1.5", data={"cell:2019:xa_tong": "46", "csrf_token": "not-a-token"})
    assert response.status_code == 400
    assert not changed(before, db_state())


def test_signing_in_needs_the_forms_token(csrf_app):
    client = csrf_app.test_client()
    before = db_state()
    response = client.post("/login", data={"username": "ln-02", "password": "demo123"})
    assert response.status_code == 400
    assert not changed(before, db_state())  # not even a failed sign-in is recorded
    assert client.get("/").status_code == 302
    token = form_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "ln-02", "password": "demo123", "csrf_token": token})
    assert response.status_code == 302 and client.get("/").status_code == 200
