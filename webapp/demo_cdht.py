"""The demo campaign cdht-2024: seed 003's two "Công dân học tập" tables, one row per commune.

Each commune's row holds the seed's own figures, entered as printed and not corrected (a blank cell
stays blank), through the same checks as a clerk's entry: where the seed contradicts itself the
application shows its warnings. The district's row is the sum of the communes' rows; the seed's
printed totals (and its "Tổng" and rates, which the application computes) are not entered.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import outline_store
from .campaigns import CampaignSpec, create_campaign
from .entry.service import UnitTable
from .models import Campaign, Unit

CDHT_CAMPAIGN = "cdht-2024"

# Table 1 (Biểu thống kê đánh giá (chấm điểm) trên phần mềm Công dân học tập, 30/9/2024), by unit
# code (the seed's order is demo.COMMUNES'): Đạt / Chưa đạt of Nhóm I … Nhóm 4; None: printed blank.
SCORED_COLUMNS = ("n1_dat", "n1_chua", "n2_dat", "n2_chua", "n3_dat", "n3_chua", "n4_dat", "n4_chua")
SCORED = {
    "ln-01": (290, 315, 103, 140, 244, 33, 114, None),  # Thị Trấn Lộc Ninh
    "ln-02": (1, None, 0, None, 4, None, None, None),  # Lộc Hòa
    "ln-03": (14, 15, 0, None, 2, None, None, None),  # Lộc An
    "ln-04": (60, 543, None, 46, 71, 15, 18, 10),  # Lộc Tấn
    "ln-05": (2, None, 0, None, 27, 3, None, None),  # Lộc Thạnh
    "ln-06": (0, None, 0, None, 44, None, None, None),  # Lộc Hiệp
    "ln-07": (6, 2, 0, None, 3, 1, None, None),  # Lộc Thiện
    "ln-08": (2, None, 0, None, 40, 1, None, None),  # Lộc Thuận
    "ln-09": (0, None, 0, None, 31, 30, None, None),  # Lộc Quang
    "ln-10": (309, 45, 143, 4, 114, 2, 106, None),  # Lộc Phú
    "ln-11": (450, 255, 2, None, 33, 5, 41, 15),  # Lộc Thành
    "ln-12": (1, 1, 3, None, 68, 4, None, None),  # Lộc Thái
    "ln-13": (39, 7, 1, None, 58, None, 1, None),  # Lộc Điền
    "ln-14": (0, None, 0, None, 46, 1, None, None),  # Lộc Hưng
    "ln-15": (959, 33, 3, None, 60, None, None, None),  # Lộc Thịnh
    "ln-16": (0, None, 1, None, 9, None, None, None),  # Lộc Khánh
}

# Table 2 (số người tham gia đăng ký so với tổng số người có khả năng tham gia): columns 1 to 6.
REGISTERED_COLUMNS = ("c1", "c2", "c3", "c4", "c5", "c6")
REGISTERED = {
    "ln-01": (10450, 1456, 7958, 1021, 16, 1329),  # TT Lộc Ninh
    "ln-02": (5482, 764, 4175, 536, 8, 5),
    "ln-03": (7724, 1076, 5882, 755, 12, 31),
    "ln-04": (10772, 1501, 8203, 1052, 16, 763),
    "ln-05": (3962, 552, 3017, 387, 6, 32),
    "ln-06": (9359, 1304, 7127, 914, 14, 44),
    "ln-07": (7732, 1077, 5888, 755, 12, 12),
    "ln-08": (8787, 1224, 6691, 858, 13, 43),
    "ln-09": (6939, 967, 5284, 678, 10, 61),
    "ln-10": (6697, 933, 5100, 654, 10, 723),
    "ln-11": (8366, 1165, 6371, 817, 13, 801),
    "ln-12": (7094, 988, 5402, 693, 11, 77),
    "ln-13": (7618, 1061, 5801, 744, 11, 106),
    "ln-14": (7972, 1110, 6071, 779, 12, 47),
    "ln-15": (4663, 650, 3551, 456, 7, 1056),
    "ln-16": (6463, 900, 4922, 631, 10, 10),
}


def load_cdht(session: Session, today: dt.date) -> bool:
    """Create cdht-2024 over the demo's 16 communes with the seed's figures; False (and no change)
    when it is there already. The demo district (demo.load_demo) must be loaded."""
    if session.scalar(select(Campaign).where(Campaign.code == CDHT_CAMPAIGN)) is not None:
        return False
    outline_store.store_shipped(session)
    by_code = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_([*SCORED, "ln-btg"])))}
    communes = [by_code[code] for code in SCORED]
    campaign = create_campaign(session, outline_store.find(session, "cdht", 1), CampaignSpec(
        code=CDHT_CAMPAIGN, name="Kết quả triển khai mô hình “Công dân học tập” năm 2024",
        description=("Theo Báo cáo số 33/BC-HKH ngày 07/10/2024 của Hội Khuyến học huyện Lộc Ninh: số liệu "
                     "của các xã, thị trấn được nạp đúng như bản in (kể cả chỗ chưa khớp)."),
        year_from=2024, year_to=2024, deadline=today + dt.timedelta(days=14), compiler_unit=by_code["ln-btg"],
        units=communes, prints={"issuer_name": "HỘI KHUYẾN HỌC HUYỆN LỘC NINH", "issuer_is_party": False,
                                "report_place": "Lộc Ninh"}), via="demo")
    outline = campaign.outline
    for table_code, columns, figures in (("CDHT1", SCORED_COLUMNS, SCORED),
                                         ("CDHT2", REGISTERED_COLUMNS, REGISTERED)):
        for unit in communes:
            part = UnitTable(session, campaign, unit, outline.table(table_code))
            for key, value in zip(columns, figures[unit.code]):
                if value is not None:
                    part.store(unit.code, key, part.check(unit.code, key, value), None, "demo")
    session.commit()
    return True
