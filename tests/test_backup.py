"""Backup and restore (`flask --app wsgi backup FILE`), and durability of acknowledged saves.

- A backup taken while another thread keeps saving is a consistent, checked copy holding every value
  saved before it started; restoring it (README procedure) brings the old values back.
- A save answered as stored survives the server process being killed (SIGKILL) at any moment.
- On PostgreSQL the backup is a pg_dump custom archive that pg_restore loads into a new database.
"""

from __future__ import annotations

import html
import http.client
import http.cookiejar
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import ON_POSTGRES, PG_ADMIN_URL, _app_on_copy, _make_app, login, sqlite_file, stored, under_ci
from webapp.domain.outline import load_outline, shipped_outline_files

PROJECT = Path(__file__).resolve().parent.parent
URL = "/campaigns/kl49-2024/tables/{}"


@pytest.fixture(scope="module")
def today_demo_db(migrated_db, tmp_path_factory):
    """The migrated file with the demo loaded today: its deadline is ahead, so entry is open."""
    from webapp.demo import load_demo
    from webapp.extensions import db
    from webapp.templating import local_today

    if ON_POSTGRES:
        pytest.skip("backups of the SQLite file (the PostgreSQL backup has its own tests, marked postgres)")
    path = tmp_path_factory.mktemp("db") / "demo-today.sqlite"
    shutil.copy(migrated_db, path)
    app = _make_app(path)
    with app.app_context():
        assert load_demo(db.session, local_today())
        db.engine.dispose()
    return path


@pytest.fixture
def app(today_demo_db, tmp_path):
    """The app on a fresh copy of the demo loaded today."""
    yield from _app_on_copy(today_demo_db, tmp_path)


def page_versions(page: str) -> dict[str, str]:
    """The version of each cell ("row:col") a page or a save's answer shows in its hidden v: field."""
    return {html.unescape(key): version for key, version in re.findall(r'name="v:([^"]+)" value="([^"]*)"', page)}


def save_cell(client, table, row, col, value):
    """One cell as the page's script saves it (entry.save_cell): the value and the version shown,
    the one the table page showed first, then the one each stored save answers with."""
    versions = client.__dict__.setdefault("cell_versions", {})
    if table not in versions:
        versions[table] = page_versions(client.get(URL.format(table)).get_data(as_text=True))
    response = client.post(URL.format(table) + f"/cells/{row}/{col}",
                           data={"value": value, "version": versions[table].get(f"{row}:{col}", "")})
    if response.status_code == 200:
        versions[table].update(page_versions(response.get_data(as_text=True)))
    return response


def read_cell(path, unit_code, table, row, col):
    """A unit's stored number read straight from an SQLite file (None when there is no row)."""
    conn = sqlite3.connect(path)
    try:
        found = conn.execute(
            "SELECT cv.num FROM cell_value cv JOIN unit u ON u.id = cv.unit_id "
            "WHERE u.code = ? AND cv.table_code = ? AND cv.row_key = ? AND cv.col_key = ?",
            (unit_code, table, row, col)).fetchone()
    finally:
        conn.close()
    return found[0] if found else None


def integrity(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def alembic_version(path) -> str | None:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        conn.close()


def backup(app, *args):
    """`flask --app wsgi backup ARGS` (result.stdout and result.stderr are kept apart)."""
    return app.test_cli_runner().invoke(args=["backup", *map(str, args)])


# --- SQLite: a consistent copy while the app saves ---------------------------------------------

def test_backup_while_another_thread_keeps_saving(app, tmp_path):
    source = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    assert save_cell(login(app.test_client(), "ln-02"), "II.1.5", "2019", "xa_tong", "777").status_code == 200
    acked: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def keep_saving():
        client = login(app.test_client(), "ln-16")  # Lộc Khánh: nothing filled, no rule in the way
        value = 0
        while not stop.is_set():
            value += 1
            response = save_cell(client, "II.1.3", "2020", "tong_md1", str(value))
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.get_data(as_text=True)[:200]}")
                return
            acked.append(value)

    saver = threading.Thread(target=keep_saving)
    saver.start()
    try:
        copies = []
        for n in range(4):
            while len(acked) < 5 * (n + 1) and saver.is_alive():
                time.sleep(0.005)
            before = acked[-1]
            target = tmp_path / f"copy-{n}.sqlite"
            result = backup(app, target)
            assert result.exit_code == 0, result.output
            assert result.stdout == ""  # a message on stderr only
            copies.append((target, before, acked[-1] if acked else 0))
    finally:
        stop.set()
        saver.join()
    assert not failures, failures
    assert len(acked) >= 20
    version = alembic_version(source)
    for target, before, after in copies:
        assert integrity(target) == ["ok"]
        assert alembic_version(target) == version
        assert read_cell(target, "ln-02", "II.1.5", "2019", "xa_tong") == 777
        # every value acknowledged before the backup started is in it; nothing from the future
        assert before <= read_cell(target, "ln-16", "II.1.3", "2020", "tong_md1") <= after + 1
        assert not Path(f"{target}-wal").exists() and not Path(f"{target}-journal").exists()
        # the copy is a plain rollback-journal file: byte 18 of the header is 1 (2 would be WAL)
        assert target.read_bytes()[18] == 1
    assert not list(tmp_path.glob(".*.tmp*"))  # no temporary file left behind


def test_restore_brings_the_backed_up_values_back(app, tmp_path):
    """The README procedure: stop the app, copy the backup over the database file (removing its
    -wal/-shm side files), `flask --app wsgi db upgrade`, start."""
    from webapp.extensions import db

    clerk = login(app.test_client(), "ln-02")
    assert save_cell(clerk, "II.1.5", "2021", "xa_tong", "50").status_code == 200
    copy = tmp_path / "backup.sqlite"
    assert backup(app, copy).exit_code == 0
    assert save_cell(clerk, "II.1.5", "2021", "xa_tong", "60").status_code == 200
    assert stored("ln-02", "II.1.5", "2021", "xa_tong").num == 60

    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    with app.app_context():  # "stop the app"
        db.engine.dispose()
    for side in ("-wal", "-shm"):
        Path(f"{database}{side}").unlink(missing_ok=True)
    shutil.copyfile(copy, database)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output

    assert stored("ln-02", "II.1.5", "2021", "xa_tong").num == 50
    assert save_cell(login(app.test_client(), "ln-02"), "II.1.5", "2021", "xa_tong", "55").status_code == 200
    assert stored("ln-02", "II.1.5", "2021", "xa_tong").num == 55
    assert integrity(database) == ["ok"]


def test_backup_refuses_to_overwrite_without_force(app, tmp_path):
    target = tmp_path / "existing.sqlite"
    target.write_text("keep me")
    result = backup(app, target)
    assert result.exit_code == 1
    assert "--force" in result.output and "Traceback" not in result.output
    assert target.read_text() == "keep me"

    result = backup(app, target, "--force")
    assert result.exit_code == 0, result.output
    assert integrity(target) == ["ok"]
    assert not list(tmp_path.glob(".*.tmp*"))


@pytest.mark.parametrize("where", ["missing-directory", "directory-is-a-file", "target-is-a-directory"])
def test_an_unwritable_target_is_a_message_and_exit_1(app, tmp_path, where):
    (tmp_path / "file").write_text("x")
    target = {"missing-directory": tmp_path / "nope" / "b.sqlite",
              "directory-is-a-file": tmp_path / "file" / "b.sqlite",
              "target-is-a-directory": tmp_path}[where]
    result = backup(app, target)
    assert result.exit_code == 1
    assert "Traceback" not in result.output and str(target) in result.output
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp") or p.name == "b.sqlite"]


def test_a_read_only_directory_is_a_message_and_exit_1(app, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only directories")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = backup(app, locked / "b.sqlite")
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 1 and "Không ghi được tệp" in result.output
    assert list(locked.iterdir()) == []


@sqlite_file
def test_backup_of_a_missing_database_file_fails_cleanly(migrated_db, tmp_path):
    from webapp import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'absent.sqlite'}"})
    result = backup(app, tmp_path / "b.sqlite")
    assert result.exit_code == 1 and "Không có tệp cơ sở dữ liệu" in result.output
    assert not (tmp_path / "absent.sqlite").exists()  # the backup did not create an empty database


# --- PostgreSQL ----------------------------------------------------------------------------------

def test_without_pg_dump_the_command_to_run_is_given(tmp_path, monkeypatch):
    from webapp import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "test",
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://clerk:s3cret@db.example:5433/phuluc"})
    monkeypatch.setenv("PATH", str(tmp_path))
    target = tmp_path / "phuluc.dump"
    result = backup(app, target)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"pg_dump --format=custom --file {target} postgresql://clerk@db.example:5433/phuluc" in result.output
    assert "PGPASSWORD" in result.output and "s3cret" not in result.output
    assert list(tmp_path.iterdir()) == []


ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_scratch():
    """A factory of scratch databases on the test server (dropped afterwards); skipped without the
    server or the client tools, except under CI."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            if os.environ.get("CI"):
                pytest.fail(f"{tool} is required under CI")
            pytest.skip(f"{tool} is not installed")
    made = []

    def make() -> str:
        name = f"phuluc_test_{uuid.uuid4().hex[:10]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"

    yield make
    for name in made:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.mark.postgres
def test_postgresql_backup_is_a_pg_dump_that_pg_restore_loads(pg_scratch, tmp_path):
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import AuditEvent, Unit

    source = pg_scratch().replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": source, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()  # the schema with its triggers; a few rows instead of the (slow) demo
        district = Unit(code="ln", name="Huyện Lộc Ninh", kind="huyen")
        db.session.add_all([district, Unit(code="ln-01", name="Thị trấn Lộc Ninh", kind="xa", parent=district),
                            AuditEvent(action="login", via="web", new="admin", ip="127.0.0.1")])
        db.session.commit()
        version = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar()
    try:
        target = tmp_path / "phuluc.dump"
        result = backup(app, target)
        assert result.exit_code == 0, result.output
        assert target.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        assert backup(app, target).exit_code == 1  # no overwrite without --force
        assert backup(app, target, "--force").exit_code == 0
        assert not list(tmp_path.glob(".*.tmp*"))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    restored = pg_scratch()
    done = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "-d", restored, str(target)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    import psycopg

    with psycopg.connect(restored) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == version
        assert conn.execute("SELECT code FROM unit ORDER BY code").fetchall() == [("ln",), ("ln-01",)]
        # db upgrade stored the shipped outlines (an event each), then the admin signed in
        shipped = [f"{o.code}@{o.version}" for o in map(load_outline, shipped_outline_files())]
        assert conn.execute("SELECT action, new FROM audit_event ORDER BY id").fetchall() == [
            *(("outline_load", ident) for ident in shipped), ("login", "admin")]
    # restoring again over the same database (--clean) works too
    done = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "-d", restored, str(target)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- durability: an acknowledged save survives the server being killed ------------------------

class Browser:
    """What the browser does, over real HTTP: a cookie jar, the sign-in form, htmx saves."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = ""
        self.versions: dict[tuple[str, str], str] = {}  # (table, "row:col") -> the version shown

    def read_versions(self, table: str, page: str) -> None:
        self.versions.update({(table, key): version for key, version in page_versions(page).items()})

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.geturl(), response.read().decode()

    def sign_in(self, username: str, password: str = "demo123") -> None:
        _, page = self.get("/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrf_token": html.unescape(token), "username": username,
                                       "password": password}).encode()
        with self.opener.open(self.base + "/login", data=form, timeout=10) as response:
            assert "/login" not in response.geturl(), "sign-in refused"
        _, page = self.get(URL.format("II.1.5"))  # the page's script takes the token from this meta tag
        self.token = html.unescape(re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1))
        for table in {cell[0] for stream in STREAMS for cell in stream}:
            self.read_versions(table, self.get(URL.format(table))[1])

    def save(self, table: str, row: str, col: str, value: str) -> int:
        """POST one cell as the page's script does (its value and the version shown); the status, once
        the whole answer has arrived. A stored save's answer carries the cell's new version."""
        form = {"value": value, "version": self.versions.get((table, f"{row}:{col}"), "")}
        request = urllib.request.Request(
            self.base + URL.format(table) + f"/cells/{row}/{col}", data=urllib.parse.urlencode(form).encode(),
            headers={"X-CSRFToken": self.token})
        try:
            with self.opener.open(request, timeout=10) as response:
                answer = response.read().decode()
                if response.status == 200:
                    self.read_versions(table, answer)
                return response.status
        except urllib.error.HTTPError as refused:
            return refused.code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(server: subprocess.Popen, base: str, log) -> str:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(base + "/login", timeout=2) as response:
                if response.status == 200:
                    return base
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            kill_server(server)
            log.flush()
            raise AssertionError("the server did not start:\n" + Path(log.name).read_text()[-2000:])
        time.sleep(0.05)


def kill_server(server: subprocess.Popen) -> None:
    """SIGKILL to the server's whole process group (started with start_new_session): a gunicorn
    master and its workers die at the same instant, as in a crash."""
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait(timeout=10)


def production_env(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "durability-test",
            "APP_ENV": "production", "FLASK_DEBUG": "0"}


def start_server(database: Path, log) -> tuple[subprocess.Popen, str]:
    """`flask --app wsgi run` on ``database`` with the real configuration (CSRF on, production)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port),
         "--no-reload", "--no-debugger", "--with-threads"],
        cwd=PROJECT, env=production_env(f"sqlite:///{database}"), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    return server, wait_until_up(server, f"http://127.0.0.1:{port}", log)


def start_gunicorn(database_url: str, log) -> tuple[subprocess.Popen, str]:
    """`gunicorn -w 2 wsgi:app` on ``database_url``, as the README runs it in production."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=PROJECT, env=production_env(database_url), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    return server, wait_until_up(server, f"http://127.0.0.1:{port}", log)


# Cells of Xã Lộc Khánh (ln-16, which has filled nothing) whose rules rising values never break:
# totals whose "of which" stays empty, and the literacy totals of II.1.3 that have no rule.
STREAMS = [
    [("II.1.5", str(year), "xa_tong") for year in range(2019, 2024)],
    [("II.1.3", str(year), col) for year in range(2019, 2024) for col in ("tong_md1", "tong_md2", "tai_mu_chu")],
]
CELL_QUERY = ("SELECT cv.num FROM cell_value cv JOIN unit u ON u.id = cv.unit_id "
              "WHERE u.code = {0} AND cv.table_code = {0} AND cv.row_key = {0} AND cv.col_key = {0}")


def kill_during_saves(start, read_cells, after_kill, tmp_path) -> None:
    """Three rounds of: start the server (``start(log)``), sign in as ln-16 and save two streams of
    cells at once, SIGKILL the server at a random moment, then check with the server down that every
    acknowledged save is stored (``read_cells(cells)``: {cell: number}) and that a save sent but not
    answered is stored whole or not at all. ``after_kill(round_no)`` checks the database itself."""
    seed = int(os.environ.get("DURABILITY_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    acked: dict[tuple[str, str, str], int | None] = {cell: None for stream in STREAMS for cell in stream}
    counter = 0  # every value sent is new, so a stored value tells which save it came from
    figures = []

    # each round kills after between low and high answered saves
    for round_no, (low, high) in enumerate([(0, 4), (6, 16), (18, 36)]):
        log = (tmp_path / f"server-{round_no}.log").open("w")
        server, base = start(log)
        killed = False
        try:
            browser = Browser(base)
            browser.sign_in("ln-16")
            in_flight: dict[int, tuple[tuple[str, str, str], int]] = {}
            answered = [0]
            refused: list[str] = []
            lock = threading.Lock()

            def stream(n: int, cells) -> None:
                nonlocal counter
                i = 0
                while True:
                    cell = cells[i % len(cells)]
                    i += 1
                    with lock:
                        counter += 1
                        value = counter
                        in_flight[n] = (cell, value)
                    try:
                        status = browser.save(*cell, str(value))
                    except (OSError, http.client.HTTPException):
                        return  # the server is gone: this save was sent, never answered
                    with lock:
                        if status != 200:
                            refused.append(f"{cell}={value}: {status}")
                            return
                        acked[cell] = value
                        answered[0] += 1
                        del in_flight[n]

            threads = [threading.Thread(target=stream, args=(n, cells)) for n, cells in enumerate(STREAMS)]
            for thread in threads:
                thread.start()
            # a random moment: after a random number of answers, then a random part of a save
            target, started = rng.randint(low, high), time.monotonic()
            while answered[0] < target and any(t.is_alive() for t in threads):
                assert time.monotonic() - started < 20, f"only {answered[0]} saves answered in 20 s"
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.03))
            delay = time.monotonic() - started
            kill_server(server)
            killed = True
            for thread in threads:
                thread.join(timeout=15)
                assert not thread.is_alive()
        finally:
            if not killed:
                kill_server(server)
            log.close()
        assert not refused, f"seed {seed}: saves refused: {refused}"

        # nothing restarted: read the database as the crash left it
        after_kill(round_no, seed)
        pending = {cell: value for cell, value in in_flight.values()}
        unanswered_stored = 0
        now_stored = read_cells(list(acked))
        for cell, last in acked.items():
            now = now_stored[cell]
            allowed = {last, pending[cell]} if cell in pending else {last}
            assert now in allowed, (f"seed {seed}, round {round_no}: {cell} holds {now}, acknowledged {last}, "
                                    f"in flight {pending.get(cell)}")
            unanswered_stored += cell in pending and now == pending[cell] != last
            acked[cell] = now  # a save committed but not answered is the new baseline
        figures.append((round(delay, 2), answered[0], len(pending), unanswered_stored))

    print(f"durability seed {seed}: per round (kill after s, saves acknowledged, in flight at the kill, "
          f"of which stored without an answer): {figures}")


def test_an_acknowledged_save_survives_the_server_being_killed(today_demo_db, tmp_path):
    database = tmp_path / "live.sqlite"
    shutil.copy(today_demo_db, database)

    def after_kill(round_no, seed):  # the file as the crash left it (with its -wal)
        assert integrity(database) == ["ok"], f"seed {seed}, round {round_no}"

    kill_during_saves(lambda log: start_server(database, log),
                      lambda cells: {cell: read_cell(database, "ln-16", *cell) for cell in cells},
                      after_kill, tmp_path)


@pytest.fixture(scope="module")
def pg_demo_url(pg_url):
    """The module's scratch PostgreSQL database, migrated, with the demo loaded today."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.demo import load_demo
    from webapp.extensions import db
    from webapp.templating import local_today

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": pg_url, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
        assert load_demo(db.session, local_today())
        db.session.remove()
        db.engine.dispose()
    return pg_url


def require_gunicorn() -> None:
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        if under_ci():
            pytest.fail("gunicorn is required under CI (pip install -e '.[dev]')", pytrace=False)
        pytest.skip("needs gunicorn (pip install -e '.[dev]')")


@pytest.mark.postgres
def test_an_acknowledged_save_survives_gunicorn_being_killed_on_postgresql(pg_demo_url, tmp_path):
    """The same rounds against `gunicorn -w 2` on PostgreSQL: master and workers killed together, with
    saves in the middle of their transactions; PostgreSQL rolls back what was not committed."""
    require_gunicorn()
    import psycopg

    plain_url = pg_demo_url.replace("postgresql+psycopg://", "postgresql://", 1)
    name = plain_url.rsplit("/", 1)[1]

    def read_cells(cells):
        with psycopg.connect(plain_url) as conn:
            return {cell: (found[0] if (found := conn.execute(CELL_QUERY.format("%s"),
                                                                ("ln-16", *cell)).fetchone()) else None)
                    for cell in cells}

    def after_kill(round_no, seed):
        """The killed workers' connections end and their open transactions with them: nothing is left
        holding a lock that the next server's saves would wait on."""
        deadline = time.monotonic() + 10
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            while True:
                left = admin.execute("SELECT pid, state FROM pg_stat_activity WHERE datname = %s",
                                     (name,)).fetchall()
                if not left:
                    return
                assert time.monotonic() < deadline, f"seed {seed}, round {round_no}: still connected: {left}"
                time.sleep(0.05)

    kill_during_saves(lambda log: start_gunicorn(pg_demo_url, log), read_cells, after_kill, tmp_path)
