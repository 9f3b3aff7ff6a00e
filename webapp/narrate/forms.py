from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField


class ReportUploadForm(FlaskForm):
    """A unit's report written in Word, read section by section by its headings."""
    document = FileField("Tệp báo cáo Word (.docx)", validators=[
        FileRequired("Chọn tệp báo cáo Word để nộp."),
        FileAllowed(["docx"], "Chỉ nhận tệp Word .docx (Word 2007 trở lên; tệp .doc cũ: mở bằng Word rồi lưu lại "
                              "dưới dạng .docx)."),
    ])
    submit = SubmitField("Nộp tệp")
