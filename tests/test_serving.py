"""Production serving (webapp/serving.py): the health endpoint, the request log line, the `serve`
command's arguments, and the app served by `serve` with two worker processes."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import _make_app, database_copy, login
from webapp import serving

SERVE_CHECK = ["serve", "--check"]


# --- GET /healthz -----------------------------------------------------------------------------------

def test_health_says_ok_with_the_schema_revision_without_signing_in(client):
    from alembic.script import ScriptDirectory

    response = client.get("/healthz")
    assert response.status_code == 200
    head = ScriptDirectory(str(serving.__file__).rsplit("/webapp/", 1)[0] + "/migrations").get_current_head()
    assert response.get_json() == {"status": "ok", "revision": head}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_health_is_503_when_the_database_is_unreachable(tmp_path, caplog):
    app = _make_app(tmp_path / "no-such-directory" / "x.sqlite")
    with caplog.at_level(logging.WARNING, "webapp.requests"):
        response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
    assert "unreachable" in caplog.text


def test_health_needs_no_csrf_token(demo_db, tmp_path):
    from conftest import _app_on_copy

    for app in _app_on_copy(demo_db, tmp_path, WTF_CSRF_ENABLED=True):
        assert app.test_client().get("/healthz").status_code == 200
        assert app.test_client().head("/healthz").status_code == 200


# --- the request log --------------------------------------------------------------------------------

LINE = re.compile(r"^(GET|POST|HEAD) (\S+) (\d{3}) (\d+\.\d) ms user=(\S+) pid=(\d+)$")


def request_lines(caplog) -> list[tuple[str, ...]]:
    return [LINE.match(r.getMessage()).groups() for r in caplog.records if r.name == "webapp.requests"
            and LINE.match(r.getMessage())]


def test_one_line_per_request_with_method_path_status_duration_and_user(app, caplog):
    from conftest import unit_id  # noqa: F401  (the app is current)
    from webapp.models import User
    from conftest import in_app

    client = app.test_client()
    with caplog.at_level(logging.INFO, "webapp.requests"):
        client.get("/login")
        login(client, "ln-02")
        client.get("/no-such-page")
    lines = request_lines(caplog)
    with in_app() as session:
        clerk_id = str(session.query(User.id).filter_by(username="ln-02").scalar())
    assert [(m, p, s, u) for m, p, s, _, u, _ in lines] == [
        ("GET", "/login", "200", "-"), ("POST", "/login", "302", clerk_id), ("GET", "/no-such-page", "404", clerk_id)]
    assert all(float(d) >= 0 for _, _, _, d, _, _ in lines)
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "webapp.requests")


def test_the_health_check_is_not_logged_at_info(client, caplog):
    with caplog.at_level(logging.INFO, "webapp.requests"):
        client.get("/healthz")
    assert request_lines(caplog) == []
    with caplog.at_level(logging.DEBUG, "webapp.requests"):
        client.get("/healthz")
    assert [line[:3] for line in request_lines(caplog)] == [("GET", "/healthz", "200")]


def test_logging_the_user_costs_no_query(app, caplog):
    """The user id comes from the identity of the user Flask-Login loaded, even once a commit has
    expired it: the log line adds no statement to the request."""
    from sqlalchemy import event

    from webapp.extensions import db

    after_view, statements = [], []

    @app.after_request  # runs before the hooks registered earlier (the log line's among them)
    def view_done(response):
        after_view.append(True)
        return response

    client = login(app.test_client(), "ln-02")
    after_view.clear()

    with app.app_context():
        engine = db.engine
    listener = lambda *args: after_view and statements.append(args[2])  # noqa: E731
    after_view.clear()
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with caplog.at_level(logging.INFO, "webapp.requests"):
            client.post("/logout")  # commits the audit event, which expires the user
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    lines = request_lines(caplog)
    assert lines[-1][0:3] == ("POST", "/logout", "302")
    assert statements == []


# --- the serve command ------------------------------------------------------------------------------

def run_cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def settings(output: str) -> dict[str, str]:
    return dict(line.split(" = ", 1) for line in output.strip().splitlines())


def test_default_workers_are_sized_to_the_cores_and_capped():
    assert serving.default_workers(1) == 3
    assert serving.default_workers(2) == 5
    assert serving.default_workers(4) == 9
    assert serving.default_workers(64) == serving.MAX_WORKERS


def test_serve_check_prints_the_settings_it_would_use(empty_app, monkeypatch):
    monkeypatch.setattr(serving.os, "cpu_count", lambda: 2)
    result = run_cli(empty_app, *SERVE_CHECK)
    assert result.exit_code == 0, result.output
    got = settings(result.stdout)
    assert got["bind"] == "127.0.0.1:8000" and got["workers"] == "5" and got["preload_app"] == "False"
    assert got["accesslog"] == "None"  # the app logs each request itself

    result = run_cli(empty_app, *SERVE_CHECK, "--host", "0.0.0.0", "--port", "9123", "--workers", "3",
                     "--timeout", "30")
    got = settings(result.stdout)
    assert (got["bind"], got["workers"], got["timeout"]) == ("0.0.0.0:9123", "3", "30")
    assert settings(run_cli(empty_app, *SERVE_CHECK, "--host", "::1").stdout)["bind"] == "[::1]:8000"


@pytest.mark.parametrize("args", [["--port", "0"], ["--port", "70000"], ["--workers", "0"], ["--port", "x"]])
def test_serve_refuses_bad_arguments(empty_app, args):
    result = run_cli(empty_app, *SERVE_CHECK, *args)
    assert result.exit_code == 2


def test_serve_runs_gunicorn_with_those_settings(empty_app, monkeypatch):
    ran = {}

    def fake_run(self):
        self.load_config()
        ran.update(bind=self.cfg.bind, workers=self.cfg.workers, app=self.load())

    from gunicorn.app.base import BaseApplication

    monkeypatch.setattr(BaseApplication, "run", fake_run)
    result = run_cli(empty_app, "serve", "--port", "8765", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert ran == {"bind": ["127.0.0.1:8765"], "workers": 2, "app": empty_app}


def test_serve_says_clearly_when_gunicorn_is_missing(empty_app, monkeypatch):
    monkeypatch.setitem(sys.modules, "gunicorn.app.base", None)  # import fails
    result = run_cli(empty_app, "serve")
    assert result.exit_code == 1
    assert "gunicorn" in result.output and "pip install" in result.output


# --- served for real: two workers, a clerk signs in and saves ---------------------------------------

def test_serve_with_two_workers_signs_in_and_saves_through_both(demo_db, tmp_path):
    from test_backup import PROJECT, STREAMS, Browser, free_port, kill_server, production_env, wait_until_up

    with database_copy(demo_db, tmp_path, "served") as url:
        port = free_port()
        log_path = tmp_path / "serve.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "serve", "--port", str(port), "--workers", "2"],
                cwd=PROJECT, env=production_env(url), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                base = wait_until_up(server, f"http://127.0.0.1:{port}", log)
                with urllib.request.urlopen(base + "/healthz", timeout=5) as answer:
                    assert json.load(answer)["status"] == "ok"
                browser = Browser(base)
                browser.sign_in("ln-16")
                statuses: list[int] = []

                def save(cells, start):
                    for i, cell in enumerate(cells * 3):
                        statuses.append(browser.save(*cell, str(start + i)))

                threads = [threading.Thread(target=save, args=(cells, 100 * n)) for n, cells in enumerate(STREAMS)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
                assert statuses and set(statuses) == {200}, statuses
                for _ in range(6):  # no worker serves a stranger as the clerk (a request's context is its own)
                    with urllib.request.urlopen(base + "/", timeout=10) as answer:
                        assert answer.geturl().startswith(base + "/login")
            finally:
                kill_server(server)
        text = log_path.read_text()
        saves = re.findall(r"POST /campaigns/\S+/cells/\S+ 200 [\d.]+ ms user=\d+ pid=(\d+)", text)
        assert len(saves) == len(statuses)
        assert len(set(saves)) == 2, f"the saves were all served by one worker:\n{text[-2000:]}"
        assert "Booting worker" in text  # gunicorn's own log, on stderr
