"""Every write decides on the campaign's and the part's state as it stands under the lock it writes
under, never on what the request read when it began (issue 12, items 1 and 6).

Each test reads the campaign in one session (a request that began), changes its state in another
(the compiler, committed), then lets the first go on. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import demo_app_on_both
from webapp.entry.service import UnitList, UnitTable
from webapp.exchange import ImportRefused, import_unit_template, write_unit_template
from webapp.extensions import db
from webapp.models import AuditEvent, Campaign, CampaignUnit, CellValue, ListRow, Unit, User
from webapp import workflow
from webapp.workflow import CAMPAIGN_CLOSED, CAMPAIGN_OPEN, Refused

CLOSED = "Đợt báo cáo đã kết thúc"
app = demo_app_on_both  # every test runs on SQLite and on PostgreSQL


def read(session: Session, unit_code: str = "ln-02"):
    """What a request reads first: the campaign, a unit, a user."""
    campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    user = session.scalar(select(User).where(User.unit_id == unit.id))
    assert campaign.status == CAMPAIGN_OPEN
    return campaign, unit, user


def elsewhere(change) -> None:
    """Another request: ``change(session, campaign, compiler)``, committed."""
    with Session(db.engine) as other:
        campaign = other.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
        compiler = other.scalar(select(User).where(User.username == "ln-btg"))
        change(other, campaign, compiler)


def close_elsewhere() -> None:
    elsewhere(lambda s, c, u: workflow.set_campaign_status(s, c, u, CAMPAIGN_CLOSED))


def count(model, *where) -> int:
    with Session(db.engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_a_save_begun_before_the_close_is_refused_after_it(app):
    with app.app_context(), Session(db.engine) as session:
        campaign, unit, user = read(session)
        sheet = UnitTable(session, campaign, unit, campaign.outline.table("II.1.5"))
        close_elsewhere()
        with pytest.raises(Refused, match=CLOSED):
            sheet.save("2019", "xa_tong", "33", user, "web")
        stored = session.scalar(select(CellValue.num).where(
            CellValue.unit_id == unit.id, CellValue.table_code == "II.1.5", CellValue.row_key == "2019",
            CellValue.col_key == "xa_tong"))
        assert stored != 33


def test_a_document_added_after_the_close_is_refused(app):
    with app.app_context(), Session(db.engine) as session:
        campaign, unit, user = read(session, "ln-ubnd")
        part = UnitList(session, campaign, unit, campaign.outline.table("I"))
        before = count(ListRow, ListRow.unit_id == unit.id)
        assert before, "the demo's district has documents in table I"
        data = dict(part.rows[0].data, so_hieu="99-KL/TW")
        close_elsewhere()
        with pytest.raises(Refused, match=CLOSED):
            part.add(data, user, "web")
        assert count(ListRow, ListRow.unit_id == unit.id) == before


def test_a_template_upload_under_way_when_the_campaign_closes_stores_nothing(app, monkeypatch):
    with app.app_context(), Session(db.engine) as session:
        campaign, unit, user = read(session)
        template = io.BytesIO()
        write_unit_template(session, campaign, unit, template)
        from openpyxl import load_workbook

        template.seek(0)
        book = load_workbook(template)
        sheet = book["II.1.5"]
        filled = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, int)]
        assert filled, "the demo unit's template holds its figures"
        filled[0].value += 1
        changed = io.BytesIO()
        book.save(changed)
        changed.seek(0)
        session.commit()
        values = count(AuditEvent, AuditEvent.action == "cell")
        from webapp import exchange

        def read_while_the_compiler_closes(*args, **kwargs):  # after the upload's first check
            close_elsewhere()
            return read_template(*args, **kwargs)

        read_template = exchange.read_template
        monkeypatch.setattr(exchange, "read_template", read_while_the_compiler_closes)
        with pytest.raises(ImportRefused, match=CLOSED):
            import_unit_template(session, campaign, unit, user, changed)
        assert count(AuditEvent, AuditEvent.action == "cell") == values


def test_a_submission_begun_before_the_close_is_refused(app):
    with app.app_context(), Session(db.engine) as session:
        campaign, unit, user = read(session)
        close_elsewhere()
        with pytest.raises(Refused, match=CLOSED):
            workflow.submit(session, campaign, unit, user, confirm_gaps=True)
        assert count(CampaignUnit, CampaignUnit.campaign_id == campaign.id, CampaignUnit.unit_id == unit.id,
                     CampaignUnit.status == "open") == 1


@pytest.mark.parametrize("decision", ["accept", "return", "reopen", "extend"])
def test_a_decision_begun_before_the_close_is_refused(app, decision):
    with app.app_context(), Session(db.engine) as session:
        campaign, _, _ = read(session)
        compiler = session.scalar(select(User).where(User.username == "ln-btg"))
        submitted = session.scalar(select(Unit).where(Unit.code == "ln-01"))
        accepted = session.scalar(select(Unit).where(Unit.code == "ln-03"))
        events = count(AuditEvent, AuditEvent.action == decision)
        close_elsewhere()
        with pytest.raises(Refused, match=CLOSED):
            if decision == "accept":
                workflow.accept(session, campaign, [submitted], compiler)
            elif decision == "return":
                workflow.return_parts(session, campaign, [submitted], compiler, "Sửa lại số liệu")
            elif decision == "reopen":
                workflow.reopen(session, campaign, accepted, compiler)
            else:
                workflow.extend(session, campaign, submitted, compiler, campaign.deadline + dt.timedelta(days=5))
        assert count(AuditEvent, AuditEvent.action == decision) == events


def test_a_save_begun_while_closed_is_stored_once_the_campaign_is_open_again(app):
    with app.app_context():
        elsewhere(lambda s, c, u: workflow.set_campaign_status(s, c, u, CAMPAIGN_CLOSED))
        with Session(db.engine) as session:
            campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
            unit = session.scalar(select(Unit).where(Unit.code == "ln-02"))
            sheet = UnitTable(session, campaign, unit, campaign.outline.table("II.1.5"))
            elsewhere(lambda s, c, u: workflow.set_campaign_status(s, c, u, CAMPAIGN_OPEN))
            sheet.save("2019", "xa_tong", "33", None, "web")
            unit_id = unit.id
        assert count(CellValue, CellValue.unit_id == unit_id, CellValue.row_key == "2019",
                     CellValue.col_key == "xa_tong", CellValue.num == 33) == 1


def test_two_closes_record_one_transition(app):
    with app.app_context(), Session(db.engine) as session:
        campaign, _, _ = read(session)
        compiler = session.scalar(select(User).where(User.username == "ln-btg"))
        close_elsewhere()
        workflow.set_campaign_status(session, campaign, compiler, CAMPAIGN_CLOSED)
        assert count(AuditEvent, AuditEvent.action == "close") == 1
        assert session.scalar(select(Campaign.status).where(Campaign.id == campaign.id)) == CAMPAIGN_CLOSED


def test_extending_to_the_date_already_granted_records_nothing(app):
    with app.app_context(), Session(db.engine) as session:
        campaign, _, _ = read(session)
        compiler = session.scalar(select(User).where(User.username == "ln-btg"))
        unit = session.scalar(select(Unit).where(Unit.code == "ln-11"))
        until = campaign.deadline + dt.timedelta(days=7)
        elsewhere(lambda s, c, u: workflow.extend(s, c, s.merge(unit), u, until))
        assert count(AuditEvent, AuditEvent.action == "extend") == 1
        workflow.extend(session, campaign, unit, compiler, until)  # a second click, or a second tab
        assert count(AuditEvent, AuditEvent.action == "extend") == 1
        workflow.extend(session, campaign, unit, compiler, until + dt.timedelta(days=1))
        assert count(AuditEvent, AuditEvent.action == "extend") == 2
