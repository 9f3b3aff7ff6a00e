"""Fixtures: a fresh database for every test, copied from one migrated (and one demo-loaded) file."""

from __future__ import annotations

import datetime as dt
import shutil
from contextlib import contextmanager

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from webapp import create_app
from webapp.extensions import db
from webapp.workflow import campaign_today

# The demo is loaded as of today, as `flask demo` does: its deadline is 14 days ahead, entry is open.
DEMO_TODAY = campaign_today()


def _make_app(path, **config):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                       "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test", **config})


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory):
    """An SQLite file with the schema made by the Alembic migrations (never by create_all)."""
    path = tmp_path_factory.mktemp("db") / "migrated.sqlite"
    app = _make_app(path)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def demo_db(migrated_db, tmp_path_factory):
    """The migrated file with the demo district and campaign loaded."""
    from webapp.demo import load_demo

    path = tmp_path_factory.mktemp("db") / "demo.sqlite"
    shutil.copy(migrated_db, path)
    app = _make_app(path)
    with app.app_context():
        assert load_demo(db.session, DEMO_TODAY)
        db.engine.dispose()
    return path


CURRENT: dict = {}


def _app_on_copy(source, tmp_path, **config):
    """An app on a copy of ``source``. No app context stays pushed during the test: each request
    must get its own (as in production), or Flask-Login's cached user would leak between clients."""
    path = tmp_path / "app.sqlite"
    shutil.copy(source, path)
    app = _make_app(path, **config)
    CURRENT["app"] = app
    yield app
    with app.app_context():
        db.engine.dispose()


@contextmanager
def in_app():
    """The current test app's context, for reading or arranging the database in a test."""
    with CURRENT["app"].app_context():
        yield db.session


@pytest.fixture
def empty_app(migrated_db, tmp_path):
    yield from _app_on_copy(migrated_db, tmp_path)


@pytest.fixture
def app(demo_db, tmp_path):
    """The app on a fresh copy of the demo database."""
    yield from _app_on_copy(demo_db, tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username: str, password: str = "demo123"):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.data[:500]
    return client


@pytest.fixture
def clerk(app):
    """A signed-in clerk of Xã Lộc Hòa (ln-02), a commune."""
    return login(app.test_client(), "ln-02")


@pytest.fixture
def district_clerk(app):
    """A signed-in clerk of the district people's committee."""
    return login(app.test_client(), "ln-ubnd")


@pytest.fixture
def compiler(app):
    return login(app.test_client(), "ln-btg")


@pytest.fixture
def admin(app):
    return login(app.test_client(), "admin")


def unit_id(code: str) -> int:
    from webapp.models import Unit

    with in_app() as session:
        return session.scalar(select(Unit.id).where(Unit.code == code))


def stored(unit_code: str, table: str, row: str, col: str):
    """The stored CellValue of a unit's cell, read fresh from the database (or None)."""
    from webapp.models import CellValue

    uid = unit_id(unit_code)
    with in_app() as session:
        return session.scalar(select(CellValue).where(
            CellValue.unit_id == uid, CellValue.table_code == table,
            CellValue.row_key == row, CellValue.col_key == col))


def htmx_headers(trigger_name: str) -> dict[str, str]:
    return {"HX-Request": "true", "HX-Trigger-Name": trigger_name, "HX-Trigger": trigger_name}
