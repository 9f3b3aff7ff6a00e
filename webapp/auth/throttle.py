"""The account audit (sign-in, failed sign-in, sign-out, password changes) and sign-in throttling.

Every attempt is an AuditEvent (``new`` = the username as typed, lowercased; ``ip`` = the client),
and the throttle counts failures from that table, so that it holds across workers and restarts:

- a username with ``USER_LIMIT`` failures in ``WINDOW`` (since its last successful sign-in) is
  refused, even with the right password, until ``WINDOW`` after its last failure;
- a client address with ``IP_LIMIT`` failures in ``WINDOW`` is refused the same way.

Refused attempts are recorded too (``old`` = "throttled") but not counted, so that retrying
during the wait does not prolong it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import and_, func, or_, select

from ..extensions import db
from ..models import AuditEvent, User, utcnow

WINDOW = dt.timedelta(minutes=15)
USER_LIMIT = 5
IP_LIMIT = 30

LOGIN, LOGIN_FAILED, LOGOUT = "login", "login_failed", "logout"
PASSWORD_RESET, PASSWORD_CHANGE = "password_reset", "password_change"
# why a sign-in failed (AuditEvent.old of a login_failed event)
BAD_PASSWORD, INACTIVE, THROTTLED, BAD_CURRENT_PASSWORD = "password", "inactive", "throttled", "current_password"


def now() -> dt.datetime:
    """The clock of the audit and of the throttle (naive UTC, as AuditEvent.at); tests patch it."""
    return utcnow()


def client_ip() -> str | None:
    """The client's address (the real one behind a reverse proxy when TRUSTED_PROXIES is set)."""
    return (request.remote_addr or None) if has_request_context() else None


def record(action: str, username: str, user: User | None = None, *, actor: User | None = None,
           reason: str | None = None) -> AuditEvent:
    """Add (not commit) an account event: ``username`` as typed (stored lowercased), ``user`` the
    account it is about, ``actor`` who did it when another account (an administrator's reset)."""
    who = actor or user
    event = AuditEvent(at=now(), action=action, via="web", new=normalize(username), old=reason,
                       user_id=who.id if who else None, unit_id=user.unit_id if user else None,
                       ip=client_ip())
    db.session.add(event)
    return event


def normalize(username: str | None) -> str:
    return (username or "").strip().lower()


@dataclass(frozen=True)
class Lockout:
    by_ip: bool  # the client address is locked (else the username)
    until: dt.datetime

    def minutes(self, at: dt.datetime) -> int:
        return max(1, math.ceil((self.until - at).total_seconds() / 60))

    def message(self, at: dt.datetime) -> str:
        minutes = self.minutes(at)
        if self.by_ip:
            return (f"Máy này đã đăng nhập sai quá nhiều lần. Vui lòng đợi {minutes} phút "
                    "rồi thử lại.")
        return (f"Tài khoản này đã nhập sai mật khẩu quá nhiều lần nên tạm bị khóa. Vui lòng đợi "
                f"{minutes} phút rồi thử lại, hoặc liên hệ quản trị để đặt lại mật khẩu.")


def _locked_until(condition, since: dt.datetime, limit: int) -> dt.datetime | None:
    """The end of the lockout that ``limit`` failures within WINDOW (counted since ``since``) put
    in force: WINDOW after the last failure of such a run, or None."""
    times = list(db.session.scalars(
        select(AuditEvent.at).where(
            AuditEvent.action == LOGIN_FAILED, AuditEvent.at >= since, condition,
            or_(AuditEvent.old.is_(None), AuditEvent.old != THROTTLED)).order_by(AuditEvent.at)))
    for last in range(len(times) - 1, limit - 2, -1):
        if times[last] - times[last - limit + 1] <= WINDOW:
            return times[last] + WINDOW
    return None


def lockout(username: str, ip: str | None, at: dt.datetime | None = None) -> Lockout | None:
    """The lockout in force for this username or client address, or None.

    A run of failures that locks ends at most WINDOW before ``at`` and began at most WINDOW before
    its end: failures older than twice the window (or than the last sign-in) no longer matter."""
    at = at or now()
    start = at - 2 * WINDOW
    name = normalize(username)
    last_login = db.session.scalar(select(func.max(AuditEvent.id)).where(
        AuditEvent.action == LOGIN, AuditEvent.at >= start, AuditEvent.new == name))
    by_name = AuditEvent.new == name
    if last_login:
        by_name = and_(by_name, AuditEvent.id > last_login)
    until = _locked_until(by_name, start, USER_LIMIT)
    if until and until > at:
        return Lockout(by_ip=False, until=until)
    if ip:
        until = _locked_until(AuditEvent.ip == ip, start, IP_LIMIT)
        if until and until > at:
            return Lockout(by_ip=True, until=until)
    return None
