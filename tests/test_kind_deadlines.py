"""A deadline per kind of unit within a campaign (seed 001: communes and districts hand in first, the
province later): the campaign's deadline is the default, a kind's own (campaign_deadline) overrides
it wherever a unit's lateness or its right to write is judged or its deadline shown; set on the
settings page and with `campaign-create --deadline-for KIND=YYYY-MM-DD`, audited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from conftest import in_app, login, post_as_page, stored, unit_id
from webapp.campaigns import set_kind_deadlines
from webapp.models import AuditEvent, Campaign, CampaignDeadline, CampaignUnit
from webapp.workflow import campaign_today

BASE = "/campaigns/kl49-2024"
TODAY = campaign_today()


def vn(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def give_communes(day: dt.date | None, code: str = "kl49-2024") -> None:
    """The communes' (xa) own deadline in the campaign, through the domain as the settings page does."""
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == code))
        set_kind_deadlines(session, campaign, {"xa": day}, None)
        session.commit()


def save_cell(client, table, row, col, value):
    return post_as_page(client, f"{BASE}/tables/{table}/cells/{row}/{col}", data={"value": value})


def part(code: str) -> CampaignUnit:
    with in_app() as session:
        cu = session.scalar(select(CampaignUnit).join(Campaign).where(
            Campaign.code == "kl49-2024", CampaignUnit.unit_id == unit_id(code)))
        session.expunge(cu)
        return cu


def kl49_id(session) -> int:
    return session.scalar(select(Campaign.id).where(Campaign.code == "kl49-2024"))


def kind_events() -> list[tuple[str | None, str | None, str | None]]:
    """kl49-2024's deadline events: (kind, old, new)."""
    with in_app() as session:
        return [(e.col_key, e.old, e.new) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "deadline", AuditEvent.campaign_id == kl49_id(session))
            .order_by(AuditEvent.id))]


def own_deadlines() -> list[tuple[str, dt.date]]:
    """kl49-2024's deadlines per kind."""
    with in_app() as session:
        return session.execute(select(CampaignDeadline.unit_kind, CampaignDeadline.deadline)
                               .where(CampaignDeadline.campaign_id == kl49_id(session))).all()


def test_a_kinds_own_deadline_closes_its_units_only(app, clerk):
    yesterday = TODAY - dt.timedelta(days=1)
    give_communes(yesterday)  # the campaign's own deadline is still 14 days ahead
    response = save_cell(clerk, "II.1.5", "2019", "xa_tong", "33")
    assert response.status_code == 423
    assert f"Đã quá hạn nộp ({vn(yesterday)})" in response.get_data(as_text=True)
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num != 33
    # a district body writes on until the campaign's deadline
    district = login(app.test_client(), "ln-ubnd")
    assert save_cell(district, "II.1.5", "2019", "huyen_tong", "141").status_code == 200
    assert stored("ln-ubnd", "II.1.5", "2019", "huyen_tong").num == 141
    # blank again: the communes have the campaign's deadline
    give_communes(None)
    assert save_cell(clerk, "II.1.5", "2019", "xa_tong", "33").status_code == 200


def test_a_kinds_later_deadline_keeps_its_units_open_after_the_campaigns(app, clerk):
    with in_app() as session:
        session.scalar(select(Campaign).where(Campaign.code == "kl49-2024")).deadline = TODAY - dt.timedelta(days=2)
        session.commit()
    later = TODAY + dt.timedelta(days=5)
    give_communes(later)
    assert save_cell(clerk, "II.1.5", "2019", "xa_tong", "34").status_code == 200
    district = login(app.test_client(), "ln-ubnd")
    assert save_cell(district, "II.1.5", "2019", "huyen_tong", "141").status_code == 423
    # the clerk sees the unit's own deadline, on the home page and over the table
    assert f"Hạn gửi: <strong>{vn(later)}</strong>" in clerk.get("/").get_data(as_text=True)
    assert f"Hạn gửi {vn(later)} (còn 5 ngày)" in clerk.get(f"{BASE}/tables/II.1.5").get_data(as_text=True)


def test_lateness_extensions_and_pages_follow_the_units_own_deadline(app, clerk, compiler):
    deadline = TODAY - dt.timedelta(days=1)
    give_communes(deadline)
    # the dashboard flags the communes not handed in, not the district bodies
    page = compiler.get(f"{BASE}/dashboard").get_data(as_text=True)
    assert "Hạn gửi riêng: Xã, phường, thị trấn <strong>" + vn(deadline) in page
    unit_page = compiler.get(f"{BASE}/units/ln-02").get_data(as_text=True)
    assert f"hạn {vn(deadline)}" in unit_page and "quá hạn" in unit_page
    assert "quá hạn" not in compiler.get(f"{BASE}/units/ln-ubnd").get_data(as_text=True)
    # an extension must lie after the unit's own deadline, which may be before the campaign's
    until = TODAY + dt.timedelta(days=2)
    compiler.post(f"{BASE}/units/ln-02/extend", data={"until": until.isoformat()})
    assert part("ln-02").extended_until == until
    assert save_cell(clerk, "II.1.5", "2019", "xa_tong", "35").status_code == 200
    assert f"được gia hạn đến {vn(until)}" in compiler.get(f"{BASE}/units/ln-02").get_data(as_text=True)
    # handed in within the extension: late against the unit's own deadline
    clerk.post(f"{BASE}/submit", data={"confirm_gaps": "y"})
    assert part("ln-02").status == "submitted" and part("ln-02").submitted_late
    district = login(app.test_client(), "ln-ubnd")
    district.post(f"{BASE}/submit", data={"confirm_gaps": "y"})
    assert part("ln-ubnd").status == "submitted" and not part("ln-ubnd").submitted_late


def test_the_settings_page_sets_a_date_per_kind_of_the_campaigns_units_audited(app, compiler):
    url = f"/admin/campaigns/kl49-2024/settings"
    page = compiler.get(url).get_data(as_text=True)
    for name in ("Xã, phường, thị trấn", "Ủy ban nhân dân huyện", "Liên đoàn Lao động huyện"):
        assert f">{name}</label>" in page
    assert "kind_deadline__tinh" not in page  # no unit of the campaign is of that kind
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        form = {"name": campaign.name, "description": campaign.description, "deadline": vn(campaign.deadline),
                "issuer_is_party": "party", "issuer_name": campaign.issuer_name,
                "issuer_parent": campaign.issuer_parent, "report_place": campaign.report_place,
                "signer_title": campaign.signer_title}
        general = campaign.deadline
    communes = TODAY + dt.timedelta(days=3)
    response = compiler.post(url, data={**form, "kind_deadline__xa": vn(communes)})
    assert response.status_code == 302
    assert own_deadlines() == [("xa", communes)]
    assert kind_events() == [("xa", f"Xã, phường, thị trấn: theo hạn chung ({vn(general)})",
                              f"Xã, phường, thị trấn: {vn(communes)}")]
    page = compiler.get(url).get_data(as_text=True)
    assert f'value="{vn(communes)}"' in page and "Hạn gửi mới" in page
    # saving again changes nothing; a blank date gives the kind the campaign's deadline again
    compiler.post(url, data={**form, "kind_deadline__xa": vn(communes)})
    assert len(kind_events()) == 1
    compiler.post(url, data={**form, "kind_deadline__xa": ""})
    assert own_deadlines() == []
    assert len(kind_events()) == 2
    # a date that is not one is refused at its field, nothing stored
    response = compiler.post(url, data={**form, "kind_deadline__xa": "31/02/2020"})
    assert response.status_code == 422 and "không phải một ngày" in response.get_data(as_text=True)
    assert len(kind_events()) == 2


CREATE = ["campaign-create", "kt-2025", "--outline", "kl49@1", "--name", "Tổng kết 2025", "--years", "2025-2025",
          "--deadline", (TODAY + dt.timedelta(days=40)).isoformat(), "--compiler", "ln-btg"]


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_campaign_create_takes_a_deadline_per_kind(app):
    communes = TODAY + dt.timedelta(days=20)
    district = TODAY + dt.timedelta(days=30)
    result = cli(app, *CREATE, "--deadline-for", f"xa={communes.isoformat()}",
                 "--deadline-for", f"ubnd_huyen={district.isoformat()}")
    assert result.exit_code == 0, result.output
    assert result.stdout == "kt-2025\n"
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "kt-2025"))
        assert {d.unit_kind: d.deadline for d in campaign.kind_deadlines} == {"xa": communes, "ubnd_huyen": district}
        assert campaign.deadline_for("xa") == communes and campaign.deadline_for("hkh_huyen") == campaign.deadline
        vias = list(session.scalars(select(AuditEvent.via).where(AuditEvent.campaign_id == campaign.id,
                                                                 AuditEvent.action == "deadline")))
    assert vias == ["cli", "cli"]


def test_campaign_create_refuses_a_bad_deadline_per_kind_and_stores_nothing(app):
    for extra, message in [
            (["--deadline-for", "xa"], "--deadline-for 'xa': cần dạng LOẠI=YYYY-MM-DD"),
            (["--deadline-for", "xa=2025-02-30"], "--deadline-for xa '2025-02-30'"),
            (["--deadline-for", "tinh=" + (TODAY + dt.timedelta(days=9)).isoformat()],
             "Không có đơn vị báo cáo nào thuộc loại 'tinh'"),
            (["--deadline-for", "xa=" + (TODAY - dt.timedelta(days=1)).isoformat()], "đã qua"),
            (["--deadline-for", "xa=2030-01-01", "--deadline-for", "xa=2030-01-02"], "được nêu hai lần")]:
        result = cli(app, *CREATE, *extra)
        assert result.exit_code == 1, (extra, result.output)
        assert message in result.stderr, (extra, result.stderr)
        with in_app() as session:
            assert session.scalar(select(Campaign).where(Campaign.code == "kt-2025")) is None


def test_a_copy_keeps_each_kinds_distance_to_the_deadline(app, compiler):
    from webapp.campaigns import copy_campaign

    with in_app() as session:
        source = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        set_kind_deadlines(session, source, {"xa": source.deadline - dt.timedelta(days=10)}, None)
        copy = copy_campaign(session, source, "kl49-2029", 2024, 2028, source.deadline + dt.timedelta(days=365))
        session.commit()
        assert copy.deadline_for("xa") == copy.deadline - dt.timedelta(days=10)
