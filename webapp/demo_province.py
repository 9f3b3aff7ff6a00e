"""The demo province (nested levels, webapp/nesting.py): tỉnh Bình Phước's campaign kl49-tinh-2024,
whose reporting units are two districts and one province unit.

- Huyện Lộc Ninh (``ln``): its part is the demo district's campaign kl49-2024, assembled live (open).
- Huyện Bù Đốp (``bd``), a small second district: three communes, its people's committee and its learning association, with
  its own campaign kl49-bd-2024 (compiled by ``bd-btg``), filled; its part of the province campaign
  is submitted, so the province counts it as it stood then.
- Sở Nội vụ tỉnh Bình Phước (``bp-snv``, kind ``tinh``): the province's own unit, which fills
  "Công chức cấp tỉnh" of table 1.5.
The province's compiler is ``bp-btg`` (Ban Tuyên giáo Tỉnh ủy). Every account's password: demo123.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import demo, nesting, outline_store, workflow
from .campaigns import CampaignSpec, create_campaign
from .entry.service import UnitTable, owned_groups
from .models import ROLE_CLERK, ROLE_COMPILER, Campaign, Unit, User

PROVINCE_CAMPAIGN = "kl49-tinh-2024"
SECOND_DISTRICT_CAMPAIGN = "kl49-bd-2024"
PROVINCE = ("bp", "Tỉnh Bình Phước", "tinh")
PROVINCE_COMPILER = ("bp-btg", "Ban Tuyên giáo Tỉnh ủy Bình Phước", "tinh_uy")
PROVINCE_UNIT = ("bp-snv", "Sở Nội vụ tỉnh Bình Phước", "tinh")
SECOND_DISTRICT = ("bd", "Huyện Bù Đốp", "huyen")
SECOND_DISTRICT_COMPILER = ("bd-btg", "Ban Tuyên giáo Huyện ủy Bù Đốp", "huyen_uy")
SECOND_DISTRICT_UNITS = [
    ("bd-01", "Thị trấn Thanh Bình", "xa"),
    ("bd-02", "Xã Thiện Hưng", "xa"),
    ("bd-03", "Xã Tân Tiến", "xa"),
    ("bd-ubnd", "Ủy ban nhân dân huyện Bù Đốp", "ubnd_huyen"),
    ("bd-hkh", "Hội Khuyến học huyện Bù Đốp", "hkh_huyen"),
]
YEARS = (2019, 2023)


def load_province(session: Session, today: dt.date) -> bool:
    """Add the province, the second district and their campaigns when kl49-tinh-2024 is missing
    (True); else change nothing (False)."""
    if session.scalar(select(Campaign).where(Campaign.code == PROVINCE_CAMPAIGN)) is not None:
        return False
    outline_row = outline_store.find(session, "kl49", 2)
    province = demo._unit(session, *PROVINCE, None, 200, None)
    province_compiler = demo._unit(session, *PROVINCE_COMPILER, province, 201, "0271 3879 100")
    province_unit = demo._unit(session, *PROVINCE_UNIT, province, 202, "0271 3879 202")
    district = demo._unit(session, *SECOND_DISTRICT, province, 210, None)
    district_compiler = demo._unit(session, *SECOND_DISTRICT_COMPILER, district, 211, "0271 3885 100")
    units = [demo._unit(session, code, name, kind, district, 212 + i, f"0271 3885 {i + 1:03d}")
             for i, (code, name, kind) in enumerate(SECOND_DISTRICT_UNITS)]
    session.flush()
    for unit in [*units, province_unit]:
        demo._user(session, unit.code, f"Cán bộ nhập liệu – {unit.name}", ROLE_CLERK, unit)
    demo._user(session, district_compiler.code, "Cán bộ tổng hợp – Ban Tuyên giáo Huyện ủy Bù Đốp", ROLE_COMPILER,
               district_compiler)
    compiler = demo._user(session, province_compiler.code, "Cán bộ tổng hợp – Ban Tuyên giáo Tỉnh ủy",
                          ROLE_COMPILER, province_compiler)
    deadline = today + dt.timedelta(days=21)
    name = "Sơ kết 5 năm thực hiện Kết luận số 49-KL/TW – Phụ lục số liệu"
    bd = create_campaign(session, outline_row, CampaignSpec(
        code=SECOND_DISTRICT_CAMPAIGN, name=name, year_from=YEARS[0], year_to=YEARS[1],
        deadline=today + dt.timedelta(days=14), compiler_unit=district_compiler, units=units,
        description="Đợt của huyện Bù Đốp: phụ lục tổng hợp của đợt này là phần của huyện trong đợt của tỉnh.",
        prints={"issuer_parent": "ĐẢNG BỘ TỈNH BÌNH PHƯỚC", "issuer_name": "HUYỆN ỦY BÙ ĐỐP",
                "report_place": "Bù Đốp"}), via="demo")
    _fill(session, bd, units)
    lnd = session.scalar(select(Unit).where(Unit.code == "ln"))
    tinh = create_campaign(session, outline_row, CampaignSpec(
        code=PROVINCE_CAMPAIGN, name=name, year_from=YEARS[0], year_to=YEARS[1], deadline=deadline,
        compiler_unit=province_compiler, units=[lnd, district, province_unit],
        description=("Đợt của tỉnh: mỗi huyện gửi phụ lục tổng hợp của đợt huyện mình (Lộc Ninh: kl49-2024, "
                     "Bù Đốp: kl49-bd-2024); Sở Nội vụ nhập công chức cấp tỉnh. (Bản trình diễn: hạn gửi được "
                     "đặt 21 ngày sau ngày nạp dữ liệu.)"),
        prints={"issuer_parent": "ĐẢNG BỘ TỈNH BÌNH PHƯỚC", "issuer_name": "TỈNH ỦY BÌNH PHƯỚC",
                "report_place": "Bình Phước"}), via="demo")
    nesting.link(session, tinh, lnd, session.scalar(select(Campaign).where(Campaign.code == demo.CAMPAIGN_CODE)),
                 via="demo")
    nesting.link(session, tinh, district, bd, via="demo")
    rng = random.Random(4949)
    part = UnitTable(session, tinh, province_unit, tinh.outline.table("II.1.5"))
    for row in part.layout.rows:
        total = rng.randint(900, 1200)
        demo._store(part, row.key, {"tinh_tong": total, "tinh_dt": rng.randint(total // 2, total)})
    session.commit()
    workflow.submit(session, tinh, district,
                    session.scalar(select(User).where(User.username == district_compiler.code)), today=today)
    return True


def _fill(session: Session, campaign: Campaign, units: list[Unit]) -> None:
    """Bù Đốp's figures: every unit fills all its tables; all submitted."""
    rng = random.Random(4950)
    outline = campaign.outline
    for unit in units:
        owned = owned_groups(session, campaign, unit)
        for table in (t for t in outline.tables if t.code in owned and not t.is_list):
            part = UnitTable(session, campaign, unit, table)
            for row in part.layout.rows:
                demo._store(part, row.key, demo._row_values(table.code, row.key, rng, scale=1 if unit.kind == "xa"
                                                            else 12))
    session.commit()
    for unit in units:
        workflow.submit(session, campaign, unit, session.scalar(select(User).where(User.username == unit.code)),
                        confirm_gaps=True, confirm_warnings=True)
