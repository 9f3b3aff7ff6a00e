"""The account audit (sign-in, failed sign-in, sign-out, password changes) and sign-in throttling.

The limits (what the README promises):

- a username with ``USER_LIMIT`` failures within ``WINDOW`` (since its last successful sign-in) is
  refused, even with the right password, until ``WINDOW`` after its last failure;
- a client address with ``IP_LIMIT`` failures within ``WINDOW`` is refused the same way.

Refused attempts do not count as failures, so that retrying during the wait does not prolong it.

How it holds under concurrent requests and several workers: the counts live in one LoginThrottle row
per username (``user:<name>``) and per address (``ip:<address>``), holding the times of the failures
that still matter. An attempt first *claims* its right to check a password (``claim()``): one upsert
creates or locks both rows and returns them as they stand under that lock (a row lock on PostgreSQL,
the write lock on SQLite), the lockout is decided on them and the attempt is recorded at once as a
failure, provisionally, in the same transaction, which commits before the password is checked. So
the check and the record are one atomic step, and no database lock is held while the (slow) hash is
computed. Then the attempt is *settled*: a successful sign-in clears the name's row and gives the
provisional failure back to the address (``signed_in()``), a correct current password on the change
page gives both back (``not_failed()``), and a failure keeps it (``failed()``).

The audit trail stays bounded: a failed attempt that was checked is one ``login_failed`` event (at
most the limits per window), the attempt that starts a lockout adds one ``login_locked`` event, and
refused attempts are only counted on the row; the count is written as one ``login_throttled`` event
(``old`` = how many) when the row's window is over: at the key's next attempt, or when the row is
pruned (every claim prunes a few expired rows of other keys).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from flask import has_request_context, request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..dialect import insert_for
from ..extensions import db
from ..models import AuditEvent, LoginThrottle, User, utcnow

WINDOW = dt.timedelta(minutes=15)
USER_LIMIT = 5
IP_LIMIT = 30
PRUNE_BATCH = 20  # expired rows of other keys removed by one claim

LOGIN, LOGIN_FAILED, LOGOUT = "login", "login_failed", "logout"
PASSWORD_RESET, PASSWORD_CHANGE = "password_reset", "password_change"
SESSIONS_END = "sessions_end"  # an administrator ended every session of an account (old = how many)
# a lockout started (old = BY_USER or BY_IP); attempts refused by a lockout (old = how many)
LOCKED, THROTTLED_COUNT = "login_locked", "login_throttled"
BY_USER, BY_IP = "user", "ip"
# why a sign-in failed (AuditEvent.old of a login_failed event)
BAD_PASSWORD, INACTIVE, BAD_CURRENT_PASSWORD = "password", "inactive", "current_password"
THROTTLED = "throttled"  # refused by a lockout: older records only (now counted, see THROTTLED_COUNT)

USER_KEY, IP_KEY = "user:", "ip:"
_KEY_LENGTH, _IP_LENGTH = 80, 45  # LoginThrottle.key, AuditEvent.ip and LoginThrottle.last_ip


def now() -> dt.datetime:
    """The clock of the audit and of the throttle (naive UTC, as AuditEvent.at); tests patch it."""
    return utcnow()


def client_ip() -> str | None:
    """The client's address (the real one behind a reverse proxy when TRUSTED_PROXIES is set)."""
    return (request.remote_addr or None) if has_request_context() else None


def record(action: str, username: str | None, user: User | None = None, *, actor: User | None = None,
           reason: str | None = None, ip: str | None = None, at: dt.datetime | None = None) -> AuditEvent:
    """Add (not commit) an account event: ``username`` as typed (stored lowercased), ``user`` the
    account it is about, ``actor`` who did it when another account (an administrator's reset)."""
    who = actor or user
    event = AuditEvent(at=at or now(), action=action, via="web",
                       new=normalize(username) if username is not None else None, old=reason,
                       user_id=who.id if who else None, unit_id=user.unit_id if user else None,
                       ip=ip or client_ip())
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


@dataclass
class Claim:
    """An attempt's right to check a password, or its refusal (``lockout``)."""

    at: dt.datetime
    name: str  # the username as typed, normalised
    ip: str | None
    lockout: Lockout | None = None
    # the keys whose lockout this attempt starts if it fails (BY_USER / BY_IP)
    locks: list[str] = field(default_factory=list)

    @property
    def stamp(self) -> str:
        """The provisional failure this claim recorded on its rows."""
        return self.at.isoformat()


def _keys(name: str, ip: str | None) -> list[tuple[str, int]]:
    """The rows of an attempt with their limits, in key order (the order rows are locked in, so that
    two attempts never wait for each other crosswise)."""
    keys = [((USER_KEY + name)[:_KEY_LENGTH], USER_LIMIT)]
    if ip:
        keys.append(((IP_KEY + ip)[:_KEY_LENGTH], IP_LIMIT))
    return sorted(keys)


def _lock_rows(session: Session, keys: list[str], at: dt.datetime) -> dict[str, LoginThrottle]:
    """Create the rows that are missing and lock them all for the transaction, in one statement
    (INSERT … ON CONFLICT DO UPDATE … RETURNING): what it returns is each row as it stands under the
    lock, whatever another worker committed just before. On SQLite it is the transaction's first
    write, so the transaction takes the write lock before reading (waiting its turn)."""
    stmt = insert_for(session, LoginThrottle).values(
        [{"key": key, "failures": [], "throttled": 0, "expires_at": at} for key in keys])
    stmt = stmt.on_conflict_do_update(index_elements=[LoginThrottle.key], set_={"key": stmt.excluded.key})
    rows = session.execute(stmt.returning(LoginThrottle.key, LoginThrottle.failures, LoginThrottle.throttled,
                                          LoginThrottle.last_ip, LoginThrottle.expires_at))
    return {row.key: row for row in rows}


def _locked_until(times: list[dt.datetime], limit: int) -> dt.datetime | None:
    """The end of the lockout that ``limit`` failures within WINDOW put in force: WINDOW after the
    last failure of such a run (the latest run), or None."""
    for last in range(len(times) - 1, limit - 2, -1):
        if times[last] - times[last - limit + 1] <= WINDOW:
            return times[last] + WINDOW
    return None


def _write_count(key: str, count: int, last_ip: str | None, at: dt.datetime) -> None:
    """The attempts a lockout refused, as one audit event."""
    if key.startswith(USER_KEY):
        record(THROTTLED_COUNT, key[len(USER_KEY):], reason=str(count), ip=last_ip, at=at)
    else:
        record(THROTTLED_COUNT, None, reason=str(count), ip=key[len(IP_KEY):][:_IP_LENGTH], at=at)


def _store(session: Session, key: str, times: list[dt.datetime], throttled: int, last_ip: str | None,
           at: dt.datetime) -> None:
    """Write a locked row back; a row with nothing left to count is removed."""
    if not times and not throttled:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
        return
    session.execute(LoginThrottle.__table__.update().where(LoginThrottle.key == key).values(
        failures=[t.isoformat() for t in times], throttled=throttled, last_ip=last_ip,
        expires_at=max(times) + WINDOW if times else at))


def _prune(session: Session, at: dt.datetime, own: list[str]) -> None:
    """Remove a few rows of other keys whose window is over, writing their refused attempts' count.
    Rows another transaction holds are skipped (PostgreSQL), so pruning never waits."""
    stale = session.execute(
        select(LoginThrottle.key, LoginThrottle.throttled, LoginThrottle.last_ip)
        .where(LoginThrottle.expires_at <= at, LoginThrottle.key.not_in(own))
        .order_by(LoginThrottle.key).limit(PRUNE_BATCH).with_for_update(skip_locked=True)).all()
    for row in stale:
        if row.throttled:
            _write_count(row.key, row.throttled, row.last_ip, at)
    if stale:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_([row.key for row in stale])))


def claim(username: str, ip: str | None) -> Claim:
    """Decide, and record in the same step, whether this attempt may check a password; commits.

    Refused (``Claim.lockout`` set): counted on the locked rows. Allowed: recorded as a failure on
    the name's and the address's rows until settled by signed_in(), not_failed() or failed()."""
    session = db.session
    at = now()
    result = Claim(at=at, name=normalize(username), ip=ip)
    keys = _keys(result.name, ip)
    rows = _lock_rows(session, [key for key, _ in keys], at)
    counts = []
    for key, limit in keys:
        row = rows[key]
        if row.expires_at <= at:  # its window is over: what it counted no longer matters
            if row.throttled:
                _write_count(key, row.throttled, row.last_ip, at)
            counts.append(_Count(key, limit, [], 0, row.last_ip))
        else:
            times = sorted(t for t in map(dt.datetime.fromisoformat, row.failures) if t > at - 2 * WINDOW)
            counts.append(_Count(key, limit, times, row.throttled, row.last_ip))
    _prune(session, at, [key for key, _ in keys])
    locked = [c for c in counts if c.locked_until(at)]
    if locked:  # the name's lockout is the one to tell, when both are in force
        first = min(locked, key=lambda c: not c.by_user)
        result.lockout = Lockout(by_ip=not first.by_user, until=first.locked_until(at))
        for c in locked:
            c.throttled += 1
            c.last_ip = ip[:_IP_LENGTH] if ip else None
    else:
        for c in counts:
            c.times.append(at)
            if c.locked_until(at):
                result.locks.append(BY_USER if c.by_user else BY_IP)
    for c in counts:
        _store(session, c.key, c.times, c.throttled, c.last_ip, at)
    session.commit()
    return result


@dataclass
class _Count:
    """One locked row's count while a claim decides on it."""

    key: str
    limit: int
    times: list[dt.datetime]  # the failures that still matter
    throttled: int
    last_ip: str | None

    @property
    def by_user(self) -> bool:
        return self.key.startswith(USER_KEY)

    def locked_until(self, at: dt.datetime) -> dt.datetime | None:
        """The end of the lockout in force at ``at``, or None."""
        until = _locked_until(self.times, self.limit)
        return until if until and until > at else None


def _give_back(claim: Claim, clear_name: bool) -> None:
    """Take the claim's provisional failure off its rows (all of the name's, with ``clear_name``)."""
    session = db.session
    keys = [key for key, _ in _keys(claim.name, claim.ip)]
    rows = _lock_rows(session, keys, claim.at)
    for key in keys:
        row = rows[key]
        if clear_name and key.startswith(USER_KEY):
            _forget(session, row)
            continue
        stamps = list(row.failures)
        if claim.stamp in stamps:
            stamps.remove(claim.stamp)
        _store(session, key, sorted(map(dt.datetime.fromisoformat, stamps)), row.throttled, row.last_ip,
               claim.at)


def _forget(session: Session, row) -> None:
    """Remove a locked row (its count of refused attempts written first)."""
    if row.throttled:
        _write_count(row.key, row.throttled, row.last_ip, now())
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == row.key))


def forget_name(username: str) -> None:
    """Clear a username's count and lift its lockout (an administrator's password reset, which the
    lockout message sends the clerk to); the address's count stays (not committed)."""
    key = _keys(normalize(username), None)[0][0]
    _forget(db.session, _lock_rows(db.session, [key], now())[key])


def signed_in(claim: Claim, user: User) -> None:
    """Settle a successful sign-in: the name's count is cleared, the address's failure given back;
    records the ``login`` event (not committed)."""
    _give_back(claim, clear_name=True)
    record(LOGIN, claim.name, user)


def not_failed(claim: Claim) -> None:
    """Settle an attempt whose password was right but that signed nobody in (the change-password
    page): its provisional failure is given back on both rows (not committed)."""
    _give_back(claim, clear_name=False)


def failed(claim: Claim, user: User | None, reason: str) -> None:
    """Settle a failed attempt: its failure stays counted; records ``login_failed`` (and
    ``login_locked`` when it starts a lockout; not committed)."""
    record(LOGIN_FAILED, claim.name, user, reason=reason)
    for by in claim.locks:
        record(LOCKED, claim.name, user, reason=by)
