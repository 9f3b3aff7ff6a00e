"""The charts a table asks for (outline key ``chart``), as native Excel charts under the table.

Each chart reads the sheet's own cells (the row labels, the value column, the target column), so
a figure corrected in the workbook moves its bar; the page draws the same chart as SVG
(domain/charts.py), with the same title.
"""

from __future__ import annotations

from xlsxwriter.utility import xl_range_abs
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..charts import BAR_COLOUR, TARGET_COLOUR, TARGET_LABEL, VALUE_LABEL, chart_title, unit_of
from ..layout import Layout
from .styles import FONT

CHART_WIDTH, CHART_HEIGHT = 480, 288  # pixels: about 15 rows of the sheet
CHART_ROWS = 16  # rows a chart takes, with one of air below it


def write_charts(wb: Workbook, ws: Worksheet, layout: Layout, sheet: str, first_row: int | None = None) -> int:
    """Insert ``layout``'s table's charts one under another below the table (from ``first_row``, by
    default the second row under it); the last row they take (the row above ``first_row`` when the
    table asks for none)."""
    table = layout.table
    start = row = layout.last_row + 2 if first_row is None else first_row
    for spec in table.charts:
        lrows = [r for r in layout.rows if any(c.column.key == spec.value for c in r.cells)]
        if not lrows:
            continue
        first, last = lrows[0], lrows[-1]
        value_col = first.cell(spec.value).col
        label_col = min(c.col for c in first.cells) - 1  # the row labels sit just left of the first cell
        categories = f"='{sheet}'!{xl_range_abs(first.row, label_col, last.row, label_col)}"
        column = table.column(spec.value)
        percent = unit_of(column) == "%"
        bars = wb.add_chart({"type": "column"})
        bars.add_series({
            "name": VALUE_LABEL, "categories": categories,
            "values": f"='{sheet}'!{xl_range_abs(first.row, value_col, last.row, value_col)}",
            "fill": {"color": BAR_COLOUR}, "gap": 80,
            "data_labels": {"value": True, "num_format": "0.0#", "font": {"name": FONT}},
        })
        if spec.target:
            target_col = first.cell(spec.target).col
            targets = wb.add_chart({"type": "line"})
            targets.add_series({
                "name": TARGET_LABEL, "categories": categories,
                "values": f"='{sheet}'!{xl_range_abs(first.row, target_col, last.row, target_col)}",
                "line": {"none": True},
                "marker": {"type": "dash", "size": 14, "fill": {"color": TARGET_COLOUR},
                           "border": {"color": TARGET_COLOUR}},
                "data_labels": {"value": True, "position": "right", "num_format": "0.0#",
                                "font": {"color": TARGET_COLOUR, "name": FONT}},
            })
            bars.combine(targets)
        bars.set_title({"name": chart_title(table, spec), "name_font": {"size": 11, "bold": True, "name": FONT}})
        bars.set_y_axis({"min": 0, **({"max": 100} if percent else {}), "num_format": "0",
                         "major_gridlines": {"visible": True, "line": {"color": "#D5DBE1"}},
                         "num_font": {"name": FONT}, "name_font": {"name": FONT},
                         **({"name": "%"} if percent else {})})
        bars.set_x_axis({"num_font": {"name": FONT}})
        bars.set_legend({"position": "bottom", "font": {"name": FONT}})
        bars.show_blanks_as("gap")
        bars.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
        ws.insert_chart(row, max(label_col, 0), bars, {"object_position": 1})
        row += CHART_ROWS
    if row == start:  # no chart
        return layout.last_row if first_row is None else first_row - 1
    return row - 1
