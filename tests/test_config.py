"""Configuration from the environment."""

import pytest

from webapp import create_app
from webapp.config import resolve_secret_key


def test_production_without_secret_key_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        resolve_secret_key("production", None, str(tmp_path))
    with pytest.raises(RuntimeError):
        create_app({"APP_ENV": "production", "SECRET_KEY": None,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})


def test_demo_secret_is_generated_once_and_kept(tmp_path):
    first = resolve_secret_key("development", None, str(tmp_path))
    assert len(first) == 64 and resolve_secret_key("development", None, str(tmp_path)) == first
    assert resolve_secret_key("production", "given", str(tmp_path)) == "given"


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.sqlite"
    assert app.config["SECRET_KEY"] == "from-env" and app.config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.delenv("DATABASE_URL")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"].endswith("instance/phuluc.sqlite")


def test_create_app_in_a_fresh_instance_folder_makes_a_key_file_only_its_owner_reads(tmp_path, monkeypatch):
    """Without SECRET_KEY the key is made in instance/secret_key with mode 0600 whatever the umask
    (created so, never world-readable for a moment): a key others can read lets them forge a
    session cookie for any account."""
    import os
    import stat

    from flask import Flask

    instance = tmp_path / "fresh-instance"
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(instance))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    old_umask = os.umask(0o022)
    try:
        app = create_app({"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    finally:
        os.umask(old_umask)
    assert app.instance_path == str(instance)
    path = instance / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert app.config["SECRET_KEY"] == path.read_text().strip() and len(app.config["SECRET_KEY"]) == 64

def test_an_existing_key_file_readable_by_others_is_tightened_with_a_warning(tmp_path, caplog, monkeypatch):
    import logging
    import os
    import stat

    # an in-process `db upgrade` (the migrated_db fixture) runs Alembic's fileConfig, which disables
    # the loggers that existed before it; a real server logs this at start-up, before any migration
    monkeypatch.setattr(logging.getLogger("webapp.config"), "disabled", False)

    path = tmp_path / "secret_key"
    path.write_text("k" * 64 + "\n")
    os.chmod(path, 0o644)
    with caplog.at_level("WARNING", logger="webapp.config"):
        assert resolve_secret_key("development", None, str(tmp_path)) == "k" * 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert any("secret_key" in r.getMessage() and "0600" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="webapp.config"):  # already private: nothing to say
        assert resolve_secret_key("development", None, str(tmp_path)) == "k" * 64
    assert not caplog.records


def test_two_processes_starting_at_once_keep_one_key(tmp_path):
    """Workers starting together: the file is created exclusively, so the loser reads the winner's
    key instead of overwriting it (or reading a half-written file)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: resolve_secret_key("development", None, str(tmp_path)), range(16)))
    assert len(keys) == 1 and keys == {(tmp_path / "secret_key").read_text().strip()}
