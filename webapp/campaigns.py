"""Campaigns: creating one from an outline version or as a copy of last period's, and setting one
up afterwards (its settings and deadline, who fills which table, adding and removing units).

Every function checks everything first and raises CampaignRefused with every problem (each with the
field it belongs to), so that the form and the command line show all of them and nothing is stored.
None of them commits: the caller does. No Flask here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from .domain.outline import Outline
from .entry.service import default_assignments
from .models import (PART_OPEN, Assignment, AuditEvent, Campaign, CampaignDeadline, CampaignUnit, CellValue, ListRow,
                     OutlineVersion, ReturnNote, Unit, User)

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
# what a campaign's documents print; copied to the next period's campaign except the report's own
# number and date
PRINT_FIELDS = ("request_document", "issuer_name", "issuer_parent", "issuer_is_party", "report_number",
                "report_date", "report_place", "signer_title", "signer_name")
COPIED_PRINT_FIELDS = ("request_document", "issuer_name", "issuer_parent", "issuer_is_party", "report_place",
                       "signer_title", "signer_name")
# what the settings page changes (the code, outline and years stay: values and templates refer to them)
SETTING_FIELDS = ("name", "description", "deadline") + PRINT_FIELDS
# the longest text each field takes (the columns of models.Campaign)
TEXT_LIMITS = {"name": 300, "description": 5000, "request_document": 300, "issuer_name": 200,
               "issuer_parent": 200, "report_number": 60, "report_place": 100, "signer_title": 200,
               "signer_name": 120}
FIELD_NAMES = {"name": "Tên đợt báo cáo", "description": "Ghi chú", "deadline": "Hạn gửi",
               "request_document": "Văn bản yêu cầu báo cáo", "issuer_name": "Cơ quan ban hành",
               "issuer_parent": "Cơ quan cấp trên", "issuer_is_party": "Loại cơ quan",
               "report_number": "Số báo cáo", "report_date": "Ngày báo cáo", "report_place": "Địa danh",
               "signer_title": "Chức vụ người ký", "signer_name": "Họ tên người ký"}
MAX_YEARS = 20
WHOLE_TABLE = "(cả bảng)"


class CampaignRefused(ValueError):
    """What is wrong, every problem at once. ``problems``: the messages in order; ``fields``: form
    field → its messages (``code``, ``name``, ``years``, ``deadline``, ``compiler``, ``units``,
    ``outline``, a print field, or ``""`` for the whole form)."""

    def __init__(self, problems: list[str] | list[tuple[str, str]]):
        pairs = [p if isinstance(p, tuple) else ("", p) for p in problems]
        self.problems = [message for _, message in pairs]
        self.fields: dict[str, list[str]] = defaultdict(list)
        for name, message in pairs:
            self.fields[name].append(message)
        super().__init__("; ".join(self.problems))


@dataclass
class CampaignSpec:
    """What a new campaign is made of; ``units`` None means the default reporting units. Years and
    deadline None: not given (check_spec then leaves them to whoever parsed them)."""

    code: str
    name: str
    year_from: int | None
    year_to: int | None
    deadline: dt.date | None
    compiler_unit: Unit | None
    units: list[Unit] | None = None
    description: str = ""
    prints: dict[str, object] = field(default_factory=dict)  # PRINT_FIELDS
    kind_deadlines: dict[str, dt.date] = field(default_factory=dict)  # unit kind → its own deadline


def fmt(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


# ------------------------------------------------------------------------------------- the units

def descendants(session: Session, unit: Unit) -> list[Unit]:
    """Every active unit below ``unit``, depth first in the units' order."""
    out: list[Unit] = []
    for child in session.scalars(select(Unit).where(Unit.parent_id == unit.id, Unit.active)
                                 .order_by(Unit.sort_order, Unit.id)):
        out.append(child)
        out.extend(descendants(session, child))
    return out


def candidate_units(session: Session, compiler_unit: Unit) -> list[Unit]:
    """The units a campaign of ``compiler_unit`` may ask to report: every active unit below the
    compiling unit's parent (the district its party office belongs to), the compiling unit aside."""
    top = compiler_unit.parent or compiler_unit
    return [u for u in descendants(session, top) if u.id != compiler_unit.id]


def default_units(session: Session, outline_row: OutlineVersion, compiler_unit: Unit) -> list[Unit]:
    """Every active unit below the compiling unit's parent (the district that the compiling party
    office belongs to) whose kind the outline names as a reporting kind."""
    reporting = reporting_kinds(outline_row)
    return [u for u in candidate_units(session, compiler_unit) if u.kind in reporting]


def reporting_kinds(outline_row: OutlineVersion) -> set[str]:
    """The kinds that fill some table of the outline."""
    return {kind for table in outline_row.outline.tables for kind in table.owner_kinds}


def compiling_units(session: Session) -> list[Unit]:
    """The active units that may compile a campaign: the district's and province's party committees
    and their boards, the districts and provinces themselves, and any unit with a compiler account."""
    from .domain.unit_kinds import CONTAINER_KINDS
    from .models import ROLE_COMPILER

    with_compilers = select(User.unit_id).where(User.role == ROLE_COMPILER, User.active)
    return list(session.scalars(select(Unit).where(Unit.active, or_(Unit.kind.in_(CONTAINER_KINDS),
                                                                    Unit.id.in_(with_compilers)))
                                .order_by(Unit.sort_order, Unit.id)))


# ------------------------------------------------------------------------------------- creating

def check_spec(session: Session, spec: CampaignSpec, today: dt.date | None = None) -> list[tuple[str, str]]:
    """Every problem of ``spec`` as (field, message). ``today``: a deadline before it is refused
    (a new campaign is open for entry at once)."""
    problems: list[tuple[str, str]] = []
    if not CODE_PATTERN.match(spec.code or ""):
        problems.append(("code", "Mã đợt chỉ gồm chữ thường không dấu, số, '-', '_' hoặc '.', tối đa 40 ký tự "
                                 f"(đang là '{spec.code or ''}')."))
    elif session.scalar(select(Campaign.id).where(Campaign.code == spec.code)) is not None:
        problems.append(("code", f"Mã đợt '{spec.code}' đã được dùng cho một đợt báo cáo khác."))
    if not (spec.name or "").strip():
        problems.append(("name", "Cần nhập tên đợt báo cáo."))
    elif len(spec.name.strip()) > TEXT_LIMITS["name"]:
        problems.append(("name", "Tên đợt báo cáo dài quá 300 ký tự."))
    if spec.year_from is not None and spec.year_to is not None:
        if not (1900 <= spec.year_from <= spec.year_to <= 2200):
            problems.append(("years", f"Các năm báo cáo không hợp lệ ({spec.year_from}–{spec.year_to}): năm đầu "
                                      "phải trước hoặc bằng năm cuối, trong khoảng 1900–2200."))
        elif spec.year_to - spec.year_from >= MAX_YEARS:
            problems.append(("years", f"Một đợt báo cáo gồm tối đa {MAX_YEARS} năm."))
    if spec.deadline is not None and today is not None and spec.deadline < today:
        problems.append(("deadline", f"Hạn gửi {fmt(spec.deadline)} đã qua (hôm nay là {fmt(today)}): một đợt "
                                     "mới mở để các đơn vị nhập ngay, hạn gửi phải từ hôm nay trở đi."))
    for kind, day in spec.kind_deadlines.items():
        if today is not None and day < today:
            problems.append(("kind_deadlines", f"Hạn gửi của loại đơn vị '{kind}' ({fmt(day)}) đã qua (hôm nay là "
                                               f"{fmt(today)})."))
    if spec.compiler_unit is None:
        problems.append(("compiler", "Cần chọn đơn vị tổng hợp."))
    elif not spec.compiler_unit.active:
        problems.append(("compiler", f"Đơn vị tổng hợp '{spec.compiler_unit.code}' đã ngừng hoạt động."))
    if spec.units is not None and not spec.units:
        problems.append(("units", "Cần chọn ít nhất một đơn vị báo cáo."))
    for unit in spec.units or []:
        if not unit.active:
            problems.append(("units", f"Đơn vị '{unit.code}' đã ngừng hoạt động."))
        elif spec.compiler_unit is not None and unit.id == spec.compiler_unit.id:
            problems.append(("units", f"Đơn vị tổng hợp ({unit.name}) không là đơn vị báo cáo của chính đợt mình."))
    problems.extend(_print_problems(spec.prints))
    return problems


def _print_problems(prints: dict[str, object]) -> list[tuple[str, str]]:
    problems = []
    for name, value in prints.items():
        limit = TEXT_LIMITS.get(name)
        if limit and isinstance(value, str) and len(value.strip()) > limit:
            problems.append((name, f"{FIELD_NAMES[name]} dài quá {limit} ký tự."))
    return problems


def _require_given(spec: CampaignSpec) -> list[tuple[str, str]]:
    problems = []
    if spec.year_from is None or spec.year_to is None:
        problems.append(("years", "Cần nhập năm đầu và năm cuối của giai đoạn báo cáo."))
    if spec.deadline is None:
        problems.append(("deadline", "Cần nhập hạn gửi."))
    return problems


def _set_prints(campaign: Campaign, prints: dict[str, object]) -> None:
    for name in PRINT_FIELDS:
        value = prints.get(name)
        if value is not None:
            setattr(campaign, name, value.strip() if isinstance(value, str) else value)


def create_campaign(session: Session, outline_row: OutlineVersion | None, spec: CampaignSpec,
                    user: User | None = None, via: str = "web", today: dt.date | None = None) -> Campaign:
    """A new campaign, open at once, of ``outline_row``'s exact version; its units fill what the
    outline gives their kind (see default_assignments). ``today``: refuse a deadline before it.
    Raises CampaignRefused."""
    problems = _require_given(spec) + check_spec(session, spec, today)
    if outline_row is None:
        problems.insert(0, ("outline", "Cần chọn một đề cương đã nạp."))
    units = spec.units
    if units is None and outline_row is not None and spec.compiler_unit is not None:
        units = default_units(session, outline_row, spec.compiler_unit)
        if not units:
            problems.append(("units", "Không có đơn vị nào dưới đơn vị tổng hợp có loại mà đề cương giao điền; "
                                      "hãy chọn các đơn vị báo cáo."))
    if units is not None:
        problems.extend(_stray_kinds(spec.kind_deadlines, units))
    if problems:
        raise CampaignRefused(problems)
    units = _unique(units)
    campaign = Campaign(code=spec.code, name=spec.name.strip(), description=(spec.description or "").strip(),
                        outline_code=outline_row.code, outline_version=outline_row.version,
                        year_from=spec.year_from, year_to=spec.year_to, compiler_unit=spec.compiler_unit,
                        deadline=spec.deadline, status="open", units=units)
    _set_prints(campaign, spec.prints)
    session.add(campaign)
    session.flush()
    session.refresh(campaign)  # loads outline_row
    session.add_all(default_assignments(campaign, units))
    session.add(AuditEvent(user_id=user.id if user else None, campaign_id=campaign.id, action="campaign_create",
                           via=via, new=f"{campaign.code} ({outline_row.code}@{outline_row.version})"))
    set_kind_deadlines(session, campaign, spec.kind_deadlines, user, via)
    session.flush()
    return campaign


def _unique(units: list[Unit]) -> list[Unit]:
    seen: set[int] = set()
    return [u for u in units if not (u.id in seen or seen.add(u.id))]


def copy_campaign(session: Session, source: Campaign, code: str, year_from: int | None, year_to: int | None,
                  deadline: dt.date | None, name: str | None = None, user: User | None = None,
                  via: str = "web", today: dt.date | None = None) -> Campaign:
    """The next period's campaign: ``source``'s outline version, units (those still active) and
    assignments, and what its documents print except the report's number and date."""
    units = [u for u in source.units if u.active]
    spec = CampaignSpec(code=code, name=name or _next_name_or_blank(source, year_from, year_to),
                        year_from=year_from, year_to=year_to, deadline=deadline,
                        compiler_unit=source.compiler_unit, units=units, description="",
                        prints={f: getattr(source, f) for f in COPIED_PRINT_FIELDS})
    problems = _require_given(spec) + check_spec(session, spec, today)
    if source.outline_row is None:
        problems.append(("", f"Đề cương {source.outline_code}@{source.outline_version} của đợt nguồn không còn."))
    if problems:
        raise CampaignRefused(problems)
    campaign = Campaign(code=spec.code, name=spec.name.strip(), description="", outline_code=source.outline_code,
                        outline_version=source.outline_version, year_from=year_from, year_to=year_to,
                        compiler_unit=source.compiler_unit, deadline=deadline, status="open", units=units)
    _set_prints(campaign, spec.prints)
    session.add(campaign)
    session.flush()
    active = {u.id for u in units}
    for a in session.scalars(select(Assignment).where(Assignment.campaign_id == source.id)
                             .order_by(Assignment.id)):
        if a.unit_id in active:
            session.add(Assignment(campaign_id=campaign.id, unit_id=a.unit_id, table_code=a.table_code,
                                   group_key=a.group_key))
    session.add(AuditEvent(user_id=user.id if user else None, campaign_id=campaign.id, action="campaign_copy",
                           via=via, old=source.code, new=campaign.code))
    present = {u.kind for u in units}  # each kind as many days before or after the deadline as in the source
    set_kind_deadlines(session, campaign, {d.unit_kind: deadline + (d.deadline - source.deadline)
                                           for d in source.kind_deadlines if d.unit_kind in present}, user, via)
    session.flush()
    session.refresh(campaign)
    return campaign


def _next_name_or_blank(source: Campaign, year_from: int | None, year_to: int | None) -> str:
    if year_from is None or year_to is None:
        return source.name
    return next_name(source, year_from, year_to)


def next_name(source: Campaign, year_from: int, year_to: int) -> str:
    """The source's name with its years replaced by the new ones where it names them."""
    name = source.name
    old = [f"{source.year_from}–{source.year_to}", f"{source.year_from}-{source.year_to}", str(source.year_to)]
    new = [f"{year_from}–{year_to}", f"{year_from}-{year_to}", str(year_to)]
    for before, after in zip(old, new):
        if before in name:
            return name.replace(before, after)
    return name


@dataclass
class NextPeriod:
    """What a copy for the next period is offered: the years just after the source's (as many),
    the deadline as many years later, a code and a name with the years moved on."""

    code: str
    name: str
    year_from: int
    year_to: int
    deadline: dt.date


def next_period(source: Campaign) -> NextPeriod:
    span = source.year_to - source.year_from + 1
    year_from, year_to = source.year_from + span, source.year_to + span
    deadline = _add_years(source.deadline, span)
    return NextPeriod(_next_code(source, span, deadline, year_to), next_name(source, year_from, year_to), year_from,
                      year_to, deadline)


def _next_code(source: Campaign, span: int, deadline: dt.date, year_to: int) -> str:
    """The source's code with its year moved on (the deadline's, the last reported, or any year it
    names, by the period's length); empty when it names none."""
    candidates = []
    for before, after in ((source.deadline.year, deadline.year), (source.year_to, year_to)):
        if str(before) in source.code:
            candidates.append(source.code.replace(str(before), str(after)))
    years = list(re.finditer(r"(?<!\d)(19|20|21)\d\d(?!\d)", source.code))
    if years:
        last = years[-1]
        candidates.append(source.code[:last.start()] + str(int(last.group(0)) + span) + source.code[last.end():])
    return next((c for c in candidates if CODE_PATTERN.match(c)), "")


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# ------------------------------------------------------------------------------------- settings

def update_settings(session: Session, campaign: Campaign, values: dict[str, object], user: User | None,
                    via: str = "web") -> list[str]:
    """Change what ``values`` holds of SETTING_FIELDS (the rest stays); the names of the fields
    changed. Each change is audited: ``deadline`` (old → new as dd/mm/yyyy), the others as
    ``campaign_edit`` with the field's name in ``col_key``. Raises CampaignRefused."""
    unknown = set(values) - set(SETTING_FIELDS)
    if unknown:
        raise ValueError(f"not settings: {sorted(unknown)}")
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    problems: list[tuple[str, str]] = []
    if "name" in clean and not clean["name"]:
        problems.append(("name", "Cần nhập tên đợt báo cáo."))
    if "deadline" in clean and clean["deadline"] is None:
        problems.append(("deadline", "Cần nhập hạn gửi."))
    for name, value in clean.items():
        limit = TEXT_LIMITS.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            problems.append((name, f"{FIELD_NAMES[name]} dài quá {limit:,} ký tự.".replace(",", ".")))
    if problems:
        raise CampaignRefused(problems)
    changed = []
    for name, value in clean.items():
        if value is None and name in TEXT_LIMITS:
            value = ""
        if value is None and name == "issuer_is_party":
            continue
        old = getattr(campaign, name)
        if old == value:
            continue
        setattr(campaign, name, value)
        changed.append(name)
        action = "deadline" if name == "deadline" else "campaign_edit"
        session.add(AuditEvent(user_id=user.id if user else None, campaign_id=campaign.id, action=action, via=via,
                               col_key=None if name == "deadline" else name,
                               old=_shown(name, old), new=_shown(name, value)))
    session.flush()
    return changed


def campaign_kinds(campaign: Campaign) -> list[str]:
    """The kinds of the campaign's units, in the units' order: those a deadline of their own may be set for."""
    return list(dict.fromkeys(u.kind for u in campaign.units))


def _stray_kinds(deadlines: dict[str, object], units: list[Unit]) -> list[tuple[str, str]]:
    present = {u.kind for u in units}
    return [("kind_deadlines", f"Không có đơn vị báo cáo nào thuộc loại '{kind}': không đặt hạn gửi riêng được.")
            for kind in deadlines if kind not in present]


def set_kind_deadlines(session: Session, campaign: Campaign, deadlines: dict[str, dt.date | None],
                       user: User | None, via: str = "web") -> list[str]:
    """Give each kind of unit in ``deadlines`` its own deadline (None: the campaign's again); the
    kinds changed. Audited as ``deadline`` events with the kind in ``col_key``, old → new as
    "<kind's name>: dd/mm/yyyy". Raises CampaignRefused for a kind none of the campaign's units has."""
    problems = _stray_kinds(deadlines, list(campaign.units))
    if problems:
        raise CampaignRefused(problems)
    own = {d.unit_kind: d for d in campaign.kind_deadlines}
    names = campaign.outline.unit_kinds
    changed = []
    for kind, day in deadlines.items():
        current = own.get(kind)
        old = current.deadline if current else None
        if old == day:
            continue
        if day is None:
            campaign.kind_deadlines.remove(current)
        elif current is None:
            campaign.kind_deadlines.append(CampaignDeadline(unit_kind=kind, deadline=day))
        else:
            current.deadline = day
        changed.append(kind)
        name = names.get(kind, kind)
        session.add(AuditEvent(user_id=user.id if user else None, campaign_id=campaign.id, action="deadline", via=via,
                               col_key=kind, old=_kind_deadline_shown(campaign, name, old),
                               new=_kind_deadline_shown(campaign, name, day)))
    session.flush()
    return changed


def _kind_deadline_shown(campaign: Campaign, kind_name: str, day: dt.date | None) -> str:
    """A kind's deadline as the audit trail shows it: "Xã, phường, thị trấn: 31/08/2020"."""
    return f"{kind_name}: {fmt(day) if day else f'theo hạn chung ({fmt(campaign.deadline)})'}"


def _shown(name: str, value: object) -> str | None:
    if isinstance(value, dt.date):
        return fmt(value)
    if name == "issuer_is_party":
        return "Cơ quan Đảng" if value else "Cơ quan nhà nước"
    return None if value in (None, "") else str(value)


# ------------------------------------------------------------------------------------- who fills what

@dataclass(frozen=True)
class GridColumn:
    """One column of the assignment grid: a column group of a table (a list table: its rows)."""

    table_code: str
    group_key: str
    label: str  # the group's printed label; "(cả bảng)" for a table of one group

    @property
    def key(self) -> str:
        return f"{self.table_code}|{self.group_key}"


def grid_columns(outline: Outline) -> list[tuple[str, list[GridColumn]]]:
    """Each table's code with its column groups, in the outline's order. A group without a label in
    a table of several is named by its first column."""
    out = []
    for table in outline.tables:
        if table.is_list:
            out.append((table.code, [GridColumn(table.code, "rows", WHOLE_TABLE)]))
            continue
        groups = table.groups
        columns = []
        for gkey, group in groups:
            if group.label:
                label = group.label
            elif len(groups) == 1:
                label = WHOLE_TABLE
            else:
                first = group.columns[0].label if group.columns else gkey
                label = first if len(first) <= 40 else first[:38].rstrip() + "…"
            columns.append(GridColumn(table.code, gkey, label))
        out.append((table.code, columns))
    return out


Key = tuple[int, str, str]  # (unit id, table code, group key)


def assignment_keys(session: Session, campaign: Campaign) -> set[Key]:
    return {(u, t, g) for u, t, g in session.execute(
        select(Assignment.unit_id, Assignment.table_code, Assignment.group_key)
        .where(Assignment.campaign_id == campaign.id))}


def stored_counts(session: Session, campaign: Campaign, unit: Unit | None = None) -> dict[Key, int]:
    """How many values each unit has stored in each column group (a list table: its documents),
    assigned or not."""
    cells = (select(CellValue.unit_id, CellValue.table_code, CellValue.group_key, func.count())
             .where(CellValue.campaign_id == campaign.id,
                    or_(CellValue.num.is_not(None), CellValue.text.is_not(None)))
             .group_by(CellValue.unit_id, CellValue.table_code, CellValue.group_key))
    rows = (select(ListRow.unit_id, ListRow.table_code, func.count())
            .where(ListRow.campaign_id == campaign.id).group_by(ListRow.unit_id, ListRow.table_code))
    if unit is not None:
        cells = cells.where(CellValue.unit_id == unit.id)
        rows = rows.where(ListRow.unit_id == unit.id)
    counts = {(u, t, g): n for u, t, g, n in session.execute(cells)}
    counts.update({(u, t, "rows"): n for u, t, n in session.execute(rows)})
    return counts


@dataclass
class Lost:
    """Values that stop counting when an assignment goes: ``count`` of ``unit``'s in ``column``."""

    unit: Unit
    column: GridColumn
    count: int


class NeedsConfirmation(Exception):
    """Assignments would go whose units stored values there: nothing was changed. Saving again with
    ``token`` confirms exactly these."""

    def __init__(self, lost: list[Lost], token: str):
        self.lost, self.token = lost, token
        super().__init__(f"{self.total} values would no longer count")

    @property
    def total(self) -> int:
        return sum(item.count for item in self.lost)


def update_assignments(session: Session, campaign: Campaign, wanted: set[Key], user: User | None,
                       via: str = "web", confirm: str | None = None) -> tuple[int, int]:
    """Make the campaign's assignments exactly ``wanted``: (how many added, how many removed).

    Removing an assignment keeps the unit's values there (they stop counting, and count again if
    the group is given back); when there are such values the change needs ``confirm`` equal to the
    token of NeedsConfirmation, raised otherwise with nothing changed. Audited per unit and table
    (``assignment_update``: the groups before → after). Raises CampaignRefused for a unit or group
    that is not the campaign's."""
    outline = campaign.outline
    by_key = {c.key: c for _, cols in grid_columns(outline) for c in cols}
    units = {u.id: u for u in campaign.units}
    strays = sorted(k for k in wanted if k[0] not in units or f"{k[1]}|{k[2]}" not in by_key)
    if strays:
        raise CampaignRefused([("", f"Không giao được {t} / {g} cho đơn vị mã số {u}: không có trong đợt báo cáo "
                                    "này.") for u, t, g in strays])
    current = assignment_keys(session, campaign)
    added, removed = wanted - current, current - wanted
    counts = stored_counts(session, campaign)
    lost = [Lost(units[u], by_key[f"{t}|{g}"], counts[(u, t, g)]) for u, t, g in sorted(removed)
            if counts.get((u, t, g)) and u in units and f"{t}|{g}" in by_key]
    if lost:
        token = hashlib.sha256(";".join(f"{item.unit.id}|{item.column.key}|{item.count}" for item in lost)
                               .encode()).hexdigest()[:16]
        if confirm != token:
            raise NeedsConfirmation(lost, token)
    if not added and not removed:
        return 0, 0
    for unit_id, table_code, group_key in removed:
        session.execute(delete(Assignment).where(Assignment.campaign_id == campaign.id, Assignment.unit_id == unit_id,
                                                 Assignment.table_code == table_code,
                                                 Assignment.group_key == group_key))
    session.add_all(Assignment(campaign_id=campaign.id, unit_id=u, table_code=t, group_key=g)
                    for u, t, g in sorted(added))
    labels = {(c.table_code, c.group_key): c.label for c in by_key.values()}
    for unit_id, table_code in sorted({(u, t) for u, t, _ in added | removed}):
        before = [labels.get((table_code, g), g) for u, t, g in sorted(current) if (u, t) == (unit_id, table_code)]
        after = [labels.get((table_code, g), g) for u, t, g in sorted(wanted) if (u, t) == (unit_id, table_code)]
        session.add(AuditEvent(user_id=user.id if user else None, campaign_id=campaign.id, unit_id=unit_id,
                               action="assignment_update", via=via, table_code=table_code,
                               old=", ".join(before) or "không giao", new=", ".join(after) or "không giao"))
    session.flush()
    return len(added), len(removed)


# ------------------------------------------------------------------------------------- units of a running campaign

def addable_units(session: Session, campaign: Campaign) -> list[Unit]:
    """The units that may join the campaign: candidates of its compiling unit not in it yet."""
    present = set(session.scalars(select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == campaign.id)))
    return [u for u in candidate_units(session, campaign.compiler_unit) if u.id not in present]


def add_unit(session: Session, campaign: Campaign, unit: Unit, user: User | None, via: str = "web") -> int:
    """Add ``unit`` to a running campaign, filling what the outline gives its kind; the number of
    column groups it was given. Raises CampaignRefused."""
    if not unit.active:
        raise CampaignRefused([("unit", f"{unit.name} đã ngừng hoạt động.")])
    if unit.id == campaign.compiler_unit_id:
        raise CampaignRefused([("unit", f"{unit.name} là đơn vị tổng hợp của đợt này.")])
    if session.get(CampaignUnit, (campaign.id, unit.id)) is not None:
        raise CampaignRefused([("unit", f"{unit.name} đã là đơn vị báo cáo của đợt này.")])
    session.add(CampaignUnit(campaign_id=campaign.id, unit_id=unit.id))
    assignments = default_assignments(campaign, [unit])
    session.add_all(assignments)
    session.add(AuditEvent(user_id=user.id if user else None, campaign_id=campaign.id, unit_id=unit.id,
                           action="unit_add", via=via, new=f"{len(assignments)} nhóm cột được giao"))
    session.flush()
    session.expire(campaign, ["units"])
    return len(assignments)


def stored_by(session: Session, campaign: Campaign, unit: Unit) -> int:
    """How many values and documents ``unit`` has ever stored in the campaign (emptied cells too)."""
    cells = session.scalar(select(func.count()).select_from(CellValue)
                           .where(CellValue.campaign_id == campaign.id, CellValue.unit_id == unit.id))
    rows = session.scalar(select(func.count()).select_from(ListRow)
                          .where(ListRow.campaign_id == campaign.id, ListRow.unit_id == unit.id))
    return (cells or 0) + (rows or 0)


def removal_problem(session: Session, campaign: Campaign, unit: Unit) -> str | None:
    """Why ``unit`` cannot leave the campaign (None: it can): only a unit that has stored nothing,
    never submitted, and is not the last one goes."""
    cu = session.get(CampaignUnit, (campaign.id, unit.id))
    if cu is None:
        return f"{unit.name} không thuộc đợt báo cáo này."
    stored = stored_by(session, campaign, unit)
    if stored:
        return (f"{unit.name} đã nhập {stored} giá trị, văn bản: không bỏ khỏi đợt được. Muốn đơn vị thôi báo "
                "cáo phần nào thì bỏ giao phần đó trong bảng giao biểu.")
    noted = session.scalar(select(func.count()).select_from(ReturnNote)
                           .where(ReturnNote.campaign_id == campaign.id, ReturnNote.unit_id == unit.id))
    if cu.status != PART_OPEN or cu.submitted_at is not None or noted:
        return f"{unit.name} đã nộp báo cáo trong đợt này: không bỏ khỏi đợt được."
    count = session.scalar(select(func.count()).select_from(CampaignUnit)
                           .where(CampaignUnit.campaign_id == campaign.id))
    if count <= 1:
        return "Đợt báo cáo cần ít nhất một đơn vị báo cáo."
    return None


def remove_unit(session: Session, campaign: Campaign, unit: Unit, user: User | None, via: str = "web") -> None:
    """Take ``unit`` out of the campaign, with its assignments; refused (CampaignRefused) unless it
    has stored nothing (see removal_problem)."""
    problem = removal_problem(session, campaign, unit)
    if problem:
        raise CampaignRefused([("unit", problem)])
    groups = session.execute(delete(Assignment).where(Assignment.campaign_id == campaign.id,
                                                      Assignment.unit_id == unit.id)).rowcount
    session.execute(delete(CampaignUnit).where(CampaignUnit.campaign_id == campaign.id,
                                               CampaignUnit.unit_id == unit.id))
    session.add(AuditEvent(user_id=user.id if user else None, campaign_id=campaign.id, unit_id=unit.id,
                           action="unit_remove", via=via, old=f"{groups} nhóm cột được giao"))
    session.flush()
    session.expire(campaign, ["units"])
