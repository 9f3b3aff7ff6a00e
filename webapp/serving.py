"""Production serving: the `serve` command (gunicorn), the health endpoint and the request log.

- ``flask --app wsgi serve [--host H] [--port P] [--workers N] [--timeout S] [--check]`` runs the app
  under gunicorn with N worker processes (default ``default_workers()``: 2 × cores + 1, at most
  ``MAX_WORKERS``); ``--check`` prints the settings it would use and exits. Each worker is a separate
  process: nothing the workers must agree on lives in one process's memory (sessions are signed
  cookies with one SECRET_KEY, the sign-in throttle and the session ends are rows of the database,
  the parsed-outline cache is keyed by the stored text's digest, which never changes). The app is not
  preloaded: each worker opens its own database connections after the fork.
- ``GET /healthz`` (no sign-in, no CSRF, no cookie): ``{"status": "ok", "revision": …}`` (the schema's
  Alembic revision, read with one trivial query), or 503 ``{"status": "unavailable"}`` when the database
  cannot be reached. For a load balancer or a monitor; logged at DEBUG only.
- One log line per request on stderr (logger ``webapp.requests``, INFO):
  ``METHOD PATH STATUS DURATION ms user=ID pid=PID``. Gunicorn's own access log stays off: this is the
  one place requests are logged, the same under `flask run`, gunicorn and the tests.
"""

from __future__ import annotations

import contextvars
import logging
import os
import time

import click
from flask import Blueprint, Flask, g, jsonify, request
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import csrf, db

request_log = logging.getLogger("webapp.requests")
HEALTH_PATH = "/healthz"
MAX_WORKERS = 12  # each worker holds its own memory (≤ 150 MB) and database connections
DEFAULT_PORT = 8000
DEFAULT_TIMEOUT = 120  # seconds: an export of a large campaign may take a while

bp = Blueprint("serving", __name__)


@bp.get(HEALTH_PATH)
@csrf.exempt
def healthz():
    """200 with the schema revision when the database answers a trivial query, else 503."""
    try:
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        db.session.rollback()
        request_log.warning("health check: the database is unreachable", exc_info=True)
        response = jsonify(status="unavailable")
        response.status_code = 503
    else:
        response = jsonify(status="ok", revision=revision)
    response.headers["Cache-Control"] = "no-store"
    return response


def _start_timer() -> None:
    g.request_started = time.perf_counter()


def _user_id() -> str:
    """The signed-in account's id, without loading anything (Flask-Login keeps the user it loaded in
    ``g._login_user``; its identity is known even when a commit has expired its attributes)."""
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return "-"
    try:
        identity = inspect(user).identity
    except Exception:  # not a mapped object
        return "-"
    return str(identity[0]) if identity else "-"


def _log_request(response):
    started = g.get("request_started")
    if started is None:
        return response
    duration_ms = (time.perf_counter() - started) * 1000
    level = logging.DEBUG if request.path == HEALTH_PATH else logging.INFO
    request_log.log(level, "%s %s %d %.1f ms user=%s pid=%d", request.method, request.path,
                    response.status_code, duration_ms, _user_id(), os.getpid())
    return response


def register_serving(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_log_request)

    @app.cli.command("serve", with_appcontext=False)
    @click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe.")
    @click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535),
                  help="Cổng lắng nghe.")
    @click.option("--workers", type=click.IntRange(1, 64), default=None,
                  help=f"Số tiến trình (mặc định 2 × số lõi + 1, tối đa {MAX_WORKERS}).")
    @click.option("--timeout", default=DEFAULT_TIMEOUT, show_default=True, type=click.IntRange(1, 3600),
                  help="Số giây tối đa cho một yêu cầu.")
    @click.option("--check", is_flag=True, help="Chỉ in cấu hình sẽ dùng rồi thoát.")
    def serve_command(host: str, port: int, workers: int | None, timeout: int, check: bool) -> None:
        """Serve the app in production with gunicorn (several worker processes)."""
        options = gunicorn_options(host, port, workers or default_workers(), timeout)
        if check:
            for key, value in options.items():
                click.echo(f"{key} = {value}")
            return
        run_gunicorn(app, options)


def default_workers(cores: int | None = None) -> int:
    """2 × cores + 1 (gunicorn's rule for sync workers), at most MAX_WORKERS."""
    cores = cores or os.cpu_count() or 1
    return min(2 * cores + 1, MAX_WORKERS)


def gunicorn_options(host: str, port: int, workers: int, timeout: int = DEFAULT_TIMEOUT) -> dict:
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return {"bind": f"{host}:{port}", "workers": workers, "worker_class": "sync", "timeout": timeout,
            "graceful_timeout": 30, "preload_app": False, "accesslog": None, "errorlog": "-",
            "loglevel": "info"}


def gunicorn_application(app: Flask, options: dict):
    """A gunicorn application serving ``app`` with ``options``; raises ClickException without gunicorn."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        raise click.ClickException(
            "Chưa cài gunicorn, cần cho lệnh serve: .venv/bin/pip install -e '.[prod]' "
            "(hoặc pip install gunicorn).") from None

    class Application(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)
            self.cfg.set("post_fork", _after_fork)

        def load(self):
            return app

    def _after_fork(server, worker) -> None:
        # a connection opened before the fork (the master's) must never be shared by two processes
        with app.app_context():
            db.engine.dispose(close=False)

    return Application()


def run_gunicorn(app: Flask, options: dict) -> None:
    """Run gunicorn in an empty context: the Flask command line pushes an app context around every
    command, and a worker (a fork serving requests on its main thread) would otherwise see it in every
    request, which would share its ``g`` (the signed-in user, the CSRF token) instead of getting its own."""
    server = gunicorn_application(app, options)
    contextvars.Context().run(server.run)
