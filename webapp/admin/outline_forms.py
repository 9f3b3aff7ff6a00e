"""The administrator's forms for outlines (views in webapp/admin/outlines.py).

Uploading checks a file and shows its preview; nothing is stored until the preview's form sends the
text it showed back (a hidden field, with the SHA-256 of that text) and it passes the checks again.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField


class OutlineUploadForm(FlaskForm):
    """A new outline file, or a new version of one."""

    file = FileField("Tệp đề cương (.yaml)", validators=[FileRequired("Chọn tệp đề cương (.yaml) để tải lên")])
    submit = SubmitField("Kiểm tra và xem trước")


class OutlineSaveForm(FlaskForm):
    """Store exactly the previewed text: ``text`` as previewed, ``digest`` its SHA-256 (a text that
    arrives changed on the way is refused), ``filename`` the uploaded file's name."""

    text = HiddenField()
    digest = HiddenField()
    filename = HiddenField()
    submit = SubmitField("Lưu đề cương")
