"""What the demo campaigns of the seeds share: a campaign of the Lộc Ninh communes (ln-01 … ln-16)
compiled by the district's Ban Tuyên giáo, its rows stored through a clerk's checks, parts submitted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import demo, outline_store, workflow
from .campaigns import CampaignSpec, create_campaign
from .entry.service import UnitTable
from .models import Campaign, Unit, User

COMMUNE_CODES = [f"ln-{i:02d}" for i in range(1, 17)]


def commune_campaign(session: Session, today: dt.date, code: str, outline_code: str, name: str,
                     description: str, years: tuple[int, int]) -> Campaign | None:
    """A new campaign of ``outline_code`` (version 1) on the demo communes, due 21 days after
    ``today``; None (and no change) when ``code`` is already there."""
    if session.scalar(select(Campaign).where(Campaign.code == code)) is not None:
        return None
    communes = list(session.scalars(select(Unit).where(Unit.code.in_(COMMUNE_CODES)).order_by(Unit.code)))
    outline_store.store_shipped(session)
    return create_campaign(session, outline_store.find(session, outline_code, 1), CampaignSpec(
        code=code, name=name, description=description + " (Bản trình diễn: hạn gửi được đặt 21 ngày sau ngày nạp "
                                                         "dữ liệu.)",
        year_from=years[0], year_to=years[1], deadline=today + dt.timedelta(days=21),
        compiler_unit=session.scalar(select(Unit).where(Unit.code == demo.COMPILER[0])), units=communes), via="demo")


def store_rows(session: Session, campaign: Campaign, unit: Unit, rows: dict[str, dict[str, object]]) -> None:
    """Store ``unit``'s ``rows`` (row key -> column key -> value) in every table of the campaign
    holding those columns, each value through the same checks as a clerk's entry."""
    for table in campaign.outline.tables:
        keys = {c.key for c in table.columns}
        part = UnitTable(session, campaign, unit, table)
        for row_key, values in rows.items():
            mine = {k: v for k, v in values.items() if k in keys}
            if mine:
                demo._store(part, row_key, mine)


def submit_parts(session: Session, campaign: Campaign, units: list[Unit], today: dt.date) -> None:
    """Submit ``units``' parts as their clerks would (confirming the cells they left empty)."""
    for unit in units:
        clerk = session.scalar(select(User).where(User.username == unit.code))
        workflow.submit(session, campaign, unit, clerk, confirm_gaps=True, today=today)
