"""The narrative report in the browser: a unit writes its answer per section of the outline's
ĐỀ CƯƠNG; the compiler reads every unit's answer section by section and writes the district's draft.

Thin views over webapp/narrative.py. A save from the page's script (cells.js's queue: the fields
``value`` and ``version``, the version the page showed; the plain form sends it as ``v:text``) is
answered with the fragment
narrate/_saved.html: 200 stored, 409 changed meanwhile (with the text now stored), 422 refused (too
long), 423 the part or the campaign closed (the reason as text). The same form posted without
JavaScript comes back as the page (or goes back to it).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import narrative
from ..domain.columns import ValueProblem
from ..domain.docx_sections import read_sections
from ..entry.routes import _version, get_campaign, locked, staff_campaign, visible_unit
from ..extensions import db, htmx
from ..models import ROLE_CLERK, Campaign, Unit
from ..workflow import Refused, closed_reason, part_of
from .forms import ReportUploadForm

bp = Blueprint("narrate", __name__)

CONFLICT = ("Mục này vừa được người khác sửa; nội dung của bạn chưa được lưu. Nội dung đang lưu hiện ở bên dưới: "
            "xem lại, rồi lưu lại nếu vẫn muốn thay bằng nội dung của bạn.")


def narrative_campaign(code: str) -> Campaign:
    """The campaign named in the URL; 404 when its outline has no narrative sections."""
    campaign = get_campaign(code)
    if not campaign.outline.sections:
        abort(404)
    return campaign


@bp.route("/campaigns/<code>/narrative")
@login_required
def unit_page(code: str):
    """A reporting unit's "Báo cáo thuyết minh": every heading with its guidance and an editor per
    answered section (the text read-only once the part is closed). Staff go to the compiler's page."""
    campaign = narrative_campaign(code)
    if current_user.role != ROLE_CLERK:
        return redirect(url_for("narrate.compile_page", code=code))
    return render_unit_page(campaign, visible_unit(campaign, request.args.get("unit")))


def render_unit_page(campaign: Campaign, unit: Unit, status: int = 200, typed=None, errors=None, conflicts=None):
    closed = closed_reason(campaign, part_of(db.session, campaign, unit))
    stored = {code: row for (_, code), row in narrative.answers(db.session, campaign, unit).items()}
    return render_template("narrate/unit.html", campaign=campaign, unit=unit, closed=closed, stored=stored,
                           typed=typed or {}, errors=errors or {}, conflicts=conflicts or {}), status


@bp.route("/campaigns/<code>/narrative/<section>", methods=["POST"])
@login_required
def save_answer(code: str, section: str):
    """Save the signed-in clerk's unit's answer to one section (compilers write the draft, not a
    unit's answer: 403)."""
    campaign = narrative_campaign(code)
    if current_user.role != ROLE_CLERK:
        abort(403)
    unit = visible_unit(campaign, request.args.get("unit"), clerk_outside=403)
    raw = _sent_text()
    return _saved(lambda: narrative.save_answer(db.session, campaign, unit, current_user, section, raw,
                                                _shown_version()),
                  lambda **shown: render_unit_page(campaign, unit, **shown), section, raw,
                  url_for("narrate.unit_page", code=code, _anchor=f"s-{section}"))


@bp.route("/campaigns/<code>/narrative/upload", methods=["GET", "POST"])
@login_required
def upload(code: str):
    """A unit's report written in Word: its text taken section by section by the headings and stored
    as the unit's answers, all or nothing (the sections the file holds replace their text; the
    others stay), under the same locks and audit as typed answers."""
    campaign = narrative_campaign(code)
    if current_user.role != ROLE_CLERK:
        abort(403)
    unit = visible_unit(campaign, request.args.get("unit"), clerk_outside=403)
    form = ReportUploadForm()
    errors: list[str] = []
    status = 200
    if form.validate_on_submit():
        read = read_sections(form.document.data.stream, campaign.outline.sections)
        if read.refusal:
            errors = [read.refusal]
        elif not read.answers:
            errors = ["Tệp không có đề mục nào của đề cương (ví dụ “1. Công tác nghiên cứu, phổ biến, quán triệt…”) "
                      "có nội dung bên dưới: mỗi mục của báo cáo cần bắt đầu bằng đề mục như trong đề cương."]
        else:
            try:
                changed = narrative.save_answers(db.session, campaign, unit, current_user, read.answers, via="upload")
            except (Refused, ValueProblem) as exc:
                errors = [str(exc)]
            else:
                flash(f"Đã nhận báo cáo của {unit.name}: {len(read.answers)} mục có nội dung, "
                      f"{changed} mục thay đổi.", "success")
                for warning in read.warnings:
                    flash(warning, "warning")
                return redirect(url_for("narrate.unit_page", code=code))
        status = 422
    elif request.method == "POST":
        status = 400
    return render_template("narrate/upload.html", campaign=campaign, unit=unit, form=form, errors=errors), status


@bp.route("/campaigns/<code>/narrative/compile")
@login_required
def compile_page(code: str):
    """The compiler's desk for the report: the sections with how many units answered each, and
    for one section (``?section=``) every unit's answer side by side, who has not answered, and
    the district's draft with a "Trích" button per answer."""
    campaign = staff_campaign(code)
    if not campaign.outline.sections:
        abort(404)
    return render_compile_page(campaign, request.args.get("section"))


def render_compile_page(campaign: Campaign, section_code: str | None, status: int = 200, typed=None, errors=None,
                        conflicts=None):
    try:
        desk = narrative.desk(db.session, campaign, section_code)
    except narrative.NotAnswered:
        abort(404)
    return render_template("narrate/compile.html", campaign=campaign, desk=desk, section=desk.section,
                           may_draft=narrative.may_draft(current_user, campaign), closed=campaign.status != "open",
                           typed=typed or {}, errors=errors or {}, conflicts=conflicts or {}), status


@bp.route("/campaigns/<code>/narrative/draft/<section>", methods=["POST"])
@login_required
def save_draft(code: str, section: str):
    """Save the district's draft of one section (the campaign's compiler, or an administrator)."""
    campaign = staff_campaign(code)
    if not campaign.outline.sections or not narrative.may_draft(current_user, campaign):
        abort(403)
    raw = _sent_text()
    return _saved(lambda: narrative.save_draft(db.session, campaign, current_user, section, raw, _shown_version()),
                  lambda **shown: render_compile_page(campaign, section, **shown), section, raw,
                  url_for("narrate.compile_page", code=code, section=section, _anchor="draft"))


def _sent_text() -> str:
    raw = request.form.get("value")
    if raw is None:  # a request without the text is no request to clear it
        abort(400)
    return raw


def _shown_version() -> int:
    """The version of the text the page showed: ``version`` from the page's script (cells.js's
    queue), ``v:text`` from the form posted without it."""
    return _version("version" if "version" in request.form else "v:text")


def _saved(save, page, section: str, raw: str, back: str):
    """Run ``save`` and answer it: for the page's script the fragment (or 423 with the reason);
    for a plain form back to the page, or the page again with the text typed and why it was not
    stored."""
    try:
        saved = save()
    except narrative.NotAnswered:
        abort(404)
    except Refused as exc:
        if htmx:
            return locked(str(exc))
        flash(str(exc), "error")
        return redirect(back)
    except ValueProblem as exc:
        if htmx:
            return render_template("narrate/_saved.html", message=str(exc)), 422
        return page(status=422, typed={section: raw}, errors={section: str(exc)})
    except narrative.TextConflict as exc:
        if htmx:
            return render_template("narrate/_saved.html", html=exc.html, version=exc.version, message=CONFLICT), 409
        return page(status=409, typed={section: raw}, errors={section: CONFLICT},
                    conflicts={section: (exc.html, exc.version)})
    if htmx:
        return render_template("narrate/_saved.html", html=saved.html, version=saved.version)
    flash("Đã lưu.", "success")
    return redirect(back)
