"""A consistent copy of the application's database while the app keeps running (no Flask).

SQLite: the online backup API copies a snapshot of the file (in WAL mode writers go on meanwhile)
into a temporary file next to the target, which is checked and then renamed into place, so the
target is never a half-written copy. PostgreSQL: ``pg_dump --format=custom`` into such a temporary
file, renamed the same way.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL


class BackupError(Exception):
    """A backup that could not be made; the message is for the administrator (Vietnamese)."""


@dataclass
class BackupResult:
    path: str
    source: str  # the database file or the PostgreSQL URL without its password
    size: int
    alembic_version: str | None = None


def backup(url: URL, target: str, force: bool = False) -> BackupResult:
    """Copy the database named by ``url`` (the engine's, already resolved) into ``target``."""
    target = os.path.abspath(target)
    if os.path.isdir(target):
        raise BackupError(f"{target} là một thư mục; hãy cho tên tệp sao lưu.")
    if os.path.exists(target) and not force:
        raise BackupError(f"Tệp {target} đã có; dùng --force để ghi đè.")
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _backup_sqlite(url, target, force)
    if backend == "postgresql":
        return _backup_postgresql(url, target, force)
    raise BackupError(f"Không hỗ trợ sao lưu cơ sở dữ liệu loại '{backend}'.")


# --- the temporary file and its atomic rename ----------------------------------------------------

def _temporary(target: str) -> str:
    directory, name = os.path.split(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise BackupError(f"Không ghi được tệp {target}: {exc}") from None
    os.close(fd)
    return tmp


def _remove(path: str) -> None:
    for leftover in (path, path + "-journal", path + "-wal", path + "-shm"):
        try:
            os.unlink(leftover)
        except FileNotFoundError:
            pass


def _fsync(path: str, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory
    finally:
        os.close(fd)


def _move_into_place(tmp: str, target: str, force: bool) -> None:
    """Rename the finished copy onto ``target``: atomic, and without --force never over a file
    that appeared meanwhile."""
    _fsync(tmp)
    try:
        if force:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if target exists, atomically
            except FileExistsError:
                raise BackupError(f"Tệp {target} đã có; dùng --force để ghi đè.") from None
            except OSError:  # a file system without hard links
                if os.path.exists(target):
                    raise BackupError(f"Tệp {target} đã có; dùng --force để ghi đè.") from None
                os.replace(tmp, target)
            else:
                os.unlink(tmp)
    except BackupError:
        raise
    except OSError as exc:
        raise BackupError(f"Không ghi được tệp {target}: {exc}") from None
    _fsync(os.path.dirname(target), directory=True)


# --- SQLite ------------------------------------------------------------------------------------

def _backup_sqlite(url: URL, target: str, force: bool) -> BackupResult:
    source = url.database
    if not source or source == ":memory:" or source.startswith("file:"):
        raise BackupError(f"Không sao lưu được cơ sở dữ liệu SQLite '{source or ':memory:'}': cần một tệp.")
    source = os.path.abspath(source)
    if not os.path.isfile(source):
        raise BackupError(f"Không có tệp cơ sở dữ liệu {source}.")
    tmp = _temporary(target)
    try:
        try:
            src = sqlite3.connect(Path(source).as_uri() + "?mode=ro", uri=True, timeout=30)
        except sqlite3.Error as exc:
            raise BackupError(f"Không mở được cơ sở dữ liệu {source}: {exc}") from None
        try:
            dst = sqlite3.connect(tmp)
            try:
                # One step (pages=-1): a single read transaction, i.e. one consistent snapshot;
                # in WAL mode the app's writers are not blocked meanwhile.
                src.backup(dst, pages=-1)
                # The copy is one self-contained file, not a WAL database with side files.
                dst.execute("PRAGMA journal_mode=DELETE")
                problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
                if problems != ["ok"]:
                    raise BackupError("Bản sao không qua được kiểm tra toàn vẹn: " + "; ".join(problems[:5]))
                version = _alembic_version(dst)
            finally:
                dst.close()
        except sqlite3.Error as exc:
            raise BackupError(f"Sao lưu {source} không thành công: {exc}") from None
        finally:
            src.close()
        size = os.path.getsize(tmp)
        _move_into_place(tmp, target, force)
    except BaseException:
        _remove(tmp)
        raise
    return BackupResult(target, source, size, version)


def _alembic_version(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


# --- PostgreSQL --------------------------------------------------------------------------------

def libpq_url(url: URL) -> tuple[str, str | None]:
    """The libpq URL of a SQLAlchemy one (``postgresql+psycopg://`` → ``postgresql://``) without its
    password, and the password (for PGPASSWORD, so it never shows in the process list)."""
    password = url.password
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                       database=url.database, query=url.query)
    return plain.render_as_string(hide_password=False), (str(password) if password is not None else None)


def pg_dump_command(conninfo: str, target: str) -> list[str]:
    return ["pg_dump", "--format=custom", "--file", target, conninfo]


def _backup_postgresql(url: URL, target: str, force: bool) -> BackupResult:
    conninfo, password = libpq_url(url)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        command = shlex.join(pg_dump_command(conninfo, target))
        hint = " (mật khẩu qua biến môi trường PGPASSWORD)" if password else ""
        raise BackupError("Không tìm thấy pg_dump trên PATH. Cài gói postgresql-client cùng phiên bản với "
                          f"máy chủ rồi chạy lại lệnh này, hoặc tự chạy{hint}:\n  {command}")
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    tmp = _temporary(target)
    try:
        try:
            done = subprocess.run([pg_dump, *pg_dump_command(conninfo, tmp)[1:]], env=env,
                                  capture_output=True, text=True)
        except OSError as exc:
            raise BackupError(f"Không chạy được pg_dump: {exc}") from None
        if done.returncode != 0:
            raise BackupError(f"pg_dump không thành công (mã {done.returncode}):\n{done.stderr.strip()}")
        size = os.path.getsize(tmp)
        if size == 0:
            raise BackupError("pg_dump không ghi gì vào tệp sao lưu.")
        _move_into_place(tmp, target, force)
    except BaseException:
        _remove(tmp)
        raise
    return BackupResult(target, conninfo, size)
