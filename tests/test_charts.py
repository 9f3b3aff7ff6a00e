"""Charts of an indicator against its target: the SVG drawn on the server, without a script."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from webapp.domain.charts import Chart, Point, chart_svg

SVG = "{http://www.w3.org/2000/svg}"


def _chart(points, title="Gia đình học tập", unit="%") -> Chart:
    return Chart(title=title, unit=unit, points=tuple(points))


def _texts(root) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_svg_is_well_formed_with_values_targets_and_vietnamese_numbers():
    chart = _chart([Point("Năm 2023", Decimal("75.25"), None), Point("Năm 2024", Decimal("80.5"), None),
                    Point("Năm 2025", Decimal("82"), Decimal("80"))])
    root = ET.fromstring(chart_svg(chart, "gd"))
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.get("role") == "img"
    texts = _texts(root)
    assert "80,5 %" in texts and "75,25 %" in texts and "82 %" in texts
    assert "Năm 2024" in texts
    assert "Mục tiêu" in texts  # the legend
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "target-label"] == ["80 %"]
    assert len(root.findall(f".//{SVG}rect[@class='bar']")) == 3
    assert len(root.findall(f".//{SVG}line[@class='target']")) == 1


def test_title_and_description_name_every_value_for_a_screen_reader():
    chart = _chart([Point("Năm 2024", Decimal("80.5"), None), Point("Năm 2025", None, Decimal("85"))])
    root = ET.fromstring(chart_svg(chart, "dh"))
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Gia đình học tập"
    assert "Năm 2024: 80,5 %" in desc.text and "Năm 2025: chưa có số liệu, mục tiêu 85 %" in desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.get("id").startswith("chart-dh")


def test_a_target_without_a_value_still_shows_its_marker():
    chart = _chart([Point("Năm 2025", Decimal("70"), Decimal("80")), Point("Năm 2030", None, Decimal("85"))])
    root = ET.fromstring(chart_svg(chart, "x"))
    assert len(root.findall(f".//{SVG}rect[@class='bar']")) == 1
    assert len(root.findall(f".//{SVG}line[@class='target']")) == 2
    assert "Năm 2030" in _texts(root)


def test_every_text_is_escaped():
    evil = '<script>alert("x")</script> & "Đơn vị"'
    chart = _chart([Point(evil, Decimal("1"), Decimal("2"))], title=evil, unit="<b>")
    text = chart_svg(chart, 'a"b<c')
    assert "<script>" not in text and "<b>" not in text
    root = ET.fromstring(text)  # still well-formed
    assert root.find(f"{SVG}title").text == evil
    assert evil in _texts(root)
    assert '"' not in root.find(f"{SVG}title").get("id")


def test_the_legend_names_the_target_only_when_there_is_one():
    without = ET.fromstring(chart_svg(_chart([Point("Năm 2024", Decimal("80.5"), None)]), "a"))
    assert "Thực hiện" in _texts(without) and "Mục tiêu" not in _texts(without)


def test_no_data_is_said_in_words():
    for points in ([], [Point("Năm 2024", None, None)]):
        root = ET.fromstring(chart_svg(_chart(points), "e"))
        assert "Chưa có số liệu" in _texts(root)
        assert not root.findall(f".//{SVG}rect[@class='bar']")


def test_scale_fits_values_above_one_hundred_and_plain_numbers():
    chart = _chart([Point("Năm 2019", Decimal("368390"), None), Point("Năm 2020", Decimal("371097"), None)],
                   unit="")
    root = ET.fromstring(chart_svg(chart, "n"))
    texts = _texts(root)
    assert "371.097" in texts and "368.390" in texts
    height = float(root.get("viewBox").split()[3])
    for bar in root.findall(f".//{SVG}rect[@class='bar']"):
        assert 0 <= float(bar.get("y")) and float(bar.get("y")) + float(bar.get("height")) <= height


def test_readable_at_360_pixels():
    chart = _chart([Point(f"Năm {y}", Decimal(60 + y - 2016), Decimal(80) if y == 2025 else None)
                    for y in range(2016, 2026)])
    text = chart_svg(chart, "w")
    root = ET.fromstring(text)
    assert float(root.get("viewBox").split()[2]) <= 400  # drawn for a phone's width, scaled by the page
    assert "width" not in root.attrib or root.get("width") == "100%"
    # ten years do not fit "Năm 2016" side by side: the labels drop the word and keep the year
    assert "2016" in _texts(root) and "Năm 2016" not in _texts(root)


# --- the outline asks for charts ---------------------------------------------------------------------

import textwrap  # noqa: E402

import pytest  # noqa: E402

from webapp.domain.outline import ChartSpec, OutlineError, read_outline  # noqa: E402


def _outline(chart_yaml: str) -> str:
    return textwrap.dedent("""\
        code: t
        version: 1
        title: T
        unit_kinds: {xa: Xã}
        tables:
          - code: A
            title: A
            blocks:
              - rows: periods
                groups:
                  - key: gd
                    label: Gia đình học tập
                    owner: [xa]
                    columns:
                      - {key: gd_dat, label: Đạt, type: count}
                      - {key: gd_tong, label: Tổng, type: count}
                      - {key: gd_tyle, label: Tỷ lệ, type: percent, of: gd_dat, over: gd_tong}
                      - {key: gd_ghi, label: Ghi chú, type: text}
              - rows: [{key: mot, label: Một}]
                groups:
                  - key: khac
                    owner: [xa]
                    columns:
                      - {key: khac, label: Khác, type: count}
        """) + textwrap.indent(textwrap.dedent(chart_yaml), "    ")


def test_a_table_asks_for_one_chart_or_a_list():
    one = read_outline(_outline('chart: {value: gd_tyle, target: gd_dat, title: "Gia đình"}\n'))
    assert one.table("A").charts == (ChartSpec(value="gd_tyle", target="gd_dat", title="Gia đình"),)
    many = read_outline(_outline("chart:\n  - {value: gd_tyle}\n  - {value: gd_dat, title: Số đạt}\n"))
    assert many.table("A").charts == (ChartSpec("gd_tyle", None, None), ChartSpec("gd_dat", None, "Số đạt"))
    assert read_outline(_outline("")).table("A").charts == ()


@pytest.mark.parametrize(("chart", "line", "message"), [
    ("chart: {value: nope}\n", 25, "chart > value: cột 'nope' không có trong bảng"),
    ("chart: {value: gd_ghi}\n", 25, "chart > value: cột 'gd_ghi' phải là cột số"),
    ("chart:\n  - {value: gd_tyle}\n  - {value: gd_dat, target: nope}\n", 27,
     "chart[1] > target: cột 'nope' không có trong bảng"),
    ("chart: {target: gd_dat}\n", 25, "chart: thiếu khóa 'value'"),
    ("chart: {value: gd_dat, colour: red}\n", 25, "chart: khóa không được biết 'colour'"),
    ("chart: gd_dat\n", 25, "chart: phải là một bảng khóa {value, target, title} hoặc danh sách các bảng đó"),
    ("chart: {value: gd_tyle, target: khac}\n", 25, "chart > target: cột 'khac' phải cùng khối với cột 'gd_tyle'"),
])
def test_a_wrong_chart_is_named_with_its_line(chart, line, message):
    with pytest.raises(OutlineError) as caught:
        read_outline(_outline(chart))
    assert any(p.startswith(f"dòng {line}: ") and message in p for p in caught.value.problems), caught.value.problems


def test_the_chart_of_a_table_takes_its_rows_and_the_assembled_values():
    from webapp.domain.charts import table_charts
    outline = read_outline(_outline("chart: {value: gd_tyle, target: gd_dat}\n"))
    table = outline.table("A")
    stored = {("2023", "gd_dat"): 40, ("2023", "gd_tong"): 50, ("2024", "gd_dat"): 45, ("2024", "gd_tong"): 50}

    def numbers(row_key):
        return {c: v for (r, c), v in stored.items() if r == row_key}

    (chart,) = table_charts(table, [2023, 2024, 2025], numbers)
    assert chart.title == "Gia đình học tập"  # the value column's group
    assert chart.unit == "%"
    assert chart.points == (Point("Năm 2023", Decimal("80.00"), Decimal(40)),
                            Point("Năm 2024", Decimal("90.00"), Decimal(45)), Point("Năm 2025", None, None))


def test_a_target_beyond_the_campaign_years_is_drawn_after_them():
    from webapp.domain.charts import table_charts
    text = _outline("chart: {value: gd_tyle, target: gd_mt}\n").replace(
        "      - {key: gd_ghi, label: Ghi chú, type: text}\n",
        "      - {key: gd_ghi, label: Ghi chú, type: text}\n" + " " * 8 +
        '      - {key: gd_mt, label: Mục tiêu, type: target, unit: "%", targets: {"2025": 80, "2030": 85}}\n')
    table = read_outline(text).table("A")
    (chart,) = table_charts(table, [2024, 2025], lambda row_key: {"gd_dat": 8, "gd_tong": 10})
    assert chart.points == (Point("Năm 2024", Decimal("80.00"), None), Point("Năm 2025", Decimal("80.00"), Decimal(80)),
                            Point("Năm 2030", None, Decimal(85)))
