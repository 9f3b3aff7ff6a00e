"""Loading an outline in a real browser: upload → the mistakes, or the preview of its tables → Lưu đề
cương stores it (with the form's CSRF token, as in production). Screenshots at 1366 and 360 px
wide are left in /tmp (outline-*.png) to look at.

Needs Debian's Chromium at /usr/bin/chromium: skipped without it, a failure under CI=true (the
`browser` fixture of conftest.py decides).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import in_app, live_server, signed_in  # noqa: F401
from webapp.domain.outline import OUTLINE_DIR
from webapp.models import OutlineVersion

pytestmark = pytest.mark.browser

KL49 = (OUTLINE_DIR / "kl49.yaml").read_text(encoding="utf-8")  # version 2 (version 1: kl49-v1.yaml)
KL49_V1 = (OUTLINE_DIR / "kl49-v1.yaml").read_text(encoding="utf-8")
NEW_HEADER = "Cán bộ, công chức cấp xã"
VERSION_3 = KL49.replace("\nversion: 2\n", "\nversion: 3\n", 1).replace(
    "label: Công chức cấp xã\n", f"label: {NEW_HEADER}\n", 1)
BROKEN = VERSION_3.replace("          - key: d60\n", "          - key: d35\n", 1).replace(
    "of: cn_dt, over: cn_tong", "of: cn_dt, over: cn_total", 1)


def stored() -> dict[int, str]:
    with in_app() as session:
        return dict(session.execute(select(OutlineVersion.version, OutlineVersion.source)
                                    .where(OutlineVersion.code == "kl49")).all())


@pytest.mark.parametrize("width", [1366, 360])
def test_upload_preview_and_save(browser, live_server, tmp_path, width):  # noqa: F811
    page = signed_in(browser, live_server, "admin", width=width, height=800)
    page.click("text=Đề cương")
    page.wait_for_url(live_server + "/admin/outlines")
    page.click("text=Nạp đề cương mới")
    page.wait_for_url(live_server + "/admin/outlines/upload")

    broken = tmp_path / "kl49-v3-loi.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    page.set_input_files("#file", str(broken))
    with page.expect_navigation():
        page.click("input[type=submit][value='Kiểm tra và xem trước']")
    problems = page.locator("#outline-problems li")
    assert problems.count() == 2
    assert problems.nth(0).inner_text().startswith("dòng ")
    assert "mã nhóm cột 'd35' bị trùng trong bảng" in problems.nth(0).inner_text()
    assert "cột 'cn_total' không có trong bảng" in problems.nth(1).inner_text()
    page.screenshot(path=f"/tmp/outline-mistakes-{width}.png", full_page=True)
    assert stored().keys() == {1, 2}

    good = tmp_path / "kl49-v3.yaml"
    good.write_text(VERSION_3, encoding="utf-8")
    page.set_input_files("#file", str(good))
    with page.expect_navigation():
        page.click("input[type=submit][value='Kiểm tra và xem trước']")
    assert "Xem trước" in page.inner_text("h1")
    table = page.locator("table[data-table='II.1.5']")
    assert NEW_HEADER in table.inner_text()
    assert table.locator("input.cell:disabled").count() == 5 * 6  # five years × six inputs
    assert page.locator("table[data-table='I'] select.cell:disabled").count() == 3
    page.screenshot(path=f"/tmp/outline-preview-{width}.png")
    table.scroll_into_view_if_needed()
    page.screenshot(path=f"/tmp/outline-preview-table-{width}.png")
    page.locator("#bang-1").screenshot(path=f"/tmp/outline-preview-list-{width}.png")  # table I, a list
    page.locator("#bang-4").screenshot(path=f"/tmp/outline-preview-inferred-{width}.png")  # II.1.3, two blocks
    assert stored().keys() == {1, 2}  # nothing before the button

    page.locator("#save-outline button, #save-outline input[type=submit]").first.click()
    page.wait_for_url(live_server + "/admin/outlines/kl49/3")
    assert "Đã lưu đề cương kl49 phiên bản 3" in page.inner_text("main")
    assert stored() == {1: KL49_V1, 2: KL49, 3: VERSION_3}
    page.screenshot(path=f"/tmp/outline-saved-{width}.png")
    page.goto(live_server + "/admin/outlines")
    assert "kl49-v3.yaml" in page.inner_text("#outline-kl49-3")
    page.screenshot(path=f"/tmp/outline-list-{width}.png", full_page=True)
