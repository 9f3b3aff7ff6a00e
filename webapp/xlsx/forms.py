from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField


class UploadForm(FlaskForm):
    workbook = FileField("Tệp Excel đã điền (.xlsx)", validators=[
        FileRequired("Chọn tệp Excel để nộp."),
        FileAllowed(["xlsx"], "Chỉ nhận tệp Excel .xlsx (mẫu tải từ hệ thống)."),
    ])
    submit = SubmitField("Nộp tệp")
