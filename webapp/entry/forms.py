from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField


class SubmitPartForm(FlaskForm):
    confirm_gaps = BooleanField("Tôi xác nhận các ô còn trống là đơn vị không có số liệu")
    submit = SubmitField("Nộp báo cáo")
