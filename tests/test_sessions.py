"""Sign-in sessions kept on the server (issue 12, items 4 and 10): signing out ends the session, so a
copied session or remember cookie replayed afterwards opens nothing; a password change ends the
account's other sessions; an administrator can end all of an account's sessions; the form token
(CSRF) is renewed at sign-in."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from conftest import CURRENT, _app_on_copy, in_app, login
from webapp.models import AuditEvent, User, UserSession


def user(username: str) -> User:
    with in_app() as session:
        found = session.scalar(select(User).where(User.username == username))
        session.expunge(found)
        return found


def signed_out(client) -> bool:
    response = client.get("/")
    return response.status_code == 302 and "/login" in response.headers["Location"]


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def replay(app, name: str, value: str):
    """A new browser holding only a copy of one cookie."""
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def open_sessions(username: str) -> int:
    uid = user(username).id
    with in_app() as session:
        return session.scalar(select(func.count()).select_from(UserSession)
                              .where(UserSession.user_id == uid, UserSession.ended_at.is_(None)))


# --- sign-out ends the session ----------------------------------------------------------------------

def test_a_session_cookie_copied_before_sign_out_opens_nothing_after_it(app):
    clerk = login(app.test_client(), "ln-02")
    copied = clerk.get_cookie("session").value
    assert signed_in(replay(app, "session", copied))  # the copy works while the session lasts
    assert clerk.post("/logout").status_code == 302
    assert signed_out(replay(app, "session", copied))
    assert signed_out(clerk)


def test_a_remember_cookie_copied_before_sign_out_opens_nothing_after_it(app):
    clerk = app.test_client()
    response = clerk.post("/login", data={"username": "ln-02", "password": "demo123", "remember": "y"})
    assert response.status_code == 302
    remembered = clerk.get_cookie("remember_token").value
    assert signed_in(replay(app, "remember_token", remembered))  # a new browser session, remembered
    clerk.post("/logout")
    assert signed_out(replay(app, "remember_token", remembered))


def test_signing_out_ends_only_that_session(app):
    first, second = login(app.test_client(), "ln-02"), login(app.test_client(), "ln-02")
    assert open_sessions("ln-02") == 2
    first.post("/logout")
    assert signed_out(first) and signed_in(second)
    assert open_sessions("ln-02") == 1


def test_each_sign_in_is_its_own_session_with_only_a_digest_of_its_token_stored(app):
    clerk = app.test_client()
    clerk.post("/login", data={"username": "ln-02", "password": "demo123"}, environ_base={
        "REMOTE_ADDR": "10.1.2.3", "HTTP_USER_AGENT": "Trình duyệt thử"})
    with clerk.session_transaction() as cookie_session:
        uid, token = cookie_session["_user_id"].split(":")
    assert int(uid) == user("ln-02").id and len(token) >= 32
    with in_app() as session:
        [row] = session.scalars(select(UserSession).where(UserSession.user_id == int(uid)))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.token_hash, row.ip, row.user_agent)
        assert (row.ip, row.user_agent, row.ended_at) == ("10.1.2.3", "Trình duyệt thử", None)


@pytest.mark.parametrize("stored_id", ["{uid}:{stamp}", "{uid}", "{uid}:", ":", "abc:def", "99999:x",
                                       "{uid}:" + "A" * 43, "{uid}:\u00e9t\u00e9", ""])
def test_old_or_forged_session_ids_are_simply_signed_out(app, stored_id):
    """Cookies of the stamp format used before sessions were kept on the server (the id and a digest of
    the password hash), and anything else that is not a session: signed out, no error."""
    ln02 = user("ln-02")
    stamp = hashlib.sha256(ln02.password_hash.encode()).hexdigest()[:16]
    client = app.test_client()
    with client.session_transaction() as cookie_session:
        cookie_session["_user_id"] = stored_id.format(uid=ln02.id, stamp=stamp)
        cookie_session["_fresh"] = True
    assert signed_out(client)


def test_an_inactive_account_is_signed_out(app):
    clerk = login(app.test_client(), "ln-02")
    with in_app() as session:
        session.scalar(select(User).where(User.username == "ln-02")).active = False
        session.commit()
    assert signed_out(clerk)


# --- password changes and an administrator's decisions ---------------------------------------------

def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app):
    here, elsewhere = login(app.test_client(), "ln-02"), app.test_client()
    elsewhere.post("/login", data={"username": "ln-02", "password": "demo123", "remember": "y"})
    remembered = elsewhere.get_cookie("remember_token").value
    response = here.post("/password", data={"current": "demo123", "new": "mat khau moi", "confirm": "mat khau moi"})
    assert response.status_code == 302
    assert signed_in(here)
    assert signed_out(elsewhere) and signed_out(replay(app, "remember_token", remembered))
    assert open_sessions("ln-02") == 1


def end_sessions(client, username: str):
    return client.post(f"/admin/users/{user(username).id}/end-sessions")


def test_an_administrator_ends_every_session_of_an_account(app, admin):
    phone, desk = login(app.test_client(), "ln-03"), app.test_client()
    desk.post("/login", data={"username": "ln-03", "password": "demo123", "remember": "y"})
    remembered = desk.get_cookie("remember_token").value
    other_account = login(app.test_client(), "ln-04")
    page = admin.get("/admin/units").get_data(as_text=True)
    assert f'/admin/users/{user("ln-03").id}/end-sessions' in page and "Kết thúc mọi phiên đăng nhập" in page
    response = end_sessions(admin, "ln-03")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/units"
    assert "Đã kết thúc 2 phiên đăng nhập của tài khoản ln-03" in admin.get("/admin/units").get_data(as_text=True)
    assert signed_out(phone) and signed_out(desk) and signed_out(replay(app, "remember_token", remembered))
    assert signed_in(other_account) and signed_in(admin)
    assert open_sessions("ln-03") == 0
    with in_app() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "sessions_end")).one()
        assert (event.new, event.old, event.user_id) == ("ln-03", "2", user("admin").id)
    # the account signs in again as usual
    assert signed_in(login(app.test_client(), "ln-03"))


def test_only_an_administrator_ends_sessions_and_not_their_own(app, clerk, compiler, admin):
    target = login(app.test_client(), "ln-03")
    for who in (clerk, compiler):
        assert end_sessions(who, "ln-03").status_code == 403
    assert end_sessions(app.test_client(), "ln-03").status_code == 302  # to the sign-in page
    assert signed_in(target)
    assert end_sessions(admin, "admin").status_code == 400
    assert admin.post("/admin/users/99999/end-sessions").status_code == 404
    assert "end-sessions" not in compiler.get("/admin/units").get_data(as_text=True)


def test_a_password_reset_ends_every_session_of_the_account(app, admin):
    held = login(app.test_client(), "ln-03")
    admin.post(f"/admin/users/{user('ln-03').id}/reset-password")
    assert signed_out(held) and open_sessions("ln-03") == 0


def test_last_seen_is_kept_without_a_write_on_every_request(app, monkeypatch):
    import datetime as dt

    from webapp.auth import throttle

    at = {"now": dt.datetime(2024, 5, 3, 8, 0)}
    monkeypatch.setattr(throttle, "now", lambda: at["now"])
    clerk = login(app.test_client(), "ln-02")

    def last_seen():
        with in_app() as session:
            return session.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == user("ln-02").id))

    at["now"] += dt.timedelta(minutes=1)
    clerk.get("/")
    assert last_seen() == dt.datetime(2024, 5, 3, 8, 0)
    at["now"] += dt.timedelta(minutes=10)
    clerk.get("/")
    assert last_seen() == dt.datetime(2024, 5, 3, 8, 11)


# --- item 10: a new form token at sign-in ---------------------------------------------------------

@pytest.fixture
def csrf_app(demo_db, tmp_path):
    yield from _app_on_copy(demo_db, tmp_path, WTF_CSRF_ENABLED=True)


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def meta_token(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def test_the_form_token_from_before_sign_in_is_not_accepted_after_it(csrf_app):
    client = csrf_app.test_client()
    before = form_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "ln-02", "password": "demo123", "csrf_token": before})
    assert response.status_code == 302
    cell = "/campaigns/kl49-2024/tables/II.1.5/cells/2019/xa_tong"
    assert client.post(cell, data={"value": "45"}, headers={"X-CSRFToken": before}).status_code == 400
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400
    assert signed_in(client)
    after = meta_token(client.get("/").get_data(as_text=True))
    assert after != before
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302
    assert signed_out(client)


def test_signing_out_and_in_again_gives_yet_another_token(csrf_app):
    client = csrf_app.test_client()
    first = form_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "ln-02", "password": "demo123", "csrf_token": first})
    signed_in_token = meta_token(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": signed_in_token})
    second = form_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "ln-03", "password": "demo123", "csrf_token": second})
    assert meta_token(client.get("/").get_data(as_text=True)) not in (first, signed_in_token, second)


# --- PostgreSQL ------------------------------------------------------------------------------------

@pytest.mark.postgres
def test_sessions_end_on_postgresql(pg_app):
    CURRENT["app"] = pg_app
    clerk = pg_app.test_client()
    clerk.post("/login", data={"username": "ln-02", "password": "demo123", "remember": "y"})
    copied, remembered = clerk.get_cookie("session").value, clerk.get_cookie("remember_token").value
    elsewhere = login(pg_app.test_client(), "ln-02")
    assert signed_in(replay(pg_app, "session", copied))
    clerk.post("/logout")
    assert signed_out(replay(pg_app, "session", copied))
    assert signed_out(replay(pg_app, "remember_token", remembered))
    assert signed_in(elsewhere)
    admin = login(pg_app.test_client(), "admin")
    assert end_sessions(admin, "ln-02").status_code == 302
    assert signed_out(elsewhere)
