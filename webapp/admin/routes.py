"""Administration: the district's units and accounts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..auth import throttle
from ..auth.routes import end_sessions
from ..extensions import db
from ..passwords import generate_password
from ..models import ROLE_ADMIN, ROLE_COMPILER, Unit, User, UserSession
from ..templating import local_now

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_staff():
    if current_user.role not in (ROLE_ADMIN, ROLE_COMPILER):
        abort(403)


@bp.route("/units")
def units():
    """The unit hierarchy with each unit's kind, phone and state, and its accounts with their role and
    state; for an administrator, the tools to add, edit, deactivate and reactivate them (accounts.py),
    reset a password and end an account's sessions. Compilers read it."""
    roots = list(db.session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.sort_order)))
    users = {}
    for user in db.session.scalars(select(User).order_by(User.username)):
        users.setdefault(user.unit_id, []).append(user)
    sessions = {}
    if current_user.role == ROLE_ADMIN:  # how many sessions each account has open
        sessions = dict(db.session.execute(select(UserSession.user_id, func.count())
                                           .where(UserSession.ended_at.is_(None)).group_by(UserSession.user_id)).all())
    return render_template("admin/units.html", roots=roots, users=users, sessions=sessions)


def _other_account(user_id: int) -> User:
    """The account an administrator acts on: another one than their own (404 unknown, 400 own)."""
    if current_user.role != ROLE_ADMIN:
        abort(403)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if user.id == current_user.id:
        abort(400)
    return user


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
def reset_password(user_id: int):
    """An administrator gives an account a new random password, to be changed at its next sign-in,
    and gets the unit's sign-in slip, shown this once (the password is not stored anywhere). Every
    session of the account ends."""
    user = _other_account(user_id)  # one's own password is changed on the change-password page
    password = generate_password()
    user.set_password(password)
    user.must_change_password = True
    end_sessions(user, throttle.PASSWORD_RESET)  # whoever holds the account is signed out everywhere
    throttle.forget_name(user.username)  # and the clerk, told to ask for a reset when locked, can sign in
    throttle.record(throttle.PASSWORD_RESET, user.username, user, actor=current_user)
    db.session.commit()
    response = make_response(render_template(
        "admin/slip.html", user=user, password=password, issued=local_now(),
        address=url_for("auth.login", _external=True)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/users/<int:user_id>/end-sessions", methods=["POST"])
def end_all_sessions(user_id: int):
    """An administrator ends every sign-in session of an account (a lost phone, a clerk who left):
    each browser signed in as it, remembered or not, is signed out at its next request."""
    user = _other_account(user_id)
    ended = end_sessions(user, throttle.SESSIONS_END)
    throttle.record(throttle.SESSIONS_END, user.username, user, actor=current_user, reason=str(ended))
    db.session.commit()
    flash(f"Đã kết thúc {ended} phiên đăng nhập của tài khoản {user.username}.", "info")
    return redirect(url_for("admin.units"))


# the other administration pages register their views on bp
from . import accounts, campaigns, directory, outlines  # noqa: E402,F401
