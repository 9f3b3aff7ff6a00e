"""Settings read from the environment when the app is created (see the README's table)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .domain.archive import MAX_FILE_BYTES


class Config:
    """Fixed settings; the ones an installation changes come from from_environment()."""

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # a clerk may keep a table open all day
    # An upload is a template of at most MAX_FILE_BYTES (10 MB) plus the form's envelope; a file
    # just under the limit still reaches the importer, which says how large it is.
    MAX_CONTENT_LENGTH = MAX_FILE_BYTES + 64 * 1024
    TIMEZONE = "Asia/Ho_Chi_Minh"


def from_environment(environ=os.environ) -> dict:
    """APP_ENV, DATABASE_URL, SECRET_KEY, SESSION_COOKIE_SECURE and TRUSTED_PROXIES; unset ones are
    left to defaults."""
    return {
        "APP_ENV": environ.get("APP_ENV", "development"),
        "SQLALCHEMY_DATABASE_URI": environ.get("DATABASE_URL"),
        "SECRET_KEY": environ.get("SECRET_KEY"),
        "SESSION_COOKIE_SECURE": environ.get("SESSION_COOKIE_SECURE", "") == "1",
        # how many reverse proxies in front of the app set X-Forwarded-* (0: trust none)
        "TRUSTED_PROXIES": int(environ.get("TRUSTED_PROXIES") or 0),
    }


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
