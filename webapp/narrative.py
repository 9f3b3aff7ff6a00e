"""The narrative report: each unit's answers per section of the outline, and the compiler's draft.

Reading here; saving (versions, workflow locks, audit) beside it, so that the browser, the .docx
upload and the report all go through the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .domain.columns import ValueProblem
from .domain.outline import Section
from .domain.richtext import MAX_ANSWER_CHARS, clean
from .entry.service import begin_write
from .models import ANSWER, DRAFT, ROLE_ADMIN, ROLE_COMPILER, AuditEvent, Campaign, NarrativeAnswer, Unit, User
from .workflow import CAMPAIGN_OPEN, Refused


def answers(session: Session, campaign: Campaign, unit: Unit | None = None) -> dict[tuple[int, str], NarrativeAnswer]:
    """The units' answers (not drafts) of ``campaign``, by (unit id, section code); one unit's only
    when ``unit`` is given."""
    query = select(NarrativeAnswer).where(NarrativeAnswer.campaign_id == campaign.id, NarrativeAnswer.kind == ANSWER)
    if unit is not None:
        query = query.where(NarrativeAnswer.unit_id == unit.id)
    return {(a.unit_id, a.section_code): a for a in session.scalars(query)}


def drafts(session: Session, campaign: Campaign) -> dict[str, str]:
    """The compiler's draft of the district's report, section code → cleaned HTML (sections not
    drafted yet are absent)."""
    rows = session.scalars(select(NarrativeAnswer).where(
        NarrativeAnswer.campaign_id == campaign.id, NarrativeAnswer.kind == DRAFT))
    return {row.section_code: row.html for row in rows if row.html}


# --- saving -------------------------------------------------------------------------------------

class NotAnswered(LookupError):
    """No answered section of the campaign's outline has this code (unknown, or a heading that only
    groups others): nothing to write there."""


class TextConflict(Exception):
    """The text changed since the page showed it (``base_version``): nothing was stored. ``html``
    and ``version``: what is stored now."""

    def __init__(self, html: str, version: int):
        self.html, self.version = html, version
        super().__init__("Nội dung này vừa được người khác sửa; nội dung của bạn chưa được lưu.")


def too_long(chars: int) -> str:
    return (f"Nội dung dài {chars:,} ký tự, quá giới hạn {MAX_ANSWER_CHARS:,} ký tự của một mục; "
            "hãy rút gọn hoặc chia bớt sang mục khác.").replace(",", ".")


def answered_section(campaign: Campaign, code: str) -> Section:
    """The answered section ``code`` of the campaign's outline; NotAnswered otherwise."""
    for section in campaign.outline.all_sections():
        if section.code == code and section.answered:
            return section
    raise NotAnswered(code)


def _cleaned(html: str) -> str:
    """``html`` through the allow-list; ValueProblem (with the message) when too long."""
    cleaned = clean(html)
    if len(cleaned) > MAX_ANSWER_CHARS:
        raise ValueProblem(too_long(len(cleaned)))
    return cleaned


def _stored(session: Session, campaign: Campaign, unit: Unit, code: str, kind: str) -> NarrativeAnswer | None:
    """The stored text, read again (under the caller's lock: what others just saved)."""
    return session.scalar(select(NarrativeAnswer).where(
        NarrativeAnswer.campaign_id == campaign.id, NarrativeAnswer.unit_id == unit.id,
        NarrativeAnswer.section_code == code, NarrativeAnswer.kind == kind)
        .execution_options(populate_existing=True))


def _write(session: Session, campaign: Campaign, unit: Unit, user: User | None, code: str, kind: str,
           cleaned: str, base_version: int | None, via: str) -> NarrativeAnswer | None:
    """Store ``cleaned`` under the lock the caller holds, with its audit event; None when it is the
    text stored already (a save sent again after its answer was lost is no conflict). TextConflict
    when ``base_version`` (None: no check) is not the stored version."""
    row = _stored(session, campaign, unit, code, kind)
    old = row.html if row is not None else ""
    if cleaned == old:
        return None
    version = row.version if row is not None else 0
    if base_version is not None and base_version != version:
        raise TextConflict(old, version)
    if row is None:
        row = NarrativeAnswer(campaign_id=campaign.id, unit_id=unit.id, section_code=code, kind=kind, version=0)
        session.add(row)
    row.html, row.version = cleaned, version + 1
    row.updated_by_id = user.id if user else None
    session.add(AuditEvent(user_id=row.updated_by_id, campaign_id=campaign.id, unit_id=unit.id,
                           action=AUDIT_ACTIONS[kind], via=via, row_key=code, old=old or None, new=cleaned or None))
    return row


AUDIT_ACTIONS = {ANSWER: "narrative", DRAFT: "narrative_draft"}


@dataclass
class SavedText:
    """The outcome of a save: ``changed`` False when the text sent was the one stored already."""

    changed: bool
    html: str
    version: int


def save_answer(session: Session, campaign: Campaign, unit: Unit, user: User | None, section_code: str,
                html: str, base_version: int | None, via: str = "web") -> SavedText:
    """Store a unit's answer to one section, cleaned, as a cell is stored: under the unit's part
    lock, only while the part may be written (workflow.closed_reason), refused when the text changed
    since ``base_version`` (TextConflict). Raises NotAnswered, ValueProblem (too long), Refused
    (not a reporting unit of the campaign, or the part closed); nothing stored on any of them.
    Commits."""
    answered_section(campaign, section_code)
    cleaned = _cleaned(html)
    begin_write(session, campaign, unit, via)
    return _save_one(session, campaign, unit, user, section_code, ANSWER, cleaned, base_version, via)


def save_answers(session: Session, campaign: Campaign, unit: Unit, user: User | None, texts: dict[str, str],
                 via: str = "upload") -> int:
    """Store several answers of a unit at once (a .docx upload), all or nothing: every section is
    checked first (NotAnswered, or ValueProblem naming the section), then all are written under one
    lock and one commit. No version check: the file replaces the unit's text, as a template does
    its cells. Returns how many sections changed."""
    cleaned = {}
    for code, html in texts.items():
        section = answered_section(campaign, code)
        try:
            cleaned[code] = _cleaned(html)
        except ValueProblem as exc:
            raise ValueProblem(f"{section.heading}: {exc}") from None
    begin_write(session, campaign, unit, via)
    changed = sum(_write(session, campaign, unit, user, code, ANSWER, text, None, via) is not None
                  for code, text in cleaned.items())
    session.commit() if changed else session.rollback()
    return changed


def may_draft(user: User, campaign: Campaign) -> bool:
    """Whether ``user`` writes the district's draft of ``campaign``: its compiling unit's compiler, or
    an administrator."""
    return user.role == ROLE_ADMIN or (user.role == ROLE_COMPILER and user.unit_id == campaign.compiler_unit_id)


def save_draft(session: Session, campaign: Campaign, user: User, section_code: str, html: str,
               base_version: int | None, via: str = "web") -> SavedText:
    """Store the compiler's draft of one section of the district's report (held under the campaign's
    compiling unit), with the guarantees of save_answer: NotAnswered, ValueProblem, TextConflict,
    PermissionError (not the campaign's compiler nor an administrator), Refused (the campaign closed).
    Commits."""
    if not may_draft(user, campaign):
        raise PermissionError(user.username)
    answered_section(campaign, section_code)
    cleaned = _cleaned(html)
    # Drafts belong to no unit's part: the campaign's row is their lock, taken by writing it as it is
    # (SQLite's write lock, PostgreSQL's row lock: a second draft save, or a close, waits), then read.
    session.execute(update(Campaign).where(Campaign.id == campaign.id).values(status=Campaign.status))
    status = session.scalar(select(Campaign.status).where(Campaign.id == campaign.id))
    if status != CAMPAIGN_OPEN:
        session.rollback()
        raise Refused("Đợt báo cáo đã kết thúc: không sửa dự thảo được nữa.")
    return _save_one(session, campaign, campaign.compiler_unit, user, section_code, DRAFT, cleaned, base_version,
                     via)


def _save_one(session: Session, campaign: Campaign, unit: Unit, user: User | None, code: str, kind: str,
              cleaned: str, base_version: int | None, via: str) -> SavedText:
    """Write one text under the lock the caller took, then commit it (or roll back when nothing
    changed or on a conflict: either ends the lock) and say what is stored."""
    try:
        row = _write(session, campaign, unit, user, code, kind, cleaned, base_version, via)
    except TextConflict:
        session.rollback()
        raise
    if row is None:
        current = _stored(session, campaign, unit, code, kind)
        version = current.version if current is not None else 0
        session.rollback()
        return SavedText(False, cleaned, version)
    html, version = row.html, row.version
    session.commit()
    return SavedText(True, html, version)


def draft_row(session: Session, campaign: Campaign, section_code: str) -> NarrativeAnswer | None:
    """The stored draft of one section (its text and version), or None."""
    return session.scalar(select(NarrativeAnswer).where(
        NarrativeAnswer.campaign_id == campaign.id, NarrativeAnswer.kind == DRAFT,
        NarrativeAnswer.section_code == section_code))


@dataclass
class Desk:
    """The compiler's view of one section: how many units answered each answered section, this
    section's answers (in the campaign's order of units), the units that have not answered, its draft."""

    section: Section
    units: list[Unit]
    counts: dict[str, int]
    answered: list[tuple[Unit, NarrativeAnswer]]
    silent: list[Unit]
    draft: NarrativeAnswer | None


def desk(session: Session, campaign: Campaign, section_code: str | None) -> Desk:
    """The compiler's desk for ``section_code`` (None: the first answered section); NotAnswered for
    a code that is no answered section."""
    sections = [s for s in campaign.outline.all_sections() if s.answered]
    section = answered_section(campaign, section_code) if section_code else sections[0]
    written: dict[str, dict[int, NarrativeAnswer]] = {}
    for (unit_id, code), row in answers(session, campaign).items():
        if row.html:
            written.setdefault(code, {})[unit_id] = row
    here = written.get(section.code, {})
    units = list(campaign.units)
    return Desk(section=section, units=units, counts={s.code: len(written.get(s.code, {})) for s in sections},
                answered=[(u, here[u.id]) for u in units if u.id in here],
                silent=[u for u in units if u.id not in here], draft=draft_row(session, campaign, section.code))
