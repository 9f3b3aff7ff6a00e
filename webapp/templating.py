"""Template filters and globals: Vietnamese numbers and dates, the deadline clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from .domain.values import format_date, format_number


def local_now() -> dt.datetime:
    """Now in the campaigns' time zone (Asia/Ho_Chi_Minh), without tzinfo (as written to workbooks)."""
    return dt.datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).replace(tzinfo=None, microsecond=0)


def local_today() -> dt.date:
    """Today in the campaigns' time zone (Asia/Ho_Chi_Minh)."""
    return local_now().date()


def days_left(deadline: dt.date) -> int:
    """Whole days until the end of the deadline day; 0 on the day itself, negative once past."""
    return (deadline - local_today()).days


def vn_datetime(moment: dt.datetime | None) -> str:
    """A stored time (UTC, naive) as the clerk reads it: local time, "14:05 20/05/2024"."""
    if moment is None:
        return ""
    local = moment.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    return local.strftime("%H:%M %d/%m/%Y")


def register_templating(app: Flask) -> None:
    from .review.service import ACTION_NAMES, VIA_NAMES
    from .workflow import STATUS_NAMES

    app.jinja_env.filters["vn_number"] = format_number
    app.jinja_env.filters["vn_datetime"] = vn_datetime
    app.jinja_env.globals.update(status_names=STATUS_NAMES, action_names=ACTION_NAMES, via_names=VIA_NAMES)
    app.jinja_env.filters["vn_date"] = lambda d: d.strftime("%d/%m/%Y") if isinstance(d, dt.date) else format_date(d)
    app.jinja_env.globals["days_left"] = days_left
