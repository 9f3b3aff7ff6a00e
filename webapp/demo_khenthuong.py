"""The demo campaign khenthuong-2020 (seed 001, section IV): the Lộc Ninh units propose collectives and
individuals for commendation to the district, with staged deadlines (the communes first, the district
bodies later), and a few nominations already entered.

Seed 001 is the province's plan: districts propose to the province by 31/8/2020. The demo applies its
rule one level lower, to the demo district: its communes and bodies propose to the district, at most
2 collectives and 2 individuals each (the outline's quota)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import outline_store
from .campaigns import CampaignSpec, create_campaign
from .entry.service import UnitList
from .models import Campaign, Unit

CAMPAIGN_CODE = "khenthuong-2020"
COMMUNES_DAYS, DISTRICT_DAYS = 7, 21  # the communes' deadline and the campaign's (the district bodies')

# unit code → its nominations: (loai, ten, chuc_vu, don_vi, thanh_tich, hinh_thuc)
NOMINATIONS = {
    "ln-01": [
        ("Tập thể", "Trung tâm Học tập cộng đồng thị trấn Lộc Ninh", "", "Thị trấn Lộc Ninh",
         "Duy trì 12 lớp chuyên đề mỗi năm, thu hút trên 3.000 lượt người học; mô hình tủ sách cộng đồng ở 8/8 khu phố",
         "Giấy khen của Chủ tịch UBND huyện"),
        ("Cá nhân", "Nguyễn Thị Hoa", "Phó Chủ tịch UBND thị trấn", "UBND thị trấn Lộc Ninh",
         "Chỉ đạo xây dựng 100% khu phố đạt danh hiệu Cộng đồng học tập", "Giấy khen của Chủ tịch UBND huyện"),
    ],
    "ln-02": [  # at the quota for collectives: a third one is refused
        ("Tập thể", "Hội Khuyến học xã Lộc Hòa", "", "Xã Lộc Hòa",
         "Vận động quỹ khuyến học trên 150 triệu đồng; 95% hộ gia đình đạt danh hiệu Gia đình học tập",
         "Giấy khen của Chủ tịch UBND huyện"),
        ("Tập thể", "Ấp 5 xã Lộc Hòa", "", "Xã Lộc Hòa",
         "Ấp đạt danh hiệu Cộng đồng học tập 5 năm liền; xóa mù chữ cho 14 người đồng bào dân tộc thiểu số",
         "Giấy khen của Chủ tịch UBND huyện"),
        ("Cá nhân", "Điểu Thị Lan", "Giáo viên", "Trường Tiểu học Lộc Hòa A",
         "Mở lớp xóa mù chữ buổi tối cho đồng bào S'tiêng suốt 4 năm", "Giấy khen của Chủ tịch UBND huyện"),
    ],
    "ln-ubnd": [
        ("Tập thể", "Phòng Giáo dục và Đào tạo huyện Lộc Ninh", "", "UBND huyện Lộc Ninh",
         "Tham mưu UBND huyện ban hành kế hoạch hằng năm; 16/16 xã, thị trấn đạt chuẩn phổ cập giáo dục",
         "Bằng khen của Chủ tịch UBND tỉnh"),
    ],
}


def load_khenthuong(session: Session, today: dt.date) -> bool:
    """Create the campaign khenthuong-2020 over the demo district's units, the communes' deadline
    before the campaign's; False (and no change) if it is there already."""
    if session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN_CODE)) is not None:
        return False
    outline_store.store_shipped(session)
    outline_row = outline_store.find(session, "khenthuong", 1)
    units = {u.code: u for u in session.scalars(select(Unit).where(Unit.code.like("ln-%")))}
    kinds = set(outline_row.outline.unit_kinds)
    campaign = create_campaign(session, outline_row, CampaignSpec(
        code=CAMPAIGN_CODE,
        name="Đề xuất biểu dương tập thể, cá nhân tiên tiến – tổng kết Đề án xây dựng xã hội học tập 2012–2020",
        description=("Các xã, thị trấn gửi đề xuất trước; các cơ quan, đoàn thể huyện gửi sau. Mỗi đơn vị đề nghị "
                     "tối đa 02 tập thể và 02 cá nhân. (Bản trình diễn: hạn gửi tính từ ngày nạp dữ liệu.)"),
        year_from=2012, year_to=2020, deadline=today + dt.timedelta(days=DISTRICT_DAYS),
        compiler_unit=units["ln-btg"],
        units=[u for u in sorted(units.values(), key=lambda u: (u.sort_order, u.id)) if u.kind in kinds],
        kind_deadlines={"xa": today + dt.timedelta(days=COMMUNES_DAYS)},
        prints={"issuer_parent": "ĐẢNG BỘ TỈNH BÌNH PHƯỚC", "issuer_name": "HUYỆN ỦY LỘC NINH",
                "report_place": "Lộc Ninh"}), via="demo")
    table = campaign.outline.table("IV")
    keys = ("loai", "ten", "chuc_vu", "don_vi", "thanh_tich", "hinh_thuc")
    for code, rows in NOMINATIONS.items():
        nominations = UnitList(session, campaign, units[code], table)
        for row in rows:
            nominations.add({k: v for k, v in zip(keys, row) if v}, None, "demo", commit=False)
    session.commit()
    return True
