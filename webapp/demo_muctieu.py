"""The demo campaign muctieu-2025 (seed 002): the Lộc Ninh communes' progress towards the 2025
targets of the 2021–2030 programme, year by year.

The rates climb from a little below the 2025 target in 2021 to about it in 2025 (the families'
rate from some 70 % to 82 % against 80 %; the workers' "Công dân học tập" from 25 % to 41 % against
40 %), each commune a little above or below, at a commune's scale; Lộc Khánh (ln-16) has not
started, as in the other demo campaigns.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.orm import Session

from .demo_campaign import commune_campaign, store_rows, submit_parts

CAMPAIGN_CODE = "muctieu-2025"
YEARS = (2021, 2025)
# indicator: (the commune's total: lowest, highest; the district's rate in 2021 and in 2025)
INDICATORS = {
    "gd": ((1800, 3600), 0.70, 0.82), "dh": ((2, 6), 0.60, 0.80), "cd": ((6, 14), 0.72, 0.85),
    "dv": ((5, 12), 0.65, 0.81), "ld": ((2500, 5200), 0.25, 0.41), "cb": ((40, 90), 0.45, 0.62),
    "hv": ((60, 240), 0.85, 0.98), "kh": ((4, 12), 0.20, 0.42),
}


def load_muctieu(session: Session, today: dt.date) -> bool:
    """Create and fill muctieu-2025 on the demo communes; False (and no change) if it is already there."""
    campaign = commune_campaign(
        session, today, CAMPAIGN_CODE, "muctieu",
        "Sơ kết thực hiện mục tiêu đến năm 2025 – Chương trình học tập suốt đời 2021 - 2030",
        "Kết quả thực hiện các mục tiêu của Kế hoạch thực hiện Chương trình “Đẩy mạnh phong trào học tập suốt "
        "đời trong gia đình, dòng họ, cộng đồng và đơn vị giai đoạn 2021 - 2030”, so với mục tiêu năm 2025 "
        "và 2030.", YEARS)
    if campaign is None:
        return False
    rng = random.Random(387)
    for unit in campaign.units[:-1]:  # Lộc Khánh (ln-16) has not started
        store_rows(session, campaign, unit, _commune_years(rng))
    session.commit()
    submit_parts(session, campaign, campaign.units[:10], today)  # ten have sent their part
    return True


def _commune_years(rng: random.Random) -> dict[str, dict[str, object]]:
    """One commune's figures for 2021–2025: totals that grow a little, rates climbing to the target."""
    totals = {key: rng.randint(*bounds) for key, (bounds, _, _) in INDICATORS.items()}
    lead = rng.uniform(-0.05, 0.05)  # a commune ahead of or behind the district
    manager_from = rng.randint(YEARS[0], YEARS[1] + 1)  # the year its association's chair joins the centre
    out = {}
    for step, year in enumerate(range(YEARS[0], YEARS[1] + 1)):
        values: dict[str, object] = {"tt_cn": "Có" if year >= manager_from else "Không"}
        for key, (bounds, start, end) in INDICATORS.items():
            if bounds[1] > 100:
                totals[key] += rng.randint(0, bounds[1] // 100)
            rate = start + (end - start) * step / (YEARS[1] - YEARS[0]) + lead + rng.uniform(-0.03, 0.03)
            values[f"{key}_tong"] = totals[key]
            values[f"{key}_cn"] = round(totals[key] * min(1.0, max(0.0, rate)))
        out[str(year)] = values
    return out
