"""A unit's tables: the home page, the table pages, saving cells and list rows.

Each view renders the full page for an ordinary request and only the fragment htmx asked for
(a row) for an htmx request; the same POST works with and without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db, htmx
from ..domain.values import ValueProblem
from ..models import ROLE_CLERK, Campaign, Unit
from ..templating import days_left
from ..review.service import completeness
from .service import NotOwned, UnitList, UnitTable, list_cells, unit_part

bp = Blueprint("entry", __name__)


@bp.context_processor
def fragment_helpers():
    return {"list_cells": list_cells}


def get_campaign(code: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        abort(404)
    return campaign


def get_table(campaign: Campaign, table_code: str):
    try:
        return campaign.outline.table(table_code)
    except KeyError:
        abort(404)


def staff_campaign(code: str) -> Campaign:
    """A campaign for a compiler's or administrator's view; 403 for a clerk."""
    if current_user.role == ROLE_CLERK:
        abort(403)
    return get_campaign(code)


def visible_unit(campaign: Campaign, unit_code: str | None) -> Unit:
    """The unit whose part is shown: a clerk sees only their own; compiler and admin any of the campaign."""
    if current_user.role == ROLE_CLERK:
        if unit_code and unit_code != current_user.unit.code:
            abort(403)
        unit = current_user.unit
    else:
        if not unit_code:
            abort(404)
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None or unit not in campaign.units:
        abort(404)
    return unit


def editable_part(campaign_code: str, table_code: str) -> UnitTable | UnitList:
    """The signed-in clerk's part of a table, for a write; 403 for anyone else's."""
    campaign = get_campaign(campaign_code)
    table = get_table(campaign, table_code)
    if current_user.role != ROLE_CLERK or request.args.get("unit", current_user.unit.code) != current_user.unit.code:
        abort(403)
    if current_user.unit not in campaign.units:
        abort(403)
    if campaign.status != "open":
        abort(403)
    part = unit_part(db.session, campaign, current_user.unit, table)
    if not part.groups:  # a table the unit is not asked for
        abort(403)
    return part


def clerk_campaigns(unit: Unit) -> list[Campaign]:
    return [c for c in db.session.scalars(select(Campaign).order_by(Campaign.deadline))
            if unit in c.units]


@bp.route("/")
@login_required
def home():
    """A clerk's open campaigns with their tables and progress; for compilers and admins, all campaigns."""
    if current_user.role != ROLE_CLERK:
        campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.deadline.desc())))
        return render_template("entry/campaigns.html", campaigns=campaigns)
    unit = current_user.unit
    items = []
    for campaign in clerk_campaigns(unit):
        (state,) = completeness(db.session, campaign, [unit]).units
        tables = [(table, state.tables[table.code]) for table in campaign.outline.tables
                  if state.tables[table.code].assigned]
        items.append({"campaign": campaign, "tables": tables, "days_left": days_left(campaign.deadline)})
    return render_template("entry/home.html", items=items, unit=unit)


def render_table(campaign: Campaign, unit: Unit, part, status: int = 200, **extra):
    table = part.table
    tables = [t for t in campaign.outline.tables]
    index = tables.index(table)
    can_edit = (current_user.role == ROLE_CLERK and campaign.status == "open"
                and bool(part.groups))
    context = dict(campaign=campaign, unit=unit, table=table, part=part, can_edit=can_edit,
                   prev_table=tables[index - 1] if index else None,
                   next_table=tables[index + 1] if index + 1 < len(tables) else None,
                   days_left=days_left(campaign.deadline), **extra)
    if isinstance(part, UnitList):
        return render_template("entry/list.html", **context), status
    return render_template("entry/table.html", **context), status


@bp.route("/campaigns/<code>/tables/<table_code>")
@login_required
def table(code: str, table_code: str):
    """A unit's table in the printed layout: its own cells are inputs, the rest read-only."""
    campaign = get_campaign(code)
    table = get_table(campaign, table_code)
    unit = visible_unit(campaign, request.args.get("unit"))
    return render_table(campaign, unit, unit_part(db.session, campaign, unit, table))


def _cell_key(name: str) -> tuple[str, str] | None:
    parts = name.split(":")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "cell" else None


@bp.route("/campaigns/<code>/tables/<table_code>", methods=["POST"])
@login_required
def save(code: str, table_code: str):
    """Save cells. htmx sends one changed cell and gets its row back; a plain POST saves the form."""
    part = editable_part(code, table_code)
    if isinstance(part, UnitList):
        return save_list_form(part)
    if htmx and htmx.trigger_name and _cell_key(htmx.trigger_name):
        row_key, col_key = _cell_key(htmx.trigger_name)
        raw = request.form.get(htmx.trigger_name, "")
        try:
            part.save(row_key, col_key, raw, current_user, via="web")
        except NotOwned:
            abort(403)
        except ValueProblem as exc:
            view = part.row_view(part.layout.find_row(row_key, col_key), {col_key: raw}, {col_key: str(exc)})
            return render_template("entry/_row.html", row=view, part=part, can_edit=True), 422
        return render_template("entry/_row.html", row=part.row_view(part.layout.find_row(row_key, col_key)),
                               part=part, can_edit=True)
    raw = {key: value for name, value in request.form.items() if (key := _cell_key(name))}
    try:
        errors = part.save_many(raw, current_user, via="web")
    except NotOwned:
        abort(403)
    if errors:
        n = len(errors)
        flash(f"Chưa lưu: {n} ô có lỗi. Sửa các ô được đánh dấu rồi lưu lại.", "error")
        typed = {}
        for (row_key, col_key), value in raw.items():
            typed.setdefault(row_key, {})[col_key] = value
        by_row = {}
        for (row_key, col_key), message in errors.items():
            by_row.setdefault(row_key, {})[col_key] = message
        rows = [part.row_view(r, typed.get(r.key), by_row.get(r.key)) for r in part.layout.rows]
        return render_table(part.campaign, part.unit, part, status=422, rows=rows)
    flash("Đã lưu.", "success")
    return redirect(url_for("entry.table", code=code, table_code=table_code))


# --- list tables (table I) -------------------------------------------------------------------

def _row_fields(prefix: str) -> dict[str, str]:
    return {name[len(prefix):]: value for name, value in request.form.items() if name.startswith(prefix)}


def save_list_form(part: UnitList):
    """The no-JavaScript save of a whole list page: every edited row and the new one, or nothing."""
    errors: dict[str, dict[str, str]] = {}
    updates = []
    for row in part.rows:
        raw = _row_fields(f"row:{row.id}:")
        if not raw:
            continue
        data, row_errors = part.parse(raw)
        if row_errors:
            errors[str(row.id)] = row_errors
        updates.append((row, data))
    new_data, new_errors = part.parse(_row_fields("new:"))
    if new_errors:
        errors["new"] = new_errors
    if errors:
        flash("Chưa lưu: có dòng bị lỗi. Sửa các ô được đánh dấu rồi lưu lại.", "error")
        return render_table(part.campaign, part.unit, part, status=422, errors=errors, form=request.form)
    for row, data in updates:
        if data is None:
            part.delete(row, current_user, via="web", commit=False)
        else:
            part.update(row, data, current_user, via="web", commit=False)
    if new_data:
        part.add(new_data, current_user, via="web", commit=False)
    db.session.commit()
    flash("Đã lưu.", "success")
    return redirect(url_for("entry.table", code=part.campaign.code, table_code=part.table.code))


@bp.route("/campaigns/<code>/tables/<table_code>/rows", methods=["POST"])
@login_required
def add_row(code: str, table_code: str):
    """Add one document to a list table."""
    part = editable_part(code, table_code)
    if not isinstance(part, UnitList) or not part.editable:
        abort(403)
    data, errors = part.parse(_row_fields("new:"))
    if errors or data is None:
        errors = errors or {"_row": "Dòng còn trống: nhập thông tin văn bản rồi bấm Thêm."}
        if htmx:
            return render_template("entry/_list_new.html", part=part, errors={"new": errors}, form=request.form), 422
        flash("Chưa thêm: dòng mới có lỗi.", "error")
        return render_table(part.campaign, part.unit, part, status=422, errors={"new": errors}, form=request.form)
    part.add(data, current_user, via="web")
    if htmx:  # a fresh blank row in place of the filled one, and the list with the new row
        return (render_template("entry/_list_new.html", part=part)
                + render_template("entry/_list_body.html", part=part, oob=True))
    flash("Đã thêm văn bản.", "success")
    return redirect(url_for("entry.table", code=code, table_code=table_code))


@bp.route("/campaigns/<code>/tables/<table_code>/rows/<int:row_id>", methods=["POST"])
@login_required
def edit_row(code: str, table_code: str, row_id: int):
    """Save one edited row of a list table; htmx gets the row back."""
    part = editable_part(code, table_code)
    if not isinstance(part, UnitList):
        abort(404)
    try:
        row = part.row(row_id)
    except NotOwned:
        abort(403)
    raw = _row_fields(f"row:{row.id}:")
    data, errors = part.parse(raw)
    if data is None and not errors:
        errors = {"_row": "Không để trống cả dòng; muốn bỏ văn bản này thì bấm Xóa."}
    number = part.rows.index(row) + 1
    if errors:
        if htmx:
            return render_template("entry/_list_row.html", part=part, row=row, number=number,
                                   errors={str(row.id): errors}, form=request.form), 422
        flash("Chưa lưu: dòng có lỗi.", "error")
        return render_table(part.campaign, part.unit, part, status=422, errors={str(row.id): errors},
                            form=request.form)
    part.update(row, data, current_user, via="web")
    if htmx:
        return render_template("entry/_list_row.html", part=part, row=row, number=number)
    flash("Đã lưu.", "success")
    return redirect(url_for("entry.table", code=code, table_code=table_code))


@bp.route("/campaigns/<code>/tables/<table_code>/rows/<int:row_id>/delete", methods=["POST"])
@login_required
def delete_row(code: str, table_code: str, row_id: int):
    """Remove one document from a list table."""
    part = editable_part(code, table_code)
    if not isinstance(part, UnitList):
        abort(404)
    try:
        row = part.row(row_id)
    except NotOwned:
        abort(403)
    part.delete(row, current_user, via="web")
    if htmx:
        return render_template("entry/_list_body.html", part=part)
    flash("Đã xóa văn bản.", "success")
    return redirect(url_for("entry.table", code=code, table_code=table_code))
