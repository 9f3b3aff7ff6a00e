"""Saving the narrative report (webapp/narrative.py): a unit's answers and the compiler's draft,
with a cell's guarantees: the part's lock and state, the version check, one audit event per change,
the text always cleaned, nothing stored on a refusal.

The demo's kl49-2024 is on kl49@2 (with sections): ln-02 open, ln-01 submitted, ln-03 accepted;
ln-01, ln-03, ln-04 and the front answered some sections, the draft holds p1_i_1 and p1_ii_2.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conftest import in_app
from webapp import narrative
from webapp.domain.columns import ValueProblem
from webapp.domain.richtext import MAX_ANSWER_CHARS
from webapp.models import ANSWER, DRAFT, AuditEvent, Campaign, NarrativeAnswer, Unit, User
from webapp.narrative import NotAnswered, TextConflict
from webapp.workflow import Refused

SECTION = "p1_ii_1"


def world(session, unit_code="ln-02", username=None):
    campaign = session.scalar(select(Campaign).where(Campaign.code == "kl49-2024"))
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    user = session.scalar(select(User).where(User.username == (username or unit_code)))
    return campaign, unit, user


def stored(unit_code="ln-02", section=SECTION, kind=ANSWER):
    with in_app() as session:
        row = session.scalar(select(NarrativeAnswer).join(Unit, Unit.id == NarrativeAnswer.unit_id).where(
            Unit.code == unit_code, NarrativeAnswer.section_code == section, NarrativeAnswer.kind == kind))
        return (row.html, row.version) if row else None


def events(action="narrative") -> list[tuple]:
    with in_app() as session:
        return list(session.execute(select(AuditEvent.row_key, AuditEvent.old, AuditEvent.new, AuditEvent.via)
                                    .where(AuditEvent.action == action).order_by(AuditEvent.id)))


def save(html, version, unit_code="ln-02", section=SECTION, via="web"):
    with in_app() as session:
        campaign, unit, user = world(session, unit_code)
        return narrative.save_answer(session, campaign, unit, user, section, html, version, via=via)


def test_the_demo_has_answers_and_a_draft(app):
    with in_app() as session:
        campaign, _, _ = world(session)
        assert (campaign.outline_code, campaign.outline_version) == ("kl49", 2)
        assert len(narrative.answers(session, campaign)) == 9
        assert set(narrative.drafts(session, campaign)) == {"p1_i_1", "p1_ii_2"}


def test_an_answer_is_cleaned_versioned_and_audited(app):
    before = len(events())
    saved = save('<p style="color:red" onclick="x()">Đã <b>quán triệt</b><script>alert(1)</script></p>', 0)
    assert saved.changed and saved.version == 1
    assert stored() == ("<p>Đã <b>quán triệt</b></p>", 1)
    saved = save("<p>Đã <b>quán triệt</b> xong.</p>", 1)
    assert stored() == ("<p>Đã <b>quán triệt</b> xong.</p>", 2)
    new = events()[before:]
    assert new == [(SECTION, None, "<p>Đã <b>quán triệt</b></p>", "web"),
                   (SECTION, "<p>Đã <b>quán triệt</b></p>", "<p>Đã <b>quán triệt</b> xong.</p>", "web")]


def test_a_save_based_on_an_older_version_is_refused_with_the_current_text(app):
    save("<p>Một</p>", 0)
    save("<p>Hai</p>", 1)
    with pytest.raises(TextConflict) as exc:
        save("<p>Ba</p>", 1)
    assert (exc.value.html, exc.value.version) == ("<p>Hai</p>", 2)
    assert stored() == ("<p>Hai</p>", 2) and len(events()) == 11  # the demo's 9 and these two
    # the text stored already, sent again after its answer was lost: no conflict, nothing new
    again = save("<p>Hai</p>", 1)
    assert not again.changed and again.version == 2 and len(events()) == 11


def test_nothing_changes_for_the_same_text_or_an_empty_one(app):
    assert not save("<p><br></p>", 0).changed
    assert stored() is None


def test_too_long_is_refused_with_a_message(app):
    with pytest.raises(ValueProblem, match="quá giới hạn 200.000 ký tự"):
        save("<p>" + "a" * (MAX_ANSWER_CHARS + 1) + "</p>", 0)
    assert stored() is None


def test_only_answered_sections_of_the_outline(app):
    for code in ("p1", "p1_ii", "nope"):
        with pytest.raises(NotAnswered):
            save("<p>x</p>", 0, section=code)


def test_closed_after_submit_accept_and_for_a_unit_outside_the_campaign(app):
    with pytest.raises(Refused, match="đã nộp báo cáo"):
        save("<p>x</p>", 1, unit_code="ln-01", section="p1_i_1")
    with pytest.raises(Refused, match="đã được duyệt"):
        save("<p>x</p>", 1, unit_code="ln-03", section="p1_i_1")
    with in_app() as session:
        campaign, unit, user = world(session, "ln-btg")
        with pytest.raises(Refused):
            narrative.save_answer(session, campaign, unit, user, SECTION, "<p>x</p>", 0)
    assert stored("ln-01", "p1_i_1")[1] == 1 and stored("ln-btg") is None


def test_a_closed_campaign_takes_no_answer_nor_draft(app):
    with in_app() as session:
        campaign, _, _ = world(session)
        campaign.status = "closed"
        session.commit()
    with pytest.raises(Refused, match="kết thúc"):
        save("<p>x</p>", 0)
    with in_app() as session:
        campaign, _, compiler = world(session, "ln-btg")
        with pytest.raises(Refused, match="kết thúc"):
            narrative.save_draft(session, campaign, compiler, SECTION, "<p>x</p>", 0)
    assert stored() is None and stored("ln-btg", kind=DRAFT) is None


def test_save_answers_is_all_or_nothing(app):
    texts = {"p1_i_1": "<p>Một</p>", "p1_i_2": "<p>" + "b" * (MAX_ANSWER_CHARS + 1) + "</p>"}
    with in_app() as session:
        campaign, unit, user = world(session)
        with pytest.raises(ValueProblem, match="^2. Công tác kiểm tra"):
            narrative.save_answers(session, campaign, unit, user, texts)
        with pytest.raises(NotAnswered):
            narrative.save_answers(session, campaign, unit, user, {"p1_i_1": "<p>Một</p>", "p1": "<p>x</p>"})
    assert stored(section="p1_i_1") is None and stored(section="p1_i_2") is None
    with in_app() as session:
        campaign, unit, user = world(session)
        assert narrative.save_answers(session, campaign, unit, user,
                                      {"p1_i_1": "<p>Một</p>", "p1_i_2": "<p class='MsoNormal'>Hai<o:p></o:p></p>"}) == 2
    assert stored(section="p1_i_2") == ("<p>Hai</p>", 1)
    assert [e[3] for e in events()[-2:]] == ["upload", "upload"]
    with in_app() as session:  # the submitted part takes no upload either
        campaign, unit, user = world(session, "ln-01")
        with pytest.raises(Refused):
            narrative.save_answers(session, campaign, unit, user, {"p1_i_2": "<p>x</p>"})


def test_the_draft_is_the_compilers_or_the_administrators(app):
    with in_app() as session:
        campaign, _, clerk = world(session)
        with pytest.raises(PermissionError):
            narrative.save_draft(session, campaign, clerk, SECTION, "<p>x</p>", 0)
        compiler = session.scalar(select(User).where(User.username == "ln-btg"))
        saved = narrative.save_draft(session, campaign, compiler, "p1_i_1", "<p>Mới</p>", 1)
        assert saved.changed and saved.version == 2
        admin = session.scalar(select(User).where(User.username == "admin"))
        with pytest.raises(TextConflict):
            narrative.save_draft(session, campaign, admin, "p1_i_1", "<p>Cũ</p>", 1)
        assert narrative.save_draft(session, campaign, admin, "p1_i_1", "<p>Của quản trị</p>", 2).version == 3
    assert stored("ln-btg", "p1_i_1", DRAFT) == ("<p>Của quản trị</p>", 3)
    drafts = events("narrative_draft")
    assert drafts[-1][1:] == ("<p>Mới</p>", "<p>Của quản trị</p>", "web")
    with in_app() as session:
        assert session.scalar(select(func.count()).select_from(NarrativeAnswer).where(NarrativeAnswer.kind == DRAFT)) == 2
