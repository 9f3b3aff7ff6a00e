"""Loading a list of units and accounts in a real browser: the upload page with its problems, the
summary and the sign-in slips at an office PC's 1366 px and a phone's 360 px (screenshots under
/tmp/directory-*.png), and the slips printed to PDF: several to an A4 page, nothing but the slips.

Needs Debian's Chromium (the `browser` fixture of conftest.py decides)."""

from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import select

from conftest import in_app, signed_in
from webapp.directory import HEADERS, KEYS
from webapp.models import User

pytestmark = pytest.mark.browser
SHOTS = "/tmp/directory-"
HEADER = ";".join(HEADERS[k] for k in KEYS)
COMMUNES = ["Xã Lộc Mới", "Xã Lộc Thượng", "Xã Lộc Trung", "Xã Lộc Hạ", "Xã Lộc Đông", "Xã Lộc Tây", "Xã Lộc Nam"]


def new_district_list() -> str:
    rows = [HEADER]
    for i, name in enumerate(COMMUNES, start=17):
        rows.append(f"ln-{i};{name};Xã, phường, thị trấn;ln;0271 3866 {i:03d};ln-{i};Cán bộ nhập liệu – {name};"
                    "Cán bộ nhập liệu")
    return "\ufeff" + "\r\n".join(rows) + "\r\n"


def pdf_pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_loading_a_list_in_the_browser_and_printing_the_slips(browser, live_server, tmp_path):
    bad = tmp_path / "danh-sach-loi.csv"
    bad.write_text(HEADER + "\nln-17;;xa;ln;;ln-17;;\nln-18;Xã Lộc Xa;xa;zz;;;;\n", encoding="utf-8")
    good = tmp_path / "danh-sach.csv"
    good.write_text(new_district_list(), encoding="utf-8")

    page = signed_in(browser, live_server, "admin")
    page.goto(live_server + "/admin/units/import")
    assert page.title().startswith("Nạp danh sách đơn vị và tài khoản")
    with page.expect_download() as download:
        page.click("text=Tải mẫu danh sách (Excel)")
    assert download.value.suggested_filename.startswith("danh-sach-don-vi-")
    # a list with problems: every one by its row, nothing stored
    page.set_input_files("#listfile", str(bad))
    page.click("input[type=submit][value='Nạp danh sách']")
    errors = page.locator("#list-errors")
    errors.wait_for()
    assert "Chưa nạp danh sách: 2 lỗi" in errors.inner_text()
    assert "Dòng 2: Thiếu tên đơn vị của mã ln-17" in errors.inner_text()
    assert "Dòng 3: Không có đơn vị cấp trên «zz»" in errors.inner_text()
    page.screenshot(path=SHOTS + "errors-1366.png", full_page=True)
    # the right list: the summary and seven slips, shown once
    page.set_input_files("#listfile", str(good))
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("input[type=submit][value='Nạp danh sách']")
    assert answer.value.status == 200 and answer.value.headers["cache-control"] == "no-store"
    page.wait_for_selector(".slips")
    assert "7 phiếu đăng nhập bên dưới chỉ hiện một lần" in page.inner_text("main")
    assert page.locator(".slips .slip").count() == 7
    passwords = dict(zip(page.locator(".slips .slip").evaluate_all("els => els.map(e => e.dataset.username)"),
                         page.locator(".slips .slip-password").all_inner_texts()))
    with in_app() as session:
        for username, password in passwords.items():
            assert session.scalar(select(User).where(User.username == username)).check_password(password)
    assert page.inner_text(".slips .slip >> nth=0").count("Xã Lộc Mới") == 2  # the unit and the user's name
    page.screenshot(path=SHOTS + "slips-1366.png", full_page=True)
    page.screenshot(path=SHOTS + "slips-top-1366.png")
    # no box is wider than the page
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366

    # printed: only the slips, three to a page of A4
    pdf = tmp_path / "slips.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    page.emulate_media(media="screen")
    assert pdf_pages(pdf) == 3  # 7 slips: 3 + 3 + 1
    text = pdf_text(pdf)
    assert text.count("PHIẾU ĐĂNG NHẬP") == 7 and all(p in text for p in passwords.values())
    assert "chỉ hiện một lần" not in text and "Đăng xuất" not in text and "Đã nạp danh sách" not in text
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), SHOTS + "slips-a4"], check=True)

    # the phone: the same pages at 360 px, nothing wider than the screen
    phone = signed_in(browser, live_server, "admin", width=360, height=740)
    phone.goto(live_server + "/admin/units/import")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=SHOTS + "upload-360.png", full_page=True)
    phone.set_input_files("#listfile", str(bad))
    phone.click("input[type=submit][value='Nạp danh sách']")
    phone.locator("#list-errors").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=SHOTS + "errors-360.png", full_page=True)
    # the same good list again: nothing new, no slip
    phone.set_input_files("#listfile", str(good))
    phone.click("input[type=submit][value='Nạp danh sách']")
    phone.wait_for_selector("text=Danh sách không có gì mới")
    assert phone.locator(".slip").count() == 0
    phone.screenshot(path=SHOTS + "again-360.png", full_page=True)


def test_the_slips_at_360_px(browser, live_server, tmp_path):
    good = tmp_path / "danh-sach.csv"
    good.write_text(new_district_list(), encoding="utf-8")
    phone = signed_in(browser, live_server, "admin", width=360, height=740)
    phone.goto(live_server + "/admin/units/import")
    phone.set_input_files("#listfile", str(good))
    phone.click("input[type=submit][value='Nạp danh sách']")
    phone.wait_for_selector(".slips")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=SHOTS + "slips-360.png", full_page=False)
    phone.locator(".slips .slip >> nth=0").screenshot(path=SHOTS + "slip-360.png")
