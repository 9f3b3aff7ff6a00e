"""The one-cell save (entry.save_cell): what the page's script sends when the clerk leaves a cell.

POST /campaigns/<code>/tables/<table>/cells/<row>/<col> with ``value`` and ``version``; the answer is
the saved cell's <td> and those of its row that the save changed, or why nothing was stored.
"""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import event, func, select

from conftest import in_app, login, post_as_page, shown_versions, stored, unit_id
from webapp.entry.service import default_assignments
from webapp.extensions import db
from webapp.models import AuditEvent, Campaign, CampaignUnit, CellValue, Unit

C = "/campaigns/kl49-2024"


def save(client, table, row, col, value, version=None, **query):
    """One cell as the page's script saves it: with the version the page shows unless ``version``."""
    data = {"value": value} if version is None else {"value": value, "version": str(version)}
    return post_as_page(client, f"{C}/tables/{table}/cells/{row}/{col}", data=data, query_string=query)


def tds(html: str) -> list[str]:
    """The ids of the <td>s of an answer, in order."""
    return re.findall(r'<td id="td-([^"]+)"', html)


def cell_events(unit: str, table: str, row: str, col: str) -> list[AuditEvent]:
    with in_app() as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.unit_id == unit_id(unit), AuditEvent.action == "cell", AuditEvent.table_code == table,
            AuditEvent.row_key == row, AuditEvent.col_key == col).order_by(AuditEvent.id)).all()
        session.expunge_all()
        return events


def count(model) -> int:
    with in_app() as session:
        return session.scalar(select(func.count()).select_from(model))


def all_events() -> int:
    return count(AuditEvent)


# --- 200 ------------------------------------------------------------------------------------------

def test_a_save_stores_the_value_and_answers_the_cell_and_the_rate_it_changed(clerk):
    before = stored("ln-02", "II.1.5", "2019", "xa_tong")
    trained = stored("ln-02", "II.1.5", "2019", "xa_dt").num
    response = save(clerk, "II.1.5", "2019", "xa_tong", "40", version=before.version)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # the saved cell first, then the derived rate; not the unchanged "of which", nor other groups or rows
    assert tds(html) == ["2019-xa_tong", "2019-xa_tyle"] and "<tr" not in html and "<html" not in html
    assert 'value="40"' in html and f'name="v:2019:xa_tong" value="{before.version + 1}"' in html
    assert f'<span class="value">{trained * 100 / 40:.2f}</span>'.replace(".", ",") in html
    after = stored("ln-02", "II.1.5", "2019", "xa_tong")
    assert (after.num, after.version) == (40, before.version + 1)
    (last,) = cell_events("ln-02", "II.1.5", "2019", "xa_tong")[-1:]
    assert (last.via, last.old, last.new, last.table_code) == ("web", str(before.num), "40", "II.1.5")


def test_a_warning_appears_and_goes_on_the_sibling_it_concerns(clerk):
    # II.1.3: "huy_dong <= mu_chu" is a warning: stored, and flagged on both cells
    huy_dong = stored("ln-02", "II.1.3", "2019", "huy_dong").num
    mu_chu = stored("ln-02", "II.1.3", "2019", "mu_chu").num
    assert huy_dong <= mu_chu
    html = save(clerk, "II.1.3", "2019", "huy_dong", str(mu_chu + 5)).get_data(as_text=True)
    assert tds(html) == ["2019-huy_dong", "2019-mu_chu"]
    assert html.count('class="msg warning"') == 2 and html.count("has-warning") == 2
    assert stored("ln-02", "II.1.3", "2019", "huy_dong").num == mu_chu + 5
    html = save(clerk, "II.1.3", "2019", "huy_dong", str(huy_dong)).get_data(as_text=True)
    assert tds(html) == ["2019-huy_dong", "2019-mu_chu"] and "warning" not in html


def test_a_value_that_changes_nothing_answers_the_cell_alone_without_an_event(clerk):
    current = stored("ln-02", "II.1.5", "2019", "xa_tong")
    events = all_events()
    response = save(clerk, "II.1.5", "2019", "xa_tong", str(current.num), version=current.version)
    assert response.status_code == 200 and tds(response.get_data(as_text=True)) == ["2019-xa_tong"]
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").version == current.version and all_events() == events


def test_a_retry_after_a_lost_answer_is_a_success_not_a_conflict(clerk):
    version = stored("ln-02", "II.1.5", "2020", "xa_tong").version
    events = len(cell_events("ln-02", "II.1.5", "2020", "xa_tong"))
    first = save(clerk, "II.1.5", "2020", "xa_tong", "55", version=version)
    assert first.status_code == 200
    # the client never saw the answer and sends the same value with the version it had
    retry = save(clerk, "II.1.5", "2020", "xa_tong", "55", version=version)
    assert retry.status_code == 200
    html = retry.get_data(as_text=True)
    assert tds(html) == ["2020-xa_tong"] and "vừa được người khác sửa" not in html
    assert f'name="v:2020:xa_tong" value="{version + 1}"' in html  # the version now stored
    assert stored("ln-02", "II.1.5", "2020", "xa_tong").version == version + 1
    assert len(cell_events("ln-02", "II.1.5", "2020", "xa_tong")) == events + 1  # the first save's only


def test_a_cell_never_stored_is_saved_with_version_0(clerk):
    assert stored("ln-02", "III", "2019", "ghi_chu") is None
    response = save(clerk, "III", "2019", "ghi_chu", "Ghi chú <b>thử</b>", version=0)
    assert response.status_code == 200 and "Ghi chú &lt;b&gt;thử&lt;/b&gt;" in response.get_data(as_text=True)
    assert stored("ln-02", "III", "2019", "ghi_chu").text == "Ghi chú <b>thử</b>"


# --- 422, 409 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("col, value, message", [
    ("xa_tong", "-3", "Không được là số âm"),
    ("xa_tong", "1", "không được lớn hơn tổng số"),  # a total below its "of which": a rule at level error
    ("xa_dt", "999", "không được lớn hơn tổng số"),
])
def test_a_refused_value_is_not_stored_and_comes_back_with_its_message(clerk, col, value, message):
    before = stored("ln-02", "II.1.5", "2019", col)
    events = all_events()
    response = save(clerk, "II.1.5", "2019", col, value, version=before.version)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert tds(html) == [f"2019-{col}"] and f'value="{value}"' in html and message in html
    assert 'aria-invalid="true"' in html and f'value="{before.version}"' in html
    after = stored("ln-02", "II.1.5", "2019", col)
    assert (after.num, after.version) == (before.num, before.version) and all_events() == events


@pytest.mark.parametrize("sent", ["41", "-3"])  # a typing mistake over a changed cell is a conflict too
def test_a_stale_version_is_a_conflict_showing_the_value_now_stored(app, clerk, sent):
    version = stored("ln-02", "II.1.5", "2019", "xa_tong").version
    other = login(app.test_client(), "ln-02")  # the same unit in another window
    assert save(other, "II.1.5", "2019", "xa_tong", "40", version=version).status_code == 200
    events = len(cell_events("ln-02", "II.1.5", "2019", "xa_tong"))
    response = save(clerk, "II.1.5", "2019", "xa_tong", sent, version=version)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert tds(html) == ["2019-xa_tong"] and 'value="40"' in html
    assert f'name="v:2019:xa_tong" value="{version + 1}"' in html
    assert ("Ô này vừa được người khác sửa thành «40»; giá trị của bạn chưa được lưu. "
            f"Xem lại rồi nhập lại nếu vẫn muốn thay. (Bạn đã nhập: «{sent}».)") in html
    after = stored("ln-02", "II.1.5", "2019", "xa_tong")
    assert (after.num, after.version) == (40, version + 1)
    assert len(cell_events("ln-02", "II.1.5", "2019", "xa_tong")) == events


@pytest.mark.parametrize("version", ["x", "²", "-1", "1" * 10])
def test_a_version_that_is_not_one_is_a_conflict(clerk, version):
    before = stored("ln-02", "II.1.5", "2019", "xa_tong")
    response = save(clerk, "II.1.5", "2019", "xa_tong", str(before.num + 1), version=version)
    assert response.status_code == 409 and stored("ln-02", "II.1.5", "2019", "xa_tong").num == before.num


@pytest.mark.parametrize("version", ["", "x", "-1", "²"])
def test_without_a_version_nothing_is_stored_unchecked(clerk, version):
    before = stored("ln-02", "II.1.5", "2019", "xa_tong")
    response = save(clerk, "II.1.5", "2019", "xa_tong", str(before.num + 1), version=version)
    assert response.status_code == 409
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == before.num


# --- 423, 403, 404 ----------------------------------------------------------------------------------

@pytest.mark.parametrize("user, query, reason", [
    ("ln-01", {}, "Đơn vị đã nộp báo cáo, đang chờ duyệt: không sửa được."),  # submitted
    ("ln-03", {}, "Phần của đơn vị đã được duyệt: không sửa được nữa."),  # accepted
    ("ln-btg", {"unit": "ln-03"}, "Phần này đã được duyệt: mở lại (Mở lại để sửa) trước khi sửa số liệu."),
])
def test_a_locked_part_answers_423_with_the_reason_as_text(app, user, query, reason):
    client = login(app.test_client(), user)
    unit = query.get("unit", user)
    before, events, revision = stored(unit, "II.1.5", "2019", "xa_tong"), all_events(), part_revision(unit)
    response = save(client, "II.1.5", "2019", "xa_tong", str(before.num + 1), version=before.version, **query)
    assert response.status_code == 423 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith(reason)
    assert stored(unit, "II.1.5", "2019", "xa_tong").num == before.num and all_events() == events
    assert part_revision(unit) == revision  # the lock was let go: the part's count of writes did not move


def part_revision(unit: str) -> int:
    with in_app() as session:
        return session.scalar(select(CampaignUnit.revision).where(CampaignUnit.unit_id == unit_id(unit)))


def test_the_compiler_corrects_a_submitted_part_with_the_unit_named(compiler):
    response = save(compiler, "II.1.5", "2019", "xa_tong", "300", unit="ln-01")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"{C}/tables/II.1.5/cells/2019/xa_tong?unit=ln-01" in html  # the cell's next save names it too
    assert stored("ln-01", "II.1.5", "2019", "xa_tong").num == 300
    (last,) = cell_events("ln-01", "II.1.5", "2019", "xa_tong")[-1:]
    assert (last.via, last.new, last.user_id is not None) == ("compiler", "300", True)
    assert save(compiler, "II.1.5", "2019", "xa_tong", "301").status_code == 404  # which unit?
    assert save(compiler, "II.1.5", "2019", "xa_tong", "301", unit="nowhere").status_code == 404


@pytest.mark.parametrize("table, row, col, query", [
    ("II.1.5", "2019", "xa_tong", {"unit": "ln-03"}),  # another unit's part
    ("II.1.5", "2019", "xa_tyle", {}),  # a derived rate
    ("II.1.1", "2019", "xa_tong", {}),  # the fixed "Tổng số xã"
    ("II.1.5", "2019", "huyen_tong", {}),  # the district's group
    ("II.1.8", "2019", "cn_tong", {}),  # a table the unit is not asked for
])
def test_a_clerk_writes_only_the_units_own_input_cells(clerk, table, row, col, query):
    cells = count(CellValue)
    owner = query.get("unit", "ln-02")
    before, events = stored(owner, table, row, col), all_events()
    assert save(clerk, table, row, col, "1", **query).status_code == 403
    after = stored(owner, table, row, col)
    assert (after.num, after.version) == (before.num, before.version) if before else after is None
    assert all_events() == events and count(CellValue) == cells


def test_administrators_do_not_enter_figures(admin):
    assert save(admin, "II.1.5", "2019", "xa_tong", "1", unit="ln-02").status_code == 403


@pytest.mark.parametrize("path", [
    f"{C}/tables/II.1.5/cells/2030/xa_tong",  # a year outside the campaign
    f"{C}/tables/II.1.5/cells/2019/nothing",
    f"{C}/tables/II.9/cells/2019/xa_tong",
    f"{C}/tables/I/cells/1/so_hieu",  # a list table is saved by rows
    "/campaigns/nothing/tables/II.1.5/cells/2019/xa_tong",
])
def test_unknown_cells_are_not_found(clerk, path):
    assert clerk.post(path, data={"value": "1"}).status_code == 404


def test_a_get_is_not_allowed_and_a_post_without_a_value_clears_nothing(clerk):
    assert clerk.get(f"{C}/tables/II.1.5/cells/2019/xa_tong").status_code == 405
    before = stored("ln-02", "II.1.5", "2019", "xa_tong").num
    assert clerk.post(f"{C}/tables/II.1.5/cells/2019/xa_tong", data={"version": "1"}).status_code == 400
    assert stored("ln-02", "II.1.5", "2019", "xa_tong").num == before is not None


# --- the work of one save ---------------------------------------------------------------------------

def statements_of(app, send) -> tuple[list[str], float]:
    """The SQL statements run while ``send()`` answers, and its time in seconds."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
    try:
        start = time.perf_counter()
        response = send()
        elapsed = time.perf_counter() - start
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.get_data(as_text=True)
    return statements, elapsed


def add_units(n: int) -> None:
    """``n`` more communes in the campaign, each with its assignments, as a large district has."""
    with in_app() as session:
        campaign = session.scalar(select(Campaign))
        units = [Unit(code=f"extra-{i}", name=f"Xã thêm {i}", kind="xa", sort_order=1000 + i) for i in range(n)]
        session.add_all(units)
        session.flush()
        session.add_all(CampaignUnit(campaign_id=campaign.id, unit_id=u.id) for u in units)
        session.add_all(default_assignments(campaign, units))
        session.commit()


def test_one_save_reads_one_row_and_does_not_grow_with_the_units(app, clerk, compiler):
    def one_save(client, value, **query):
        version = stored(query.get("unit", "ln-02"), "II.1.5", "2019", "xa_tong").version  # read before counting
        return lambda: save(client, "II.1.5", "2019", "xa_tong", value, version=version, **query)

    # what a save reads: the user with their unit; the lock (an update of the part named by the
    # campaign's and the unit's codes, returning its state and the unit's groups of this table,
    # which also says the unit is in the campaign); the campaign's state and deadlines under the
    # lock with the row's values (and the unit, for a compiler who names it); and writes the value
    # and the audit event: 5 statements for a clerk and for a compiler (15 and 14 before issue 16,
    # then 8 and 9). The outline is read once per process (a stored version never changes): warm it first.
    statements_of(app, one_save(clerk, "40"))
    small, small_time = statements_of(app, one_save(clerk, "41"))
    assert len(small) == 5, "\n".join(small)
    assert not [s for s in small if "FROM outline" in s or "FROM user " in s.replace("\n", " ")
                or "FROM return_note" in s or "FROM campaign_deadline" in s], "\n".join(small)  # no lazy loads
    assert not any("FROM campaign_unit JOIN unit" in s or "FROM unit, campaign_unit" in s for s in small)
    values_read = [s for s in small if s.lstrip().startswith("SELECT") and "cell_value" in s]
    assert len(values_read) == 1 and "cell_value.row_key = " in values_read[0]  # the row, never the table
    compiler_small, _ = statements_of(app, one_save(compiler, "301", unit="ln-01"))
    assert len(compiler_small) == 5, "\n".join(compiler_small)
    add_units(500)
    large, large_time = statements_of(app, one_save(clerk, "42"))
    compiler_large, _ = statements_of(app, one_save(compiler, "302", unit="ln-01"))
    assert (len(large), len(compiler_large)) == (len(small), len(compiler_small))
    times = []
    for i in range(20):
        times.append(statements_of(app, one_save(clerk, str(50 + i)))[1])
    print(f"\none save: {len(small)} statements (clerk), {len(compiler_small)} (compiler); "
          f"{small_time * 1000:.1f} ms with the demo's units, {large_time * 1000:.1f} ms with 500 more, "
          f"median of 20 with 500 more: {sorted(times)[10] * 1000:.1f} ms")


def test_a_save_takes_as_few_statements_on_postgresql_as_on_sqlite(demo_app_on_both):
    """The same count on both databases: 5 for a clerk and for a compiler, the outline once read."""
    app = demo_app_on_both
    app.config["WTF_CSRF_ENABLED"] = False  # the clients post as the tests' other apps do
    clerk, compiler = login(app.test_client(), "ln-02"), login(app.test_client(), "ln-btg")
    table = f"{C}/tables/II.1.5"

    def one_save(client, value, **query):
        version = shown_versions(client, table, {**query, "sua": "1"})["v:2019:xa_tong"]  # read before counting
        return lambda: client.post(f"{table}/cells/2019/xa_tong", data={"value": value, "version": version},
                                   query_string=query)

    statements_of(app, one_save(clerk, "40"))  # the outline, read once per process
    for client, value, query, expected in ((clerk, "41", {}, 5), (compiler, "301", {"unit": "ln-01"}, 5)):
        statements, _ = statements_of(app, one_save(client, value, **query))
        assert len(statements) == expected, "\n".join(statements)
        assert not [s for s in statements if "FROM outline" in s or "return_note" in s or "FROM campaign_deadline" in s]
