"""The compiler's decisions on the units' parts (accept, return, reopen, extend; several at once) and
on the campaign (close, open), and the audit trail: a unit's or the campaign's changes, a cell's history.

Views only: the rules are in webapp/workflow.py, the queries in .service.
"""

from __future__ import annotations

import functools
import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import workflow
from ..entry.routes import get_campaign, shown_table, staff_campaign
from ..extensions import db, htmx
from ..models import ROLE_COMPILER, Unit
from ..nesting import feeds
from ..quality import quality_lines
from ..templating import days_left
from ..workflow import NotePlace, Refused, in_campaign
from .forms import ActionForm, DecideForm, ExtendForm, ReturnForm
from .counted import counted_arg
from .routes import bp
from .service import change_log, completeness, document_history

ROW_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only: str.isdigit() takes "²"

PAGE_SIZE = 100
RECENT = 20  # changes shown on a unit's page; the change log pages through the rest


def compiler_campaign(code: str):
    """A campaign whose parts the signed-in user may decide on: compilers only (403 otherwise)."""
    if current_user.role != ROLE_COMPILER:
        abort(403)
    return get_campaign(code)


def campaign_unit(campaign, unit_code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None or not in_campaign(db.session, campaign, unit):
        abort(404)
    return unit


@bp.route("/campaigns/<code>/units/<unit_code>")
@login_required
def unit_page(code: str, unit_code: str):
    """One unit's part: where it stands, its tables, its errors and warnings (confirmed or not), the
    return notes, the decisions, its changes."""
    campaign = staff_campaign(code)
    unit = campaign_unit(campaign, unit_code)
    (state,) = completeness(db.session, campaign, [unit]).units
    events, more = change_log(db.session, campaign, unit=unit, limit=RECENT)
    return render_template("review/unit.html", campaign=campaign, unit=unit, u=state, part=state.part,
                           quality=quality_lines(db.session, campaign, unit),
                           note_rows=note_rows(campaign, state),
                           notes=workflow.open_notes(db.session, campaign, unit), events=events, more=more,
                           return_form=ReturnForm(), extend_form=ExtendForm(), action_form=ActionForm(),
                           deadline=workflow.deadline_of(campaign, unit),
                           open_until=workflow.open_until(campaign, state.part), today=workflow.campaign_today(),
                           days_left=days_left(campaign.deadline))


def note_rows(campaign, state) -> list[tuple[str, str]]:
    """The rows a return note may point at, as (row key, printed label), once each in the outline's
    order: the periods ("Năm 2021") and the named rows of the grid tables the unit fills."""
    rows: dict[str, str] = {}
    for table in campaign.outline.tables:
        if table.is_list or not state.tables[table.code].assigned:
            continue
        for block in table.blocks:
            for spec in block.row_specs(campaign.frame):
                rows.setdefault(spec.key, spec.label.strip().lstrip("+").strip().rstrip(":").strip())
    return list(rows.items())


def _done(campaign, unit=None, message: str | None = None, category: str = "success"):
    if message:
        flash(message, category)
    if unit is not None and request.form.get("next") != "dashboard":
        return redirect(url_for("review.unit_page", code=campaign.code, unit_code=unit.code))
    return redirect(url_for("review.dashboard", code=campaign.code))


def unit_decision(action: str, form_class, not_done: str = "", invalid=None):
    """Register a compiler's decision on one unit's part, POSTed to
    /campaigns/<code>/units/<unit_code>/<action>. The decorated function gets (campaign, unit, form)
    once the form is valid and answers the message to flash and its category; a refusal of the
    workflow is flashed as an error after ``not_done`` ("Chưa trả lại: "). ``invalid(form)``: what
    to flash after ``not_done`` for a form that does not validate; None: 400 (a form with nothing
    to fill, only its CSRF token)."""
    def register(decide):
        @bp.route(f"/campaigns/<code>/units/<unit_code>/{action}", methods=["POST"], endpoint=decide.__name__)
        @login_required
        @functools.wraps(decide)
        def view(code: str, unit_code: str):
            campaign = compiler_campaign(code)
            unit = campaign_unit(campaign, unit_code)
            form = form_class()
            if not form.validate_on_submit():
                if invalid is None:
                    abort(400)
                return _done(campaign, unit, not_done + invalid(form), "error")
            try:
                message, category = decide(campaign, unit, form)
            except Refused as exc:
                return _done(campaign, unit, not_done + str(exc), "error")
            return _done(campaign, unit, message, category)
        return view
    return register


@unit_decision("accept", ActionForm)
def accept(campaign, unit, form):
    """Accept a submitted part."""
    if workflow.accept(db.session, campaign, [unit], current_user):
        return f"{unit.name} chưa nộp báo cáo: chưa duyệt được.", "error"
    return f"Đã duyệt phần báo cáo của {unit.name}.", "success"


def _form_problems(form) -> str:
    errors = [e for field in form for e in field.errors]
    return " ".join(errors or ["biểu mẫu đã hết hạn, tải lại trang."])


@unit_decision("return", ReturnForm, not_done="Chưa trả lại: ", invalid=_form_problems)
def return_part(campaign, unit, form):
    """Send a submitted or accepted part back to the unit with a reason (and where to look)."""
    table, _, col = (form.table.data or "").partition("|")
    place = NotePlace(*((value or "").strip() or None for value in (table, form.row.data, col or form.col.data)))
    if workflow.return_parts(db.session, campaign, [unit], current_user, form.reason.data, place):
        return f"{unit.name} chưa nộp báo cáo: không có gì để trả lại.", "error"
    return f"Đã trả lại phần báo cáo của {unit.name}; đơn vị sẽ thấy lý do.", "success"


@unit_decision("reopen", ActionForm)
def reopen(campaign, unit, form):
    """Undo an acceptance: the part is submitted again, to be corrected, returned or accepted."""
    workflow.reopen(db.session, campaign, unit, current_user)
    return f"Đã mở lại phần báo cáo của {unit.name} (trạng thái: đã nộp).", "success"


@unit_decision("extend", ExtendForm, not_done="Chưa gia hạn: ",
               invalid=lambda form: "ngày không hợp lệ (dạng ngày/tháng/năm).")
def extend(campaign, unit, form):
    """Give one unit more time after the deadline (an empty date withdraws it)."""
    workflow.extend(db.session, campaign, unit, current_user, form.until.data)
    if form.until.data:
        return f"{unit.name} được nhập đến hết ngày {form.until.data:%d/%m/%Y}.", "success"
    return f"Đã bỏ gia hạn của {unit.name}.", "success"


@bp.route("/campaigns/<code>/decide", methods=["POST"])
@login_required
def decide(code: str):
    """Accept or return the parts of the units ticked on the progress page."""
    campaign = compiler_campaign(code)
    form = DecideForm()
    if not form.validate_on_submit():
        return _done(campaign, message="Chưa thực hiện: biểu mẫu không hợp lệ, tải lại trang rồi thử lại.",
                     category="error")
    codes = set(request.form.getlist("units"))
    units = [u for u in campaign.units if u.code in codes]
    if not units:
        return _done(campaign, message="Chưa chọn đơn vị nào.", category="error")
    try:
        if form.action.data == "accept":
            skipped = workflow.accept(db.session, campaign, units, current_user)
            done = "Đã duyệt"
        else:
            skipped = workflow.return_parts(db.session, campaign, units, current_user, form.reason.data)
            done = "Đã trả lại"
    except Refused as exc:
        return _done(campaign, message="Chưa thực hiện: " + str(exc), category="error")
    message = f"{done} {len(units) - len(skipped)} đơn vị."
    if skipped:
        message += f" Bỏ qua {len(skipped)} đơn vị chưa nộp: {', '.join(skipped)}."
    return _done(campaign, message=message, category="success" if len(skipped) < len(units) else "error")


@bp.route("/campaigns/<code>/feeds/<upper_code>/submit", methods=["POST"])
@login_required
def submit_feed(code: str, upper_code: str):
    """The campaign's compiler submits the assembled appendix as its unit's part of the campaign above
    (nesting.py: a district's part of the province campaign), frozen as it stands now, counting the
    parts chosen in the form's ``parts`` (default: every part)."""
    campaign = compiler_campaign(code)
    if not ActionForm().validate_on_submit():
        abort(400)
    counted = counted_arg(request.form)
    feed = next((f for f in feeds(db.session, campaign) if f.campaign.code == upper_code), None)
    if feed is None:
        abort(404)
    try:
        workflow.submit(db.session, feed.campaign, feed.unit, current_user, counted=counted)
    except Refused as exc:
        return _done(campaign, message="Chưa nộp lên được: " + str(exc), category="error")
    return _done(campaign, message=f"Đã nộp phụ lục tổng hợp của {feed.unit.name} vào đợt {feed.campaign.code} "
                                   f"({counted.label}): cấp trên tính số liệu như lúc này cho đến khi trả lại.")


@bp.route("/campaigns/<code>/status", methods=["POST"])
@login_required
def campaign_status(code: str):
    """Close the whole campaign (nothing more is entered or decided), or open it again."""
    campaign = compiler_campaign(code)
    if not ActionForm().validate_on_submit():
        abort(400)
    status = request.form.get("status", "")
    try:
        workflow.set_campaign_status(db.session, campaign, current_user, status)
    except Refused as exc:
        return _done(campaign, message=str(exc), category="error")
    return _done(campaign, message="Đã kết thúc đợt báo cáo: không nhận thêm số liệu." if status == "closed"
                 else "Đã mở lại đợt báo cáo.")


@bp.route("/campaigns/<code>/changes")
@login_required
def changes(code: str):
    """Every recorded change of the campaign, newest first, optionally of one unit (?unit=)."""
    campaign = staff_campaign(code)
    unit = campaign_unit(campaign, request.args["unit"]) if request.args.get("unit") else None
    page = min(max(1, request.args.get("page", 1, type=int)), 10**6)  # an offset the database can hold
    events, more = change_log(db.session, campaign, unit=unit, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template("review/changes.html", campaign=campaign, unit=unit, events=events, more=more,
                           page=page, days_left=days_left(campaign.deadline))


@bp.route("/campaigns/<code>/tables/<table_code>/history")
@login_required
def cell_history(code: str, table_code: str):
    """Every change of one cell of a unit (?unit= for the compiler; a clerk sees their own unit's)."""
    campaign, table, unit = shown_table(code, table_code)
    row_key, col_key = request.args.get("row", ""), request.args.get("col", "")
    if table.is_list:  # a document of table I: the row's whole history (row = its id), no column
        if not ROW_ID.fullmatch(row_key):
            abort(404)
        column, events = None, document_history(db.session, campaign, unit, table.code, int(row_key))
    else:
        try:
            column = table.column(col_key)
        except KeyError:
            abort(404)
        events, _ = change_log(db.session, campaign, unit=unit, table_code=table.code, row_key=row_key,
                               col_key=col_key, limit=500)
    context = dict(campaign=campaign, unit=unit, table=table, column=column, row_key=row_key, events=events)
    if htmx:
        return render_template("review/_history.html", **context)
    return render_template("review/history.html", **context)
