"""The district's report of a campaign as a Word document, from the database: the campaign's
printed fields (issuing body, number, place, date, signer), the outline's narrative sections with
the compiler's draft (narrative.drafts) and the assembled appendix, counting the parts chosen
(parts.Counted). domain/report_docx.py lays it out. No Flask here: the web page and the command
line call ``write_campaign_report``.
"""

from __future__ import annotations

from typing import IO

from sqlalchemy.orm import Session

from .domain.assembly import assemble, count_basis
from .domain.parts import Counted
from .domain.report_docx import Appendix, Issuer, Report, write_report
from .models import Campaign
from .narrative import drafts


def recipients(campaign: Campaign) -> list[str]:
    """The "Nơi nhận" lines: whoever asked for the report (its request), and the file copy."""
    lines = [f"- Nơi yêu cầu báo cáo (theo {campaign.request_document}),"] if campaign.request_document else []
    return lines + ["- Lưu."]


def build_report(session: Session, campaign: Campaign, counted: Counted = Counted.ALL) -> Report:
    outline = campaign.outline
    part = assemble(session, campaign.id, outline, campaign.frame, counted=counted)
    return Report(
        issuer=Issuer(name=campaign.issuer_name or campaign.compiler_unit.name.upper(),
                      parent=campaign.issuer_parent, is_party=campaign.issuer_is_party),
        number=campaign.report_number, place=campaign.report_place, date=campaign.report_date,
        title=campaign.name, sections=outline.sections, drafts=drafts(session, campaign),
        recipients=recipients(campaign), signer_title=campaign.signer_title, signer_name=campaign.signer_name,
        basis=count_basis(session, campaign.id, counted).sentence,
        appendix=Appendix(title=outline.title, subtitle=campaign.subtitle, tables=outline.tables,
                          frame=campaign.frame, part=part, unit_kind=campaign.compiler_kind))


def write_campaign_report(session: Session, campaign: Campaign, target: str | IO[bytes],
                          counted: Counted = Counted.ALL) -> None:
    write_report(target, build_report(session, campaign, counted))
