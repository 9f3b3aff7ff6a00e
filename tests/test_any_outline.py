"""The same tests for every outline: kl49's demo, the mini town (tests/outlines/mini.yaml) and the
seeds' grid outlines shipped with their demo campaigns (cdht: rows of units with a total row, a
serial column, sum and formula columns, a warning rule with "="; mhht: periods, yes/no and unit
counts; muctieu: targets and charts).

Nothing here names a table, a column, a unit kind or a label of an outline: each test walks the
campaign's outline, its frame (years, units) and layout, each unit's Ownership (which cells it
fills: its groups, its own row where the rows are the units) and the columns' kinds to choose its
cells, units and values. They prove that entry, the rules, the template round trip, the assembly,
the export and the pages work for an outline of another shape (other kinds, codes, sheet names with
spaces, years, labels, a list that is not of documents, explicit rows with a header, unit rows)
exactly as for kl49. What an outline does not have (a list table, an error rule, a column type) is
skipped with the reason read from the outline.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import defaultdict
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select, update

from conftest import in_app, login, post_as_page
from webapp.domain import importer
from webapp.domain.assembly import add_parts, assemble, unit_parts
from webapp.domain.layout import build_layout
from webapp.domain.ownership import Ownership, breakdown_tables, fills_numbers
from webapp.domain.columns import row_values
from webapp.domain.values import REQUIRED_IN_ROW, derive, parse_input, percent, show
from webapp.domain.workbook import COVER_SHEET, INFERRED_MARK, META_SHEET, breakdown_sheet_name
from webapp.models import Assignment, AuditEvent, Campaign, CampaignUnit, CellValue, ListRow, Unit


# --- choosing from the outline and the database ---------------------------------------------------

def campaign_of(session, case) -> Campaign:
    return session.scalar(select(Campaign).where(Campaign.code == case.campaign))


def open_every_part() -> None:
    """Every part open again (the demos have submitted and accepted some): only the rules under test
    may refuse a write."""
    with in_app() as session:
        session.execute(update(CampaignUnit).values(status="open"))
        session.commit()


def assignments(session, campaign) -> dict[str, dict[str, set[str]]]:
    """unit code → table code → the groups it fills."""
    owned: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for code, table_code, group in session.execute(
            select(Unit.code, Assignment.table_code, Assignment.group_key).join(Unit, Unit.id == Assignment.unit_id)
            .where(Assignment.campaign_id == campaign.id).order_by(Unit.sort_order, Unit.id)):
        owned[code][table_code].add(group)
    return owned


def ownerships(case) -> dict[str, dict[str, Ownership]]:
    """unit code → table code → the cells it fills there (its groups and, in a block of unit rows,
    its own row), in the campaign's unit order."""
    with in_app() as session:
        campaign = campaign_of(session, case)
        owned = assignments(session, campaign)
        tables = {t.code: t for t in campaign.outline.tables}
    return {code: {t: Ownership.of(tables[t], groups, code) for t, groups in by_table.items()}
            for code, by_table in owned.items()}


def ownership(case, unit_code: str, table) -> Ownership:
    """What ``unit_code`` fills of ``table`` (nothing when it has no group of it)."""
    return ownerships(case).get(unit_code, {}).get(table.code) or Ownership.of(table, (), unit_code)


def owner_of(case, table, column_key: str, exclude: tuple[str, ...] = (), required: bool = True,
             row_key: str | None = None) -> str | None:
    """The code of a unit (also its clerk's user name) that fills ``column_key`` of ``table`` (in the
    row ``row_key`` when given: in a block of unit rows, that row's unit); None when no unit of the
    campaign does (kl49's province group in a district campaign) and not ``required``."""
    for code, tables in ownerships(case).items():
        owns = tables.get(table.code)
        if owns is None or code in exclude:
            continue
        if owns.owns(row_key, column_key) if row_key is not None else owns.fills_column(column_key):
            return code
    if required:
        raise LookupError((table.code, row_key, column_key))
    return None


def own_row(case, table, unit_code: str, column_key: str, block: int | None = None):
    """The first layout row of ``table`` (of block ``block`` when given) where ``unit_code`` fills
    ``column_key``: any row of a block of periods or named rows, the unit's own row of a block of
    unit rows."""
    owns = ownership(case, unit_code, table)
    return next(r for r in build_layout(table, frame_of(case)).rows
                if (block is None or r.block == block) and not r.total and owns.owns(r.key, column_key))


def grid_cells(case, predicate):
    """(table, layout row, cell) of every grid cell of the campaign's outline for which
    ``predicate(table, cell)`` holds (the cells of a total row are the sum of the rows above: a cell
    of a unit's is never one of them)."""
    outline, frame = outline_and_frame(case)
    out = []
    for table in outline.tables:
        if table.is_list:
            continue
        for lrow in build_layout(table, frame).rows:
            out.extend((table, lrow, cell) for cell in lrow.cells if not cell.total and predicate(table, cell))
    return out


def owned_cells(case, predicate):
    """grid_cells of which some unit of the campaign fills the cell, with that unit:
    (table, layout row, cell, unit code)."""
    owners = ownerships(case)
    out = []
    for table, lrow, cell in grid_cells(case, predicate):
        code = next((code for code, tables in owners.items()
                     if table.code in tables and tables[table.code].may_enter(lrow.key, cell.column.key)), None)
        if code is not None:
            out.append((table, lrow, cell, code))
    return out


def first_cell(case, predicate):
    found = grid_cells(case, predicate)
    assert found, "the outline has no such cell"
    return found[0]


def outline_and_years(case):
    with in_app() as session:
        campaign = campaign_of(session, case)
        return campaign.outline, campaign.years


def outline_and_frame(case):
    """The campaign's outline and its frame (its years and, for blocks of unit rows, its units)."""
    with in_app() as session:
        campaign = campaign_of(session, case)
        return campaign.outline, campaign.frame


def frame_of(case):
    return outline_and_frame(case)[1]


def list_table(case):
    """The outline's first list table; the test is skipped for an outline without one."""
    outline, _ = outline_and_years(case)
    table = next((t for t in outline.tables if t.is_list), None)
    if table is None:
        pytest.skip(f"outline {outline.code} has no list table")
    return table


def stored(case, unit_code: str, table_code: str, row_key: str, col_key: str):
    with in_app() as session:
        campaign = campaign_of(session, case)
        return session.scalar(select(CellValue).join(Unit, Unit.id == CellValue.unit_id).where(
            CellValue.campaign_id == campaign.id, Unit.code == unit_code, CellValue.table_code == table_code,
            CellValue.row_key == row_key, CellValue.col_key == col_key))


def count(model) -> int:
    with in_app() as session:
        return session.scalar(select(func.count()).select_from(model))


def cell_url(case, table, row_key: str, col_key: str) -> str:
    return f"/campaigns/{case.campaign}/tables/{table.code}/cells/{row_key}/{col_key}"


def save_cell(client, case, table, row_key, col_key, value, **query):
    return post_as_page(client, cell_url(case, table, row_key, col_key), data={"value": value}, query_string=query)


def typed_list_row(table, n: int) -> dict[str, str]:
    """A valid row of a list table as a clerk types it (dates dd/mm/yyyy), from its columns alone."""
    row = {}
    for c in table.columns:
        if c.type == "text":
            row[c.key] = f"{c.label} số {n}"[: c.max_length]
        elif c.type == "choice":
            row[c.key] = c.choices[n % len(c.choices)]
        elif c.type == "date":
            row[c.key] = f"{1 + n % 28:02d}/{1 + n % 12:02d}/{2020 + n % 4}"
    return row


def stored_list_row(table, typed: dict[str, str]) -> dict[str, str]:
    return {key: parse_input(table.column(key), value).text for key, value in typed.items()}


# --- entry ------------------------------------------------------------------------------------------

def test_every_input_type_is_saved_shown_and_audited(any_outline):
    case = any_outline
    open_every_part()
    samples = {"count": "1.250", "yesno": "Có", "text": "=Ghi chú (không phải công thức)"}
    expected = {"count": (1250, None), "yesno": (1, None), "text": (None, "=Ghi chú (không phải công thức)")}
    seen = set()
    entered = owned_cells(case, lambda t, c: c.column.is_input)
    for table, lrow, cell, unit in entered:
        c = cell.column
        if c.type in seen or c.type not in samples:
            continue
        seen.add(c.type)
        clerk = login(case.app.test_client(), unit)
        assert save_cell(clerk, case, table, lrow.key, c.key, "").status_code == 200  # a change, whatever is stored
        response = save_cell(clerk, case, table, lrow.key, c.key, samples[c.type])
        assert response.status_code == 200, (table.code, c.key, response.get_data(as_text=True)[:300])
        html = response.get_data(as_text=True)
        assert html.lstrip().startswith(f'<td id="td-{lrow.key}-{c.key}"')
        value = stored(case, unit, table.code, lrow.key, c.key)
        assert (value.num, value.text) == expected[c.type]
        with in_app() as session:
            event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.action, event.table_code, event.row_key, event.col_key) == ("cell", table.code, lrow.key, c.key)
        assert event.new == show(c, *expected[c.type])
    # every type of the outline's entered cells that has a sample, and a number among them
    assert seen == {cell.column.type for _, _, cell, _ in entered} & set(samples) and "count" in seen


def entered_operands(table, column) -> list:
    """The entered columns a derived column reads, through the derived columns it reads."""
    out, todo = [], list(column.kind.operands)
    while todo:
        c = table.column(todo.pop(0))
        if c.is_derived:
            todo.extend(c.kind.operands)
        elif c.is_input and c not in out:
            out.append(c)
    return out


def test_a_derived_value_is_recomputed_in_the_answer_of_a_save(any_outline):
    """Every derived column of the outline (a rate, a sum, a formula): save the entered columns it
    reads, and the answer carries the value the unit's own numbers make."""
    case = any_outline
    open_every_part()
    with in_app() as session:
        unit_kind = campaign_of(session, case).compiler_kind
    done = set()
    for table, lrow, cell in grid_cells(case, lambda t, c: c.column.is_derived):
        c = cell.column
        if (table.code, c.key) in done:
            continue
        unit = owner_of(case, table, c.key, required=False, row_key=lrow.key)
        if unit is None:  # a group no unit of this campaign fills, another unit's row
            continue
        done.add((table.code, c.key))
        clerk = login(case.app.test_client(), unit)
        owns = ownership(case, unit, table)
        # the row's numbers cleared: no rule stands in the way, the saves change the value
        for other in lrow.cells:
            if other.column.kind.summed and owns.may_enter(lrow.key, other.column.key):
                assert save_cell(clerk, case, table, lrow.key, other.column.key, "").status_code == 200
        operands = entered_operands(table, c)
        assert operands and all(owns.may_enter(lrow.key, o.key) for o in operands), (table.code, c.key)
        # a rate's denominator 40 and every other operand 10: an "of which" never above its whole
        typed = {o.key: ("Có", 1) if o.type == "yesno" else ("40", 40) if o.key == c.over else ("10", 10)
                 for o in operands}
        for o in operands:
            response = save_cell(clerk, case, table, lrow.key, o.key, typed[o.key][0])
            assert response.status_code == 200, (table.code, o.key, response.get_data(as_text=True)[:300])
        numbers = {o.key: typed[o.key][1] for o in operands}
        numbers.update({k: owns.fixed_value(lrow.key, k) for k in c.kind.operands if table.column(k).kind.fixed_one})
        values = row_values(table.blocks[lrow.block].columns, numbers, lrow.key, unit_kind)
        want = show(c, values[c.key], None)
        assert values[c.key] is not None
        assert f'<span class="value">{want}</span>' in response.get_data(as_text=True), (table.code, c.key, want)
    assert done


@pytest.mark.parametrize("ctype, value, message", [
    ("count", "-5", "Không được là số âm"),
    ("count", "12,5", "Phải là số nguyên (không có phần thập phân)"),
    ("count", "hai mươi", "Phải là một số nguyên không âm"),
    ("yesno", "Có thể", "Chỉ nhận “Có” hoặc “Không”"),
    ("text", "x" * 1001, "Dài quá"),
])
def test_a_refused_value_is_kept_explained_and_not_stored(any_outline, ctype, value, message):
    case = any_outline
    open_every_part()
    found = owned_cells(case, lambda t, c: c.column.type == ctype)
    if not found:
        pytest.skip(f"outline {outline_and_years(case)[0].code} has no entered column of type {ctype}")
    table, lrow, cell, unit = found[0]
    clerk = login(case.app.test_client(), unit)
    before = stored(case, unit, table.code, lrow.key, cell.column.key)
    before = (before.num, before.text, before.version) if before else None
    events = count(AuditEvent)
    response = save_cell(clerk, case, table, lrow.key, cell.column.key, value)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html
    after = stored(case, unit, table.code, lrow.key, cell.column.key)
    assert ((after.num, after.text, after.version) if after else None) == before
    assert count(AuditEvent) == events


def refusal_kind(owns: Ownership, cell) -> str | None:
    """Why a unit may not write ``cell`` (None: it may): a total row, a derived or fixed column,
    another group's column, another unit's row."""
    c = cell.column
    if owns.may_enter(cell.row_key, c.key):
        return None
    if cell.total:
        return "total row"
    if not c.is_input:
        return c.kind.role  # derived, fixed (a unit count, a target)
    return "another unit's row" if owns.fills_column(c.key) else "another group"


def test_a_clerk_writes_no_cell_the_unit_does_not_fill(any_outline):
    """A derived cell, a fixed one (a unit count, a target), a total row, another kind's group,
    another unit's row, another unit's part: refused, nothing stored."""
    case = any_outline
    open_every_part()
    table, lrow, cell, unit = owned_cells(case, lambda t, c: c.column.type == "count")[0]
    clerk = login(case.app.test_client(), unit)
    outline, frame = outline_and_frame(case)
    kinds = set()
    values = count(CellValue)
    for t in outline.tables:
        if t.is_list:
            continue
        owns = ownership(case, unit, t)
        for c in build_layout(t, frame).cells:
            kind = refusal_kind(owns, c)
            if kind is None or kind in kinds:
                continue
            kinds.add(kind)
            assert save_cell(clerk, case, t, c.row_key, c.column.key, "1").status_code == 403, (t.code, c.address)
            url = f"/campaigns/{case.campaign}/tables/{t.code}"
            assert clerk.post(url, data={f"cell:{c.row_key}:{c.column.key}": "1"}).status_code == 403, kind
    assert kinds  # what the outline has of these: kl49 all but unit rows, cdht no fixed column …
    other = owner_of(case, table, cell.column.key, exclude=(unit,))
    row = own_row(case, table, other, cell.column.key)
    assert save_cell(clerk, case, table, row.key, cell.column.key, "7", unit=other).status_code == 403
    assert count(CellValue) == values


# --- rules ------------------------------------------------------------------------------------------

def rules_of(case):
    """(table, block index, rule) of every rule of the campaign's outline."""
    outline, _ = outline_and_years(case)
    return [(t, bi, rule) for t in outline.tables for bi, block in enumerate(t.blocks) for rule in block.rules]


def owned_rules(case, level: str):
    """(table, block index, rule, unit, layout row) of every rule of ``level`` that some unit of the
    campaign judges: the unit fills the rule's first cell, in the row (its own in a block of unit rows)."""
    out = []
    for table, bi, rule in rules_of(case):
        if rule.level != level:
            continue
        unit = owner_of(case, table, rule.keys[0], required=False)
        if unit is not None:
            out.append((table, bi, rule, unit, own_row(case, table, unit, rule.keys[0], block=bi)))
    if not out:
        pytest.skip(f"outline {outline_and_years(case)[0].code} has no {level} rule a unit of the campaign judges")
    return out


def of_which_and_whole(rule) -> tuple[str, str] | None:
    """(part, whole) of an "of which <= its total" rule between two cells; None for another form."""
    relation = rule.relation
    if relation.left.is_key and relation.right.is_key and rule.op in ("<", "<="):
        return rule.keys[0], rule.keys[1]
    if relation.left.is_key and relation.right.is_key and rule.op in (">", ">="):
        return rule.keys[1], rule.keys[0]
    return None


def test_every_error_rule_refuses_an_of_which_above_its_total_both_ways(any_outline):
    case = any_outline
    open_every_part()
    for table, bi, rule, unit, row in owned_rules(case, "error"):
        assert rule.op == "<=" and of_which_and_whole(rule), "the test writes 'of which <= total' rules only"
        part, whole = of_which_and_whole(rule)
        clerk = login(case.app.test_client(), unit)
        assert save_cell(clerk, case, table, row.key, part, "").status_code == 200
        assert save_cell(clerk, case, table, row.key, whole, "10").status_code == 200
        response = save_cell(clerk, case, table, row.key, part, "11")
        assert response.status_code == 422 and rule.message in response.get_data(as_text=True)
        assert save_cell(clerk, case, table, row.key, part, "10").status_code == 200  # equal is fine
        response = save_cell(clerk, case, table, row.key, whole, "9")  # the total below its part
        assert response.status_code == 422 and rule.message in response.get_data(as_text=True)
        assert stored(case, unit, table.code, row.key, whole).num == 10
        # the plain form checks a row's new values together: both at once are fine
        url = f"/campaigns/{case.campaign}/tables/{table.code}"
        response = post_as_page(clerk, url, data={f"cell:{row.key}:{whole}": "30",
                                                  f"cell:{row.key}:{part}": "25"})
        assert response.status_code == 302
        assert stored(case, unit, table.code, row.key, part).num == 25


def test_a_warning_rule_stores_the_value_and_flags_it(any_outline):
    """Any relation (``a <= b``, ``c1 = c2 + c3 + c4 + c5``): its cells given values that break it,
    the last save is stored and answered with the rule's warning."""
    case = any_outline
    open_every_part()
    for table, bi, rule, unit, row in owned_rules(case, "warning"):
        clerk = login(case.app.test_client(), unit)
        # the other rules of the row must hold: the other values of the row are cleared first
        for other in table.blocks[bi].rules:
            if other is not rule:
                for key in other.keys:
                    if key not in rule.keys:
                        save_cell(clerk, case, table, row.key, key, "")
        first, rest = rule.keys[0], rule.keys[1:]
        values = {key: 10 for key in rest}
        # the first cell just above, or just below, what the others make: whichever breaks the rule
        values[first] = next(v for v in (11, 9) if rule.relation.holds({**values, first: v}) is False)
        for key in rest:
            assert save_cell(clerk, case, table, row.key, key, "10").status_code == 200
        response = save_cell(clerk, case, table, row.key, first, str(values[first]))
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert 'class="msg warning"' in html and rule.message in html, (table.code, rule.ident)
        assert stored(case, unit, table.code, row.key, first).num == values[first]


def test_a_submission_is_stopped_by_a_rule_that_cannot_be_judged(any_outline):
    """An "of which" entered while its total is empty: allowed while entering, listed at submission."""
    from webapp.workflow import review_part

    case = any_outline
    open_every_part()
    judged = [(t, r, u, row) for t, _, r, u, row in owned_rules(case, "error") if of_which_and_whole(r)]
    if not judged:
        pytest.skip(f"outline {outline_and_years(case)[0].code} has no error rule of an of which and its total")
    table, rule, unit, row = judged[0]
    part, whole = of_which_and_whole(rule)
    clerk = login(case.app.test_client(), unit)
    assert save_cell(clerk, case, table, row.key, whole, "").status_code == 200
    assert save_cell(clerk, case, table, row.key, part, "18").status_code == 200
    with in_app() as session:
        campaign = campaign_of(session, case)
        problems, _ = review_part(session, campaign, session.scalar(select(Unit).where(Unit.code == unit)))
    assert any(p.unjudged and p.table_code == table.code and p.where == row.label
               and table.column(whole).label in p.message for p in problems)
    page = clerk.get(f"/campaigns/{case.campaign}/submit").get_data(as_text=True)
    assert table.column(whole).label in page


def test_an_outline_check_of_the_same_quantity_warns_and_stores(any_outline):
    """Every ``same`` check of the outline (two tables' cells that count the same people): a unit's
    two values made to differ, the save is stored and answered with the check's warning; made to
    agree, the warning is gone."""
    case = any_outline
    open_every_part()
    outline, frame = outline_and_frame(case)
    checks = [check for check in outline.checks if check.kind == "same"]
    if not checks:
        pytest.skip(f"outline {outline.code} has no check of the same quantity in two tables")
    for check in checks:
        (t1, k1), (t2, k2) = check.cells[:2]
        first, second = outline.table(t1), outline.table(t2)
        unit = next(code for code, tables in ownerships(case).items() if t1 in tables and t2 in tables
                    and tables[t1].fills_column(k1) and tables[t2].fills_column(k2))
        row = next(r.key for r in build_layout(first, frame).rows if ownership(case, unit, first).owns(r.key, k1)
                   and ownership(case, unit, second).owns(r.key, k2))
        clerk = login(case.app.test_client(), unit)
        # the first cell's value: its entered operands (or itself) all 10
        operands = [first.column(k1)] if first.column(k1).is_input else entered_operands(first, first.column(k1))
        for o in operands:
            assert save_cell(clerk, case, first, row, o.key, "10").status_code == 200
        value = row_values(first.blocks[build_layout(first, frame).find_row(row, k1).block].columns,
                           {o.key: 10 for o in operands}, row)[k1]
        assert second.column(k2).type == "count", "the test enters the second cell itself"
        response = save_cell(clerk, case, second, row, k2, str(value + 1))
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert 'class="msg warning"' in html and check.message in html, (t1, k1, t2, k2)
        assert stored(case, unit, t2, row, k2).num == value + 1
        response = save_cell(clerk, case, second, row, k2, str(value))
        assert response.status_code == 200 and check.message not in response.get_data(as_text=True)


# --- list tables --------------------------------------------------------------------------------

def test_list_rows_are_added_edited_and_deleted(any_list_outline):
    case = any_list_outline
    open_every_part()
    table = list_table(case)
    unit = owner_of(case, table, table.columns[1].key)
    clerk = login(case.app.test_client(), unit)
    base = f"/campaigns/{case.campaign}/tables/{table.code}/rows"
    htmx = {"HX-Request": "true"}

    def rows():
        with in_app() as session:
            return session.execute(select(ListRow.id, ListRow.data).join(Unit, Unit.id == ListRow.unit_id)
                                   .where(Unit.code == unit, ListRow.table_code == table.code)
                                   .order_by(ListRow.id)).all()

    before = rows()
    typed = typed_list_row(table, 7)
    response = clerk.post(base, data={f"new:{k}": v for k, v in typed.items()}, headers=htmx)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    added = rows()
    assert len(added) == len(before) + 1 and added[-1].data == stored_list_row(table, typed)
    row_id = added[-1].id
    # a partly filled row: every required field left empty is named
    required = [c for c in table.columns if c.required]
    partial = {f"new:{required[0].key}": typed[required[0].key]}
    response = clerk.post(base, data=partial, headers=htmx)
    assert response.status_code == 422 and REQUIRED_IN_ROW in response.get_data(as_text=True)
    assert len(rows()) == len(added)
    # edit one field
    edited = {**typed, **typed_list_row(table, 8)}
    response = post_as_page(clerk, f"{base}/{row_id}", data={f"row:{row_id}:{k}": v for k, v in edited.items()},
                            headers=htmx)
    assert response.status_code == 200
    assert rows()[-1].data == stored_list_row(table, edited)
    # delete it
    response = post_as_page(clerk, f"{base}/{row_id}/delete", headers=htmx)
    assert response.status_code == 200
    assert rows() == before
    with in_app() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.row_key == str(row_id),
                                                                       AuditEvent.table_code == table.code)
                                       .order_by(AuditEvent.id)))
    assert actions == ["list_add", "list_edit", "list_delete"]


# --- the template round trip --------------------------------------------------------------------

def fill_template(wb, outline, frame, owned: dict[str, Ownership], rng: random.Random):
    """Valid random values in every unlocked cell of a template (every error rule respected); the
    values as they must be stored: {(table, row, column): (num, text)} and {table: [row data]}."""
    cells, lists = {}, {}
    for table in outline.tables:
        ws = wb[table.sheet]
        if table.is_list:
            if table.code not in owned or not owned[table.code].fills_column(table.columns[0].key):
                continue
            layout = build_layout(table, frame, list_rows=3)
            rows = []
            for n, lrow in enumerate(layout.rows[: rng.randint(1, 3)]):
                typed = typed_list_row(table, rng.randint(0, 99) + n)
                for cell in lrow.cells:
                    if cell.column.key in typed:
                        target = ws.cell(cell.row + 1, cell.col + 1)
                        assert not target.protection.locked
                        target.value = typed[cell.column.key]
                rows.append(stored_list_row(table, typed))
            lists[table.code] = rows
            continue
        for lrow in build_layout(table, frame).rows:
            row_values = {}
            for cell in lrow.cells:
                target = ws.cell(cell.row + 1, cell.col + 1)
                if target.protection.locked:
                    continue
                c = cell.column
                assert owned[table.code].may_enter(lrow.key, c.key), (table.code, cell.address)
                assert c.type in ("count", "yesno", "text"), f"the test fills no {c.type} cell yet"
                if c.type == "count":
                    row_values[c.key] = target
                    target.value = rng.choice([None, 0, rng.randint(1, 5000)])
                elif c.type == "yesno":
                    target.value = rng.choice([None, "Có", "Không"])
                elif c.type == "text":
                    target.value = rng.choice([None, "=1+1 không phải công thức", "Ghi chú của đơn vị"])
                    if target.value:
                        target.data_type = "s"
            for rule in table.blocks[lrow.block].rules:
                if rule.level != "error":
                    continue
                assert of_which_and_whole(rule), "the test respects 'of which <= total' error rules only"
                left, right = (row_values.get(key) for key in of_which_and_whole(rule))
                if left is not None and right is not None and left.value is not None and right.value is not None \
                        and left.value > right.value:
                    left.value = right.value
            for cell in lrow.cells:
                target = ws.cell(cell.row + 1, cell.col + 1)
                if not target.protection.locked:
                    parsed = parse_input(cell.column, target.value)
                    cells[(table.code, lrow.key, cell.column.key)] = (parsed.num, parsed.text)
    return cells, lists


def unit_values(session, campaign, unit_code: str):
    """A unit's stored grid values and list rows, as fill_template describes them."""
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    cells = {(v.table_code, v.row_key, v.col_key): (v.num, v.text) for v in session.scalars(
        select(CellValue).where(CellValue.campaign_id == campaign.id, CellValue.unit_id == unit.id))}
    lists = defaultdict(list)
    for table_code, data in session.execute(select(ListRow.table_code, ListRow.data).where(
            ListRow.campaign_id == campaign.id, ListRow.unit_id == unit.id).order_by(ListRow.id)):
        lists[table_code].append(data)
    return cells, dict(lists)


def test_every_kind_of_units_template_round_trips_cell_by_cell(any_list_outline):
    """For one unit of each kind: write its template, fill every unlocked cell, import it, and find
    every value stored as written; the template written again holds them at the same addresses."""
    from webapp.exchange import import_unit_template, write_unit_template

    case = any_list_outline
    open_every_part()
    rng = random.Random(case.name)
    with in_app() as session:
        campaign = campaign_of(session, case)
        outline, frame = campaign.outline, campaign.frame
        one_per_kind = {}
        for unit in campaign.units:
            one_per_kind.setdefault(unit.kind, unit.code)
    owned_by = ownerships(case)
    assert one_per_kind
    for kind, code in one_per_kind.items():
        with in_app() as session:
            campaign = campaign_of(session, case)
            unit = session.scalar(select(Unit).where(Unit.code == code))
            out = io.BytesIO()
            write_unit_template(session, campaign, unit, out)
        wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
        assert wb.sheetnames == [t.sheet for t in outline.tables] + [META_SHEET]
        # clear the list rows the unit has, so that the template's rows are exactly those filled
        for table in outline.tables:
            if table.is_list:
                layout = build_layout(table, frame, list_rows=40)
                for cell in layout.cells:
                    if cell.column.is_input:
                        wb[table.sheet].cell(cell.row + 1, cell.col + 1).value = None
        cells, lists = fill_template(wb, outline, frame, owned_by[code], rng)
        filled = io.BytesIO()
        wb.save(filled)
        filled.seek(0)
        with in_app() as session:
            campaign = campaign_of(session, case)
            unit = session.scalar(select(Unit).where(Unit.code == code))
            import_unit_template(session, campaign, unit, None, filled, via="import")
        with in_app() as session:
            stored_cells, stored_lists = unit_values(session, campaign_of(session, case), code)
        for key, value in cells.items():
            assert stored_cells.get(key, (None, None)) == value, (kind, key)
        assert {k for k, v in stored_cells.items() if v != (None, None)} == {k for k, v in cells.items()
                                                                             if v != (None, None)}, kind
        assert {k: v for k, v in stored_lists.items() if v} == {k: v for k, v in lists.items() if v}, kind
        # the template written again holds what was filled, at the same addresses
        with in_app() as session:
            campaign = campaign_of(session, case)
            unit = session.scalar(select(Unit).where(Unit.code == code))
            again = io.BytesIO()
            write_unit_template(session, campaign, unit, again)
        wb2 = openpyxl.load_workbook(io.BytesIO(again.getvalue()))
        for (table_code, row_key, col_key), (num, text) in cells.items():
            table = outline.table(table_code)
            c = table.column(col_key)
            value = wb2[table.sheet][build_layout(table, frame).find(row_key, col_key).address].value
            want = None if num is None and text is None else (
                ("Có" if num else "Không") if c.type == "yesno" else num if c.type == "count" else text)
            assert value == want, (kind, table_code, row_key, col_key)


def test_a_value_in_a_cell_the_unit_does_not_fill_or_over_a_formula_is_refused(any_outline):
    from webapp.exchange import ImportRefused, import_unit_template, write_unit_template

    case = any_outline
    open_every_part()
    table, lrow, cell, code = owned_cells(case, lambda t, c: c.column.type == "count")[0]
    mine = ownerships(case)[code]
    derived = next(iter(grid_cells(case, lambda t, c: c.column.is_derived)), None)
    # another kind's group, or another unit's row: whichever the outline has (mhht's communes fill all)
    foreign = next(iter(grid_cells(case, lambda t, c: c.column.is_input and c.column.type != "text" and not (
        t.code in mine and mine[t.code].owns(c.row_key, c.column.key)))), None)
    refused = [found for found in (derived, foreign) if found is not None]
    assert refused
    with in_app() as session:
        campaign = campaign_of(session, case)
        unit = session.scalar(select(Unit).where(Unit.code == code))
        out = io.BytesIO()
        write_unit_template(session, campaign, unit, out)
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    wb[table.sheet][cell.address] = 4321  # a valid change that must not be stored either
    for t, _, c in refused:
        wb[t.sheet][c.address] = 1
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    values = count(CellValue), count(AuditEvent)
    with in_app() as session:
        campaign = campaign_of(session, case)
        unit = session.scalar(select(Unit).where(Unit.code == code))
        with pytest.raises(ImportRefused) as refusal:
            import_unit_template(session, campaign, unit, None, buffer, via="import")
    for found, message in ((derived, importer.OVER_DERIVED), (foreign, importer.NOT_OWNED)):
        if found is not None:
            assert f"{found[0].sheet}!{found[2].address}: {message}" in refusal.value.errors
    assert (count(CellValue), count(AuditEvent)) == values
    assert (stored(case, code, table.code, lrow.key, cell.column.key) or CellValue()).num != 4321


# --- assembly ---------------------------------------------------------------------------------------

def test_every_assembled_number_is_the_sum_over_the_owning_units_and_rates_are_recomputed(any_outline):
    case = any_outline
    owners = ownerships(case)
    with in_app() as session:
        campaign = campaign_of(session, case)
        outline, frame, unit_kind = campaign.outline, campaign.frame, campaign.compiler_kind
        part = assemble(session, campaign.id, outline, frame)
        parts = unit_parts(session, campaign.id, outline, frame)
        names = [u.name for u in campaign.units if u.id in parts]
        summed = add_parts([parts[u.id] for u in campaign.units if u.id in parts], outline, names)
        owned_values = session.execute(
            select(CellValue.table_code, CellValue.row_key, CellValue.col_key, CellValue.num)
            .join(Assignment, (Assignment.campaign_id == CellValue.campaign_id)
                  & (Assignment.unit_id == CellValue.unit_id) & (Assignment.table_code == CellValue.table_code)
                  & (Assignment.group_key == CellValue.group_key))
            .where(CellValue.campaign_id == campaign.id, CellValue.num.is_not(None))).all()
    sums: dict = defaultdict(int)
    for table_code, row_key, col_key, num in owned_values:
        sums[(table_code, row_key, col_key)] += num
    # the fixed 1s ("Tổng số xã"): one per unit assigned the group (in its own row where rows are units)
    for code, tables in owners.items():
        for table_code, owns in tables.items():
            table = outline.table(table_code)
            for block in [] if table.is_list else table.blocks:
                for c in block.columns:
                    if c.kind.fixed_one and table.group_key_of(c.key) in owns.groups:
                        for spec in block.row_specs(frame):
                            if not spec.total and (not block.by_unit or spec.key == code):
                                sums[(table_code, spec.key, c.key)] += 1
    checked = {"number": 0, "unit_count": 0, "derived": 0, "target": 0, "total row": 0}
    present = set()  # what the outline has of these
    for table in outline.tables:
        if table.is_list:
            continue
        layout = build_layout(table, frame)
        for lrow in layout.rows:
            block_rows = [r.key for r in layout.blocks[lrow.block].rows if not r.total]
            expected = {c.key: (sum(filter(None, (sums.get((table.code, r, c.key)) for r in block_rows))) or None
                                if lrow.total else sums.get((table.code, lrow.key, c.key)))
                        for c in table.blocks[lrow.block].columns if c.kind.summed}
            numbers = part.row_numbers(table.code, lrow.key)
            want = row_values(table.blocks[lrow.block].columns, expected, lrow.key, unit_kind)
            got = row_values(table.blocks[lrow.block].columns, numbers, lrow.key, unit_kind)
            for cell in lrow.cells:
                c, key = cell.column, (table.code, lrow.key, cell.column.key)
                kind = ("total row" if lrow.total and c.kind.summed else "unit_count" if c.kind.fixed_one
                        else "derived" if c.is_derived else c.type if c.type == "target"
                        else "number" if c.kind.summed else None)
                if kind is None:
                    continue
                present.add(kind)
                if c.kind.summed:  # a sum over the owning units (the unit counts: their number)
                    assert part.numbers.get(key) == expected[c.key], key
                    checked[kind] += expected[c.key] is not None
                else:  # derived from the sums, never averaged; a target as the outline sets it
                    assert got[c.key] == want[c.key], key
                    assert kind != "derived" or derive(c, numbers) == want[c.key], key
                    assert kind != "target" or want[c.key] == c.kind.constant(lrow.key, unit_kind), key
                    checked[kind] += want[c.key] is not None
    assert all(checked[kind] > 0 for kind in present), checked
    # the units' own parts summed give the same appendix: numbers, notes, list rows
    assert summed.numbers == part.numbers and summed.texts == part.texts and summed.lists == part.lists
    assert all(": " in text for text in part.texts.values())
    if any(c.type == "text" for t in outline.tables if not t.is_list for c in t.columns):
        assert part.texts
    if any(t.is_list for t in outline.tables):
        assert any(part.lists.values())


# --- export -----------------------------------------------------------------------------------------

def expected_total_label(case) -> str:
    """The label of a breakdown's total row: named for the compiling unit's area."""
    from webapp.review.service import total_label

    with in_app() as session:
        return total_label(campaign_of(session, case))


def test_the_exported_workbook_holds_the_assembly_at_the_templates_addresses(any_outline, tmp_path):
    case = any_outline
    out = tmp_path / "phu-luc.xlsx"
    result = case.app.test_cli_runner().invoke(args=["export", case.campaign, "-o", str(out)])
    assert result.exit_code == 0 and result.stdout == "", result.output
    with in_app() as session:
        campaign = campaign_of(session, case)
        outline, frame, years, unit_kind = campaign.outline, campaign.frame, campaign.years, campaign.compiler_kind
        part = assemble(session, campaign.id, outline, frame)
        unit = next(u for u in campaign.units)
        template = io.BytesIO()
        from webapp.exchange import write_unit_template
        write_unit_template(session, campaign, unit, template)
    formulas = openpyxl.load_workbook(out)
    carried = openpyxl.load_workbook(out, data_only=True)
    tpl = openpyxl.load_workbook(io.BytesIO(template.getvalue()))
    # a table whose rows are the units is its own breakdown by unit: it has no breakdown sheet; nor
    # has a table that a single unit fills (its one row would equal the total)
    owners = ownerships(case)
    fillers = {t.code: {code for code, tables in owners.items()
                        if t.code in tables and fills_numbers(t, tables[t.code].groups)} for t in outline.tables}
    broken_down = [t for t in outline.tables if not t.is_list and not t.by_unit and len(fillers[t.code]) > 1]
    assert broken_down == breakdown_tables(outline.tables, fillers)
    assert formulas.sheetnames == ([COVER_SHEET] + [t.sheet for t in outline.tables]
                                   + [breakdown_sheet_name(t) for t in broken_down] + [META_SHEET])
    checked = {"number": 0, "formula": 0, "text": 0, "list": 0, "target": 0, "total row": 0}
    present = set()  # what the outline has of these
    for table in outline.tables:
        ws, wc, ts = formulas[table.sheet], carried[table.sheet], tpl[table.sheet]
        assert ws["A1"].value == table.title == ts["A1"].value
        rows = part.lists.get(table.code, [])
        layout = build_layout(table, frame, list_rows=len(rows)) if table.is_list else build_layout(table, frame)
        for block in layout.blocks:  # the frame as in the template: headers, numbers, row labels, serials
            for h in block.header + block.numbers:  # a reconstructed header is marked
                text = h.text + INFERRED_MARK if h.inferred else h.text
                assert ws.cell(h.row + 1, h.col + 1).value == text == ts.cell(h.row + 1, h.col + 1).value
            for lrow in block.rows if not table.is_list else []:
                label = ws.cell(lrow.row + 1, lrow.label_col + 1).value
                assert label == lrow.label == ts.cell(lrow.row + 1, lrow.label_col + 1).value
                if lrow.serial is not None:
                    assert str(ws.cell(lrow.row + 1, 1).value or "") == lrow.serial, (table.code, lrow.key)
        if table.is_list:
            present.add("list")
            for i, (lrow, data) in enumerate(zip(layout.rows, rows)):
                for cell in lrow.cells:
                    value = ws[cell.address].value
                    if cell.column.type == "serial":
                        assert value == i + 1
                    elif cell.column.type == "date":
                        assert value.date().isoformat() == data[cell.column.key]
                    else:
                        assert value == data.get(cell.column.key)
                checked["list"] += 1
            continue
        for lrow in layout.rows:
            numbers = part.row_numbers(table.code, lrow.key)
            values = row_values(table.blocks[lrow.block].columns, numbers, lrow.key, unit_kind)
            for cell in lrow.cells:
                c, value = cell.column, ws[cell.address].value
                got = wc[cell.address].value
                got = None if got in (None, "") or not c.is_numeric else Decimal(str(got))
                if c.is_derived or (cell.total and c.kind.summed):  # a live formula carrying its value
                    kind = "total row" if cell.total and c.kind.summed else "formula"
                    assert isinstance(value, str) and value.startswith("="), (table.code, cell.address)
                    want = values[c.key]
                    assert got == (None if want is None else Decimal(str(want))), (table.code, cell.address)
                    checked[kind] += want is not None
                    present.add(kind)
                elif c.type == "target":  # the outline's constant
                    assert got == values[c.key], (table.code, cell.address)
                    checked["target"] += got is not None
                    present.add("target")
                elif c.is_numeric:
                    assert value == numbers.get(c.key), (table.code, cell.address)
                    assert value is None or ws[cell.address].number_format == c.kind.excel_format()["num_format"]
                    checked["number"] += value is not None
                    present.add("number")
                else:
                    assert value == part.text(table.code, lrow.key, c.key), (table.code, cell.address)
                    checked["text"] += value is not None
                    present.add("text")
    assert all(checked[kind] > 0 for kind in present), checked
    # each breakdown: a row per unit that fills a number of the table (none asked only for a
    # note), then the whole area's total row
    with in_app() as session:
        names = {u.code: u.name for u in campaign_of(session, case).units}
    for table in broken_down:
        ws = formulas[breakdown_sheet_name(table)]
        labels = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
        assert labels[-1] == expected_total_label(case), (table.code, labels[-3:])
        first = labels.index("A") + 2  # 1-based: the row after the column numbers
        listed = [ws.cell(r, 2).value for r in range(first, ws.max_row)]
        assert set(listed) == {names[code] for code, tables in owners.items() if table.code in tables
                               and any(tables[table.code].fills_column(c.key) for c in table.columns
                                       if c.is_numeric)}, table.code
    cover = " ".join(str(v) for row in formulas[COVER_SHEET].iter_rows(values_only=True) for v in row if v)
    assert case.campaign in cover and outline.title in cover and f"Năm {years[0]} – Năm {years[-1]}" in cover


# --- pages --------------------------------------------------------------------------------------

def test_every_page_of_the_campaign_renders_for_those_who_may_see_it(any_list_outline):
    case = any_list_outline
    with in_app() as session:
        campaign = campaign_of(session, case)
        outline, frame = campaign.outline, campaign.frame
        kinds = {}
        for unit in campaign.units:
            kinds.setdefault(unit.kind, unit.code)
    base = f"/campaigns/{case.campaign}"
    for code in kinds.values():
        clerk = login(case.app.test_client(), code)
        home = clerk.get("/").get_data(as_text=True)
        assert campaign.name in home
        for table in outline.tables:
            response = clerk.get(f"{base}/tables/{table.code}")
            assert response.status_code == 200, (code, table.code)
            assert table.title in response.get_data(as_text=True)
        assert clerk.get(f"{base}/submit").status_code == 200
        assert clerk.get(f"{base}/template.xlsx").status_code == 200
    for username in (case.compiler, case.admin):
        staff = login(case.app.test_client(), username)
        for path in ("/", f"{base}/dashboard", f"{base}/appendix", f"{base}/changes", f"{base}/export.xlsx",
                     f"{base}/dashboard/chua-xong.csv"):
            assert staff.get(path).status_code == 200, (username, path)
        # a table whose rows are the units is its own breakdown by unit: it has no breakdown page
        broken_down = [t for t in outline.tables if not t.is_list and not t.by_unit]
        dashboard = staff.get(f"{base}/dashboard").get_data(as_text=True)
        # the breakdown tab leads to the first such grid; an outline without one has no tab
        assert staff.get(f"{base}/breakdown").status_code == (302 if broken_down else 404)
        assert (f'href="{base}/breakdown"' in dashboard) == bool(broken_down)
        home = staff.get("/").get_data(as_text=True)  # the campaign's links in the list of campaigns
        listed = next(part for part in home.split("<section")[1:] if f"<code>{case.campaign}</code>" in part)
        assert (f'href="{base}/breakdown"' in listed) == bool(broken_down)
        for table in outline.tables:
            if table.is_list:
                continue
            layout = build_layout(table, frame)
            cell = next(c for c in layout.cells if c.column.kind.summed and not c.total)
            drill = staff.get(f"{base}/appendix/{table.code}/cell", query_string={"row": cell.row_key,
                                                                                   "col": cell.column.key})
            assert drill.status_code == 200, table.code
            if table not in broken_down:
                assert staff.get(f"{base}/breakdown/{table.code}").status_code == 404
                continue
            numbers = {key for key, group in table.groups if any(c.is_numeric for c in group.columns)}
            for key in dict.fromkeys(r.key for r in layout.rows):
                page = staff.get(f"{base}/breakdown/{table.code}", query_string={"row": key})
                assert page.status_code == 200, (table.code, key)
                html = page.get_data(as_text=True)
                assert expected_total_label(case) in html
                with in_app() as session:
                    campaign = campaign_of(session, case)
                    owned = assignments(session, campaign)
                    for unit in campaign.units:  # a unit asked only for a note has no row of blanks
                        fills = bool(owned[unit.code].get(table.code, set()) & numbers)
                        # the unit's name, then its part's status
                        assert (f'class="rowhead">{unit.name} <span class="status' in html) == fills, \
                            (table.code, unit.code)
        for code in kinds.values():
            assert staff.get(f"{base}/units/{code}").status_code == 200


# --- what was tied to kl49 (fixed; kept as regression tests) --------------------------------------

def test_the_row_label_column_is_headed_by_what_its_rows_are(any_outline):
    """Periods are headed "Thời gian"; a block of named rows with a header (mini's Biểu 2; kl49 has
    none) is headed "Nội dung", not "Thời gian"; unit rows "Đơn vị"; a block's own ``corner`` wins.
    The corner stands over the row labels (after a serial-number column)."""
    from webapp.domain.layout import NAMED_ROWS_HEADER_LABEL, ROW_HEADER_LABEL
    from webapp.domain.outline import CORNER_LABELS, PERIODS, UNITS

    outline, frame = outline_and_frame(any_outline)
    seen = set()
    for table in outline.tables:
        if table.is_list:
            continue
        for spec, block in zip(table.blocks, build_layout(table, frame).blocks):
            if not block.header:
                continue
            corner = next(h for h in block.header if h.col == (0 if spec.serial is None else 1))
            by_rows = {PERIODS: ROW_HEADER_LABEL, UNITS: CORNER_LABELS[UNITS]}
            want = spec.corner if spec.corner is not None else by_rows.get(spec.rows, NAMED_ROWS_HEADER_LABEL) \
                if isinstance(spec.rows, str) else NAMED_ROWS_HEADER_LABEL
            assert corner.text == want, table.code
            if spec.serial is not None:
                assert next(h for h in block.header if h.col == 0).text == spec.serial, table.code
            seen.add(want)
    assert seen


def test_a_return_note_points_at_any_row_of_the_units_tables(any_outline):
    """The return form offers the rows of the unit's tables by their printed labels (it asked for a
    year typed over the placeholder "2021": a named row such as "co_so" could not be pointed at)."""
    case = any_outline
    open_every_part()
    outline, _ = outline_and_years(case)
    table = next((t for t in outline.tables if not t.is_list and any(b.rows != "periods" for b in t.blocks)
                  and owner_of(case, t, t.columns[0].key, required=False)), None)
    if table is None:
        table = next(t for t in outline.tables if not t.is_list)
    column = next(c for c in table.columns if c.is_input and c.type != "text")
    unit = owner_of(case, table, column.key)
    owns = ownership(case, unit, table)  # the last row the unit fills (its own, where rows are the units)
    lrow = [r for r in build_layout(table, frame_of(case)).rows if owns.owns(r.key, column.key)][-1]
    with in_app() as session:
        session.execute(update(CampaignUnit).where(
            CampaignUnit.unit_id == session.scalar(select(Unit.id).where(Unit.code == unit))).values(status="submitted"))
        session.commit()
    compiler = login(case.app.test_client(), case.compiler)
    page = compiler.get(f"/campaigns/{case.campaign}/units/{unit}").get_data(as_text=True)
    label = lrow.label.strip().lstrip("+").strip().rstrip(":").strip()
    assert f'<option value="{lrow.key}">{label}</option>' in page
    assert 'placeholder="2021"' not in page
    response = compiler.post(f"/campaigns/{case.campaign}/units/{unit}/return",
                             data={"reason": "Kiểm tra lại dòng này", "table": f"{table.code}|{column.key}",
                                   "row": lrow.key})
    assert response.status_code == 302
    clerk = login(case.app.test_client(), unit)
    html = clerk.get(f"/campaigns/{case.campaign}/tables/{table.code}").get_data(as_text=True)
    cell = html.split(f'id="td-{lrow.key}-{column.key}"', 1)[1].split("</td>", 1)[0]
    assert "Kiểm tra lại dòng này" in cell


def test_the_total_row_is_named_for_the_compiling_units_area():
    from types import SimpleNamespace as NS

    from webapp.review.service import total_label

    def campaign(name, kind="huyen", parent=True):
        area = NS(name=name, kind=kind, parent=None)
        compiler = NS(name="Ban Tuyên giáo", kind="huyen_uy", parent=area if parent else None)
        return NS(compiler_unit=compiler if parent else NS(name=name, kind=kind, parent=None))

    assert total_label(campaign("Huyện Lộc Ninh")) == "Toàn huyện"
    assert total_label(campaign("Thành phố  Đồng Xoài")) == "Toàn thành phố"
    assert total_label(campaign("Thị xã Bình Long")) == "Toàn thị xã"
    assert total_label(campaign("Tỉnh Bình Phước", "tinh")) == "Toàn tỉnh"
    assert total_label(campaign("Bình Phước", "tinh")) == "Toàn tỉnh"  # the kind says it
    assert total_label(campaign("Ban Tuyên giáo Huyện ủy", "huyen_uy", parent=False)) == "Tổng cộng"


def test_a_lists_pages_and_messages_name_its_rows_as_the_outline_does(any_outline):
    """kl49's table I lists documents ("văn bản"); mini's list is of schools: its pages, messages and
    the pre-submission gaps say "dòng", never "văn bản"."""
    from webapp.domain.values import row_noun

    case = any_outline
    open_every_part()
    table = list_table(case)
    noun = row_noun(table)
    assert noun == {"kl49": "văn bản", "mini": "dòng"}[case.name]
    unit = owner_of(case, table, table.columns[1].key)
    with in_app() as session:  # a unit of the list's kinds without any row
        session.execute(ListRow.__table__.delete().where(
            ListRow.unit_id == session.scalar(select(Unit.id).where(Unit.code == unit))))
        session.commit()
    clerk = login(case.app.test_client(), unit)
    base = f"/campaigns/{case.campaign}"
    pages = {
        "list": clerk.get(f"{base}/tables/{table.code}").get_data(as_text=True),
        "home": clerk.get("/").get_data(as_text=True),
        "submit": clerk.get(f"{base}/submit").get_data(as_text=True),
        "blank row": clerk.post(f"{base}/tables/{table.code}/rows", data={},
                                headers={"HX-Request": "true"}).get_data(as_text=True),
    }
    assert f"Chưa có {noun} nào" in pages["list"] and f"0 {noun}" in pages["home"]
    assert f"chưa có {noun} nào" in pages["submit"] and f"nhập thông tin {noun}" in pages["blank row"]
    added = clerk.post(f"{base}/tables/{table.code}/rows",
                       data={f"new:{k}": v for k, v in typed_list_row(table, 3).items()})
    assert added.status_code == 302
    pages["flash"] = clerk.get(f"{base}/tables/{table.code}").get_data(as_text=True)
    assert f"Đã thêm {noun}." in pages["flash"] and f"Xóa {noun} này khỏi danh mục?" in pages["flash"]
    staff = login(case.app.test_client(), case.compiler)
    pages["appendix"] = staff.get(f"{base}/appendix").get_data(as_text=True)
    if noun != "văn bản":
        for name, html in pages.items():
            assert "văn bản" not in html.split("<main", 1)[-1].casefold(), name
    # the header of the list page: TT, then the input columns, as each row draws them
    head = pages["list"].split("<thead>", 1)[1].split("</thead>", 1)[0]
    labels = [c.label for c in table.columns if c.type == "serial"] + [c.label for c in table.columns if c.is_input]
    assert [cell.split(">", 1)[1].split("<", 1)[0] for cell in head.split("<th")[1:] if "actions" not in cell] == labels
