from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired("Nhập tên đăng nhập"), Length(max=60)])
    password = PasswordField("Mật khẩu", validators=[DataRequired("Nhập mật khẩu"), Length(max=200)])
    remember = BooleanField("Ghi nhớ trên máy này")
    submit = SubmitField("Đăng nhập")


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Mật khẩu hiện tại", validators=[DataRequired("Nhập mật khẩu hiện tại"), Length(max=200)])
    new = PasswordField("Mật khẩu mới", validators=[
        DataRequired("Nhập mật khẩu mới"),
        Length(min=8, max=200, message="Mật khẩu mới phải có từ 8 đến 200 ký tự")])
    confirm = PasswordField("Nhập lại mật khẩu mới", validators=[
        DataRequired("Nhập lại mật khẩu mới"), EqualTo("new", "Hai lần nhập mật khẩu mới không giống nhau")])
    submit = SubmitField("Đổi mật khẩu")
