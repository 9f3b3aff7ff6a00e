"""Settings read from the environment (see the README's table)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class Config:
    """Defaults for the demo; production sets APP_ENV=production, SECRET_KEY and DATABASE_URL."""

    APP_ENV = os.environ.get("APP_ENV", "development")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # default filled in by create_app
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # a clerk may keep a table open all day
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    TIMEZONE = "Asia/Ho_Chi_Minh"


def resolve_secret_key(app_env: str, configured: str | None, instance_path: str) -> str:
    """The configured secret; in production a missing one is an error, elsewhere one is made and kept."""
    if configured:
        return configured
    if app_env == "production":
        raise RuntimeError("SECRET_KEY must be set when APP_ENV=production")
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key)
    return key
