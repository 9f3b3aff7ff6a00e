"""The narrative report: each unit's answers per section of the outline, and the compiler's draft.

Reading here; saving (versions, workflow locks, audit) beside it, so that the browser, the .docx
upload and the report all go through the same functions.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ANSWER, DRAFT, Campaign, NarrativeAnswer, Unit


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
