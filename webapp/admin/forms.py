"""The administrator's forms for units and accounts (views in webapp/admin/accounts.py).

The drop-downs' choices come from the database and are set by the views; what needs the database
(a code already used, a parent that makes a cycle, the last administrator) is checked there too. The
drop-downs do not check their choices themselves (WTForms' own messages are English): the views say
in Vietnamese what is wrong with a value that is not offered. Every message is shown at its field.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

UNIT_CODE = r"^[a-z0-9][a-z0-9_-]*$"
USERNAME = r"^[a-z0-9][a-z0-9._-]*$"
PHONE = r"^[0-9 +().-]*$"
ORDER = r"^[0-9]{0,6}$"


def strip(value):
    return value.strip() if isinstance(value, str) else value


def lower(value):
    return value.lower() if isinstance(value, str) else value


class UnitForm(FlaskForm):
    """A unit's details as the administrator edits them (its code never changes)."""

    name = StringField("Tên đơn vị", filters=[strip], validators=[
        DataRequired("Nhập tên đơn vị"), Length(max=200, message="Tên đơn vị dài quá 200 ký tự")])
    kind = SelectField("Loại đơn vị", validate_choice=False, validators=[DataRequired("Chọn loại đơn vị")])
    parent = SelectField("Thuộc đơn vị", validate_choice=False)  # "" for a unit at the top
    phone = StringField("Điện thoại", filters=[strip], validators=[
        Optional(), Length(max=40, message="Số điện thoại dài quá 40 ký tự"),
        Regexp(PHONE, message="Số điện thoại chỉ gồm chữ số, khoảng trắng và + ( ) . -")])
    sort_order = StringField("Thứ tự", filters=[strip], validators=[
        Regexp(ORDER, message="Thứ tự là một số nguyên không âm")])
    submit = SubmitField("Lưu")


class NewUnitForm(UnitForm):
    """A new unit: its code first (lowercase letters without accents, digits, '-' and '_')."""

    code = StringField("Mã đơn vị", filters=[strip, lower], validators=[
        DataRequired("Nhập mã đơn vị"), Length(max=40, message="Mã đơn vị dài quá 40 ký tự"),
        Regexp(UNIT_CODE, message="Mã đơn vị chỉ gồm chữ thường không dấu, chữ số, '-' và '_'")])
    submit = SubmitField("Thêm đơn vị")


class UserForm(FlaskForm):
    """An account's details as the administrator edits them (its name never changes; its password
    only by a reset)."""

    full_name = StringField("Họ tên", filters=[strip], validators=[
        Length(max=120, message="Họ tên dài quá 120 ký tự")])
    role = SelectField("Vai trò", validate_choice=False, validators=[DataRequired("Chọn vai trò")])
    unit = SelectField("Đơn vị", validate_choice=False, validators=[DataRequired("Chọn đơn vị")])
    submit = SubmitField("Lưu")


class NewUserForm(UserForm):
    """A new account: its username first (lowercase letters without accents, digits, '.', '-', '_');
    the password is made by the app and shown once on the sign-in slip."""

    username = StringField("Tên đăng nhập", filters=[strip, lower], validators=[
        DataRequired("Nhập tên đăng nhập"), Length(max=60, message="Tên đăng nhập dài quá 60 ký tự"),
        Regexp(USERNAME, message="Tên đăng nhập chỉ gồm chữ thường không dấu, chữ số, '.', '-' và '_'")])
    submit = SubmitField("Thêm tài khoản và in phiếu đăng nhập")
