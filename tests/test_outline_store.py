"""Outlines as stored, versioned data (issue 13, item 2): the commands outline-check, outline-load
and outlines; the administrator's pages (list, upload → preview → save, the preview of a stored
version); and a campaign keeping the exact outline it was created with, whatever is loaded later."""

from __future__ import annotations

import io
import re

import openpyxl
from markupsafe import escape
import pytest
from sqlalchemy import func, select

from conftest import _app_on_copy, in_app, login
from webapp.domain.outline import OUTLINE_DIR, shipped_outline_files
from webapp.models import AuditEvent, Campaign, OutlineVersion, User

KL49 = (OUTLINE_DIR / "kl49.yaml").read_text(encoding="utf-8")
TITLE = "PHỤ LỤC BÁO CÁO SƠ KẾT 5 NĂM THỰC HIỆN KẾT LUẬN SỐ 49-KL/TW"
OLD_HEADER, NEW_HEADER = "Công chức cấp xã", "Cán bộ, công chức cấp xã"


def edited(old: str, new: str, text: str = KL49, count: int = 1) -> str:
    assert old in text, old
    return text.replace(old, new, count)


def line_of(needle: str, text: str = KL49) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def next_version(header: str = NEW_HEADER) -> str:
    """kl49.yaml (version 2) as its next version, 3: II.1.5's first group relabelled."""
    return edited("version: 2\n", "version: 3\n", edited(f"label: {OLD_HEADER}\n", f"label: {header}\n"))


def write(tmp_path, name: str, text: str | bytes):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


OTHER_SHIPPED = {path.stem for path in shipped_outline_files()} - {"kl49"}  # stored by db upgrade, untouched here


def stored_versions() -> list[tuple[str, int]]:
    """The stored versions of kl49 and of the outlines the tests load (not the other shipped ones)."""
    with in_app() as session:
        return session.execute(select(OutlineVersion.code, OutlineVersion.version)
                               .where(OutlineVersion.code.not_in(OTHER_SHIPPED))
                               .order_by(OutlineVersion.code, OutlineVersion.version)).all()


def outline_loads() -> int:
    with in_app() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "outline_load"))


# --- outline-check ---------------------------------------------------------------------------------

def test_outline_check_of_the_shipped_file_prints_nothing(empty_app):
    result = run(empty_app, "outline-check", str(OUTLINE_DIR / "kl49.yaml"))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


T14 = line_of('title: "1.4.')  # II.1.4's title
UTF8_LINE = line_of("Tổng số xã")
UTF8_COLUMN = KL49.splitlines()[UTF8_LINE - 1].index("Tổng") + 2  # the "ô", counted in letters

BROKEN = {  # name → (the file's text, what stderr must say, line by line)
    "bad YAML syntax": (
        edited('    title: "1.4. Kết quả đào tạo từ xa:"', '    title: ["1.4. Kết quả đào tạo từ xa:"'),
        # yaml notices the unclosed "[" at the next key; where it began is named too
        [f"dòng {T14 + 2}, cột 5: YAML không hợp lệ (expected ',' or ']', but got '<scalar>'); "
         f"phần này bắt đầu ở dòng {T14}, cột 12"]),
    "unknown key": (
        edited("    sheet: II.1.6\n", "    sheet: II.1.6\n    colour: red\n"),
        [f"dòng {line_of('sheet: II.1.6') + 1}: tables[6] (II.1.6): khóa không được biết 'colour'"]),
    "missing group key": (
        edited("          - key: d60\n            label:", "          - label:"),
        [f"dòng {line_of('- key: d60')}: tables[3] (II.1.3) > blocks[0] > groups[2]: "
         "thiếu khóa 'key': mỗi nhóm cột cần một mã ổn định (ví dụ key: xa); việc giao biểu và số liệu đã nhập "
         "gắn với mã này, không với vị trí của nhóm trong tệp"]),
    "duplicate group key": (
        edited("          - key: d60\n", "          - key: d35\n"),
        [f"dòng {line_of('- key: d60')}: tables[3] (II.1.3) > blocks[0] > groups[2] (d35): "
         "mã nhóm cột 'd35' bị trùng trong bảng"]),
    "group key rows": (
        edited("          - key: cong_nhan\n", "          - key: rows\n"),
        [f"dòng {line_of('- key: cong_nhan')}: tables[8] (II.1.8) > blocks[0] > groups[0] (rows): "
         "mã nhóm cột 'rows' được dành cho bảng danh sách"]),
    "unknown kind": (
        edited("owner: [ldld_huyen]\n", "owner: [ldld]\n"),
        [f"dòng {line_of('owner: [ldld_huyen]')}: tables[8] (II.1.8) > blocks[0] > groups[0] (cong_nhan) > owner: "
         "loại đơn vị 'ldld' không có trong unit_kinds"]),
    "bad percent reference": (
        edited("of: cn_dt, over: cn_tong", "of: cn_dt, over: cn_total"),
        [f"dòng {line_of('key: cn_tyle')}: tables[8] (II.1.8) > cn_tyle > over: cột 'cn_total' không có trong bảng"]),
    "duplicate mapping key": (
        edited('    title: "1.4. Kết quả đào tạo từ xa:"\n',
               '    title: "1.4. Kết quả đào tạo từ xa:"\n    title: "1.4. Đào tạo từ xa"\n'),
        [f"dòng {T14 + 1}: tables[4] (II.1.4): khóa 'title' bị lặp lại "
         f"(đã có ở dòng {T14})"]),
    "several mistakes": (
        edited("of: cn_dt, over: cn_tong", "of: cn_dt, over: cn_total",
               edited("{key: d35_md1, label: Số người được công nhận đạt chuẩn biết chữ mức độ 1, type: count}",
                      "{key: d35_md1, label: Số người được công nhận đạt chuẩn biết chữ mức độ 1, type: cout}")),
        [f"dòng {line_of('key: d35_md1')}: tables[3] (II.1.3) > blocks[0] > groups[1] (d35) > columns[2] (d35_md1) > "
         "type: kiểu 'cout' không được biết (dùng một trong: choice, count, date, decimal, formula, percent, serial, sum, target, text, unit_count, "
         "yesno)",
         f"dòng {line_of('key: cn_tyle')}: tables[8] (II.1.8) > cn_tyle > over: cột 'cn_total' không có trong bảng"]),
    "not UTF-8": (
        KL49.encode("utf-8").replace("Tổng số xã".encode(), "Tông sô xã".encode("latin-1"), 1),
        [f"dòng {UTF8_LINE}, cột {UTF8_COLUMN}: "
         "tệp không phải văn bản UTF-8 (byte 0xF4 không đọc được); hãy lưu tệp với mã hóa UTF-8"]),
    "version 0": (
        edited("version: 2\n", "version: 0\n"),
        [f"dòng {line_of('version: 2')}: version: phiên bản phải là số nguyên từ 1 trở lên, đang là 0"]),
}


@pytest.mark.parametrize("name", BROKEN)
def test_outline_check_names_the_line_and_place_of_every_mistake(empty_app, tmp_path, name):
    text, expected = BROKEN[name]
    result = run(empty_app, "outline-check", write(tmp_path, "broken.yaml", text))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == expected
    assert "Traceback" not in result.output


def test_outline_check_of_a_file_that_cannot_be_read(empty_app, tmp_path):
    result = run(empty_app, "outline-check", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Không đọc được tệp {tmp_path / 'missing.yaml'}")
    big = write(tmp_path, "big.yaml", KL49 + ("# " + "x" * 98 + "\n") * 11000)
    result = run(empty_app, "outline-check", big)
    assert result.exit_code == 1 and "vượt quá giới hạn 1 MB" in result.stderr


# --- outline-load and outlines ---------------------------------------------------------------------

def test_outline_load_stores_a_new_version_and_outlines_lists_every_one(empty_app, tmp_path):
    assert stored_versions() == [("kl49", 1), ("kl49", 2)]  # db upgrade stored the shipped files
    loads = outline_loads()
    # the shipped file again: exactly that text is stored, so it is printed and nothing is new
    result = run(empty_app, "outline-load", str(OUTLINE_DIR / "kl49.yaml"))
    assert (result.exit_code, result.stdout) == (0, "kl49\t2\n")
    assert "không lưu gì mới" in result.stderr
    assert stored_versions() == [("kl49", 1), ("kl49", 2)] and outline_loads() == loads

    result = run(empty_app, "outline-load", write(tmp_path, "kl49-v3.yaml", next_version()))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "kl49\t3\n", "")
    assert stored_versions() == [("kl49", 1), ("kl49", 2), ("kl49", 3)] and outline_loads() == loads + 1
    with in_app() as session:
        row = session.scalar(select(OutlineVersion).where(OutlineVersion.version == 3))
        assert row.source == next_version() and row.filename == "kl49-v3.yaml" and row.title == TITLE
        assert row.outline.table("II.1.5").blocks[0].groups[0].label == NEW_HEADER

    result = run(empty_app, "outlines")
    kl49 = [line for line in result.stdout.splitlines() if line.split("\t")[0] not in OTHER_SHIPPED]
    assert (result.exit_code, kl49) == (0, [f"kl49\t1\t{TITLE}", f"kl49\t2\t{TITLE}", f"kl49\t3\t{TITLE}"])


def test_outline_load_refuses_other_content_under_a_stored_version(empty_app, tmp_path):
    loads = outline_loads()
    changed = edited(f"label: {OLD_HEADER}\n", f"label: {NEW_HEADER}\n")  # still version 2
    result = run(empty_app, "outline-load", write(tmp_path, "kl49.yaml", changed))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        "Đề cương kl49 phiên bản 2 đã được nạp với nội dung khác; một phiên bản đã lưu không bao giờ thay đổi. "
        "Hãy tăng 'version' (phiên bản mới nhất đang có: 2).")
    with in_app() as session:
        assert session.scalar(select(OutlineVersion.source).where(OutlineVersion.code == "kl49", OutlineVersion.version == 2)) == KL49
    assert outline_loads() == loads
    # a broken file is refused with its mistakes, like outline-check, and stores nothing
    result = run(empty_app, "outline-load", write(tmp_path, "broken.yaml", BROKEN["unknown key"][0]))
    assert result.exit_code == 1 and result.stderr.splitlines() == BROKEN["unknown key"][1]
    assert stored_versions() == [("kl49", 1), ("kl49", 2)]


def test_a_version_below_the_newest_is_refused(empty_app, tmp_path):
    """A new version has a higher number: once kl49@4 is stored, a kl49@3 never stored is refused."""
    version_4 = edited("version: 3\n", "version: 4\n", next_version())
    assert run(empty_app, "outline-load", write(tmp_path, "v4.yaml", version_4)).stdout == "kl49\t4\n"
    result = run(empty_app, "outline-load", write(tmp_path, "v3.yaml", next_version()))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == ("Đề cương kl49 đã có phiên bản 4, mới hơn phiên bản 3 của tệp này; "
                                     "một phiên bản mới phải có số lớn hơn (version: 5).")
    # a version stored before is still printed when loaded again with its text
    assert run(empty_app, "outline-load", str(OUTLINE_DIR / "kl49.yaml")).stdout == "kl49\t2\n"
    assert run(empty_app, "outline-load", str(OUTLINE_DIR / "kl49-v1.yaml")).stdout == "kl49\t1\n"
    assert stored_versions() == [("kl49", 1), ("kl49", 2), ("kl49", 4)]


def test_line_ends_and_a_byte_order_mark_do_not_make_another_text(empty_app, tmp_path):
    """A file saved again by Notepad (CRLF, a BOM) is the same text, not a conflicting one."""
    result = run(empty_app, "outline-load", write(tmp_path, "kl49.yaml", b"\xef\xbb\xbf" + KL49.replace("\n", "\r\n").encode()))
    assert (result.exit_code, result.stdout) == (0, "kl49\t2\n")


# --- the regression: a campaign keeps the exact version it was created with ----------------

def test_a_new_version_leaves_the_existing_campaign_on_its_own(app, tmp_path):
    """Bumping ``version`` in kl49.yaml turned the existing campaign's appendix page into a 500."""
    result = run(app, "outline-load", write(tmp_path, "kl49-v3.yaml", next_version()))
    assert (result.exit_code, result.stdout) == (0, "kl49\t3\n")

    admin = login(app.test_client(), "admin")
    page = admin.get("/campaigns/kl49-2024/appendix")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert OLD_HEADER in html and NEW_HEADER not in html
    clerk = login(app.test_client(), "ln-02")
    page = clerk.get("/campaigns/kl49-2024/tables/II.1.5")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert OLD_HEADER in html and NEW_HEADER not in html

    exported = write(tmp_path, "appendix.xlsx", b"")
    result = run(app, "export", "kl49-2024", "-o", exported)
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(exported)["II.1.5"]
    texts = {c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    assert OLD_HEADER in texts and NEW_HEADER not in texts

    # a template of the campaign (version 2) written now imports, and so does one written before
    template = write(tmp_path, "mau.xlsx", b"")
    assert run(app, "template", "kl49-2024", "ln-02", "-o", template).exit_code == 0
    result = run(app, "import-xlsx", "kl49-2024", "ln-02", template)
    assert result.exit_code == 0, result.output
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        assert (campaign.outline_code, campaign.outline_version) == ("kl49", 2)
        assert campaign.outline.table("II.1.5").blocks[0].groups[0].label == OLD_HEADER


def test_a_template_written_before_the_new_version_still_imports(app, tmp_path):
    template = write(tmp_path, "mau.xlsx", b"")
    assert run(app, "template", "kl49-2024", "ln-02", "-o", template).exit_code == 0
    assert run(app, "outline-load", write(tmp_path, "kl49-v3.yaml", next_version())).exit_code == 0
    result = run(app, "import-xlsx", "kl49-2024", "ln-02", template)
    assert result.exit_code == 0, result.output


# --- the pages ------------------------------------------------------------------------------------

def upload(client, text: str | bytes, name: str = "kl49-v3.yaml"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post("/admin/outlines/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def hidden(html: str, name: str) -> str:
    import html as html_lib

    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html)
    assert match, f"no hidden field {name}"
    return html_lib.unescape(match.group(1))


def test_the_list_shows_every_version_with_its_campaigns(app):
    admin = login(app.test_client(), "admin")
    html = admin.get("/admin/outlines").get_data(as_text=True)
    row = re.search(r'<section class="card outline-version" id="outline-kl49-2">(.*?)</section>', html, re.S).group(1)
    assert TITLE in row and "kl49-2024" in row and "db upgrade" in row and "kl49.yaml" in row
    row = re.search(r'<section class="card outline-version" id="outline-kl49-1">(.*?)</section>', html, re.S).group(1)
    assert "kl49-2024" not in row and "kl49-v1.yaml" in row  # version 1 kept for campaigns made with it
    assert "/admin/outlines/upload" in html  # the administrator loads outlines
    assert "Chưa có đề cương nào" not in html
    compiler = login(app.test_client(), "ln-btg")
    page = compiler.get("/admin/outlines")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "kl49-2024" in html and "/admin/outlines/upload" not in html
    assert 'href="/admin/outlines"' in html  # the nav link
    assert login(app.test_client(), "ln-02").get("/admin/outlines").status_code == 403
    assert app.test_client().get("/admin/outlines").status_code == 302  # to sign in


def test_an_upload_with_mistakes_lists_them_all_and_stores_nothing(app):
    admin = login(app.test_client(), "admin")
    before, loads = stored_versions(), outline_loads()
    text, expected = BROKEN["several mistakes"]
    response = upload(admin, edited("version: 2\n", "version: 3\n", text))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "2 lỗi; chưa lưu gì" in html
    for problem in expected:
        where, _, rest = problem.partition(": ")
        assert f'<strong class="where">{where}</strong>: {escape(rest)}' in html
    assert 'name="text"' not in html
    assert stored_versions() == before and outline_loads() == loads
    # no file at all
    response = admin.post("/admin/outlines/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Chọn tệp đề cương" in response.get_data(as_text=True)


def test_upload_previews_the_tables_then_save_stores_exactly_that_text(app):
    admin = login(app.test_client(), "admin")
    loads = outline_loads()
    response = upload(admin, next_version())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert stored_versions() == [("kl49", 1), ("kl49", 2)]  # nothing stored before the button
    # the preview: every table, its printed header, rows, empty disabled inputs, who fills, rules in words
    for code in ("I", "II.1.1", "II.1.5", "III"):
        assert f"Biểu {code}" in html
    section = html[html.index('data-table="II.1.5"'):html.index('data-table="II.1.6"')]
    assert f'colspan="3" scope="col">{NEW_HEADER}</th>' in section
    assert "<th scope=\"row\" class=\"rowhead\">Năm " in section
    assert re.search(r'<td class="in t-count"><input type="text" class="cell num" disabled aria-label="Năm \d+ · '
                     + NEW_HEADER + r' · Tổng số"></td>', section)
    assert "3=2/1*100" in section
    assert "<strong>Cán bộ, công chức cấp xã</strong> <code>xa</code>: Xã, phường, thị trấn" in section
    assert ("Cột 2 «Cán bộ, công chức cấp xã › Số được đào tạo, bồi dưỡng» không được lớn hơn "
            "cột 1 «Cán bộ, công chức cấp xã › Tổng số»") in section
    assert "Lỗi" in section and "Số công chức cấp xã được đào tạo, bồi dưỡng không được lớn hơn tổng số" in section
    assert "Cảnh báo" in html  # II.1.3's warnings
    assert hidden(html, "text") == next_version()

    response = admin.post("/admin/outlines/save", data={
        "text": hidden(html, "text").replace("\n", "\r\n"),  # as a browser sends a field's line ends
        "digest": hidden(html, "digest"), "filename": hidden(html, "filename")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/outlines/kl49/3")
    assert stored_versions() == [("kl49", 1), ("kl49", 2), ("kl49", 3)] and outline_loads() == loads + 1
    with in_app() as session:
        row = session.scalar(select(OutlineVersion).where(OutlineVersion.version == 3))
        admin_id = session.scalar(select(User.id).where(User.username == "admin"))
        assert (row.source, row.filename, row.loaded_by_id) == (next_version(), "kl49-v3.yaml", admin_id)
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "outline_load")
                               .order_by(AuditEvent.id.desc()))
        assert (event.new, event.via, event.user_id) == ("kl49@3", "web", admin_id)
    page = admin.get("/admin/outlines/kl49/3")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Đã lưu đề cương kl49 phiên bản 3" in html and NEW_HEADER in html and 'name="text"' not in html
    assert "chưa có." in html  # no campaign uses it yet
    listing = admin.get("/admin/outlines").get_data(as_text=True)
    row = re.search(r'<section class="card outline-version" id="outline-kl49-3">(.*?)</section>', listing, re.S).group(1)
    assert "admin" in row and "kl49-v3.yaml" in row and "chưa có" in row


def test_a_save_of_other_text_than_previewed_or_a_stored_version_is_refused(app):
    admin = login(app.test_client(), "admin")
    html = upload(admin, next_version()).get_data(as_text=True)
    digest = hidden(html, "digest")
    response = admin.post("/admin/outlines/save", data={
        "text": next_version("Công chức xã"), "digest": digest, "filename": "kl49-v3.yaml"})
    assert response.status_code == 400
    assert "không khớp với bản đã xem trước" in response.get_data(as_text=True)
    assert stored_versions() == [("kl49", 1), ("kl49", 2)]

    # the same code and version with other content: at the preview already, and at the save
    changed = edited(f"label: {OLD_HEADER}\n", f"label: {NEW_HEADER}\n")
    response = upload(admin, changed, "kl49.yaml")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "đã được nạp với nội dung khác" in html and 'name="text"' not in html and "Lưu đề cương" not in html
    from webapp.outline_store import sha256

    response = admin.post("/admin/outlines/save", data={"text": changed, "digest": sha256(changed),
                                                        "filename": "kl49.yaml"})
    assert response.status_code == 409 and "đã được nạp với nội dung khác" in response.get_data(as_text=True)
    with in_app() as session:
        assert session.scalar(select(OutlineVersion.source).where(OutlineVersion.code == "kl49", OutlineVersion.version == 2)) == KL49
    # a text with mistakes that reaches the save (not through the preview) is checked again
    broken = BROKEN["unknown key"][0]
    response = admin.post("/admin/outlines/save", data={"text": broken, "digest": sha256(broken)})
    assert response.status_code == 422 and "khóa không được biết &#39;colour&#39;" in response.get_data(as_text=True)
    assert stored_versions() == [("kl49", 1), ("kl49", 2)]


def test_uploading_a_stored_text_again_says_so(app):
    admin = login(app.test_client(), "admin")
    response = upload(admin, KL49, "kl49.yaml")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "đã được lưu với đúng nội dung này" in html and 'name="text"' not in html


def test_only_the_administrator_loads_outlines(app):
    compiler = login(app.test_client(), "ln-btg")
    assert compiler.get("/admin/outlines/upload").status_code == 403
    assert upload(compiler, next_version()).status_code == 403
    from webapp.outline_store import sha256

    assert compiler.post("/admin/outlines/save", data={"text": next_version(), "digest": sha256(next_version())}
                         ).status_code == 403
    assert stored_versions() == [("kl49", 1), ("kl49", 2)]
    # every staff member sees the stored versions and their files
    assert compiler.get("/admin/outlines/kl49/1").status_code == 200
    download = compiler.get("/admin/outlines/kl49/2/file")
    assert download.status_code == 200 and download.get_data(as_text=True) == KL49
    assert 'filename="kl49-v2.yaml"' in download.headers["Content-Disposition"]
    assert compiler.get("/admin/outlines/kl49/9").status_code == 404
    assert compiler.get("/admin/outlines/kl49/9/file").status_code == 404
    clerk = login(app.test_client(), "ln-02")
    assert clerk.get("/admin/outlines/kl49/1").status_code == 403
    assert clerk.get("/admin/outlines/upload").status_code == 403


def test_the_stored_preview_names_the_campaigns_using_it(app):
    html = login(app.test_client(), "admin").get("/admin/outlines/kl49/2").get_data(as_text=True)
    assert "kl49-2024" in html and TITLE in html and "Xã, phường, thị trấn" in html
    assert 'data-table="I"' in html and 'name="text"' not in html


@pytest.fixture
def csrf_app(demo_db, tmp_path):
    yield from _app_on_copy(demo_db, tmp_path, WTF_CSRF_ENABLED=True)


def test_the_save_needs_the_form_token(csrf_app):
    """With CSRF on (as in production) the save without the preview's token stores nothing; with it, it stores."""
    from webapp.outline_store import sha256

    admin = csrf_app.test_client()
    page = admin.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert admin.post("/login", data={"username": "admin", "password": "demo123",
                                      "csrf_token": token.group(1)}).status_code == 302
    upload_page = admin.get("/admin/outlines/upload").get_data(as_text=True)
    token = hidden(upload_page, "csrf_token")
    response = admin.post("/admin/outlines/upload", data={"file": (io.BytesIO(next_version().encode()), "v2.yaml"),
                                                          "csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    fields = {name: hidden(html, name) for name in ("text", "digest", "filename", "csrf_token")}
    assert admin.post("/admin/outlines/save", data={k: v for k, v in fields.items() if k != "csrf_token"}
                      ).status_code == 400
    assert stored_versions() == [("kl49", 1), ("kl49", 2)]
    assert fields["digest"] == sha256(next_version())
    assert admin.post("/admin/outlines/save", data=fields).status_code == 302
    assert stored_versions() == [("kl49", 1), ("kl49", 2), ("kl49", 3)]


def test_another_outline_is_previewed_and_stored_the_same_way(app):
    """The mini town's outline (other kinds, codes, sheets, explicit rows with a header, a list last)."""
    from conftest import MINI_OUTLINE_FILE

    text = open(MINI_OUTLINE_FILE, encoding="utf-8").read()
    admin = login(app.test_client(), "admin")
    response = upload(admin, text, "mini.yaml")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Đề cương mới (chưa có phiên bản nào của mã pcgd)" in html
    assert "Trường tiểu học <code>truong_th</code>" in html and "Nội dung" in html
    response = admin.post("/admin/outlines/save", data={name: hidden(html, name) for name in ("text", "digest", "filename")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/outlines/pcgd/1")
    assert stored_versions() == [("kl49", 1), ("kl49", 2), ("pcgd", 1)]
    assert admin.get("/admin/outlines/pcgd/1").status_code == 200
    result = run(app, "outlines")
    assert [line for line in result.stdout.splitlines() if line.split("\t")[0] not in OTHER_SHIPPED][2].startswith(
        "pcgd\t1\tPHỤ LỤC SỐ LIỆU TỔNG KẾT")
