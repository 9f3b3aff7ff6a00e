"""Administration: the district's units and accounts."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from ..models import ROLE_ADMIN, ROLE_COMPILER, Unit, User

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_staff():
    if current_user.role not in (ROLE_ADMIN, ROLE_COMPILER):
        abort(403)


@bp.route("/units")
def units():
    """The unit hierarchy with each unit's accounts and phone."""
    roots = list(db.session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.sort_order)))
    users = {}
    for user in db.session.scalars(select(User).order_by(User.username)):
        users.setdefault(user.unit_id, []).append(user)
    return render_template("admin/units.html", roots=roots, users=users)
