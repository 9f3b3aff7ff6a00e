"""Outlines as stored, versioned data.

An outline version is stored once, with its text, and never changes: a campaign names the code and
version it was created with and reads that text back, whatever is loaded later. The files shipped in
``webapp/outlines/`` are stored by ``flask db upgrade`` (migrations/env.py calls store_shipped).
"""

from __future__ import annotations

import hashlib
import threading
import weakref

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from .domain.outline import Outline, OutlineError, read_outline, shipped_outline_files
from .domain.unit_kinds import kind_names
from .models import AuditEvent, Campaign, OutlineVersion, User


class OutlineConflict(ValueError):
    """Another text is already stored under this code and version."""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


_parsed: dict[str, Outline] = {}
_parsed_lock = threading.Lock()


def parsed(row: OutlineVersion) -> Outline:
    """The stored version's outline, parsed once per process (a stored text never changes, so its
    SHA-256 names it for good)."""
    outline = _parsed.get(row.digest)
    if outline is None:
        outline = read_outline(row.source, f"{row.code}@{row.version}")
        with _parsed_lock:
            _parsed[row.digest] = outline
    return outline


_named: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine → {(code, version): outline}


def outline_of(campaign: Campaign) -> Outline:
    """The outline version ``campaign`` was created with. Its row is read once per process and
    database: a stored version never changes, so a campaign's code and version name it for good
    (a cell save does not read it again)."""
    session = object_session(campaign)
    known = None
    if session is not None and "outline_row" not in campaign.__dict__:
        known = _named.setdefault(session.get_bind(), {})
        outline = known.get((campaign.outline_code, campaign.outline_version))
        if outline is not None:
            return outline
    row = campaign.outline_row
    if row is None:
        raise LookupError(f"campaign {campaign.code} needs {campaign.outline_code}@{campaign.outline_version}, "
                          "which is not stored")
    outline = parsed(row)
    if known is not None:
        known[(campaign.outline_code, campaign.outline_version)] = outline
    return outline


def store_outline(session: Session, text: str, filename: str = "", user: User | None = None,
                  via: str = "web") -> tuple[OutlineVersion, bool]:
    """Validate ``text`` and store it as a new outline version: (the row, True). The same text
    stored before gives (that row, False). Raises OutlineError (every mistake with its place) or
    OutlineConflict (other content under a stored code and version). Flushes, does not commit."""
    outline = read_outline(text, filename or "<outline>")
    digest = sha256(text)
    row = stored_as(session, outline, text, newer_only=via != "upgrade")
    if row is not None:
        return row, False
    row = OutlineVersion(code=outline.code, version=outline.version, title=outline.title, digest=digest,
                         source=text, filename=filename[:200], loaded_by_id=user.id if user else None)
    session.add(row)
    session.add(AuditEvent(user_id=user.id if user else None, action="outline_load", via=via,
                           new=f"{outline.code}@{outline.version}", old=filename[:200] or None))
    session.flush()
    return row, True


def stored_as(session: Session, outline: Outline, text: str, newer_only: bool = True) -> OutlineVersion | None:
    """The stored row holding exactly ``text`` as ``outline``'s code and version, or None when that
    version is not stored yet; raises OutlineConflict when it is stored with other content, or
    (``newer_only``: an administrator's load, not the shipped files) when it is a version below the
    newest stored: a new version has a higher number."""
    row = find(session, outline.code, outline.version)
    latest = latest_version(session, outline.code)
    if row is not None and row.digest != sha256(text):
        raise OutlineConflict(
            f"Đề cương {outline.code} phiên bản {outline.version} đã được nạp với nội dung khác; một phiên bản "
            f"đã lưu không bao giờ thay đổi. Hãy tăng 'version' (phiên bản mới nhất đang có: {latest}).")
    if row is None and newer_only and latest is not None and outline.version < latest:
        raise OutlineConflict(
            f"Đề cương {outline.code} đã có phiên bản {latest}, mới hơn phiên bản {outline.version} của tệp này; "
            f"một phiên bản mới phải có số lớn hơn (version: {latest + 1}).")
    return row


def store_shipped(session: Session) -> list[OutlineVersion]:
    """Store every shipped outline file not stored yet; the new rows. A shipped file whose code and
    version are stored with other content is a release mistake: OutlineConflict names the file."""
    added = []
    for path in shipped_outline_files():
        try:
            row, created = store_outline(session, path.read_text(encoding="utf-8"), path.name, via="upgrade")
        except (OutlineError, OutlineConflict) as exc:
            raise OutlineConflict(f"{path}: {exc}") from exc
        if created:
            added.append(row)
    return added


def find(session: Session, code: str, version: int | None = None) -> OutlineVersion | None:
    """The stored version ``code``@``version``, or the newest of ``code`` without a version."""
    query = select(OutlineVersion).where(OutlineVersion.code == code)
    if version is not None:
        return session.scalar(query.where(OutlineVersion.version == version))
    return session.scalar(query.order_by(OutlineVersion.version.desc()).limit(1))


def latest_version(session: Session, code: str) -> int | None:
    row = find(session, code)
    return row.version if row else None


def stored_outlines(session: Session) -> list[OutlineVersion]:
    """Every stored version, by code then version."""
    return list(session.scalars(select(OutlineVersion).order_by(OutlineVersion.code, OutlineVersion.version)))


def campaigns_by_version(session: Session) -> dict[tuple[str, int], list[Campaign]]:
    """(code, version) → the campaigns created with that outline version, by code."""
    out: dict[tuple[str, int], list[Campaign]] = {}
    for campaign in session.scalars(select(Campaign).order_by(Campaign.code)):
        out.setdefault((campaign.outline_code, campaign.outline_version), []).append(campaign)
    return out


def newest_outlines(session: Session) -> list[Outline]:
    """The newest version of each stored outline."""
    newest: dict[str, OutlineVersion] = {}
    for row in stored_outlines(session):
        newest[row.code] = row
    return [parsed(row) for row in newest.values()]


def unit_kinds(session: Session) -> dict[str, str]:
    """Every kind of unit this installation knows → its Vietnamese name (see domain/unit_kinds.py)."""
    return kind_names(newest_outlines(session))
