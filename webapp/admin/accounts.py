"""The administrator adds, edits, deactivates and reactivates units and accounts, one at a time.

Every change is an AuditEvent (``unit_create``, ``unit_update``, ``unit_deactivate``,
``unit_activate``, ``user_create``, ``user_update``, ``user_deactivate``, ``user_activate``): ``user_id``
is the administrator, ``unit_id`` the unit (of the account), ``old`` and ``new`` the changed details as
a person reads them, starting with the unit's code or the account's name — never a password. Nothing
is ever deleted: a deactivated unit is offered for no new campaign (its accounts keep working unless
deactivated themselves); a deactivated account cannot sign in and its sessions end, while everything
it wrote, and the history that names it, stays.

Compilers read the units page (webapp/admin/routes.py); every view here is the administrator's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth import throttle
from ..auth.routes import end_sessions
from ..directory import changed_facts, described, unit_facts, user_facts  # one audit wording
from ..extensions import db
from ..models import ROLE_ADMIN, ROLE_CLERK, ROLE_NAMES, AuditEvent, Campaign, CampaignUnit, Unit, User
from ..outline_store import unit_kinds
from ..passwords import generate_password
from ..templating import local_now
from ..workflow import CAMPAIGN_OPEN
from .forms import NewUnitForm, NewUserForm, UnitForm, UserForm
from .routes import bp

DEACTIVATED = "deactivated"  # UserSession.ended_reason of the sessions a deactivation ends
ACTIVE_TEXT, INACTIVE_TEXT = "Đang hoạt động", "Ngừng hoạt động"
INDENT = "\u00a0" * 4  # one level of the unit tree in a drop-down


def admin_only(view: Callable) -> Callable:
    """Administrators only (the blueprint lets compilers in to read the units page)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.role != ROLE_ADMIN:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


# --- the unit tree, for the drop-downs ------------------------------------------------------------

def unit_tree(session: Session) -> list[tuple[Unit, int]]:
    """Every unit with its depth, depth first in the units' order (as on the units page)."""
    units = list(session.scalars(select(Unit).order_by(Unit.sort_order, Unit.id)))
    children: dict[int | None, list[Unit]] = {}
    known = {u.id for u in units}
    for u in units:
        children.setdefault(u.parent_id if u.parent_id in known else None, []).append(u)
    out: list[tuple[Unit, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for u in children.get(parent_id, []):
            if any(seen is u for seen, _ in out):  # a cycle stored by hand: show each unit once
                continue
            out.append((u, depth))
            walk(u.id, depth + 1)
    walk(None, 0)
    return out


def below(session: Session, unit: Unit) -> set[int]:
    """The ids of every unit under ``unit``, at any depth."""
    found: set[int] = set()
    level = {unit.id}
    while level:
        level = set(session.scalars(select(Unit.id).where(Unit.parent_id.in_(level)))) - found - {unit.id}
        found |= level
    return found


def unit_choices(session: Session, keep: int | None = None, leave_out: set[int] = frozenset()) -> list[tuple[str, str]]:
    """The active units as drop-down choices, by name, indented by level; ``keep`` (the current
    value) is offered even when inactive, ``leave_out`` never."""
    return [(str(u.id), INDENT * depth + u.name + ("" if u.active else " (ngừng hoạt động)"))
            for u, depth in unit_tree(session) if (u.active or u.id == keep) and u.id not in leave_out]


def chosen_unit(session: Session, value: str | None) -> Unit | None:
    return session.get(Unit, int(value)) if value and value.isascii() and value.isdigit() and len(value) < 10 else None


# --- what the audit trail says --------------------------------------------------------------------

def audit(action: str, unit_id: int | None, old: str | None, new: str | None) -> None:
    """Add (not commit) the administrator's change to the audit trail."""
    db.session.add(AuditEvent(action=action, via="web", user_id=current_user.id, unit_id=unit_id, old=old, new=new,
                              ip=throttle.client_ip()))


# --- the checks that need the database --------------------------------------------------------------

def campaigns_reported_by(session: Session, unit: Unit) -> list[Campaign]:
    return list(session.scalars(select(Campaign).join(CampaignUnit, CampaignUnit.campaign_id == Campaign.id)
                                .where(CampaignUnit.unit_id == unit.id).order_by(Campaign.created_at.desc())))


def campaign_label(campaign: Campaign) -> str:
    return f"«{campaign.name}» ({campaign.code})"


def check_unit(session: Session, form: UnitForm, kinds: dict[str, str], unit: Unit | None) -> Unit | None:
    """Check what needs the database; add each problem to its field. Returns the parent chosen."""
    if isinstance(form, NewUnitForm) and not form.code.errors:
        taken = session.scalar(select(Unit).where(func.lower(Unit.code) == form.code.data))
        if taken is not None:
            form.code.errors.append(f"Mã đơn vị '{form.code.data}' đã có ({taken.name})")
    if form.kind.data and form.kind.data not in kinds and not (unit and form.kind.data == unit.kind):
        form.kind.errors.append("Loại đơn vị không có trong danh sách")
    elif unit is not None and form.kind.data and form.kind.data != unit.kind:
        reported = campaigns_reported_by(session, unit)
        if reported:
            form.kind.errors.append(
                f"Không đổi được loại của {unit.name}: {unit.name} là đơn vị báo cáo của đợt "
                f"{', '.join(campaign_label(c) for c in reported[:3])}{' …' if len(reported) > 3 else ''}; "
                "phần việc của đơn vị trong đợt được giao theo loại đơn vị")
    parent = None
    if form.parent.data:
        parent = chosen_unit(session, form.parent.data)
        if parent is None:
            form.parent.errors.append("Đơn vị cấp trên không có trong danh sách")
        elif unit is not None and parent.id == unit.id:
            form.parent.errors.append("Một đơn vị không thể là đơn vị cấp trên của chính nó")
        elif unit is not None and parent.id in below(session, unit):
            form.parent.errors.append(f"Không đặt được {parent.name} làm đơn vị cấp trên của {unit.name}: "
                                      f"{parent.name} nằm trong {unit.name} (sẽ thành vòng lặp)")
        elif not parent.active and not (unit and unit.parent_id == parent.id):
            form.parent.errors.append(f"Đơn vị cấp trên {parent.name} đã ngừng hoạt động")
    return parent


def next_order(session: Session, parent: Unit | None) -> int:
    """The order that puts a unit after every unit beside it."""
    last = session.scalar(select(func.max(Unit.sort_order)).where(
        Unit.parent_id == parent.id if parent else Unit.parent_id.is_(None)))
    return 0 if last is None else last + 1


def check_user(session: Session, form: UserForm, user: User | None) -> Unit | None:
    """Check what needs the database; add each problem to its field. Returns the unit chosen."""
    if isinstance(form, NewUserForm) and not form.username.errors:
        taken = session.scalar(select(User).where(func.lower(User.username) == form.username.data))
        if taken is not None:
            form.username.errors.append(f"Tên đăng nhập '{form.username.data}' đã có ({taken.unit.name})")
    if form.role.data and form.role.data not in ROLE_NAMES:
        form.role.errors.append("Vai trò không có trong danh sách")
    elif user is not None and form.role.data:
        problem = admin_guard(session, current_user, user, role=form.role.data)
        if problem:
            form.role.errors.append(problem)
    unit = None
    if form.unit.data:
        unit = chosen_unit(session, form.unit.data)
        if unit is None:
            form.unit.errors.append("Đơn vị không có trong danh sách")
        elif not unit.active and not (user and user.unit_id == unit.id):
            form.unit.errors.append(f"Đơn vị {unit.name} đã ngừng hoạt động")
    return unit


def admin_guard(session: Session, actor: User, target: User, *, role: str | None = None,
                deactivate: bool = False) -> str | None:
    """Why ``actor`` may not deactivate ``target`` or give it ``role``, or None: nobody deactivates or
    demotes their own account, and the last active administrator stays one. The active administrators
    are read under a row lock (PostgreSQL), so that two administrators demoting each other at the same
    time cannot leave none."""
    demoted = role is not None and target.role == ROLE_ADMIN and role != ROLE_ADMIN
    if deactivate and target.id == actor.id:
        return "Bạn không thể ngừng hoạt động tài khoản của chính mình"
    if demoted and target.id == actor.id:
        return "Bạn không thể tự bỏ quyền quản trị của chính mình"
    if (deactivate or demoted) and target.role == ROLE_ADMIN and target.active:
        others = session.scalars(select(User.id).where(User.role == ROLE_ADMIN, User.active.is_(True),
                                                       User.id != target.id).with_for_update()).all()
        if not others:
            what = "ngừng hoạt động được" if deactivate else "bỏ được quyền quản trị của"
            return f"Không {what} {target.username}: đây là tài khoản quản trị cuối cùng còn hoạt động"
    return None


def back_to(anchor: str):
    return redirect(url_for("admin.units", _anchor=anchor))


def form_page(template: str, form, status_if_posted: int = 422, **context):
    """The form again; after a POST (with problems at their fields) with status 422."""
    return render_template(template, form=form, **context), (status_if_posted if request.method == "POST" else 200)


# --- units ----------------------------------------------------------------------------------------

def _unit_choices(form: UnitForm, kinds: dict[str, str], unit: Unit | None) -> None:
    kind_choices = list(kinds.items())
    if unit is not None and unit.kind not in kinds:
        kind_choices.append((unit.kind, unit.kind))
    form.kind.choices = [("", "— Chọn loại đơn vị —")] + kind_choices
    leave_out = {unit.id} | below(db.session, unit) if unit is not None else set()
    form.parent.choices = [("", "(Không thuộc đơn vị nào: cấp cao nhất)")] + unit_choices(
        db.session, keep=unit.parent_id if unit else None, leave_out=leave_out)


@bp.route("/units/new", methods=["GET", "POST"])
@admin_only
def new_unit():
    """Add a unit: code, name, kind, the unit it belongs to, phone, order. The parent is preselected
    from ``?parent=`` or, when there is only one unit at the top (the district), that one."""
    form = NewUnitForm()
    kinds = unit_kinds(db.session)
    _unit_choices(form, kinds, None)
    if request.method == "GET":
        roots = [value for value, label in form.parent.choices[1:] if not label.startswith(INDENT)]
        form.parent.data = request.args.get("parent") or (roots[0] if len(roots) == 1 else "")
    if form.validate_on_submit():
        parent = check_unit(db.session, form, kinds, None)
        if not form.errors:
            order = int(form.sort_order.data) if form.sort_order.data else next_order(db.session, parent)
            unit = Unit(code=form.code.data, name=form.name.data, kind=form.kind.data, parent=parent,
                        phone=form.phone.data or None, sort_order=order, active=True)
            if not added(unit, form.code, f"Mã đơn vị '{form.code.data}' đã có"):
                _unit_choices(form, kinds, None)
                return form_page("admin/unit_form.html", form, unit=None)
            audit("unit_create", unit.id, None, described(unit.code, unit_facts(unit, kinds)))
            db.session.commit()
            flash(f"Đã thêm đơn vị {unit.name} ({unit.code}). Thêm tài khoản cho đơn vị bằng «Thêm tài khoản» "
                  "bên cạnh tên đơn vị.", "info")
            return back_to(f"unit-{unit.id}")
    return form_page("admin/unit_form.html", form, unit=None)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_unit(unit_id: int):
    """Edit a unit's name, kind, parent, phone and order (its code never changes). A reporting unit
    of a campaign keeps its kind; a unit is never put under itself or a unit below it."""
    unit = db.get_or_404(Unit, unit_id)
    kinds = unit_kinds(db.session)
    form = UnitForm(data={"name": unit.name, "kind": unit.kind, "parent": str(unit.parent_id or ""),
                          "phone": unit.phone or "", "sort_order": str(unit.sort_order)})
    _unit_choices(form, kinds, unit)
    if form.validate_on_submit():
        parent = check_unit(db.session, form, kinds, unit)
        if not form.errors:
            before = unit_facts(unit, kinds)
            unit.name, unit.kind, unit.parent = form.name.data, form.kind.data, parent
            unit.phone = form.phone.data or None
            if form.sort_order.data:
                unit.sort_order = int(form.sort_order.data)
            return saved_edit(unit, before, unit_facts(unit, kinds), f"Đã lưu đơn vị {unit.name}.")
    return form_page("admin/unit_form.html", form, unit=unit)


def who(target: Unit | User) -> tuple[str, str, int]:
    """A unit or an account as the audit trail names it: (kind, code or username, the unit the event
    is filed under)."""
    if isinstance(target, Unit):
        return "unit", target.code, target.id
    return "user", target.username, target.unit.id


def added(target: Unit | User, name_field, taken: str) -> bool:
    """Add a new unit or account; False, with ``taken`` at ``name_field`` and the session rolled back,
    when the same code or username was added at the same moment (its unique index refuses it)."""
    db.session.add(target)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        name_field.errors.append(taken)
        return False
    return True


def saved_edit(target: Unit | User, before: dict, after: dict, message: str):
    """Commit an edit of a unit or an account and go back to its row; the change is recorded and
    ``message`` flashed only when a fact changed (``before``, ``after``: unit_facts or user_facts)."""
    kind, name, unit_id = who(target)
    change = changed_facts(name, before, after)
    if change:
        audit(f"{kind}_update", unit_id, *change)
        flash(message, "info")
    db.session.commit()
    return back_to(f"{kind}-{target.id}")


def switched(target: Unit | User, active: bool) -> bool:
    """Set a unit's or an account's ``active`` and record it, once: one conditional UPDATE decides,
    so a second click (or another administrator's) finds it done and records nothing."""
    model = type(target)
    if not db.session.execute(update(model).where(model.id == target.id, model.active.is_(not active))
                              .values(active=active)).rowcount:
        return False
    kind, name, unit_id = who(target)
    before, after = (INACTIVE_TEXT, ACTIVE_TEXT) if active else (ACTIVE_TEXT, INACTIVE_TEXT)
    audit(f"{kind}_{'activate' if active else 'deactivate'}", unit_id, described(name, {}) + before,
          described(name, {}) + after)
    return True


def switch(target: Unit | User, active: bool, done: Callable[[], str], problem: str | None = None):
    """Activate or deactivate a unit or an account and go back to its row of the list: ``problem``
    refuses it (flashed as an error); once it changed, ``done()`` does what goes with it before the
    commit and answers the message flashed."""
    if problem:
        flash(problem, "error")
    elif switched(target, active):
        message = done()
        db.session.commit()
        flash(message, "info")
    return back_to(f"{who(target)[0]}-{target.id}")


@bp.route("/units/<int:unit_id>/deactivate", methods=["POST"])
@admin_only
def deactivate_unit(unit_id: int):
    """Deactivate a unit: offered for no new campaign from now on; its parts in existing campaigns,
    its accounts and its history stay. Refused while it compiles a campaign that is open."""
    unit = db.get_or_404(Unit, unit_id)
    compiling = list(db.session.scalars(select(Campaign).where(Campaign.compiler_unit_id == unit.id,
                                                               Campaign.status == CAMPAIGN_OPEN)))
    problem = (f"Không ngừng hoạt động được {unit.name}: đơn vị đang tổng hợp đợt báo cáo "
               f"{', '.join(campaign_label(c) for c in compiling)} chưa kết thúc. Hãy kết thúc đợt trước."
               if compiling else None)
    return switch(unit, False, problem=problem,
                  done=lambda: f"Đã ngừng hoạt động đơn vị {unit.name}: đơn vị không được chọn cho đợt báo cáo "
                               "mới; các tài khoản của đơn vị vẫn đăng nhập được.")


@bp.route("/units/<int:unit_id>/activate", methods=["POST"])
@admin_only
def activate_unit(unit_id: int):
    """Reactivate a unit: it may be chosen for new campaigns again."""
    unit = db.get_or_404(Unit, unit_id)
    return switch(unit, True, done=lambda: f"Đơn vị {unit.name} hoạt động trở lại.")


# --- accounts -------------------------------------------------------------------------------------

def _user_choices(form: UserForm, user: User | None) -> None:
    form.role.choices = list(ROLE_NAMES.items())
    form.unit.choices = [("", "— Chọn đơn vị —")] + unit_choices(db.session, keep=user.unit_id if user else None)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def new_user():
    """Add an account: username, full name, role, unit (preselected from ``?unit=``). The app makes
    its first password; the page shows the sign-in slip once (the password is kept nowhere else), and
    the account must change the password at its first sign-in."""
    form = NewUserForm()
    _user_choices(form, None)
    if request.method == "GET":
        form.role.data = ROLE_CLERK
        form.unit.data = request.args.get("unit", "")
    if form.validate_on_submit():
        unit = check_user(db.session, form, None)
        if not form.errors:
            password = generate_password()
            user = User(username=form.username.data, full_name=form.full_name.data or "", role=form.role.data,
                        unit=unit, active=True, must_change_password=True)
            user.set_password(password)
            if not added(user, form.username, f"Tên đăng nhập '{form.username.data}' đã có"):
                _user_choices(form, None)
                return form_page("admin/user_form.html", form, user=None)
            audit("user_create", unit.id, None, described(user.username, user_facts(user)))
            db.session.commit()
            response = make_response(render_template(
                "admin/slip.html", user=user, password=password, issued=local_now(),
                address=url_for("auth.login", _external=True), created=True))
            response.headers["Cache-Control"] = "no-store"
            return response
    return form_page("admin/user_form.html", form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_user(user_id: int):
    """Edit an account's full name, role and unit (its name never changes; its password only by a
    reset). Nobody takes away their own administrator role, nor the last active administrator's."""
    user = db.get_or_404(User, user_id)
    form = UserForm(data={"full_name": user.full_name, "role": user.role, "unit": str(user.unit_id)})
    _user_choices(form, user)
    if form.validate_on_submit():
        unit = check_user(db.session, form, user)
        if not form.errors:
            before = user_facts(user)
            user.full_name, user.role, user.unit = form.full_name.data or "", form.role.data, unit
            return saved_edit(user, before, user_facts(user), f"Đã lưu tài khoản {user.username}.")
    return form_page("admin/user_form.html", form, user=user)


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@admin_only
def deactivate_user(user_id: int):
    """Deactivate an account: it can no longer sign in, and every session of it ends now. Nothing it
    wrote is lost: its values, documents and audit events stay, and the history pages still name it.
    Refused for one's own account and for the last active administrator."""
    user = db.get_or_404(User, user_id)
    problem = admin_guard(db.session, current_user, user, deactivate=True)

    def end_its_sessions() -> str:
        ended = end_sessions(user, DEACTIVATED)
        return (f"Đã ngừng hoạt động tài khoản {user.username}: tài khoản không đăng nhập được nữa"
                + (f", {ended} phiên đăng nhập đã kết thúc" if ended else "")
                + "; những gì tài khoản đã nhập vẫn được giữ nguyên.")

    return switch(user, False, problem=problem and problem + ".", done=end_its_sessions)


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@admin_only
def activate_user(user_id: int):
    """Reactivate an account: it signs in again with its password (reset it if it was forgotten)."""
    user = db.get_or_404(User, user_id)
    return switch(user, True, done=lambda: f"Tài khoản {user.username} đăng nhập được trở lại (với mật khẩu cũ; "
                                           "đặt lại mật khẩu nếu đơn vị đã quên).")
