"""Sign-in and sign-out."""

from __future__ import annotations

import hmac

from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, login_manager
from ..models import User
from . import throttle
from .forms import ChangePasswordForm, LoginForm

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session or remember cookie; None (signed out) once the password has changed."""
    user_id, _, stamp = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isascii() and user_id.isdigit() else None
    if user is None or not hmac.compare_digest(stamp, user.session_stamp):
        return None
    return user


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

    Every attempt is audited; a username or client address with too many recent failures is
    refused before the password is even looked at (see throttle.py)."""
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
            at = throttle.now()
            locked = throttle.lockout(typed, throttle.client_ip(), at)
            if locked:
                throttle.record(throttle.LOGIN_FAILED, typed, reason=throttle.THROTTLED)
                db.session.commit()
                flash(locked.message(at), "error")
                status = 429
                headers["Retry-After"] = str(locked.minutes(at) * 60)
            else:
                user = db.session.scalar(select(User).where(User.username == typed))
                if user and user.active and user.check_password(form.password.data):
                    throttle.record(throttle.LOGIN, typed, user)
                    db.session.commit()
                    login_user(user, remember=form.remember.data)
                    target = _safe_next(request.args.get("next"))
                    if user.must_change_password:
                        flash("Mật khẩu của bạn vừa được quản trị đặt lại. Hãy đặt mật khẩu mới "
                              "trước khi tiếp tục.", "info")
                        return redirect(url_for("auth.change_password", next=target))
                    return redirect(target or url_for("entry.home"))
                reason = throttle.INACTIVE if user and not user.active else throttle.BAD_PASSWORD
                throttle.record(throttle.LOGIN_FAILED, typed, user, reason=reason)
                db.session.commit()
                flash("Tên đăng nhập hoặc mật khẩu không đúng.", "error")
                status = 401
    return render_template("auth/login.html", form=form), status, headers


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (a POST, so that a link elsewhere cannot sign a clerk out)."""
    throttle.record(throttle.LOGOUT, current_user.username, current_user)
    db.session.commit()
    logout_user()
    flash("Đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password: the current one, then the new one twice (8+ characters, not the
    same as the current one). Required before anything else after an administrator's reset."""
    form = ChangePasswordForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            user = current_user._get_current_object()
            at = throttle.now()
            locked = throttle.lockout(user.username, throttle.client_ip(), at)
            if locked:
                form.current.errors.append(locked.message(at))
                status = 429
            elif not user.check_password(form.current.data):
                throttle.record(throttle.LOGIN_FAILED, user.username, user, reason=throttle.BAD_CURRENT_PASSWORD)
                db.session.commit()
                form.current.errors.append("Mật khẩu hiện tại không đúng.")
            elif user.check_password(form.new.data):
                form.new.errors.append("Mật khẩu mới phải khác mật khẩu hiện tại.")
            else:
                user.set_password(form.new.data)
                user.must_change_password = False
                throttle.record(throttle.PASSWORD_CHANGE, user.username, user)
                db.session.commit()
                login_user(user)  # this session continues under the new password; all others end
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
