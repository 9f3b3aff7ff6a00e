"""Seed 000's learning models (mhht) and seed 002's targets (muctieu): outlines, demo campaigns, charts."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal

from sqlalchemy import func, select

from conftest import DEMO_TODAY, in_app
from webapp.domain.outline import shipped_outline
from webapp.models import Assignment, AuditEvent, Campaign, CellValue, ListRow, Unit, User


def _snapshot(session):
    return {model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Unit, User, Campaign, Assignment, CellValue, ListRow, AuditEvent)}


def test_mhht_outline_holds_the_five_models_with_their_totals_and_rates():
    table = shipped_outline("mhht").table("III.2")
    assert [g.label for g in table.blocks[0].groups] == [
        "Gia đình học tập", "Dòng họ học tập", "Cộng đồng học tập", "Đơn vị học tập", "Cộng đồng học tập cấp xã"]
    assert table.column("gd_cn").label == "Tổng số gia đình được công nhận"
    assert table.column("gd_tong").inferred and not table.column("gd_cn").inferred
    assert table.column("gd_tyle").type == "percent" and table.column("gd_tyle").of == "gd_cn"
    assert [c.value for c in table.charts] == ["gd_tyle", "dh_tyle", "cd_tyle", "dv_tyle", "xa_tyle"]


def test_mhht_demo_is_loaded_once_on_the_communes(app):
    from webapp.demo_mhht import load_mhht

    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "mhht-2020"))
        assert (campaign.year_from, campaign.year_to) == (2016, 2020)
        assert sorted(u.code for u in campaign.units) == [f"ln-{i:02d}" for i in range(1, 17)]
        before = _snapshot(session)
        assert load_mhht(session, DEMO_TODAY) is False
        assert _snapshot(session) == before


def test_mhht_demo_follows_the_province_scale(app):
    """The district's rates climb as the province's did in seed 000 (59,72 % of families in 2016,
    93,66 % in 2019; 23,80 % of communes, then all of them), at the scale of 15 communes."""
    from webapp.domain.assembly import assemble
    from webapp.domain.columns import row_values

    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "mhht-2020"))
        part = assemble(session, campaign.id, campaign.outline, campaign.years)
        table = campaign.outline.table("III.2")
        rate = {year: row_values(table.columns, part.row_numbers("III.2", str(year)), str(year))
                for year in campaign.years}
    assert 55 <= rate[2016]["gd_tyle"] <= 65 and 89 <= rate[2019]["gd_tyle"] <= 98
    # every commune that reported holds the title by 2020: 15 of 16 (Lộc Khánh has not reported)
    assert rate[2016]["xa_tyle"] < 50 and rate[2020]["xa_tyle"] == Decimal("93.75")
    assert 20_000 <= rate[2016]["gd_tong"] <= 60_000  # households of 15 communes


def test_the_appendix_page_draws_a_chart_per_indicator(compiler):
    html = compiler.get("/campaigns/mhht-2020/appendix").get_data(as_text=True)
    svgs = [html[i:html.index("</svg>", i) + 6] for i in range(len(html)) if html.startswith("<svg", i)]
    charts = [ET.fromstring(s) for s in svgs if 'class="chart"' in s]
    assert len(charts) == 5
    first = charts[0]
    ns = "{http://www.w3.org/2000/svg}"
    assert first.find(f"{ns}title").text == "Tỷ lệ gia đình được công nhận “Gia đình học tập”"
    assert "Năm 2016: " in first.find(f"{ns}desc").text and " %" in first.find(f"{ns}desc").text
    assert len(first.findall(f".//{ns}rect[@class='bar']")) == 5
    # kl49 asks for no chart
    assert 'class="chart"' not in compiler.get("/campaigns/kl49-2024/appendix").get_data(as_text=True)


def _chart_xml(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")}


def test_the_exported_workbook_has_a_native_chart_per_indicator_on_the_sheet_cells(compiler):
    from openpyxl import load_workbook

    response = compiler.get("/campaigns/mhht-2020/export.xlsx")
    assert response.status_code == 200
    charts = _chart_xml(response.data)
    assert len(charts) == 5
    first = charts["xl/charts/chart1.xml"]
    # the years' labels (column A) and Gia đình học tập's rate (column D) of rows 2016-2020
    ws = load_workbook(io.BytesIO(response.data))["III.2"]
    rows = [r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith("Năm 20")]
    assert ws.cell(rows[0], 4).value.startswith("=")  # the rate is the live formula the chart reads
    assert f"'III.2'!$A${rows[0]}:$A${rows[-1]}" in first
    assert f"'III.2'!$D${rows[0]}:$D${rows[-1]}" in first
    assert "Tỷ lệ gia đình được công nhận" in first
    assert len(ws._charts) == 5  # openpyxl reads them back
    # kl49's export has no chart
    assert _chart_xml(compiler.get("/campaigns/kl49-2024/export.xlsx").data) == {}


def test_muctieu_outline_holds_every_target_of_the_seed():
    outline = shipped_outline("muctieu")
    targets = {c.key: dict(c.targets[0][1]) for t in outline.tables for c in t.columns if c.type == "target"}
    as_numbers = {k: {y: int(v) for y, v in t.items()} for k, t in targets.items()}
    assert as_numbers == {
        "gd_mt": {"2025": 80, "2030": 85}, "dh_mt": {"2025": 80, "2030": 85},
        "cd_mt": {"2025": 80, "2030": 90}, "dv_mt": {"2025": 80, "2030": 90},
        "ld_mt": {"2025": 40, "2030": 60}, "cb_mt": {"2025": 60, "2030": 80},
        "hv_mt": {"2025": 100, "2030": 100}, "tt_mt": {"2025": 100}, "kh_mt": {"2025": 40, "2030": 70}}
    for table in outline.tables:  # a chart per indicator, each against its target
        assert [(c.value[:2], c.target[:2]) for c in table.charts] == [
            (g.key, g.key) for g in table.blocks[0].groups]


def test_muctieu_demo_is_loaded_once(app):
    from webapp.demo_muctieu import load_muctieu

    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "muctieu-2025"))
        assert (campaign.year_from, campaign.year_to) == (2021, 2025)
        assert len(campaign.units) == 16
        before = _snapshot(session)
        assert load_muctieu(session, DEMO_TODAY) is False
        assert _snapshot(session) == before


def test_muctieu_charts_show_the_years_against_the_targets(compiler):
    html = compiler.get("/campaigns/muctieu-2025/appendix").get_data(as_text=True)
    svgs = [html[i:html.index("</svg>", i) + 6] for i in range(len(html)) if html.startswith("<svg", i)]
    charts = [ET.fromstring(s) for s in svgs if 'class="chart"' in s]
    assert len(charts) == 9
    ns = "{http://www.w3.org/2000/svg}"
    desc = charts[0].find(f"{ns}desc").text
    assert "mục tiêu 80 %" in desc and "Năm 2030: chưa có số liệu, mục tiêu 85 %" in desc
    assert len(charts[0].findall(f".//{ns}rect[@class='bar']")) == 5  # 2021-2025 achieved
    labels = [t.text for t in charts[0].iter(f"{ns}text") if t.get("class") == "target-label"]
    assert labels == ["80 %", "85 %"]


def test_muctieu_workbook_charts_read_the_rate_and_the_target_cells(compiler):
    from openpyxl import load_workbook

    data = compiler.get("/campaigns/muctieu-2025/export.xlsx").data
    charts = _chart_xml(data)
    assert len(charts) == 9
    ws = load_workbook(io.BytesIO(data))["1"]
    rows = [r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith("Năm 20")]
    target_col = next(c for c in range(1, ws.max_column + 1) if ws.cell(rows[0] - 2, c).value == "Mục tiêu (%)")
    assert ws.cell(rows[-1], target_col).value == 80  # 2025's target, the line the chart draws
    first = charts["xl/charts/chart1.xml"]
    from xlsxwriter.utility import xl_col_to_name
    assert f"'1'!${xl_col_to_name(target_col - 1)}${rows[0]}:${xl_col_to_name(target_col - 1)}${rows[-1]}" in first
    assert "<c:lineChart>" in first and "<c:barChart>" in first
