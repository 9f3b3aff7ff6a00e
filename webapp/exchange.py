"""Excel in and out for a campaign: a unit's template, importing a filled one, the assembled workbook.

Shared by the web pages and the command line, so that an import obeys the same rules everywhere.
No Flask here: callers pass the session, the campaign, the unit and the user.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from .dialect import BULK_VALUES, refresh_statistics, whole_scans
from .domain.assembly import assemble, count_basis, stream_unit_parts, unit_parts
from .domain.importer import read_template
from .domain.parts import Counted, Part
from .domain.workbook import collector_paused, write_appendix, write_template
from .entry.service import OverQuota, UnitList, UnitTable, begin_write, owned_groups
from .models import PART_ACCEPTED, PART_SUBMITTED, ROLE_COMPILER, Campaign, CampaignUnit, Unit, User
from .review.listing import unit_figures
from .review.service import campaign_fillers, total_label
from .workflow import STATUS_NAMES, VIA_COMPILER_IMPORT, Refused, closed_reason, in_campaign, part_of


def identity(campaign: Campaign, unit: Unit) -> dict[str, str]:
    """What a template says it is; an upload must say the same."""
    outline = campaign.outline
    return {"campaign": campaign.code, "unit": unit.code, "unit_name": unit.name,
            "outline": outline.ident, "outline_digest": outline.digest}


def expected_identity(campaign: Campaign, unit: Unit) -> dict[str, str]:
    ident = identity(campaign, unit)
    return {key: ident[key] for key in ("campaign", "unit", "outline")}


def write_unit_template(session: Session, campaign: Campaign, unit: Unit, target: str | IO[bytes]) -> None:
    """The unit's Excel template, holding its current values."""
    outline = campaign.outline
    # the part's list rows come with their ids, which the template carries so that an import
    # matches each row to the stored one (see _replace_list)
    part = unit_parts(session, campaign.id, outline, campaign.frame, unit_id=unit.id).get(unit.id)
    write_template(target, outline, campaign.frame, part or Part(), owned_groups(session, campaign, unit),
                   identity(campaign, unit), unit_kind=campaign.compiler_kind)


class ImportRefused(Exception):
    """A template that cannot be stored; ``errors`` are ``Sheet!Cell: message`` lines."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


def import_unit_template(session: Session, campaign: Campaign, unit: Unit, user: User | None,
                         source: str | IO[bytes], via: str = "import") -> int:
    """Store a filled template whole, or nothing; returns the number of changed values.

    Blank input cells clear the unit's value: the template is the unit's whole part.
    Raises ImportRefused with every error.
    """
    if not in_campaign(session, campaign, unit):
        raise ImportRefused([f"Đơn vị {unit.code} không thuộc đợt báo cáo {campaign.code}."])
    if user is not None and user.role == ROLE_COMPILER:
        via = VIA_COMPILER_IMPORT  # a template that came by mail, uploaded by the compiler
    reason = closed_reason(campaign, part_of(session, campaign, unit), via)
    if reason:  # checked again under the lock when storing
        raise ImportRefused([reason])
    outline = campaign.outline
    groups = owned_groups(session, campaign, unit)
    part, errors = read_template(source, outline, campaign.frame, groups, expected_identity(campaign, unit), unit.code)
    if errors:
        raise ImportRefused(errors)
    changed = 0
    try:
        for table in outline.tables:
            if not groups.get(table.code):
                continue
            if table.is_list:
                changed += _replace_list(session, campaign, unit, user, table, part.lists.get(table.code, []),
                                         part.list_ids.get(table.code, []), via)
                continue
            sheet = UnitTable(session, campaign, unit, table, groups[table.code])
            raw = {}
            for cell in sheet.layout.cells:
                key = (table.code, cell.row_key, cell.column.key)
                if sheet.ownership.may_enter(cell.row_key, cell.column.key):
                    raw[(cell.row_key, cell.column.key)] = part.numbers.get(key, part.texts.get(key))
            refused = sheet.save_many(raw, user, via, commit=False)
            if refused:  # the reader checks the same rules; kept as a guard, with addresses
                raise ImportRefused([f"{table.sheet}!{sheet.layout.find(r, c).address}: {m}"
                                     for (r, c), m in sorted(refused.items())])
            changed += sheet.changes
        if changed >= BULK_VALUES:
            refresh_statistics(session)  # commits
        else:
            session.commit()
    except Refused as exc:  # locked between the first check and the write
        session.rollback()
        raise ImportRefused([str(exc)]) from None
    except BaseException:
        session.rollback()
        raise
    return changed


def _replace_list(session, campaign, unit, user, table, rows: list[dict[str, str]], ids: list[int | None],
                  via: str) -> int:
    """Make the unit's list rows those of the template, recording only what changed.

    A row carrying the id of one of the unit's stored rows of this campaign and table is that row:
    left alone when its fields are the same, else edited (one ``list_edit``, the row keeps its id
    and history). A row carrying no id (a new document, or a template written before rows carried
    their id) or an id that is not one of these rows (another unit's or campaign's, a removed row,
    a made-up number, one already used higher in the sheet) never touches that row: it is the
    stored row not otherwise matched that has exactly its fields, else a new row. Stored rows
    matched by nothing are removed. New rows are added after the stored ones, in the template's
    order (rows are listed in the order they were added). Read and written under the part's lock,
    each edit and removal with the version read, as a page's would be.
    """
    begin_write(session, campaign, unit, via)  # the rows as they stand under the lock
    current = UnitList(session, campaign, unit, table)
    stored = {r.id: r for r in current.rows}
    wanted: dict[int, dict[str, str]] = {}  # stored row id → its fields in the template
    unidentified: list[dict[str, str]] = []
    for data, row_id in itertools.zip_longest(rows, ids[:len(rows)]):
        if row_id in stored and row_id not in wanted:
            wanted[row_id] = data
        else:
            unidentified.append(data)
    unmatched = [r for r in current.rows if r.id not in wanted]
    added: list[dict[str, str]] = []
    for data in unidentified:
        same = next((r for r in unmatched if r.data == data), None)
        if same is None:
            added.append(data)
        else:
            wanted[same.id] = data
            unmatched.remove(same)
    for row in unmatched:
        current.delete(row, user, via, commit=False, expected_version=row.version)
    for row in list(current.rows):
        if row.data != wanted[row.id]:
            current.update(row, wanted[row.id], user, via, commit=False, expected_version=row.version,
                           check_quota=False)
    for data in added:
        current.add(data, user, via, commit=False, check_quota=False)
    try:
        current.check_quota()  # the list as the template leaves it, whatever the order of the changes
    except OverQuota as exc:
        raise ImportRefused([f"{table.sheet}: {exc}"]) from None
    return current.changes


def document_fields(campaign: Campaign) -> dict:
    """What the printed appendix says of the document it goes with (``write_appendix``'s cover keys)."""
    return {"issuer_name": campaign.issuer_name, "issuer_parent": campaign.issuer_parent,
            "issuer_is_party": campaign.issuer_is_party, "report_number": campaign.report_number,
            "report_date": campaign.report_date, "report_place": campaign.report_place,
            "signer_title": campaign.signer_title, "signer_name": campaign.signer_name}


@dataclass(frozen=True)
class Standing:
    """What the workbook says of a unit: its name, where its part stands (workflow.STATUS_NAMES'
    key), whether it has handed it in and whether the figures count it."""
    unit_id: int
    name: str
    status: str
    handed_in: bool
    counted: bool


def standings(session: Session, campaign: Campaign, counted: Counted) -> list[Standing]:
    """Every reporting unit's Standing, in the campaign's order, in one statement: the status as the
    dashboard counts it in SQL (listing.unit_figures), so a province's units are never loaded with
    their tables' states."""
    figures = unit_figures(campaign)
    with whole_scans(session):  # every stored value of the campaign counted
        rows = session.execute(
            select(Unit.id, Unit.name, figures.c.status, CampaignUnit.status)
            .join(figures, figures.c.unit_id == Unit.id)
            .join(CampaignUnit, and_(CampaignUnit.unit_id == Unit.id, CampaignUnit.campaign_id == campaign.id))
            .order_by(Unit.sort_order, Unit.id)).all()
    return [Standing(unit_id, name, status, part_status in (PART_SUBMITTED, PART_ACCEPTED), counted.includes(part_status))
            for unit_id, name, status, part_status in rows]


def cover_info(campaign: Campaign, units: list[Standing], basis: str, now: dt.datetime) -> dict:
    """The cover sheet: campaign, compiler, when, which units have not handed in their part
    (submitted or accepted), which parts the figures count (``basis``: Basis.sentence), and every
    unit with where its part stands and whether it is counted; and the document's fields."""
    missing = [u.name for u in units if not u.handed_in]
    return {**document_fields(campaign), "campaign_code": campaign.code, "campaign_name": campaign.name,
            "compiler": campaign.compiler_unit.name, "generated_at": now, "deadline": campaign.deadline,
            "units_total": len(units), "units_submitted": len(units) - len(missing),
            "missing_units": missing, "subtitle": campaign.subtitle, "total_label": total_label(campaign),
            "compiler_kind": campaign.compiler_kind, "basis": basis,
            "units": [(u.name, STATUS_NAMES[u.status], u.counted) for u in units]}


@collector_paused()
def write_campaign_appendix(session: Session, campaign: Campaign, target: str | IO[bytes], now: dt.datetime,
                            counted: Counted = Counted.ALL, with_cover: bool = True) -> None:
    """The assembled appendix workbook of the ``counted`` parts, with its cover saying which (unless
    not ``with_cover``), and a per-unit breakdown of each table listing the counted units that fill a
    number of it: each table's from the units' parts of that table, read a few hundred units at a
    time as its rows are written (stream_unit_parts), so that the memory does not grow with the units."""
    outline = campaign.outline
    assembled = Part()  # the appendix page's, assembled table by table: a province's is not read all at once
    for table in outline.tables:
        one = assemble(session, campaign.id, outline, campaign.frame, table_code=table.code, counted=counted)
        assembled.numbers.update(one.numbers)
        assembled.texts.update(one.texts)
        assembled.lists.update((code, rows) for code, rows in one.lists.items() if code == table.code)
    units = standings(session, campaign, counted)
    names = {u.unit_id: u.name for u in units}
    # a table's breakdown lists the units that fill a number of it (not those asked only for a note)
    filler_ids = {code: ids for table in outline.tables
                  for code, ids in campaign_fillers(session, campaign, table).items()}
    fillers = {code: {names[i] for i in ids} for code, ids in filler_ids.items()}

    def breakdown(table) -> tuple[list[str], Iterator[Part]]:
        ids = [u.unit_id for u in units if u.counted and u.unit_id in filler_ids.get(table.code, ())]
        parts = stream_unit_parts(session, campaign.id, outline, campaign.frame, ids, table.code, counted)
        return [names[i] for i in ids], (part for _, part in parts)

    cover = cover_info(campaign, units, count_basis(session, campaign.id, counted).sentence, now)
    write_appendix(target, outline, campaign.frame, assembled, cover, breakdown, fillers, with_cover=with_cover)
