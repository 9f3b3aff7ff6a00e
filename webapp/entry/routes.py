"""A unit's tables: the home page, the table pages, saving cells and list rows.

Each view renders the full page for an ordinary request and only the fragment the page's script
asked for (a list row; a grid cell's <td>s) for a script's request; the table page's form also
saves without JavaScript (the whole table at once).
"""

from __future__ import annotations

import functools
import re

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db, htmx
from ..domain.outline import Table
from ..domain.values import ValueProblem, row_noun, this_row
from ..models import ROLE_CLERK, ROLE_COMPILER, Campaign, CampaignUnit, ListRow, Unit
from ..nesting import upper_compiler_units
from ..quality import open_warnings, quality_lines
from ..templating import days_left
from ..review.service import completeness
from .. import workflow
from ..domain.layout import LayoutRow
from ..workflow import (VIA_COMPILER, LockedPart, Refused, closed_reason, deadline_of, in_campaign, lock_table_part,
                        open_notes, open_until, part_of, status_of)
from .forms import SubmitPartForm
from .service import (Conflict, NotOwned, OverQuota, RowGone, UnitList, UnitTable, conflict_message, list_cells, owned_groups,
                      row_gone, unit_part)

bp = Blueprint("entry", __name__)


@bp.context_processor
def fragment_helpers():
    return {"list_cells": list_cells}


def get_campaign(code: str, other_compiler: int = 403) -> Campaign:
    """The campaign named in the URL; ``other_compiler`` (403) for a compiler of another unit than
    the campaign's compiling unit (on one installation, each district's committee compiles only its own)."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        abort(404)
    if current_user.role == ROLE_COMPILER and current_user.unit_id != campaign.compiler_unit_id:
        # the compiler of a campaign this one feeds (nesting.py: the province over a district) reads it
        if request.method not in ("GET", "HEAD") or current_user.unit_id not in upper_compiler_units(db.session,
                                                                                                     campaign):
            abort(other_compiler)
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


def visible_unit(campaign: Campaign, unit_code: str | None, clerk_outside: int = 404) -> Unit:
    """The unit whose part is shown: a clerk sees only their own; compiler and admin any of the
    campaign. ``clerk_outside``: the answer to a clerk whose unit is not in the campaign."""
    if current_user.role == ROLE_CLERK:
        if unit_code and unit_code != current_user.unit.code:
            abort(403)
        unit = current_user.unit
        if not in_campaign(db.session, campaign, unit):
            abort(clerk_outside)
        return unit
    if not unit_code:
        abort(404)
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None or not in_campaign(db.session, campaign, unit):
        abort(404)
    return unit


def outside() -> int:
    """The answer to a write to a unit not in the campaign, as editable_part's visible_unit() gives it."""
    return 403 if current_user.role == ROLE_CLERK else 404


def shown_table(code: str, table_code: str) -> tuple[Campaign, Table, Unit]:
    """The campaign and table a page's URL names, and the unit whose part of it is shown (``?unit=``
    for staff; a clerk's own)."""
    campaign = get_campaign(code)
    return campaign, get_table(campaign, table_code), visible_unit(campaign, request.args.get("unit"))


def writer_via() -> str | None:
    """How the signed-in user writes values: a clerk for their unit (web), a compiler correcting a
    unit's part (compiler); None: administrators do not enter figures."""
    return {ROLE_CLERK: "web", ROLE_COMPILER: VIA_COMPILER}.get(current_user.role)


def editable_part(campaign_code: str, table_code: str) -> UnitTable | UnitList:
    """The part of a table a write goes to: the clerk's own unit's, or for a compiler the unit named
    by ``?unit=``; 403 for anyone else's. Whether the part is open now is checked by the write itself."""
    campaign = get_campaign(campaign_code)
    table = get_table(campaign, table_code)
    if writer_via() is None:
        abort(403)
    unit = visible_unit(campaign, request.args.get("unit"), clerk_outside=403)
    part = unit_part(db.session, campaign, unit, table)
    if not part.groups:  # a table the unit is not asked for
        abort(403)
    return part


def locked_cell_part(code: str, table_code: str, row_key: str,
                     col_key: str) -> tuple[UnitTable, LayoutRow, LockedPart]:
    """The part a one-cell save goes to (as editable_part decides it), with only the cell's row to
    be read, its layout row, and the lock: taken first, by names (workflow.lock_table_part), which
    reads the campaign, the part, the unit's groups of the table and the row's values in two
    statements. Any refusal here ends the transaction (the lock released)."""
    if writer_via() is None:
        abort(403)
    unit_code = request.args.get("unit")
    if current_user.role == ROLE_CLERK:
        if unit_code and unit_code != current_user.unit.code:
            abort(403)
        locked = lock_table_part(db.session, code, table_code, row_key, unit=current_user.unit)
    else:
        if not unit_code:
            abort(404)
        locked = lock_table_part(db.session, code, table_code, row_key, unit_code=unit_code)

    def refuse(status: int):
        db.session.rollback()
        abort(status)

    if locked is None:  # no such part: why (a rare answer, it may read more)
        db.session.rollback()
        get_table(get_campaign(code), table_code)
        abort(outside())
    campaign = locked.campaign
    if current_user.role == ROLE_COMPILER and current_user.unit_id != campaign.compiler_unit_id:
        refuse(403)  # as get_campaign answers a compiler's write to a campaign they do not compile
    try:
        table = campaign.outline.table(table_code)
    except KeyError:
        refuse(404)
    if table.is_list:  # a list is saved by rows
        refuse(404)
    if not locked.groups:  # a table the unit is not asked for
        refuse(403)
    part = UnitTable(db.session, campaign, locked.unit, table, locked.groups, row_key=row_key)
    try:
        lrow = part.layout.find_row(row_key, col_key)
        part.input_column(row_key, col_key)
    except KeyError:
        refuse(404)
    except NotOwned:  # derived, fixed or another unit's cell
        refuse(403)
    return part, lrow, locked


def plain_reason(reason: str, status: int):
    """A script's write refused as a whole, with the reason as plain text: 423 the part cannot be
    written now, 410 the document is gone."""
    return reason, status, {"Content-Type": "text/plain; charset=utf-8"}


def locked(reason: str):
    return plain_reason(reason, 423)


def refused(part, reason: str):
    """A write that cannot be done now (the part is submitted, accepted, past the deadline, the
    campaign closed; a row removed meanwhile): htmx gets 423 with the reason as text; a plain form
    the page again, with the reason."""
    if htmx:
        return locked(reason)
    flash(reason, "error")
    return redirect(table_url(part))


def gone(part):
    """A document edited or removed after someone else removed it: for a script 410 with the reason
    as text (only that row is concerned, the part stays open); a plain form the page again."""
    if htmx:
        return plain_reason(row_gone(part.table), 410)
    return refused(part, row_gone(part.table))


def table_url(part) -> str:
    unit = part.unit.code if current_user.role != ROLE_CLERK else None
    return url_for("entry.table", code=part.campaign.code, table_code=part.table.code, unit=unit)


VERSION = re.compile(r"[0-9]{1,9}")  # ASCII digits only: str.isdigit() also accepts "²"


NO_VERSION = -1  # matches no stored version


def _version(name: str) -> int:
    """The version of a cell or row the page was drawn with (form field ``name``: ``v:…`` of a
    page, ``version`` of a one-cell save).

    A field that is missing or not a version (left out, tampered with) matches no version: the
    change is refused as a conflict and the current value shown, rather than stored unchecked."""
    raw = request.form.get(name, "")
    return int(raw) if VERSION.fullmatch(raw) else NO_VERSION


def clerk_campaigns(unit: Unit) -> list[Campaign]:
    return list(db.session.scalars(
        select(Campaign).join(CampaignUnit, CampaignUnit.campaign_id == Campaign.id)
        .where(CampaignUnit.unit_id == unit.id).order_by(Campaign.deadline)))


@bp.route("/")
@login_required
def home():
    """A clerk's open campaigns with their tables and progress; a compiler's the campaigns their unit
    compiles; an administrator's all."""
    if current_user.role != ROLE_CLERK:
        query = select(Campaign).order_by(Campaign.deadline.desc())
        if current_user.role == ROLE_COMPILER:
            query = query.where(Campaign.compiler_unit_id == current_user.unit_id)
        campaigns = list(db.session.scalars(query))
        return render_template("entry/campaigns.html", campaigns=campaigns)
    unit = current_user.unit
    items = []
    for campaign in clerk_campaigns(unit):
        (state,) = completeness(db.session, campaign, [unit]).units
        tables = [(table, state.tables[table.code]) for table in campaign.outline.tables
                  if state.tables[table.code].assigned]
        cu = part_of(db.session, campaign, unit)
        items.append({"campaign": campaign, "tables": tables, "part": cu,
                      "status": status_of(cu, state.state != "todo"),
                      "closed": closed_reason(campaign, cu), "notes": open_notes(db.session, campaign, unit),
                      "deadline": deadline_of(campaign, unit), "open_until": open_until(campaign, cu),
                      "days_left": days_left(open_until(campaign, cu))})
    return render_template("entry/home.html", items=items, unit=unit)


def render_table(campaign: Campaign, unit: Unit, part, status: int = 200, **extra):
    table = part.table
    # ‹ Biểu / Biểu › go through the unit's own tables only (one query for all of them), for its clerk
    # and for a compiler viewing it; the table shown stays in the sequence even when not the unit's.
    owned = owned_groups(db.session, campaign, unit)
    tables = [t for t in campaign.outline.tables if t.code in owned or t.code == table.code]
    index = [t.code for t in tables].index(table.code)
    cu = part_of(db.session, campaign, unit)
    via = writer_via()
    # A compiler sees a unit's table read-only unless they chose to correct it (?sua=1).
    wants_edit = via == "web" or (via == VIA_COMPILER and request.args.get("sua") == "1")
    closed = closed_reason(campaign, cu, via or "web")
    can_edit = wants_edit and bool(part.groups) and closed is None
    notes = [n for n in open_notes(db.session, campaign, unit) if n.table_code in (None, table.code)]
    context = dict(campaign=campaign, unit=unit, table=table, part=part, can_edit=can_edit, closed=closed,
                   cu=cu, notes=notes, correcting=can_edit and via == VIA_COMPILER,
                   prev_table=tables[index - 1] if index else None,
                   next_table=tables[index + 1] if index + 1 < len(tables) else None,
                   deadline=deadline_of(campaign, unit), days_left=days_left(open_until(campaign, cu)), **extra)
    if isinstance(part, UnitList):
        return render_template("entry/list.html", **context), status
    return render_template("entry/table.html", **context), status


@bp.route("/campaigns/<code>/tables/<table_code>")
@login_required
def table(code: str, table_code: str):
    """A unit's table in the printed layout: its own cells are inputs, the rest read-only."""
    campaign, table, unit = shown_table(code, table_code)
    return render_table(campaign, unit, unit_part(db.session, campaign, unit, table))


def _cell_key(name: str) -> tuple[str, str] | None:
    parts = name.split(":")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "cell" else None


@bp.route("/campaigns/<code>/tables/<table_code>/cells/<row_key>/<col_key>", methods=["POST"])
@login_required
def save_cell(code: str, table_code: str, row_key: str, col_key: str):
    """Save one cell (the page's script sends ``value`` and the ``version`` it showed when the clerk
    leaves a cell). The answer is ``<td>`` fragments: the saved cell, then the cells of its row whose
    view the save changed (rates, messages); 422 a refused value (typed value and message), 409 the
    cell changed meanwhile (the value now stored and the message); 423 the part cannot be written
    now (the reason, as text). Reads only what one cell needs: its row, never the whole table."""
    part, lrow, lock = locked_cell_part(code, table_code, row_key, col_key)
    raw = request.form.get("value")
    if raw is None:  # a request without the value is no request to clear the cell
        db.session.rollback()
        abort(400)
    status, changed = 200, False
    try:
        saved = part.save(row_key, col_key, raw, current_user, via=writer_via(),
                          expected_version=_version("version"), commit=False, locked=lock)
        cells, changed = saved.cells, saved.changed
    except Refused as exc:
        return locked(str(exc))
    except ValueProblem as exc:  # the typed value stays, with why it was refused
        status, cells = 422, [part.row_view(lrow, {col_key: raw}, {col_key: str(exc)}).cell(col_key)]
    except Conflict as exc:  # the value now stored, and that theirs was not saved
        message = conflict_message(exc.shown) + (f" (Bạn đã nhập: «{raw}».)" if raw else "")
        status, cells = 409, [part.row_view(lrow, errors={col_key: message}).cell(col_key)]
    session = db.session()
    if not changed:  # drawn before the rollback (which ends the lock), since it expires what was read
        html = render_template("entry/_cells.html", cells=cells, part=part, lrow=lrow)
        session.rollback()
        return html, status
    # Committed first, then drawn: the part's lock (on SQLite the one writer's) is not held while the
    # answer is drawn; nothing is expired, so drawing reads nothing again.
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    return render_template("entry/_cells.html", cells=cells, part=part, lrow=lrow), status


@bp.route("/campaigns/<code>/tables/<table_code>", methods=["POST"])
@login_required
def save(code: str, table_code: str):
    """Save the whole table form (the page without JavaScript); the script saves one cell at a time
    (save_cell)."""
    part = editable_part(code, table_code)
    if isinstance(part, UnitList):
        return save_list_form(part)
    via = writer_via()
    raw = {key: value for name, value in request.form.items() if (key := _cell_key(name))}
    versions = {key: _version(f"v:{key[0]}:{key[1]}") for key in raw}
    try:
        errors = part.save_many(raw, current_user, via=via, versions=versions)
    except NotOwned:
        abort(403)
    except Refused as exc:
        return refused(part, str(exc))
    if errors:
        n = len(errors)
        flash(f"Chưa lưu: {n} ô có lỗi. Sửa các ô được đánh dấu rồi lưu lại.", "error")
        typed = {}
        for (row_key, col_key), value in raw.items():
            if (row_key, col_key) not in part.conflicts:  # a cell changed meanwhile shows what is stored:
                typed.setdefault(row_key, {})[col_key] = value  # saving again must not put the old one back
        by_row = {}
        for (row_key, col_key), message in errors.items():
            if (row_key, col_key) in part.conflicts and raw[(row_key, col_key)]:
                message += f" (Bạn đã nhập: «{raw[(row_key, col_key)]}».)"
            by_row.setdefault(row_key, {})[col_key] = message
        rows = [part.row_view(r, typed.get(r.key), by_row.get(r.key)) for r in part.layout.rows]
        return render_table(part.campaign, part.unit, part, status=422, rows=rows)
    flash("Đã lưu.", "success")
    return redirect(table_url(part))


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
    via = writer_via()
    try:
        for row, data in updates:
            if data is None:
                part.delete(row, current_user, via=via, commit=False, expected_version=_version(f"v:row:{row.id}"))
            else:
                part.update(row, data, current_user, via=via, commit=False, expected_version=_version(f"v:row:{row.id}"),
                            check_quota=False)
        if new_data:
            part.add(new_data, current_user, via=via, commit=False, check_quota=False)
        part.check_quota()  # the list as it stands after all of them (rows may swap categories)
    except Refused as exc:
        return refused(part, str(exc))
    except Conflict:
        db.session.rollback()
        return _list_conflict(part)
    except OverQuota as exc:
        part = unit_part(db.session, part.campaign, part.unit, part.table)  # as stored (nothing was)
        flash(f"Chưa lưu: {exc}", "error")
        return render_table(part.campaign, part.unit, part, status=422, form=request.form)
    db.session.commit()
    flash("Đã lưu.", "success")
    return redirect(table_url(part))


def _list_conflict(part: UnitList):
    """The list page again after a save refused because documents changed meanwhile: those drawn as
    they are stored now, with the message (saving again cannot put the old text back); what was
    typed in the others kept."""
    part = unit_part(db.session, part.campaign, part.unit, part.table)  # as stored now
    stale = [r for r in part.rows if _row_fields(f"row:{r.id}:") and _version(f"v:row:{r.id}") != r.version]
    prefixes = tuple(f"row:{r.id}:" for r in stale)
    kept = {k: v for k, v in request.form.items() if not k.startswith(prefixes)}
    errors = {str(r.id): {"_row": conflict_message(part.shown(r), this_row(part.table))} for r in stale}
    flash(f"Chưa lưu: có {row_noun(part.table)} vừa được người khác sửa. Xem lại các dòng được đánh dấu rồi lưu lại.",
          "error")
    return render_table(part.campaign, part.unit, part, status=409, errors=errors, form=kept)


@bp.route("/campaigns/<code>/tables/<table_code>/rows", methods=["POST"])
@login_required
def add_row(code: str, table_code: str):
    """Add one document to a list table."""
    part = editable_part(code, table_code)
    if not isinstance(part, UnitList) or not part.editable:
        abort(403)
    data, errors = part.parse(_row_fields("new:"))
    if errors or data is None:
        errors = errors or {"_row": f"Dòng còn trống: nhập thông tin {row_noun(part.table)} rồi bấm Thêm."}
        if htmx:
            return render_template("entry/_list_new.html", part=part, errors={"new": errors}, form=request.form,
                                   can_edit=True), 422
        flash("Chưa thêm: dòng mới có lỗi.", "error")
        return render_table(part.campaign, part.unit, part, status=422, errors={"new": errors}, form=request.form)
    try:
        row = part.add(data, current_user, via=writer_via())
    except Refused as exc:
        return refused(part, str(exc))
    except OverQuota as exc:
        errors = {"new": {exc.column: str(exc)}}
        if htmx:
            return render_template("entry/_list_new.html", part=part, errors=errors, form=request.form,
                                   can_edit=True), 422
        flash(f"Chưa thêm: {exc}", "error")
        part = unit_part(db.session, part.campaign, part.unit, part.table)
        return render_table(part.campaign, part.unit, part, status=422, errors=errors, form=request.form)
    if htmx:  # the new document's row: the page's script puts it in place of what was typed
        return render_template("entry/_list_row.html", part=part, row=row, number=len(part.rows), can_edit=True)
    flash(f"Đã thêm {row_noun(part.table)}.", "success")
    return redirect(table_url(part))


def _written_row(code: str, table_code: str, row_id: int) -> tuple[UnitList, ListRow]:
    """The list part a row's edit or removal goes to, and the unit's row ``row_id`` in it; 403 for
    another unit's row, and the request ends with gone() when the row was removed meanwhile."""
    part = editable_part(code, table_code)
    if not isinstance(part, UnitList):
        abort(404)
    try:
        return part, part.row(row_id)
    except NotOwned:
        if db.session.get(ListRow, row_id) is not None:
            abort(403)
        abort(make_response(gone(part)))


def _write_row(part, row, write, not_done: str):
    """Write to a list row of the unit (``write``: part.update or part.delete of that row, given the
    writer and the version the page showed); None once done, else the answer: removed meanwhile
    (410), the part closed (423), changed by someone else since the page showed it (409: the row as
    it is now, with why). ``not_done``: what was not done ("Chưa lưu: ")."""
    try:
        write(current_user, via=writer_via(), expected_version=_version(f"v:row:{row.id}"))
    except RowGone:
        return gone(part)
    except Refused as exc:
        return refused(part, str(exc))
    except Conflict as exc:
        db.session.rollback()
        message = not_done + conflict_message(exc.shown, this_row(part.table))
        if htmx:  # the document as it is now, with why it was not written
            db.session.refresh(row)
            return render_template("entry/_list_row.html", part=part, row=row, number=part.rows.index(row) + 1,
                                   errors={str(row.id): {"_row": message}}, can_edit=True), 409
        flash(message, "error")
        return redirect(table_url(part))
    return None


@bp.route("/campaigns/<code>/tables/<table_code>/rows/<int:row_id>", methods=["POST"])
@login_required
def edit_row(code: str, table_code: str, row_id: int):
    """Save one edited row of a list table; htmx gets the row back."""
    part, row = _written_row(code, table_code, row_id)
    raw = _row_fields(f"row:{row.id}:")
    data, errors = part.parse(raw)
    if data is None and not errors:
        errors = {"_row": f"Không để trống cả dòng; muốn bỏ {row_noun(part.table)} này thì bấm Xóa."}
    number = part.rows.index(row) + 1
    if errors:
        if htmx:
            return render_template("entry/_list_row.html", part=part, row=row, number=number,
                                   errors={str(row.id): errors}, form=request.form, can_edit=True), 422
        flash("Chưa lưu: dòng có lỗi.", "error")
        return render_table(part.campaign, part.unit, part, status=422, errors={str(row.id): errors},
                            form=request.form)
    try:
        not_written = _write_row(part, row, functools.partial(part.update, row, data), "Chưa lưu: ")
    except OverQuota as exc:
        errors = {str(row_id): {exc.column: str(exc)}}
        if htmx:
            db.session.refresh(row)
            return render_template("entry/_list_row.html", part=part, row=row, number=number, errors=errors,
                                   form=request.form, can_edit=True), 422
        flash(f"Chưa lưu: {exc}", "error")
        part = unit_part(db.session, part.campaign, part.unit, part.table)
        return render_table(part.campaign, part.unit, part, status=422, errors=errors, form=request.form)
    if not_written is not None:
        return not_written
    if htmx:
        return render_template("entry/_list_row.html", part=part, row=row, number=number, can_edit=True)
    flash("Đã lưu.", "success")
    return redirect(table_url(part))


@bp.route("/campaigns/<code>/tables/<table_code>/rows/<int:row_id>/delete", methods=["POST"])
@login_required
def delete_row(code: str, table_code: str, row_id: int):
    """Remove one document from a list table."""
    part, row = _written_row(code, table_code, row_id)
    not_written = _write_row(part, row, functools.partial(part.delete, row), "Chưa xóa: ")
    if not_written is not None:
        return not_written
    if htmx:  # the page's script removes the row and numbers the others again
        return ""
    flash(f"Đã xóa {row_noun(part.table)}.", "success")
    return redirect(table_url(part))


# --- submission ------------------------------------------------------------------------------------

@bp.route("/campaigns/<code>/submit", methods=["GET", "POST"])
@login_required
def submit(code: str):
    """The clerk's last check before submitting (what breaks a rule, what is still empty), and the submission."""
    campaign = get_campaign(code)
    if current_user.role != ROLE_CLERK or not in_campaign(db.session, campaign, current_user.unit):
        abort(403)
    unit = current_user.unit
    form = SubmitPartForm()
    if form.validate_on_submit():
        try:
            workflow.submit(db.session, campaign, unit, current_user, confirm_gaps=form.confirm_gaps.data,
                            confirm_warnings=form.confirm_warnings.data)
        except Refused as exc:
            flash(str(exc), "error")
        else:
            cu = part_of(db.session, campaign, unit)
            flash("Đã nộp báo cáo" + (" (muộn so với hạn)" if cu.submitted_late else "")
                  + ". Bộ phận tổng hợp sẽ xem và duyệt; trong lúc chờ, số liệu không sửa được.", "success")
            return redirect(url_for("entry.home"))
    cu = part_of(db.session, campaign, unit)
    lines = quality_lines(db.session, campaign, unit)
    problems, gaps = workflow.review_part(db.session, campaign, unit, lines)
    return render_template("entry/submit.html", campaign=campaign, unit=unit, cu=cu, form=form,
                           problems=problems, gaps=gaps, warnings=open_warnings(lines), closed=closed_reason(campaign, cu),
                           status=status_of(cu, True))
