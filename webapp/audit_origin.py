"""Where every audit event came from, stamped when it is flushed: the client's address for a request,
``cli:ACCOUNT`` (the operating-system account) for a command such as ``import-xlsx``.

The domain code that records changes knows nothing of requests or terminals; stamping here gives
every change an origin without threading one through every call. An event that already has one
(sign-ins record the address themselves) keeps it.
"""

from __future__ import annotations

import getpass

from sqlalchemy import event
from sqlalchemy.orm import Session

from .auth.throttle import client_ip
from .models import AuditEvent

CLI_PREFIX = "cli:"
_ORIGIN_LENGTH = 45  # AuditEvent.ip


def current_origin() -> str | None:
    ip = client_ip()
    if ip:
        return ip
    try:
        account = getpass.getuser()
    except Exception:  # no account name to be had (some containers): the command line all the same
        account = "?"
    return (CLI_PREFIX + account)[:_ORIGIN_LENGTH]


@event.listens_for(Session, "before_flush")
def _stamp_origin(session: Session, flush_context, instances) -> None:
    origin = None
    for obj in session.new:
        if isinstance(obj, AuditEvent) and obj.ip is None:
            origin = origin or current_origin()
            obj.ip = origin
