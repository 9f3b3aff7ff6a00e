"""Cell saves under load: N simulated clerks through the real endpoints, against a bare endpoint.

    python bench/load.py --db sqlite|postgres --clerks N --think SECONDS --duration SECONDS

Starts and stops everything itself, on loopback only: a scratch database (an SQLite file in a
temporary directory, or a PostgreSQL database on 127.0.0.1:5432 created and dropped again), migrated
with the demo loaded and one extra commune per clerk (its own account, as a province's communes each
have theirs); then two gunicorn servers with the same settings and workers (sized to the cores): the
application, and a bare Flask endpoint that upserts one row into the same kind of database.

Each clerk signs in through the real login (CSRF), opens its table page for the token and the
versions, then saves cells one after another through POST /campaigns/<code>/tables/<table>/cells/
<row>/<col> with the version it saw, ``--think`` seconds apart (0: as fast as answered), for
``--duration`` seconds; the same number of clients then post to the bare endpoint as long. Afterwards
every acknowledged save (200) must be stored with its value and have its audit row: "lost" counts
those missing. The last line is exactly

    saves/s APP bare BARE ratio R p95 P ms bare_p95 Q ms lost L

(R = APP / BARE; P the application's 95th percentile of a save, Q the bare endpoint's, same run).
The line before it gives the largest resident memory of the app's workers after the app phase.
"""

from __future__ import annotations

import argparse
import html
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CAMPAIGN = "kl49-2024"
TABLE = "II.1.5"  # a commune's totals and "of which" by year: saving totals upwards breaks no rule
PASSWORD = "bench-load-123"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HOST = "127.0.0.1"
TIMEOUT = 30  # seconds for any one request


def workers_for_cores() -> int:
    """gunicorn's advice for sync workers: two per core and one more."""
    return 2 * (os.cpu_count() or 1) + 1


# --- the bare endpoint (served by gunicorn as ``load:bare_app()``) ----------------------------------

def bare_app():
    """A Flask app with one endpoint that upserts one row (``bench_bare``) into DATABASE_URL with the
    application's engine settings (importing webapp registers its SQLite pragmas)."""
    import webapp  # noqa: F401  (the same connection settings: WAL, synchronous=FULL, busy_timeout)
    from flask import Flask, request
    from sqlalchemy import create_engine, text

    app = Flask("bare")
    engine = create_engine(os.environ["DATABASE_URL"])
    upsert = text("INSERT INTO bench_bare (id, value, n) VALUES (:id, :value, 1) "
                  "ON CONFLICT (id) DO UPDATE SET value = excluded.value, n = bench_bare.n + 1")

    @app.post("/save/<int:key>")
    def save(key: int):
        with engine.begin() as conn:
            conn.execute(upsert, {"id": key, "value": request.form.get("value", "")})
        return "ok"

    return app


# --- databases ---------------------------------------------------------------------------------------

class Scratch:
    """A scratch database: an SQLite file in ``tmp``, or a PostgreSQL database dropped by close()."""

    def __init__(self, kind: str, tmp: Path):
        self.kind, self._drop = kind, None
        if kind == "sqlite":
            self.url = f"sqlite:///{tmp / 'bench.sqlite'}"
            return
        import psycopg

        name = f"phuluc_bench_{uuid.uuid4().hex[:10]}"
        self._admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
        self._admin.execute(f'CREATE DATABASE "{name}"')
        self._name = name
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        self.url = f"{base}/{name}"

    def close(self) -> None:
        if self.kind == "postgres":
            self._admin.execute(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)')
            self._admin.close()


def load(url: str, clerks: int) -> list[str]:
    """Migrate, load the demo and one commune with its own account per clerk; returns the usernames."""
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from webapp import create_app
    from webapp.demo import load_demo
    from webapp.entry.service import default_assignments
    from webapp.extensions import db
    from webapp.models import Campaign, CampaignUnit, Unit, User
    from webapp.workflow import campaign_today

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    names = [f"bench-{i:03d}" for i in range(clerks)]
    with app.app_context():
        upgrade()
        load_demo(db.session, campaign_today())
        campaign = db.session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
        units = [Unit(code=n, name=f"Xã thử tải {n[-3:]}", kind="xa", sort_order=5000 + i) for i, n in enumerate(names)]
        db.session.add_all(units)
        db.session.flush()
        db.session.add_all(CampaignUnit(campaign_id=campaign.id, unit_id=u.id) for u in units)
        db.session.add_all(default_assignments(campaign, units))
        for unit in units:
            user = User(username=unit.code, full_name=unit.name, role="clerk", unit=unit)
            user.set_password(PASSWORD)
            db.session.add(user)
        db.session.execute(text("CREATE TABLE bench_bare (id INTEGER PRIMARY KEY, value VARCHAR(40), n INTEGER)"))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))  # fresh statistics after the bulk load
        db.session.remove()
        db.engine.dispose()
    return names


# --- servers -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving ``target`` on a free loopback port, stopped by stop()."""

    def __init__(self, target: str, chdir: Path, url: str, workers: int, log: Path):
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-secret", "PYTHONPATH": str(ROOT)}
        self._log = open(log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--chdir", str(chdir), "--bind", f"{HOST}:{self.port}",
             "--workers", str(workers), "--worker-class", "sync", "--timeout", "60", target],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{target} did not start: see {log}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{target} did not answer within 60 s")

    def worker_rss_mb(self) -> float | None:
        """The largest resident memory of the server's worker processes in MB (Linux /proc); None
        where it cannot be read."""
        try:
            workers = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            sizes = []
            for pid in workers:
                status = Path(f"/proc/{pid}/status").read_text()
                sizes.append(int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) / 1024)
        except (OSError, AttributeError):
            return None
        return max(sizes) if sizes else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


# --- clients -----------------------------------------------------------------------------------------

class Browser:
    """A plain HTTP client keeping its cookies (one connection per request, as sync workers close them)."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=TIMEOUT)
        try:
            head = {"Connection": "close", **(headers or {})}
            if self.cookies:
                head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if form is not None:
                body = urlencode(form)
                head["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=head)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, text
        finally:
            conn.close()


HIDDEN_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
INPUT = re.compile(r'name="cell:([^:"]+):([^"]+)"[^>]*data-save="([^"]+)"')
VERSION = re.compile(r'name="v:([^:"]+):([^"]+)" value="(\d+)"')


@dataclass
class Phase:
    """What one phase's clients saw: latencies of acknowledged saves and the other answers."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    errors: int = 0
    acks: list[tuple[str, str, str, int]] = field(default_factory=list)  # (unit, row, col, value)
    lock: threading.Lock = field(default_factory=threading.Lock)
    elapsed: float = 0.0

    def record(self, status: int, seconds: float, ack=None) -> None:
        with self.lock:
            self.statuses[status] += 1
            if status == 200:
                self.latencies.append(seconds)
                if ack:
                    self.acks.append(ack)


class Clerk:
    def __init__(self, port: int, username: str):
        self.username, self.browser = username, Browser(port)
        self.cells: list[tuple[str, str, str]] = []  # (row, col, url)
        self.versions: dict[tuple[str, str], int] = {}
        self.token = ""

    def sign_in(self) -> None:
        status, page = self.browser.request("GET", "/login")
        match = HIDDEN_TOKEN.search(page)
        if status != 200 or not match:
            raise RuntimeError(f"no login form ({status})")
        token = match.group(1) or match.group(2)
        status, _ = self.browser.request("POST", "/login", {
            "csrf_token": html.unescape(token), "username": self.username, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"{self.username} could not sign in ({status})")
        status, page = self.browser.request("GET", f"/campaigns/{CAMPAIGN}/tables/{TABLE}")
        if status != 200:
            raise RuntimeError(f"table page: {status}")
        self.token = html.unescape(META_TOKEN.search(page).group(1))
        cells = [(r, c, html.unescape(u)) for r, c, u in INPUT.findall(page)]
        totals = [cell for cell in cells if cell[1].endswith("_tong")]  # raising a total breaks no "of which"
        self.cells = totals or cells
        if not self.cells:
            raise RuntimeError(f"{self.username} has no cell to enter")
        self.versions = {(r, c): int(v) for r, c, v in VERSION.findall(page)}

    def run(self, phase: Phase, until: float, think: float, start_value: int) -> None:
        value, turn = start_value, 0
        while time.monotonic() < until:
            row, col, url = self.cells[turn % len(self.cells)]
            turn += 1
            value += 1
            form = {"value": str(value), "version": str(self.versions.get((row, col), 0))}
            began = time.perf_counter()
            try:
                status, answer = self.browser.request(
                    "POST", url, form, {"X-CSRFToken": self.token, "HX-Request": "true"})
            except OSError:
                with phase.lock:
                    phase.errors += 1
                continue
            seconds = time.perf_counter() - began
            for r, c, v in VERSION.findall(answer):  # 200 and 409 carry the version now stored
                self.versions[(r, c)] = int(v)
            phase.record(status, seconds, (self.username, row, col, value))
            if status == 422:  # a check refuses this cell: leave it
                self.cells = [cell for cell in self.cells if cell[:2] != (row, col)] or self.cells
            if think:
                time.sleep(think)


def bare_client(port: int, key: int, phase: Phase, until: float, think: float) -> None:
    browser, value = Browser(port), 0
    while time.monotonic() < until:
        value += 1
        began = time.perf_counter()
        try:
            status, _ = browser.request("POST", f"/save/{key}", {"value": str(value)})
        except OSError:
            with phase.lock:
                phase.errors += 1
            continue
        phase.record(status, time.perf_counter() - began)
        if think:
            time.sleep(think)


def run_threads(targets, duration: float, phase: Phase) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + TIMEOUT + 5)  # bounded: a request never waits longer than TIMEOUT
    phase.elapsed = time.monotonic() - began


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# --- the check afterwards ------------------------------------------------------------------------------

def lost_saves(url: str, acks: list[tuple[str, str, str, int]]) -> int:
    """Acknowledged saves missing: without their audit row (with the value saved), or, for a cell's
    last acknowledged save, not the value stored."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            audited = {(u, r, c, int(re.sub(r"\D", "", new)))
                       for u, r, c, new in conn.execute(text(
                           "SELECT unit.code, a.row_key, a.col_key, a.new FROM audit_event a "
                           "JOIN unit ON unit.id = a.unit_id WHERE a.action = 'cell' AND a.table_code = :t "
                           "AND unit.code LIKE 'bench-%' AND a.new IS NOT NULL"), {"t": TABLE})
                       if re.sub(r"\D", "", new)}
            stored = {(u, r, c): num for u, r, c, num in conn.execute(text(
                "SELECT unit.code, v.row_key, v.col_key, v.num FROM cell_value v JOIN unit ON unit.id = v.unit_id "
                "WHERE v.table_code = :t AND unit.code LIKE 'bench-%'"), {"t": TABLE})}
    finally:
        engine.dispose()
    last: dict[tuple[str, str, str], int] = {}
    for u, r, c, value in acks:
        last[(u, r, c)] = max(value, last.get((u, r, c), value))
    missing = sum(1 for ack in acks if ack not in audited)
    # a cell holds its last acknowledged value, or a later one whose answer was lost
    missing += sum(1 for cell, value in last.items() if (stored.get(cell) or -1) < value)
    return missing


# --- main ------------------------------------------------------------------------------------------------

def summary(name: str, phase: Phase) -> str:
    n = len(phase.latencies)
    rate = n / phase.elapsed if phase.elapsed else 0.0
    others = ", ".join(f"{status}: {count}" for status, count in sorted(phase.statuses.items()) if status != 200)
    p50, p95, p99 = (percentile(phase.latencies, p) * 1000 for p in (50, 95, 99))
    return (f"{name}: {n} saves in {phase.elapsed:.1f} s = {rate:.1f}/s; p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
            f"p99 {p99:.1f} ms{'; other answers ' + others if others else ''}"
            f"{f'; {phase.errors} failed requests' if phase.errors else ''}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--clerks", type=int, required=True)
    parser.add_argument("--think", type=float, required=True,
                        help="seconds between a clerk's saves (0: saturation)")
    parser.add_argument("--duration", type=float, required=True, help="seconds of each phase (app, then bare)")
    parser.add_argument("--workers", type=int, default=workers_for_cores(),
                        help="gunicorn workers (default 2 × cores + 1)")
    args = parser.parse_args(argv)
    if not 1 <= args.clerks <= 500 or not 0 < args.duration <= 600 or not 0 <= args.think <= 60:
        parser.error("bounded: 1–500 clerks, a duration up to 600 s, a think time up to 60 s")

    tmp = Path(tempfile.mkdtemp(prefix="phuluc-load-"))
    scratch, servers = None, []
    try:
        scratch = Scratch(args.db, tmp)
        print(f"database: {args.db}; loading the demo and {args.clerks} communes with their accounts …", flush=True)
        names = load(scratch.url, args.clerks)
        print(f"gunicorn: {args.workers} sync workers for {os.cpu_count()} cores, app and bare endpoint", flush=True)
        app = Server("wsgi:app", ROOT, scratch.url, args.workers, tmp / "app.log")
        servers.append(app)
        bare = Server("load:bare_app()", ROOT / "bench", scratch.url, args.workers, tmp / "bare.log")
        servers.append(bare)

        clerks = [Clerk(app.port, name) for name in names]
        run_threads([c.sign_in for c in clerks], 60, Phase())
        ready = [c for c in clerks if c.cells]
        if len(ready) < len(clerks):
            raise RuntimeError(f"only {len(ready)} of {len(clerks)} clerks signed in and found their cells")

        app_phase = Phase()
        until = time.monotonic() + args.duration
        run_threads([(lambda c=c, i=i: c.run(app_phase, until, args.think, 100 + i)) for i, c in enumerate(clerks)],
                    args.duration, app_phase)
        rss = app.worker_rss_mb()
        bare_phase = Phase()
        until = time.monotonic() + args.duration
        run_threads([(lambda i=i: bare_client(bare.port, i, bare_phase, until, args.think))
                     for i in range(args.clerks)], args.duration, bare_phase)
        for server in servers:
            server.stop()
        servers.clear()

        lost = lost_saves(scratch.url, app_phase.acks)
        print(f"clerks: {args.clerks}, think {args.think:g} s, {args.duration:g} s each")
        print(summary("app ", app_phase))
        print(summary("bare", bare_phase))
        if rss is not None:
            print(f"app workers: largest RSS {rss:.0f} MB after the app phase")
        app_rate = len(app_phase.latencies) / app_phase.elapsed
        bare_rate = len(bare_phase.latencies) / bare_phase.elapsed
        ratio = app_rate / bare_rate if bare_rate else 0.0
        print(f"saves/s {app_rate:.1f} bare {bare_rate:.1f} ratio {ratio:.2f} "
              f"p95 {percentile(app_phase.latencies, 95) * 1000:.1f} ms "
              f"bare_p95 {percentile(bare_phase.latencies, 95) * 1000:.1f} ms lost {lost}")
        return 0 if lost == 0 else 1
    finally:
        for server in servers:
            server.stop()
        if scratch is not None:
            scratch.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
