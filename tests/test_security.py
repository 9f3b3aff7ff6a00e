"""Security: response headers, Secure cookies over HTTPS, sign-in throttling and the account audit,
administrators' password resets and the forced password change."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from conftest import Clock, _app_on_copy, htmx_headers, in_app, login
from webapp.models import AuditEvent, User

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def events(action: str | None = None) -> list[AuditEvent]:
    with in_app() as session:
        query = select(AuditEvent).where(AuditEvent.action.in_(
            [action] if action else ["login", "login_failed", "logout", "password_reset", "password_change"]))
        rows = list(session.scalars(query.order_by(AuditEvent.id)))
        session.expunge_all()
        return rows


def user(username: str) -> User:
    with in_app() as session:
        found = session.scalar(select(User).where(User.username == username))
        session.expunge(found)
        return found


def attempt(client, username: str, password: str, **kw):
    return client.post("/login", data={"username": username, "password": password}, **kw)


def set_cookies(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


# ------------------------------------------------------------------------------------------ headers

@pytest.mark.parametrize("path", ["/login", "/static/app.css", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_signed_in_pages_carry_the_headers_too(compiler):
    for path in ("/", "/campaigns/kl49-2024/dashboard", "/admin/units"):
        response = compiler.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Security-Policy"] == CSP, path


def test_templates_hold_no_inline_script_style_or_handler():
    """What the policy would block: inline <script>/<style>, style= and on*= attributes, javascript:."""
    from pathlib import Path

    pattern = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|hx-on|javascript:", re.I)
    root = Path(__file__).resolve().parent.parent / "templates"
    found = [f"{p.relative_to(root)}: {m.group(0)}" for p in root.rglob("*.html")
             for m in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert found == []


# ------------------------------------------------------------------------------------------ cookies

def test_session_cookie_is_not_secure_over_http(client):
    response = attempt(client, "ln-02", "demo123", base_url="http://localhost")
    cookie = set_cookies(response)["session"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_and_remember_cookies_are_secure_over_https(client):
    response = client.post("/login", data={"username": "ln-02", "password": "demo123", "remember": "y"},
                           base_url="https://phuluc.example")
    assert response.status_code == 302
    cookies = set_cookies(response)
    for name in ("session", "remember_token"):
        assert "; Secure" in cookies[name] and "HttpOnly" in cookies[name], cookies[name]
        assert "SameSite=Lax" in cookies[name]


def test_remember_cookie_is_not_secure_over_http(client):
    response = client.post("/login", data={"username": "ln-02", "password": "demo123", "remember": "y"})
    assert "Secure" not in set_cookies(response)["remember_token"]


@pytest.fixture
def proxied_app(demo_db, tmp_path):
    yield from _app_on_copy(demo_db, tmp_path, TRUSTED_PROXIES=1)


def test_behind_a_trusted_proxy_the_forwarded_scheme_and_address_count(proxied_app):
    client = proxied_app.test_client()
    response = attempt(client, "ln-02", "demo123",
                       headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
    assert "; Secure" in set_cookies(response)["session"]
    assert events("login")[-1].ip == "203.0.113.7"


def test_without_trusted_proxies_forwarded_headers_are_ignored(client):
    response = attempt(client, "ln-02", "demo123",
                       headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
    assert "Secure" not in set_cookies(response)["session"]
    assert events("login")[-1].ip == "127.0.0.1"


def test_trusted_proxies_comes_from_the_environment(monkeypatch):
    from webapp.config import from_environment

    assert from_environment({})["TRUSTED_PROXIES"] == 0
    assert from_environment({"TRUSTED_PROXIES": "1"})["TRUSTED_PROXIES"] == 1


# ------------------------------------------------------------------------------- NUL characters

def audit_count() -> int:
    from sqlalchemy import func
    with in_app() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.mark.parametrize("who, method, path, data", [
    (None, "POST", "/login", {"username": "ln-02\x00", "password": "demo123"}),
    ("clerk", "POST", "/campaigns/kl49-2024/tables/III/cells/2019/ghi_chu", {"value": "a\x00b"}),
    ("clerk", "POST", "/campaigns/kl49-2024/tables/I/rows", {"new:so_hieu\x00": "1"}),
    ("compiler", "GET", "/campaigns/kl49-2024/tables/II.1.5?unit=ln-02%00", None),
    ("compiler", "GET", "/campaigns/kl49%00-2024/dashboard", None),
])
def test_a_nul_anywhere_in_the_request_is_refused_whole(client, clerk, compiler, who, method, path, data):
    """PostgreSQL cannot hold a NUL in text: a request carrying one is refused with a message before
    any view runs, on every database, and records nothing."""
    browser = {"clerk": clerk, "compiler": compiler}.get(who, client)
    before = audit_count()
    response = browser.open(path, method=method, data=data, headers=htmx_headers("cell:2019:ghi_chu"))
    assert response.status_code == 400
    assert "ký tự không hợp lệ (NUL)" in response.get_data(as_text=True)
    assert audit_count() == before


# --------------------------------------------------------------------------------- audit, throttle

@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, dt.datetime(2024, 5, 3, 8, 0))


def test_sign_in_failure_and_sign_out_are_recorded(client, clock):
    assert attempt(client, "ln-02 ", "wrong").status_code == 401
    assert attempt(client, "nobody", "x").status_code == 401
    assert attempt(client, "ln-02", "demo123").status_code == 302
    assert client.post("/logout").status_code == 302
    recorded = [(e.action, e.new, e.ip, e.user_id, e.at) for e in events()]
    uid = user("ln-02").id
    assert recorded == [("login_failed", "ln-02", "127.0.0.1", uid, clock.at),
                        ("login_failed", "nobody", "127.0.0.1", None, clock.at),
                        ("login", "ln-02", "127.0.0.1", uid, clock.at),
                        ("logout", "ln-02", "127.0.0.1", uid, clock.at)]


def test_five_failures_lock_the_username_even_with_the_right_password(client, clock):
    for _ in range(5):
        assert attempt(client, "ln-02", "wrong").status_code == 401
        clock.advance(minutes=1)
    response = attempt(client, "ln-02", "demo123")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    # the last failure was a minute ago: 14 minutes to wait
    assert "quá nhiều lần" in page and "đợi 14 phút" in page
    assert response.headers["Retry-After"] == str(14 * 60)
    assert client.get("/").status_code == 302  # not signed in
    # the username as typed, in any case, is the same account
    assert attempt(client, "LN-02", "demo123").status_code == 429
    # other usernames are unaffected
    assert attempt(app_client(client), "ln-03", "demo123").status_code == 302
    # refused attempts are counted (not recorded one by one) and do not prolong the wait
    assert [e.old for e in events("login_failed")] == ["password"] * 5
    assert [(e.new, e.old) for e in events("login_locked")] == [("ln-02", "user")]
    clock.advance(minutes=13, seconds=59)
    assert "đợi 1 phút" in attempt(client, "ln-02", "demo123").get_data(as_text=True)
    clock.advance(seconds=2)  # 15 minutes after the last failure
    assert attempt(client, "ln-02", "demo123").status_code == 302
    assert [(e.new, e.old) for e in events("login_throttled")] == [("ln-02", "3")]  # the count, once


def app_client(client):
    return client.application.test_client()


def test_failures_spread_beyond_the_window_do_not_lock(client, clock):
    for _ in range(8):
        assert attempt(client, "ln-02", "wrong").status_code == 401
        clock.advance(minutes=4)  # never 5 within 15 minutes
    assert attempt(client, "ln-02", "demo123").status_code == 302


def test_a_successful_sign_in_clears_the_count(client, clock):
    for _ in range(4):
        attempt(client, "ln-02", "wrong")
    login(client, "ln-02")
    client.post("/logout")
    for _ in range(4):
        assert attempt(client, "ln-02", "wrong").status_code == 401
    assert attempt(client, "ln-02", "demo123").status_code == 302


def test_thirty_failures_from_one_address_lock_that_address(client, clock):
    for i in range(30):
        assert attempt(client, f"guess-{i}", "x").status_code == 401
    response = attempt(client, "ln-04", "demo123")
    assert response.status_code == 429 and "Máy này" in response.get_data(as_text=True)
    other = client.application.test_client()
    assert attempt(other, "ln-04", "demo123", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302
    clock.advance(minutes=15)
    assert attempt(app_client(client), "ln-04", "demo123").status_code == 302


# ---------------------------------------------------------------------------------- admin resets

def reset(client, username: str, **kw):
    return client.post(f"/admin/users/{user(username).id}/reset-password", **kw)


def slip_password(response) -> str:
    match = re.search(r'id="slip-password">([^<]+)<', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)


def test_a_reset_lifts_the_lockout_the_message_sends_the_clerk_to_it(client, admin, clock):
    """The lockout page says: wait, or ask the administrator to reset the password. The reset must
    then let the clerk in with the new password at once (the address's count is left as it is)."""
    for _ in range(5):
        assert attempt(client, "ln-03", "wrong").status_code == 401
    locked = attempt(client, "ln-03", "demo123")
    assert locked.status_code == 429 and "đặt lại mật khẩu" in locked.get_data(as_text=True)
    password = slip_password(reset(admin, "ln-03"))
    assert attempt(client, "ln-03", password).status_code == 302
    assert [(e.new, e.old) for e in events("login_throttled")] == [("ln-03", "1")]  # the refused one, counted


def test_only_administrators_may_reset(app, clerk, compiler):
    uid = user("ln-03").id
    assert clerk.post(f"/admin/users/{uid}/reset-password").status_code == 403
    assert compiler.post(f"/admin/users/{uid}/reset-password").status_code == 403
    anonymous = app.test_client().post(f"/admin/users/{uid}/reset-password")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert events("password_reset") == []
    # the compiler sees the accounts but no reset button
    assert "reset-password" not in compiler.get("/admin/units").get_data(as_text=True)


def test_reset_shows_the_slip_once_and_the_new_password_replaces_the_old(app, admin, clock):
    page = admin.get("/admin/units").get_data(as_text=True)
    assert f'/admin/users/{user("ln-03").id}/reset-password' in page
    assert f'/admin/users/{user("admin").id}/reset-password' not in page  # not one's own
    response = reset(admin, "ln-03")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    password = slip_password(response)
    assert len(password) >= 10 and not set(password) & set("0oO1lIi")
    assert "Xã Lộc An" in text and "ln-03" in text and "http://localhost/login" in text
    assert "data-print" in text and "<script>" not in text
    target = user("ln-03")
    assert target.must_change_password and target.password_hash != password
    assert target.check_password(password) and not target.check_password("demo123")
    [event] = events("password_reset")
    assert (event.new, event.user_id, event.unit_id, event.ip) == ("ln-03", user("admin").id, target.unit_id,
                                                                   "127.0.0.1")
    # the slip is not kept anywhere: the account list does not show it
    assert password not in admin.get("/admin/units").get_data(as_text=True)
    # the old password no longer works, the new one does
    clerk = app.test_client()
    assert attempt(clerk, "ln-03", "demo123").status_code == 401
    assert attempt(clerk, "ln-03", password).status_code == 302


def test_reset_passwords_differ(admin):
    assert slip_password(reset(admin, "ln-03")) != slip_password(reset(admin, "ln-03"))


def test_an_unknown_account_is_404(admin):
    assert admin.post("/admin/users/99999/reset-password").status_code == 404


@pytest.fixture
def csrf_app(demo_db, tmp_path):
    yield from _app_on_copy(demo_db, tmp_path, WTF_CSRF_ENABLED=True)


def test_reset_needs_the_csrf_token(csrf_app):
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": "admin", "password": "demo123",
                                       "csrf_token": token}).status_code == 302
    uid = user("ln-03").id
    assert client.post(f"/admin/users/{uid}/reset-password").status_code == 400
    assert user("ln-03").check_password("demo123")
    page = client.get("/admin/units").get_data(as_text=True)
    form = re.search(rf'action="/admin/users/{uid}/reset-password".*?name="csrf_token" value="([^"]+)"', page, re.S)
    response = client.post(f"/admin/users/{uid}/reset-password", data={"csrf_token": form.group(1)})
    assert response.status_code == 200 and user("ln-03").must_change_password


# ------------------------------------------------------------------------------ password changes

def change(client, current, new, confirm=None, **kw):
    return client.post("/password", data={"current": current, "new": new,
                                          "confirm": new if confirm is None else confirm}, **kw)


def test_after_a_reset_the_user_must_change_the_password_first(app, admin):
    password = slip_password(reset(admin, "ln-03"))
    clerk = app.test_client()
    response = attempt(clerk, "ln-03", password)
    assert response.headers["Location"].startswith("/password")
    for path in ("/", "/campaigns/kl49-2024/tables/II.1.5"):
        blocked = clerk.get(path)
        assert blocked.status_code == 302 and blocked.headers["Location"] == "/password", path
    blocked = clerk.post("/campaigns/kl49-2024/tables/II.1.5/cell", headers=htmx_headers("c"))
    assert blocked.status_code == 204 and blocked.headers["HX-Redirect"] == "/password"
    assert clerk.get("/password").status_code == 200
    # the rules
    assert "ít nhất 8" in clerk.get("/password").get_data(as_text=True)
    assert "từ 8 đến 200" in change(clerk, password, "short").get_data(as_text=True)
    assert "không giống nhau" in change(clerk, password, "long enough", "long enougj").get_data(as_text=True)
    assert "phải khác" in change(clerk, password, password).get_data(as_text=True)
    assert "hiện tại không đúng" in change(clerk, "demo123", "new password 1").get_data(as_text=True)
    assert user("ln-03").must_change_password
    response = change(clerk, password, "new password 1")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert clerk.get("/").status_code == 200
    changed = user("ln-03")
    assert not changed.must_change_password and changed.check_password("new password 1")
    assert changed.password_hash.startswith(("scrypt:", "pbkdf2:"))
    [event] = events("password_change")
    assert (event.new, event.user_id) == ("ln-03", changed.id)
    # signing out stays possible while a change is due (checked on a fresh reset)
    password = slip_password(reset(admin, "ln-03"))
    clerk = app.test_client()
    attempt(clerk, "ln-03", password)
    assert clerk.post("/logout").status_code == 302 and clerk.get("/").status_code == 302


def test_every_signed_in_user_can_change_the_password_from_the_top_bar(app, clerk):
    assert 'href="/password"' in clerk.get("/").get_data(as_text=True)
    assert change(clerk, "demo123", "a better one").status_code == 302
    clerk.post("/logout")
    assert attempt(app.test_client(), "ln-02", "demo123").status_code == 401
    assert attempt(app.test_client(), "ln-02", "a better one").status_code == 302


def test_the_change_password_page_needs_a_sign_in(client):
    response = client.get("/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_reset_or_a_password_change_signs_the_account_out_everywhere(app, admin):
    stolen = login(app.test_client(), "ln-03")  # a session someone else holds
    assert stolen.get("/").status_code == 200
    reset(admin, "ln-03")
    response = stolen.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # and the administrator's own session is untouched
    assert admin.get("/admin/units").status_code == 200


# ------------------------------------------------------------------------------------------ caching
# Whatever a signed-in user is shown or downloads is the unit's data: no browser or proxy cache may
# keep it (a shared computer, Back after signing out). Static files keep their year-long cache.

NO_STORE = "private, no-store"
BASE = "/campaigns/kl49-2024"


@pytest.mark.parametrize("path", ["/", f"{BASE}/tables/II.1.5", f"{BASE}/tables/I", "/password",
                                  f"{BASE}/submit", "/no-such-page"])
def test_a_clerks_pages_are_not_stored(clerk, path):
    response = clerk.get(path)
    assert response.status_code in (200, 404), path
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == NO_STORE, path


@pytest.mark.parametrize("path", [f"{BASE}/dashboard", f"{BASE}/appendix", f"{BASE}/breakdown/II.1.3",
                                  f"{BASE}/units/ln-03", "/admin/units"])
def test_the_staffs_pages_are_not_stored(admin, path):
    response = admin.get(path)
    assert response.status_code == 200, path
    assert response.headers["Cache-Control"] == NO_STORE, path


def test_htmx_fragments_are_not_stored(clerk, compiler):
    fragment = compiler.get(f"{BASE}/appendix/II.1.5/cell?row=2019&col=tinh_tong", headers=htmx_headers("c"))
    assert fragment.status_code == 200 and fragment.mimetype == "text/html"
    assert fragment.headers["Cache-Control"] == NO_STORE
    answer = clerk.post(f"{BASE}/tables/II.1.5/cells/2019/xa_tong", data={"value": "5"},
                        headers=htmx_headers("xa_tong"))
    assert answer.status_code < 500
    assert answer.headers["Cache-Control"] == NO_STORE


@pytest.mark.parametrize("who, path", [("clerk", f"{BASE}/template.xlsx"),
                                       ("compiler", f"{BASE}/export.xlsx"),
                                       ("compiler", f"{BASE}/template.xlsx?unit=ln-03"),
                                       ("compiler", f"{BASE}/dashboard/chua-xong.csv")])
def test_downloads_of_the_units_data_are_not_stored(request, who, path):
    response = request.getfixturevalue(who).get(path)
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == NO_STORE


def test_a_redirect_after_sign_in_and_sign_out_is_not_stored(client):
    signed_in = client.post("/login", data={"username": "ln-02", "password": "demo123"})
    assert signed_in.status_code == 302 and signed_in.headers["Cache-Control"] == NO_STORE
    signed_out = client.post("/logout")
    assert signed_out.status_code == 302
    # signed out: the login page is the same for everyone and is left as it was
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")


def test_static_files_keep_their_long_cache_for_a_signed_in_user(clerk):
    from webapp.assets import LONG_CACHE

    page = clerk.get(f"{BASE}/tables/II.1.3").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+\?v=[^"]+)"', page)
    assert len(urls) >= 3
    for url in urls:
        response = clerk.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == LONG_CACHE, url
    # an unversioned URL keeps Flask's revalidation
    assert clerk.get("/static/app.css").headers["Cache-Control"] == "no-cache"


def test_a_views_own_cache_control_is_kept(admin):
    """The password slip says no-store itself; the hook does not rewrite a view's choice."""
    response = reset(admin, "ln-03")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
