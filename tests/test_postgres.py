"""The same schema, demo and saves on PostgreSQL (a fresh database made and dropped for the run).

The server is named by TEST_POSTGRES_URL (default: postgres on 127.0.0.1:5432, database `test`, used
only to create the scratch database). Without a server the tests are skipped, except under CI.
"""

from __future__ import annotations


import pytest
from sqlalchemy import func, select

from conftest import DEMO_TODAY, login, post_as_page

psycopg = pytest.importorskip("psycopg")

pytestmark = pytest.mark.postgres


def test_migrations_and_demo_on_postgresql(pg_app):
    from webapp.extensions import db
    from webapp.models import CellValue, Unit

    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 22 + 10  # and the demo province's
        assert db.session.scalar(select(func.count()).select_from(CellValue)) > 500
        from webapp.demo import load_demo

        assert not load_demo(db.session, DEMO_TODAY)  # loading the demo again changes nothing


def test_saving_and_refusing_on_postgresql(pg_app):
    from webapp.extensions import db
    from webapp.models import CellValue, Unit

    clerk = login(pg_app.test_client(), "ln-02")
    cell = "/campaigns/kl49-2024/tables/II.1.5/cells/2019/xa_tong"
    assert post_as_page(clerk, cell, data={"value": "45"}).status_code == 200
    assert post_as_page(clerk, cell, data={"value": "-1"}).status_code == 422
    assert clerk.post(cell, data={"value": "46"}).status_code == 409  # without the version it was shown
    with pg_app.app_context():
        unit = db.session.scalar(select(Unit).where(Unit.code == "ln-02"))
        value = db.session.scalar(select(CellValue).where(
            CellValue.unit_id == unit.id, CellValue.table_code == "II.1.5",
            CellValue.row_key == "2019", CellValue.col_key == "xa_tong"))
        assert value.num == 45
