from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional


class ReturnForm(FlaskForm):
    reason = TextAreaField("Lý do trả lại", validators=[DataRequired("Ghi lý do trả lại để đơn vị biết cần sửa gì."),
                                                        Length(max=2000, message="Lý do dài quá 2.000 ký tự.")])
    table = StringField("Biểu cần sửa (nếu có)", validators=[Optional(), Length(max=20)])  # checked by the workflow
    row = StringField("Dòng (năm)", validators=[Optional(), Length(max=40)])
    col = StringField("Cột (mã cột)", validators=[Optional(), Length(max=40)])
    submit = SubmitField("Trả lại")


class ExtendForm(FlaskForm):
    until = DateField("Gia hạn đến hết ngày", validators=[Optional()])
    submit = SubmitField("Gia hạn")


class DecideForm(FlaskForm):
    """Accept or return several units' parts at once; the ticked units come as repeated ``units`` fields."""
    action = StringField("Việc", validators=[AnyOf(["accept", "return"], message="Chọn Duyệt hoặc Trả lại.")])
    reason = TextAreaField("Lý do trả lại", validators=[Length(max=2000, message="Lý do dài quá 2.000 ký tự.")])
    submit = SubmitField("Thực hiện")


class ActionForm(FlaskForm):
    """A button that changes state (accept, reopen, close, open): only the CSRF token."""
    submit = SubmitField("OK")
