"""The appendix's cover sheet: the campaign, which parts the figures count, who has submitted, where
each unit's part stands, and links to the tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ..outline import Outline
from ..values import percent
from .frame import _height, _lines, _protect
from .styles import COUNT_FORMAT, DATE_FORMAT, PERCENT_FORMAT, _Styles
from .xlsx import _merged_text, _put, percent_formula

COVER_SHEET = "Bìa"


def _write_cover(ws: Worksheet, st: _Styles, outline: Outline, years: list[int], cover: dict[str, Any]) -> None:
    """The cover from the ``cover`` keys of write_appendix; besides those it lists, ``basis`` (str: the
    Basis sentence, which parts are counted of how many units) and ``units`` (list of (unit name,
    its part's status as shown, whether the figures count it))."""
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 70)
    big = st.get(bold=True, font_size=14, align="center", text_wrap=True)
    _merged_text(ws, 0, 0, 1, outline.title, big)
    ws.set_row(0, _height(2) + 6)
    subtitle = cover.get("subtitle", outline.subtitle)
    if subtitle:
        _merged_text(ws, 1, 0, 1, subtitle, st.get(italic=True, align="center", text_wrap=True))
    key_fmt = st.get(bold=True, border=1, text_wrap=True)
    val_fmt = st.get(border=1, text_wrap=True, align="left")
    row = 3
    period = f"Năm {years[0]} – Năm {years[-1]}" if years else ""
    info = [
        ("Đợt báo cáo", cover.get("campaign_name")),
        ("Mã đợt báo cáo", cover.get("campaign_code")),
        ("Đơn vị tổng hợp", cover.get("compiler")),
        ("Thời kỳ báo cáo", period),
        ("Hạn nộp của các đơn vị", cover.get("deadline")),
        ("Thời điểm xuất sổ tính", cover.get("generated_at")),
        ("Đề cương", f"{outline.code} phiên bản {outline.version}"),
    ]
    for label, value in info:
        if value in (None, ""):
            continue
        ws.write_string(row, 0, label, key_fmt)
        fmt = val_fmt
        if isinstance(value, dt.datetime):
            fmt = st.get(border=1, align="left", num_format="dd/mm/yyyy hh:mm")
        elif isinstance(value, dt.date):
            fmt = st.get(border=1, align="left", num_format=DATE_FORMAT)
        _put(ws, row, 1, 1, fmt, value if isinstance(value, (dt.date, str)) else str(value))
        row += 1
    basis = cover.get("basis")
    if basis:  # which parts the figures count, of how many units
        row += 1
        _merged_text(ws, row, 0, 1, basis, st.get(bold=True, text_wrap=True))
        ws.set_row(row, _height(_lines(basis, 104, bold=True)))
        row += 1

    row += 1
    ws.write_string(row, 0, "TÌNH HÌNH NỘP BÁO CÁO", st.get(bold=True))
    row += 1
    total, done = cover.get("units_total"), cover.get("units_submitted")
    num_fmt = st.get(border=1, align="left", num_format=COUNT_FORMAT)
    ws.write_string(row, 0, "Số đơn vị phải báo cáo", key_fmt)
    _put(ws, row, 1, 1, num_fmt, total)
    ws.write_string(row + 1, 0, "Số đơn vị đã nộp", key_fmt)
    _put(ws, row + 1, 1, 1, num_fmt, done)
    ws.write_string(row + 2, 0, "Tỷ lệ đã nộp (%)", key_fmt)
    _put(ws, row + 2, 1, 1, st.get(border=1, align="left", num_format=PERCENT_FORMAT), percent(done, total),
         percent_formula(xl_rowcol_to_cell(row + 1, 1), xl_rowcol_to_cell(row, 1)))
    row += 4
    missing = list(cover.get("missing_units") or [])
    ws.write_string(row, 0, f"Đơn vị chưa nộp ({len(missing)})", st.get(bold=True))
    row += 1
    for i, name in enumerate(missing, 1):
        ws.flush_rows(row)  # a province's units: the rows above are done
        ws.write_string(row, 1, f"{i}. {name}", st.get(text_wrap=True))
        row += 1
    if not missing:
        ws.write_string(row, 1, "(Tất cả các đơn vị đã nộp)", st.get(italic=True))
        row += 1
    units = list(cover.get("units") or [])
    if units:
        row += 1
        ws.write_string(row, 0, "PHẦN SỐ LIỆU CỦA TỪNG ĐƠN VỊ", st.get(bold=True))
        row += 1
        for i, (name, status, counted) in enumerate(units, 1):
            ws.flush_rows(row)
            ws.write_string(row, 0, f"{i}. {name}", val_fmt)
            ws.write_string(row, 1, f"{status} — {'được tính' if counted else 'không tính'}",
                            val_fmt if counted else st.get(border=1, text_wrap=True, align="left", italic=True))
            ws.set_row(row, _height(_lines(f"{i}. {name}", 34)))
            row += 1

    row += 1
    ws.write_string(row, 0, "CÁC BIỂU TRONG SỔ TÍNH", st.get(bold=True))
    row += 1
    link = st.get(font_color="blue", underline=1, border=1)
    for table in outline.tables:
        ws.write_url(row, 0, f"internal:'{table.sheet}'!A1", link, table.sheet)
        ws.write_string(row, 1, table.title, val_fmt)
        ws.set_row(row, _height(_lines(table.title, 70)))
        row += 1
    ws.set_paper(9)
    ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.hide_gridlines(2)
    _protect(ws)
