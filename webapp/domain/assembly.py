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
from collections.abc import Collection

from sqlalchemy import JSON, and_, column, func, literal, select, table, true

from ..dialect import whole_scans
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


def owned_numbers(campaign_id: int, unit_ids=None):
    """A subquery (unit_id, table_code, n): how many numbers each unit has entered in each table, of
    the cells it owns (the completeness counts of the dashboard and the unit pages). Counted per
    (unit, table, group) on ix_cell_value_owner first, then joined to the assignments: a join of
    one row per assigned group, not one per stored value."""
    per_group = (select(cell_value.c.unit_id, cell_value.c.table_code, cell_value.c.group_key, func.count().label("n"))
                 .where(cell_value.c.campaign_id == campaign_id, cell_value.c.num.is_not(None))
                 .group_by(cell_value.c.unit_id, cell_value.c.table_code, cell_value.c.group_key))
    if unit_ids is not None:
        per_group = per_group.where(cell_value.c.unit_id.in_(unit_ids))
    per_group = per_group.subquery("numbers_per_group")
    return (select(per_group.c.unit_id, per_group.c.table_code, func.sum(per_group.c.n).label("n"))
            .select_from(per_group.join(assignment, and_(
                assignment.c.campaign_id == campaign_id, assignment.c.unit_id == per_group.c.unit_id,
                assignment.c.table_code == per_group.c.table_code, assignment.c.group_key == per_group.c.group_key)))
            .group_by(per_group.c.unit_id, per_group.c.table_code).subquery("owned_numbers"))


def count_basis(session, campaign_id: int, counted: Counted) -> Basis:
    """What an assembly with ``counted`` includes: the campaign's units whose parts count, of all its units."""
    by_status = dict(session.execute(
        select(campaign_unit.c.status, func.count()).where(campaign_unit.c.campaign_id == campaign_id)
        .group_by(campaign_unit.c.status)).all())
    return Basis(counted, sum(n for status, n in by_status.items() if counted.includes(status)),
                 sum(by_status.values()))


def assemble(session, campaign_id: int, outline: Outline, frame: Frame, table_code: str | None = None,
             counted: Counted = Counted.ALL, note_lines: int | None = None, list_rows: int | None = None) -> Part:
    """The campaign's assembled appendix (only table ``table_code``'s cells when given), with the total
    rows of the tables whose rows are the units: what the appendix page, a cell's drill-down, the
    breakdown by unit and the exported workbook all show. ``counted``: whose parts count (every
    part as it stands by default; count_basis says how many units that is). The page's preview:
    ``note_lines``, only the first notes of each cell (how many more in ``Part.notes_left``);
    ``list_rows``, only the first rows of each list (how many more in ``Part.rows_left``).

    The sums, the unit counts and the notes are one statement each, grouped in the database, the
    same whatever the number of units; then the list rows and each fed part (nested_parts)."""
    part = Part()
    owners = _owners(counted)

    def in_table(code_column):
        """Every table's rows, or only those of ``table_code``."""
        return true() if table_code is None else code_column == table_code

    with whole_scans(session):  # every owned value of the campaign, read through (ix_cell_value_owner)
        sums = session.execute(
            select(cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key, func.sum(cell_value.c.num))
            .select_from(_owned_values(owners))
            .where(cell_value.c.campaign_id == campaign_id, cell_value.c.num.is_not(None),
                   in_table(cell_value.c.table_code))
            .group_by(cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key)).all()
    for code, row_key, col_key, total in sums:
        part.numbers[(code, row_key, col_key)] = int(total)
    for key, value in _fixed_sums(session, owners, campaign_id, outline, frame, table_code).items():
        part.numbers[key] = part.numbers.get(key, 0) + value
    lines: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for code, row_key, col_key, name, text, notes in _notes(session, owners, campaign_id, in_table, note_lines):
        lines[(code, row_key, col_key)].append(f"{name}: {text}")
        if note_lines is not None and notes > note_lines:
            part.notes_left[(code, row_key, col_key)] = notes - note_lines
    part.texts = {key: "\n".join(value) for key, value in lines.items()}
    nested = nested_parts(session, campaign_id, outline, frame, table_code=table_code, counted=counted,
                          note_lines=note_lines)
    for table_obj in outline.tables:
        if table_obj.is_list and table_code in (None, table_obj.code):
            if list_rows is None or nested:  # the lists of fed parts are merged with these: whole lists
                rows = [data for _, _, data in _list_rows(session, owners, campaign_id, table_obj.code)]
                part.lists[table_obj.code] = merge_list_rows(rows, table_obj.order_by, table_obj.unique_by)
            else:
                shown, size = _list_preview(session, owners, campaign_id, table_obj, list_rows)
                part.lists[table_obj.code] = shown
                if size > len(shown):
                    part.rows_left[table_obj.code] = size - len(shown)
    add_total_rows(part, outline)
    if nested:
        part = add_parts([part, *(p for _, _, p in nested)], outline, [None, *(name for _, name, _ in nested)])
        if list_rows is not None:
            for code, rows in part.lists.items():
                part.lists[code] = rows[:list_rows]
                if len(rows) > list_rows:
                    part.rows_left[code] = len(rows) - list_rows
    return part


def _notes(session, owners, campaign_id: int, in_table, note_lines: int | None):
    """(table code, row key, col key, unit name, note, notes of the cell) of every owned note, in the
    units' order; only the first ``note_lines`` of each cell when given: ranked in the database on
    ix_cell_value_note (the notes' cells and units, without their texts), the texts of those only."""
    cell = (cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key)
    order = (unit.c.sort_order, unit.c.id)
    noted = and_(cell_value.c.campaign_id == campaign_id, cell_value.c.text.is_not(None), cell_value.c.text != "",
                 in_table(cell_value.c.table_code))  # the partial index's condition, and the table asked for
    owned = _owned_values(owners).join(unit, unit.c.id == cell_value.c.unit_id)
    if note_lines is None:
        return session.execute(select(*cell, unit.c.name, cell_value.c.text, literal(0))
                               .select_from(owned).where(noted).order_by(*order)).all()
    ranked = (select(*cell, cell_value.c.unit_id, func.count().over(partition_by=cell).label("notes"),
                     func.row_number().over(partition_by=cell, order_by=order).label("rank"))
              .select_from(owned).where(noted).subquery("ranked_note"))
    note = cell_value.alias("note")
    return session.execute(
        select(ranked.c.table_code, ranked.c.row_key, ranked.c.col_key, unit.c.name, note.c.text, ranked.c.notes)
        .select_from(ranked.join(note, and_(note.c.campaign_id == campaign_id, note.c.unit_id == ranked.c.unit_id,
                                            note.c.table_code == ranked.c.table_code,
                                            note.c.row_key == ranked.c.row_key, note.c.col_key == ranked.c.col_key))
                     .join(unit, unit.c.id == ranked.c.unit_id))
        .where(ranked.c.rank <= note_lines).order_by(ranked.c.rank)).all()


def nested_parts(session, campaign_id: int, outline: Outline, frame: Frame, unit_ids: Collection[int] | None = None,
                 table_code: str | None = None, counted: Counted = Counted.ALL,
                 note_lines: int | None = None) -> list[tuple[int, str, Part]]:
    """(unit id, unit name, part) of every ``counted`` unit of the campaign whose part another campaign
    feeds (only those of ``unit_ids``, only table ``table_code``'s cells, when given), in the units' order:
    the feeding campaign assembled now (by ``assemble``, on this campaign's outline and frame, which
    nesting.link requires to be the same) while the part is open, its snapshot once submitted."""
    query = (select(campaign_unit.c.unit_id, unit.c.name, campaign_unit.c.status, campaign_unit.c.source_campaign_id,
                    campaign_unit.c.snapshot)
             .select_from(campaign_unit.join(unit, unit.c.id == campaign_unit.c.unit_id))
             .where(campaign_unit.c.campaign_id == campaign_id, campaign_unit.c.source_campaign_id.is_not(None))
             .order_by(unit.c.sort_order, unit.c.id))
    if counted.statuses is not None:
        query = query.where(campaign_unit.c.status.in_(counted.statuses))
    if unit_ids is not None:
        query = query.where(campaign_unit.c.unit_id.in_(unit_ids))
    out = []
    for owner, name, _status, source, snapshot in session.execute(query).all():
        if snapshot is not None:
            part = Part.from_json(snapshot, table_code)
        else:
            part = assemble(session, source, outline, frame, table_code=table_code, counted=counted,
                            note_lines=note_lines)
        out.append((owner, name, part))
    return out


def unit_parts(session, campaign_id: int, outline: Outline, frame: Frame,
               unit_id: int | None = None, table_code: str | None = None,
               counted: Counted = Counted.ALL, unit_ids: Collection[int] | None = None) -> dict[int, Part]:
    """Every reporting unit's own part (its values, its fixed 1s, its list rows with their ids), by
    unit id; only that of ``unit_id`` (or those of ``unit_ids``: a page of units, read at once), only
    the cells of table ``table_code``, only the units whose parts are ``counted``, when given. Their
    sum (add_parts) is ``assemble``'s appendix."""
    parts: dict[int, Part] = defaultdict(Part)
    owners = _owners(counted)
    if unit_id is not None:
        unit_ids = [unit_id]
    query = (select(cell_value.c.unit_id, cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key,
                    cell_value.c.num, cell_value.c.text)
             .select_from(_owned_values(owners)).where(cell_value.c.campaign_id == campaign_id))
    if unit_ids is not None:
        query = query.where(cell_value.c.unit_id.in_(unit_ids))
    if table_code is not None:
        query = query.where(cell_value.c.table_code == table_code)
    values = session.execute(query).all()  # one fetchall: iterating the result fetches row by row
    for owner, code, row_key, col_key, num, text in values:
        if num is not None:
            parts[owner].numbers[(code, row_key, col_key)] = int(num)
        elif text:
            parts[owner].texts[(code, row_key, col_key)] = text
    for owner, cells in _fixed_cells(session, owners, campaign_id, outline, frame, unit_ids,
                                     None if table_code is None else [table_code]).items():
        parts[owner].numbers.update(cells)
    for table_obj in outline.tables:
        if table_obj.is_list and table_code in (None, table_obj.code):
            for owner, row_id, data in _list_rows(session, owners, campaign_id, table_obj.code, unit_ids=unit_ids):
                parts[owner].lists.setdefault(table_obj.code, []).append(data)
                parts[owner].list_ids.setdefault(table_obj.code, []).append(row_id)
    for owner, _, part in nested_parts(session, campaign_id, outline, frame, unit_ids, table_code, counted):
        parts[owner] = part
    return dict(parts)


def _list_rows(session, owners, campaign_id: int, table_code: str, columns=None,
               unit_ids: Collection[int] | None = None):
    """(unit id, row id, data) of the owned rows of a list table, in the order they were added
    (``columns`` instead of the data, only the rows of ``unit_ids``, when given)."""
    owned = list_row.join(owners, and_(
        owners.c.campaign_id == list_row.c.campaign_id, owners.c.unit_id == list_row.c.unit_id,
        owners.c.table_code == list_row.c.table_code, owners.c.group_key == "rows"))
    query = (select(list_row.c.unit_id, list_row.c.id, *(columns or [list_row.c.data])).select_from(owned)
             .where(list_row.c.campaign_id == campaign_id, list_row.c.table_code == table_code))
    if unit_ids is not None:
        query = query.where(list_row.c.unit_id.in_(unit_ids))
    return session.execute(query.order_by(list_row.c.id)).all()


def _fixed_sums(session, owners, campaign_id: int, outline: Outline, frame: Frame,
                table_code: str | None = None) -> dict[tuple[str, str, str], int]:
    """The assembled fixed cells (the "Tổng số xã" counts) of ``owners``, of table ``table_code`` when
    given: a unit's fixed cells are the union of those of each group it fills (Ownership.fixed_cells),
    so the database counts the units of each (table, group) and each group's cells count that many;
    a unit's own row (a block whose rows are the units) is the unit's, read unit by unit."""
    fixed = [t for t in outline.tables if any(c.kind.fixed_one for c in t.columns)
             and table_code in (None, t.code)]
    own_rows = {t.code for t in fixed if any(b.by_unit for b in t.blocks)}
    by_group = [t.code for t in fixed if t.code not in own_rows]
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    if by_group:
        tables = {t.code: t for t in fixed}
        for code, group_key, units in session.execute(
                _fixed_owners(owners, campaign_id, owners.c.table_code, owners.c.group_key, func.count())
                .where(owners.c.table_code.in_(by_group)).group_by(owners.c.table_code, owners.c.group_key)):
            for key, value in Ownership.of(tables[code], {group_key}, None).fixed_cells(frame).items():
                out[key] += value * units
    if own_rows:
        for cells in _fixed_cells(session, owners, campaign_id, outline, frame, table_codes=own_rows).values():
            for key, value in cells.items():
                out[key] += value
    return out


def _fixed_owners(owners, campaign_id: int, *columns):
    """The ``owners`` of the campaign that enter their own cells (a fed part's counts are its campaign's)."""
    return (select(*columns)
            .select_from(owners.join(campaign_unit, and_(campaign_unit.c.campaign_id == owners.c.campaign_id,
                                                         campaign_unit.c.unit_id == owners.c.unit_id)))
            .where(owners.c.campaign_id == campaign_id, campaign_unit.c.source_campaign_id.is_(None)))


def _fixed_cells(session, owners, campaign_id: int, outline: Outline, frame: Frame,
                 unit_ids: Collection[int] | None = None,
                 table_codes: Collection[str] | None = None) -> dict[int, dict[tuple[str, str, str], int]]:
    """unit id -> its fixed cells (the 1s of the "Tổng số xã" cells it owns), from its assignments
    among ``owners`` (_owners); those of ``unit_ids``, of the tables ``table_codes``, only when given."""
    query = (_fixed_owners(owners, campaign_id, owners.c.unit_id, unit.c.code, owners.c.table_code,
                           owners.c.group_key)
             .join(unit, unit.c.id == owners.c.unit_id))
    if unit_ids is not None:
        query = query.where(owners.c.unit_id.in_(unit_ids))
    if table_codes is not None:
        query = query.where(owners.c.table_code.in_(table_codes))
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
    return [rows[i] for i in _merged_order(rows, order_by, unique_by)]


def _merged_order(rows: list[dict[str, str]], order_by: str | None, unique_by: tuple[str, ...]) -> list[int]:
    """merge_list_rows's choice: the positions in ``rows`` of the rows kept, in the merged order (the
    first of duplicates kept; a stable sort). Reads only ``order_by`` and ``unique_by`` of a row when
    there are ``unique_by`` keys (_list_preview gives it no more)."""
    seen: set[tuple[str, ...]] = set()
    kept = []
    for i, row in enumerate(rows):
        key = _identity(row, unique_by) if unique_by else tuple(sorted(row.items()))
        if key in seen:
            continue
        seen.add(key)
        kept.append(i)
    if order_by:
        kept.sort(key=lambda i: (rows[i].get(order_by) or dt.date.max.isoformat()))
    return kept


def _list_preview(session, owners, campaign_id: int, table_obj, rows: int) -> tuple[list[dict[str, str]], int]:
    """The first ``rows`` rows of a list table's merged list (merge_list_rows) and how many it has:
    the database gives the ordering and identifying values of each row (not the whole row), the whole
    rows of those shown only. A list without ``unique_by`` (a whole row its identity) is read whole."""
    if not table_obj.unique_by:
        merged = merge_list_rows([data for _, _, data in _list_rows(session, owners, campaign_id, table_obj.code)],
                                 table_obj.order_by, table_obj.unique_by)
        return merged[:rows], len(merged)
    keys = tuple(dict.fromkeys((*table_obj.unique_by, *([table_obj.order_by] if table_obj.order_by else []))))
    light = _list_rows(session, owners, campaign_id, table_obj.code,
                       [list_row.c.data[k].as_string() for k in keys])
    ids = [row_id for _, row_id, *_ in light]
    kept = _merged_order([{k: v for k, v in zip(keys, values) if v is not None} for _, _, *values in light],
                         table_obj.order_by, table_obj.unique_by)
    shown = [ids[i] for i in kept[:rows]]
    data = dict(session.execute(select(list_row.c.id, list_row.c.data).where(list_row.c.id.in_(shown))).all())
    return [data[row_id] for row_id in shown], len(kept)


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
        for key, left in part.notes_left.items():
            total.notes_left[key] = total.notes_left.get(key, 0) + left
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
    fixed = _fixed_cells(session, owners, campaign_id, outline, frame, table_codes=[table_code])
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
