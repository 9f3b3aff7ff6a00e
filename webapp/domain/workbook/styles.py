"""The workbooks' look: font, number formats, fills, row and page measures, and the formats made of them."""

from __future__ import annotations

from typing import Any

import xlsxwriter
from xlsxwriter.format import Format

from ..outline import Column

FONT = "Times New Roman"
COUNT_FORMAT, PERCENT_FORMAT, DATE_FORMAT = "#,##0", "0.00", "dd/mm/yyyy"
INPUT_FILL = "#FFF7D6"  # the unit's own input cells: visibly "fill me"
OTHER_FILL = "#EFEFEF"  # cells of other units: visibly "not yours"
LINE_HEIGHT = 14.0  # points per line of 11 pt Times New Roman, with a little room
PAGE_PIXELS = 1000  # printable width of A4 landscape at 100 % (narrow margins), in screen pixels
MIN_PRINT_SCALE = 70  # below this a printed 11 pt table is hard to read
MIN_TABLE_WIDTH = 90  # characters
INFERRED_MARK = "*"  # after a header reconstructed from a damaged seed (as the web page marks it)


class _Styles:
    """The workbook's formats, created once each (an XlsxWriter format belongs to one workbook)."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self._cache: dict[tuple, Format] = {}

    def get(self, **props: Any) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format({"font_name": FONT, "font_size": 11, "valign": "vcenter", **props})
        return self._cache[key]

    def title(self) -> Format:
        return self.get(bold=True, font_size=12, text_wrap=True, valign="top")

    def context(self) -> Format:
        return self.get(bold=True, italic=True, text_wrap=True, valign="top")

    def header(self) -> Format:
        return self.get(bold=True, text_wrap=True, align="center", border=1)

    def numbering(self) -> Format:
        return self.get(italic=True, font_size=10, align="center", border=1, shrink=True)

    def label(self, left: bool = False) -> Format:
        return self.get(border=1, text_wrap=True, **({"align": "left", "indent": 1} if left else {"align": "center"}))

    def body(self, column: Column | None, locked: bool = True, fill: str | None = None,
             as_text: bool = False) -> Format:
        """The format of a body cell of ``column``; ``as_text`` for yes/no shown as Có/Không."""
        kind = column.kind if column is not None else None
        key = ("body", kind and kind.name, kind and kind.decimals, locked, fill, as_text)  # asked for every cell
        if key not in self._cache:
            props: dict[str, Any] = {"border": 1}
            props.update(kind.excel_format(as_text) if kind else {"num_format": COUNT_FORMAT, "align": "center"})
            if not locked:
                props["locked"] = False
            if fill:
                props.update(bg_color=fill, pattern=1)
            self._cache[key] = self.get(**props)
        return self._cache[key]
