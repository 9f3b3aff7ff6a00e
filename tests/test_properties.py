"""Property-based tests (Hypothesis): whatever a clerk types or an Excel file holds, nothing invalid
is stored and nothing crashes.

(a) Arbitrary text thrown at Lộc Hòa's (ln-02) htmx cell saves (counts, yes/no, notes) and at its
    table I through the add-row and edit-row routes: never a 5xx, only 200, 422 or 409; a refused
    value leaves the cell as it was, an accepted one is stored as the app's parser reads it; and
    after every example the whole stored part obeys every hard rule (workflow.review_part finds no
    problem), every number is a whole number from 0 to MAX_COUNT, every yes/no is 0 or 1.
    The plain whole-table form (no JavaScript) gets many such values at once: all stored as the
    parser reads them, or none.
(b) Arbitrary values (numbers, floats, text, booleans, dates, blanks, formulas) written into the
    cells of ln-02's Excel template, then imported with import_unit_template: only ImportRefused
    may be raised; a refused import changes nothing; an accepted one leaves the part obeying every
    hard rule.

One app per test function; examples are not reset in between: the invariants must hold whatever
the sequence of saves and imports was.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import uuid

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from conftest import in_app
from webapp.domain.layout import build_layout
from webapp.domain.values import MAX_COUNT, NO_WORDS, YES_WORDS, ValueProblem, parse_input
from webapp.models import AuditEvent, Campaign, CellValue, ListRow, Unit, User

CAMPAIGN = "kl49-2024"
UNIT = "ln-02"
C = f"/campaigns/{CAMPAIGN}"
GRID_TABLES = ("II.1.1", "II.1.3", "II.1.5", "III")  # yes/no; counts, rules and notes; counts; all kinds
HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]

# What clerks (and fuzzers) type: thousands in both styles, decimals with a comma, signs, formulas,
# other scripts' digits, whitespace and control characters, numbers at and past the limit.
NASTY = [
    "", " ", "\t", "\n", "0", "00", "-0", "+0", "+5", "-1", "-5", "- 5", "1.000,5", "1.000", "1,000", "1.234.567",
    "12 345", "12\u00a0345", "1,5", "0,0", "0.0", "12.", ".5", "1e3", "1E+3", "0x1F", "1_000", "=1+1",
    "=SUM(A1:A9)", "@x", "Có", "có", "CÓ", "Không", "không", "x", "X", "true", "False", "đạt", "chưa đạt",
    "Có thể", "NaN", "nan", "inf", "-inf", "Infinity", "١٢٣", "１２３", "²", "½", "𝟙𝟚", "999999999999",
    str(MAX_COUNT), str(MAX_COUNT + 1), "9" * 30, "-" + "9" * 30, "9" * 5000, "\x00", "a\x00b", "\t7\n",
    " 42 ", "\r\n", "<script>alert(1)</script>", "' OR 1=1 --", "a" * 61, "ư" * 1001, "12/06/2019",
    "31/02/2019", "2019-06-12", "01/01/1929", "01/01/2101", "Nghị quyết", "nghị QUYẾT", "Khác",
]
RAW_TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(),
    st.text(alphabet="0123456789.,-+ \u00a0", max_size=20),
    st.integers().map(str),
    st.integers(min_value=0, max_value=10**6).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
    st.from_regex(r"\s*[+-]?\d{1,3}([., \u00a0]\d{3}){0,3}([.,]\d{1,3})?\s*", fullmatch=True),
    st.sampled_from(sorted(YES_WORDS | NO_WORDS)),
)


# --- the invariants ---------------------------------------------------------------------------

def part_objects(session):
    campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
    unit = session.scalar(select(Unit).where(Unit.code == UNIT))
    return campaign, unit


def assert_part_is_valid() -> None:
    """ln-02's whole stored part obeys every hard rule and every value is of its column's kind."""
    from webapp.entry.service import owned_groups
    from webapp.workflow import review_part

    with in_app() as session:
        campaign, unit = part_objects(session)
        problems, _ = review_part(session, campaign, unit)
        breaches = [p for p in problems if not p.unjudged]  # an empty total is fine until submission
        assert breaches == [], breaches
        outline, owned = campaign.outline, owned_groups(session, campaign, unit)
        for v in session.scalars(select(CellValue).where(CellValue.campaign_id == campaign.id,
                                                         CellValue.unit_id == unit.id)):
            table = outline.table(v.table_code)
            column = table.column(v.col_key)
            where = (v.table_code, v.row_key, v.col_key, v.num, v.text)
            assert column.is_input and table.group_key_of(v.col_key) in owned[v.table_code], where
            if column.type in ("count", "yesno"):
                assert v.text is None, where
                assert v.num is None or (type(v.num) is int and 0 <= v.num <= MAX_COUNT), where
                if column.type == "yesno":
                    assert v.num in (None, 0, 1), where
            else:
                assert v.num is None, where
                assert v.text is None or (v.text == v.text.strip() != "" and len(v.text) <= column.max_length), where
        table = outline.table("I")
        for row in session.scalars(select(ListRow).where(ListRow.campaign_id == campaign.id,
                                                         ListRow.unit_id == unit.id)):
            assert_list_row_is_valid(table, row.data)


def assert_list_row_is_valid(table, data: dict) -> None:
    inputs = {c.key: c for c in table.columns if c.is_input}
    assert data and set(data) <= set(inputs), data
    for key, column in inputs.items():
        value = data.get(key)
        if column.required:
            assert value, (key, data)
        if value is None:
            continue
        assert isinstance(value, str) and value == value.strip() != "" and len(value) <= column.max_length, (key, data)
        if column.type == "choice":
            assert value in column.choices, (key, data)
        if column.type == "date":
            assert 1930 <= dt.date.fromisoformat(value).year <= 2100, (key, data)


def expected_parse(column, raw):
    """What the app's own parser makes of a value (None: it refuses it)."""
    try:
        return parse_input(column, raw)
    except ValueProblem:
        return None


# --- (a) the browser: htmx cell saves and list rows ---------------------------------------------

def own_cells() -> list[tuple[str, str, str]]:
    """(table, row key, column key) of every input cell ln-02 fills in GRID_TABLES."""
    from webapp.entry.service import UnitTable

    with in_app() as session:
        campaign, unit = part_objects(session)
        cells = []
        for code in GRID_TABLES:
            part = UnitTable(session, campaign, unit, campaign.outline.table(code))
            cells += [(code, c.row_key, c.column.key) for c in part.layout.cells
                      if c.column.is_input and part.owns(c.row_key, c.column.key)]
    assert {t for t, _, _ in cells} == set(GRID_TABLES)
    return cells


def cell_state(table: str, row: str, col: str):
    with in_app() as session:
        campaign, unit = part_objects(session)
        v = session.scalar(select(CellValue).where(
            CellValue.campaign_id == campaign.id, CellValue.unit_id == unit.id, CellValue.table_code == table,
            CellValue.row_key == row, CellValue.col_key == col))
        return (v.num, v.text, v.version) if v else (None, None, 0)


def test_any_text_typed_in_a_cell(clerk):
    cells = own_cells()
    with in_app() as session:
        outline = part_objects(session)[0].outline

    @settings(max_examples=200, deadline=None, suppress_health_check=HEALTH)
    @given(cell=st.sampled_from(cells), raw=RAW_TEXT, version=st.sampled_from(["none", "shown", "stale"]))
    def typed(cell, raw, version):
        table, row, col = cell
        column = outline.table(table).column(col)
        before = cell_state(*cell)
        data = {"value": raw}
        if version != "none":  # the version the page was drawn with (stale: changed meanwhile)
            data["version"] = str(before[2] + (1 if version == "stale" else 0))
        response = clerk.post(f"{C}/tables/{table}/cells/{row}/{col}", data=data)
        status = response.status_code
        event(f"{column.type}: {status}")
        # a NUL is refused for the whole request (400) before any view runs; see test_security.py
        assert status in (200, 409, 422) or (status == 400 and "\x00" in raw), (status, raw)
        after = cell_state(*cell)
        parsed = expected_parse(column, raw)
        if status == 200:
            assert parsed is not None, ("stored a value the parser refuses", raw, after)
            assert after[:2] == (parsed.num, parsed.text), (raw, after)
            assert after[2] == before[2] + (after[:2] != before[:2]), (before, after)
            assert version == "shown" or after == before  # only a retry of the value now stored: no change
        else:  # refused: nothing stored
            assert after == before, (status, raw, before, after)
            assert status == 400 or (status == 409) == (version in ("stale", "none")), (status, version)
        assert_part_is_valid()

    typed()


def table_state(table: str) -> dict[tuple[str, str], tuple]:
    with in_app() as session:
        campaign, unit = part_objects(session)
        return {(v.row_key, v.col_key): (v.num, v.text, v.version) for v in session.scalars(select(CellValue).where(
            CellValue.campaign_id == campaign.id, CellValue.unit_id == unit.id, CellValue.table_code == table))}


def test_any_whole_table_saved_without_javascript(clerk):
    """The no-JavaScript form posts many cells at once: all of them are stored, or none."""
    cells = own_cells()
    with in_app() as session:
        outline = part_objects(session)[0].outline

    @settings(max_examples=80, deadline=None, suppress_health_check=HEALTH)
    @given(table=st.sampled_from(GRID_TABLES), picks=st.lists(st.tuples(st.integers(min_value=0), RAW_TEXT),
                                                              min_size=1, max_size=8))
    def posted(table, picks):
        mine = [(r, c) for t, r, c in cells if t == table]
        values = {mine[i % len(mine)]: raw for i, raw in picks}  # a cell picked twice: the last value
        before = table_state(table)
        response = clerk.post(f"{C}/tables/{table}", data={f"cell:{r}:{c}": raw for (r, c), raw in values.items()})
        status = response.status_code
        event(f"whole table: {status}")
        assert status in (302, 422) or (status == 400 and any("\x00" in v for v in values.values())), (status, values)
        after = table_state(table)
        if status == 302:  # stored: each cell as the parser reads it
            for (row, col), raw in values.items():
                parsed = expected_parse(outline.table(table).column(col), raw)
                assert parsed is not None, ("stored a value the parser refuses", row, col, raw)
                assert after.get((row, col), (None, None))[:2] == (parsed.num, parsed.text), (row, col, raw)
        else:
            assert after == before, (status, values)
        assert_part_is_valid()

    posted()


LIST_COLUMNS = ("the_loai", "so_hieu", "ngay_ban_hanh", "trich_yeu", "co_quan")
LIST_TYPES = ("choice", "text", "date", "text", "text")
PLAUSIBLE = {"the_loai": st.sampled_from(["Nghị quyết", "Kế hoạch", "kế hoạch", " Khác "]),
             "so_hieu": st.sampled_from(["07-NQ/ĐU", "12/KH-UBND"]),
             "ngay_ban_hanh": st.sampled_from(["12/06/2019", "2020-04-20", "3.5.2021"]),
             "trich_yeu": st.sampled_from(["Về công tác khuyến học"]),
             "co_quan": st.sampled_from(["Đảng ủy xã Lộc Hòa"])}
LIST_ROW = st.one_of(
    st.fixed_dictionaries({key: PLAUSIBLE[key] for key in LIST_COLUMNS}),  # a document
    st.tuples(st.fixed_dictionaries({key: PLAUSIBLE[key] for key in LIST_COLUMNS}), st.sampled_from(LIST_COLUMNS),
              RAW_TEXT).map(lambda t: {**t[0], t[1]: t[2]}),  # a document with one field fuzzed
    st.fixed_dictionaries({}, optional={key: st.one_of(PLAUSIBLE[key], RAW_TEXT) for key in LIST_COLUMNS}),
)


def own_rows() -> list[tuple[int, dict, int]]:
    with in_app() as session:
        campaign, unit = part_objects(session)
        return [(r.id, dict(r.data), r.version) for r in session.scalars(
            select(ListRow).where(ListRow.campaign_id == campaign.id, ListRow.unit_id == unit.id,
                                  ListRow.table_code == "I").order_by(ListRow.id))]


def test_any_text_typed_in_a_list_row(clerk):
    from webapp.entry.service import UnitList

    with in_app() as session:
        campaign, unit = part_objects(session)
        table = campaign.outline.table("I")

    def parse(fields):  # the app's own reading of a row: (data, errors)
        with in_app() as session:
            campaign, unit = part_objects(session)
            return UnitList(session, campaign, unit, table).parse(fields)

    @settings(max_examples=120, deadline=None, suppress_health_check=HEALTH)
    @given(fields=LIST_ROW, edit=st.booleans(), pick=st.integers(min_value=0))
    def typed(fields, edit, pick):
        rows = own_rows()
        if edit and rows:
            row_id = rows[pick % len(rows)][0]
            response = clerk.post(f"{C}/tables/I/rows/{row_id}", headers={"HX-Request": "true"},
                                  data={f"row:{row_id}:{k}": v for k, v in fields.items()})
        else:
            row_id = None
            response = clerk.post(f"{C}/tables/I/rows", headers={"HX-Request": "true"},
                                  data={f"new:{k}": v for k, v in fields.items()})
        status = response.status_code
        event(f"{'edit' if row_id else 'add'}: {status}")
        assert status in (200, 409, 422) or (status == 400 and any("\x00" in v for v in fields.values())), \
            (status, fields)
        after = own_rows()
        data, errors = parse(fields)
        if status == 200:
            assert data is not None and not errors, (fields, data, errors)
            if row_id:
                assert [r[0] for r in after] == [r[0] for r in rows]
                assert next(r for r in after if r[0] == row_id)[1] == data
            else:
                if any(r[1] == data for r in rows):  # a document already listed is not added twice
                    assert after == rows
                else:
                    assert len(after) == len(rows) + 1 and after[-1][1] == data
        else:
            assert after == rows, (status, fields)
        assert_part_is_valid()

    typed()


@pytest.mark.parametrize("version", ["²", "9" * 5000, "-1", "1.0", " 1"])
def test_a_malformed_version_field_is_a_conflict_not_a_server_error(clerk, version):
    """Regression: str.isdigit() let "²" and 5,000 digits through to int() (a 500). A field that is
    not a version now matches none: the save is refused as a conflict and nothing is stored."""
    before = cell_state("II.1.5", "2019", "xa_tong")
    response = clerk.post(f"{C}/tables/II.1.5/cells/2019/xa_tong", data={"value": "40", "version": version})
    assert response.status_code == 409
    assert "giá trị của bạn chưa được lưu" in response.get_data(as_text=True)
    assert cell_state("II.1.5", "2019", "xa_tong") == before


# --- (a) on PostgreSQL: a NUL character ---------------------------------------------------------
# st.text() draws "\x00", which SQLite stores; PostgreSQL refuses NUL in text columns.

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def pg_app():
    """The demo on a scratch PostgreSQL database (skipped without a server, except under CI)."""
    psycopg = pytest.importorskip("psycopg")
    from flask_migrate import upgrade

    from conftest import DEMO_TODAY
    from webapp import create_app
    from webapp.demo import load_demo
    from webapp.extensions import db

    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    name = f"phuluc_props_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"{base}/{name}", "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "test"})
    try:
        with app.app_context():
            upgrade()
            assert load_demo(db.session, DEMO_TODAY)
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


NUL_REQUESTS = {
    "note": ("ln-02", f"{C}/tables/III/cells/2019/ghi_chu", {"value": "a\x00b"}, {}),
    "list row": ("ln-02", f"{C}/tables/I/rows", {"new:the_loai": "Khác", "new:so_hieu": "1\x00", "new:trich_yeu": "x",
                                                   "new:ngay_ban_hanh": "12/06/2019", "new:co_quan": "y"},
                 {"HX-Request": "true"}),
    "sign-in": (None, "/login", {"username": "ln-02\x00", "password": "x"}, {}),
}


@pytest.mark.postgres
@pytest.mark.parametrize("what", NUL_REQUESTS)
def test_a_nul_character_on_postgresql(pg_app, what):
    """Regression: PostgreSQL refuses NUL in text, so a NUL in a note, a list row or a username was
    a 500 (psycopg DataError). Such a request is now refused whole (400) and records nothing."""
    from conftest import login

    user, path, data, headers = NUL_REQUESTS[what]
    client = login(pg_app.test_client(), user) if user else pg_app.test_client()
    with pg_app.app_context():
        from webapp.extensions import db
        events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        rows_before = db.session.scalar(select(func.count()).select_from(ListRow))
        notes_before = db.session.scalar(select(func.count()).select_from(CellValue).where(CellValue.text.is_not(None)))
        db.session.remove()
    response = client.post(path, data=data, headers=headers)
    assert response.status_code == 400
    assert "ký tự không hợp lệ" in response.get_data(as_text=True)
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events_before
        assert db.session.scalar(select(func.count()).select_from(ListRow)) == rows_before
        assert db.session.scalar(select(func.count()).select_from(CellValue)
                                 .where(CellValue.text.is_not(None))) == notes_before
        db.session.remove()


# --- (b) Excel: arbitrary values in the template, then imported ---------------------------------

def cell_value_strategy():
    """Anything a cell of a workbook may hold (text stripped of the characters XML cannot carry)."""
    text = st.one_of(st.sampled_from(NASTY), st.text(), RAW_TEXT).map(lambda s: ILLEGAL_CHARACTERS_RE.sub("", s))
    return st.one_of(
        st.none(),
        st.integers(min_value=0, max_value=2000),  # plausible counts, so that some imports go through
        st.sampled_from(["Có", "Không", "Nghị quyết", "Kế hoạch", "12/06/2019", "Ghi chú"]),
        st.integers(),
        st.floats(),
        st.decimals(allow_nan=False, allow_infinity=False, places=3),
        text,
        st.booleans(),
        st.dates(),
        st.datetimes(),
        st.times(),
    )


def rule_sides() -> tuple[set[str], set[str]]:
    """The columns on the left ("of which") and on the right ("total") of the hard rules."""
    from webapp.domain.outline import shipped_outline

    rules = [r for t in shipped_outline("kl49").tables for b in t.blocks for r in b.rules if r.level == "error"]
    return {r.left for r in rules}, {r.right for r in rules}


OF_WHICH, TOTALS = rule_sides()


def plausible(kind: str, key: str | None = None):
    """A value a clerk would put in a cell of this kind, valid whatever else the row holds (an
    "of which" stays small, a total large), so that imports go through unless something odd is added."""
    low, high = (0, 10) if key in OF_WHICH else (5000, 9000) if key in TOTALS else (0, 60)
    return {
        "count": st.one_of(st.integers(min_value=low, max_value=high),
                           st.integers(min_value=low, max_value=high).map(float)),
        "yesno": st.sampled_from(["Có", "Không", "có", "x", True, False, 1, 0]),
        "text": st.sampled_from(["Ghi chú", "=1+1 không phải công thức", "  có khoảng trắng  "]),
        "choice": st.sampled_from(["Nghị quyết", "Kế hoạch", "kế hoạch", "Khác"]),
        "date": st.one_of(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)),
                          st.sampled_from(["12/06/2019", "2020-04-20"])),
    }.get(kind, st.none())


def template_cells(wb, years) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str, str]]]:
    """(sheet, address, column type, column key) of the unlocked input cells, and of the locked body cells
    (fixed, derived, other units' cells, the list's serial numbers)."""
    from webapp.domain.outline import shipped_outline

    unlocked, locked = [], []
    for table in shipped_outline("kl49").tables:
        ws = wb[table.sheet]
        layout = build_layout(table, years, list_rows=20) if table.is_list else build_layout(table, years)
        for cell in layout.cells:
            target = (unlocked if not ws[cell.address].protection.locked else locked)
            target.append((table.sheet, cell.address, cell.column.type, cell.column.key))
    return unlocked, locked


def stored_part():
    """Everything of ln-02 an import could change (values, list rows) and the audit count."""
    with in_app() as session:
        campaign, unit = part_objects(session)
        values = session.execute(select(CellValue.table_code, CellValue.row_key, CellValue.col_key, CellValue.num,
                                        CellValue.text, CellValue.version)
                                 .where(CellValue.unit_id == unit.id).order_by(CellValue.id)).all()
        rows = session.execute(select(ListRow.id, ListRow.data, ListRow.version)
                               .where(ListRow.unit_id == unit.id).order_by(ListRow.id)).all()
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    return values, rows, events


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date:UserWarning")  # openpyxl on odd serials
def test_any_value_in_the_excel_template(app):
    from webapp.exchange import ImportRefused, import_unit_template, write_unit_template

    with in_app() as session:
        campaign, unit = part_objects(session)
        years = campaign.years
        out = io.BytesIO()
        write_unit_template(session, campaign, unit, out)
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))  # one workbook, each example's edits undone
    unlocked, locked = template_cells(wb, years)
    assert len(unlocked) > 200 and locked
    outcomes = {"accepted": 0, "refused": 0}
    values = cell_value_strategy()

    def edit(cells, anything=False):  # a cell and a value: one a clerk would type, or anything at all
        return st.sampled_from(cells).flatmap(
            lambda cell: st.tuples(st.just(cell), values if anything else plausible(cell[2], cell[3])))

    grid = [cell for cell in unlocked if cell[0] != "I"]  # table I is filled a whole row at a time

    full_row = st.one_of(st.none(), st.tuples(st.integers(0, 19), st.fixed_dictionaries(
        {k: st.one_of(plausible(t), values) for k, t in zip(LIST_COLUMNS, LIST_TYPES)})))
    # (edits a clerk would make, odd values, values in locked cells, a whole document in table I)
    single = edit(grid, anything=True).map(lambda e: ([], [e], [], None))  # one odd value, nothing else
    mixed = st.tuples(st.lists(edit(grid), max_size=8),
                      st.one_of(st.just([]), st.lists(edit(unlocked, anything=True), max_size=2)),
                      st.one_of(st.just([]), st.lists(edit(locked, anything=True), max_size=1)),
                      full_row)

    @settings(max_examples=70, deadline=None, suppress_health_check=HEALTH)
    @given(case=st.one_of(single, mixed))
    def imported(case):
        edits, odd, stray, full_row = case
        # (cell, value, typed as text): a clerk's text is text even when it starts with "=";
        # an odd string starting with "=" is written as a formula
        changes = [(cell, value, True) for cell, value in edits] + [(cell, value, False) for cell, value in odd + stray]
        if full_row:  # a whole document in one row of table I's list
            index, row = full_row
            changes += [(("I", f"{'BCDEF'[i]}{6 + index}", None, key), row[key], False)
                        for i, key in enumerate(LIST_COLUMNS)]
        saved = {}
        try:
            for (sheet, address, _, _), value, as_text in changes:
                cell = wb[sheet][address]
                saved.setdefault((sheet, address), (cell.value, cell.data_type))
                cell.value = value
                if as_text and isinstance(value, str):
                    cell.data_type = "s"
            buffer = io.BytesIO()
            wb.save(buffer)
        finally:  # the template as it was, for the next example
            for (sheet, address), (value, data_type) in saved.items():
                wb[sheet][address].value = value
                wb[sheet][address].data_type = data_type
        before = stored_part()
        with in_app() as session:
            campaign, unit = part_objects(session)
            clerk = session.scalar(select(User).where(User.username == UNIT))
            try:
                import_unit_template(session, campaign, unit, clerk, io.BytesIO(buffer.getvalue()), via="upload")
            except ImportRefused as refused:
                assert refused.errors and all(isinstance(e, str) and e for e in refused.errors)
                outcome = "refused"
            else:
                outcome = "accepted"
        outcomes[outcome] += 1
        event(outcome)
        if outcome == "refused":
            assert stored_part() == before
        assert_part_is_valid()

    imported()
    assert outcomes["accepted"] and outcomes["refused"], outcomes
