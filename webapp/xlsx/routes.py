"""Excel in and out in the browser: a unit's template, uploading it filled, the assembled workbook."""

from __future__ import annotations

import io

from flask import abort, Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..entry.routes import get_campaign, staff_campaign, visible_unit, writer_via
from ..exchange import ImportRefused, import_unit_template, write_campaign_appendix, write_unit_template
from ..domain.archive import MAX_FILE_BYTES, MB, TOO_LARGE, size_text
from ..extensions import db
from ..models import ROLE_CLERK
from ..review.counted import counted_arg
from ..templating import local_now
from .forms import UploadForm

bp = Blueprint("xlsx", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook_response(write, filename: str):
    buffer = io.BytesIO()
    write(buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX, as_attachment=True, download_name=filename)


@bp.route("/campaigns/<code>/template.xlsx")
@login_required
def template(code: str):
    """The unit's Excel template with its current values (a clerk's own; staff name the unit)."""
    campaign = get_campaign(code)
    unit = visible_unit(campaign, request.args.get("unit"))
    return _workbook_response(lambda out: write_unit_template(db.session, campaign, unit, out),
                              f"mau-{campaign.code}-{unit.code}.xlsx")


@bp.route("/campaigns/<code>/import", methods=["GET", "POST"])
@login_required
def upload(code: str):
    """Upload a filled template: stored whole, or nothing with every error listed."""
    campaign = get_campaign(code)
    if writer_via() is None:  # administrators manage accounts; they do not enter figures
        abort(403)
    unit = visible_unit(campaign, request.args.get("unit"))
    form = UploadForm()
    errors: list[str] = []
    status = 200
    if form.validate_on_submit():
        try:
            changed = import_unit_template(db.session, campaign, unit, current_user, form.workbook.data.stream,
                                           via="upload")
        except ImportRefused as refused:
            errors, status = refused.errors, 422
        else:
            flash(f"Đã nhập tệp Excel của {unit.name}: {changed} giá trị thay đổi.", "success")
            if current_user.role == ROLE_CLERK:
                return redirect(url_for("entry.home"))
            return redirect(url_for("review.dashboard", code=campaign.code))
    elif request.method == "POST":
        status = 400
    return render_template("xlsx/upload.html", campaign=campaign, unit=unit, form=form, errors=errors), status


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):
    """A body over MAX_CONTENT_LENGTH, cut off by Werkzeug before it is read: on the upload page the
    refusal is shown like any other import error; elsewhere the generic error page."""
    if request.endpoint == "xlsx.upload" and current_user.is_authenticated:
        try:
            campaign = get_campaign(request.view_args["code"])
            unit = visible_unit(campaign, request.args.get("unit"))
        except HTTPException:
            pass
        else:
            message = TOO_LARGE.format(size=size_text(request.content_length or 0), limit=MAX_FILE_BYTES // MB)
            form = UploadForm(formdata=None)  # the body must not be parsed again
            return render_template("xlsx/upload.html", campaign=campaign, unit=unit, form=form,
                                   errors=[message]), 413
    from .. import ERRORS

    title, message = ERRORS[413]
    return render_template("errors.html", code=413, title=title, message=message), 413


@bp.route("/campaigns/<code>/export.xlsx")
@login_required
def export(code: str):
    """The assembled appendix workbook (compiler and administrator) of the parts chosen (?parts=);
    ``?cover=0`` leaves the cover out."""
    campaign = staff_campaign(code)
    counted = counted_arg()
    with_cover = request.args.get("cover", "1") != "0"
    return _workbook_response(lambda out: write_campaign_appendix(db.session, campaign, out, local_now(), counted,
                                                                  with_cover=with_cover),
                              f"phu-luc-{campaign.code}.xlsx")
