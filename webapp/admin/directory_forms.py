"""The form of the list upload (views in webapp/admin/directory.py)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField


class ListUploadForm(FlaskForm):
    """A list of units and accounts: the list template filled in Excel (.xlsx), or a .csv."""

    listfile = FileField("Tệp danh sách (.xlsx hoặc .csv)", validators=[
        FileRequired("Chọn tệp danh sách để nạp."),
        FileAllowed(["xlsx", "csv"], "Chỉ nhận tệp Excel .xlsx (mẫu danh sách) hoặc tệp .csv."),
    ])
    submit = SubmitField("Nạp danh sách")
