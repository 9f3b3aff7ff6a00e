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
