"""Fixtures: a fresh database for every test, copied from one migrated (and one demo-loaded) file;
the browser (Debian's Chromium through Playwright) and a live server for the browser tests."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import threading
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


# --- the browser ----------------------------------------------------------------------------------
# Every browser test gets Chromium from the `browser` fixture: the one place that decides whether the
# browser tests can run. Without /usr/bin/chromium they are skipped, except under CI (CI=true),
# where .ci/run installs it and a missing browser is a failure, as for the PostgreSQL tests.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> None:
    """Skip the calling test without Debian's Chromium (or Playwright); fail it under CI."""
    missing = None
    if not os.path.exists(CHROMIUM):
        missing = f"needs Debian's chromium at {CHROMIUM} (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "needs Playwright for Python (pip install -e '.[dev]')"
    if missing and under_ci():
        pytest.fail(f"{missing}: required under CI", pytrace=False)
    if missing:
        pytest.skip(missing)


@pytest.fixture
def browser():
    """Headless Chromium (Playwright), closed after the test; skipped or failed by require_chromium."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def live_server(demo_db, tmp_path):
    """The app on a copy of the demo database, served over HTTP in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    path = tmp_path / "live.sqlite"
    shutil.copy(demo_db, path)
    app = _make_app(path, WTF_CSRF_ENABLED=True)  # as in production: htmx must send the token
    CURRENT["app"] = app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def signed_in(browser, base: str, username: str, width: int = 1366, height: int = 900):
    """A new page of ``browser`` signed in as ``username`` (password demo123), on the home page."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "demo123")
    page.click("input[type=submit]")
    page.wait_for_url(base + "/")
    page.base = base
    return page


def retype(page, selector: str, text: str, key: str = "Tab"):
    """What a clerk does to change a cell: click it, select what is there, type, leave with ``key``."""
    page.click(selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press(key)


# --- PostgreSQL: a scratch database per module (TEST_POSTGRES_URL names the server) ---------------

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def scratch_pg_database():
    """Create a fresh PostgreSQL database; returns (SQLAlchemy URL, drop()). Skips without a server,
    except under CI, where PostgreSQL is required."""
    import uuid

    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if under_ci():
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    name = f"phuluc_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)

    def drop():
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()
    return f"{base}/{name}", drop


@pytest.fixture(scope="module")
def pg_url():
    """A fresh, empty PostgreSQL database for the module, dropped after it."""
    url, drop = scratch_pg_database()
    yield url
    drop()


# --- writes as the page sends them: with the versions it was drawn with ---------------------------

_TABLE_URL = re.compile(r"^(/campaigns/[^/]+/tables/[^/?]+)(?:/(cells/([^/]+)/([^/?]+)|rows/(\d+)(?:/delete)?))?")
_SHOWN = re.compile(r'name="(v:[^"]+)" value="(\d+)"')


def shown_versions(client, table_url: str, query_string=None) -> dict[str, str]:
    """The versions a table page shows (``v:2019:xa_tong``, ``v:row:7`` → "3")."""
    return dict(_SHOWN.findall(client.get(table_url, query_string=query_string).get_data(as_text=True)))


def post_as_page(client, url: str, data: dict | None = None, **kwargs):
    """POST a change the way the table page sends it: with the version it showed for each cell or
    document changed (a change without its version is refused as a conflict). Versions already in
    ``data`` are kept; a cell the page does not show is sent with version 0 (never stored)."""
    data = dict(data or {})
    match = _TABLE_URL.match(url)
    if match:
        needed = []  # the version fields this change needs
        if match.group(3):  # one cell: entry.save_cell
            needed.append(("version", f"v:{match.group(3)}:{match.group(4)}"))
        if match.group(5):  # one document: edit or delete
            needed.append((f"v:row:{match.group(5)}",) * 2)
        for name in data:
            parts = name.split(":")
            if parts[0] == "cell" and len(parts) == 3:
                needed.append((f"v:{parts[1]}:{parts[2]}",) * 2)
            elif parts[0] == "row" and len(parts) == 3:
                needed.append((f"v:row:{parts[1]}",) * 2)
        missing = [(field, shown_as) for field, shown_as in needed if field not in data]
        if missing:
            # sua=1: the compiler's page of a unit shows its inputs (and versions) only on purpose
            shown = shown_versions(client, match.group(1), {**(kwargs.get("query_string") or {}), "sua": "1"})
            for field, shown_as in missing:
                data[field] = shown.get(shown_as, "0")
    return client.post(url, data=data, **kwargs)


def load_demo_into(url: str) -> None:
    """Migrate the database at ``url`` to head and load the demo (as `flask demo` does)."""
    from webapp.demo import load_demo

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
        assert load_demo(db.session, DEMO_TODAY)
        db.session.remove()
        db.engine.dispose()  # a template database must have no open connection


@pytest.fixture(scope="session")
def pg_demo_template():
    """A PostgreSQL database with the demo loaded, made once: tests take copies (pg_demo_copy)."""
    url, drop = scratch_pg_database()
    load_demo_into(url)
    yield url
    drop()


@contextmanager
def pg_demo_copy(template_url: str):
    """A fresh copy of the demo database (CREATE DATABASE … TEMPLATE: a fraction of the demo's
    load time), dropped afterwards; yields its URL."""
    import psycopg

    template = template_url.rsplit("/", 1)[1]
    name = f"phuluc_copy_{__import__('uuid').uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield template_url.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def pg_app(pg_demo_template):
    """The app on a copy of the PostgreSQL demo database, for the module."""
    with pg_demo_copy(pg_demo_template) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                          "SECRET_KEY": "test"})
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_app_on_both(request, demo_db, tmp_path):
    """An app on its own copy of the demo database: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "demo.sqlite"
        shutil.copy(demo_db, path)
        app = _make_app(path)
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        return
    with pg_demo_copy(request.getfixturevalue("pg_demo_template")) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


class Clock:
    """The sign-in throttle's clock (``throttle.now``), set and moved by the test."""

    def __init__(self, monkeypatch, at):
        from webapp.auth import throttle

        self.at = at
        monkeypatch.setattr(throttle, "now", lambda: self.at)

    def advance(self, **kw):
        self.at += dt.timedelta(**kw)
