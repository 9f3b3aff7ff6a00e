"""The data-quality view of a campaign (webapp/quality.py): every error and warning of the stored
values across units, its page (sort, filter, downloads), the ``checks`` command, and the
confirmation of warnings when a unit submits.

The demo (kl49-2024) has no finding; the tests put warnings in: ln-02 (a commune, complete and
open) and ln-11 (partly filled). The outline-level checks run on tests/outlines/checks.yaml.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os

import openpyxl
import pytest
from sqlalchemy import select

from conftest import in_app, login
from webapp import outline_store
from webapp.campaigns import CampaignSpec, create_campaign
from webapp.domain.layout import build_layout
from webapp.domain.values import ValueProblem
from webapp.entry.service import UnitTable
from webapp.models import Assignment, AuditEvent, Campaign, CampaignUnit, CellValue, Unit, WarningConfirmation
from webapp.quality import quality_lines

BASE = "/campaigns/kl49-2024"
WARNING = "Số người được huy động ra học lớn hơn tổng số người mù chữ"


def put(unit_code: str, table_code: str, values: dict[str, int], campaign_code: str = "kl49-2024",
        row: str | None = None) -> str:
    """Store a unit's values in one row (the last year's by default) as the browser would, checked;
    returns the row key."""
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == campaign_code))
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        row = row or str(campaign.years[-1])
        part = UnitTable(session, campaign, unit, campaign.outline.table(table_code))
        errors = part.save_many({(row, k): str(v) for k, v in values.items()}, None, "web")
        assert errors == {}
        return row


def address(table_code: str, row: str, col: str) -> str:
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        table = campaign.outline.table(table_code)
        return f"{table.sheet}!{build_layout(table, campaign.years).find(row, col).address}"


@pytest.fixture
def warned(app):
    """Two units with a warning of kl49's II.1.3 (more brought to class than illiterate people)."""
    row = put("ln-02", "II.1.3", {"mu_chu": 3, "huy_dong": 5})
    put("ln-11", "II.1.3", {"mu_chu": 1, "huy_dong": 9})
    return row


# --- the page -------------------------------------------------------------------------------------

def test_quality_page_lists_every_warning_with_its_cell(app, warned, compiler):
    response = compiler.get(f"{BASE}/quality")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    place = address("II.1.3", warned, "huy_dong")
    assert page.count(WARNING) == 2 and place in page
    assert "Xã Lộc Hòa" in page and "(5 &lt;= 3)" in page and "Chưa" in page
    dashboard = compiler.get(f"{BASE}/dashboard").get_data(as_text=True)
    assert f'href="{BASE}/quality"' in dashboard


def test_quality_page_sorts_by_column_and_filters_by_level(app, warned, compiler):
    def units_in(page: str) -> list[str]:
        return [code for code in ("ln-02", "ln-11") if f"units/{code}\"" in page]

    asc = compiler.get(f"{BASE}/quality?sort=unit&order=asc").get_data(as_text=True)
    desc = compiler.get(f"{BASE}/quality?sort=unit&order=desc").get_data(as_text=True)
    assert asc.index("units/ln-02\"") < asc.index("units/ln-11\"")
    assert desc.index("units/ln-11\"") < desc.index("units/ln-02\"")
    assert f'href="{BASE}/quality?sort=unit&amp;order=desc"' in asc  # the header links the other way round
    assert compiler.get(f"{BASE}/quality?sort=nonsense&order=sideways").status_code == 200
    errors = compiler.get(f"{BASE}/quality?level=error").get_data(as_text=True)
    assert WARNING not in errors and "Không có lỗi hay cảnh báo nào ở mức này" in errors
    assert compiler.get(f"{BASE}/quality?level=warning").get_data(as_text=True).count(WARNING) == 2


def test_quality_list_downloads_as_xlsx_and_csv(app, warned, compiler):
    place = address("II.1.3", warned, "huy_dong")
    response = compiler.get(f"{BASE}/quality.xlsx?sort=unit&order=desc")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [[c or "" for c in row] for row in ws.iter_rows(values_only=True)]
    assert rows[0] == ["Mã đơn vị", "Tên đơn vị", "Biểu", "Ô", "Nội dung", "Số liệu", "Mức", "Đơn vị xác nhận"]
    assert [r[0] for r in rows[1:]] == ["ln-11", "ln-02"]
    assert rows[2] == ["ln-02", "Xã Lộc Hòa", "II.1.3", place, WARNING, "5 <= 3", "Cảnh báo", ""]
    response = compiler.get(f"{BASE}/quality.csv")
    assert response.mimetype == "text/csv" and "chat-luong-kl49-2024.csv" in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[1][:5] == ["ln-02", "Xã Lộc Hòa", "II.1.3", place, WARNING] and len(lines) == 3
    assert compiler.get(f"{BASE}/quality.pdf").status_code == 404


def test_quality_page_is_for_the_compiler_and_the_admin_only(app, warned, clerk, admin):
    assert clerk.get(f"{BASE}/quality").status_code == 403
    assert clerk.get(f"{BASE}/quality.csv").status_code == 403
    assert admin.get(f"{BASE}/quality").status_code == 200


# --- the command ----------------------------------------------------------------------------------

def test_checks_command_prints_unit_cell_message_per_line(app, warned):
    result = app.test_cli_runner().invoke(args=["checks", "kl49-2024"])
    assert result.exit_code == 0
    place = address("II.1.3", warned, "huy_dong")
    other = address("II.1.3", warned, "huy_dong")
    assert result.stdout == f"ln-02\t{place}\t{WARNING}\nln-11\t{other}\t{WARNING}\n"


def test_checks_command_of_a_clean_campaign_prints_nothing_and_of_an_unknown_one_fails(app):
    result = app.test_cli_runner().invoke(args=["checks", "kl49-2024"])
    assert (result.exit_code, result.stdout) == (0, "")
    result = app.test_cli_runner().invoke(args=["checks", "nope"])
    assert result.exit_code == 1 and "Không có đợt báo cáo 'nope'" in result.output and result.stdout == ""
    assert "Traceback" not in result.output


# --- confirming warnings at submission ------------------------------------------------------------

def _status(code: str) -> str:
    with in_app() as session:
        unit = session.scalar(select(Unit).where(Unit.code == code))
        return session.scalar(select(CampaignUnit.status).join(Campaign).where(  # kl49-2024's part
            CampaignUnit.unit_id == unit.id, Campaign.code == "kl49-2024"))


def _confirmations() -> list[tuple]:
    with in_app() as session:
        return session.execute(select(WarningConfirmation.table_code, WarningConfirmation.col_key,
                                      WarningConfirmation.check_id, WarningConfirmation.detail)).all()


def test_submitting_with_open_warnings_needs_their_confirmation(app, warned, clerk, compiler):
    page = clerk.get(f"{BASE}/submit").get_data(as_text=True)
    assert "1 cảnh báo cần xác nhận" in page and WARNING in page
    assert "Tôi xác nhận các số liệu này là đúng" in page
    refused = clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"}, follow_redirects=True)
    assert "Còn 1 cảnh báo chưa được xác nhận" in refused.get_data(as_text=True)
    assert _status("ln-02") == "open" and _confirmations() == []

    response = clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y", "confirm_warnings": "y"})
    assert response.status_code == 302 and _status("ln-02") == "submitted"
    assert _confirmations() == [("II.1.3", "huy_dong", "rule:huy_dong <= mu_chu", "5 <= 3")]
    with in_app() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "warning_confirm"))
        assert (event.table_code, event.row_key, event.col_key) == ("II.1.3", warned, "huy_dong")
        assert event.new == f"{WARNING} (5 <= 3)" and event.user.username == "ln-02"
        submit = session.scalars(select(AuditEvent).where(AuditEvent.action == "submit")
                                 .order_by(AuditEvent.id.desc())).first()
        assert submit.new.endswith("1 cảnh báo được xác nhận")
    page = compiler.get(f"{BASE}/quality").get_data(as_text=True)
    assert "Đã xác nhận" in page and "Chưa" in page  # ln-02 confirmed, ln-11 not yet
    page = compiler.get(f"{BASE}/units/ln-02").get_data(as_text=True)
    assert WARNING in page and "đơn vị đã xác nhận" in page
    page = compiler.get(f"{BASE}/units/ln-11").get_data(as_text=True)
    assert WARNING in page and "chưa xác nhận" in page


def test_a_confirmation_holds_for_the_values_confirmed_only(app, warned):
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        unit = session.scalar(select(Unit).where(Unit.code == "ln-02"))
        from webapp.quality import confirm_warnings
        assert confirm_warnings(session, campaign, unit, None, quality_lines(session, campaign, unit)) == 1
        session.commit()
        assert [line.confirmed for line in quality_lines(session, campaign, unit)] == [True]
    put("ln-02", "II.1.3", {"huy_dong": 7})
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        unit = session.scalar(select(Unit).where(Unit.code == "ln-02"))
        assert [line.confirmed for line in quality_lines(session, campaign, unit)] == [False]


def test_a_part_without_warnings_submits_as_before(app, clerk):
    assert "cảnh báo" not in clerk.get(f"{BASE}/submit").get_data(as_text=True)
    assert clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"}).status_code == 302
    assert _status("ln-02") == "submitted"


# --- the outline's checks on stored values --------------------------------------------------------

CHECKS_OUTLINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "outlines", "checks.yaml")


def stored_count(session, campaign) -> int:
    return len(session.scalars(select(CellValue.id).where(CellValue.campaign_id == campaign.id)).all())


def _checks_campaigns(text: str | None = None) -> None:
    """Two campaigns of tests/outlines/checks.yaml (or ``text``) over two demo communes and their
    district (which fills T2 too: a campaign may assign any group to any unit)."""
    with in_app() as session:
        with open(CHECKS_OUTLINE, encoding="utf-8") as handle:
            row, _ = outline_store.store_outline(session, text or handle.read(), "checks.yaml", via="cli")
        units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(["ln", "ln-01", "ln-02"])))}
        compiler = session.scalar(select(Unit).where(Unit.code == "ln-btg"))
        for code, years in (("ktra-2022", (2022, 2023)), ("ktra-2024", (2023, 2024))):
            campaign = create_campaign(session, row, CampaignSpec(
                code=code, name=code, year_from=years[0], year_to=years[1],
                deadline=dt.date.today() + dt.timedelta(days=5), compiler_unit=compiler,
                units=list(units.values())), via="cli")
            session.add(Assignment(campaign_id=campaign.id, unit_id=units["ln"].id, table_code="T2", group_key="xa"))
        session.commit()


def test_same_covers_and_outlier_on_stored_values(app):
    _checks_campaigns()
    put("ln-01", "T1", {"c3": 5}, "ktra-2022", row="2023")
    put("ln-01", "T1", {"c2": 5, "c3": 16}, "ktra-2024", row="2023")  # c3: 16 > 3 × 5 in the previous campaign
    put("ln-01", "T1", {"c1": 40, "c2": 20, "c3": 20}, "ktra-2024", row="2024")  # c2: 20 > 3 × 5 in 2023
    put("ln-01", "T2", {"dk": 41}, "ktra-2024", row="2024")  # T1.c1 is 40
    put("ln-02", "T2", {"dk": 10}, "ktra-2024", row="2024")
    put("ln", "T2", {"dk": 50}, "ktra-2024", row="2024")  # its communes: 41 + 10
    result = app.test_cli_runner().invoke(args=["checks", "ktra-2024"])
    assert result.exit_code == 0
    far = "Khác xa kỳ trước (gấp hơn 3 lần hoặc dưới một phần ba)"
    assert result.stdout.splitlines() == [  # Biểu 1: 2023 in row 7, 2024 in row 8; Biểu 2 has one header row less
        "ln-01\tBiểu 1!B8\tTổng số ở Biểu 1 phải bằng số đăng ký ở Biểu 2",
        "ln-01\tBiểu 2!B7\tTổng số ở Biểu 1 phải bằng số đăng ký ở Biểu 2",
        "ln\tBiểu 2!B7\tSố đăng ký phải bằng tổng của các đơn vị trực thuộc",
        f"ln-01\tBiểu 1!D7\t{far}",
        f"ln-01\tBiểu 1!C8\t{far}",
    ]
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "ktra-2024"))
        details = [line.finding.detail for line in quality_lines(session, campaign)]
    assert details == ["40 ≠ 41", "40 ≠ 41", "50 ≠ 51 (tổng 2 đơn vị)", "16 so với 5 kỳ trước", "20 so với 5 kỳ trước"]


SAME = "Tổng số ở Biểu 1 phải bằng số đăng ký ở Biểu 2"


def test_the_entry_page_flags_the_outline_checks_at_the_cells(app):
    _checks_campaigns()
    put("ln-01", "T1", {"c1": 40, "c2": 20, "c3": 20}, "ktra-2024", row="2024")
    clerk = login(app.test_client(), "ln-01")
    assert SAME not in clerk.get("/campaigns/ktra-2024/tables/T1").get_data(as_text=True)
    response = clerk.post("/campaigns/ktra-2024/tables/T2", data={"cell:2024:dk": "41"})
    assert response.status_code in (200, 302)  # a warning never blocks: stored
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "ktra-2024"))
        assert [line.place for line in quality_lines(session, campaign)] == ["Biểu 1!B8", "Biểu 2!B7"]
    for table in ("T1", "T2"):
        page = clerk.get(f"/campaigns/ktra-2024/tables/{table}").get_data(as_text=True)
        assert page.count(SAME) == 1, table


def test_an_error_of_the_outline_checks_is_never_stored(app):
    with open(CHECKS_OUTLINE, encoding="utf-8") as handle:
        text = handle.read()
    warning = f'    level: warning\n    message: "{SAME}"'
    assert warning in text
    _checks_campaigns(text.replace(warning, f'    level: error\n    message: "{SAME}"'))
    put("ln-01", "T2", {"dk": 41}, "ktra-2024", row="2024")
    clerk = login(app.test_client(), "ln-01")
    page = clerk.post("/campaigns/ktra-2024/tables/T1", data={"cell:2024:c1": "40"}).get_data(as_text=True)
    assert SAME in page
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "ktra-2024"))
        unit = session.scalar(select(Unit).where(Unit.code == "ln-01"))
        part = UnitTable(session, campaign, unit, campaign.outline.table("T1"))
        with pytest.raises(ValueProblem, match=SAME):
            part.save("2024", "c1", "40", None, "web")
        assert quality_lines(session, campaign) == []  # nothing stored
        part = UnitTable(session, campaign, unit, campaign.outline.table("T1"))
        part.save("2024", "c1", "41", None, "web")  # agrees: stored
        assert part.version("2024", "c1") == 1


def test_the_outline_preview_shows_rules_and_checks_in_words(app):
    admin = login(app.test_client(), "admin")
    with open(CHECKS_OUTLINE, "rb") as handle:
        response = admin.post("/admin/outlines/upload", data={"file": (io.BytesIO(handle.read()), "checks.yaml")},
                              content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Cột 1 «Số người › Tổng số» phải bằng cột 2+cột 3 (cho phép lệch 1)" in html
    assert "Phải bằng nhau ở cùng đơn vị, cùng dòng: Biểu T1 › Số người › Tổng số; Biểu T2 › Số đăng ký" in html
    assert "Biểu T2 › Số đăng ký của một đơn vị phải bằng tổng của các đơn vị trực thuộc nó trong đợt" in html
    assert "Số nhập vào gấp hơn 3 lần, hoặc dưới 1/3, số của chính đơn vị ở kỳ trước" in html and "— Biểu T1" in html


def test_an_import_breaking_an_error_check_across_tables_stores_nothing(app, tmp_path):
    """The import stores table after table through the same checks: the second table's value that
    disagrees with the first's (in the same file) refuses the whole file, at its cell."""
    with open(CHECKS_OUTLINE, encoding="utf-8") as handle:
        text = handle.read()
    warning = f'    level: warning\n    message: "{SAME}"'
    _checks_campaigns(text.replace(warning, f'    level: error\n    message: "{SAME}"'))
    path = tmp_path / "ln-01.xlsx"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["template", "ktra-2024", "ln-01", "-o", str(path)]).exit_code == 0
    wb = openpyxl.load_workbook(path)
    wb["Biểu 1"]["B8"], wb["Biểu 2"]["B7"] = 40, 41
    wb.save(path)
    result = runner.invoke(args=["import-xlsx", "ktra-2024", "ln-01", str(path)])
    assert result.exit_code == 1 and f"Biểu 2!B7: {SAME}" in result.output
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "ktra-2024"))
        assert stored_count(session, campaign) == 0
    wb = openpyxl.load_workbook(path)
    wb["Biểu 2"]["B7"] = 40
    wb.save(path)
    assert runner.invoke(args=["import-xlsx", "ktra-2024", "ln-01", str(path)]).exit_code == 0
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "ktra-2024"))
        assert stored_count(session, campaign) == 2
