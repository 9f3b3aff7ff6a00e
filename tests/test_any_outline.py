"""The same tests for every outline: kl49's demo and the mini town (tests/outlines/mini.yaml).

Nothing here names a table, a column, a unit kind or a label of either outline: each test walks the
campaign's outline and layout and the database's assignments to choose its cells, units and values.
They prove that entry, the rules, the template round trip, the assembly, the export and the pages
work for an outline of another shape (other kinds, codes, sheet names with spaces, years, labels, a
list that is not of documents, explicit rows with a header) exactly as for kl49.
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
from webapp.domain.values import REQUIRED_IN_ROW, derive, parse_input, percent, show
from webapp.domain.workbook import COVER_SHEET, META_SHEET, breakdown_sheet_name
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


def owner_of(case, table, column_key: str, exclude: tuple[str, ...] = (), required: bool = True) -> str | None:
    """The code of a unit (also its clerk's user name) that fills ``column_key`` of ``table``; None
    when no unit of the campaign does (kl49's province group in a district campaign) and not ``required``."""
    group = table.group_key_of(column_key)
    with in_app() as session:
        for code, tables in assignments(session, campaign_of(session, case)).items():
            if group in tables.get(table.code, set()) and code not in exclude:
                return code
    if required:
        raise LookupError((table.code, column_key))
    return None


def grid_cells(case, predicate):
    """(table, layout row, cell) of every grid cell of the campaign's outline for which
    ``predicate(table, cell)`` holds."""
    with in_app() as session:
        campaign = campaign_of(session, case)
        outline, years = campaign.outline, campaign.years
    out = []
    for table in outline.tables:
        if table.is_list:
            continue
        for lrow in build_layout(table, years).rows:
            out.extend((table, lrow, cell) for cell in lrow.cells if predicate(table, cell))
    return out


def first_cell(case, predicate):
    found = grid_cells(case, predicate)
    assert found, "the outline has no such cell"
    return found[0]


def outline_and_years(case):
    with in_app() as session:
        campaign = campaign_of(session, case)
        return campaign.outline, campaign.years


def list_table(case):
    outline, _ = outline_and_years(case)
    return next(t for t in outline.tables if t.is_list)


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
    for table, lrow, cell in grid_cells(case, lambda t, c: c.column.is_input):
        c = cell.column
        if c.type in seen or c.type not in samples:
            continue
        seen.add(c.type)
        unit = owner_of(case, table, c.key)
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
    assert {"count", "yesno"} <= seen


def test_a_rate_is_recomputed_in_the_answer_of_a_save(any_outline):
    """Every rate of the outline: save its numerator (and a denominator the unit enters), and the
    answer carries the rate the unit's own numbers make."""
    case = any_outline
    open_every_part()
    done = set()
    for table, lrow, cell in grid_cells(case, lambda t, c: c.column.is_derived):
        c = cell.column
        if (table.code, c.key) in done:
            continue
        done.add((table.code, c.key))
        of, over = table.column(c.of), table.column(c.over)
        unit = owner_of(case, table, c.key, required=False)
        if unit is None:  # a group no unit of this campaign fills
            continue
        clerk = login(case.app.test_client(), unit)
        numbers = {}
        for other in lrow.cells:  # the row's numbers cleared: no rule stands in the way, the saves change the rate
            if other.column.type == "count" and table.group_key_of(other.column.key) == table.group_key_of(c.key):
                assert save_cell(clerk, case, table, lrow.key, other.column.key, "").status_code == 200
        assert save_cell(clerk, case, table, lrow.key, of.key, "").status_code == 200
        if over.type == "count":
            assert save_cell(clerk, case, table, lrow.key, over.key, "40").status_code == 200
            numbers[over.key] = 40
        else:
            numbers[over.key] = 1  # yes, or the fixed 1 of a unit count
            if over.type == "yesno":
                assert save_cell(clerk, case, table, lrow.key, over.key, "Có").status_code == 200
        raw, numbers[of.key] = ("Có", 1) if of.type == "yesno" else ("10", 10)
        response = save_cell(clerk, case, table, lrow.key, of.key, raw)
        assert response.status_code == 200
        want = show(c, derive(c, numbers), None)
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
    table, lrow, cell = first_cell(case, lambda t, c: c.column.type == ctype)
    unit = owner_of(case, table, cell.column.key)
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


def test_a_clerk_writes_no_cell_the_unit_does_not_fill(any_outline):
    """A derived cell, a unit count, another kind's group, another unit's part: refused, nothing stored."""
    case = any_outline
    open_every_part()
    table, lrow, cell = first_cell(case, lambda t, c: c.column.type == "count")
    unit = owner_of(case, table, cell.column.key)
    clerk = login(case.app.test_client(), unit)
    with in_app() as session:
        mine = assignments(session, campaign_of(session, case))[unit]
    refused = grid_cells(case, lambda t, c: c.column.is_derived or c.column.type == "unit_count"
                         or (c.column.is_input and t.group_key_of(c.column.key) not in mine.get(t.code, set())))
    kinds = set()
    values = count(CellValue)
    for t, lr, c in refused:
        kind = "derived" if c.column.is_derived else c.column.type if c.column.type == "unit_count" else "other"
        if kind in kinds:
            continue
        kinds.add(kind)
        assert save_cell(clerk, case, t, lr.key, c.column.key, "1").status_code == 403, (t.code, c.column.key)
        url = f"/campaigns/{case.campaign}/tables/{t.code}"
        assert clerk.post(url, data={f"cell:{lr.key}:{c.column.key}": "1"}).status_code == 403
    assert kinds >= {"derived", "other"}
    other = owner_of(case, table, cell.column.key, exclude=(unit,))
    assert save_cell(clerk, case, table, lrow.key, cell.column.key, "7", unit=other).status_code == 403
    assert count(CellValue) == values


# --- rules ------------------------------------------------------------------------------------------

def rules_of(case):
    """(table, block index, rule) of every rule of the campaign's outline."""
    outline, _ = outline_and_years(case)
    return [(t, bi, rule) for t in outline.tables for bi, block in enumerate(t.blocks) for rule in block.rules]


def test_every_error_rule_refuses_an_of_which_above_its_total_both_ways(any_outline):
    case = any_outline
    open_every_part()
    _, years = outline_and_years(case)
    errors = [(t, bi, r) for t, bi, r in rules_of(case)
              if r.level == "error" and owner_of(case, t, r.left, required=False)]
    assert errors
    for table, bi, rule in errors:
        assert rule.op == "<=", "the test writes 'of which <= total' rules only"
        row = next(r for r in build_layout(table, years).rows if r.block == bi)
        unit = owner_of(case, table, rule.left)
        clerk = login(case.app.test_client(), unit)
        assert save_cell(clerk, case, table, row.key, rule.left, "").status_code == 200
        assert save_cell(clerk, case, table, row.key, rule.right, "10").status_code == 200
        response = save_cell(clerk, case, table, row.key, rule.left, "11")
        assert response.status_code == 422 and rule.message in response.get_data(as_text=True)
        assert save_cell(clerk, case, table, row.key, rule.left, "10").status_code == 200  # equal is fine
        response = save_cell(clerk, case, table, row.key, rule.right, "9")  # the total below its part
        assert response.status_code == 422 and rule.message in response.get_data(as_text=True)
        assert stored(case, unit, table.code, row.key, rule.right).num == 10
        # the plain form checks a row's new values together: both at once are fine
        url = f"/campaigns/{case.campaign}/tables/{table.code}"
        response = post_as_page(clerk, url, data={f"cell:{row.key}:{rule.right}": "30",
                                                  f"cell:{row.key}:{rule.left}": "25"})
        assert response.status_code == 302
        assert stored(case, unit, table.code, row.key, rule.left).num == 25


def test_a_warning_rule_stores_the_value_and_flags_it(any_outline):
    case = any_outline
    open_every_part()
    _, years = outline_and_years(case)
    warnings = [(t, bi, r) for t, bi, r in rules_of(case)
                if r.level == "warning" and owner_of(case, t, r.left, required=False)]
    assert warnings
    for table, bi, rule in warnings:
        row = next(r for r in build_layout(table, years).rows if r.block == bi)
        unit = owner_of(case, table, rule.left)
        clerk = login(case.app.test_client(), unit)
        # the other rules of the row must hold: the other values of the row are cleared first
        for other in table.blocks[bi].rules:
            if other is not rule:
                for key in (other.left, other.right):
                    if key not in (rule.left, rule.right):
                        save_cell(clerk, case, table, row.key, key, "")
        assert save_cell(clerk, case, table, row.key, rule.right, "10").status_code == 200
        response = save_cell(clerk, case, table, row.key, rule.left, "11")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert 'class="msg warning"' in html and rule.message in html
        assert stored(case, unit, table.code, row.key, rule.left).num == 11


def test_a_submission_is_stopped_by_a_rule_that_cannot_be_judged(any_outline):
    """An "of which" entered while its total is empty: allowed while entering, listed at submission."""
    from webapp.workflow import review_part

    case = any_outline
    open_every_part()
    _, years = outline_and_years(case)
    table, bi, rule = next((t, bi, r) for t, bi, r in rules_of(case)
                           if r.level == "error" and owner_of(case, t, r.left, required=False))
    row = next(r for r in build_layout(table, years).rows if r.block == bi)
    unit = owner_of(case, table, rule.left)
    clerk = login(case.app.test_client(), unit)
    assert save_cell(clerk, case, table, row.key, rule.right, "").status_code == 200
    assert save_cell(clerk, case, table, row.key, rule.left, "18").status_code == 200
    with in_app() as session:
        campaign = campaign_of(session, case)
        problems, _ = review_part(session, campaign, session.scalar(select(Unit).where(Unit.code == unit)))
    assert any(p.unjudged and p.table_code == table.code and p.where == row.label
               and table.column(rule.right).label in p.message for p in problems)
    page = clerk.get(f"/campaigns/{case.campaign}/submit").get_data(as_text=True)
    assert table.column(rule.right).label in page


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

def fill_template(wb, outline, years, owned: dict[str, set[str]], rng: random.Random):
    """Valid random values in every unlocked cell of a template (every error rule respected); the
    values as they must be stored: {(table, row, column): (num, text)} and {table: [row data]}."""
    cells, lists = {}, {}
    for table in outline.tables:
        ws = wb[table.sheet]
        if table.is_list:
            if "rows" not in owned.get(table.code, set()):
                continue
            layout = build_layout(table, years, list_rows=3)
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
        for lrow in build_layout(table, years).rows:
            row_values = {}
            for cell in lrow.cells:
                target = ws.cell(cell.row + 1, cell.col + 1)
                if target.protection.locked:
                    continue
                c = cell.column
                assert c.is_input and table.group_key_of(c.key) in owned[table.code], (table.code, cell.address)
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
                left, right = row_values.get(rule.left), row_values.get(rule.right)
                if rule.level == "error" and left is not None and right is not None \
                        and left.value is not None and right.value is not None and not rule.holds(left.value, right.value):
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
        outline, years = campaign.outline, campaign.years
        owned_by = assignments(session, campaign)
        one_per_kind = {}
        for unit in campaign.units:
            one_per_kind.setdefault(unit.kind, unit.code)
    assert len(one_per_kind) >= 3
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
                layout = build_layout(table, years, list_rows=40)
                for cell in layout.cells:
                    if cell.column.is_input:
                        wb[table.sheet].cell(cell.row + 1, cell.col + 1).value = None
        cells, lists = fill_template(wb, outline, years, owned_by[code], rng)
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
            value = wb2[table.sheet][build_layout(table, years).find(row_key, col_key).address].value
            want = None if num is None and text is None else (
                ("Có" if num else "Không") if c.type == "yesno" else num if c.type == "count" else text)
            assert value == want, (kind, table_code, row_key, col_key)


def test_a_value_in_a_cell_the_unit_does_not_fill_or_over_a_formula_is_refused(any_outline):
    from webapp.exchange import ImportRefused, import_unit_template, write_unit_template

    case = any_outline
    open_every_part()
    table, lrow, cell = first_cell(case, lambda t, c: c.column.type == "count")
    code = owner_of(case, table, cell.column.key)
    with in_app() as session:
        mine = assignments(session, campaign_of(session, case))[code]
    derived = first_cell(case, lambda t, c: c.column.is_derived)
    foreign = first_cell(case, lambda t, c: c.column.is_input and c.column.type != "text"
                         and t.group_key_of(c.column.key) not in mine.get(t.code, set()))
    with in_app() as session:
        campaign = campaign_of(session, case)
        unit = session.scalar(select(Unit).where(Unit.code == code))
        out = io.BytesIO()
        write_unit_template(session, campaign, unit, out)
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    wb[table.sheet][cell.address] = 4321  # a valid change that must not be stored either
    for t, _, c in (derived, foreign):
        wb[t.sheet][c.address] = 1
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    values = count(CellValue), count(AuditEvent)
    with in_app() as session:
        campaign = campaign_of(session, case)
        unit = session.scalar(select(Unit).where(Unit.code == code))
        with pytest.raises(ImportRefused) as refused:
            import_unit_template(session, campaign, unit, None, buffer, via="import")
    assert f"{derived[0].sheet}!{derived[2].address}: {importer.OVER_DERIVED}" in refused.value.errors
    assert f"{foreign[0].sheet}!{foreign[2].address}: {importer.NOT_OWNED}" in refused.value.errors
    assert (count(CellValue), count(AuditEvent)) == values
    assert (stored(case, code, table.code, lrow.key, cell.column.key) or CellValue()).num != 4321


# --- assembly ---------------------------------------------------------------------------------------

def test_every_assembled_number_is_the_sum_over_the_owning_units_and_rates_are_recomputed(any_outline):
    case = any_outline
    with in_app() as session:
        campaign = campaign_of(session, case)
        outline, years = campaign.outline, campaign.years
        part = assemble(session, campaign.id, outline, years)
        parts = unit_parts(session, campaign.id, outline, years)
        names = [u.name for u in campaign.units if u.id in parts]
        summed = add_parts([parts[u.id] for u in campaign.units if u.id in parts], outline, names)
        owned_values = session.execute(
            select(CellValue.table_code, CellValue.row_key, CellValue.col_key, CellValue.num)
            .join(Assignment, (Assignment.campaign_id == CellValue.campaign_id)
                  & (Assignment.unit_id == CellValue.unit_id) & (Assignment.table_code == CellValue.table_code)
                  & (Assignment.group_key == CellValue.group_key))
            .where(CellValue.campaign_id == campaign.id, CellValue.num.is_not(None))).all()
        fillers = defaultdict(int)
        for table_code, group in session.execute(select(Assignment.table_code, Assignment.group_key)
                                                 .where(Assignment.campaign_id == campaign.id)):
            fillers[(table_code, group)] += 1
    sums: dict = defaultdict(int)
    for table_code, row_key, col_key, num in owned_values:
        sums[(table_code, row_key, col_key)] += num
    checked = {"number": 0, "unit_count": 0, "rate": 0}
    for table in outline.tables:
        if table.is_list:
            continue
        for lrow in build_layout(table, years).rows:
            numbers = part.row_numbers(table.code, lrow.key)
            for cell in lrow.cells:
                c, key = cell.column, (table.code, lrow.key, cell.column.key)
                if c.type == "unit_count":  # the number of units that fill the group
                    assert part.numbers.get(key) == (fillers[(table.code, table.group_key_of(c.key))] or None), key
                    checked["unit_count"] += 1
                elif c.is_derived:  # from the sums, never averaged
                    of, over = sums.get((table.code, lrow.key, c.of)), sums.get((table.code, lrow.key, c.over))
                    if table.column(c.over).type == "unit_count":
                        over = fillers[(table.code, table.group_key_of(c.over))] or None
                    assert derive(c, numbers) == percent(of, over), key
                    checked["rate"] += derive(c, numbers) is not None
                elif c.is_numeric:
                    assert part.numbers.get(key) == sums.get(key), key
                    checked["number"] += key in sums
    assert min(checked.values()) > 0, checked
    # the units' own parts summed give the same appendix: numbers, notes, list rows
    assert summed.numbers == part.numbers and summed.texts == part.texts and summed.lists == part.lists
    assert part.texts and all(": " in text for text in part.texts.values())
    assert any(part.lists.values())


# --- export -----------------------------------------------------------------------------------------

def expected_total_label(case) -> str:
    return {"kl49": "Toàn huyện", "mini": "Toàn thành phố"}[case.name]


def test_the_exported_workbook_holds_the_assembly_at_the_templates_addresses(any_outline, tmp_path):
    case = any_outline
    out = tmp_path / "phu-luc.xlsx"
    result = case.app.test_cli_runner().invoke(args=["export", case.campaign, "-o", str(out)])
    assert result.exit_code == 0 and result.stdout == "", result.output
    with in_app() as session:
        campaign = campaign_of(session, case)
        outline, years = campaign.outline, campaign.years
        part = assemble(session, campaign.id, outline, years)
        unit = next(u for u in campaign.units)
        template = io.BytesIO()
        from webapp.exchange import write_unit_template
        write_unit_template(session, campaign, unit, template)
    formulas = openpyxl.load_workbook(out)
    carried = openpyxl.load_workbook(out, data_only=True)
    tpl = openpyxl.load_workbook(io.BytesIO(template.getvalue()))
    grids = [t for t in outline.tables if not t.is_list]
    assert formulas.sheetnames == ([COVER_SHEET] + [t.sheet for t in outline.tables]
                                   + [breakdown_sheet_name(t) for t in grids] + [META_SHEET])
    checked = {"number": 0, "formula": 0, "text": 0, "list": 0}
    for table in outline.tables:
        ws, wc, ts = formulas[table.sheet], carried[table.sheet], tpl[table.sheet]
        assert ws["A1"].value == table.title == ts["A1"].value
        rows = part.lists.get(table.code, [])
        layout = build_layout(table, years, list_rows=len(rows)) if table.is_list else build_layout(table, years)
        for block in layout.blocks:  # the frame as in the template: headers, numbers, row labels
            for h in block.header + block.numbers:
                assert ws.cell(h.row + 1, h.col + 1).value == h.text == ts.cell(h.row + 1, h.col + 1).value
            for lrow in block.rows if not table.is_list else []:
                assert ws.cell(lrow.row + 1, 1).value == lrow.label == ts.cell(lrow.row + 1, 1).value
        if table.is_list:
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
            for cell in lrow.cells:
                c, value = cell.column, ws[cell.address].value
                if c.is_derived:
                    assert isinstance(value, str) and value.startswith("=IF("), (table.code, cell.address)
                    got, want = wc[cell.address].value, derive(c, numbers)
                    assert (None if got in (None, "") else Decimal(str(got))) == want, (table.code, cell.address)
                    checked["formula"] += 1
                elif c.is_numeric:
                    assert value == numbers.get(c.key), (table.code, cell.address)
                    assert value is None or ws[cell.address].number_format == "#,##0"
                    checked["number"] += value is not None
                else:
                    assert value == part.text(table.code, lrow.key, c.key), (table.code, cell.address)
                    checked["text"] += value is not None
    assert min(checked.values()) > 0, checked
    # each grid's breakdown: a row per unit that fills a number of the table (none asked only for a
    # note), then the whole area's total row
    with in_app() as session:
        owned = assignments(session, campaign_of(session, case))
        names = {u.code: u.name for u in campaign_of(session, case).units}
    for table in grids:
        ws = formulas[breakdown_sheet_name(table)]
        labels = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
        assert labels[-1] == expected_total_label(case), (table.code, labels[-3:])
        first = labels.index("A") + 2  # 1-based: the row after the column numbers
        listed = [ws.cell(r, 2).value for r in range(first, ws.max_row)]
        numbers = {key for key, group in table.groups if any(c.is_numeric for c in group.columns)}
        assert set(listed) == {names[code] for code, tables in owned.items()
                               if tables.get(table.code, set()) & numbers}, table.code
    cover = " ".join(str(v) for row in formulas[COVER_SHEET].iter_rows(values_only=True) for v in row if v)
    assert case.campaign in cover and outline.title in cover and f"Năm {years[0]} – Năm {years[-1]}" in cover


# --- pages --------------------------------------------------------------------------------------

def test_every_page_of_the_campaign_renders_for_those_who_may_see_it(any_list_outline):
    case = any_list_outline
    with in_app() as session:
        campaign = campaign_of(session, case)
        outline, years = campaign.outline, campaign.years
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
        grids = [t for t in outline.tables if not t.is_list]
        dashboard = staff.get(f"{base}/dashboard").get_data(as_text=True)
        # the breakdown tab leads to the first grid; an outline of lists only has none, nor the tab
        assert staff.get(f"{base}/breakdown").status_code == (302 if grids else 404)
        assert (f'href="{base}/breakdown"' in dashboard) == bool(grids)
        for table in outline.tables:
            if table.is_list:
                continue
            layout = build_layout(table, years)
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
                        assert (f'class="rowhead">{unit.name}</th>' in html) == fills, (table.code, unit.code)
            cell = next(c for c in layout.cells if c.column.is_numeric and not c.column.is_derived)
            drill = staff.get(f"{base}/appendix/{table.code}/cell", query_string={"row": cell.row_key,
                                                                                   "col": cell.column.key})
            assert drill.status_code == 200, table.code
        for code in kinds.values():
            assert staff.get(f"{base}/units/{code}").status_code == 200


# --- what was tied to kl49 (fixed; kept as regression tests) --------------------------------------

def test_the_row_label_column_is_headed_by_what_its_rows_are(any_outline):
    """Periods are headed "Thời gian"; a block of named rows with a header (mini's Biểu 2; kl49 has
    none) is headed "Nội dung", not "Thời gian"."""
    from webapp.domain.layout import NAMED_ROWS_HEADER_LABEL, ROW_HEADER_LABEL

    outline, years = outline_and_years(any_outline)
    seen = set()
    for table in outline.tables:
        if table.is_list:
            continue
        for spec, block in zip(table.blocks, build_layout(table, years).blocks):
            if not block.header:
                continue
            corner = next(h for h in block.header if h.col == 0)
            want = ROW_HEADER_LABEL if spec.rows == "periods" else NAMED_ROWS_HEADER_LABEL
            assert corner.text == want, table.code
            seen.add(want)
    assert ROW_HEADER_LABEL in seen
    if any_outline.name == "mini":
        assert NAMED_ROWS_HEADER_LABEL in seen


def test_a_return_note_points_at_any_row_of_the_units_tables(any_outline):
    """The return form offers the rows of the unit's tables by their printed labels (it asked for a
    year typed over the placeholder "2021": a named row such as "co_so" could not be pointed at)."""
    case = any_outline
    open_every_part()
    outline, years = outline_and_years(case)
    table = next((t for t in outline.tables if not t.is_list and any(b.rows != "periods" for b in t.blocks)
                  and owner_of(case, t, t.columns[0].key, required=False)), None)
    if table is None:
        table = next(t for t in outline.tables if not t.is_list)
    column = next(c for c in table.columns if c.is_input and c.type != "text")
    unit = owner_of(case, table, column.key)
    lrow = build_layout(table, years).rows[-1]
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
