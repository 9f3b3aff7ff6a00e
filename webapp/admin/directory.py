"""The administrator loads units and accounts from a list (domain in webapp/directory.py): the list
template to download, prefilled with the installation's units and accounts; the upload page, which
refuses a list whole with every problem by row; and, after a list is stored, a summary and the
sign-in slips of the accounts it created, shown this once (the passwords are kept nowhere else).

Administrators only: the blueprint lets compilers in to read the units page.
"""

from __future__ import annotations

import io

from flask import abort, make_response, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..directory import ListRefused, Problem, import_list, write_list_template
from ..domain.archive import MAX_FILE_BYTES, MB, size_text
from ..dialect import refresh_statistics
from ..extensions import db
from ..models import ROLE_ADMIN
from ..templating import local_now
from ..xlsx.routes import XLSX
from .directory_forms import ListUploadForm
from .routes import bp



def _require_admin() -> None:
    if current_user.role != ROLE_ADMIN:
        abort(403)


@bp.route("/units/list.xlsx")
def units_list_template():
    """The list template (.xlsx): the installation's active units and accounts, one row per account,
    with drop-downs of the unit kinds and roles and a sheet of instructions; edited and loaded again
    on the upload page, it changes only what was edited."""
    _require_admin()
    buffer = io.BytesIO()
    write_list_template(db.session, buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX, as_attachment=True,
                     download_name=f"danh-sach-don-vi-{local_now():%Y%m%d}.xlsx")


def _upload_page(form: ListUploadForm, errors: list[str], status: int):
    return render_template("admin/import_units.html", form=form, errors=errors), status


@bp.route("/units/import", methods=["GET", "POST"])
def import_units():
    """Load a list of units and accounts (.xlsx or .csv), all or nothing. Refused: every problem as
    «Dòng N: …» (422) and nothing stored. Stored: what changed, and the sign-in slips of the new
    accounts to print, this once (no-store)."""
    _require_admin()
    form = ListUploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, [], 400 if request.method == "POST" else 200)
    upload = form.listfile.data
    try:
        outcome = import_list(db.session, upload.stream, upload.filename or "",
                              actor=current_user._get_current_object(), via="upload")
        refresh_statistics(db.session)  # commits
    except ListRefused as refused:
        db.session.rollback()
        return _upload_page(form, refused.lines("Dòng"), 422)
    response = make_response(render_template(
        "admin/slips.html", outcome=outcome, filename=upload.filename or "", issued=local_now(),
        address=url_for("auth.login", _external=True)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):
    """A body over MAX_CONTENT_LENGTH, cut off before it is read: on the list upload page, the
    refusal is shown like the list's other problems; elsewhere the generic error page."""
    if request.endpoint == "admin.import_units" and current_user.is_authenticated and \
            current_user.role == ROLE_ADMIN:
        message = Problem(1, f"Tệp quá lớn ({size_text(request.content_length or 0)}); chỉ nhận tệp tối đa "
                             f"{MAX_FILE_BYTES // MB} MB").line("Dòng")
        return _upload_page(ListUploadForm(formdata=None), [message], 413)
    from .. import ERRORS

    title, message = ERRORS[413]
    return render_template("errors.html", code=413, title=title, message=message), 413
