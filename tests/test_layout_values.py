"""The layout of a table, and reading, checking and showing values (no Flask)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from webapp.domain.layout import build_layout
from webapp.domain.outline import shipped_outline
from webapp.domain.checks import check_rules
from webapp.domain.parts import Part
from webapp.domain.values import (ValueProblem, format_number, parse_input, percent, show)

OUTLINE = shipped_outline("kl49")
YEARS = [2019, 2020, 2021, 2022, 2023]


def test_periods_come_from_the_campaign_years():
    layout = build_layout(OUTLINE.table("II.1.8"), [2024, 2025, 2026])
    assert [r.label for r in layout.rows] == ["Năm 2024", "Năm 2025", "Năm 2026"]
    assert [r.key for r in layout.rows] == ["2024", "2025", "2026"]


def test_two_level_header_with_spans_and_number_row():
    layout = build_layout(OUTLINE.table("II.1.1"), YEARS)
    block = layout.blocks[0]
    lines = block.header_lines()
    assert [(h.text, h.rowspan, h.colspan) for h in lines[0]] == [
        ("Thời gian", 2, 1), ("Cấp xã", 1, 3), ("Cấp huyện", 1, 3)]
    assert [h.text for h in lines[1]] == ["Tổng số xã", "Số xã Đạt mức độ 2", "Tỷ lệ (%)",
                                          "Tổng số huyện", "Số huyện Đạt mức độ 2", "Tỷ lệ (%)"]
    assert [h.text for h in block.numbers] == ["A", "1", "2", "3=2/1*100", "4", "5", "6=5/4*100"]
    first = layout.rows[0]
    assert first.row == block.number_row + 1 and first.cell("xa_tong").address == "B7"
    assert layout.header_row_indexes == [3, 4, 5]


def test_literacy_table_has_two_blocks_of_twelve_columns():
    layout = build_layout(OUTLINE.table("II.1.3"), YEARS)
    assert layout.width == 12 and len(layout.blocks) == 2
    second = layout.blocks[1]
    assert [(h.text, h.colspan) for h in second.header_lines()[0]][1:] == [
        ("Tổng số người được công nhận đạt chuẩn biết chữ mức độ 1", 2),
        ("Tổng số người được công nhận đạt chuẩn biết chữ mức độ 2", 2),
        ("Số người tái mù chữ", 2), ("Ghi chú", 5)]
    assert layout.find_row("2019", "tong_md1").block == 1
    assert layout.find_row("2019", "mu_chu").block == 0
    # every cell has its own address
    addresses = [c.address for c in layout.cells]
    assert len(addresses) == len(set(addresses)) == 5 * 11 + 5 * 4


def test_distance_training_is_two_figures_without_header():
    layout = build_layout(OUTLINE.table("II.1.4"), YEARS)
    assert [r.label for r in layout.rows] == ["+ Tổng số cơ sở giáo dục thực hiện đào tạo từ xa:",
                                              "+ Tổng số người được đào tạo từ xa:"]
    assert layout.blocks[0].header == [] and layout.blocks[0].number_row is None


def test_list_table_has_blank_numbered_rows():
    layout = build_layout(OUTLINE.table("I"), YEARS, list_rows=25)
    assert len(layout.rows) == 25 and layout.rows[-1].label == "25"
    assert [h.text for h in layout.blocks[0].header][:2] == ["TT", "Thể loại văn bản"]


COUNT = OUTLINE.table("II.1.5").column("xa_tong")
YESNO = OUTLINE.table("II.1.1").column("xa_dat")
DATE = OUTLINE.table("I").column("ngay_ban_hanh")
CHOICE = OUTLINE.table("I").column("the_loai")
TEXT = OUTLINE.table("I").column("trich_yeu")


@pytest.mark.parametrize("raw, expected", [
    ("125", 125), ("1.250", 1250), ("1 250 000", 1250000), (" 7 ", 7), ("0", 0), (12.0, 12), (3, 3)])
def test_counts_accepted(raw, expected):
    assert parse_input(COUNT, raw).num == expected


@pytest.mark.parametrize("raw, message", [
    ("-3", "Không được là số âm"), ("1,5", "Phải là số nguyên (không có phần thập phân)"),
    ("2.5", "Phải là số nguyên (không có phần thập phân)"), (12.5, "Phải là số nguyên (không có phần thập phân)"),
    ("mười", "Phải là một số nguyên không âm, ví dụ 125 hoặc 1.250"), ("1.25.0", "Phải là một số nguyên không âm, ví dụ 125 hoặc 1.250"),
    ("-0,5", "Không được là số âm"), ("1" + "0" * 13, "Số quá lớn")])
def test_counts_refused(raw, message):
    with pytest.raises(ValueProblem) as info:
        parse_input(COUNT, raw)
    assert str(info.value) == message


def test_empty_clears():
    assert parse_input(COUNT, "  ").empty and parse_input(YESNO, "").empty and parse_input(COUNT, None).empty


@pytest.mark.parametrize("raw, expected", [("Có", 1), ("có", 1), ("x", 1), ("Không", 0), ("khong", 0), ("0", 0), (True, 1)])
def test_yes_no(raw, expected):
    assert parse_input(YESNO, raw).num == expected


@pytest.mark.parametrize("raw", ["có lẽ", "2", "Yes please"])
def test_yes_no_refuses_anything_else(raw):
    with pytest.raises(ValueProblem, match="Chỉ nhận “Có” hoặc “Không”"):
        parse_input(YESNO, raw)


def test_dates_and_choices():
    assert parse_input(DATE, "03/05/2024").text == "2024-05-03"
    assert parse_input(DATE, "3/5/2024").text == "2024-05-03"
    assert parse_input(DATE, dt.datetime(2024, 5, 3)).text == "2024-05-03"
    for bad in ("31/02/2024", "2024/05/03x", "hôm qua"):
        with pytest.raises(ValueProblem, match="Ngày không hợp lệ"):
            parse_input(DATE, bad)
    assert parse_input(CHOICE, "kế hoạch").text == "Kế hoạch"
    with pytest.raises(ValueProblem, match="Chọn một trong: Nghị quyết, Chỉ thị"):
        parse_input(CHOICE, "Thư")


@pytest.mark.parametrize("raw", ["a\x00b", "x\x01", "\x1b[31m", "a\x7f"])
def test_control_characters_are_refused_in_every_kind(raw):
    for column in (TEXT, CHOICE, DATE, COUNT):
        with pytest.raises(ValueProblem):
            parse_input(column, raw)
    with pytest.raises(ValueProblem, match="ký tự điều khiển"):
        parse_input(TEXT, raw)


def test_tabs_and_line_breaks_inside_a_note_are_kept():
    assert parse_input(TEXT, "dòng 1\r\ndòng 2\tcột").text == "dòng 1\r\ndòng 2\tcột"


def test_vietnamese_number_style():
    assert format_number(1234) == "1.234"
    assert format_number(1234567) == "1.234.567"
    assert format_number(Decimal("59.715"), 2) == "59,72"
    assert format_number(0) == "0" and format_number(None) == ""
    assert show(YESNO, 1, None) == "Có" and show(YESNO, 0, None) == "Không" and show(YESNO, None, None) == ""
    assert show(DATE, None, "2024-05-03") == "03/05/2024"


def test_rates_round_half_away_from_zero_and_blank_without_denominator():
    assert percent(1, 800) == Decimal("0.13")  # 0.125: Python's round() would give 0.12
    assert percent(2, 3) == Decimal("66.67")
    assert percent(5, 0) is None and percent(None, 4) is None and percent(3, None) is None
    assert percent(0, 7) == Decimal("0.00")


def test_rules_judge_only_complete_pairs():
    block = OUTLINE.table("II.1.3").blocks[0]
    assert [b.message for b in check_rules(block, {"d35_tong": 10, "d35_dtts": 11})] == [
        "Số người dân tộc thiểu số (15–35 tuổi) không được lớn hơn số người từ 15 đến 35 tuổi"]
    assert check_rules(block, {"d35_tong": None, "d35_dtts": 11}) == []
    warnings = check_rules(block, {"mu_chu": 3, "huy_dong": 5}, level="warning")
    assert [b.rule.level for b in warnings] == ["warning"]
    assert check_rules(block, {"mu_chu": 3, "huy_dong": 5}, level="error") == []


def test_the_breakdown_by_unit_is_laid_out_once_for_the_sheet_and_the_page():
    from webapp.domain.layout import FIRST_TABLE_ROW, build_breakdown
    from webapp.domain.outline import Frame
    from webapp.domain.ownership import Ownership

    table = OUTLINE.table("II.1.5")
    frame = Frame(tuple(YEARS))
    units = [("Xã A", Ownership.of(table, {"xa"}, "a")), ("Huyện", Ownership.of(table, {"huyen"}, "h"))]
    sheet = build_breakdown(table, frame, units, "Toàn huyện")
    assert [p.key for p in sheet.periods] == [str(y) for y in YEARS]
    assert [(p.label, p.columns[0].col, len(p.columns)) for p in sheet.periods][:2] == [
        ("Năm 2019", 2, 9), ("Năm 2020", 11, 9)]
    assert sheet.width == 2 + 5 * 9
    top = FIRST_TABLE_ROW
    at = {(h.row, h.col): (h.text, h.rowspan, h.colspan) for h in sheet.header}
    assert at[(top, 0)] == ("STT", 3, 1) and at[(top, 1)] == ("Đơn vị", 3, 1)
    assert at[(top, 11)] == ("Năm 2020", 1, 9)
    assert at[(top + 1, 11)] == ("Công chức cấp xã", 1, 3) and at[(top + 2, 13)] == ("Tỷ lệ (%)", 1, 1)
    assert sheet.number_row == top + 3
    numbers = {h.col: h.text for h in sheet.numbers}
    assert (numbers[0], numbers[1], numbers[2], numbers[4], numbers[11], numbers[13]) == (
        "A", "B", "1", "3=2/1*100", "10", "12=11/10*100")
    assert [(r.row, r.serial, r.label) for r in sheet.rows] == [(top + 4, 1, "Xã A"), (top + 5, 2, "Huyện")]
    assert (sheet.total.row, sheet.total.label, sheet.total.is_total) == (top + 6, "Toàn huyện", True)
    xa, huyen = sheet.periods[0].columns[0], sheet.periods[0].columns[3]
    assert sheet.fills(sheet.rows[0], xa) and not sheet.fills(sheet.rows[0], huyen)
    assert sheet.fills(sheet.total, huyen)
    # the page: one period, without the period row (its own navigation names the period)
    page = build_breakdown(table, frame, units, "Toàn huyện", period="2021")
    assert [p.key for p in page.periods] == ["2021"] and page.header_rows == [top, top + 1]
    assert [[h.text for h in line] for line in page.header_lines()] == [
        ["STT", "Đơn vị", "Công chức cấp xã", "Công chức cấp huyện", "Công chức cấp tỉnh"],
        ["Tổng số", "Số được đào tạo, bồi dưỡng", "Tỷ lệ (%)"] * 3]
    part = Part(numbers={("II.1.5", "2021", "xa_tong"): 12, ("II.1.5", "2020", "xa_tong"): 5})
    assert page.numbers_of(part, page.periods[0]) == {"xa_tong": 12, "xa_dt": None, "huyen_tong": None,
                                                      "huyen_dt": None, "tinh_tong": None, "tinh_dt": None}
