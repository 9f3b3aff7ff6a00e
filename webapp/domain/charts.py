"""A chart of one indicator against its target, drawn on the server as SVG.

The appendix page shows it inline: no script, no library, readable on a 360-pixel phone (the
drawing has a viewBox and scales to the width of the page). The years' values are bars, the target
of a year is a dashed line across its bar with its value; a year with a target and no value yet (2030
in a 2021–2025 campaign) keeps its place with the target alone. The same chart is in the assembled
workbook as a native Excel chart (domain/workbook/charts.py), drawn from the sheet's cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Callable

from .outline import ChartSpec, Column, Table
from .columns import format_number, row_values

WIDTH, HEIGHT = 360, 240
LEFT, RIGHT, BOTTOM = 44, 10, 26  # the plot's margins: tick labels, air, year labels
TITLE_CHARS = 46  # characters of a title line at 13 px on 360 px
NO_DATA = "Chưa có số liệu"
VALUE_LABEL, TARGET_LABEL = "Thực hiện", "Mục tiêu"
BAR_COLOUR, TARGET_COLOUR, GRID_COLOUR, INK = "#2f6f9f", "#c2410c", "#d5dbe1", "#1f2933"


@dataclass(frozen=True)
class Point:
    """One row of the table on the chart: its label, the achieved value, the target (None: none)."""

    label: str
    value: Decimal | None
    target: Decimal | None = None


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str  # printed after every number: "%" gives "80,5 %"; "" for counts
    points: tuple[Point, ...]


def number_text(value: Decimal | int | None, unit: str = "") -> str:
    """A value in Vietnamese style without useless zeros: 80,5 % · 82 % · 371.097."""
    if value is None:
        return ""
    text = format_number(value, 2)
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return f"{text} {unit}" if unit else text


def chart_svg(chart: Chart, ident: str) -> str:
    """The chart as an ``<svg>`` element; ``ident`` makes its title and description ids unique on a page."""
    slug = "chart-" + re.sub(r"[^A-Za-z0-9_-]", "-", ident)
    title_lines = _wrapped(chart.title, TITLE_CHARS)[:3]
    top = 16 + 16 * len(title_lines) + 18  # title lines, then the legend line
    plot_bottom = HEIGHT - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    numbers = [v for p in chart.points for v in (p.value, p.target) if v is not None]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'class="chart" aria-labelledby="{slug}-title {slug}-desc" font-family="sans-serif">',
        f'<title id="{slug}-title">{escape(chart.title)}</title>',
        f'<desc id="{slug}-desc">{escape(_description(chart))}</desc>',
    ]
    for i, line in enumerate(title_lines):
        parts.append(_text(WIDTH / 2, 16 + 16 * i, line, size=13, anchor="middle", weight="bold"))
    legend_y = top - 8
    parts.append(f'<rect x="{LEFT}" y="{legend_y - 9}" width="12" height="10" fill="{BAR_COLOUR}"/>')
    parts.append(_text(LEFT + 16, legend_y, VALUE_LABEL, size=11))
    if any(p.target is not None for p in chart.points):
        parts.append(f'<line x1="{LEFT + 96}" y1="{legend_y - 4}" x2="{LEFT + 118}" y2="{legend_y - 4}" '
                     f'stroke="{TARGET_COLOUR}" stroke-width="2" stroke-dasharray="5 3"/>')
        parts.append(_text(LEFT + 122, legend_y, TARGET_LABEL, size=11))
    plot_top = top + 8
    if not chart.points or not numbers:
        parts.append(f'<rect x="{LEFT}" y="{plot_top}" width="{plot_width}" height="{plot_bottom - plot_top}" '
                     f'fill="none" stroke="{GRID_COLOUR}"/>')
        parts.append(_text(WIDTH / 2, (plot_top + plot_bottom) / 2, NO_DATA, size=12, anchor="middle"))
        parts.append("</svg>")
        return "".join(parts)

    ceiling, step = _scale(max(numbers), chart.unit)
    scale = (plot_bottom - plot_top) / float(ceiling)

    def y_of(value: Decimal) -> float:
        return round(plot_bottom - float(max(value, Decimal(0))) * scale, 1)

    tick = Decimal(0)
    while tick <= ceiling:
        y = y_of(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="{GRID_COLOUR}"/>')
        parts.append(_text(LEFT - 4, y + 4, number_text(tick, chart.unit), size=10, anchor="end"))
        tick += step
    slot = plot_width / len(chart.points)
    size = 10 if slot >= 44 else 8
    bar = min(slot * 0.6, 48)
    for i, point in enumerate(chart.points):
        middle = round(LEFT + slot * i + slot / 2, 1)
        parts.append(_text(middle, plot_bottom + 16, _fitted(point.label, slot), size=size, anchor="middle"))
        value_top = None
        if point.value is not None:
            value_top = y_of(point.value)
            parts.append(f'<rect class="bar" x="{round(middle - bar / 2, 1)}" y="{value_top}" width="{round(bar, 1)}" '
                         f'height="{round(plot_bottom - value_top, 1)}" fill="{BAR_COLOUR}"/>')
            parts.append(_text(middle, value_top - 4, number_text(point.value, chart.unit), size=size,
                               anchor="middle"))
        if point.target is not None:
            y = y_of(point.target)
            half = min(slot * 0.45, 30)
            parts.append(f'<line class="target" x1="{round(middle - half, 1)}" y1="{y}" x2="{round(middle + half, 1)}" '
                         f'y2="{y}" stroke="{TARGET_COLOUR}" stroke-width="2.5" stroke-dasharray="5 3"/>')
            # below the line when the value's own label sits just above it
            below = value_top is not None and abs(value_top - y) < 14 and y + 14 < plot_bottom
            parts.append(_text(middle, y + 13 if below else y - 4, number_text(point.target, chart.unit),
                               size=size, anchor="middle", colour=TARGET_COLOUR, cls="target-label"))
    parts.append(f'<line x1="{LEFT}" y1="{plot_bottom}" x2="{WIDTH - RIGHT}" y2="{plot_bottom}" stroke="{INK}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _description(chart: Chart) -> str:
    """Every value and target in words, for a screen reader and for whoever cannot see the colours."""
    if not any(p.value is not None or p.target is not None for p in chart.points):
        return f"{NO_DATA}."
    items = []
    for p in chart.points:
        said = number_text(p.value, chart.unit) if p.value is not None else "chưa có số liệu"
        if p.target is not None:
            said += f", mục tiêu {number_text(p.target, chart.unit)}"
        items.append(f"{p.label}: {said}")
    return "; ".join(items) + "."


def _scale(largest: Decimal, unit: str) -> tuple[Decimal, Decimal]:
    """The top of the axis and the step between gridlines: 0–100 for rates, a round ceiling otherwise."""
    if unit == "%" and largest <= 100:
        return Decimal(100), Decimal(25)
    if largest <= 0:
        return Decimal(1), Decimal(1)
    raw = largest / 4
    magnitude = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal("0.1")
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        step = magnitude * factor
        if step * 4 >= largest:
            return step * 4, step
    return magnitude * 40, magnitude * 10


def _wrapped(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _fitted(label: str, slot: float) -> str:
    """A row label that fits its slot: "Năm 2016" becomes "2016" when ten years share 360 px."""
    fits = lambda text: len(text) * 6 <= slot  # noqa: E731 (about 6 px a character at 10 px)
    if fits(label):
        return label
    short = re.sub(r"^(Năm|năm)\s+", "", label)
    if fits(short):
        return short
    keep = max(int(slot // 6) - 1, 1)
    return short[:keep] + "…"


def _text(x: float, y: float, text: str, size: int, anchor: str = "start", weight: str | None = None,
          colour: str = INK, cls: str | None = None) -> str:
    extra = f' font-weight="{weight}"' if weight else ""
    extra += f' class="{cls}"' if cls else ""
    if colour != INK:  # a white halo keeps a coloured label legible over a bar
        extra += ' stroke="#fff" stroke-width="3" paint-order="stroke"'

    return (f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" fill="{colour}"{extra}>'
            f"{escape(text)}</text>")


def table_charts(table: Table, years: list[int], row_numbers: Callable[[str], dict],
                 unit_kind: str | None = None) -> list[Chart]:
    """The charts ``table`` asks for, from the stored numbers of each row (``row_numbers(row key)``:
    an assembled or a unit's row), in the order of the outline. ``unit_kind``: the compiling unit's
    kind, which chooses targets given per level (``by_kind``). A target the outline gives for a year
    beyond the rows (2030 in a 2021–2025 campaign) is drawn after them, alone."""
    charts = []
    for spec in table.charts:
        column = table.column(spec.value)
        block = table.block_of(spec.value)
        points = []
        for row in block.row_specs(years):
            values = row_values(block.columns, row_numbers(row.key), row.key, unit_kind)
            points.append(Point(row.label, _decimal(values.get(spec.value)),
                                _decimal(values.get(spec.target)) if spec.target else None))
        if spec.target and block.rows == "periods":
            target = table.column(spec.target)
            shown = {str(y) for y in years}
            for key in sorted({k for _, given in target.targets for k, _ in given} - shown):
                value = target.kind.constant(key, unit_kind)
                if key.isdigit() and int(key) > max(years, default=0) and value is not None:
                    points.append(Point(block.row_specs([int(key)])[0].label, None, _decimal(value)))
        charts.append(Chart(title=chart_title(table, spec), unit=unit_of(column), points=tuple(points)))
    return charts


def chart_title(table: Table, spec: ChartSpec) -> str:
    """The outline's ``title``, else the value column's group label ("Gia đình học tập"), else its label."""
    column = table.column(spec.value)
    return spec.title or column.group_label or column.label


def unit_of(column: Column) -> str:
    """The unit printed after the column's numbers on a chart: its ``unit``; "%" for a rate."""
    return column.unit or ("%" if column.type == "percent" else "")


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value)
