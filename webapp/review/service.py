"""What the compiler looks at: completeness of every unit's part, the breakdown behind a cell, by unit.

No Flask here. Completeness is counted in the database (one GROUP BY over the stored values), not
by loading every unit's tables.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import ClassVar

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..domain.assembly import assemble, count_basis, nested_parts, owned_numbers
from ..domain.layout import BreakdownLayout, BreakdownRow, build_breakdown
from ..domain.outline import TOTAL_ROW_KEY, Frame, Table
from ..domain.ownership import breakdown_tables, number_fillers, number_groups
from ..domain.ownership import Ownership
from ..domain.parts import Basis, Counted, Part
from ..domain.columns import row_values
from ..domain.values import show
from ..models import PART_ACCEPTED, PART_OPEN, PART_SUBMITTED, Assignment, AuditEvent, Campaign, CampaignUnit, CellValue, ListRow, Unit, User
from ..workflow import open_until, status_of


STATE_NAMES = {"na": "Không giao", "todo": "Chưa bắt đầu", "part": "Đang nhập", "done": "Đã đủ",
               "list": "Danh sách", "notes": "Chỉ ghi chú"}


class Filling:
    """A part's progress: ``filled`` of the ``expected`` cells, in percent; ``nothing_expected``: the
    percent of a part with no cell expected."""

    nothing_expected: ClassVar[int] = 0

    @property
    def percent(self) -> int:
        return round(100 * self.filled / self.expected) if self.expected else self.nothing_expected


@dataclass
class TableState(Filling):
    groups: frozenset[str] = frozenset()  # the column groups the unit fills
    expected: int = 0
    filled: int = 0
    rows: int = 0  # list tables: documents entered
    assigned: bool = False
    is_list: bool = False

    @property
    def state(self) -> str:
        if not self.assigned:
            return "na"
        if self.is_list:
            return "list"
        if not self.expected:
            return "notes"
        if self.filled >= self.expected:
            return "done"
        return "part" if self.filled else "todo"

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.state]


@dataclass
class UnitState(Filling):
    nothing_expected: ClassVar[int] = 100  # a unit with nothing to fill has it all
    unit: Unit
    tables: dict[str, TableState] = field(default_factory=dict)
    clerks: list[str] = field(default_factory=list)
    part: CampaignUnit | None = None  # where the part stands in the workflow
    source: Campaign | None = None  # the campaign whose appendix this part is (nesting.py)

    @property
    def status(self) -> str:
        """todo, part, returned, submitted or accepted (workflow.STATUS_NAMES)."""
        if self.part is None:
            return self.state if self.state != "done" else "part"
        return status_of(self.part, self.state != "todo")

    @property
    def handed_in(self) -> bool:
        return self.status in (PART_SUBMITTED, PART_ACCEPTED)

    def counts_in(self, counted: Counted) -> bool:
        """Whether an assembly of the ``counted`` parts includes this unit's part."""
        return counted.includes(self.part.status if self.part is not None else PART_OPEN)

    def late(self, campaign: Campaign, today: dt.date) -> bool:
        """Not handed in and past the deadline (or its extension), or handed in after the deadline."""
        if self.part is None:
            return False
        if self.handed_in:
            return self.part.submitted_late
        return today > open_until(campaign, self.part)

    def _graded(self) -> list[TableState]:
        return [t for t in self.tables.values() if t.state in ("todo", "part", "done")]

    @property
    def expected(self) -> int:
        return sum(t.expected for t in self._graded())

    @property
    def filled(self) -> int:
        return sum(t.filled for t in self._graded())

    @property
    def counts(self) -> tuple[int, int, int]:
        """(tables expected, started, complete) of this unit."""
        graded = self._graded()
        return (len(graded), sum(t.state in ("part", "done") for t in graded),
                sum(t.state == "done" for t in graded))

    @property
    def state(self) -> str:
        expected, started, complete = self.counts
        if complete == expected:  # a unit asked only for documents or notes has nothing left to fill
            return "done"
        return "part" if started or any(t.rows for t in self.tables.values()) else "todo"



@dataclass
class Completeness:
    campaign: Campaign
    units: list[UnitState]

    def table_counts(self, table_code: str) -> tuple[int, int, int | None]:
        """(units expected, started, complete) for one table; a list (table I) has no "complete":
        (units asked for documents, units that entered at least one, None)."""
        states = [u.tables[table_code] for u in self.units if u.tables[table_code].state in ("todo", "part", "done")]
        if not states:
            lists = [u.tables[table_code] for u in self.units if u.tables[table_code].state == "list"]
            if lists:
                return len(lists), sum(s.rows > 0 for s in lists), None
        return (len(states), sum(s.state in ("part", "done") for s in states),
                sum(s.state == "done" for s in states))

    @property
    def not_done(self) -> list[UnitState]:
        """The units that have not handed in their part (submitted or accepted)."""
        return [u for u in self.units if not u.handed_in]

    def count(self, status: str) -> int:
        return sum(u.status == status for u in self.units)

    @property
    def not_started(self) -> list[UnitState]:
        return [u for u in self.units if u.state == "todo"]


def completeness(session: Session, campaign: Campaign, units: list[Unit] | None = None) -> Completeness:
    """Every reporting unit (or only ``units``) × table: expected, filled, state; with the clerk accounts."""
    outline = campaign.outline
    units = campaign.units if units is None else units
    ids = [u.id for u in units]
    groups: dict[tuple[int, str], set[str]] = defaultdict(set)
    for unit_id, table_code, group_key in session.execute(
            select(Assignment.unit_id, Assignment.table_code, Assignment.group_key)
            .where(Assignment.campaign_id == campaign.id, Assignment.unit_id.in_(ids))):
        groups[(unit_id, table_code)].add(group_key)
    filled = {(u, t): int(n) for u, t, n in session.execute(select(owned_numbers(campaign.id, ids)))}
    rows = dict(((u, t), n) for u, t, n in session.execute(
        select(ListRow.unit_id, ListRow.table_code, func.count())
        .where(ListRow.campaign_id == campaign.id, ListRow.unit_id.in_(ids))
        .group_by(ListRow.unit_id, ListRow.table_code)))
    clerks: dict[int, list[str]] = defaultdict(list)
    for unit_id, username in session.execute(
            select(User.unit_id, User.username)
            .where(User.role == "clerk", User.active.is_(True), User.unit_id.in_(ids))
            .order_by(User.username)):
        clerks[unit_id].append(username)
    parts = {cu.unit_id: cu for cu in session.scalars(
        select(CampaignUnit).where(CampaignUnit.campaign_id == campaign.id, CampaignUnit.unit_id.in_(ids)))}
    states = []
    for unit in units:
        state = UnitState(unit, clerks=clerks.get(unit.id, []), part=parts.get(unit.id))
        for table in outline.tables:
            owned = groups.get((unit.id, table.code), set())
            state.tables[table.code] = TableState(
                groups=frozenset(owned), expected=table.expected_inputs(owned, campaign.frame),
                filled=filled.get((unit.id, table.code), 0), rows=rows.get((unit.id, table.code), 0),
                assigned=bool(owned), is_list=table.is_list)
        states.append(state)
    for state in states:
        if state.part is not None and state.part.source_campaign_id is not None:
            _as_its_campaign(session, state)
    return Completeness(campaign, states)


def _as_its_campaign(session: Session, state: UnitState) -> None:
    """A fed part (nesting.py) enters nothing itself: its tables are as far as its campaign's units
    are, summed, and whom to call about it is that campaign's compiler."""
    source = state.source = session.get(Campaign, state.part.source_campaign_id)
    below = completeness(session, source).units
    for code, table in state.tables.items():
        shares = [u.tables[code] for u in below]
        state.tables[code] = TableState(groups=table.groups, assigned=table.assigned, is_list=table.is_list,
                                        expected=sum(s.expected for s in shares),
                                        filled=sum(s.filled for s in shares), rows=sum(s.rows for s in shares))
    state.clerks = list(session.scalars(select(User.username).where(
        User.role == "compiler", User.active.is_(True), User.unit_id == source.compiler_unit_id).order_by(User.username)))


@dataclass
class Contribution:
    unit: Unit
    num: int | None
    text: str | None
    shown: str
    source: str | None = None  # the code of the campaign whose assembly this part is (nesting.py)


@dataclass
class CellBreakdown:
    """Who entered what in one assembled cell, and which owning units have not entered it; with
    where each owner's part stands and whether the assembly (``basis``) counts it."""

    table: Table
    row_key: str
    row_label: str
    column_key: str
    entered: list[Contribution]
    missing: list[Unit]
    total: int | None  # None when no unit has a number here (the appendix shows the cell blank)
    owners: int = 0  # the units asked for this cell
    basis: Basis | None = None  # which parts the total counts, of how many units
    statuses: dict[int, str] = field(default_factory=dict)  # unit id -> UnitState.status
    uncounted: frozenset[int] = frozenset()  # the owners whose parts the total leaves out

    @property
    def counted_entered(self) -> list[Contribution]:
        """The values the total adds up."""
        return [c for c in self.entered if c.unit.id not in self.uncounted]

    @property
    def column(self):
        return self.table.column(self.column_key)

    @property
    def total_shown(self) -> str:
        """The sum as the appendix shows it (a yes/no: the count of yes; a decimal: scaled back)."""
        return self.column.kind.show_stored(self.total, None, assembled=True)


def cell_breakdown(session: Session, campaign: Campaign, table: Table, row_key: str, row_label: str,
                   column_key: str, counted: Counted = Counted.ALL) -> CellBreakdown:
    """The units that fill this cell's group, with their values (a fixed "Tổng số xã" counts 1 each),
    and the total of the ``counted`` parts; every owner is listed, those not counted marked so."""
    column = table.column(column_key)
    group_key = table.group_key_of(column_key)
    by_unit = table.block_of(column_key).by_unit  # a unit row is its unit's; the total row, every owner's
    owners = list(session.scalars(
        select(Unit).join(Assignment, Assignment.unit_id == Unit.id)
        .where(Assignment.campaign_id == campaign.id, Assignment.table_code == table.code,
               Assignment.group_key == group_key).order_by(Unit.sort_order, Unit.id)))
    if by_unit and row_key != TOTAL_ROW_KEY:
        owners = [unit for unit in owners if unit.code == row_key]

    def own_row(unit: Unit) -> str:
        """The row of this cell that ``unit`` fills."""
        return unit.code if by_unit else row_key

    rows = {own_row(unit) for unit in owners}
    values = {v.unit_id: v for v in session.scalars(select(CellValue).where(
        CellValue.campaign_id == campaign.id, CellValue.table_code == table.code,
        CellValue.row_key.in_(rows), CellValue.col_key == column_key,
        or_(CellValue.num.is_not(None), CellValue.text.is_not(None))))}
    fed = {owner: part for owner, _, part in nested_parts(session, campaign.id, campaign.outline, campaign.frame,
                                                          table_code=table.code)}
    sources = {unit_id: code for unit_id, code in session.execute(
        select(CampaignUnit.unit_id, Campaign.code).join(Campaign, Campaign.id == CampaignUnit.source_campaign_id)
        .where(CampaignUnit.campaign_id == campaign.id)).all()} if fed else {}
    entered, missing = [], []
    for unit in owners:
        fixed = Ownership.of(table, {group_key}, unit.code).fixed_value(own_row(unit), column_key)
        if unit.id in fed:  # a district's assembled part (live or as submitted), opened in its own campaign
            num, text = fed[unit.id].number(table.code, row_key, column_key), fed[unit.id].text(table.code, row_key,
                                                                                                   column_key)
            if num is None and not text:
                missing.append(unit)
            else:
                entered.append(Contribution(unit, num, text, show(column, num, text, assembled=True),
                                            sources[unit.id]))
        elif fixed is not None:
            entered.append(Contribution(unit, fixed, None, show(column, fixed, None)))
        elif unit.id in values and (values[unit.id].num is not None or values[unit.id].text):
            v = values[unit.id]
            entered.append(Contribution(unit, v.num, v.text, show(column, v.num, v.text)))
        else:
            missing.append(unit)
    # the assembled value, from the assembly the appendix page and the workbook show (blank: none entered)
    total = assemble(session, campaign.id, campaign.outline, campaign.frame, table_code=table.code,
                     counted=counted).number(table.code, row_key, column_key) if column.is_numeric else None
    states = completeness(session, campaign, owners).units if owners else []
    return CellBreakdown(table, row_key, row_label, column_key, entered, missing, total, owners=len(owners),
                         basis=count_basis(session, campaign.id, counted),
                         statuses={s.unit.id: s.status for s in states},
                         uncounted=frozenset(s.unit.id for s in states if not s.counts_in(counted)))


def campaign_fillers(session: Session, campaign: Campaign, table: Table | None = None) -> dict[str, set[int]]:
    """Table code -> the ids of the units that fill a number of it in ``campaign`` (its assignments
    through ownership.number_fillers): who a breakdown by unit lists; only ``table``'s when given (a
    province's campaign holds hundreds of thousands of assignments: read a table at a time)."""
    query = (select(Assignment.unit_id, Assignment.table_code, Assignment.group_key)
             .where(Assignment.campaign_id == campaign.id))
    if table is not None:
        query = query.where(Assignment.table_code == table.code)
    return number_fillers(campaign.outline.tables if table is None else [table], session.execute(query).all())


def breakdown_tables_of(session: Session, campaign: Campaign) -> list[Table]:
    """The tables of ``campaign`` that have a breakdown by unit, on the page and in the workbook
    (ownership.breakdown_tables: not a table a single unit fills)."""
    numeric = [(t.code, key) for t in campaign.outline.tables if not t.is_list for key in number_groups(t)]
    if not numeric:
        return []
    # whether one unit or more fill a number of each table (ownership.fills_numbers): the first and
    # the last of them, found in the database (cheaper than counting every distinct one)
    ends = session.execute(
        select(Assignment.table_code, func.min(Assignment.unit_id), func.max(Assignment.unit_id))
        .where(Assignment.campaign_id == campaign.id,
               or_(*(and_(Assignment.table_code == code, Assignment.group_key == key) for code, key in numeric)))
        .group_by(Assignment.table_code)).all()
    return breakdown_tables(campaign.outline.tables, {code: {first, last} for code, first, last in ends})




# The words that begin the name of an area (a district, town, province …), longest first: the
# total row of a breakdown by unit is that area's ("Toàn huyện", "Toàn thành phố").
AREA_WORDS = ("Thành phố", "Thị xã", "Thị trấn", "Huyện", "Quận", "Tỉnh", "Phường", "Xã")
AREA_KINDS = {"huyen": "huyện", "tinh": "tỉnh"}  # container kinds (domain/unit_kinds) that name an area
TOTAL_LABEL = "Tổng cộng"  # when the area is not known


def total_label(campaign: Campaign) -> str:
    """The label of the total row of a breakdown by unit, for the area the campaign's compiling unit
    belongs to: "Toàn huyện" for a district's campaign, "Toàn thành phố", "Toàn tỉnh" …, read from the
    area's name (else its kind); "Tổng cộng" when neither says."""
    compiler = campaign.compiler_unit
    area = compiler.parent if compiler is not None and compiler.parent is not None else compiler
    if area is None:
        return TOTAL_LABEL
    name = " ".join(area.name.split()).casefold()
    for word in AREA_WORDS:
        if name.startswith(word.casefold() + " "):
            return f"Toàn {word.lower()}"
    if area.kind in AREA_KINDS:
        return f"Toàn {AREA_KINDS[area.kind]}"
    return TOTAL_LABEL


@dataclass
class ShownRow:
    """A row of the breakdown page: its unit (None on the total row), label and shown cells."""

    unit: Unit | None
    label: str
    cells: list[tuple[object, str, bool]]  # (value, or None when empty; as shown; the unit fills it)


def unit_breakdown(table: Table, frame: Frame, row_key: str, units: list[tuple[Unit, frozenset[str]]],
                   parts: dict[int, Part], total: Part,
                   total_label: str = TOTAL_LABEL, unit_kind: str | None = None
                   ) -> tuple[BreakdownLayout, list[ShownRow], ShownRow]:
    """One row per unit (with the column groups it fills) for one period of a table, and the total row,
    laid out by ``layout.build_breakdown`` as the appendix's breakdown sheet is. ``unit_kind``: the
    compiling unit's kind (a target column's ``by_kind``).

    An empty cell the unit fills stays None, distinct from 0; a cell it does not fill is marked so;
    rates are derived per row, the total's from the summed numbers; yes/no shows Có/Không per unit
    and the count of yes in the total.
    """
    layout = build_breakdown(table, frame, [(unit.name, Ownership.of(table, groups, None)) for unit, groups in units],
                             total_label, period=row_key)

    def cells(lrow: BreakdownRow, part: Part) -> list[tuple[object, str, bool]]:
        out = []
        for period in layout.periods:
            values = row_values([b.column for b in period.columns], layout.numbers_of(part, period), period.key,
                                unit_kind)
            for b in period.columns:
                value = values.get(b.column.key)
                out.append((value, b.column.kind.show(value, assembled=lrow.is_total), layout.fills(lrow, b)))
        return out

    rows = [ShownRow(unit, lrow.label, cells(lrow, parts.get(unit.id, Part())))
            for (unit, _), lrow in zip(units, layout.rows)]
    return layout, rows, ShownRow(None, layout.total.label, cells(layout.total, total))


def change_log(session: Session, campaign: Campaign, unit: Unit | None = None, table_code: str | None = None,
               row_key: str | None = None, col_key: str | None = None, limit: int = 100,
               offset: int = 0, after_id: int | None = None) -> tuple[list[AuditEvent], bool]:
    """The campaign's audit events, newest first, narrowed to a unit or one cell (and to those
    after event ``after_id``); and whether more follow."""
    query = select(AuditEvent).where(AuditEvent.campaign_id == campaign.id)
    if after_id is not None:
        query = query.where(AuditEvent.id > after_id)
    if unit is not None:
        query = query.where(AuditEvent.unit_id == unit.id)
    if table_code is not None:
        query = query.where(AuditEvent.table_code == table_code)
    if row_key is not None:
        query = query.where(AuditEvent.row_key == row_key)
    if col_key is not None:
        query = query.where(AuditEvent.col_key == col_key)
    events = list(session.scalars(query.options(selectinload(AuditEvent.user), selectinload(AuditEvent.unit))
                                  .order_by(AuditEvent.id.desc()).offset(offset).limit(limit + 1)))
    return events[:limit], len(events) > limit


def document_history(session: Session, campaign: Campaign, unit: Unit, table_code: str, row_id: int,
                     limit: int = 500) -> list[AuditEvent]:
    """Every change of one document of a list table since it was added. SQLite may give a new row
    the id of a removed one: the removed document's events (up to its removal) are not this one's."""
    row_key = str(row_id)
    removed = session.scalar(select(func.max(AuditEvent.id)).where(
        AuditEvent.campaign_id == campaign.id, AuditEvent.unit_id == unit.id, AuditEvent.table_code == table_code,
        AuditEvent.row_key == row_key, AuditEvent.action == "list_delete"))
    return change_log(session, campaign, unit=unit, table_code=table_code, row_key=row_key, limit=limit,
                      after_id=removed)[0]


ACTION_NAMES = {"cell": "Sửa ô", "list_add": "Thêm văn bản", "list_edit": "Sửa văn bản", "list_delete": "Xóa văn bản",
                "submit": "Nộp báo cáo", "accept": "Duyệt", "return": "Trả lại", "reopen": "Mở lại",
                "extend": "Gia hạn", "close": "Kết thúc đợt", "open": "Mở lại đợt",
                "warning_confirm": "Xác nhận cảnh báo",
                # set-up and administration (events of no campaign, or of a campaign's set-up)
                "outline_load": "Nạp đề cương", "campaign_create": "Tạo đợt báo cáo",
                "campaign_copy": "Sao chép đợt báo cáo", "campaign_update": "Sửa đợt báo cáo",
                "assignment_update": "Sửa phân công", "deadline": "Đổi hạn nộp", "user_import": "Nạp danh sách",
                "campaign_edit": "Sửa thiết lập đợt", "unit_add": "Thêm đơn vị vào đợt",
                "unit_remove": "Bỏ đơn vị khỏi đợt",
                "unit_create": "Thêm đơn vị", "unit_update": "Sửa đơn vị",
                "unit_deactivate": "Ngừng hoạt động đơn vị", "unit_activate": "Cho đơn vị hoạt động lại",
                "user_create": "Thêm tài khoản", "user_update": "Sửa tài khoản",
                "user_deactivate": "Ngừng hoạt động tài khoản", "user_activate": "Cho tài khoản hoạt động lại"}
VIA_NAMES = {"web": "trên trình duyệt", "upload": "nộp tệp Excel", "import": "nhập tệp Excel (dòng lệnh)", "compiler": "bộ phận tổng hợp sửa",
             "compiler_import": "tổng hợp nộp tệp Excel thay", "cli": "dòng lệnh", "demo": "dữ liệu mẫu"}
