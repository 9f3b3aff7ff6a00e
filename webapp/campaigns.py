"""Creating campaigns: from an outline version, or as a copy of last period's for the next one.

Both check everything first and raise CampaignRefused with every problem, so that the form and the
command line show all of them and nothing is stored. Neither commits: the caller does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from .entry.service import default_assignments
from .models import Assignment, AuditEvent, Campaign, OutlineVersion, Unit, User

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
# what a campaign's documents print; copied to the next period's campaign except the report's own
# number and date
PRINT_FIELDS = ("request_document", "issuer_name", "issuer_parent", "issuer_is_party", "report_number",
                "report_date", "report_place", "signer_title", "signer_name")
COPIED_PRINT_FIELDS = ("issuer_name", "issuer_parent", "issuer_is_party", "report_place", "signer_title",
                       "signer_name")


class CampaignRefused(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class CampaignSpec:
    """What a new campaign is made of; ``units`` None means the default reporting units."""

    code: str
    name: str
    year_from: int
    year_to: int
    deadline: dt.date
    compiler_unit: Unit | None
    units: list[Unit] | None = None
    description: str = ""
    prints: dict[str, object] = field(default_factory=dict)  # PRINT_FIELDS


def descendants(session: Session, unit: Unit) -> list[Unit]:
    """Every active unit below ``unit``, depth first in the units' order."""
    out: list[Unit] = []
    for child in session.scalars(select(Unit).where(Unit.parent_id == unit.id, Unit.active)
                                 .order_by(Unit.sort_order, Unit.id)):
        out.append(child)
        out.extend(descendants(session, child))
    return out


def default_units(session: Session, outline_row: OutlineVersion, compiler_unit: Unit) -> list[Unit]:
    """Every active unit below the compiling unit's parent (the district that the compiling party
    office belongs to) whose kind the outline names as a reporting kind."""
    reporting = reporting_kinds(outline_row)
    top = compiler_unit.parent or compiler_unit
    return [u for u in descendants(session, top) if u.kind in reporting and u.id != compiler_unit.id]


def reporting_kinds(outline_row: OutlineVersion) -> set[str]:
    """The kinds that fill some table of the outline."""
    return {kind for table in outline_row.outline.tables for kind in table.owner_kinds}


def _check(session: Session, spec: CampaignSpec) -> list[str]:
    problems = []
    if not CODE_PATTERN.match(spec.code or ""):
        problems.append("Mã đợt chỉ gồm chữ thường không dấu, số, '-', '_' hoặc '.', tối đa 40 ký tự "
                        f"(đang là '{spec.code}').")
    elif session.scalar(select(Campaign.id).where(Campaign.code == spec.code)) is not None:
        problems.append(f"Mã đợt '{spec.code}' đã được dùng cho một đợt báo cáo khác.")
    if not (spec.name or "").strip():
        problems.append("Cần nhập tên đợt báo cáo.")
    elif len(spec.name) > 300:
        problems.append("Tên đợt báo cáo dài quá 300 ký tự.")
    if not (1900 <= spec.year_from <= spec.year_to <= 2200):
        problems.append(f"Các năm báo cáo không hợp lệ ({spec.year_from}–{spec.year_to}): năm đầu phải "
                        "trước hoặc bằng năm cuối.")
    elif spec.year_to - spec.year_from >= 20:
        problems.append("Một đợt báo cáo gồm tối đa 20 năm.")
    if spec.compiler_unit is None:
        problems.append("Cần chọn đơn vị tổng hợp.")
    elif not spec.compiler_unit.active:
        problems.append(f"Đơn vị tổng hợp '{spec.compiler_unit.code}' đã ngừng hoạt động.")
    if spec.units is not None and not spec.units:
        problems.append("Cần chọn ít nhất một đơn vị báo cáo.")
    for unit in spec.units or []:
        if not unit.active:
            problems.append(f"Đơn vị '{unit.code}' đã ngừng hoạt động.")
    return problems


def create_campaign(session: Session, outline_row: OutlineVersion | None, spec: CampaignSpec,
                    user: User | None = None, via: str = "web") -> Campaign:
    """A new campaign, open at once, of ``outline_row``'s exact version; its units fill what the
    outline gives their kind (see default_assignments). Raises CampaignRefused."""
    problems = _check(session, spec)
    if outline_row is None:
        problems.insert(0, "Cần chọn một đề cương đã nạp.")
    units = spec.units
    if units is None and outline_row is not None and spec.compiler_unit is not None:
        units = default_units(session, outline_row, spec.compiler_unit)
        if not units:
            problems.append("Không có đơn vị nào dưới đơn vị tổng hợp có loại mà đề cương giao điền; "
                            "hãy chọn các đơn vị báo cáo.")
    if problems:
        raise CampaignRefused(problems)
    campaign = Campaign(code=spec.code, name=spec.name.strip(), description=spec.description,
                        outline_code=outline_row.code, outline_version=outline_row.version,
                        year_from=spec.year_from, year_to=spec.year_to, compiler_unit=spec.compiler_unit,
                        deadline=spec.deadline, status="open", units=list(units))
    for name in PRINT_FIELDS:
        if name in spec.prints and spec.prints[name] is not None:
            setattr(campaign, name, spec.prints[name])
    session.add(campaign)
    session.flush()
    session.refresh(campaign)  # loads outline_row
    session.add_all(default_assignments(campaign, list(units)))
    session.add(AuditEvent(user_id=user.id if user else None, campaign_id=campaign.id, action="campaign_create",
                           via=via, new=f"{campaign.code} ({outline_row.code}@{outline_row.version})"))
    session.flush()
    return campaign


def copy_campaign(session: Session, source: Campaign, code: str, year_from: int, year_to: int,
                  deadline: dt.date, name: str | None = None, user: User | None = None,
                  via: str = "web") -> Campaign:
    """The next period's campaign: ``source``'s outline version, units (those still active) and
    assignments, and what its documents print except the report's number and date."""
    units = [u for u in source.units if u.active]
    spec = CampaignSpec(code=code, name=name or next_name(source, year_from, year_to), year_from=year_from,
                        year_to=year_to, deadline=deadline, compiler_unit=source.compiler_unit, units=units,
                        description="", prints={f: getattr(source, f) for f in COPIED_PRINT_FIELDS})
    problems = _check(session, spec)
    if source.outline_row is None:
        problems.append(f"Đề cương {source.outline_code}@{source.outline_version} của đợt nguồn không còn.")
    if problems:
        raise CampaignRefused(problems)
    campaign = Campaign(code=spec.code, name=spec.name, description="", outline_code=source.outline_code,
                        outline_version=source.outline_version, year_from=year_from, year_to=year_to,
                        compiler_unit=source.compiler_unit, deadline=deadline, status="open", units=units,
                        **spec.prints)
    session.add(campaign)
    session.flush()
    active = {u.id for u in units}
    for a in session.scalars(select(Assignment).where(Assignment.campaign_id == source.id)):
        if a.unit_id in active:
            session.add(Assignment(campaign_id=campaign.id, unit_id=a.unit_id, table_code=a.table_code,
                                   group_key=a.group_key))
    session.add(AuditEvent(user_id=user.id if user else None, campaign_id=campaign.id, action="campaign_copy",
                           via=via, old=source.code, new=campaign.code))
    session.flush()
    session.refresh(campaign)
    return campaign


def next_name(source: Campaign, year_from: int, year_to: int) -> str:
    """The source's name with its years replaced by the new ones where it names them."""
    name = source.name
    old = [f"{source.year_from}–{source.year_to}", f"{source.year_from}-{source.year_to}", str(source.year_to)]
    new = [f"{year_from}–{year_to}", f"{year_from}-{year_to}", str(year_to)]
    for before, after in zip(old, new):
        if before in name:
            return name.replace(before, after)
    return name
