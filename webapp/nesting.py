"""Nested levels: a province campaign whose reporting units are districts, each fed by its own campaign.

A unit's part of a campaign is either the cells it enters, or — when the campaign names a *source*
campaign for it (campaign_unit.source_campaign_id) — the source's whole assembled appendix: a
district's part of the province campaign is the district's own campaign assembled (its communes'
parts and its district bodies' cells), exactly what the district's compiler sees. It is LIVE
(assembled when read) while the district's part is open, and frozen as it stood when the district
submits it (campaign_unit.snapshot, taken by workflow.submit); a return reopens it, live again.
domain/assembly.nested_parts reads both, through assembly.assemble: there is one summing path.

"Tổng số huyện" needs nothing special: a district's assembled appendix counts its district body
once (the fixed 1 of the unit that owns the ``Cấp huyện`` group), so the province's sum counts the
districts. The fed unit owns, in the province campaign, the column groups its source assigns to any
of its units (so the breakdown by unit lists it), but enters nothing itself; the province's own units
(kind ``tinh``) enter their cells (kl49's "Công chức cấp tỉnh") as any unit does.

Who does what: the district's compiler (the compiler of the source campaign) submits the district's
part to the province from the district's desk; the province's compiler reviews it (accept, return)
like any part, and may open (read only) the district's campaign pages, down to any commune's table.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .domain.assembly import count_basis
from .domain.parts import Basis, Counted
from .models import PART_OPEN, Assignment, AuditEvent, Campaign, CampaignUnit, CellValue, ListRow, Unit, User


class NestRefused(ValueError):
    """Why a campaign cannot feed a unit's part; ``str()`` is the message for the user."""


def link(session: Session, campaign: Campaign, unit: Unit, source: Campaign, user: User | None = None,
         via: str = "web") -> None:
    """Make ``source``'s assembled appendix ``unit``'s part of ``campaign``. The two must share the
    outline version and years (the part is assembled on ``campaign``'s outline and frame), the outline
    may have no block whose rows are the units, no loop of campaigns, the unit's part is open and it
    has entered nothing in ``campaign``. The unit is given every column group ``source`` assigns to any of its units."""
    cu = session.get(CampaignUnit, (campaign.id, unit.id))
    if cu is None:
        raise NestRefused(f"{unit.name} không thuộc đợt {campaign.code}.")
    if cu.status != PART_OPEN:
        raise NestRefused(f"Phần của {unit.name} đã nộp: trả lại phần này trước khi đổi đợt cấp dưới của nó.")
    if (source.outline_code, source.outline_version) != (campaign.outline_code, campaign.outline_version):
        raise NestRefused(f"Đợt {source.code} dùng đề cương {source.outline_code}@{source.outline_version}, "
                          f"khác đợt {campaign.code} ({campaign.outline_code}@{campaign.outline_version}).")
    if source.years != campaign.years:
        raise NestRefused(f"Đợt {source.code} ({source.year_from}–{source.year_to}) khác các năm của đợt "
                          f"{campaign.code} ({campaign.year_from}–{campaign.year_to}).")
    if any(block.by_unit for table in campaign.outline.tables for block in table.blocks):
        raise NestRefused("Đề cương có biểu mỗi dòng một đơn vị: không tổng hợp lồng cấp được.")
    if campaign.id in {source.id, *(c.id for c in sources(session, source))}:
        raise NestRefused(f"Đợt {source.code} đã lấy số liệu từ đợt {campaign.code}: không lồng vòng được.")
    stored = sum(session.scalar(select(func.count()).select_from(model).where(
        model.campaign_id == campaign.id, model.unit_id == unit.id)) or 0 for model in (CellValue, ListRow))
    if stored:
        raise NestRefused(f"{unit.name} đã tự nhập {stored} giá trị trong đợt {campaign.code}.")
    groups = set(session.execute(select(Assignment.table_code, Assignment.group_key)
                                 .where(Assignment.campaign_id == source.id)).all())
    session.execute(delete(Assignment).where(Assignment.campaign_id == campaign.id, Assignment.unit_id == unit.id))
    session.add_all(Assignment(campaign_id=campaign.id, unit_id=unit.id, table_code=t, group_key=g)
                    for t, g in sorted(groups))
    cu.source_campaign_id, cu.snapshot = source.id, None
    session.add(AuditEvent(user_id=user.id if user else None, campaign_id=campaign.id, unit_id=unit.id,
                           action="nest", via=via, new=source.code))
    session.flush()


def sources(session: Session, campaign: Campaign) -> list[Campaign]:
    """Every campaign below ``campaign``: those feeding its units' parts, and theirs, and so on."""
    found: list[Campaign] = []
    todo = [campaign.id]
    while todo:
        below = list(session.scalars(select(Campaign).join(CampaignUnit, CampaignUnit.source_campaign_id == Campaign.id)
                                     .where(CampaignUnit.campaign_id.in_(todo))))
        below = [c for c in below if c not in found and c.id != campaign.id]
        found.extend(below)
        todo = [c.id for c in below]
    return found


@dataclass
class Feed:
    """One part ``source`` feeds: ``unit``'s part of the campaign above, and where it stands;
    ``choices`` what each choice of counted parts would send up now, ``sent`` what was sent (a
    submitted part; None while it is open)."""

    campaign: Campaign
    unit: Unit
    part: CampaignUnit
    choices: dict[Counted, Basis]

    @property
    def sent(self) -> Basis | None:
        basis = (self.part.snapshot or {}).get("basis")
        return Basis.from_json(basis) if basis else None


def feeds(session: Session, source: Campaign) -> list[Feed]:
    """The parts of campaigns above that ``source`` feeds (a district campaign: its district's part
    of the province campaign)."""
    rows = list(session.scalars(select(CampaignUnit).where(CampaignUnit.source_campaign_id == source.id)))
    choices = {counted: count_basis(session, source.id, counted) for counted in Counted} if rows else {}
    return [Feed(cu.campaign, cu.unit, cu, choices) for cu in rows]


def upper_compiler_units(session: Session, campaign: Campaign) -> set[int]:
    """The units compiling a campaign that ``campaign`` feeds, directly or through others: their
    compilers may read ``campaign``'s pages (the province sees down to any commune)."""
    found: set[int] = set()
    todo = [campaign.id]
    seen: set[int] = set()
    while todo:
        seen.update(todo)
        above = session.execute(select(Campaign.id, Campaign.compiler_unit_id)
                                .join(CampaignUnit, CampaignUnit.campaign_id == Campaign.id)
                                .where(CampaignUnit.source_campaign_id.in_(todo))).all()
        found.update(unit_id for _, unit_id in above)
        todo = [cid for cid, _ in above if cid not in seen]
    return found
