"""Which parts the compiler's views and the export count, as chosen in the address (?parts=…).

The appendix page, the breakdown by unit, a cell's drill-down and the web export read the choice
here; every link between them carries it on (``parts_arg``), the default (every part) as no parameter.
"""

from __future__ import annotations

from flask import abort, request, url_for

from ..domain.parts import Counted

# What the selector offers, in this order (Counted.label is the longer phrase that the pages state)
CHOICES = ((Counted.ALL, "Tất cả các phần"), (Counted.SUBMITTED, "Đã nộp và đã duyệt"),
           (Counted.ACCEPTED, "Chỉ đã duyệt"))
BAD_CHOICE = ("Không rõ phần số liệu cần tổng hợp (parts): chọn all, submitted hoặc accepted "
              "(mọi phần, các phần đã nộp và đã duyệt, chỉ các phần đã duyệt).")


def counted_arg(values=None) -> Counted:
    """The choice of ``?parts=`` (or of ``values``' ``parts``, a posted form's; absent: every part);
    an unknown value is a 400 saying the three."""
    try:
        return Counted((request.args if values is None else values).get("parts", Counted.ALL.value))
    except ValueError:
        abort(400, BAD_CHOICE)


def parts_arg(counted: Counted) -> str | None:
    """The value of ``parts`` in a link (None, no parameter, for the default)."""
    return None if counted is Counted.ALL else counted.value


def with_parts(counted: Counted) -> str:
    """This page's address with the choice ``counted`` instead (its other parameters kept)."""
    args = {**(request.view_args or {}), **request.args.to_dict(), "parts": parts_arg(counted)}
    return url_for(request.endpoint, **args)
