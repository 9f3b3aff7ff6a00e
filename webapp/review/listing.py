"""The compiler's lists of units, paged, filtered and sorted in the database.

The dashboard (units × tables) and the breakdown by unit list a page of units at a time: which units,
how many in all, and the counts by status are SQL (LIMIT/OFFSET, GROUP BY), so that a page of a
campaign of 10,000 communes costs what a page of 16 does. Only the page's units are then read in
full (service.completeness, assembly.unit_parts). No Flask here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from ..dialect import whole_scans
from ..domain.assembly import owned_numbers
from ..domain.outline import Table
from ..domain.parts import Counted
from .service import completeness
from ..models import PART_ACCEPTED, PART_OPEN, PART_SUBMITTED, Assignment, Campaign, CampaignUnit, CellValue, ListRow, Unit

PER_PAGE = 50
NOT_DONE = "not_done"  # the status filter of every unit not handed in (todo, part, returned)
STATUS_FILTERS = ("todo", "part", "returned", PART_SUBMITTED, PART_ACCEPTED, NOT_DONE)
DASHBOARD_SORTS = ("order", "name", "status", "progress")


@dataclass(frozen=True)
class UnitQuery:
    """What the address asks of a list of units: ``status`` (STATUS_FILTERS), ``parent`` (a unit
    code), ``name`` (a part of the name), ``sort`` and ``order``, the ``page`` (from 1)."""

    status: str | None = None
    parent: str | None = None
    name: str = ""
    sort: str = "order"
    order: str = "asc"
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def of(cls, args, sorts: Sequence[str] = DASHBOARD_SORTS, default_sort: str = "order") -> UnitQuery:
        """From a request's arguments (a MultiDict); anything unknown falls back to the default."""
        status = args.get("status") or None
        sort = args.get("sort", default_sort)
        try:
            page = max(1, int(args.get("page", 1)))
        except ValueError:
            page = 1
        return cls(status=status if status in STATUS_FILTERS else None, parent=args.get("parent") or None,
                   name=" ".join(args.get("name", "").split())[:100],
                   sort=sort if sort in sorts else default_sort,
                   order="desc" if args.get("order") == "desc" else "asc", page=page)

    @property
    def args(self) -> dict[str, object]:
        """The filters and sort as link parameters (the defaults left out), without the page."""
        out = {"status": self.status, "parent": self.parent, "name": self.name or None,
               "sort": None if self.sort == "order" else self.sort, "order": None if self.order == "asc" else self.order}
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class UnitPage:
    units: list[Unit]
    total: int  # units matching the filters
    query: UnitQuery
    counts: dict[str, int] = field(default_factory=dict)  # every unit of the campaign by status
    done: int = 0  # units that have filled every expected cell
    not_started: int = 0  # units with cells expected and nothing entered
    all_units: int = 0
    table_counts: dict[str, tuple[int, int, int | None]] = field(default_factory=dict)  # campaign_counts

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))

    @property
    def first(self) -> int:
        """The position of the page's first unit in the whole list (from 1)."""
        return (self.query.page - 1) * self.query.per_page + 1

    @property
    def not_done(self) -> int:
        return sum(self.counts.get(s, 0) for s in ("todo", "part", "returned"))


def _expected_case(campaign: Campaign):
    """The number of expected cells of one assignment (table, group), from the outline."""
    whens = []
    frame = campaign.frame
    for table in campaign.outline.tables:
        if table.is_list:
            continue
        for group_key, _ in table.groups:
            n = table.expected_inputs({group_key}, frame)
            if n:
                whens.append((and_(Assignment.table_code == table.code, Assignment.group_key == group_key), n))
    return case(*whens, else_=0) if whens else literal(0)


def _not_started(expected, filled, rows):
    """Cells expected and nothing entered; never a fed part (nesting.py: its campaign's units enter)."""
    return and_(expected > 0, filled == 0, rows == 0, CampaignUnit.source_campaign_id.is_(None))


def _status(not_started):
    """A unit's status in SQL, as workflow.status_of tells it."""
    return case((CampaignUnit.status != PART_OPEN, CampaignUnit.status),
                (CampaignUnit.return_reason.is_not(None), "returned"), (not_started, "todo"), else_="part")


def unit_figures(campaign: Campaign):
    """A subquery of one row per unit of the campaign: expected, filled (numbers entered in the
    groups it fills), rows (list rows), its part's status and return reason."""
    expected = (select(Assignment.unit_id, func.sum(_expected_case(campaign)).label("expected"))
                .where(Assignment.campaign_id == campaign.id).group_by(Assignment.unit_id).subquery())
    numbers = owned_numbers(campaign.id)
    filled = (select(numbers.c.unit_id, func.sum(numbers.c.n).label("filled"))
              .group_by(numbers.c.unit_id).subquery())
    rows = (select(ListRow.unit_id, func.count().label("rows")).where(ListRow.campaign_id == campaign.id)
            .group_by(ListRow.unit_id).subquery())
    n_expected = func.coalesce(expected.c.expected, 0)
    n_filled = func.coalesce(filled.c.filled, 0)
    n_rows = func.coalesce(rows.c.rows, 0)
    not_started = _not_started(n_expected, n_filled, n_rows)
    status = _status(not_started)
    return (select(CampaignUnit.unit_id, status.label("status"), n_expected.label("expected"),
                   n_filled.label("filled"), case((not_started, 1), else_=0).label("not_started"),
                   case((n_filled >= n_expected, 1), else_=0).label("done"))
            .outerjoin(expected, expected.c.unit_id == CampaignUnit.unit_id)
            .outerjoin(filled, filled.c.unit_id == CampaignUnit.unit_id)
            .outerjoin(rows, rows.c.unit_id == CampaignUnit.unit_id)
            .where(CampaignUnit.campaign_id == campaign.id).subquery("figures"))


def _filtered(query, figures, q: UnitQuery):
    if q.status == NOT_DONE:
        query = query.where(figures.c.status.in_(("todo", "part", "returned")))
    elif q.status:
        query = query.where(figures.c.status == q.status)
    if q.parent:
        parent = aliased(Unit)
        query = query.where(Unit.parent_id == select(parent.id).where(parent.code == q.parent).scalar_subquery())
    if q.name:
        query = query.where(Unit.name.ilike(f"%{_escape_like(q.name)}%", escape="\\"))
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


STATUS_ORDER = {"todo": 0, "part": 1, "returned": 2, PART_SUBMITTED: 3, PART_ACCEPTED: 4}


def dashboard_page(session: Session, campaign: Campaign, q: UnitQuery, with_counts: bool = True) -> UnitPage:
    """A page of the campaign's units for the dashboard, with the counts of every unit by status and
    by table (campaign_counts; not when ``with_counts`` is false)."""
    figures = unit_figures(campaign)
    if q.status or q.sort in ("status", "progress"):  # else no need to count every unit's values
        base = select(Unit).join(figures, figures.c.unit_id == Unit.id)
    else:
        base = select(Unit).join(CampaignUnit, and_(CampaignUnit.unit_id == Unit.id,
                                                    CampaignUnit.campaign_id == campaign.id))
    base = _filtered(base, figures, q)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    progress = case((figures.c.expected > 0, cast(figures.c.filled, Float) / figures.c.expected), else_=1.0)
    key = {"order": Unit.sort_order, "name": Unit.name, "progress": progress,
           "status": case(*((figures.c.status == s, n) for s, n in STATUS_ORDER.items()), else_=9)}[q.sort]
    key = key.desc() if q.order == "desc" else key.asc()
    tie = Unit.id.desc() if q.order == "desc" and q.sort == "order" else Unit.id.asc()
    units = list(session.scalars(base.order_by(key, tie).limit(q.per_page).offset((q.page - 1) * q.per_page)))
    page = UnitPage(units, total, q)
    if with_counts:
        page.counts, page.done, page.not_started, page.table_counts = campaign_counts(session, campaign)
        page.all_units = sum(page.counts.values())
    return page


def campaign_counts(session: Session, campaign: Campaign):
    """Over every unit of the campaign, in one statement (the stored values read once): the units by
    status, how many filled everything, how many have not started; and by table code (units
    expected, started, complete), a list table (units asked for rows, units that entered one, None)."""
    filled = owned_numbers(campaign.id)
    expected = (select(Assignment.unit_id, Assignment.table_code, func.sum(_expected_case(campaign)).label("n"))
                .where(Assignment.campaign_id == campaign.id)
                .group_by(Assignment.unit_id, Assignment.table_code).subquery())
    ut = (select(expected.c.unit_id, expected.c.table_code, expected.c.n.label("expected"),
                 func.coalesce(filled.c.n, 0).label("filled"))
          .select_from(expected.outerjoin(filled, and_(filled.c.unit_id == expected.c.unit_id,
                                                       filled.c.table_code == expected.c.table_code)))
          .cte("unit_table"))
    by_unit = (select(ut.c.unit_id, func.sum(ut.c.expected).label("expected"), func.sum(ut.c.filled).label("filled"))
               .group_by(ut.c.unit_id).subquery())
    rows = (select(ListRow.unit_id, func.count().label("rows")).where(ListRow.campaign_id == campaign.id)
            .group_by(ListRow.unit_id).subquery())
    n_expected, n_filled = func.coalesce(by_unit.c.expected, 0), func.coalesce(by_unit.c.filled, 0)
    not_started = _not_started(n_expected, n_filled, func.coalesce(rows.c.rows, 0))
    status = _status(not_started)
    units = (select(literal("unit").label("kind"), status.label("key"), func.count().label("a"),
                    func.sum(case((n_filled >= n_expected, 1), else_=0)).label("b"),
                    func.sum(case((not_started, 1), else_=0)).label("c"))
             .select_from(CampaignUnit).outerjoin(by_unit, by_unit.c.unit_id == CampaignUnit.unit_id)
             .outerjoin(rows, rows.c.unit_id == CampaignUnit.unit_id)
             .where(CampaignUnit.campaign_id == campaign.id).group_by(status))
    tables = (select(literal("table").label("kind"), ut.c.table_code, func.count(),
                     func.sum(case((ut.c.filled > 0, 1), else_=0)), func.sum(case((ut.c.filled >= ut.c.expected, 1), else_=0)))
              .where(ut.c.expected > 0).group_by(ut.c.table_code))
    counts: dict[str, int] = {}
    done = started_none = 0
    by_table: dict[str, tuple[int, int, int | None]] = {}
    with whole_scans(session):  # every stored value of the campaign counted (ix_cell_value_owner)
        rows_by_kind = session.execute(units.union_all(tables)).all()
    for kind, key, a, b, c in rows_by_kind:
        if kind == "unit":
            counts[key] = a
            done += int(b or 0)
            started_none += int(c or 0)
        else:
            by_table[key] = (a, int(b or 0), int(c or 0))
    lists = [t.code for t in campaign.outline.tables if t.is_list]
    if lists:
        entered = (select(ListRow.unit_id, ListRow.table_code).where(ListRow.campaign_id == campaign.id)
                   .distinct().subquery())
        for code, asked, started in session.execute(
                select(Assignment.table_code, func.count(), func.count(entered.c.unit_id))
                .outerjoin(entered, and_(entered.c.unit_id == Assignment.unit_id,
                                         entered.c.table_code == Assignment.table_code))
                .where(Assignment.campaign_id == campaign.id, Assignment.table_code.in_(lists),
                       Assignment.group_key == "rows")
                .group_by(Assignment.table_code)):
            by_table.setdefault(code, (asked, started, None))
    done += _count_fed_parts(session, campaign, by_table)
    return counts, done, started_none, by_table


def _count_fed_parts(session: Session, campaign: Campaign, by_table: dict) -> int:
    """Fed parts (nesting.py; a province's districts, a handful) store nothing, so the counts above
    see them expected and empty: count each table they have started or completed as their campaigns'
    units have (service.completeness), in ``by_table``; the number of them that filled everything."""
    fed = list(session.scalars(select(Unit).join(CampaignUnit, CampaignUnit.unit_id == Unit.id).where(
        CampaignUnit.campaign_id == campaign.id, CampaignUnit.source_campaign_id.is_not(None))))
    if not fed:
        return 0
    done = 0
    for state in completeness(session, campaign, fed).units:
        for code, table in state.tables.items():
            if code not in by_table:
                continue
            asked, started, complete = by_table[code]
            if complete is None:  # a list: units that entered a document
                by_table[code] = (asked, started + (table.rows > 0), None)
            elif table.state in ("part", "done"):
                by_table[code] = (asked, started + 1, complete + (table.state == "done"))
        done += state.state == "done"
    return done


def parents(session: Session, campaign: Campaign) -> list[tuple[str, str, int]]:
    """The units above the campaign's units (code, name, how many of them), for the parent filter."""
    parent = aliased(Unit)
    return [tuple(r) for r in session.execute(
        select(parent.code, parent.name, func.count())
        .select_from(CampaignUnit).join(Unit, Unit.id == CampaignUnit.unit_id).join(parent, parent.id == Unit.parent_id)
        .where(CampaignUnit.campaign_id == campaign.id)
        .group_by(parent.id, parent.code, parent.name, parent.sort_order).order_by(parent.sort_order, parent.code))]


def _value_of(table: Table, row_key: str, campaign: Campaign, column_key: str):
    """A correlated SQL value of one unit's cell (the column kind's fixed 1 as the literal 1)."""
    column = table.column(column_key)
    if column.kind.fixed_one:
        return literal(1)
    return (select(CellValue.num).where(CellValue.campaign_id == campaign.id, CellValue.unit_id == Unit.id,
                                        CellValue.table_code == table.code, CellValue.row_key == row_key,
                                        CellValue.col_key == column_key)
            .scalar_subquery())


def sort_value(table: Table, row_key: str, campaign: Campaign, column_key: str):
    """The SQL expression a breakdown sorts by for a column (None: not sortable in SQL): a stored
    number, a rate of two of them, a sum."""
    column = table.column(column_key)
    kind = column.kind
    value = lambda key: _value_of(table, row_key, campaign, key)  # noqa: E731
    if column.is_input or kind.summed:
        return value(column_key)
    if kind.name == "percent":
        return cast(value(column.of), Float) / func.nullif(value(column.over), 0)
    if kind.name == "sum":
        parts = [value(k) for k in column.sum_of]
        present = or_(*(p.is_not(None) for p in parts))
        return case((present, sum((func.coalesce(p, 0) for p in parts), literal(0))), else_=None)
    return None


def breakdown_page(session: Session, campaign: Campaign, table: Table, row_key: str, groups: set[str],
                   counted: Counted, q: UnitQuery, column_keys: Sequence[str]) -> UnitPage:
    """A page of the units that fill one of ``groups`` of ``table`` and whose parts are ``counted``,
    sorted by unit or by a column's value of row ``row_key`` (blanks last either way)."""
    figures = unit_figures(campaign)
    fills = (select(Assignment.unit_id).where(Assignment.campaign_id == campaign.id,
                                              Assignment.table_code == table.code,
                                              Assignment.group_key.in_(groups)))
    base = (select(Unit).where(Unit.id.in_(fills))
            .join(CampaignUnit, and_(CampaignUnit.unit_id == Unit.id, CampaignUnit.campaign_id == campaign.id)))
    if q.status:  # the status needs every unit's values counted
        base = base.join(figures, figures.c.unit_id == Unit.id)
    if counted.statuses is not None:
        base = base.where(CampaignUnit.status.in_(counted.statuses))
    base = _filtered(base, figures, q)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    order = []
    key = sort_value(table, row_key, campaign, q.sort) if q.sort in column_keys else None
    if key is not None:
        order += [key.is_(None), key.desc() if q.order == "desc" else key.asc()]
    elif q.sort == "name":
        order.append(Unit.name.desc() if q.order == "desc" else Unit.name.asc())
    unit_first = [Unit.sort_order.desc(), Unit.id.desc()] if q.order == "desc" and key is None and q.sort != "name" \
        else [Unit.sort_order, Unit.id]
    units = list(session.scalars(base.order_by(*order, *unit_first)
                                 .limit(q.per_page).offset((q.page - 1) * q.per_page)))
    return UnitPage(units, total, q)
