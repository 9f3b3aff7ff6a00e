"""Settings read from the environment when the app is created (see the README's table)."""

from __future__ import annotations

import logging
import os
import secrets
import stat
import time
from pathlib import Path

from .domain.archive import MAX_FILE_BYTES

log = logging.getLogger(__name__)


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
    """The configured secret; in production a missing one is an error, elsewhere one is made and kept
    in ``instance/secret_key``, a file only its owner can read (0600).

    The file is created with O_CREAT|O_EXCL and mode 0600 in one step, so it is never readable by
    others, not even for a moment, and of several workers starting together one makes the key and
    the others read it. A key file found readable by its group or others is narrowed to 0600, with a
    warning: anyone who read it could sign session cookies for any account."""
    if configured:
        return configured
    if app_env == "production":
        raise RuntimeError("SECRET_KEY must be set when APP_ENV=production")
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_existing_key(path)
    with os.fdopen(fd, "w") as f:  # 0o600 & ~umask: never wider than the owner's
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    return key


def _read_existing_key(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(0o600)
        log.warning("%s was readable by others (mode %04o): narrowed to 0600. If others could read it, "
                    "replace the key (delete the file and restart: everyone signs in again).", path, mode)
    for _ in range(50):  # a worker that lost the race may find the file before its key is written
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it to have a new key made")
