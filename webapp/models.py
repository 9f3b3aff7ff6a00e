"""Database models: units and accounts, campaigns and who fills what, values and their history."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, and_, func
from sqlalchemy import false as sa_false
from sqlalchemy import text as sql_text
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .domain.outline import Frame, FrameUnit, Outline
from .extensions import db

ROLE_CLERK, ROLE_COMPILER, ROLE_ADMIN = "clerk", "compiler", "admin"
ROLE_NAMES = {ROLE_CLERK: "Cán bộ nhập liệu", ROLE_COMPILER: "Cán bộ tổng hợp", ROLE_ADMIN: "Quản trị"}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Unit(db.Model):
    """A district, commune, office or organisation; reporting units have a kind of the outline."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    phone: Mapped[str | None] = mapped_column(String(40))
    sort_order: Mapped[int] = mapped_column(default=0)
    # a deactivated unit is offered for no new campaign; its accounts, parts and history stay
    active: Mapped[bool] = mapped_column(default=True, server_default=sa_true())

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.sort_order")

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=ROLE_CLERK)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # set when an administrator resets the password: the next sign-in asks for a new one
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    unit: Mapped[Unit] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # the token of the sign-in session this object was loaded for or signed in with (not a column:
    # set by auth.sessions, read by get_id)
    session_token = None  # str | None

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and remember cookies: the id and the token of this
        sign-in session (a UserSession), so that ending the session on the server ends both cookies."""
        if not self.session_token:
            raise RuntimeError("sign in with auth.routes.start_session(), which gives the user a session token")
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


@functools.cache
def dummy_password_hash() -> str:
    """A hash made the way stored ones are, of a password nobody knows: checked instead of an account's
    when the name is unknown, so that a sign-in takes as long whether the account exists or not."""
    return generate_password_hash(secrets.token_urlsafe(16))


def check_password(user: User | None, password: str) -> bool:
    """The typed password against ``user``'s hash, or against the dummy hash when there is no such
    account (one hash computed either way); never true without an account."""
    if user is None:
        check_password_hash(dummy_password_hash(), password)
        return False
    return user.check_password(password)


class UserSession(db.Model):
    """One sign-in: what the session and remember cookies of a browser stand for (see auth/routes.py).

    The cookies carry ``<user id>:<token>``; only the token's SHA-256 is stored, so a copy of this
    table opens no session. A session ends (``ended_at``) when its user signs out, when the password
    changes (the other sessions of the account) or is reset, or when an administrator ends all of the
    account's sessions; a cookie of an ended session signs nobody in. ``last_seen_at`` is updated at
    most every few minutes, not on every request."""

    __table_args__ = (Index("ix_user_session_user_id_ended_at", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    # logout, password_change, password_reset, sessions_end (an administrator's), expired
    ended_reason: Mapped[str | None] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """The sign-in throttle's count for one username (``user:<name>``) or client address
    (``ip:<address>``); see auth/throttle.py. Rows are short-lived: a row whose failures are all older
    than the window, and whose lockout has ended, is pruned."""

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    # the times (ISO, naive UTC) of the failures that still matter, oldest first, including attempts
    # under way (counted as failures until their password check says otherwise)
    failures: Mapped[list[str]] = mapped_column(JSON)
    # attempts refused by the lockout since the last count written to the audit trail
    throttled: Mapped[int] = mapped_column(default=0, server_default="0")
    last_ip: Mapped[str | None] = mapped_column(String(45))  # of the last refused attempt
    # when the row stops mattering (the last failure plus the window): pruned after that
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class OutlineVersion(db.Model):
    """One version of an outline file, stored as loaded (see webapp/outline_store.py). A stored
    version never changes: the database keeps the text, and a campaign names code and version."""

    __tablename__ = "outline"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of ``source``
    source: Mapped[str] = mapped_column(Text, deferred=True)  # the YAML text, as loaded
    filename: Mapped[str] = mapped_column(String(200), default="")
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    @property
    def ident(self) -> str:
        return f"{self.code}@{self.version}"

    @property
    def outline(self) -> Outline:
        from .outline_store import parsed

        return parsed(self)


class Campaign(db.Model):
    """One collection round: an outline version over some years, its reporting units and deadline,
    and what its documents print (all optional: the request it answers, the issuing body, the
    report's number, date and place, who signs)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    outline_code: Mapped[str] = mapped_column(String(40))
    outline_version: Mapped[int]
    year_from: Mapped[int]
    year_to: Mapped[int]
    compiler_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    deadline: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # what the documents print (issue 13): "Công văn số 1241-CV/HU ngày 03/5/2024 của BTV Huyện ủy"
    request_document: Mapped[str] = mapped_column(String(300), default="", server_default="")
    issuer_name: Mapped[str] = mapped_column(String(200), default="", server_default="")  # HUYỆN ỦY LỘC NINH
    issuer_parent: Mapped[str] = mapped_column(String(200), default="", server_default="")  # ĐẢNG BỘ TỈNH …
    issuer_is_party: Mapped[bool] = mapped_column(default=True, server_default=sa_true())  # else a state body
    report_number: Mapped[str] = mapped_column(String(60), default="", server_default="")  # Số 125-BC/HU
    report_date: Mapped[dt.date | None]
    report_place: Mapped[str] = mapped_column(String(100), default="", server_default="")  # Lộc Ninh
    signer_title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    signer_name: Mapped[str] = mapped_column(String(120), default="", server_default="")

    compiler_unit: Mapped[Unit] = relationship()
    units: Mapped[list[Unit]] = relationship(secondary="campaign_unit", order_by="Unit.sort_order")
    # the deadlines of some kinds of unit, when not the campaign's (see deadline_for)
    kind_deadlines: Mapped[list[CampaignDeadline]] = relationship(
        cascade="all, delete-orphan", order_by="CampaignDeadline.unit_kind")
    outline_row: Mapped[OutlineVersion | None] = relationship(
        primaryjoin=lambda: and_(foreign(Campaign.outline_code) == OutlineVersion.code,
                                 foreign(Campaign.outline_version) == OutlineVersion.version),
        viewonly=True)  # not joined: PostgreSQL refuses FOR SHARE (workflow.lock_part) on an outer join

    @property
    def outline(self) -> Outline:
        """The exact outline version the campaign was created with (stored, never changed)."""
        from .outline_store import outline_of

        return outline_of(self)

    @property
    def compiler_kind(self) -> str | None:
        """The kind of the compiling unit (``huyen``, ``tinh`` …): it chooses a target column's
        ``by_kind`` values."""
        return self.compiler_unit.kind if self.compiler_unit is not None else None

    @property
    def subtitle(self) -> str:
        """The line under the appendix's title: the document that asks for the report."""
        if self.request_document:
            return f"(Kèm theo {self.request_document})"
        return self.outline.subtitle

    @property
    def years(self) -> list[int]:
        return list(range(self.year_from, self.year_to + 1))

    @property
    def frame(self) -> Frame:
        """What the outline's rows are for this campaign: its years and, when a block's rows are the units
        (else they are not read), its reporting units in order."""
        if not any(block.by_unit for table in self.outline.tables for block in table.blocks):
            return Frame(tuple(self.years))
        return Frame(tuple(self.years), tuple(FrameUnit(u.code, u.name, u.kind) for u in self.units))

    def deadline_for(self, kind: str) -> dt.date:
        """The deadline of the units of ``kind``: their own (campaign_deadline), else the campaign's."""
        return next((d.deadline for d in self.kind_deadlines if d.unit_kind == kind), self.deadline)


class CampaignDeadline(db.Model):
    """The deadline of one kind of unit in a campaign, overriding the campaign's (seed 001: communes
    and districts hand in by 31/8, the province later). A kind without a row has the campaign's."""

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    deadline: Mapped[dt.date]


PART_OPEN, PART_SUBMITTED, PART_ACCEPTED = "open", "submitted", "accepted"


class CampaignUnit(db.Model):
    """A reporting unit of a campaign and where its part stands (see webapp/workflow.py).

    ``revision`` counts the writes to the unit's part: bumping it first makes concurrent writes of
    one unit's part wait for each other (see UnitTable.begin_write). ``status`` is open (not started
    or in progress: the unit edits), submitted or accepted (both locked for the unit); a return puts
    it back to open with ``return_reason`` set until the next submission."""

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(20), default=PART_OPEN, server_default=PART_OPEN)
    submitted_at: Mapped[dt.datetime | None]
    submitted_late: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    decided_at: Mapped[dt.datetime | None]  # last acceptance or return
    return_reason: Mapped[str | None] = mapped_column(Text)
    extended_until: Mapped[dt.date | None]  # more time granted to this unit after the deadline
    # nested levels (webapp/nesting.py): the campaign whose assembled appendix is this unit's part (a
    # district's own campaign, feeding the district's part of a province campaign); None: the unit
    # enters its own cells. ``snapshot``: that appendix as it stood at submission (parts.Part.to_json),
    # None while the part is open and assembled live.
    # (no foreign key: a second one to campaign would make every join of Campaign and CampaignUnit
    # ambiguous; campaigns are never deleted, and nesting.link names an existing one)
    source_campaign_id: Mapped[int | None]
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)

    campaign: Mapped[Campaign] = relationship(viewonly=True)
    unit: Mapped[Unit] = relationship(viewonly=True)
    source_campaign: Mapped[Campaign | None] = relationship(
        primaryjoin=lambda: foreign(CampaignUnit.source_campaign_id) == Campaign.id, viewonly=True)


class ReturnNote(db.Model):
    """Where a returned part needs work: a table, optionally a row and a column, with the reason.
    Shown to the unit next to those cells until it submits again (``resolved_at``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    table_code: Mapped[str | None] = mapped_column(String(20))
    row_key: Mapped[str | None] = mapped_column(String(40))
    col_key: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[dt.datetime | None]


class Assignment(db.Model):
    """Unit ``unit_id`` fills column group ``group_key`` (``b0g1``; ``rows`` for a list) of a table."""

    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "table_code", "group_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    table_code: Mapped[str] = mapped_column(String(20))
    group_key: Mapped[str] = mapped_column(String(20))


NOTED = "text IS NOT NULL AND text != ''"  # the values of ix_cell_value_note


class CellValue(db.Model):
    """What one unit entered in one cell: a number (counts, yes/no as 1/0) or a text."""

    # ix_cell_value_owner: what the assembly's sums and the dashboard's counts read, in the order of
    # assignment's unique key (joined in order, the table never read); ix_cell_value_note: the notes
    # only, by cell (a partial index: the few values with a text). Migration f3a8d1c6b902.
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "table_code", "row_key", "col_key"),
                      Index("ix_cell_value_owner", "campaign_id", "unit_id", "table_code", "group_key", "row_key",
                            "col_key", "num"),
                      Index("ix_cell_value_note", "campaign_id", "table_code", "row_key", "col_key", "unit_id",
                            "group_key", postgresql_where=sql_text(NOTED), sqlite_where=sql_text(NOTED)))
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    table_code: Mapped[str] = mapped_column(String(20))
    row_key: Mapped[str] = mapped_column(String(40))
    col_key: Mapped[str] = mapped_column(String(40))
    # the column group of col_key, kept so that assembly joins values to assignments in the database
    group_key: Mapped[str] = mapped_column(String(20))
    num: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class WarningConfirmation(db.Model):
    """A unit confirmed, when submitting, that a flagged value is right (webapp/quality.py).

    One per check breached at one cell (``check_id``: the rule or outline check, see
    checks.Finding); ``detail`` holds the values compared then: the confirmation holds for those
    values only, a change of them opens the warning again."""

    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "table_code", "row_key", "col_key", "check_id",
                                       name="uq_warning_confirmation_cell_check"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    table_code: Mapped[str] = mapped_column(String(20))
    row_key: Mapped[str] = mapped_column(String(40))
    col_key: Mapped[str] = mapped_column(String(40))
    check_id: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(String(300))
    confirmed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


ANSWER, DRAFT = "answer", "draft"


class NarrativeAnswer(db.Model):
    """What a unit wrote for one narrative section of the report (outline.Section), or, with kind
    ``draft``, the compiler's draft of the district's section (unit = the campaign's compiling unit).

    ``html`` is always richtext.clean()'s output. ``version`` rises by one per save: a save names
    the version it edits, so that no save overwrites one it has not seen (as cell values do)."""

    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "section_code", "kind",
                                       name="uq_narrative_answer_section"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    section_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10), default=ANSWER, server_default=ANSWER)
    html: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    unit: Mapped[Unit] = relationship(viewonly=True)


class ListRow(db.Model):
    """One row a unit added to a list table (table I: one document)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    table_code: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class AuditEvent(db.Model):
    """An append-only record of a change: who, when, how, and the old and new value.

    ``action``: cell, list_add/list_edit/list_delete (values); narrative, narrative_draft (a unit's
    answer or the compiler's draft of one section of the report: ``row_key`` the section's key, ``old``
    and ``new`` the cleaned HTML; see narrative.py); submit, accept, return, reopen,
    extend (a unit's part; ``new`` holds the reason or the new date); close, open (a campaign);
    login, login_failed, logout, password_reset, password_change, sessions_end (accounts: ``new``
    holds the username typed, ``ip`` the client); login_locked (a lockout starts: ``old`` user or ip),
    login_throttled (``old`` = how many attempts a lockout refused; see auth/throttle.py). ``via``: web, upload, import, compiler, compiler_import (see workflow.py),
    cli. Rows are never updated or deleted: the database refuses it (triggers of the migration)."""

    __table_args__ = (Index("ix_audit_event_cell", "campaign_id", "unit_id", "table_code", "row_key", "col_key"),
                      Index("ix_audit_event_action_at", "action", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.current_timestamp())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    action: Mapped[str] = mapped_column(String(30))
    via: Mapped[str] = mapped_column(String(20), default="web")
    table_code: Mapped[str | None] = mapped_column(String(20))
    row_key: Mapped[str | None] = mapped_column(String(40))
    col_key: Mapped[str | None] = mapped_column(String(40))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User | None] = relationship(viewonly=True)
    unit: Mapped[Unit | None] = relationship(viewonly=True)
