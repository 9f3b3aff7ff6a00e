"""Sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, login_manager
from ..models import User
from .forms import LoginForm

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never send a clerk to another host after signing in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; sign the user in when the name and password match."""
    if current_user.is_authenticated:
        return redirect(url_for("entry.home"))
    form = LoginForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
            if user and user.active and user.check_password(form.password.data):
                login_user(user, remember=form.remember.data)
                return redirect(_safe_next(request.args.get("next")) or url_for("entry.home"))
            flash("Tên đăng nhập hoặc mật khẩu không đúng.", "error")
            status = 401
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (a POST, so that a link elsewhere cannot sign a clerk out)."""
    logout_user()
    flash("Đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))
