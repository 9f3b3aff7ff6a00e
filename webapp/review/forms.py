from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional


class ReturnForm(FlaskForm):
    reason = TextAreaField("Lý do trả lại", validators=[DataRequired("Ghi lý do trả lại để đơn vị biết cần sửa gì."),
                                                        Length(max=2000, message="Lý do dài quá 2.000 ký tự.")])
    # "II.1.5" or "II.1.5|xa_dt" (a table, or one column of it: the page's one select); checked by the workflow
    table = StringField("Biểu, cột cần sửa (nếu có)", validators=[Optional(), Length(max=64)])
    row = StringField("Dòng", validators=[Optional(), Length(max=40)])
    col = StringField("Cột (mã cột)", validators=[Optional(), Length(max=40)])  # for scripts: table and col apart
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
