"""Forms of the campaign set-up pages (webapp/admin/campaigns.py): one FlaskForm per form.

Messages are Vietnamese, also those WTForms would say in English (a year that is not a number, a
date that is not one, a choice not offered). Checks that need the database (a code already used,
years in order, the units) are the domain's (webapp/campaigns.py), shown at the same fields.
"""

from __future__ import annotations

import datetime as dt
import re

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import TextInput

from ..campaigns import PRINT_FIELDS, TEXT_LIMITS


class VNDateField(Field):
    """A date shown and typed as dd/mm/yyyy whatever the browser's language (a date input of an
    English-language browser would show mm/dd/yyyy); also takes 15.05.2025, 15052025 and ISO
    2025-05-15 (scripts)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"placeholder": "ngày/tháng/năm", "autocomplete": "off", "size": 12, "maxlength": 10,
                     **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%d/%m/%Y") if self.data else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
        vn = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text) or re.fullmatch(r"(\d{2})(\d{2})(\d{4})", text)
        try:
            if iso:
                self.data = dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
            elif vn:
                self.data = dt.date(int(vn.group(3)), int(vn.group(2)), int(vn.group(1)))
            else:
                raise ValueError
        except ValueError:
            raise ValueError(f"«{text}» không phải một ngày; nhập theo dạng ngày/tháng/năm, "
                             "ví dụ 15/05/2025.") from None


class YearField(IntegerField):
    """A year, with a Vietnamese message for what is not one."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        if not re.fullmatch(r"\d{4}", text):
            raise ValueError(f"«{text}» không phải một năm (bốn chữ số, ví dụ 2019).")
        self.data = int(text)


NOT_OFFERED = "Lựa chọn này không có trong danh sách."


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as a drop-down's choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class ChoiceField(SelectField):
    """A drop-down whose value must be one offered, said in Vietnamese."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            try:
                self.data = self.coerce(valuelist[0])
            except (ValueError, TypeError):
                self.data = None
                raise ValueError(NOT_OFFERED) from None

    def pre_validate(self, form) -> None:
        if self.process_errors or self.data is None:
            return
        if self.data not in {self.coerce(choice.value) for choice in self.choices}:
            raise ValidationError(NOT_OFFERED)


class UnitsField(SelectMultipleField):
    """The ticked reporting units (unit ids); drawn by the template as checkboxes grouped under
    their parent. A unit not offered is refused."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            self.data = [self.coerce(value) for value in valuelist]
        except (ValueError, TypeError):
            self.data = []
            raise ValueError("Có đơn vị không thuộc danh sách được chọn.") from None

    def pre_validate(self, form) -> None:
        offered = {choice.value for choice in self.choices}
        if any(value not in offered for value in self.data or []):
            raise ValidationError("Có đơn vị không thuộc danh sách được chọn.")


REQUIRED = "Cần nhập {}."


def required(what: str) -> InputRequired:
    return InputRequired(REQUIRED.format(what))


def text_field(label: str, name: str, area: bool = False, **kwargs):
    limit = TEXT_LIMITS[name]
    cls = TextAreaField if area else StringField
    return cls(label, validators=[Optional(), Length(max=limit, message=f"Dài quá {limit:,} ký tự.".replace(",", "."))],
               **kwargs)


class PrintFields:
    """What the campaign's documents print (all optional); shared by the create and settings forms."""

    request_document = text_field("Văn bản yêu cầu báo cáo", "request_document",
                                  description="Ví dụ: Công văn số 1241-CV/HU ngày 03/5/2024 của BTV Huyện ủy")
    issuer_name = text_field("Cơ quan ban hành báo cáo", "issuer_name", description="Ví dụ: HUYỆN ỦY LỘC NINH")
    issuer_parent = text_field("Cơ quan cấp trên", "issuer_parent", description="Ví dụ: ĐẢNG BỘ TỈNH BÌNH PHƯỚC")
    issuer_is_party = ChoiceField("Loại cơ quan",
                                  choices=choices([("party", "Cơ quan Đảng"), ("state", "Cơ quan nhà nước")]),
                                  default="party")
    report_number = text_field("Số báo cáo", "report_number", description="Ví dụ: 125-BC/HU")
    report_date = VNDateField("Ngày báo cáo", validators=[Optional()])
    report_place = text_field("Địa danh", "report_place", description="Ví dụ: Lộc Ninh")
    signer_title = text_field("Chức vụ người ký", "signer_title", area=True,
                              description="Mỗi dòng một dòng in, ví dụ: T/M BAN THƯỜNG VỤ ↵ PHÓ BÍ THƯ")
    signer_name = text_field("Họ tên người ký", "signer_name")

    def prints(self) -> dict[str, object]:
        """The print fields as the domain takes them."""
        out: dict[str, object] = {name: getattr(self, name).data for name in PRINT_FIELDS}
        out["issuer_is_party"] = self.issuer_is_party.data != "state"
        for name, value in out.items():
            if isinstance(value, str):
                out[name] = value.strip()
        return out


class CampaignCreateForm(PrintFields, FlaskForm):
    outline = ChoiceField("Đề cương", validators=[DataRequired("Cần chọn một đề cương đã nạp.")])
    code = StringField("Mã đợt", validators=[DataRequired(REQUIRED.format("mã đợt"))],
                       description="Chữ thường không dấu, số và dấu '-', ví dụ kl49-2024; dùng trong địa chỉ "
                                   "trang và tệp.")
    name = StringField("Tên đợt báo cáo", validators=[DataRequired(REQUIRED.format("tên đợt báo cáo"))])
    year_from = YearField("Từ năm", validators=[required("năm đầu")])
    year_to = YearField("Đến năm", validators=[required("năm cuối")])
    deadline = VNDateField("Hạn gửi", validators=[required("hạn gửi")],
                           description="Các đơn vị nhập đến hết ngày này.")
    compiler = ChoiceField("Đơn vị tổng hợp", coerce=int, validators=[DataRequired("Cần chọn đơn vị tổng hợp.")])
    units = UnitsField("Đơn vị báo cáo", coerce=int)
    description = TextAreaField("Ghi chú", validators=[Optional(), Length(max=TEXT_LIMITS["description"])])
    recompute = SubmitField("Chọn lại đơn vị mặc định")
    submit = SubmitField("Tạo đợt báo cáo")


class CampaignSettingsForm(PrintFields, FlaskForm):
    name = StringField("Tên đợt báo cáo", validators=[DataRequired(REQUIRED.format("tên đợt báo cáo")),
                                                     Length(max=TEXT_LIMITS["name"], message="Dài quá 300 ký tự.")])
    description = TextAreaField("Ghi chú", validators=[Optional(), Length(max=TEXT_LIMITS["description"])])
    deadline = VNDateField("Hạn gửi", validators=[required("hạn gửi")],
                           description="Các đơn vị nhập đến hết ngày này; đổi hạn được ghi vào nhật ký.")
    submit = SubmitField("Lưu thay đổi")

    def kind_deadline_fields(self) -> list[tuple[str, Field]]:
        """(unit kind, its date field) of the kinds of the campaign's units (see settings_form)."""
        return [(f.name[len(KIND_DEADLINE_PREFIX):], f) for f in self if f.name.startswith(KIND_DEADLINE_PREFIX)]

    def typed_kind_deadlines(self) -> dict[str, dt.date | None]:
        """Each kind's own deadline as typed (None: blank, the campaign's)."""
        return {kind: f.data for kind, f in self.kind_deadline_fields()}


KIND_DEADLINE_PREFIX = "kind_deadline__"


def settings_form(kinds: list[tuple[str, str]], **kwargs) -> CampaignSettingsForm:
    """The settings form of a campaign whose units are of ``kinds`` ((key, name) pairs): one more
    date per kind, that kind's own deadline (blank: the campaign's)."""

    class Form(CampaignSettingsForm):
        pass

    for kind, name in kinds:
        setattr(Form, KIND_DEADLINE_PREFIX + kind, VNDateField(name, validators=[Optional()]))
    return Form(**kwargs)


class CampaignCopyForm(FlaskForm):
    code = StringField("Mã đợt mới", validators=[DataRequired(REQUIRED.format("mã đợt mới"))])
    name = StringField("Tên đợt báo cáo", validators=[DataRequired(REQUIRED.format("tên đợt báo cáo"))])
    year_from = YearField("Từ năm", validators=[required("năm đầu")])
    year_to = YearField("Đến năm", validators=[required("năm cuối")])
    deadline = VNDateField("Hạn gửi", validators=[required("hạn gửi")])
    submit = SubmitField("Tạo đợt kỳ sau")


class AssignmentsForm(FlaskForm):
    """The grid: its ticks come as repeated ``a`` fields (``unit id|table|group``); ``confirm`` is
    the token of a confirmed removal of assignments with stored values."""
    confirm = HiddenField()
    submit = SubmitField("Lưu bảng giao biểu")


class AddUnitForm(FlaskForm):
    unit = ChoiceField("Thêm đơn vị", coerce=int, validators=[DataRequired("Chọn đơn vị cần thêm.")])
    submit = SubmitField("Thêm vào đợt")


class RemoveUnitForm(FlaskForm):
    """Take a unit that has stored nothing out of the campaign: only the CSRF token."""
    submit = SubmitField("Bỏ khỏi đợt")


class CampaignStatusForm(FlaskForm):
    """Close the campaign or open it again."""
    status = ChoiceField("Trạng thái", choices=choices([("open", "Mở"), ("closed", "Kết thúc")]))
    submit = SubmitField("OK")
