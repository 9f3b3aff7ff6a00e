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


CAMPAIGN_STATUS_NAMES = {"open": "Đang mở", "closed": "Đã kết thúc"}

def unit_kind_names() -> dict[str, str]:
    """Every known kind of unit → its name, read once per request (the stored outlines name the
    reporting kinds; see outline_store.unit_kinds)."""
    from flask import g, has_request_context

    from .extensions import db
    from .outline_store import unit_kinds

    if not has_request_context():
        return unit_kinds(db.session)
    if "unit_kind_names" not in g:
        g.unit_kind_names = unit_kinds(db.session)
    return g.unit_kind_names


def unit_kind_name(kind: str | None) -> str:
    """A unit's kind as people say it ("Xã, phường, thị trấn" for ``xa``); an unknown kind as its code."""
    return unit_kind_names().get(kind or "", kind or "")


def place_label(campaign, table_code: str | None, row_key: str | None = None, col_key: str | None = None) -> str:
    """An audit event's or a return note's place in the printed words; a table the campaign's
    outline no longer has is shown by its code."""
    if not table_code:
        return ""
    try:
        table = campaign.outline.table(table_code)
    except KeyError:
        return " · ".join(k for k in (f"Biểu {table_code}", row_key, col_key) if k)
    return table.place_label(campaign.frame, row_key, col_key)


def audit_value(action: str, value: str | None) -> str:
    """An audit event's old or new value as a person reads it: workflow states by their names."""
    from .workflow import STATUS_NAMES

    if value is None:
        return ""
    if action in ("accept", "return", "reopen"):
        return STATUS_NAMES.get(value, value)
    if action in ("close", "open"):
        return CAMPAIGN_STATUS_NAMES.get(value, value)
    return value


def register_templating(app: Flask) -> None:
    from .review.service import ACTION_NAMES, VIA_NAMES
    from .workflow import STATUS_NAMES

    app.jinja_env.filters["vn_number"] = format_number
    app.jinja_env.filters["vn_datetime"] = vn_datetime
    app.jinja_env.filters["unit_kind"] = unit_kind_name
    app.jinja_env.globals.update(status_names=STATUS_NAMES, action_names=ACTION_NAMES, via_names=VIA_NAMES)
    app.jinja_env.filters["vn_date"] = lambda d: d.strftime("%d/%m/%Y") if isinstance(d, dt.date) else format_date(d)
    from .audit_origin import CLI_PREFIX

    app.jinja_env.globals.update(days_left=days_left, place_label=place_label, audit_value=audit_value,
                                 cli_prefix=CLI_PREFIX)
