"""Sign-in throttling under concurrent requests, its bounded audit record, and sign-in time that does
not tell which accounts exist (issue 12, items 3, 9 and 11).

The concurrency tests post at once to a live, threaded server (each request on its own database
connection) on SQLite and on PostgreSQL, and count how many passwords were actually checked: the
throttle's check and its record are one atomic step, so no more than the limit get through.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import CURRENT, Clock, in_app, sqlite_file
from webapp.auth import throttle
from webapp.models import AuditEvent, User

# Each test runs at its own time, far apart: failures of one test (kept on PostgreSQL, whose database
# serves the whole module) are outside the window of the next.
EPOCH = dt.datetime(2024, 5, 3, 8, 0)
_ticks = iter(range(1000))


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, EPOCH + dt.timedelta(days=next(_ticks)))  # each test its own day


@pytest.fixture
def hashes(monkeypatch):
    """Counts the password hashes computed (every check of a typed password against a stored hash)."""
    import webapp.models as models

    real = models.check_password_hash
    seen = {"n": 0}
    lock = threading.Lock()

    def counting(pwhash, password):
        with lock:
            seen["n"] += 1
        return real(pwhash, password)

    monkeypatch.setattr(models, "check_password_hash", counting)
    return seen


# --- the two databases ----------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_app(request):
    """The app on a file copy of the demo database (SQLite), or on the module's PostgreSQL database."""
    if request.param == "sqlite":
        app = request.getfixturevalue("app")
    else:
        app = request.getfixturevalue("pg_app")
        CURRENT["app"] = app
    return app


@contextmanager
def serving(app):
    """``app`` served over HTTP by a threaded server: one thread (and database connection) a request."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def status_of(opener, req: urllib.request.Request) -> int:
    try:
        with opener.open(req, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def login_request(base: str, fields: dict[str, str], headers: dict[str, str] | None = None):
    return urllib.request.Request(base + "/login", data=urllib.parse.urlencode(fields).encode(), method="POST",
                                  headers=headers or {})


def post_login(base: str, username: str, password: str) -> int:
    return status_of(OPENER, login_request(base, {"username": username, "password": password}))


def at_once(requests: list[tuple]) -> list[int]:
    """Send every (opener, request) at the same moment, each from its own thread; their statuses."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int | None] = [None] * len(requests)

    def one(i, opener, req):
        barrier.wait(30)
        statuses[i] = status_of(opener, req)

    threads = [threading.Thread(target=one, args=(i, *r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return statuses


def all_at_once(base: str, attempts: list[tuple[str, str]]) -> list[int]:
    """Post every (username, password) at the same moment, each from its own thread."""
    return at_once([(OPENER, login_request(base, {"username": u, "password": p})) for u, p in attempts])


def failures_since(at: dt.datetime, username: str | None = None) -> list[str | None]:
    """The reasons of the failed sign-ins recorded at ``at`` or later (the test's clock)."""
    with in_app() as session:
        query = select(AuditEvent.old).where(AuditEvent.action == throttle.LOGIN_FAILED, AuditEvent.at >= at)
        if username:
            query = query.where(AuditEvent.new == username)
        return list(session.scalars(query))


def audit_rows() -> int:
    with in_app() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


# --- item 3: concurrent attempts --------------------------------------------------------------------

def test_concurrent_wrong_passwords_for_one_account_check_at_most_the_limit(any_app, clock, hashes):
    with serving(any_app) as base:
        statuses = all_at_once(base, [("ln-05", f"wrong-{i}") for i in range(25)])
    assert sorted(statuses) == [401] * throttle.USER_LIMIT + [429] * (25 - throttle.USER_LIMIT), statuses
    assert hashes["n"] == throttle.USER_LIMIT
    assert failures_since(clock.at, "ln-05") == [throttle.BAD_PASSWORD] * throttle.USER_LIMIT


def test_concurrent_names_from_one_address_fail_at_most_the_limit(any_app, clock, hashes):
    with serving(any_app) as base:
        statuses = all_at_once(base, [(f"guess-{i}", "x") for i in range(60)])
    assert sorted(statuses) == [401] * throttle.IP_LIMIT + [429] * (60 - throttle.IP_LIMIT), statuses
    assert hashes["n"] == throttle.IP_LIMIT
    assert failures_since(clock.at) == [throttle.BAD_PASSWORD] * throttle.IP_LIMIT


def test_the_right_password_among_concurrent_wrong_ones_still_counts_as_a_sign_in(any_app, clock):
    """A success clears the name's count and gives its provisional failure back to the address."""
    with serving(any_app) as base:
        statuses = all_at_once(base, [("ln-06", "demo123")] + [("ln-07", "wrong")] * 3)
        assert sorted(statuses) == [302, 401, 401, 401]
        # ln-06's count is clear: four wrong attempts do not lock it
        assert [post_login(base, "ln-06", "wrong") for _ in range(4)] == [401] * 4
        assert post_login(base, "ln-06", "demo123") == 302


@sqlite_file
def test_the_password_is_checked_without_holding_the_database_write_lock(app, clock, monkeypatch):
    """SQLite's write lock covers the whole database: a sign-in must not hold it while the (slow)
    password hash is computed, or every clerk's save would wait behind it."""
    import sqlite3

    import webapp.models as models

    real = models.check_password_hash
    checking, release = threading.Event(), threading.Event()

    def slow(pwhash, password):
        checking.set()
        release.wait(10)
        return real(pwhash, password)

    monkeypatch.setattr(models, "check_password_hash", slow)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with serving(app) as base:
        thread = threading.Thread(target=post_login, args=(base, "ln-02", "wrong"))
        thread.start()
        try:
            assert checking.wait(10)
            other = sqlite3.connect(path, timeout=0.5)
            other.execute("UPDATE unit SET phone = phone WHERE id = 1")  # a clerk's save, meanwhile
            other.commit()
            other.close()
        finally:
            release.set()
            thread.join(30)


# --- the same under several worker processes (gunicorn), as in production ------------------------

PROJECT = Path(__file__).resolve().parent.parent


@contextmanager
def gunicorn(database_url: str, log_path: Path):
    """`gunicorn -w 4 --threads 4 wsgi:app` on ``database_url`` with the production settings (CSRF on),
    behind a (pretend) proxy whose X-Forwarded-For names the client; yields the base URL."""
    pytest.importorskip("gunicorn")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "throttle-test", "APP_ENV": "production",
           "TRUSTED_PROXIES": "1", "FLASK_DEBUG": "0"}
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "4", "--threads", "4",
                                   "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=PROJECT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(base + "/login", timeout=2):
                        break
                except OSError:
                    assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()[-2000:]
                    time.sleep(0.1)
            yield base
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def browsers_at_once(base: str, address: str, attempts: list[tuple[str, str]]) -> list[int]:
    """Each attempt from its own browser (cookies, the form's token), all posted at the same moment."""
    ready = []
    for username, password in attempts:
        jar = urllib.request.HTTPCookieProcessor()
        opener = urllib.request.build_opener(jar, NoRedirect)
        with opener.open(base + "/login", timeout=30) as page:
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.read().decode()).group(1)
        ready.append((opener, login_request(base, {"username": username, "password": password, "csrf_token": token},
                                            {"X-Forwarded-For": address})))
    return at_once(ready)


def recorded_failures(engine, since: dt.datetime, address: str) -> list[str | None]:
    with engine.connect() as conn:
        return list(conn.scalars(select(AuditEvent.old).where(
            AuditEvent.action == throttle.LOGIN_FAILED, AuditEvent.at >= since, AuditEvent.ip == address)))


@pytest.mark.parametrize("database", [pytest.param("sqlite", marks=sqlite_file),
                                      pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_limits_hold_across_worker_processes(database, demo_db, tmp_path):
    """Four gunicorn workers of four threads each: 25 wrong passwords for one account at once check
    five; 60 names from one address at once fail thirty."""
    from sqlalchemy import create_engine

    from conftest import load_demo_into, scratch_pg_database

    drop = None
    if database == "sqlite":
        path = tmp_path / "workers.sqlite"
        shutil.copy(demo_db, path)
        url = f"sqlite:///{path}"
    else:
        url, drop = scratch_pg_database()
        load_demo_into(url)
    engine = create_engine(url)
    try:
        since = throttle.now() - dt.timedelta(seconds=1)
        with gunicorn(url, tmp_path / "gunicorn.log") as base:
            statuses = browsers_at_once(base, "10.9.0.1", [("ln-08", f"wrong-{i}") for i in range(25)])
            assert sorted(statuses) == [401] * throttle.USER_LIMIT + [429] * (25 - throttle.USER_LIMIT)
            statuses = browsers_at_once(base, "10.9.0.2", [(f"guess-{i}", "x") for i in range(60)])
            assert sorted(statuses) == [401] * throttle.IP_LIMIT + [429] * (60 - throttle.IP_LIMIT)
        assert recorded_failures(engine, since, "10.9.0.1") == [throttle.BAD_PASSWORD] * throttle.USER_LIMIT
        assert recorded_failures(engine, since, "10.9.0.2") == [throttle.BAD_PASSWORD] * throttle.IP_LIMIT
    finally:
        engine.dispose()
        if drop:
            drop()


# --- item 11: a bounded record ----------------------------------------------------------------------

def lockout_rows() -> list[tuple[str, str | None, str | None, str | None]]:
    with in_app() as session:
        return session.execute(select(AuditEvent.action, AuditEvent.new, AuditEvent.old, AuditEvent.ip)
                               .where(AuditEvent.action.in_([throttle.LOCKED, throttle.THROTTLED_COUNT]))
                               .order_by(AuditEvent.id)).all()


def attempt(client, username: str, password: str, **kw):
    return client.post("/login", data={"username": username, "password": password}, **kw)


def test_throttled_attempts_are_counted_not_recorded_one_by_one(client, clock):
    for _ in range(throttle.USER_LIMIT):
        assert attempt(client, "ln-02", "wrong").status_code == 401
    assert lockout_rows() == [(throttle.LOCKED, "ln-02", throttle.BY_USER, "127.0.0.1")]
    before = audit_rows()
    for i in range(100):
        assert attempt(client, "ln-02", "demo123" if i % 2 else "wrong").status_code == 429
    assert audit_rows() == before  # counted on the throttle's row, not one audit row each
    # when the lockout ends, its count is written once
    clock.advance(minutes=15)
    assert attempt(client, "ln-02", "demo123").status_code == 302
    assert lockout_rows()[1:] == [(throttle.THROTTLED_COUNT, "ln-02", "100", "127.0.0.1")]
    assert audit_rows() == before + 2  # the count and the sign-in


def test_an_address_guessing_names_adds_a_bounded_record(client, clock):
    before = audit_rows()
    for i in range(throttle.IP_LIMIT):
        assert attempt(client, f"guess-{i}", "x").status_code == 401
    for i in range(200):
        assert attempt(client, f"other-{i}", "x").status_code == 429
    assert audit_rows() == before + throttle.IP_LIMIT + 1  # the failures and the lockout's start
    assert lockout_rows() == [(throttle.LOCKED, f"guess-{throttle.IP_LIMIT - 1}", throttle.BY_IP, "127.0.0.1")]


def test_the_count_of_an_expired_lockout_is_written_when_its_row_is_pruned(client, clock):
    """No attempt for the locked name comes back: the count is written when its row is pruned by
    the next sign-in of anyone, after the window."""
    for _ in range(throttle.USER_LIMIT):
        attempt(client, "ln-02", "wrong")
    for _ in range(7):
        attempt(client, "ln-02", "wrong")
    clock.advance(minutes=16)
    attempt(client.application.test_client(), "ln-03", "demo123",
            environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert lockout_rows()[1:] == [(throttle.THROTTLED_COUNT, "ln-02", "7", "127.0.0.1")]
    with in_app() as session:
        keys = set(session.scalars(select(throttle.LoginThrottle.key)))
    assert keys == set()  # the expired rows are gone, and ln-03's sign-in left nothing to count


def test_the_lockout_still_holds_for_the_whole_window(client, clock):
    """The rolling window of today: five failures within fifteen minutes, however they fall."""
    assert attempt(client, "ln-02", "wrong").status_code == 401
    clock.advance(minutes=10)
    for _ in range(3):
        assert attempt(client, "ln-02", "wrong").status_code == 401
    clock.advance(minutes=4, seconds=59)  # the first failure is 14:59 old
    assert attempt(client, "ln-02", "wrong").status_code == 401
    response = attempt(client, "ln-02", "demo123")
    assert response.status_code == 429 and "đợi 15 phút" in response.get_data(as_text=True)
    clock.advance(minutes=2)  # the first failure has left the window, the lockout has not ended
    assert attempt(client, "ln-02", "demo123").status_code == 429


# --- item 9: the same work for known and unknown names ---------------------------------------------

def deactivate(username: str) -> None:
    with in_app() as session:
        session.scalar(select(User).where(User.username == username)).active = False
        session.commit()


def test_an_unknown_name_costs_the_same_password_check_as_a_known_one(client, clock, hashes):
    deactivate("ln-04")
    counts = {}
    for name in ("ln-02", "nobody", "ln-04"):  # known with a wrong password, unknown, inactive
        before = hashes["n"]
        assert attempt(client, name, "wrong").status_code == 401
        counts[name] = hashes["n"] - before
    assert counts == {"ln-02": 1, "nobody": 1, "ln-04": 1}
    # the inactive account with its right password: refused (and counted), saying why: only who knows
    # the password learns it
    response = attempt(client, "ln-04", "demo123")
    assert response.status_code == 401 and "đã ngừng hoạt động" in response.get_data(as_text=True)


def test_the_dummy_hash_is_made_like_the_stored_ones(app):
    from werkzeug.security import generate_password_hash

    from webapp.models import dummy_password_hash

    method = generate_password_hash("x").split("$", 1)[0]
    assert dummy_password_hash().split("$", 1)[0] == method
