"""The compiler's desk: the assembled appendix with drill-down, the breakdown by unit, completeness.

Every view here is for the compiler and the administrator. Fragments for htmx are the same
templates the full pages include, so each link also works as a plain link without JavaScript.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, current_app, Response, abort, redirect, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup

from ..domain.assembly import assemble, count_basis, unit_parts
from ..domain.charts import chart_svg, table_charts
from ..domain.layout import build_layout
from ..domain.values import assembled_text as assembled_cell_text, row_noun, show
from ..entry.routes import get_table, staff_campaign
from ..extensions import db, htmx
from ..models import Campaign
from ..quality import LEVEL_NAMES, QUALITY_COLUMNS, SORT_KEYS, quality_lines, quality_table, quality_xlsx, sorted_lines
from ..templating import days_left
from ..nesting import feeds
from ..workflow import STATUS_NAMES, campaign_today
from ..xlsx.routes import XLSX
from .counted import CHOICES, counted_arg, parts_arg, with_parts
from .forms import ActionForm, DecideForm
from .listing import NOT_DONE, PER_PAGE, UnitPage as ListPage, UnitQuery, breakdown_page, dashboard_page, parents
from .service import breakdown_tables_of, cell_breakdown, completeness, number_groups, total_label, unit_breakdown

bp = Blueprint("review", __name__)


@bp.route("/campaigns/<code>/appendix")
@login_required
def appendix(code: str):
    """The whole assembled appendix in the printed layout, of the parts chosen (?parts=), saying
    which and how many units; every number opens its breakdown."""
    campaign = staff_campaign(code)
    counted = counted_arg()
    outline = campaign.outline
    part = assemble(db.session, campaign.id, outline, campaign.frame, counted=counted, note_lines=NOTE_LINES,
                    list_rows=LIST_PREVIEW)
    tables = []
    for table in outline.tables:
        rows = part.lists.get(table.code, []) if table.is_list else None
        layout = build_layout(table, campaign.frame, list_rows=len(rows) if rows is not None else 0)
        tables.append((table, layout, rows))
    list_sizes = {code: len(rows) + part.rows_left.get(code, 0) for code, rows in part.lists.items()}

    def charts(table):
        """The table's charts as inline SVG (none unless the outline asks for them)."""
        drawn = table_charts(table, campaign.years, lambda row_key: part.row_numbers(table.code, row_key),
                             campaign.compiler_kind)
        return [Markup(chart_svg(chart, f"{table.code}-{i}")) for i, chart in enumerate(drawn)]

    broken_down = {t.code for t in breakdown_tables_of(db.session, campaign)}
    return render_template("review/appendix.html", campaign=campaign, tables=tables, part=part, broken_down=broken_down,
                           cell_text=page_cell_text, unit_kind=campaign.compiler_kind, charts=charts,
                           list_sizes=list_sizes,
                           days_left=days_left(campaign.deadline), **counted_context(campaign, counted))


# The appendix page is the same size whatever the number of units: the first rows of a list and
# the first notes of a cell, the rest behind a link (the list's pages, the cell's drill-down).
LIST_PREVIEW = 20
NOTE_LINES = 3


def page_cell_text(table, column, part, row_key: str, unit_kind: str | None = None) -> str:
    """An assembled cell as the appendix page shows it: notes cut to their first NOTE_LINES lines (the
    assembly reads no more of them: Part.notes_left counts the others)."""
    text = assembled_cell_text(table, column, part, row_key, unit_kind)
    if column.is_numeric:
        return text
    lines = text.split("\n")
    left = len(lines[NOTE_LINES:]) + part.notes_left.get((table.code, row_key, column.key), 0)
    if not left:
        return text
    return "\n".join(lines[:NOTE_LINES]) + f"\n… và {left} ghi chú khác"


@bp.route("/campaigns/<code>/appendix/<table_code>/cell")
@login_required
def cell(code: str, table_code: str):
    """Which unit entered what in one assembled cell, and which owning units have not yet; the total
    of the parts chosen (?parts=), the others marked."""
    campaign = staff_campaign(code)
    counted = counted_arg()
    table = get_table(campaign, table_code)
    if table.is_list:  # a list's drill-down: all its rows, a page at a time
        return list_rows_page(campaign, table, counted)
    row_key, col_key = request.args.get("row", ""), request.args.get("col", "")
    layout = build_layout(table, campaign.frame)
    try:
        lrow = layout.find_row(row_key, col_key)
    except KeyError:
        abort(404)
    column = table.column(col_key)
    if not (column.is_input or column.kind.summed):  # a rate is recomputed from the sums, a target fixed
        abort(404)
    breakdown = cell_breakdown(db.session, campaign, table, row_key, lrow.label, col_key, counted)
    template = "review/_drill.html" if htmx else "review/drill.html"
    return render_template(template, campaign=campaign, b=breakdown, counted=counted, parts=parts_arg(counted),
                           basis=breakdown.basis)


def list_rows_page(campaign, table, counted):
    """Every row of an assembled list table (table I), a page at a time."""
    part = assemble(db.session, campaign.id, campaign.outline, campaign.frame, table_code=table.code, counted=counted)
    rows = part.lists.get(table.code, [])
    query = UnitQuery.of(request.args)
    page = ListPage(rows[(query.page - 1) * PER_PAGE:query.page * PER_PAGE], len(rows), query)
    return render_template("review/list.html", campaign=campaign, table=table, rows=page.units, page=page,
                           pager_endpoint="review.cell",
                           pager_args={"code": campaign.code, "table_code": table.code, "parts": parts_arg(counted)},
                           **counted_context(campaign, counted))


SORT_ORDERS = ("asc", "desc")


@bp.route("/campaigns/<code>/breakdown")
@login_required
def breakdown_first(code: str):
    """The breakdown tab: the first table of the outline that has numbers by unit."""
    campaign = staff_campaign(code)
    counted = counted_arg()
    first = next(iter(breakdown_tables_of(db.session, campaign)), None)
    if first is None:  # lists, unit rows or tables one unit fills only: nothing to break down by unit
        abort(404)
    return redirect(url_for("review.breakdown", code=campaign.code, table_code=first.code, parts=parts_arg(counted)))


@bp.route("/campaigns/<code>/breakdown/<table_code>")
@login_required
def breakdown(code: str, table_code: str):
    """One row per counted unit (?parts=), with where its part stands, and a total row for one period
    of a table, sortable by unit or by a column."""
    campaign = staff_campaign(code)
    counted = counted_arg()
    table = get_table(campaign, table_code)
    tables = breakdown_tables_of(db.session, campaign)
    if table not in tables:  # a list, a table of unit rows (its own breakdown) or one a single unit fills
        abort(404)
    periods = [(r.key, r.label) for r in build_layout(table, campaign.frame).rows]
    periods = list(dict(periods).items())  # a row key repeats across blocks (table 1.3)
    row_key = request.args.get("row", periods[0][0])
    if row_key not in dict(periods):
        abort(404)
    numbers = number_groups(table)  # a unit asked only for a note has no row here
    layout_columns = [c.key for c in table.columns]
    query = UnitQuery.of(request.args, sorts=("unit", "name", *layout_columns), default_sort="unit")
    page = breakdown_page(db.session, campaign, table, row_key, numbers, counted, query, layout_columns)
    state = completeness(db.session, campaign, page.units)
    units = [(u.unit, u.tables[table.code].groups) for u in state.units]
    parts = unit_parts(db.session, campaign.id, campaign.outline, campaign.frame, table_code=table.code,
                       counted=counted, unit_ids=[unit.id for unit, _ in units])  # the page's units only
    total = assemble(db.session, campaign.id, campaign.outline, campaign.frame, table_code=table.code,
                     counted=counted)
    layout, rows, total_row = unit_breakdown(table, campaign.frame, row_key, units, parts, total,
                                             total_label(campaign), campaign.compiler_kind)
    columns = [b.column for b in layout.columns]
    sort, order = query.sort, query.order
    if sort not in ("unit", "name") and sort not in [c.key for c in columns]:
        sort = "unit"
    context = dict(campaign=campaign, table=table, periods=periods, row_key=row_key, columns=columns,
                   header_lines=layout.header_lines(),
                   rows_label="Thời gian" if all(b.rows == "periods" for b in table.blocks) else "Dòng",
                   rows=rows, total_row=total_row, sort=sort, order=order, page=page, q=query,
                   filters={k: v for k, v in query.args.items() if k not in ("sort", "order")},
                   parents=parents(db.session, campaign), status_filters=STATUS_FILTER_NAMES,
                   tables=tables,
                   statuses={u.unit.id: u.status for u in state.units}, **counted_context(campaign, counted))
    if htmx:
        return render_template("review/_breakdown_table.html", **context)
    return render_template("review/breakdown.html", **context)


@bp.route("/campaigns/<code>/quality")
@bp.route("/campaigns/<code>/quality.<fmt>")
@login_required
def quality(code: str, fmt: str | None = None):
    """Every error and warning of the campaign's stored values across all units, and whether the
    unit confirmed it: sortable by column (?sort=&order=), of one level (?level=), as .xlsx or .csv."""
    campaign = staff_campaign(code)
    if fmt not in (None, "xlsx", "csv"):
        abort(404)
    sort, order = request.args.get("sort", "unit"), request.args.get("order", "asc")
    sort = sort if sort in SORT_KEYS else "unit"
    order = order if order in SORT_ORDERS else "asc"
    level = request.args.get("level")
    level = level if level in LEVEL_NAMES else None
    lines = sorted_lines(quality_lines(db.session, campaign), [t.code for t in campaign.outline.tables],
                         sort, order == "desc", level)
    if fmt is not None:
        rows = quality_table(lines)
        filename = f"chat-luong-{campaign.code}.{fmt}"
        if fmt == "csv":
            out = io.StringIO()
            csv.writer(out).writerows([csv_cell(v) for v in row] for row in rows)
            return Response("\ufeff" + out.getvalue(), mimetype="text/csv",  # BOM: Excel reads it as UTF-8
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
        return Response(quality_xlsx(rows), mimetype=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return render_template("review/quality.html", campaign=campaign, lines=lines, sort=sort, order=order,
                           level=level, columns=QUALITY_COLUMNS, level_names=LEVEL_NAMES)


@bp.route("/campaigns/<code>/dashboard")
@login_required
def dashboard(code: str):
    """A page of units × tables with their state and progress, filtered (?status=, ?parent=, ?name=)
    and sorted (?sort=, ?order=) in SQL; the counts by status over every unit; who has not handed in
    on this page, with contacts (all of them: the CSV)."""
    campaign = staff_campaign(code)
    query = UnitQuery.of(request.args)
    page = dashboard_page(db.session, campaign, query)
    return render_template("review/dashboard.html", campaign=campaign, c=completeness(db.session, campaign, page.units),
                           page=page, q=query, parents=parents(db.session, campaign),
                           table_counts=page.table_counts, status_filters=STATUS_FILTER_NAMES,
                           days_left=days_left(campaign.deadline), today=campaign_today(),
                           decide_form=DecideForm(), action_form=ActionForm(), feeds=feeds(db.session, campaign))


STATUS_FILTER_NAMES = {**STATUS_NAMES, NOT_DONE: "Chưa nộp (mọi tình trạng)"}
CSV_BATCH = 500  # units read at a time for the CSV of units not done


@bp.route("/campaigns/<code>/dashboard/chua-xong.csv")
@login_required
def not_done_csv(code: str):
    """The units that have not completed their part, with their contacts, for calling them: every one
    of them, streamed a batch of units at a time."""
    campaign_id = staff_campaign(code).id
    today = campaign_today()
    app = current_app._get_current_object()

    def lines():
        # each batch in an app context (its own session: the request's is closed once the response is
        # returned) entered and left between two yields, so that a download dropped midway, closed by
        # the garbage collector elsewhere, leaves no context to pop
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["Mã đơn vị", "Tên đơn vị", "Tình trạng", "Số ô đã nhập", "Số ô yêu cầu", "Tài khoản", "Điện thoại"])
        yield "\ufeff" + out.getvalue()  # BOM: Excel reads it as UTF-8
        number, more = 1, True
        while more:
            with app.app_context():
                text, more = batch(db.session, db.session.get(Campaign, campaign_id), number)
            yield text
            number += 1

    def batch(session, campaign, number: int) -> tuple[str, bool]:
        """The CSV lines of the ``number``th batch of units not done, and whether more batches follow."""
        page = dashboard_page(session, campaign, UnitQuery(status=NOT_DONE, page=number, per_page=CSV_BATCH),
                              with_counts=False)
        out = io.StringIO()
        writer = csv.writer(out)
        for u in completeness(session, campaign, page.units).not_done:
            status = STATUS_NAMES[u.status] + (" – quá hạn" if u.late(campaign, today) else "")
            writer.writerow([csv_cell(v) for v in (u.unit.code, u.unit.name, status, u.filled, u.expected,
                                                    " ".join(u.clerks), u.unit.phone or "")])
        return out.getvalue(), number < page.pages

    filename = f"chua-xong-{code}.csv"
    return Response(lines(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell that a spreadsheet program opens as text, never as a formula (OWASP's "CSV
    injection"): text starting with = + - @, a tab or a carriage return gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def drill_url(campaign, table, row_key: str, col_key: str, parts: str | None = None) -> str:
    return url_for("review.cell", code=campaign.code, table_code=table.code, row=row_key, col=col_key, parts=parts)


def counted_context(campaign, counted) -> dict:
    """What a page of the chosen parts shows and links with: the choice, its ``parts`` link value and
    the Basis sentence's figures."""
    return {"counted": counted, "parts": parts_arg(counted), "basis": count_basis(db.session, campaign.id, counted)}


@bp.app_context_processor
def review_helpers():
    return {"drill_url": drill_url, "show_value": lambda column, text: show(column, None, text), "row_noun": row_noun,
            "counted_choices": CHOICES, "with_parts": with_parts}


from . import decisions  # noqa: E402,F401  (the compiler's decisions and the audit views join this blueprint)
