"""The compiler's pages do not grow with the units: the appendix page is the same size for 20 units
or 200; the dashboard and the breakdown by unit are paged, filtered and sorted, their filters kept in
every link; the counts cover every unit."""

from __future__ import annotations

import random
import re
from contextlib import ExitStack

import pytest
from sqlalchemy import select

from conftest import _make_app, database_copy
from test_bench import load_bench
from webapp.extensions import db
from webapp.models import Campaign, CampaignUnit, Unit
from webapp.review.listing import PER_PAGE, UnitQuery, dashboard_page
from webapp.review.service import completeness

BENCH = load_bench()
BASE = f"/campaigns/{BENCH.CAMPAIGN_CODE}"


@pytest.fixture(scope="module")
def bench_apps(migrated_db, tmp_path_factory):
    """Apps on two bench campaigns (every cell filled, notes, 1-3 documents per unit): 20 and 200 units."""
    apps = {}
    with ExitStack() as copies:  # on SQLite or PostgreSQL (TEST_DATABASE), as the other fixtures
        for n in (20, 200):
            url = copies.enter_context(database_copy(migrated_db, tmp_path_factory.mktemp("bench"), f"bench{n}"))
            app = _make_app(url)
            with app.app_context():
                BENCH.build_campaign(db.session, n, random.Random(49))
            apps[n] = app
        yield apps
        for app in apps.values():
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def compiler_of(app):
    client = app.test_client()
    response = client.post("/login", data={"username": BENCH.COMPILER_LOGIN, "password": BENCH.COMPILER_PASSWORD})
    assert response.status_code == 302
    return client


def rows_of(html: str) -> list[str]:
    """The unit names of the dashboard's matrix (its row headers that link to a unit's page)."""
    return re.findall(r'<th scope="row" class="rowhead"><a href="[^"]*/units/[^"]*">([^<]*)</a>', html)


def test_the_appendix_page_is_the_same_size_for_20_and_200_units(bench_apps):
    small = compiler_of(bench_apps[20]).get(f"{BASE}/appendix").data
    large = compiler_of(bench_apps[200]).get(f"{BASE}/appendix").data
    assert abs(len(large) - len(small)) < 0.05 * len(small), (len(small), len(large))
    html = large.decode()
    assert "Xem tất cả" in html and "ghi chú khác" in html  # the rest is a link away


def test_a_lists_drill_down_pages_every_row(bench_apps):
    client = compiler_of(bench_apps[200])
    first = client.get(f"{BASE}/appendix/I/cell").get_data(as_text=True)
    total = int(re.search(r"của (\d+)", first).group(1))
    assert total > PER_PAGE
    last_page = -(-total // PER_PAGE)
    last = client.get(f"{BASE}/appendix/I/cell?page={last_page}").get_data(as_text=True)
    assert f'<td class="serial">{total}</td>' in last and f'<td class="serial">{total + 1}</td>' not in last


def test_the_dashboard_is_paged_with_counts_over_every_unit(bench_apps):
    client = compiler_of(bench_apps[200])
    html = client.get(f"{BASE}/dashboard").get_data(as_text=True)
    assert len(rows_of(html)) == PER_PAGE
    assert '<strong>200</strong><span>đơn vị báo cáo</span>' in html
    assert "Đơn vị 1–50 của 200" in html
    page4 = client.get(f"{BASE}/dashboard?page=4").get_data(as_text=True)
    assert len(rows_of(page4)) == 50 and "Đơn vị 151–200 của 200" in page4
    assert set(rows_of(page4)).isdisjoint(rows_of(html))
    with bench_apps[200].app_context():  # the counts are those of completeness over every unit
        campaign = db.session.scalar(select(Campaign))
        every = completeness(db.session, campaign)
        page = dashboard_page(db.session, campaign, UnitQuery())
        assert page.all_units == len(every.units) == 200
        assert page.not_started == len(every.not_started)
        assert page.done == sum(u.state == "done" for u in every.units)
        for status in ("todo", "part", "returned", "submitted", "accepted"):
            assert page.counts.get(status, 0) == every.count(status), status
        for table in campaign.outline.tables:
            assert page.table_counts.get(table.code, (0, 0, 0)) == every.table_counts(table.code), table.code


def test_the_dashboard_filters_by_status_parent_and_name_and_keeps_them_in_links(bench_apps):
    app = bench_apps[200]
    with app.app_context():  # two units submitted, one accepted
        campaign = db.session.scalar(select(Campaign))
        ids = [u.id for u in campaign.units[:3]]
        for unit_id, status in zip(ids, ("submitted", "submitted", "accepted")):
            db.session.get(CampaignUnit, (campaign.id, unit_id)).status = status
        names = [u.name for u in campaign.units[:3]]
        db.session.commit()
    client = compiler_of(app)
    html = client.get(f"{BASE}/dashboard?status=submitted&sort=name&order=desc").get_data(as_text=True)
    assert sorted(rows_of(html), reverse=True) == rows_of(html) == sorted(names[:2], reverse=True)
    assert "2 đơn vị" in html
    # the sort links keep the filter; the filter form keeps the sort
    assert "status=submitted" in re.search(r'<a href="([^"]*)" class="sort[^"]*">Tiến độ', html).group(1)
    assert '<input type="hidden" name="sort" value="name">' in html
    not_done = client.get(f"{BASE}/dashboard?status=not_done").get_data(as_text=True)
    assert "Đơn vị 1–50 của 197" in not_done
    assert "page=2" in not_done and "status=not_done" in re.search(r'<a href="([^"]*)" rel="next"', not_done).group(1)
    by_name = client.get(f"{BASE}/dashboard", query_string={"name": names[2].split(" ", 1)[1]}).get_data(as_text=True)
    assert names[2] in rows_of(by_name)
    assert client.get(f"{BASE}/dashboard?parent=bench-tinh").get_data(as_text=True).count("của 200") == 1
    assert rows_of(client.get(f"{BASE}/dashboard?parent=nowhere").get_data(as_text=True)) == []


def test_the_csv_of_units_not_done_lists_every_one(bench_apps):
    client = compiler_of(bench_apps[200])
    text = client.get(f"{BASE}/dashboard/chua-xong.csv").get_data(as_text=True)
    with bench_apps[200].app_context():
        campaign = db.session.scalar(select(Campaign))
        expected = len(completeness(db.session, campaign).not_done)
    assert len(text.strip().splitlines()) == expected + 1 and expected > 2 * 50


def test_the_breakdown_is_paged_sorted_in_sql_and_keeps_its_filters(bench_apps):
    client = compiler_of(bench_apps[200])
    url = f"{BASE}/breakdown/II.1.5?row=2021&sort=xa_dt&order=desc"
    html = client.get(url).get_data(as_text=True)
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    assert body.count('<td class="serial">') == PER_PAGE
    shown = [int(v.replace(".", "")) for v in re.findall(r'<td class="t-count">([\d.]+)</td>', body)]
    # the trained column (xa_dt) of every row, in descending order across the page
    trained = shown[1::2]
    assert trained == sorted(trained, reverse=True)
    page2 = client.get(url + "&page=2&name=X").get_data(as_text=True)
    assert '<td class="serial">51</td>' in page2
    period_link = re.search(r'<a href="([^"]*row=2022[^"]*)"', page2).group(1)
    assert "name=X" in period_link and "sort=xa_dt" in period_link
    sort_link = re.search(r'<a href="([^"]*sort=unit[^"]*)"', page2).group(1)
    assert "name=X" in sort_link


def test_the_pages_preview_is_the_start_of_the_whole_assembly(bench_apps):
    """assemble(note_lines, list_rows), what the appendix page reads: the same numbers as the whole
    assembly; of each cell's notes the first ones, in the units' order, and how many more; of each
    list its first rows in the merged order (by date, duplicates once), and how many more."""
    from webapp.domain.assembly import assemble

    with bench_apps[200].app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.code == BENCH.CAMPAIGN_CODE))
        args = (db.session, campaign.id, campaign.outline, campaign.frame)
        whole, preview = assemble(*args), assemble(*args, note_lines=3, list_rows=20)
    assert preview.numbers == whole.numbers and not whole.notes_left and not whole.rows_left
    assert preview.texts.keys() == whole.texts.keys() and preview.notes_left
    for key, text in whole.texts.items():
        lines = text.split("\n")
        assert preview.texts[key] == "\n".join(lines[:3])
        assert preview.notes_left.get(key, 0) == max(0, len(lines) - 3)
    assert preview.lists.keys() == whole.lists.keys() and preview.rows_left
    for code, rows in whole.lists.items():
        assert preview.lists[code] == rows[:20] and preview.rows_left[code] == len(rows) - 20


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_csv_download_dropped_midway_leaves_nothing_behind(bench_apps, monkeypatch):
    """A client that stops reading after the first batch: the stream closed by the garbage collector
    while another app context is current (as in the next request or test) neither raises nor leaves
    an app context pushed."""
    import gc

    from flask import has_app_context

    from webapp.review import routes

    monkeypatch.setattr(routes, "CSV_BATCH", 10)
    client = compiler_of(bench_apps[200])
    response = client.get(f"{BASE}/dashboard/chua-xong.csv", buffered=False)
    chunks = iter(response.response)
    assert next(chunks).decode().startswith("\ufeffMã đơn vị") and next(chunks).count(b"\n") > 0
    with bench_apps[200].app_context():
        del chunks, response
        gc.collect()
    assert not has_app_context()
