"""Where a unit's part of a campaign stands, and who may change it when.

    not started → in progress → submitted → accepted
                       ↑            │   │      │
                       └── returned ┘   │      │ (reopened by the compiler)
                       └────────────────┴──────┘

The unit edits only an open part of an open campaign, until the end of the deadline day (or of the
extension the compiler granted it). A submitted or accepted part is locked for the unit; the compiler
may still correct a submitted part (recorded as such) but an accepted one only after reopening it.
Every transition is an audit event in the same transaction.

No Flask here: callers pass the session, the campaign, the unit(s) and the user; "today" is the date
in the campaigns' time zone (Asia/Ho_Chi_Minh), which tests may pass explicitly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from .domain.assembly import assemble, count_basis
from .domain.checks import check_rules, row_values
from .domain.parts import Counted
from .domain.values import row_noun
from .models import (PART_ACCEPTED, PART_OPEN, PART_SUBMITTED, Assignment, AuditEvent, Campaign, CampaignUnit,
                     CellValue, ReturnNote, Unit, User, utcnow)
from .quality import QualityLine, open_warnings, quality_lines
from .quality import confirm_warnings as confirm

CAMPAIGN_OPEN, CAMPAIGN_CLOSED = "open", "closed"
# How a value was written (AuditEvent.via): by the unit in the browser (web) or by a template (upload
# in the browser, import from the command line), or by the compiler correcting a unit's part in the browser (compiler)
# or uploading a template that came by mail (compiler_import).
VIA_COMPILER, VIA_COMPILER_IMPORT = "compiler", "compiler_import"


VIA_FEED = "feed"  # a fed part (nesting.py) submitted by the compiler of the campaign that feeds it


def by_compiler(via: str) -> bool:
    return via in (VIA_COMPILER, VIA_COMPILER_IMPORT)

CONFIRM_WARNINGS = "Tôi xác nhận các số liệu này là đúng"  # what the clerk ticks to submit flagged values
STATUS_NAMES = {"todo": "Chưa bắt đầu", "part": "Đang nhập", "returned": "Bị trả lại", PART_SUBMITTED: "Đã nộp",
                PART_ACCEPTED: "Đã duyệt"}


TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # campaign dates are local dates; a deadline is the end of its day


def campaign_today() -> dt.date:
    return dt.datetime.now(TIMEZONE).date()


class Refused(Exception):
    """A transition or a write that is not allowed now; ``str()`` is the message for the user."""


class NotInCampaign(Refused):
    """The unit does not report in the campaign (lock_part found no part to lock)."""


def part_of(session: Session, campaign: Campaign, unit: Unit) -> CampaignUnit:
    cu = session.get(CampaignUnit, (campaign.id, unit.id))
    if cu is None:
        raise Refused(f"{unit.name} không thuộc đợt báo cáo này.")
    return cu


def in_campaign(session: Session, campaign: Campaign, unit: Unit) -> bool:
    """Whether ``unit`` reports in ``campaign``: one lookup of its part by key (never the campaign's
    list of units, which may hold thousands; a part already read costs nothing)."""
    return session.get(CampaignUnit, (campaign.id, unit.id)) is not None


def fmt(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def deadline_of(campaign: Campaign, unit: Unit) -> dt.date:
    """The unit's own deadline: its kind's in the campaign (campaign_deadline), else the campaign's.
    Whatever judges or shows a unit's deadline asks here (or open_until, which adds its extension)."""
    return campaign.deadline_for(unit.kind)


def open_until(campaign: Campaign, cu: CampaignUnit) -> dt.date:
    """The last day the unit may enter: its deadline, or its extension when later."""
    deadline = deadline_of(campaign, cu.unit)
    if cu.extended_until and cu.extended_until > deadline:
        return cu.extended_until
    return deadline


def status_of(cu: CampaignUnit, started: bool) -> str:
    """todo, part, returned, submitted or accepted (the keys of STATUS_NAMES)."""
    if cu.status != PART_OPEN:
        return cu.status
    if cu.return_reason:
        return "returned"
    # a fed part (nesting.py) is its campaign's appendix: in progress while that campaign runs
    return "part" if started or cu.source_campaign_id is not None else "todo"


def closed_reason(campaign: Campaign, cu: CampaignUnit, via: str = "web", today: dt.date | None = None) -> str | None:
    """Why the part cannot be written now (None: it can). ``via`` compiler: a compiler's correction,
    which neither the deadline nor a submission stops."""
    if campaign.status != CAMPAIGN_OPEN:
        return "Đợt báo cáo đã kết thúc: không nhập, sửa số liệu được nữa."
    if cu.source_campaign_id is not None and via != VIA_FEED:
        return ("Phần này được tổng hợp từ đợt báo cáo của đơn vị (cấp dưới): sửa số liệu ở đợt đó, "
                "không nhập trực tiếp ở đây.")
    if cu.status == PART_ACCEPTED:
        if by_compiler(via):
            return "Phần này đã được duyệt: mở lại (Mở lại để sửa) trước khi sửa số liệu."
        return "Phần của đơn vị đã được duyệt: không sửa được nữa."
    if by_compiler(via):
        return None
    if cu.status == PART_SUBMITTED:
        return ("Đơn vị đã nộp báo cáo, đang chờ duyệt: không sửa được. Cần sửa thì đề nghị bộ phận "
                "tổng hợp trả lại.")
    last = open_until(campaign, cu)
    if (today or campaign_today()) > last:
        return (f"Đã quá hạn nộp ({fmt(last)}): không nhập được nữa. Liên hệ bộ phận tổng hợp để "
                f"được gia hạn.")
    return None


def lock_part(session: Session, campaign: Campaign, unit: Unit) -> CampaignUnit:
    """Take the write lock of a unit's part for the rest of the transaction, and read its state and
    the campaign's as they stand under that lock (``campaign`` is refreshed in place).

    Checks read the unit's other values (a row's "of which ≤ total") and its status; two writes
    checked at the same time against the same old state could together break a rule or slip past a
    submission. Bumping the unit's revision first makes the second wait (SQLite's write lock,
    PostgreSQL's row lock) and then re-read. The campaign row is read again under a shared lock:
    a close committed since the request began is seen, and a close asked for now waits until this
    write ends (PostgreSQL; on SQLite the write lock already covers the whole database).
    """
    cu = session.scalars(_BUMP_PART, {"part_campaign": campaign.id, "part_unit": unit.id},
                         execution_options=_UNDER_LOCK).one_or_none()
    outline_row = campaign.__dict__.get("outline_row")  # a stored outline version never changes
    fresh = session.scalars(_CAMPAIGN_UNDER_LOCK, {"campaign_id": campaign.id}).unique().one()
    if fresh is not campaign:  # every caller passes the campaign of this session
        raise RuntimeError("lock_part needs the campaign read in the same session")
    if outline_row is not None:  # keep it loaded rather than read it again after the refresh
        set_committed_value(campaign, "outline_row", outline_row)
    if cu is None:
        raise NotInCampaign(f"{unit.name} không thuộc đợt báo cáo này.")
    return cu


@dataclass
class LockedPart:
    """A unit's part locked for the transaction (lock_table_part): the campaign and the part's state
    read under the lock, the unit, the column groups it fills in the table named, and the stored
    values of the row named: (id, row key, column key, number, text, version) each."""

    campaign: Campaign
    unit: Unit
    state: CampaignUnit
    groups: set[str]
    values: list[tuple]


def lock_table_part(session: Session, campaign_code: str, table_code: str, row_key: str, unit: Unit | None = None,
                    unit_code: str | None = None) -> LockedPart | None:
    """lock_part for a write that knows only names (a one-cell save): the campaign by its code, the
    unit given or by its code. Two statements: the lock, which also returns the unit's column groups
    of ``table_code`` (its assignments), and the campaign (with the unit when named by code) with the
    unit's stored values of the row ``row_key`` of that table, under it. None when there is no such
    part (no such campaign or unit, or the unit is not in the campaign): nothing was locked. The
    caller judges the campaign and the part (closed_reason)."""
    if unit is not None:
        statement, params = _BUMP_TABLE_PART, {"code": campaign_code, "part_unit": unit.id, "table_code": table_code}
    else:
        statement, params = _BUMP_TABLE_PART_BY_CODE, {"code": campaign_code, "unit_code": unit_code,
                                                       "table_code": table_code}
    found = session.execute(statement, params, execution_options=_UNDER_LOCK).one_or_none()
    if found is None:
        return None
    cu, groups = found
    params = {"campaign_id": cu.campaign_id, "unit_id": cu.unit_id, "table_code": table_code, "row_key": row_key}
    values = []
    named = unit is None  # the unit comes with the campaign
    # one result row per stored value of the row (one with no value when none is stored) and deadline
    for campaign, *read in session.execute(_CAMPAIGN_UNIT_AND_ROW_UNDER_LOCK if named else _CAMPAIGN_AND_ROW_UNDER_LOCK,
                                           params).unique():
        if named:
            unit = read.pop(0)
        if read[0] is not None:
            values.append(tuple(read))
    return LockedPart(campaign, unit, cu, set(groups.split()) if groups else set(), values)


# The statements of the lock, built once (a save builds none of them again).
_UNDER_LOCK = {"populate_existing": True, "synchronize_session": False}
_BUMP = update(CampaignUnit).values(revision=CampaignUnit.revision + 1)
# (bind names other than the columns': an UPDATE keeps those for its SET clause)
_BUMP_PART = _BUMP.where(CampaignUnit.campaign_id == bindparam("part_campaign"),
                         CampaignUnit.unit_id == bindparam("part_unit")).returning(CampaignUnit)
_CAMPAIGN_OF_CODE = select(Campaign.id).where(Campaign.code == bindparam("code")).scalar_subquery()
_UNIT_OF_CODE = select(Unit.id).where(Unit.code == bindparam("unit_code")).scalar_subquery()


def _bump_table_part(unit_id):
    """The lock of the part of the campaign named ``code`` and the unit ``unit_id`` (a bind or a
    subquery), returning its row and the unit's groups of ``table_code`` separated by spaces. The
    groups' subquery names its keys by binds, not by the updated row: SQLite's RETURNING writes
    the row's columns unqualified, which inside the subquery would name the assignment's own."""
    groups = (select(func.aggregate_strings(Assignment.group_key, " "))
              .where(Assignment.campaign_id == _CAMPAIGN_OF_CODE, Assignment.unit_id == unit_id,
                     Assignment.table_code == bindparam("table_code")).scalar_subquery())
    return _BUMP.where(CampaignUnit.campaign_id == _CAMPAIGN_OF_CODE,
                       CampaignUnit.unit_id == unit_id).returning(CampaignUnit, groups)


_BUMP_TABLE_PART = _bump_table_part(bindparam("part_unit"))
_BUMP_TABLE_PART_BY_CODE = _bump_table_part(_UNIT_OF_CODE)
# the campaign with its kinds' deadlines (closed_reason reads them), one statement; FOR SHARE OF
# the campaign only (PostgreSQL refuses it on the nullable side of the outer join)
_CAMPAIGN_UNDER_LOCK = (select(Campaign).where(Campaign.id == bindparam("campaign_id"))
                        .options(joinedload(Campaign.kind_deadlines)).with_for_update(read=True, of=Campaign)
                        .execution_options(populate_existing=True))
# the same with a row's stored values (lock_table_part), with the unit for a caller that named it by code
_ROW_VALUES = (CellValue.id, CellValue.row_key, CellValue.col_key, CellValue.num, CellValue.text, CellValue.version)
_ROW_OF_PART = and_(CellValue.campaign_id == Campaign.id, CellValue.unit_id == bindparam("unit_id"),
                    CellValue.table_code == bindparam("table_code"), CellValue.row_key == bindparam("row_key"))


def _campaign_and_row(*entities):
    query = select(Campaign, *entities, *_ROW_VALUES).select_from(Campaign)
    if entities:
        query = query.join(Unit, Unit.id == bindparam("unit_id"))
    return (query.outerjoin(CellValue, _ROW_OF_PART).where(Campaign.id == bindparam("campaign_id"))
            .options(joinedload(Campaign.kind_deadlines)).with_for_update(read=True, of=Campaign)
            .execution_options(populate_existing=True))


_CAMPAIGN_AND_ROW_UNDER_LOCK = _campaign_and_row()
_CAMPAIGN_UNIT_AND_ROW_UNDER_LOCK = _campaign_and_row(Unit)


def _audit(session: Session, campaign: Campaign, unit: Unit | None, user: User | None, action: str,
           old: str | None = None, new: str | None = None, via: str = "web") -> None:
    session.add(AuditEvent(user_id=user.id if user else None, campaign_id=campaign.id,
                           unit_id=unit.id if unit else None, action=action, via=via, old=old, new=new))


# ------------------------------------------------------------------------------------ the unit's side

@dataclass
class Gap:
    """An input the unit has not filled (or a list without rows), for the pre-submission list."""

    table_code: str
    table_title: str
    where: str  # "Năm 2019 – Số xã có …", or "chưa có văn bản nào" (a list: values.row_noun)


@dataclass
class Problem:
    """What stops a submission: a stored value that breaks a hard rule (stored before the rule, or by
    an older version), or a rule that cannot be judged yet (``unjudged``: its whole is empty)."""

    table_code: str
    where: str
    message: str
    unjudged: bool = False


def review_part(session: Session, campaign: Campaign, unit: Unit, lines: list[QualityLine] | None = None
                ) -> tuple[list[Problem], list[Gap]]:
    """What stops a submission (hard-rule breaches, errors of the outline's checks) and what is
    still empty, table by table. ``lines``: the unit's quality lines when the caller has them."""
    from .entry.service import UnitList, owned_groups, unit_part  # entry builds on this module

    problems: list[Problem] = []
    gaps: list[Gap] = []
    owned = owned_groups(session, campaign, unit)
    for table in campaign.outline.tables:
        groups = owned.get(table.code)
        if not groups:
            continue
        part = unit_part(session, campaign, unit, table, groups)
        if isinstance(part, UnitList):
            if not part.rows:
                gaps.append(Gap(table.code, table.title, f"chưa có {row_noun(table)} nào"))
            continue
        for lrow in part.layout.rows:
            numbers = part.numbers(lrow.key)
            block = table.blocks[lrow.block]
            for breach in check_rules(block, row_values(table, numbers, lrow.key), level="error"):
                problems.append(Problem(table.code, lrow.label, breach.message))
            problems.extend(Problem(table.code, lrow.label, message, unjudged=True)
                            for message in _unjudged_rules(table, block, numbers, lambda key: part.owns(lrow.key, key)))
            for cell in lrow.cells:
                c = cell.column
                if c.kind.counts_as_expected and part.owns(lrow.key, c.key) and numbers.get(c.key) is None:
                    gaps.append(Gap(table.code, table.title, f"{lrow.label} – {c.label}"))
    for line in lines if lines is not None else quality_lines(session, campaign, unit):
        if line.level == "error" and not line.finding.check_id.startswith("rule:"):  # the rules are judged above
            problems.append(Problem(line.finding.table_code, line.place, line.message))
    return problems, gaps


def _unjudged_rules(table, block, numbers: dict, owns) -> list[str]:
    """Hard rules that cannot be judged because the whole is empty while its part has a number
    ("of which" 18, the total blank): a submitted part must let every rule be checked. While
    entering, such a row is fine (the total may come next); at submission it is not."""
    out = []
    for rule in block.rules:
        if rule.level != "error" or rule.op in ("=", "!=") or not (rule.relation.left.is_key and rule.relation.right.is_key):
            continue  # "of which ≤ total" between two cells; a sum or an equality has no single whole
        part_key, whole_key = (rule.left, rule.right) if rule.op in ("<", "<=") else (rule.right, rule.left)
        if numbers.get(whole_key) is None and numbers.get(part_key) and owns(whole_key):
            whole, piece = table.column(whole_key), table.column(part_key)
            out.append(f"«{whole.label}» còn trống trong khi «{piece.label}» là {numbers[part_key]}: "
                       f"nhập «{whole.label}» hoặc xóa số kia")
    return out


def submit(session: Session, campaign: Campaign, unit: Unit, user: User, confirm_gaps: bool = False,
           today: dt.date | None = None, confirm_warnings: bool = False,
           counted: Counted = Counted.ALL) -> CampaignUnit:
    """Submit the unit's part. Refused when the part is not open, a hard rule is broken, cells
    are empty and the clerk has not confirmed that they have no figures for them, or values are
    flagged by a warning and the clerk has not confirmed them (the confirmation is stored).
    A fed part (nesting.py) is frozen as its campaign's appendix counting ``counted`` parts, that
    basis kept beside it."""
    cu = lock_part(session, campaign, unit)
    fed = cu.source_campaign_id is not None  # its values are its campaign's: frozen here, checked there
    try:
        reason = closed_reason(campaign, cu, via=VIA_FEED if fed else "web", today=today)
        if reason:
            raise Refused(reason)
        lines = [] if fed else quality_lines(session, campaign, unit)
        problems, gaps = ([], []) if fed else review_part(session, campaign, unit, lines)
        warnings = open_warnings(lines)
        if problems:
            raise Refused(f"Chưa nộp được: {len(problems)} chỗ vi phạm điều kiện (ví dụ {problems[0].table_code}, "
                          f"{problems[0].where}: {problems[0].message}). Sửa rồi nộp lại.")
        if gaps and not confirm_gaps:
            raise Refused(f"Còn {len(gaps)} ô trống. Nhập nốt, hoặc đánh dấu xác nhận là không có số liệu "
                          f"rồi nộp.")
        if warnings and not confirm_warnings:
            raise Refused(f"Còn {len(warnings)} cảnh báo chưa được xác nhận (ví dụ {warnings[0].place}: "
                          f"{warnings[0].message}). Xem lại các số liệu này; nếu đúng, đánh dấu «{CONFIRM_WARNINGS}» "
                          f"rồi nộp.")
    except Refused:
        session.rollback()
        raise
    late = (today or campaign_today()) > deadline_of(campaign, unit)
    cu.status, cu.submitted_at, cu.submitted_late = PART_SUBMITTED, utcnow(), late
    cu.return_reason = None
    if fed:  # the part as it stands now, kept until a return reopens it (nesting.py)
        cu.snapshot = {**assemble(session, cu.source_campaign_id, campaign.outline, campaign.frame,
                                  counted=counted).to_json(),
                       "basis": count_basis(session, cu.source_campaign_id, counted).to_json()}
    for note in session.scalars(select(ReturnNote).where(ReturnNote.campaign_id == campaign.id,
                                                         ReturnNote.unit_id == unit.id,
                                                         ReturnNote.resolved_at.is_(None))):
        note.resolved_at = cu.submitted_at
    confirm(session, campaign, unit, user, warnings)
    _audit(session, campaign, unit, user, "submit", new=("nộp muộn" if late else "đúng hạn")
           + (f", {len(gaps)} ô trống được xác nhận" if gaps else "")
           + (f", {len(warnings)} cảnh báo được xác nhận" if warnings else ""))
    session.commit()
    return cu


# --------------------------------------------------------------------------------- the compiler's side

def accept(session: Session, campaign: Campaign, units: list[Unit], user: User) -> list[str]:
    """Accept submitted parts (several at once); returns the names of those not submitted, left as they are."""
    skipped = []
    for unit in units:
        cu = _lock_open(session, campaign, unit)
        if cu.status != PART_SUBMITTED:
            skipped.append(unit.name)
            continue
        cu.status, cu.decided_at = PART_ACCEPTED, utcnow()
        _audit(session, campaign, unit, user, "accept", old=PART_SUBMITTED, new=PART_ACCEPTED)
    session.commit()
    return skipped


@dataclass
class NotePlace:
    """Where a return points: a table, optionally one row and one column of it."""

    table_code: str | None = None
    row_key: str | None = None
    col_key: str | None = None


def return_parts(session: Session, campaign: Campaign, units: list[Unit], user: User, reason: str,
                 place: NotePlace | None = None) -> list[str]:
    """Send submitted (or accepted) parts back to their units with a reason, optionally pointing at a
    table, row and column; returns the names of the units whose part was not submitted."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise Refused("Ghi lý do trả lại để đơn vị biết cần sửa gì.")
    if len(reason) > 2000:
        raise Refused("Lý do trả lại dài quá 2.000 ký tự.")
    place = place or NotePlace()
    _check_place(campaign, place)
    skipped = []
    for unit in units:
        cu = _lock_open(session, campaign, unit)
        if cu.status not in (PART_SUBMITTED, PART_ACCEPTED):
            skipped.append(unit.name)
            continue
        old = cu.status
        cu.status, cu.decided_at, cu.return_reason = PART_OPEN, utcnow(), reason
        cu.snapshot = None  # a fed part is assembled live again (nesting.py)
        session.add(ReturnNote(campaign_id=campaign.id, unit_id=unit.id, table_code=place.table_code,
                               row_key=place.row_key, col_key=place.col_key, text=reason, created_by_id=user.id))
        _audit(session, campaign, unit, user, "return", old=old, new=reason)
    session.commit()
    return skipped


def _lock_open(session: Session, campaign: Campaign, unit: Unit) -> CampaignUnit:
    """lock_part for a compiler's decision, which only an open campaign takes (judged under the lock)."""
    cu = lock_part(session, campaign, unit)
    if campaign.status != CAMPAIGN_OPEN:
        session.rollback()
        raise Refused("Đợt báo cáo đã kết thúc: mở lại đợt trước khi duyệt, trả lại hay gia hạn.")
    return cu


def _check_place(campaign: Campaign, place: NotePlace) -> None:
    if not place.table_code:
        if place.row_key or place.col_key:
            raise Refused("Chọn bảng trước khi chọn dòng, cột.")
        return
    try:
        table = campaign.outline.table(place.table_code)
    except KeyError:
        raise Refused("Không có bảng này trong đề cương.") from None
    if place.col_key:
        try:
            table.column(place.col_key)
        except KeyError:
            raise Refused("Không có cột này trong bảng.") from None
    if place.row_key and not table.is_list:
        keys = {spec.key for block in table.blocks for spec in block.row_specs(campaign.frame)}
        if place.row_key not in keys:
            raise Refused("Không có dòng này trong bảng.")


def reopen(session: Session, campaign: Campaign, unit: Unit, user: User) -> None:
    """Put an accepted part back to submitted, so that it can be corrected or returned."""
    cu = _lock_open(session, campaign, unit)
    if cu.status != PART_ACCEPTED:
        session.rollback()
        raise Refused(f"Phần của {unit.name} chưa được duyệt: không cần mở lại.")
    cu.status, cu.decided_at = PART_SUBMITTED, utcnow()
    _audit(session, campaign, unit, user, "reopen", old=PART_ACCEPTED, new=PART_SUBMITTED)
    session.commit()


def extend(session: Session, campaign: Campaign, unit: Unit, user: User, until: dt.date | None) -> None:
    """Grant the unit time until ``until`` (end of that day); None withdraws the extension."""
    cu = _lock_open(session, campaign, unit)
    if until is not None and until < campaign_today():
        session.rollback()
        raise Refused("Ngày gia hạn phải từ hôm nay trở đi.")
    deadline = deadline_of(campaign, unit)
    if until is not None and until <= deadline:
        session.rollback()
        raise Refused(f"Ngày gia hạn phải sau hạn gửi của đơn vị ({fmt(deadline)}).")
    old = cu.extended_until
    if old == until:  # granted already (a second click, another tab): nothing changes, nothing recorded
        session.rollback()
        return
    cu.extended_until = until
    _audit(session, campaign, unit, user, "extend", old=fmt(old) if old else None, new=fmt(until) if until else None)
    session.commit()


def set_campaign_status(session: Session, campaign: Campaign, user: User, status: str) -> None:
    """Close the campaign (nothing can be entered, submitted or decided) or open it again."""
    if status not in (CAMPAIGN_OPEN, CAMPAIGN_CLOSED):
        raise Refused("Trạng thái không hợp lệ.")
    # One conditional UPDATE decides and changes at once: of two requests asking for the same
    # state, the second finds it done (it waits for the first's row lock, then matches no row).
    # On PostgreSQL it also waits for the writes under way, which hold the campaign's shared lock.
    changed = session.execute(update(Campaign).where(Campaign.id == campaign.id, Campaign.status != status)
                              .values(status=status)).rowcount
    if changed:
        _audit(session, campaign, None, user, "close" if status == CAMPAIGN_CLOSED else "open",
               old=CAMPAIGN_OPEN if status == CAMPAIGN_CLOSED else CAMPAIGN_CLOSED, new=status)
    session.commit()
    session.refresh(campaign)


def open_notes(session: Session, campaign: Campaign, unit: Unit) -> list[ReturnNote]:
    """The return notes the unit has not yet answered by submitting again."""
    return list(session.scalars(select(ReturnNote).where(
        ReturnNote.campaign_id == campaign.id, ReturnNote.unit_id == unit.id, ReturnNote.resolved_at.is_(None))
        .order_by(ReturnNote.id)))

