"""Setting up campaigns: create, settings and deadline, close and reopen, who fills which table
(the units × tables grid), units joining or leaving a running campaign, copy for the next period.

Views only: the rules are in webapp/campaigns.py. Registered on the admin blueprint
(webapp/admin/routes.py), which lets only compilers and administrators in (clerks: 403). An
administrator sets up any campaign; a compiler creates campaigns compiled by their own unit and
sets up only those (another unit's campaign is 404 to them).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import outline_store, workflow
from ..campaigns import (PRINT_FIELDS, CampaignRefused, CampaignSpec, NeedsConfirmation, add_unit, addable_units,
                         assignment_keys, candidate_units, check_spec, compiling_units, copy_campaign,
                         campaign_kinds, create_campaign, default_units, grid_columns, next_period, removal_problem,
                         remove_unit, reporting_kinds, set_kind_deadlines, stored_counts, update_assignments,
                         update_settings)
from ..entry.routes import get_campaign
from ..dialect import refresh_statistics
from ..extensions import db, htmx
from ..models import ROLE_COMPILER, Campaign, OutlineVersion, Unit
from ..workflow import Refused, campaign_today
from .campaign_forms import (AddUnitForm, AssignmentsForm, CampaignCopyForm, CampaignCreateForm,
                             CampaignStatusForm, RemoveUnitForm, choices, settings_form)
from .routes import bp


# --- helpers -------------------------------------------------------------------------------------

def managed_campaign(code: str) -> Campaign:
    """The campaign named in the URL, if the signed-in user sets it up: an administrator any, a
    compiler those their unit compiles (404 otherwise, as for an unknown code)."""
    return get_campaign(code, other_compiler=404)


def outline_choices() -> list[tuple[str, str]]:
    """Every stored outline version, newest first within a code: ("kl49@1", "kl49 · phiên bản 1 · title")."""
    rows = sorted(outline_store.stored_outlines(db.session), key=lambda r: (r.code, -r.version))
    return [(r.ident, f"{r.code} · phiên bản {r.version} · {r.title}") for r in rows]


def outline_of(ident: str | None) -> OutlineVersion | None:
    code, _, version = (ident or "").partition("@")
    if not code or not version.isdigit():
        return None
    return outline_store.find(db.session, code, int(version))


def compiler_choices() -> list[Unit]:
    """The units the signed-in user may name as compiling unit: a compiler their own only."""
    if current_user.role == ROLE_COMPILER:
        return [current_user.unit]
    units = compiling_units(db.session)
    own = current_user.unit
    return ([own] if own in units else []) + [u for u in units if u is not own]


def unit_tree(units: list[Unit]) -> list[tuple[Unit | None, list[Unit]]]:
    """``units`` grouped under their parent, in order of first appearance."""
    groups: dict[int | None, tuple[Unit | None, list[Unit]]] = {}
    for unit in units:
        groups.setdefault(unit.parent_id, (unit.parent, []))[1].append(unit)
    return list(groups.values())


def attach(form, fields: dict[str, list[str]], aliases: dict[str, str]) -> list[str]:
    """Put the domain's problems at their form fields (``aliases``: domain field → form field) when
    the field has no message yet; the problems of no field are returned."""
    general = []
    for name, messages in fields.items():
        target = getattr(form, aliases.get(name, name), None) if name else None
        if target is None:
            general.extend(messages)
        elif not target.errors:
            target.errors = list(messages)
    return general


def focus(form, name: str | None = None) -> None:
    """Put the cursor in the first field with a message (or in ``name``), as the other forms do."""
    target = next((f for f in form if f.errors and f.name != "csrf_token"), None) or (form[name] if name else None)
    if target is not None:
        target.render_kw = {**(target.render_kw or {}), "autofocus": True}


# --- create --------------------------------------------------------------------------------------

CREATE_ALIASES = {"years": "year_from", "compiler": "compiler", "outline": "outline", "units": "units"}


def _create_form() -> CampaignCreateForm:
    """The form with its drop-downs filled; outline and compiling unit default to the newest
    version and the user's own unit; the units offered are those of the chosen compiling unit."""
    form = CampaignCreateForm()
    form.outline.choices = choices(outline_choices())
    compilers = compiler_choices()
    form.compiler.choices = choices((u.id, u.name) for u in compilers)
    if request.method == "GET":
        form.outline.data = form.outline.choices[0].value if form.outline.choices else None
        form.compiler.data = compilers[0].id if compilers else None
    compiler = db.session.get(Unit, form.compiler.data) if isinstance(form.compiler.data, int) else None
    if compiler not in compilers:
        compiler = None
    form.units.choices = choices((u.id, u.name) for u in candidate_units(db.session, compiler)) if compiler else []
    form.chosen_compiler = compiler
    return form


def units_context(outline_row: OutlineVersion | None, compiler: Unit | None, ticked: set[int] | None,
                  errors=()) -> dict:
    """What _campaign_units.html draws: the candidates under their parents, the ticks (the
    defaults when ``ticked`` is None), the kinds the outline asks."""
    candidates = candidate_units(db.session, compiler) if compiler else []
    reporting = reporting_kinds(outline_row) if outline_row else set()
    defaults = {u.id for u in default_units(db.session, outline_row, compiler)} if outline_row and compiler else set()
    return {"tree": unit_tree(candidates), "ticked": defaults if ticked is None else ticked,
            "reporting": reporting, "defaults": defaults, "compiler": compiler, "unit_errors": errors}


def asked_spec(form, compiler_unit: Unit | None, **rest) -> CampaignSpec:
    """The campaign a create or copy form asks for: its code, name, years and deadline (``rest``: what
    else the form gives)."""
    return CampaignSpec(code=(form.code.data or "").strip(), name=form.name.data or "",
                        year_from=form.year_from.data, year_to=form.year_to.data, deadline=form.deadline.data,
                        compiler_unit=compiler_unit, **rest)


def made_campaign(form, valid: bool, spec: CampaignSpec, aliases: dict[str, str],
                  make: Callable[[], Campaign]) -> tuple[Campaign | None, list[str]]:
    """Make a new campaign (``make()``, for a ``valid`` form) and commit it: (campaign, []). Otherwise
    (None, the problems of no field), the others put at their form fields (``aliases``) and the
    session rolled back; an invalid form is checked against ``spec`` too, to show every problem at once."""
    if not valid:
        general = attach(form, CampaignRefused(check_spec(db.session, spec, campaign_today())).fields, aliases)
        db.session.rollback()
        return None, general
    try:
        campaign = make()
    except CampaignRefused as refused:
        db.session.rollback()
        return None, attach(form, refused.fields, aliases)
    refresh_statistics(db.session)  # commits: a campaign's parts and assignments for every unit
    return campaign, []


@bp.route("/campaigns/new", methods=["GET", "POST"])
def campaign_create():
    """A new campaign: outline version, code, name, years, deadline, compiling and reporting
    units (the defaults ticked), what its documents print. Created open; then its grid."""
    form = _create_form()
    outline_row = outline_of(form.outline.data)
    compiler = form.chosen_compiler
    if request.method == "GET" or form.recompute.data:  # the no-script way to the defaults
        return render_create(form, outline_row, compiler, ticked=None)
    valid = form.validate()
    spec = asked_spec(form, compiler, units=[db.session.get(Unit, i) for i in form.units.data or []],
                      description=form.description.data or "", prints=form.prints())
    campaign, general = made_campaign(form, valid, spec, CREATE_ALIASES, lambda: create_campaign(
        db.session, outline_row, spec, user=current_user, today=campaign_today()))
    if campaign is not None:
        flash(f"Đã tạo đợt báo cáo «{campaign.name}» ({len(campaign.units)} đơn vị báo cáo), đang mở để các "
              "đơn vị nhập. Kiểm tra bảng giao biểu bên dưới.", "success")
        return redirect(url_for("admin.campaign_assignments", code=campaign.code))
    return render_create(form, outline_row, compiler, ticked=set(form.units.data or []), general=general,
                         status=422)


def render_create(form, outline_row, compiler, ticked, general=(), status: int = 200):
    focus(form, "code" if request.method == "GET" else None)
    return render_template("admin/campaign_create.html", form=form, general=general,
                           **units_context(outline_row, compiler, ticked, form.units.errors)), status


@bp.route("/campaigns/new/units")
def campaign_units():
    """The reporting units of the create form for ``?outline=`` and ``?compiler=``, the defaults
    ticked: the fragment the form asks for when either changes (a plain page without a script)."""
    compilers = compiler_choices()
    compiler = next((u for u in compilers if str(u.id) == request.args.get("compiler", "")), None)
    if compiler is None and current_user.role == ROLE_COMPILER:
        compiler = current_user.unit
    context = units_context(outline_of(request.args.get("outline")), compiler, None)
    if htmx:
        return render_template("admin/_campaign_units.html", **context)
    return redirect(url_for("admin.campaign_create"))


# --- settings, close and reopen ------------------------------------------------------------------

@bp.route("/campaigns/<code>/settings", methods=["GET", "POST"])
def campaign_settings(code: str):
    """Name, description, deadline (audited) and what the documents print; close and reopen."""
    campaign = managed_campaign(code)
    names = outline_store.unit_kinds(db.session) | campaign.outline.unit_kinds
    form = settings_form([(kind, names.get(kind, kind)) for kind in campaign_kinds(campaign)],
                         obj=campaign if request.method == "GET" else None)
    if request.method == "GET":
        form.issuer_is_party.data = "party" if campaign.issuer_is_party else "state"
        own = {d.unit_kind: d.deadline for d in campaign.kind_deadlines}
        for kind, field in form.kind_deadline_fields():
            field.data = own.get(kind)
        return render_settings(campaign, form)
    if not form.validate():
        return render_settings(campaign, form, status=422)
    values = {"name": form.name.data, "description": form.description.data or "", "deadline": form.deadline.data,
              **form.prints()}
    try:
        changed = update_settings(db.session, campaign, values, current_user)
        kinds_changed = set_kind_deadlines(db.session, campaign, form.typed_kind_deadlines(), current_user)
    except CampaignRefused as refused:
        db.session.rollback()
        return render_settings(campaign, form, general=attach(form, refused.fields, {}), status=422)
    db.session.commit()
    if "deadline" in changed or kinds_changed:
        own = ", ".join(f"{names.get(d.unit_kind, d.unit_kind)} {d.deadline:%d/%m/%Y}" for d in campaign.kind_deadlines)
        flash(f"Đã lưu. Hạn gửi mới: {campaign.deadline:%d/%m/%Y}" + (f" (riêng: {own})." if own else "."), "success")
    else:
        flash("Đã lưu." if changed else "Không có gì thay đổi.", "success" if changed else "info")
    return redirect(url_for("admin.campaign_settings", code=campaign.code))


def render_settings(campaign: Campaign, form, general=(), status: int = 200):
    focus(form)
    return render_template("admin/campaign_settings.html", campaign=campaign, form=form, general=general,
                           status_form=CampaignStatusForm(), print_fields=PRINT_FIELDS), status


@bp.route("/campaigns/<code>/status", methods=["POST"])
def campaign_status(code: str):
    """Close the campaign (nothing more is entered, submitted or decided) or open it again."""
    campaign = managed_campaign(code)
    form = CampaignStatusForm()
    if not form.validate():
        abort(400)
    try:
        workflow.set_campaign_status(db.session, campaign, current_user, form.status.data)
    except Refused as exc:
        flash(str(exc), "error")
    else:
        flash("Đã kết thúc đợt báo cáo: không nhận thêm số liệu." if form.status.data == "closed"
              else "Đã mở lại đợt báo cáo.", "success")
    return redirect(url_for("admin.campaign_settings", code=campaign.code))


# --- who fills what ------------------------------------------------------------------------------

def parse_ticks(values: list[str]) -> set[tuple[int, str, str]] | None:
    """The grid's ticks (``unit id|table|group``) as keys; None if one is malformed."""
    keys = set()
    for value in values:
        parts = value.split("|")
        if len(parts) != 3 or not parts[0].isascii() or not parts[0].isdigit() or len(parts[0]) > 18:
            return None
        keys.add((int(parts[0]), parts[1], parts[2]))
    return keys


def render_assignments(campaign: Campaign, ticked=None, form=None, add_form=None, lost=None, general=(),
                       status: int = 200):
    add_form = add_form or AddUnitForm(formdata=None)
    addable = addable_units(db.session, campaign)
    add_form.unit.choices = choices((u.id, u.name) for u in addable)
    units = list(campaign.units)
    return render_template(
        "admin/campaign_assignments.html", campaign=campaign, form=form or AssignmentsForm(formdata=None),
        add_form=add_form, remove_form=RemoveUnitForm(formdata=None), tables=grid_columns(campaign.outline),
        units=units, ticked=assignment_keys(db.session, campaign) if ticked is None else ticked,
        counts=stored_counts(db.session, campaign), lost=lost, general=general, addable_tree=unit_tree(addable),
        removable={u.id for u in units if removal_problem(db.session, campaign, u) is None}), status


@bp.route("/campaigns/<code>/assignments", methods=["GET", "POST"])
def campaign_assignments(code: str):
    """The units × column groups grid of who fills what, saved all at once. Taking a group from a
    unit that stored values there asks first, naming how many values stop counting (kept, not
    deleted; they count again when the group is given back)."""
    campaign = managed_campaign(code)
    if request.method == "GET":
        return render_assignments(campaign)
    form = AssignmentsForm()
    if not form.validate():
        abort(400)
    wanted = parse_ticks(request.form.getlist("a"))
    if wanted is None:
        return render_assignments(campaign, form=form, general=["Dữ liệu gửi lên không đúng dạng bảng giao biểu."],
                                  status=422)
    try:
        added, removed = update_assignments(db.session, campaign, wanted, current_user, confirm=form.confirm.data)
    except NeedsConfirmation as needed:
        db.session.rollback()
        form.confirm.data = needed.token
        return render_assignments(campaign, ticked=wanted, form=form, lost=needed, status=409)
    except CampaignRefused as refused:
        db.session.rollback()
        return render_assignments(campaign, ticked=wanted, form=form, general=refused.problems, status=422)
    db.session.commit()
    if added or removed:
        flash(f"Đã lưu bảng giao biểu: giao thêm {added}, bỏ giao {removed} nhóm cột.", "success")
    else:
        flash("Bảng giao biểu không thay đổi.", "info")
    return redirect(url_for("admin.campaign_assignments", code=campaign.code))


@bp.route("/campaigns/<code>/units/add", methods=["POST"])
def campaign_add_unit(code: str):
    """A unit joins a running campaign, filling what the outline gives its kind."""
    campaign = managed_campaign(code)
    form = AddUnitForm()
    form.unit.choices = choices((u.id, u.name) for u in addable_units(db.session, campaign))
    if not form.validate():
        return render_assignments(campaign, add_form=form, status=422)
    unit = db.session.get(Unit, form.unit.data)
    try:
        groups = add_unit(db.session, campaign, unit, current_user)
    except CampaignRefused as refused:
        db.session.rollback()
        form.unit.errors = refused.problems
        return render_assignments(campaign, add_form=form, status=422)
    db.session.commit()
    flash(f"Đã thêm {unit.name} vào đợt báo cáo: giao {groups} nhóm cột theo đề cương.", "success")
    return redirect(url_for("admin.campaign_assignments", code=campaign.code) + f"#unit-{unit.code}")


@bp.route("/campaigns/<code>/units/<unit_code>/remove", methods=["POST"])
def campaign_remove_unit(code: str, unit_code: str):
    """A unit that has stored nothing leaves the campaign, with its assignments."""
    campaign = managed_campaign(code)
    if not RemoveUnitForm().validate():
        abort(400)
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None or not workflow.in_campaign(db.session, campaign, unit):
        abort(404)
    try:
        remove_unit(db.session, campaign, unit, current_user)
    except CampaignRefused as refused:
        db.session.rollback()
        flash(" ".join(refused.problems), "error")
    else:
        db.session.commit()
        flash(f"Đã bỏ {unit.name} khỏi đợt báo cáo.", "success")
    return redirect(url_for("admin.campaign_assignments", code=campaign.code))


# --- copy for the next period --------------------------------------------------------------------

@bp.route("/campaigns/<code>/copy", methods=["GET", "POST"])
def campaign_copy(code: str):
    """The next period's campaign: the same outline version, units and assignments, what the
    documents print except the report's number and date; code, years, deadline and name new."""
    source = managed_campaign(code)
    form = CampaignCopyForm()
    if request.method == "GET":
        offer = next_period(source)
        form.code.data, form.name.data = offer.code, offer.name
        form.year_from.data, form.year_to.data, form.deadline.data = offer.year_from, offer.year_to, offer.deadline
        focus(form, "code")
        return render_template("admin/campaign_copy.html", campaign=source, form=form, general=())
    valid = form.validate()
    spec = asked_spec(form, source.compiler_unit)
    campaign, general = made_campaign(form, valid, spec, {"years": "year_from"}, lambda: copy_campaign(
        db.session, source, spec.code, spec.year_from, spec.year_to, spec.deadline, name=form.name.data,
        user=current_user, today=campaign_today()))
    if campaign is not None:
        flash(f"Đã tạo đợt «{campaign.name}» từ «{source.name}»: {len(campaign.units)} đơn vị, cùng bảng giao "
              "biểu và đề cương. Đợt đang mở để các đơn vị nhập.", "success")
        return redirect(url_for("admin.campaign_settings", code=campaign.code))
    focus(form)
    return render_template("admin/campaign_copy.html", campaign=source, form=form, general=general), 422
