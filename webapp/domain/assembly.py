"""Assembly: the whole appendix of a campaign as the sum, cell by cell, of what the owning units entered.

The database does the grouping (one GROUP BY over the stored values, joined to the current
assignments so that only the units that fill a group count). Rates are not assembled: they are
derived afterwards from the assembled numerator and denominator (values.derive), never averaged.

No Flask here: the queries are SQLAlchemy Core on the table names, run on any Session or Connection.
An assembled appendix is a Part, the same shape as one unit's part, so that a district's appendix
can later stand as one unit's part of a province campaign (add_parts sums parts of any origin).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import JSON, and_, column, func, select, table, true

from .outline import Outline
from .parts import Part

cell_value = table("cell_value", column("campaign_id"), column("unit_id"), column("table_code"),
                   column("row_key"), column("col_key"), column("group_key"), column("num"), column("text"))
assignment = table("assignment", column("campaign_id"), column("unit_id"), column("table_code"),
                   column("group_key"))
list_row = table("list_row", column("id"), column("campaign_id"), column("unit_id"), column("table_code"),
                 column("data", JSON))
unit = table("unit", column("id"), column("name"), column("sort_order"))

_owned_values = cell_value.join(assignment, and_(
    assignment.c.campaign_id == cell_value.c.campaign_id, assignment.c.unit_id == cell_value.c.unit_id,
    assignment.c.table_code == cell_value.c.table_code, assignment.c.group_key == cell_value.c.group_key))


def assemble(session, campaign_id: int, outline: Outline, years: list[int], table_code: str | None = None) -> Part:
    """The campaign's assembled appendix (only table ``table_code``'s cells when given): what the
    appendix page, a cell's drill-down, the breakdown by unit and the exported workbook all show."""
    part = Part()

    def in_table(code_column):
        """Every table's rows, or only those of ``table_code``."""
        return true() if table_code is None else code_column == table_code

    sums = session.execute(
        select(cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key, func.sum(cell_value.c.num))
        .select_from(_owned_values)
        .where(cell_value.c.campaign_id == campaign_id, cell_value.c.num.is_not(None), in_table(cell_value.c.table_code))
        .group_by(cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key))
    for code, row_key, col_key, total in sums:
        part.numbers[(code, row_key, col_key)] = int(total)
    counts = dict(((t, g), n) for t, g, n in session.execute(
        select(assignment.c.table_code, assignment.c.group_key, func.count())
        .where(assignment.c.campaign_id == campaign_id, in_table(assignment.c.table_code))
        .group_by(assignment.c.table_code, assignment.c.group_key)))
    _add_unit_counts(part, _unit_count_cells(outline, years), lambda t, g: counts.get((t, g), 0))
    notes = session.execute(
        select(cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key, unit.c.name, cell_value.c.text)
        .select_from(_owned_values.join(unit, unit.c.id == cell_value.c.unit_id))
        .where(cell_value.c.campaign_id == campaign_id, cell_value.c.text.is_not(None), cell_value.c.text != "",
               in_table(cell_value.c.table_code))
        .order_by(unit.c.sort_order, unit.c.id))
    lines: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for code, row_key, col_key, name, text in notes:
        lines[(code, row_key, col_key)].append(f"{name}: {text}")
    part.texts = {key: "\n".join(value) for key, value in lines.items()}
    for table_obj in outline.tables:
        if table_obj.is_list and table_code in (None, table_obj.code):
            rows = [data for _, _, data in _list_rows(session, campaign_id, table_obj.code)]
            part.lists[table_obj.code] = merge_list_rows(rows, table_obj.order_by, table_obj.unique_by)
    return part


def unit_parts(session, campaign_id: int, outline: Outline, years: list[int],
               unit_id: int | None = None, table_code: str | None = None) -> dict[int, Part]:
    """Every reporting unit's own part (its values, its fixed 1s, its list rows with their ids), by
    unit id; only that of ``unit_id``, only the cells of table ``table_code``, when given. Their sum
    (add_parts) is ``assemble``'s appendix."""
    parts: dict[int, Part] = defaultdict(Part)
    query = (select(cell_value.c.unit_id, cell_value.c.table_code, cell_value.c.row_key, cell_value.c.col_key,
                    cell_value.c.num, cell_value.c.text)
             .select_from(_owned_values).where(cell_value.c.campaign_id == campaign_id))
    assigned = select(assignment.c.unit_id, assignment.c.table_code, assignment.c.group_key).where(
        assignment.c.campaign_id == campaign_id)
    if unit_id is not None:
        query = query.where(cell_value.c.unit_id == unit_id)
        assigned = assigned.where(assignment.c.unit_id == unit_id)
    if table_code is not None:
        query = query.where(cell_value.c.table_code == table_code)
        assigned = assigned.where(assignment.c.table_code == table_code)
    values = session.execute(query).all()  # one fetchall: iterating the result fetches row by row
    for owner, code, row_key, col_key, num, text in values:
        if num is not None:
            parts[owner].numbers[(code, row_key, col_key)] = int(num)
        elif text:
            parts[owner].texts[(code, row_key, col_key)] = text
    groups: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for owner, code, group_key in session.execute(assigned):
        groups[owner].add((code, group_key))
    unit_counts = _unit_count_cells(outline, years)  # the same cells for every unit: found once
    for owner, owned in groups.items():
        _add_unit_counts(parts[owner], unit_counts, lambda t, g, owned=owned: 1 if (t, g) in owned else 0)
    for table_obj in outline.tables:
        if table_obj.is_list and table_code in (None, table_obj.code):
            for owner, row_id, data in _list_rows(session, campaign_id, table_obj.code):
                if unit_id is None or owner == unit_id:
                    parts[owner].lists.setdefault(table_obj.code, []).append(data)
                    parts[owner].list_ids.setdefault(table_obj.code, []).append(row_id)
    return dict(parts)


def _list_rows(session, campaign_id: int, table_code: str):
    owned = list_row.join(assignment, and_(
        assignment.c.campaign_id == list_row.c.campaign_id, assignment.c.unit_id == list_row.c.unit_id,
        assignment.c.table_code == list_row.c.table_code, assignment.c.group_key == "rows"))
    return session.execute(
        select(list_row.c.unit_id, list_row.c.id, list_row.c.data).select_from(owned)
        .where(list_row.c.campaign_id == campaign_id, list_row.c.table_code == table_code)
        .order_by(list_row.c.id)).all()


def _unit_count_cells(outline: Outline, years: list[int]) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(table code, group key, its "Tổng số xã" cells) for every column group that has them."""
    out = []
    for table_obj in outline.tables:
        for group_key, group in table_obj.groups:
            block = table_obj.block_of(group.columns[0].key)
            cells = [(table_obj.code, spec.key, column_obj.key) for column_obj in group.columns
                     if column_obj.kind.fixed_one for spec in block.row_specs(years)]
            if cells:
                out.append((table_obj.code, group_key, cells))
    return out


def _add_unit_counts(part: Part, cells: list[tuple[str, str, list[tuple[str, str, str]]]], count) -> None:
    """Fill the "Tổng số xã" ``cells``: the number of units that fill the group (a unit's own part: 1)."""
    for table_code, group_key, keys in cells:
        n = count(table_code, group_key)
        if n:
            for key in keys:
                part.numbers[key] = n


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
    "Name: note" lines when ``names`` are given, list rows merged by the outline's rules."""
    total = Part()
    lines: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for index, part in enumerate(parts):
        for key, value in part.numbers.items():
            total.numbers[key] = total.numbers.get(key, 0) + value
        for key, text in part.texts.items():
            lines[key].append(f"{names[index]}: {text}" if names else text)
    total.texts = {key: "\n".join(value) for key, value in lines.items()}
    for table_obj in outline.tables:
        if table_obj.is_list:
            rows = [row for part in parts for row in part.lists.get(table_obj.code, [])]
            total.lists[table_obj.code] = merge_list_rows(rows, table_obj.order_by, table_obj.unique_by)
    return total
