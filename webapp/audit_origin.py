"""Where every audit event came from, stamped when it is flushed: the client's address for a request,
``cli:ACCOUNT`` (the operating-system account) for a command such as ``import-xlsx``.

The domain code that records changes knows nothing of requests or terminals; stamping here gives
every change an origin without threading one through every call. An event that already has one
(sign-ins record the address themselves) keeps it.
"""

from __future__ import annotations

import getpass

from flask import has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from .auth.throttle import client_ip
from .models import AuditEvent

CLI_PREFIX = "cli:"
_ORIGIN_LENGTH = 45  # AuditEvent.ip


def current_origin() -> str | None:
    """The client's address in a request (None when the server was not told one, e.g. behind a
    unix socket); outside any request, the command line and the account running it."""
    if has_request_context():
        return client_ip()
    try:
        account = getpass.getuser()
    except Exception:  # no account name to be had (some containers): the command line all the same
        account = "?"
    return (CLI_PREFIX + account)[:_ORIGIN_LENGTH]


@event.listens_for(Session, "before_flush")
def _stamp_origin(session: Session, flush_context, instances) -> None:
    events = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.ip is None]
    if events:
        origin = current_origin()
        for obj in events:
            obj.ip = origin
