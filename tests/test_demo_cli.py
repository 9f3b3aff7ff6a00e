"""The demo loader and the `units` command of the admin contract."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from conftest import in_app
from webapp.models import Assignment, AuditEvent, Campaign, CellValue, ListRow, Unit, User


def snapshot(session):
    return {model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Unit, User, Campaign, Assignment, CellValue, ListRow, AuditEvent)}


def test_demo_loads_the_district_and_running_it_twice_changes_nothing(empty_app):
    from webapp.templating import local_today

    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with in_app() as session:
        first = snapshot(session)
        campaign = session.scalar(select(Campaign))
        assert campaign.code == "kl49-2024" and (campaign.year_from, campaign.year_to) == (2019, 2023)
        with empty_app.test_request_context():
            assert campaign.deadline == local_today() + dt.timedelta(days=14)
        assert "1241-CV/HU" in campaign.description and "15/5/2024" in campaign.description
        kinds = [u.kind for u in campaign.units]
        assert kinds.count("xa") == 16
        assert {"ubnd_huyen", "ldld_huyen", "hkh_huyen", "doan_the"} <= set(kinds)
        untouched = session.scalar(select(Unit).where(Unit.name == "Xã Lộc Khánh"))
        assert session.scalar(select(func.count()).select_from(CellValue).where(
            CellValue.unit_id == untouched.id, CellValue.campaign_id == campaign.id)) == 0
        cdht = session.scalar(select(Campaign).where(Campaign.code == "cdht-2024"))  # seed 003, demo_cdht.py
        assert [u.code for u in cdht.units] == [f"ln-{i:02d}" for i in range(1, 17)]
        # every unit has a clerk, plus a compiler and an administrator; the demo province (demo_province.py)
        # adds Bù Đốp's five units, Sở Nội vụ and two compilers
        assert first["User"] == len(campaign.units) + 2 + 8
    assert first["CellValue"] > 500 and first["ListRow"] >= 3
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0
    with in_app() as session:
        assert snapshot(session) == first


SEED_CAMPAIGNS = {"cdht-2024", "mhht-2020", "muctieu-2025", "khenthuong-2020", "kl49-bd-2024", "kl49-tinh-2024"}


def test_demo_on_a_database_loaded_before_the_seeds_campaigns_adds_them_and_nothing_else(empty_app):
    """A district that loaded the demo with an older version (kl49-2024 only) runs `demo` again: the
    seeds' campaigns are added, kl49-2024 and its values are left as they are."""
    from webapp.demo import _load_district, load_demo
    from webapp.templating import local_today

    with empty_app.test_request_context(), in_app() as session:
        _load_district(session, local_today())
        session.commit()
        before = session.scalar(select(func.count()).select_from(CellValue))
        assert set(session.scalars(select(Campaign.code))) == {"kl49-2024"}
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Đã nạp" in result.output
    with in_app() as session:
        assert set(session.scalars(select(Campaign.code))) == {"kl49-2024"} | SEED_CAMPAIGNS
        kl49 = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        assert session.scalar(select(func.count()).select_from(CellValue).where(
            CellValue.campaign_id == kl49.id)) == before
        after = snapshot(session)
    result = runner.invoke(args=["demo"])
    assert "không thay đổi gì" in result.output
    with in_app() as session:
        assert snapshot(session) == after


def test_units_prints_code_tab_name_per_line(app):
    result = app.test_cli_runner().invoke(args=["units", "kl49-2024"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "ln-01\tThị trấn Lộc Ninh"
    assert "ln-16\tXã Lộc Khánh" in lines and "ln-ubnd\tỦy ban nhân dân huyện Lộc Ninh" in lines
    assert len(lines) == 20 and all(line.count("\t") == 1 for line in lines)


def test_units_of_an_unknown_campaign_fails_cleanly(app):
    result = app.test_cli_runner().invoke(args=["units", "nope"])
    assert result.exit_code == 1 and "Không có đợt báo cáo 'nope'" in result.output
    assert "Traceback" not in result.output
