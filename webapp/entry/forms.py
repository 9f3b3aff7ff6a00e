from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField

from ..workflow import CONFIRM_WARNINGS


class SubmitPartForm(FlaskForm):
    confirm_gaps = BooleanField("Tôi xác nhận các ô còn trống là đơn vị không có số liệu")
    confirm_warnings = BooleanField(CONFIRM_WARNINGS)
    submit = SubmitField("Nộp báo cáo")
