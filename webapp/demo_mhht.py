"""The demo campaign mhht-2020 (seed 000): the learning models of the Lộc Ninh communes, 2016–2020.

The rates follow the province's path in seed 000 (Gia đình học tập 59,72 % in 2016, 81,52 % in
2017, 92,65 % in 2018, 93,66 % in 2019, 94,34 % in 9/2020; Cộng đồng học tập cấp xã 23,80 %,
67,70 %, 99,47 %, 100 %, 100 %) with each commune a little above or below, at a commune's scale:
some two to three thousand households, one to four clans that registered, six to fourteen hamlets,
five to twelve offices and schools.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import demo, outline_store, workflow
from .campaigns import CampaignSpec, create_campaign
from .entry.service import UnitTable
from .models import Campaign, Unit, User

CAMPAIGN_CODE = "mhht-2020"
YEARS = (2016, 2020)
# the province's rates of seed 000, by year: families, clans, hamlets, offices, communes
PROVINCE_RATES = {
    2016: (0.5972, 0.6735, 0.4471, 0.3152, 0.2380),
    2017: (0.8152, 0.8060, 0.8496, 0.7117, 0.6770),
    2018: (0.9265, 0.9135, 0.9728, 0.9164, 0.9947),
    2019: (0.9366, 0.9398, 0.9864, 0.9336, 1.0),
    2020: (0.9434, 1.0, 0.9796, 0.9334, 1.0),
}


def load_mhht(session: Session, today: dt.date) -> bool:
    """Create and fill mhht-2020 on the demo communes; False (and no change) if it is already there."""
    if session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN_CODE)) is not None:
        return False
    communes = list(session.scalars(select(Unit).where(Unit.code.in_([f"ln-{i:02d}" for i in range(1, 17)]))
                                    .order_by(Unit.code)))
    compiler_unit = session.scalar(select(Unit).where(Unit.code == demo.COMPILER[0]))
    outline_store.store_shipped(session)
    campaign = create_campaign(session, outline_store.find(session, "mhht", 1), CampaignSpec(
        code=CAMPAIGN_CODE,
        name="Tổng kết 05 năm thực hiện Quyết định số 281/QĐ-TTg – các mô hình học tập",
        description=("Kết quả xây dựng “Gia đình học tập”, “Dòng họ học tập”, “Cộng đồng học tập”, “Đơn vị học "
                     "tập” và “Cộng đồng học tập” cấp xã giai đoạn 2016 - 2020. (Bản trình diễn: hạn gửi được "
                     "đặt 21 ngày sau ngày nạp dữ liệu.)"),
        year_from=YEARS[0], year_to=YEARS[1], deadline=today + dt.timedelta(days=21),
        compiler_unit=compiler_unit, units=communes), via="demo")
    rng = random.Random(281)
    table = campaign.outline.table("III.2")
    for unit in communes[:-1]:  # Lộc Khánh (ln-16) has not started, as in kl49-2024
        part = UnitTable(session, campaign, unit, table)
        for year, values in _commune_years(rng):
            demo._store(part, str(year), values)
    session.commit()
    for unit in communes[:12]:  # twelve communes have sent their part; four are still at it
        clerk = session.scalar(select(User).where(User.username == unit.code))
        workflow.submit(session, campaign, unit, clerk, confirm_gaps=True, today=today)
    return True


def _commune_years(rng: random.Random) -> list[tuple[int, dict[str, object]]]:
    """One commune's figures for 2016–2020: totals that grow a little, rates near the province's."""
    households, clans = rng.randint(1800, 3600), rng.randint(1, 4)
    hamlets, offices = rng.randint(6, 14), rng.randint(5, 12)
    recognised_from = rng.random()  # the commune's own title comes when the province's share passes this
    out = []
    for year in range(YEARS[0], YEARS[1] + 1):
        families, clan, hamlet, office, commune = PROVINCE_RATES[year]
        households += rng.randint(0, 40)
        rate = lambda r: min(1.0, max(0.0, r + rng.uniform(-0.04, 0.04)))  # noqa: E731
        out.append((year, {
            "gd_cn": round(households * rate(families)), "gd_tong": households,
            "dh_cn": round(clans * rate(clan)), "dh_tong": clans,
            "cd_cn": round(hamlets * rate(hamlet)), "cd_tong": hamlets,
            "dv_cn": round(offices * rate(office)), "dv_tong": offices,
            "xa_cn": "Có" if recognised_from < commune else "Không",
        }))
    return out
