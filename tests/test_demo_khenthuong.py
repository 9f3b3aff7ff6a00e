"""The demo campaign khenthuong-2020 (seed 001, IV): loaded by `flask demo` with the demo district,
staged deadlines (the communes first), a few nominations within the quota; loading it again changes
nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from conftest import in_app
from test_demo_cli import snapshot
from webapp.demo_khenthuong import CAMPAIGN_CODE, COMMUNES_DAYS, DISTRICT_DAYS, load_khenthuong
from webapp.models import Campaign, CampaignDeadline, ListRow
from webapp.workflow import campaign_today, deadline_of


def test_flask_demo_loads_the_nominations_campaign_once(empty_app):
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    today = campaign_today()
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN_CODE))
        assert (campaign.outline_code, campaign.outline_version) == ("khenthuong", 1)
        assert campaign.compiler_unit.code == "ln-btg"
        codes = [u.code for u in campaign.units]
        assert codes[:16] == [f"ln-{i:02d}" for i in range(1, 17)] and len(codes) == 20
        by_code = {u.code: u for u in campaign.units}
        assert deadline_of(campaign, by_code["ln-05"]) == today + dt.timedelta(days=COMMUNES_DAYS)
        assert deadline_of(campaign, by_code["ln-ubnd"]) == today + dt.timedelta(days=DISTRICT_DAYS)
        quota = campaign.outline.table("IV").quota
        rows = list(session.scalars(select(ListRow).where(ListRow.campaign_id == campaign.id)))
        assert len(rows) >= 5
        for unit_id in {r.unit_id for r in rows}:
            assert quota.breach([r.data for r in rows if r.unit_id == unit_id]) is None
        first = snapshot(session)
        first["CampaignDeadline"] = len(list(session.scalars(select(CampaignDeadline))))
        assert not load_khenthuong(session, today)
    assert runner.invoke(args=["demo"]).exit_code == 0
    with in_app() as session:
        again = snapshot(session)
        again["CampaignDeadline"] = len(list(session.scalars(select(CampaignDeadline))))
        assert again == first
