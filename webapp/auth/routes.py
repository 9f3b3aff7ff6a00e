"""Sign-in and sign-out, and the sign-in sessions kept on the server.

Each sign-in is a UserSession row with a random token; Flask-Login's session cookie and remember
cookie hold ``<user id>:<token>`` (User.get_id), and the database only the token's SHA-256. A cookie
signs its holder in only while its session has not ended: signing out ends it, a password change ends
the account's other sessions, an administrator's reset or *Kết thúc mọi phiên đăng nhập* ends all of
them. A cookie copied before any of these opens nothing afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from urllib.parse import urlsplit

from flask import (Blueprint, Response, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from ..extensions import db, login_manager
from ..models import User, UserSession, check_password
from . import throttle
from .forms import ChangePasswordForm, LoginForm

bp = Blueprint("auth", __name__)

SEEN_EVERY = dt.timedelta(minutes=5)  # how stale UserSession.last_seen_at may get (one write per that)
KEEP_ENDED = dt.timedelta(days=30)  # ended sessions are removed after this (the audit keeps the events)
DEFAULT_LIFETIME = dt.timedelta(days=365)  # Flask-Login's remember cookie lasts as long
INACTIVE_MESSAGE = ("Tài khoản này đã ngừng hoạt động nên không đăng nhập được. Những gì tài khoản đã nhập "
                    "vẫn được giữ nguyên; nếu cần dùng lại, hãy liên hệ quản trị.")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_lifetime() -> dt.timedelta:
    """How long a session may last at most: as long as the remember cookie (REMEMBER_COOKIE_DURATION)."""
    lifetime = current_app.config.get("REMEMBER_COOKIE_DURATION") or DEFAULT_LIFETIME
    return lifetime if isinstance(lifetime, dt.timedelta) else dt.timedelta(seconds=int(lifetime))


# the session with its account and the account's unit: most requests ask for it (one query, not
# two); built once, as every request runs it
_SIGNED_IN = (select(UserSession, User).join(User, UserSession.user_id == User.id).options(joinedload(User.unit))
              .where(UserSession.token_hash == bindparam("token_hash"), UserSession.user_id == bindparam("user_id"),
                     UserSession.ended_at.is_(None)))


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session or remember cookie (``<user id>:<token>``), in one query joined to the
    account; None (signed out) once that session has ended or outlived the remember cookie, for an
    inactive account, and for anything else (such as the password stamps of older cookies)."""
    user_id, _, token = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 9
            and token.isascii() and 20 <= len(token) <= 100):
        return None
    untouched = not db.session().in_transaction()  # nothing of the request's is in the session yet
    found = db.session.execute(_SIGNED_IN, {"token_hash": token_digest(token), "user_id": int(user_id)}).first()
    if found is None:
        return None
    sign_in, user = found
    at = throttle.now()
    if not user.active or at - sign_in.created_at > session_lifetime():
        return None
    if untouched and at - sign_in.last_seen_at >= SEEN_EVERY:
        sign_in.last_seen_at = at  # committed alone: the loader runs before the view's own work
        try:
            db.session.commit()
        except OperationalError:  # the database busy for longer than its timeout: next time, then
            db.session.rollback()  # (the user is read again when next used)
    user.session_token = token
    return user


def start_session(user: User) -> None:
    """A new sign-in session for ``user`` (added, not committed); ``user.get_id()`` then names it.
    Sessions ended long ago or past their lifetime are removed on the way."""
    at = throttle.now()
    db.session.execute(delete(UserSession).where(or_(UserSession.ended_at < at - KEEP_ENDED,
                                                     UserSession.created_at < at - session_lifetime())))
    token = secrets.token_urlsafe(32)
    agent = request.user_agent.string or ""
    db.session.add(UserSession(user_id=user.id, token_hash=token_digest(token), created_at=at,
                               last_seen_at=at, ip=throttle.client_ip(), user_agent=agent[:200] or None))
    user.session_token = token


ALL, OTHERS, THIS = "all", "others", "this"


def end_sessions(user: User, reason: str, which: str = ALL) -> int:
    """End the account's sessions: ALL of them, the OTHERS than the one ``user`` was loaded for, or
    THIS one only; returns how many ended (not committed)."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if which != ALL:
        if not user.session_token:
            raise ValueError("no current session to tell apart")
        mine = UserSession.token_hash == token_digest(user.session_token)
        query = query.where(mine if which == THIS else ~mine)
    return db.session.execute(query.values(ended_at=throttle.now(), ended_reason=reason[:20])).rowcount


def _renew_cookie_session() -> None:
    """At sign-in, forget everything the signed-out visitor's session held, the form token (CSRF)
    with it: a token seen before signing in (by someone who planted it) is no good after. Flask-WTF
    keeps the token in the session and caches its signed form for the request in ``g``."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never send a clerk to another host after signing in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _drop_login_prompt() -> None:
    """Flask-Login flashes "Vui lòng đăng nhập…" whenever it sends a signed-out visitor here. From a
    page deep in the app that explains the detour; on the very first visit to the home page there is
    nothing to explain, and a banner before anything was asked looks like an error."""
    flashes = session.get("_flashes")
    if flashes and any(message == login_manager.login_message for _, message in flashes):
        session["_flashes"] = [(c, m) for c, m in flashes if m != login_manager.login_message]


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; sign the user in when the name and password match.

    A username or client address with too many recent failures is refused before the password is
    even looked at; the throttle's check and its record are one step (see throttle.py). An unknown
    name costs the same password check as a known one, so the time taken does not tell them apart."""
    if current_user.is_authenticated:
        return redirect(url_for("entry.home"))
    form = LoginForm()
    status = 200
    if request.method == "GET" and (_safe_next(request.args.get("next")) or "/") == url_for("entry.home"):
        _drop_login_prompt()
    headers = {}
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            typed = form.username.data.strip()
            attempt = throttle.claim(typed, throttle.client_ip())
            if attempt.lockout:
                flash(attempt.lockout.message(attempt.at), "error")
                status = 429
                headers["Retry-After"] = str(attempt.lockout.minutes(attempt.at) * 60)
            else:
                user = db.session.scalar(select(User).where(User.username == typed))
                right = check_password(user, form.password.data)
                if right and user.active:
                    throttle.signed_in(attempt, user)
                    start_session(user)
                    db.session.commit()
                    _renew_cookie_session()
                    login_user(user, remember=form.remember.data)
                    target = _safe_next(request.args.get("next"))
                    if user.must_change_password:
                        flash("Mật khẩu của bạn vừa được quản trị đặt lại. Hãy đặt mật khẩu mới "
                              "trước khi tiếp tục.", "info")
                        return redirect(url_for("auth.change_password", next=target))
                    return redirect(target or url_for("entry.home"))
                reason = throttle.INACTIVE if user and not user.active else throttle.BAD_PASSWORD
                throttle.failed(attempt, user, reason)  # counted: no more tries than for any account
                db.session.commit()
                if right:  # only who knows the password learns that the account was deactivated
                    flash(INACTIVE_MESSAGE, "error")
                else:
                    flash("Tên đăng nhập hoặc mật khẩu không đúng.", "error")
                status = 401
    return render_template("auth/login.html", form=form), status, headers


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (a POST, so that a link elsewhere cannot sign a clerk out): this session ends on the
    server, so its cookies, or copies of them, sign nobody in again."""
    user = current_user._get_current_object()
    end_sessions(user, throttle.LOGOUT, THIS)
    throttle.record(throttle.LOGOUT, user.username, user)
    db.session.commit()
    session.clear()
    logout_user()  # after clear(): it asks for the remember cookie to be removed
    flash("Đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password: the current one, then the new one twice (8+ characters, not the
    same as the current one). Required before anything else after an administrator's reset. The
    account's other sessions end; this one continues."""
    form = ChangePasswordForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            user = current_user._get_current_object()
            attempt = throttle.claim(user.username, throttle.client_ip())
            if attempt.lockout:
                form.current.errors.append(attempt.lockout.message(attempt.at))
                status = 429
            elif not user.check_password(form.current.data):
                throttle.failed(attempt, user, throttle.BAD_CURRENT_PASSWORD)
                db.session.commit()
                form.current.errors.append("Mật khẩu hiện tại không đúng.")
            else:
                throttle.not_failed(attempt)
                if user.check_password(form.new.data):
                    db.session.commit()
                    form.new.errors.append("Mật khẩu mới phải khác mật khẩu hiện tại.")
                else:
                    user.set_password(form.new.data)
                    user.must_change_password = False
                    end_sessions(user, throttle.PASSWORD_CHANGE, OTHERS)
                    throttle.record(throttle.PASSWORD_CHANGE, user.username, user)
                    db.session.commit()
                    flash("Đã đổi mật khẩu.", "info")
                    return redirect(_safe_next(request.args.get("next")) or url_for("entry.home"))
    return render_template("auth/change_password.html", form=form,
                           forced=current_user.must_change_password), status


# Pages a user who must change the password may still open.
OPEN_WHILE_CHANGING = {"auth.change_password", "auth.logout", "auth.login", "static"}


@bp.before_app_request
def require_password_change():
    """After an administrator's reset, nothing but the change-password page (and signing out)."""
    if request.endpoint in OPEN_WHILE_CHANGING or not current_user.is_authenticated:
        return None
    if not current_user.must_change_password:
        return None
    target = url_for("auth.change_password")
    if request.headers.get("HX-Request"):
        return Response(status=204, headers={"HX-Redirect": target})
    flash("Hãy đặt mật khẩu mới trước khi tiếp tục.", "info")
    return redirect(target)
