"""Assembly: the whole appendix of a campaign as the sum, cell by cell, of what the owning units entered.

The database does the grouping (one GROUP BY over the stored values, joined to the current
assignments so that only the units that fill a group count). Rates are not assembled: they are
derived afterwards from the assembled numerator and denominator (values.derive), never averaged.

No Flask here: the queries are SQLAlchemy Core on the table names, run on any Session or Connection.
An assembled appendix is a Part, the same shape as one unit's part, so that a district's appendix
stands as one unit's part of a province campaign (add_parts sums parts of any origin).

Nested levels: a unit of a campaign may be fed by another campaign (campaign_unit.source_campaign_id:
a district of a province campaign, fed by the district's own campaign). Its part is that campaign's
assembled appendix — assembled here, by ``assemble`` itself, while the part is open; as stored at
submission (campaign_unit.snapshot) once submitted or accepted. ``nested_parts`` gives them; both
``assemble`` and ``unit_parts`` add them to what the database sums for the units that enter cells.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import JSON, and_, column, func, select, table, true

from .outline import TOTAL_ROW_KEY, Frame, Outline
from .ownership import Ownership
from .parts import Basis, Counted, Part

cell_value = table("cell_value", column("campaign_id"), column("unit_id"), column("table_code"),
                   column("row_key"), column("col_key"), column("group_key"), column("num"), column("text"))
assignment = table("assignment", column("campaign_id"), column("unit_id"), column("table_code"),
                   column("group_key"))
list_row = table("list_row", column("id"), column("campaign_id"), column("unit_id"), column("table_code"),
                 column("data", JSON))
unit = table("unit", column("id"), column("code"), column("name"), column("sort_order"))
campaign_unit = table("campaign_unit", column("campaign_id"), column("unit_id"), column("status"),
                      column("source_campaign_id"), column("snapshot", JSON))


def _owners(counted: Counted):
    """The assignments of the units whose parts are ``counted``: every query below reads who owns a
    cell, a list or a "Tổng số xã" through this one selectable, so the choice of parts is made here
    only (numbers, notes, list rows, unit counts, and so the total rows of unit-row tables)."""
    if counted.statuses is None:
        return assignment
    return (select(assignment.c.campaign_id, assignment.c.unit_id, assignment.c.table_code, assignment.c.group_key)
            .select_from(assignment.join(campaign_unit, and_(campaign_unit.c.campaign_id == assignment.c.campaign_id,
                                                             campaign_unit.c.unit_id == assignment.c.unit_id)))
            .where(campaign_unit.c.status.in_(counted.statuses))
            .subquery("counted_assignment"))


def _owned_values(owners):
    """The stored values of the cells their unit owns (a value left from an earlier assignment does not count)."""
    return cell_value.join(owners, and_(
        owners.c.campaign_id == cell_value.c.campaign_id, owners.c.unit_id == cell_value.c.unit_id,
        owners.c.table_code == cell_value.c.table_code, owners.c.group_key == cell_value.c.group_key))


def count_basis(session, campaign_id: int, counted: Counted) -> Basis:
    """What an assembly with ``counted`` includes: the campaign's units whose parts count, of all its units."""
    by_status = dict(session.execute(
        select(campaign_unit.c.status, func.count()).where(campaign_unit.c.campaign_id == campaign_id)
        .group_by(campaign_unit.c.status)).all())
    return Basis(counted, sum(n for status, n in by_status.items() if counted.includes(status)),
                 sum(by_status.values()))


def assemble(session, campaign_id: int, outline: Outline, frame: Frame, table_code: str | None = None,
             counted: Counted = Counted.ALL) -> Part:
    """The campaign's assembled appendix (only table ``table_code``'s cells when given), with the total
    rows of the tables whose rows are the units: what the appendix page, a cell's drill-down, the
    breakdown by unit and the exported workbook all show. ``counted``: whose parts count (every
    part as it stands by default; count_basis says how many units that is)."""
    part = Part()
    owners = _owners(counted)

    def in_table(code_column):
        """Every table's rows, or only those of ``table_code``."""
        return true() if table_code is None else code_column == table_code

    sums = session.execute(
        select(cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key, func.sum(cell_value.c.num))
        .select_from(_owned_values(owners))
        .where(cell_value.c.campaign_id == campaign_id, cell_value.c.num.is_not(None), in_table(cell_value.c.table_code))
        .group_by(cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key))
    for code, row_key, col_key, total in sums:
        part.numbers[(code, row_key, col_key)] = int(total)
    for cells in _fixed_cells(session, owners, campaign_id, outline, frame, table_code=table_code).values():
        for key, value in cells.items():
            part.numbers[key] = part.numbers.get(key, 0) + value
    notes = session.execute(
        select(cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key, unit.c.name, cell_value.c.text)
        .select_from(_owned_values(owners).join(unit, unit.c.id == cell_value.c.unit_id))
        .where(cell_value.c.campaign_id == campaign_id, cell_value.c.text.is_not(None), cell_value.c.text != "",
               in_table(cell_value.c.table_code))
        .order_by(unit.c.sort_order, unit.c.id))
    lines: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for code, row_key, col_key, name, text in notes:
        lines[(code, row_key, col_key)].append(f"{name}: {text}")
    part.texts = {key: "\n".join(value) for key, value in lines.items()}
    for table_obj in outline.tables:
        if table_obj.is_list and table_code in (None, table_obj.code):
            rows = [data for _, _, data in _list_rows(session, owners, campaign_id, table_obj.code)]
            part.lists[table_obj.code] = merge_list_rows(rows, table_obj.order_by, table_obj.unique_by)
    add_total_rows(part, outline)
    nested = nested_parts(session, campaign_id, outline, frame, table_code=table_code, counted=counted)
    if nested:
        part = add_parts([part, *(p for _, _, p in nested)], outline, [None, *(name for _, name, _ in nested)])
    return part


def nested_parts(session, campaign_id: int, outline: Outline, frame: Frame, unit_id: int | None = None,
                 table_code: str | None = None, counted: Counted = Counted.ALL) -> list[tuple[int, str, Part]]:
    """(unit id, unit name, part) of every ``counted`` unit of the campaign whose part another campaign
    feeds (only ``unit_id``'s, only table ``table_code``'s cells, when given), in the units' order:
    the feeding campaign assembled now (by ``assemble``, on this campaign's outline and frame, which
    nesting.link requires to be the same) while the part is open, its snapshot once submitted."""
    query = (select(campaign_unit.c.unit_id, unit.c.name, campaign_unit.c.status, campaign_unit.c.source_campaign_id,
                    campaign_unit.c.snapshot)
             .select_from(campaign_unit.join(unit, unit.c.id == campaign_unit.c.unit_id))
             .where(campaign_unit.c.campaign_id == campaign_id, campaign_unit.c.source_campaign_id.is_not(None))
             .order_by(unit.c.sort_order, unit.c.id))
    if counted.statuses is not None:
        query = query.where(campaign_unit.c.status.in_(counted.statuses))
    if unit_id is not None:
        query = query.where(campaign_unit.c.unit_id == unit_id)
    out = []
    for owner, name, _status, source, snapshot in session.execute(query).all():
        if snapshot is not None:
            part = Part.from_json(snapshot, table_code)
        else:
            part = assemble(session, source, outline, frame, table_code=table_code, counted=counted)
        out.append((owner, name, part))
    return out


def unit_parts(session, campaign_id: int, outline: Outline, frame: Frame,
               unit_id: int | None = None, table_code: str | None = None,
               counted: Counted = Counted.ALL) -> dict[int, Part]:
    """Every reporting unit's own part (its values, its fixed 1s, its list rows with their ids), by
    unit id; only that of ``unit_id``, only the cells of table ``table_code``, only the units whose
    parts are ``counted``, when given. Their sum (add_parts) is ``assemble``'s appendix."""
    parts: dict[int, Part] = defaultdict(Part)
    owners = _owners(counted)
    query = (select(cell_value.c.unit_id, cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key,
                    cell_value.c.num, cell_value.c.text)
             .select_from(_owned_values(owners)).where(cell_value.c.campaign_id == campaign_id))
    if unit_id is not None:
        query = query.where(cell_value.c.unit_id == unit_id)
    if table_code is not None:
        query = query.where(cell_value.c.table_code == table_code)
    values = session.execute(query).all()  # one fetchall: iterating the result fetches row by row
    for owner, code, row_key, col_key, num, text in values:
        if num is not None:
            parts[owner].numbers[(code, row_key, col_key)] = int(num)
        elif text:
            parts[owner].texts[(code, row_key, col_key)] = text
    for owner, cells in _fixed_cells(session, owners, campaign_id, outline, frame, unit_id, table_code).items():
        parts[owner].numbers.update(cells)
    for table_obj in outline.tables:
        if table_obj.is_list and table_code in (None, table_obj.code):
            for owner, row_id, data in _list_rows(session, owners, campaign_id, table_obj.code):
                if unit_id is None or owner == unit_id:
                    parts[owner].lists.setdefault(table_obj.code, []).append(data)
                    parts[owner].list_ids.setdefault(table_obj.code, []).append(row_id)
    for owner, _, part in nested_parts(session, campaign_id, outline, frame, unit_id, table_code, counted):
        parts[owner] = part
    return dict(parts)


def _list_rows(session, owners, campaign_id: int, table_code: str):
    owned = list_row.join(owners, and_(
        owners.c.campaign_id == list_row.c.campaign_id, owners.c.unit_id == list_row.c.unit_id,
        owners.c.table_code == list_row.c.table_code, owners.c.group_key == "rows"))
    return session.execute(
        select(list_row.c.unit_id, list_row.c.id, list_row.c.data).select_from(owned)
        .where(list_row.c.campaign_id == campaign_id, list_row.c.table_code == table_code)
        .order_by(list_row.c.id)).all()


def _fixed_cells(session, owners, campaign_id: int, outline: Outline, frame: Frame, unit_id: int | None = None,
                 table_code: str | None = None) -> dict[int, dict[tuple[str, str, str], int]]:
    """unit id -> its fixed cells (the 1s of the "Tổng số xã" cells it owns), from its assignments
    among ``owners`` (_owners); that of ``unit_id``, of table ``table_code``, only when given."""
    query = (select(owners.c.unit_id, unit.c.code, owners.c.table_code, owners.c.group_key)
             .select_from(owners.join(unit, unit.c.id == owners.c.unit_id)
                          .join(campaign_unit, and_(campaign_unit.c.campaign_id == owners.c.campaign_id,
                                                    campaign_unit.c.unit_id == owners.c.unit_id)))
             .where(owners.c.campaign_id == campaign_id,
                    campaign_unit.c.source_campaign_id.is_(None)))  # a fed part's counts are its campaign's
    if unit_id is not None:
        query = query.where(owners.c.unit_id == unit_id)
    if table_code is not None:
        query = query.where(owners.c.table_code == table_code)
    groups: dict[tuple[int, str, str], set[str]] = defaultdict(set)
    for owner, code, owned_table, group_key in session.execute(query):
        groups[(owner, code, owned_table)].add(group_key)
    tables = {t.code: t for t in outline.tables if any(c.kind.fixed_one for c in t.columns)}
    out: dict[int, dict[tuple[str, str, str], int]] = defaultdict(dict)
    found: dict[tuple, dict[tuple[str, str, str], int]] = {}  # units filling the same groups own the same cells
    for (owner, code, owned_table), owned in groups.items():
        if owned_table in tables:
            table_obj = tables[owned_table]
            key = (owned_table, frozenset(owned), code if any(b.by_unit for b in table_obj.blocks) else None)
            if key not in found:
                found[key] = Ownership.of(table_obj, owned, code).fixed_cells(frame)
            out[owner].update(found[key])
    return out


def add_total_rows(part: Part, outline: Outline) -> None:
    """Set the total row ("Toàn huyện") of every block whose rows are the units: the sum of its unit
    rows, column by column (a derived row: computed again whenever the part is assembled)."""
    for table_obj in outline.tables:
        if table_obj.is_list:
            continue
        keys = {c.key for b in table_obj.blocks if b.by_unit and b.total for c in b.columns
                if c.kind.summed}
        if not keys:
            continue
        sums: dict[str, int] = {}
        for (table_code, row_key, col_key), value in part.numbers.items():
            if table_code == table_obj.code and col_key in keys and row_key != TOTAL_ROW_KEY:
                sums[col_key] = sums.get(col_key, 0) + value
        for col_key in keys:
            part.numbers.pop((table_obj.code, TOTAL_ROW_KEY, col_key), None)
        part.numbers.update({(table_obj.code, TOTAL_ROW_KEY, k): v for k, v in sums.items()})


def _identity(row: dict[str, str], keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(" ".join(str(row.get(k, "")).split()).casefold() for k in keys)


def merge_list_rows(rows: list[dict[str, str]], order_by: str | None, unique_by: tuple[str, ...]) -> list[dict[str, str]]:
    """The union of the units' rows, ordered by ``order_by``, exact duplicates (same ``unique_by``) once."""
    seen: set[tuple[str, ...]] = set()
    merged = []
    for row in rows:
        key = _identity(row, unique_by) if unique_by else tuple(sorted(row.items()))
        if key in seen:
            continue
        seen.add(key)
        merged.append(row)
    if order_by:
        merged.sort(key=lambda r: (r.get(order_by) or dt.date.max.isoformat()))
    return merged


def add_parts(parts: list[Part], outline: Outline, names: list[str] | None = None) -> Part:
    """Sum parts of any origin (units, or assembled sub-campaigns): numbers added, notes joined as
    "Name: note" lines when ``names`` are given (a part named None: its notes as they are), list rows
    merged by the outline's rules."""
    total = Part()
    lines: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for index, part in enumerate(parts):
        for key, value in part.numbers.items():
            total.numbers[key] = total.numbers.get(key, 0) + value
        for key, text in part.texts.items():
            lines[key].append(f"{names[index]}: {text}" if names and names[index] else text)
    total.texts = {key: "\n".join(value) for key, value in lines.items()}
    for table_obj in outline.tables:
        if table_obj.is_list:
            rows = [row for part in parts for row in part.lists.get(table_obj.code, [])]
            total.lists[table_obj.code] = merge_list_rows(rows, table_obj.order_by, table_obj.unique_by)
    add_total_rows(total, outline)
    return total


PARTS_AT_ONCE = 250  # units whose parts stream_unit_parts reads in one query


def stream_unit_parts(session, campaign_id: int, outline: Outline, frame: Frame, unit_ids: list[int],
                      table_code: str, counted: Counted = Counted.ALL):
    """The numbers of table ``table_code`` in the parts of ``unit_ids`` (what ``unit_parts`` gives
    for them, notes and list rows aside), as (unit id, part) in the order of ``unit_ids``, read
    PARTS_AT_ONCE units at a time: a province's breakdown by unit is written from it in the memory of
    a few hundred units, whatever their number."""
    owners = _owners(counted)
    fixed = _fixed_cells(session, owners, campaign_id, outline, frame, table_code=table_code)
    nested = {owner: part for owner, _, part in nested_parts(session, campaign_id, outline, frame,
                                                               table_code=table_code, counted=counted)}
    for start in range(0, len(unit_ids), PARTS_AT_ONCE):
        ids = unit_ids[start:start + PARTS_AT_ONCE]
        parts: dict[int, Part] = defaultdict(Part)
        for owner, row_key, col_key, num in session.execute(
                select(cell_value.c.unit_id, cell_value.c.row_key, cell_value.c.col_key, cell_value.c.num)
                .select_from(_owned_values(owners))
                .where(cell_value.c.campaign_id == campaign_id, cell_value.c.table_code == table_code,
                       cell_value.c.num.is_not(None), cell_value.c.unit_id.in_(ids))):
            parts[owner].numbers[(table_code, row_key, col_key)] = int(num)
        for owner in ids:
            if owner in nested:
                yield owner, nested[owner]
                continue
            part = parts.pop(owner, None) or Part()
            part.numbers.update(fixed.pop(owner, {}))
            yield owner, part
