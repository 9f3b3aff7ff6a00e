"""The demo district (Lộc Ninh, seed 003) and the campaign kl49-2024 (seed 004), partly filled."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import outline_store, workflow
from .campaigns import CampaignSpec, create_campaign
from .demo_cdht import load_cdht
from .demo_khenthuong import load_khenthuong
from .demo_mhht import load_mhht
from .demo_muctieu import load_muctieu
from .demo_province import load_province
from .dialect import refresh_statistics
from .entry.service import UnitList, UnitTable
from .models import ROLE_ADMIN, ROLE_CLERK, ROLE_COMPILER, Campaign, Unit, User
from .narrative import save_answers, save_draft

DEMO_PASSWORD = "demo123"
CAMPAIGN_CODE = "kl49-2024"

# The 16 communes and the town of Lộc Ninh, in the order of seed 003.
COMMUNES = [
    "Thị trấn Lộc Ninh", "Xã Lộc Hòa", "Xã Lộc An", "Xã Lộc Tấn", "Xã Lộc Thạnh", "Xã Lộc Hiệp",
    "Xã Lộc Thiện", "Xã Lộc Thuận", "Xã Lộc Quang", "Xã Lộc Phú", "Xã Lộc Thành", "Xã Lộc Thái",
    "Xã Lộc Điền", "Xã Lộc Hưng", "Xã Lộc Thịnh", "Xã Lộc Khánh",
]
DISTRICT_UNITS = [  # code, name, kind: one unit of each district kind of the outline
    ("ln-ubnd", "Ủy ban nhân dân huyện Lộc Ninh", "ubnd_huyen"),
    ("ln-ldld", "Liên đoàn Lao động huyện Lộc Ninh", "ldld_huyen"),
    ("ln-hkh", "Hội Khuyến học huyện Lộc Ninh", "hkh_huyen"),
    ("ln-mttq", "Ủy ban MTTQ Việt Nam huyện Lộc Ninh", "doan_the"),
]
COMPILER = ("ln-btg", "Ban Tuyên giáo Huyện ủy Lộc Ninh", "huyen_uy")


def demo_units() -> list[tuple[str, str, str]]:
    communes = [(f"ln-{i:02d}", name, "xa") for i, name in enumerate(COMMUNES, start=1)]
    return communes + DISTRICT_UNITS


def _unit(session: Session, code: str, name: str, kind: str, parent: Unit | None, order: int,
          phone: str | None) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        unit = Unit(code=code, name=name, kind=kind, parent=parent, sort_order=order, phone=phone)
        session.add(unit)
    return unit


def _user(session: Session, username: str, full_name: str, role: str, unit: Unit) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, full_name=full_name, role=role, unit=unit)
        user.set_password(DEMO_PASSWORD)
        session.add(user)
    return user


# The campaigns of the other forms of the seeds, on the demo district's units: each adds its campaign
# only when it is missing (True), so that a database loaded by an older version gains the new ones.
SEED_DEMOS = (load_cdht, load_mhht, load_muctieu, load_khenthuong, load_province)


def load_demo(session: Session, today: dt.date) -> bool:
    """Create what is missing of the demo: the district, its accounts and kl49-2024, then each seed's
    campaign; False when everything was there (and nothing changed)."""
    created = False
    if session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN_CODE)) is None:
        _load_district(session, today)
        created = True
    outline_store.store_shipped(session)  # a database upgraded before a shipped outline was added
    for load in SEED_DEMOS:
        created = load(session, today) or created
    if created:
        refresh_statistics(session)  # commits
    return created


def _load_district(session: Session, today: dt.date) -> None:
    """The demo district, its units and accounts, and the campaign kl49-2024 filled and decided."""
    district = _unit(session, "ln", "Huyện Lộc Ninh", "huyen", None, 0, None)
    compiler_unit = _unit(session, *COMPILER, district, 100, "0271 3866 100")
    units = []
    for order, (code, name, kind) in enumerate(demo_units(), start=1):
        unit = _unit(session, code, name, kind, district, order, f"0271 3866 {order:03d}")
        units.append(unit)
    session.flush()
    for unit in units:
        _user(session, unit.code, f"Cán bộ nhập liệu – {unit.name}", ROLE_CLERK, unit)
    compiler = _user(session, compiler_unit.code, "Cán bộ tổng hợp – Ban Tuyên giáo", ROLE_COMPILER, compiler_unit)
    _user(session, "admin", "Quản trị hệ thống", ROLE_ADMIN, compiler_unit)

    outline_store.store_shipped(session)
    campaign = create_campaign(session, outline_store.find(session, "kl49", 2), CampaignSpec(
        code=CAMPAIGN_CODE,
        name="Sơ kết 5 năm thực hiện Kết luận số 49-KL/TW – Phụ lục số liệu",
        description=("Theo Công văn số 1241-CV/HU ngày 03/5/2024 của Ban Thường vụ Huyện ủy: các đơn vị "
                     "gửi báo cáo trước ngày 15/5/2024; Ban Tuyên giáo Huyện ủy trình dự thảo báo cáo "
                     "trước ngày 25/5/2024. (Bản trình diễn: hạn gửi được đặt 14 ngày sau ngày nạp dữ liệu.)"),
        year_from=2019, year_to=2023, deadline=today + dt.timedelta(days=14), compiler_unit=compiler_unit,
        units=units, prints={
            "issuer_parent": "ĐẢNG BỘ TỈNH BÌNH PHƯỚC", "issuer_name": "HUYỆN ỦY LỘC NINH",
            "issuer_is_party": True, "report_place": "Lộc Ninh",
            "signer_title": "T/M BAN THƯỜNG VỤ\nPHÓ BÍ THƯ"}), via="demo")
    _fill(session, campaign, units)
    session.commit()
    _narrate(session, campaign, units, compiler)
    _decide(session, campaign, units, compiler, today)


def _decide(session: Session, campaign: Campaign, units: list[Unit], compiler: User, today: dt.date) -> None:
    """Where the parts stand, through the same workflow as in use (so the audit trail shows it):
    six communes accepted (ln-03 … ln-08), two submitted (ln-01, ln-10), Lộc Quang (ln-09) returned
    with a note on a cell, the district's labour federation, learning association and front
    submitted; the rest still open, Lộc Hòa (ln-02) complete but not yet submitted."""
    by_code = {u.code: u for u in units}
    clerks = {u.code: session.scalar(select(User).where(User.username == u.code)) for u in units}
    for code in ("ln-01", "ln-03", "ln-04", "ln-05", "ln-06", "ln-07", "ln-08", "ln-09", "ln-10",
                 "ln-ldld", "ln-hkh", "ln-mttq"):
        workflow.submit(session, campaign, by_code[code], clerks[code], confirm_gaps=True, today=today)
    workflow.accept(session, campaign, [by_code[c] for c in ("ln-03", "ln-04", "ln-05", "ln-06", "ln-07", "ln-08")],
                    compiler)
    workflow.return_parts(session, campaign, [by_code["ln-09"]], compiler,
                          "Số người được đào tạo năm 2021 cao bất thường so với các năm khác; đề nghị kiểm tra lại.",
                          workflow.NotePlace("II.1.5", "2021", "xa_dt"))


def _fill(session: Session, campaign: Campaign, units: list[Unit]) -> None:
    """Plausible values: ten communes complete, five partly filled, Lộc Khánh untouched."""
    rng = random.Random(49)
    outline = campaign.outline
    communes = [u for u in units if u.kind == "xa"]
    for index, unit in enumerate(communes):
        if unit.code == "ln-16":
            continue  # untouched: the compiler's "not started" case
        partial = index >= 10
        for table in outline.tables:
            if table.is_list or (partial and table.code not in ("II.1.1", "II.1.2", "II.1.5")):
                continue
            part = UnitTable(session, campaign, unit, table)
            for row in part.layout.rows:
                if partial and row.key in ("2022", "2023"):
                    continue
                values = _row_values(table.code, row.key, rng, scale=1)
                _store(part, row.key, values)
        if index in (0, 3, 9):
            docs = UnitList(session, campaign, unit, outline.table("I"))
            docs.add({"the_loai": "Kế hoạch", "so_hieu": f"{12 + index}-KH/ĐU",
                      "ngay_ban_hanh": f"2019-0{6 + index % 3}-1{index % 9}",
                      "trich_yeu": "Thực hiện Kết luận số 49-KL/TW của Ban Bí thư về tiếp tục thực hiện Chỉ thị số 11-CT/TW",
                      "co_quan": f"Đảng ủy {unit.name.replace('Xã ', 'xã ')}"}, None, "demo", commit=False)
    by_kind = {u.kind: u for u in units if u.kind != "xa"}
    for kind, tables in {"ubnd_huyen": ("II.1.1", "II.1.2", "II.1.4", "II.1.5", "II.1.6"),
                         "ldld_huyen": ("II.1.8",), "hkh_huyen": ("III",)}.items():
        unit = by_kind[kind]
        for code in tables:
            part = UnitTable(session, campaign, unit, outline.table(code))
            for row in part.layout.rows:
                _store(part, row.key, _row_values(code, row.key, rng, scale=12))
    district_docs = UnitList(session, campaign, by_kind["ubnd_huyen"], outline.table("I"))
    district_docs.add({"the_loai": "Kế hoạch", "so_hieu": "137/KH-UBND", "ngay_ban_hanh": "2020-04-20",
                       "trich_yeu": "Triển khai thực hiện Kết luận số 49-KL/TW trên địa bàn huyện",
                       "co_quan": "Ủy ban nhân dân huyện Lộc Ninh"}, None, "demo", commit=False)
    front_docs = UnitList(session, campaign, by_kind["doan_the"], outline.table("I"))
    front_docs.add({"the_loai": "Hướng dẫn", "so_hieu": "05/HD-MTTQ", "ngay_ban_hanh": "2019-09-03",
                    "trich_yeu": "Hướng dẫn vận động hội viên tham gia xây dựng xã hội học tập",
                    "co_quan": "Ủy ban MTTQ Việt Nam huyện Lộc Ninh"}, None, "demo", commit=False)
    note = UnitTable(session, campaign, by_kind["doan_the"], outline.table("III"))
    _store(note, "2023", {"ghi_chu": "Phối hợp tuyên truyền mô hình “Công dân học tập” ở 16/16 xã, thị trấn"})


# Some units' answers to the narrative report, and the compiler's draft quoting them (kl49@2's sections).
ANSWERS = {
    "ln-01": {
        "p1_i_1": "<p>Đảng ủy thị trấn ban hành <strong>Kế hoạch số 12-KH/ĐU</strong> triển khai Kết luận số 49-KL/TW; "
                  "tổ chức quán triệt cho 100% chi bộ trực thuộc.</p>",
        "p1_ii_2": "<p>Tuyên truyền trên đài truyền thanh thị trấn, lồng ghép trong sinh hoạt chi bộ:</p>"
                   "<ul><li>48 tin, bài về khuyến học, khuyến tài;</li><li>12 buổi nói chuyện chuyên đề.</li></ul>",
        "p1_iii_1": "<p>Nhận thức của cán bộ, đảng viên và nhân dân về xây dựng xã hội học tập được nâng lên.</p>",
    },
    "ln-03": {
        "p1_i_1": "<p>Đảng ủy xã tổ chức hội nghị quán triệt Kết luận số 49-KL/TW cho cán bộ chủ chốt, "
                  "<em>đạt 96% đảng viên tham dự</em>.</p>",
        "p1_ii_2": "<p>Phát 1.200 tờ rơi về mô hình “Gia đình học tập”, “Dòng họ học tập”.</p>",
        "p1_iii_2": "<p>Kinh phí cho hoạt động khuyến học còn hạn chế; một số chi hội hoạt động chưa đều.</p>",
    },
    "ln-04": {
        "p1_i_1": "<p>Ban hành Nghị quyết chuyên đề về khuyến học, khuyến tài giai đoạn 2020–2025.</p>",
        "p2_2": "<ol><li>Duy trì quỹ khuyến học ở 100% thôn, ấp.</li><li>Mở rộng mô hình “Công dân học tập”.</li></ol>",
    },
    "ln-mttq": {
        "p1_ii_3": "<p>Ủy ban MTTQ huyện phối hợp các đoàn thể vận động hội viên tham gia học tập suốt đời; "
                   "16/16 xã, thị trấn có mô hình “Đơn vị học tập”.</p>",
    },
}
DRAFTS = {
    "p1_i_1": "<p>Các cấp ủy, chính quyền trong huyện đã tổ chức quán triệt, triển khai Kết luận số 49-KL/TW "
              "nghiêm túc.</p><blockquote>Thị trấn Lộc Ninh: Đảng ủy thị trấn ban hành Kế hoạch số 12-KH/ĐU triển "
              "khai Kết luận số 49-KL/TW.</blockquote>",
    "p1_ii_2": "<p>Công tác tuyên truyền được đổi mới về hình thức, lồng ghép trong sinh hoạt chi bộ và trên hệ thống "
               "truyền thanh cơ sở.</p>",
}


def _narrate(session: Session, campaign: Campaign, units: list[Unit], compiler: User) -> None:
    """Some units' answers and the compiler's draft, through the same saves as the pages (before
    the parts are submitted, which closes them)."""
    if not campaign.outline.sections:
        return
    by_code = {u.code: u for u in units}
    for code, texts in ANSWERS.items():
        clerk = session.scalar(select(User).where(User.username == code))
        save_answers(session, campaign, by_code[code], clerk, texts, via="demo")
    for section, html in DRAFTS.items():
        save_draft(session, campaign, compiler, section, html, base_version=0, via="demo")


def _row_values(table_code: str, row_key: str, rng: random.Random, scale: int) -> dict[str, object]:
    """Values that respect the outline's hard rules (trained ≤ total, of which ≤ total)."""
    year = int(row_key) if row_key.isdigit() else 2023
    trend = year - 2018
    yes = lambda p: "Có" if rng.random() < p else "Không"  # noqa: E731
    if table_code in ("II.1.1", "II.1.2"):
        return {"xa_dat": yes(0.55 + 0.08 * trend), "huyen_dat": "Có" if year >= 2021 else "Không"}
    if table_code == "II.1.3":
        total35 = rng.randint(900, 2500)
        total60 = total35 + rng.randint(1500, 4000)
        illiterate = rng.randint(5, 60)
        return {"mu_chu": illiterate, "huy_dong": max(0, illiterate - rng.randint(0, 10)),
                "d35_tong": total35, "d35_dtts": rng.randint(0, total35 // 4),
                "d35_md1": rng.randint(850, total35), "d35_md2": rng.randint(700, total35 - 100),
                "d60_tong": total60, "d60_dtts": rng.randint(0, total60 // 4),
                "d60_md1": rng.randint(2000, total60), "d60_md2": rng.randint(1800, total60 - 100),
                "tong_md1": rng.randint(2000, total60), "tong_md2": rng.randint(1800, total60 - 100),
                "tai_mu_chu": rng.randint(0, 5)}
    if table_code == "II.1.4":
        return {"so_luong": rng.randint(3, 12) if row_key == "co_so" else rng.randint(150, 900)}
    if table_code == "II.1.5":
        xa_total = rng.randint(18, 24)
        huyen_total = rng.randint(120, 160)
        return {"xa_tong": xa_total, "xa_dt": rng.randint(xa_total // 2, xa_total),
                "huyen_tong": huyen_total, "huyen_dt": rng.randint(huyen_total // 2, huyen_total)}
    if table_code == "II.1.6":
        rural = rng.randint(300, 700) * scale // 12
        disabled = rng.randint(10, 40)
        return {"ldnt_dt": rural, "ldnt_vl": rng.randint(rural // 2, rural),
                "nkt_dt": disabled, "nkt_vl": rng.randint(0, disabled)}
    if table_code == "II.1.8":
        workers = rng.randint(5000, 7000)
        return {"cn_tong": workers, "cn_dt": rng.randint(workers // 3, workers // 2)}
    if table_code == "III":
        return {"xa_hkh": "Có", "cdht": rng.randint(0, 400) * trend // 5, "xa_hoc_tap": yes(0.2 * trend),
                "huyen_hkh": "Có"}
    return {}


def _store(part: UnitTable, row_key: str, values: dict[str, object]) -> None:
    """Store a row through the same checks as a clerk's entry (columns the unit does not fill are skipped)."""
    for key, raw in values.items():
        if part.owns(row_key, key):
            part.store(row_key, key, part.check(row_key, key, raw), None, "demo")
