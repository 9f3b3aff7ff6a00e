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

# The database the tests' apps run on: SQLite (a file copied per test) by default; with
# TEST_DATABASE=postgresql the same fixtures (migrated_db, demo_db, mini_db, app, empty_app, live_server…)
# build their databases on the PostgreSQL server of TEST_POSTGRES_URL instead: each session database is a
# template, and every test gets its own copy (CREATE DATABASE … TEMPLATE). `.ci/run` runs the database
# tests a second time this way.
TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite").strip().lower()
if TEST_DATABASE not in ("sqlite", "postgresql"):
    raise RuntimeError(f"TEST_DATABASE must be sqlite or postgresql, not {TEST_DATABASE!r}")
ON_POSTGRES = TEST_DATABASE == "postgresql"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

# a test of the SQLite file itself (copying it, backing it up, its pragmas): not run on PostgreSQL
sqlite_file = pytest.mark.skipif(ON_POSTGRES, reason="a test of the SQLite file itself (TEST_DATABASE=postgresql)")


def database_url(source) -> str:
    """The SQLAlchemy URL of a test database: an SQLite file's path, or already a URL (PostgreSQL)."""
    return source if isinstance(source, str) else f"sqlite:///{source}"


def _make_app(source, **config):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url(source),
                       "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test", **config})


@contextmanager
def database_copy(source, tmp_path, name: str = "app"):
    """A fresh copy of the test database ``source`` for one test; yields its URL. SQLite: the file
    copied into ``tmp_path``; PostgreSQL: a database made from the template ``source``, dropped after."""
    if isinstance(source, str):
        with pg_demo_copy(source) as url:
            yield url
        return
    path = tmp_path / f"{name}.sqlite"
    shutil.copy(source, path)
    yield f"sqlite:///{path}"


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def _session_database(tmp_path_factory, filename: str, template=None):
    """A session database to copy from: an SQLite file (a copy of ``template``'s file when given), or on
    PostgreSQL a scratch database (made from the template ``template`` when given). Yields its source
    (a path or a URL), dropped after the session on PostgreSQL."""
    if not ON_POSTGRES:
        path = tmp_path_factory.mktemp("db") / filename
        if template is not None:
            shutil.copy(template, path)
        yield path
        return
    url, drop = scratch_pg_database(template=template)
    try:
        yield url
    finally:
        drop()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory):
    """A database with the schema made by the Alembic migrations (never by create_all): an SQLite
    file, or a PostgreSQL template database under TEST_DATABASE=postgresql."""
    with _session_database(tmp_path_factory, "migrated.sqlite") as source:
        app = _make_app(source)
        with app.app_context():
            upgrade()
        _dispose(app)
        yield source


@pytest.fixture(scope="session")
def demo_db(migrated_db, tmp_path_factory):
    """The migrated database with the demo district and campaign loaded."""
    from webapp.demo import load_demo

    with _session_database(tmp_path_factory, "demo.sqlite", migrated_db) as source:
        app = _make_app(source)
        with app.app_context():
            assert load_demo(db.session, DEMO_TODAY)
        _dispose(app)
        yield source


CURRENT: dict = {}


def _app_on_copy(source, tmp_path, **config):
    """An app on a copy of ``source``. No app context stays pushed during the test: each request
    must get its own (as in production), or Flask-Login's cached user would leak between clients."""
    with database_copy(source, tmp_path) as url:
        app = _make_app(url, **config)
        CURRENT["app"] = app
        yield app
        _dispose(app)


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

    with database_copy(demo_db, tmp_path, "live") as url:
        app = _make_app(url, WTF_CSRF_ENABLED=True)  # as in production: htmx must send the token
        CURRENT["app"] = app
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}"
        server.shutdown()
        _dispose(app)


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

def scratch_pg_database(template: str | None = None):
    """Create a fresh PostgreSQL database (a copy of the database of URL ``template`` when given);
    returns (SQLAlchemy URL, drop()). Skips without a server, except under CI, where PostgreSQL is
    required."""
    import uuid

    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if under_ci():
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    name = f"phuluc_test_{uuid.uuid4().hex[:10]}"
    copied = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
    admin.execute(f'CREATE DATABASE "{name}"{copied}')
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
def pg_demo_template(request):
    """A PostgreSQL database with the demo loaded, made once: tests take copies (pg_demo_copy).
    Under TEST_DATABASE=postgresql it is demo_db itself."""
    if ON_POSTGRES:
        yield request.getfixturevalue("demo_db")
        return
    url, drop = scratch_pg_database()
    load_demo_into(url)
    yield url
    drop()


@contextmanager
def pg_demo_copy(template_url: str):
    """A fresh copy of the demo database (CREATE DATABASE … TEMPLATE: a fraction of the demo's
    load time), dropped afterwards; yields its URL."""
    template = template_url.rsplit("/", 1)[1]
    name = f"phuluc_copy_{__import__('uuid').uuid4().hex[:10]}"
    admin = _PG_ADMIN.connection()
    admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield template_url.rsplit("/", 1)[0] + "/" + name
    finally:
        _PG_ADMIN.drop_later(name)


class _PgAdmin:
    """One connection to the server's maintenance database for the copies, and a thread that drops the
    copies a test is done with while the next test runs (a DROP DATABASE waits for a checkpoint: most of
    a copy's cost). ``finish()`` (at the end of the session) waits for the last drops."""

    def __init__(self):
        import queue

        self._admin = None
        self._drops: queue.Queue = queue.Queue()
        self._thread = None

    def connection(self):
        import psycopg

        if self._admin is None:
            self._admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
        return self._admin

    def drop_later(self, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._drop_loop, daemon=True)
            self._thread.start()
        self._drops.put(name)

    def _drop_loop(self) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            while (name := self._drops.get()) is not None:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                self._drops.task_done()
            self._drops.task_done()

    def finish(self) -> None:
        if self._thread is not None:
            self._drops.put(None)
            self._thread.join(timeout=300)
            self._thread = None
        if self._admin is not None:
            self._admin.close()
            self._admin = None


_PG_ADMIN = _PgAdmin()


def pytest_sessionfinish(session, exitstatus):
    _PG_ADMIN.finish()


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
        if ON_POSTGRES:
            pytest.skip("the SQLite case runs in the SQLite pass (TEST_DATABASE=postgresql)")
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


# --- a second outline: the "mini" town and its campaign pcgd-2025 ---------------------------------
# tests/outlines/mini.yaml is a small outline of another shape than kl49 (other unit kinds, labels,
# years, table codes and sheet names; a list that is not of documents). It is loaded like any stored
# outline, on a fresh migrated database, with a town, its schools and office, accounts (password
# demo123) and a partly filled campaign: the tests that run for both outlines (test_any_outline.py,
# test_routes_roles.py) prove that nothing is tied to kl49 or its demo.

MINI_OUTLINE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "outlines", "mini.yaml")
MINI_CAMPAIGN = "pcgd-2025"
MINI_TOWN = ("dx", "Thành phố Đồng Xoài", "huyen")
MINI_COMPILER = ("dx-btg", "Ban Tuyên giáo Thành ủy Đồng Xoài", "huyen_uy")
MINI_UNITS = [  # code, name, kind; every one has a clerk account named by its code
    ("dx-th-1", "Trường Tiểu học Tân Phú", "truong_th"),
    ("dx-th-2", "Trường Tiểu học Tân Bình", "truong_th"),
    ("dx-th-3", "Trường Tiểu học Tân Xuân", "truong_th"),
    ("dx-th-4", "Trường Tiểu học Tiến Thành", "truong_th"),
    ("dx-thcs-1", "Trường THCS Tân Phú", "truong_thcs"),
    ("dx-thcs-2", "Trường THCS Tân Đồng", "truong_thcs"),
    ("dx-thcs-3", "Trường THCS Tiến Hưng", "truong_thcs"),
    ("dx-pgd", "Phòng Giáo dục và Đào tạo thành phố Đồng Xoài", "phong_gd"),
]
MINI_UNTOUCHED = "dx-th-4"  # has entered nothing
MINI_SUBMITTED = ("dx-th-1", "dx-thcs-3", "dx-pgd")  # submitted; dx-pgd then accepted
MINI_ACCEPTED = ("dx-pgd",)


def mini_row_values(table, lrow, groups: set[str], rng) -> dict[str, object]:
    """Plausible values for the input cells ``groups`` of one layout row, driven by the outline alone:
    counts respecting every rule of the block, errors and warnings (each "of which" at most its
    whole), yes/no, an occasional note."""
    values: dict[str, object] = {}
    for cell in lrow.cells:
        c = cell.column
        if not c.is_input or table.group_key_of(c.key) not in groups:
            continue
        if c.type == "count":
            values[c.key] = rng.randint(20, 900)
        elif c.type == "yesno":
            values[c.key] = rng.choice(["Có", "Không"])
        elif c.type == "text" and rng.random() < 0.4:
            values[c.key] = rng.choice(["Đề nghị bổ sung thiết bị dạy học", "=Cần sửa chữa mái (không phải công thức)"])
    for _ in range(3):  # a swap only raises a whole: a few passes settle rules that share a column
        for rule in table.blocks[lrow.block].rules:
            left, right = values.get(rule.left), values.get(rule.right)
            if isinstance(left, int) and isinstance(right, int) and not rule.holds(left, right):
                values[rule.left], values[rule.right] = right, left  # "<=" rules: the smaller is the part
    return values


def load_mini(session, today: dt.date):
    """The mini town, its units and accounts, the outline pcgd@1 stored, and the campaign pcgd-2025
    made as a compiler would (create_campaign with the default units), partly filled, with parts
    submitted and accepted through the workflow. Returns the campaign."""
    import random

    from webapp import outline_store, workflow
    from webapp.campaigns import CampaignSpec, create_campaign
    from webapp.entry.service import UnitList, UnitTable
    from webapp.models import ROLE_ADMIN, ROLE_CLERK, ROLE_COMPILER, Unit, User

    with open(MINI_OUTLINE_FILE, encoding="utf-8") as handle:
        outline_row, created = outline_store.store_outline(session, handle.read(), "mini.yaml", via="cli")
    assert created
    town = Unit(code=MINI_TOWN[0], name=MINI_TOWN[1], kind=MINI_TOWN[2], sort_order=0)
    compiler_unit = Unit(code=MINI_COMPILER[0], name=MINI_COMPILER[1], kind=MINI_COMPILER[2], parent=town,
                         sort_order=100)
    units = [Unit(code=code, name=name, kind=kind, parent=town, sort_order=i, phone=f"0271 3880 {i:03d}")
             for i, (code, name, kind) in enumerate(MINI_UNITS, start=1)]
    session.add_all([town, compiler_unit, *units])

    def account(username, role, unit, full_name):
        user = User(username=username, full_name=full_name, role=role, unit=unit)
        user.set_password("demo123")
        session.add(user)
        return user

    clerks = {u.code: account(u.code, ROLE_CLERK, u, f"Cán bộ nhập liệu – {u.name}") for u in units}
    compiler = account(MINI_COMPILER[0], ROLE_COMPILER, compiler_unit, "Cán bộ tổng hợp – Ban Tuyên giáo")
    account("admin", ROLE_ADMIN, compiler_unit, "Quản trị hệ thống")
    session.flush()
    campaign = create_campaign(session, outline_row, CampaignSpec(
        code=MINI_CAMPAIGN, name="Tổng kết công tác phổ cập giáo dục giai đoạn 2021–2025",
        description="Các trường và Phòng Giáo dục và Đào tạo gửi số liệu trước hạn.",
        year_from=2021, year_to=2025, deadline=today + dt.timedelta(days=10), compiler_unit=compiler_unit,
        units=None, prints={"issuer_name": "THÀNH ỦY ĐỒNG XOÀI", "report_place": "Đồng Xoài"}), via="cli")
    assert {u.code for u in campaign.units} == {code for code, _, _ in MINI_UNITS}

    rng = random.Random(2025)
    outline = campaign.outline
    for index, unit in enumerate(units):
        if unit.code == MINI_UNTOUCHED:
            continue
        partial = unit.code == "dx-th-3"  # the first two years only
        for table in outline.tables:
            if table.is_list:
                continue
            part = UnitTable(session, campaign, unit, table)
            if not part.groups:
                continue
            for lrow in part.layout.rows[: 2 if partial else None]:
                for key, raw in mini_row_values(table, lrow, part.groups, rng).items():
                    part.store(lrow.key, key, part.check(lrow.key, key, raw), None, "demo")
        if index % 3 == 0 or unit.kind == "phong_gd":
            table = next(t for t in outline.tables if t.is_list)
            rows = UnitList(session, campaign, unit, table)
            rows.add({"ten_truong": unit.name if unit.kind != "phong_gd" else "Trường Mầm non Tân Phú",
                      "muc_do": "Mức độ 1", "ngay_cong_nhan": f"202{2 + index % 3}-0{1 + index % 8}-15",
                      "so_quyet_dinh": f"{100 + index}/QĐ-UBND"}, None, "demo", commit=False)
    session.commit()
    by_code = {u.code: u for u in units}
    for code in MINI_SUBMITTED:
        workflow.submit(session, campaign, by_code[code], clerks[code], confirm_gaps=True, today=today)
    workflow.accept(session, campaign, [by_code[c] for c in MINI_ACCEPTED], compiler)
    session.commit()
    return campaign


@pytest.fixture(scope="session")
def mini_db(migrated_db, tmp_path_factory):
    """The migrated database with the mini outline, town and campaign pcgd-2025 loaded."""
    with _session_database(tmp_path_factory, "mini.sqlite", migrated_db) as source:
        app = _make_app(source)
        with app.app_context():
            load_mini(db.session, DEMO_TODAY)
        _dispose(app)
        yield source


@pytest.fixture
def mini_app(mini_db, tmp_path):
    """The app on a fresh copy of the mini database."""
    yield from _app_on_copy(mini_db, tmp_path)


class OutlineCase:
    """One outline's campaign for the tests that run for every outline: kl49's demo, the mini town,
    or a seed's campaign of the demo."""

    def __init__(self, name: str, app, campaign: str, compiler: str, admin: str = "admin"):
        self.name, self.app, self.campaign, self.compiler, self.admin = name, app, campaign, compiler, admin

    def __repr__(self) -> str:
        return f"<{self.name} {self.campaign}>"


# the seeds' grid outlines, each with its demo campaign (loaded by `flask demo` besides kl49's)
SEED_GRID_CASES = {"cdht": "cdht-2024", "mhht": "mhht-2020", "muctieu": "muctieu-2025"}
OUTLINE_CASES = ("kl49", "mini", *SEED_GRID_CASES)


# outlines of list tables only (khenthuong: seed 001's nominations, a quota) run the tests of lists and pages
# (the tests of grids have nothing to run for them); the property tests (test_properties.py) stay on kl49
LIST_OUTLINE_CASES = OUTLINE_CASES + ("khenthuong",)


def outline_case(request, name: str) -> OutlineCase:
    """The app of ``name`` (kl49: the demo; mini: the mini town; khenthuong and the seeds' grid outlines:
    their campaigns of the demo) on a fresh copy of its database."""
    if name == "kl49":
        from webapp.demo import CAMPAIGN_CODE

        return OutlineCase("kl49", request.getfixturevalue("app"), CAMPAIGN_CODE, "ln-btg")
    if name == "khenthuong":
        from webapp.demo_khenthuong import CAMPAIGN_CODE

        return OutlineCase("khenthuong", request.getfixturevalue("app"), CAMPAIGN_CODE, "ln-btg")
    if name in SEED_GRID_CASES:
        return OutlineCase(name, request.getfixturevalue("app"), SEED_GRID_CASES[name], "ln-btg")
    return OutlineCase("mini", request.getfixturevalue("mini_app"), MINI_CAMPAIGN, MINI_COMPILER[0])


@pytest.fixture(params=OUTLINE_CASES)
def any_outline(request) -> OutlineCase:
    """Each outline's campaign in turn (kl49's demo, the mini town, then the seeds' grid outlines
    cdht, mhht and muctieu), on a fresh database copy."""
    return outline_case(request, request.param)


@pytest.fixture(params=LIST_OUTLINE_CASES)
def any_list_outline(request) -> OutlineCase:
    """any_outline, and the outlines of list tables only (khenthuong)."""
    return outline_case(request, request.param)


def _detached(model, column, value):
    """The ``model`` row whose ``column`` is ``value``, as stored now (detached), or None."""
    with in_app() as session:
        found = session.scalar(select(model).where(column == value))
        if found is not None:
            session.expunge(found)
        return found


def unit_named(code: str):
    """The Unit ``code`` as stored now (detached), or None."""
    from webapp.models import Unit

    return _detached(Unit, Unit.code, code)


def account_named(username: str):
    """The User ``username`` as stored now (detached), or None."""
    from webapp.models import User

    return _detached(User, User.username, username)


def pytest_collection_modifyitems(config, items):
    """Every test that drives the browser carries the `browser` marker, whether or not its module says
    so: `-m "not browser"` (the PostgreSQL pass of .ci/run) leaves them all out."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
