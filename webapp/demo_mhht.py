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

from sqlalchemy.orm import Session

from .demo_campaign import commune_campaign, store_rows, submit_parts

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
    campaign = commune_campaign(
        session, today, CAMPAIGN_CODE, "mhht",
        "Tổng kết 05 năm thực hiện Quyết định số 281/QĐ-TTg – các mô hình học tập",
        "Kết quả xây dựng “Gia đình học tập”, “Dòng họ học tập”, “Cộng đồng học tập”, “Đơn vị học tập” và "
        "“Cộng đồng học tập” cấp xã giai đoạn 2016 - 2020.", YEARS)
    if campaign is None:
        return False
    rng = random.Random(281)
    for unit in campaign.units[:-1]:  # Lộc Khánh (ln-16) has not started, as in kl49-2024
        store_rows(session, campaign, unit, _commune_years(rng))
    session.commit()
    submit_parts(session, campaign, campaign.units[:12], today)  # twelve have sent their part
    return True


def _commune_years(rng: random.Random) -> dict[str, dict[str, object]]:
    """One commune's figures for 2016–2020: totals that grow a little, rates near the province's."""
    households, clans = rng.randint(1800, 3600), rng.randint(1, 4)
    hamlets, offices = rng.randint(6, 14), rng.randint(5, 12)
    recognised_from = rng.random()  # the commune's own title comes when the province's share passes this
    out = {}
    for year in range(YEARS[0], YEARS[1] + 1):
        families, clan, hamlet, office, commune = PROVINCE_RATES[year]
        households += rng.randint(0, 40)
        rate = lambda r: min(1.0, max(0.0, r + rng.uniform(-0.04, 0.04)))  # noqa: E731
        out[str(year)] = {
            "gd_cn": round(households * rate(families)), "gd_tong": households,
            "dh_cn": round(clans * rate(clan)), "dh_tong": clans,
            "cd_cn": round(hamlets * rate(hamlet)), "cd_tong": hamlets,
            "dv_cn": round(offices * rate(office)), "dv_tong": offices,
            "xa_cn": "Có" if recognised_from < commune else "Không",
        }
    return out
