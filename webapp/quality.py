"""The quality of a campaign's stored values: every error and warning of its checks, and the
confirmations of warnings that units gave when submitting.

No Flask here: the review's data-quality page, the ``checks`` command, the submission
(workflow.submit) and the entry page read the same list. The values are read in a few queries
and judged by webapp/domain/checks.py.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .domain.checks import CampaignValues, Finding, UnitNode, campaign_findings
from .domain.layout import build_layout
from .domain.workbook import _open
from .models import Assignment, AuditEvent, Campaign, CampaignUnit, CellValue, Unit, User, WarningConfirmation, utcnow

LEVEL_NAMES = {"error": "Lỗi", "warning": "Cảnh báo"}


@dataclass(frozen=True)
class QualityLine:
    """One finding as the compiler's list shows it."""

    finding: Finding
    unit: Unit
    sheet: str
    address: str  # the cell, A1 style, in the unit's template and in the appendix
    confirmed_at: dt.datetime | None = None

    @property
    def place(self) -> str:
        """``Sheet!Cell``, as the import's messages name a cell."""
        return f"{self.sheet}!{self.address}"

    @property
    def level(self) -> str:
        return self.finding.level

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.finding.level]

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def message(self) -> str:
        return self.finding.message

    @property
    def open_warning(self) -> bool:
        """A warning the unit has not confirmed (for these values)."""
        return self.finding.level == "warning" and not self.confirmed


def previous_campaign(session: Session, campaign: Campaign) -> Campaign | None:
    """The latest campaign of the same outline created before this one (its values are the
    previous period's for the outlier check)."""
    return session.scalar(select(Campaign).where(Campaign.outline_code == campaign.outline_code,
                                                 Campaign.id < campaign.id).order_by(Campaign.id.desc()).limit(1))


def _numbers(session: Session, campaign_id: int, unit_ids: list[int] | None = None) -> dict:
    query = select(CellValue.unit_id, CellValue.table_code, CellValue.row_key, CellValue.col_key, CellValue.num).where(
        CellValue.campaign_id == campaign_id, CellValue.num.is_not(None)).order_by(CellValue.id)
    if unit_ids is not None:
        query = query.where(CellValue.unit_id.in_(unit_ids))
    return {(u, t, r, c): n for u, t, r, c, n in session.execute(query)}


def campaign_values(session: Session, campaign: Campaign, around: Unit | None = None,
                    changes: dict[tuple[str, str, str], int | None] | None = None
                    ) -> tuple[CampaignValues, dict[int, Unit]]:
    """What the checks judge: the campaign's units (with their place in the unit tree), their
    stored numbers and groups, and the previous campaign's numbers of the same units.

    ``around``: only what that unit's own findings need (it, its children in the campaign);
    ``changes``: its values (table code, row key, column key) → number as if stored already."""
    query = (select(Unit).join(CampaignUnit, CampaignUnit.unit_id == Unit.id)
             .where(CampaignUnit.campaign_id == campaign.id).order_by(Unit.sort_order, Unit.id))
    if around is not None:
        query = query.where(or_(Unit.id == around.id, Unit.parent_id == around.id))
    units = list(session.scalars(query))
    ids = [u.id for u in units] if around is not None else None
    groups: dict[int, dict[str, set[str]]] = {}
    assigned = select(Assignment.unit_id, Assignment.table_code, Assignment.group_key).where(
        Assignment.campaign_id == campaign.id)
    if ids is not None:
        assigned = assigned.where(Assignment.unit_id.in_(ids))
    for unit_id, table_code, group_key in session.execute(assigned):
        groups.setdefault(unit_id, {}).setdefault(table_code, set()).add(group_key)
    before = previous_campaign(session, campaign)
    previous = _numbers(session, before.id, [around.id] if around else [u.id for u in units]) if before else {}
    stored = _numbers(session, campaign.id, ids)
    for (table_code, row_key, col_key), num in (changes or {}).items():
        key = (around.id, table_code, row_key, col_key)
        if num is None:
            stored.pop(key, None)
        else:
            stored[key] = num
    nodes = [UnitNode(u.id, u.code, u.parent_id) for u in units]
    data = CampaignValues(campaign.outline, campaign.years, nodes, stored, groups, previous)
    return data, {u.id: u for u in units}


def unit_check_findings(session: Session, campaign: Campaign, unit: Unit,
                        changes: dict[tuple[str, str, str], int | None] | None = None) -> list[Finding]:
    """The findings of the outline's checks (same, covers, outlier; not the rules of a row, which
    the entry judges on the row it holds) at ``unit``'s cells, ``changes`` as if stored. Nothing
    is read for an outline without such checks."""
    if not campaign.outline.checks:
        return []
    data, _ = campaign_values(session, campaign, around=unit, changes=changes)
    return campaign_findings(data, [unit.id], rules=False)


def quality_lines(session: Session, campaign: Campaign, unit: Unit | None = None,
                  table_code: str | None = None) -> list[QualityLine]:
    """Every error and warning of the campaign's stored values (of one unit, one table), with the
    cell's address and whether the unit confirmed it, in the outline's order."""
    data, units = campaign_values(session, campaign, around=unit)
    findings = campaign_findings(data, [unit.id] if unit is not None else None)
    if table_code is not None:
        findings = [f for f in findings if f.table_code == table_code]
    confirmed = confirmations(session, campaign, unit)
    layouts = {}
    lines = []
    for f in findings:
        table = campaign.outline.table(f.table_code)
        if table.code not in layouts:
            layouts[table.code] = build_layout(table, campaign.frame)
        try:
            address = layouts[table.code].find(f.row_key, f.col_key).address
        except KeyError:  # a row the layout does not print (a period outside the campaign's years)
            address = f"{f.row_key}:{f.col_key}"
        stored = confirmed.get(_key(f))
        at = stored.confirmed_at if stored is not None and stored.detail == f.detail else None
        lines.append(QualityLine(f, units[f.unit_id], table.sheet, address, at))
    return lines


def _key(finding: Finding) -> tuple[int, str, str, str, str]:
    """A finding's confirmation key as stored (its check's name cut to the column's length)."""
    return finding.cell[:-1] + (finding.check_id[:CHECK_ID_MAX],)


CHECK_ID_MAX = 300  # WarningConfirmation.check_id


def open_warnings(lines: list[QualityLine]) -> list[QualityLine]:
    return [line for line in lines if line.open_warning]


def confirmations(session: Session, campaign: Campaign, unit: Unit | None = None
                  ) -> dict[tuple[int, str, str, str, str], WarningConfirmation]:
    query = select(WarningConfirmation).where(WarningConfirmation.campaign_id == campaign.id)
    if unit is not None:
        query = query.where(WarningConfirmation.unit_id == unit.id)
    return {(c.unit_id, c.table_code, c.row_key, c.col_key, c.check_id): c for c in session.scalars(query)}


def confirm_warnings(session: Session, campaign: Campaign, unit: Unit, user: User | None,
                     lines: list[QualityLine], via: str = "web") -> int:
    """Record that the unit confirms these open warnings (for their current values), each with its
    audit event, in the caller's transaction; returns how many were recorded."""
    stored = confirmations(session, campaign, unit)
    count = 0
    for line in lines:
        f = line.finding
        if not line.open_warning or f.unit_id != unit.id:
            continue
        row = stored.get(_key(f))
        if row is None:
            row = WarningConfirmation(campaign_id=campaign.id, unit_id=unit.id, table_code=f.table_code,
                                      row_key=f.row_key, col_key=f.col_key, check_id=_key(f)[-1])
            session.add(row)
        row.detail, row.confirmed_at = f.detail[:300], utcnow()
        row.confirmed_by_id = user.id if user else None
        session.add(AuditEvent(user_id=row.confirmed_by_id, campaign_id=campaign.id, unit_id=unit.id,
                               action="warning_confirm", via=via, table_code=f.table_code, row_key=f.row_key,
                               col_key=f.col_key, new=f"{f.message} ({f.detail})"))
        count += 1
    return count


# --- the compiler's list: sorted, filtered, written out -------------------------------------------

QUALITY_COLUMNS = (("unit", "Đơn vị"), ("table", "Biểu"), ("cell", "Ô"), ("message", "Nội dung"),
                   ("level", "Mức"), ("confirmed", "Đơn vị xác nhận"))
SORT_KEYS = tuple(key for key, _ in QUALITY_COLUMNS)


def sorted_lines(lines: list[QualityLine], table_order: list[str], sort: str = "unit", descending: bool = False,
                 level: str | None = None) -> list[QualityLine]:
    """The list sorted by one of SORT_KEYS (then in the outline's order), of one level or all."""
    order = {line.finding.cell + (line.finding.level,): i for i, line in enumerate(lines)}
    tables = {code: i for i, code in enumerate(table_order)}

    def outline_order(line: QualityLine) -> int:
        return order[line.finding.cell + (line.finding.level,)]

    keys = {
        "unit": lambda line: (line.unit.sort_order, line.unit.id),
        "table": lambda line: tables.get(line.finding.table_code, 0),
        "cell": lambda line: (line.sheet, _cell_order(line.address)),
        "message": lambda line: line.message.casefold(),
        "level": lambda line: line.level != "error",
        "confirmed": lambda line: line.confirmed,
    }
    chosen = [line for line in lines if level is None or line.level == level]
    chosen.sort(key=outline_order)
    chosen.sort(key=keys.get(sort, keys["unit"]), reverse=descending)
    return chosen


def _cell_order(address: str) -> tuple[int, int, str]:
    """C12 → (12, len("C"), "C"): rows first, then columns as a spreadsheet orders them."""
    letters = address.rstrip("0123456789")
    digits = address[len(letters):]
    return (int(digits) if digits.isdigit() else 0, len(letters), letters)


def quality_table(lines: list[QualityLine]) -> list[list[str]]:
    """The list as rows of text for a download: a header row, then one row per finding."""
    out = [["Mã đơn vị", "Tên đơn vị", "Biểu", "Ô", "Nội dung", "Số liệu", "Mức", "Đơn vị xác nhận"]]
    for line in lines:
        confirmed = line.confirmed_at.strftime("%d/%m/%Y %H:%M") if line.confirmed_at else ""
        out.append([line.unit.code, line.unit.name, line.finding.table_code, line.place, line.message,
                    line.finding.detail, line.level_name, confirmed])
    return out


_QUALITY_WIDTHS = {0: 10, 1: 28, 3: 14, 4: 60, 5: 24, 7: 18}  # characters, by column of quality_table


def quality_xlsx(rows: list[list[str]]) -> bytes:
    """quality_table's rows as a one-sheet workbook, the header bold and frozen; every cell a string
    (never a formula, whatever it starts with)."""
    out = io.BytesIO()
    wb = _open(out)
    ws = wb.add_worksheet("Chất lượng số liệu")
    head = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.write_string(r, c, value, head if r == 0 else None)
    ws.freeze_panes(1, 0)
    for col, width in _QUALITY_WIDTHS.items():
        ws.set_column(col, col, width)
    wb.close()
    return out.getvalue()
