from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired("Nhập tên đăng nhập"), Length(max=60)])
    password = PasswordField("Mật khẩu", validators=[DataRequired("Nhập mật khẩu"), Length(max=200)])
    remember = BooleanField("Ghi nhớ trên máy này")
    submit = SubmitField("Đăng nhập")
