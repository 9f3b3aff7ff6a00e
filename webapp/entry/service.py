"""Entry of a unit's own cells: who owns what, reading a unit's table, saving checked values.

No Flask here: views and the command line call these with the session, the campaign, the unit and
the user. Every save writes its audit event in the same transaction.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from ..domain.checks import Finding, check_rules
from ..domain.layout import Cell, Layout, LayoutRow, shared_layout
from ..domain.outline import Table
from ..domain.ownership import Ownership
from ..domain.values import REQUIRED_IN_ROW, Parsed, ValueProblem, parse_input, row_values, show, this_row
from ..audit_origin import current_origin
from ..models import Assignment, AuditEvent, Campaign, CampaignUnit, CellValue, ListRow, ReturnNote, Unit, User, utcnow
from ..quality import unit_check_findings
from ..workflow import LockedPart, Refused, closed_reason, lock_part


class NotOwned(PermissionError):
    """The unit does not fill this cell (another unit's, a derived or a fixed cell)."""


@dataclass(slots=True)
class StoredValue:
    """A stored cell value as a part reads and writes it (plain data, not an ORM object: a save
    neither loads nor flushes objects)."""

    id: int
    num: int | None
    text: str | None
    version: int


class Conflict(Exception):
    """The cell changed since the page showed it: nothing was stored. ``current`` is the stored value."""

    def __init__(self, current: StoredValue | None, shown: str):
        self.current = current
        self.shown = shown  # the current value as the page shows it
        super().__init__("Ô này vừa được người khác sửa")


def begin_write(session: Session, campaign: Campaign, unit: Unit, via: str) -> CampaignUnit:
    """Lock the unit's part for the transaction and make sure it may be written now (status, deadline);
    returns the part's state read under the lock; raises workflow.Refused with the reason, the lock
    released."""
    return check_open(session, campaign, lock_part(session, campaign, unit), via)


def check_open(session: Session, campaign: Campaign, cu: CampaignUnit, via: str) -> CampaignUnit:
    """``cu`` (read under the part's lock) if the part may be written now; else roll back (the lock
    released) and raise workflow.Refused with the reason."""
    reason = closed_reason(campaign, cu, via)
    if reason:
        session.rollback()
        raise Refused(reason)
    return cu


def owned_groups(session: Session, campaign: Campaign, unit: Unit,
                 table_code: str | None = None) -> dict[str, set[str]]:
    """table code → the column groups (``b0g1``, or ``rows`` for a list) that ``unit`` fills; with
    ``table_code``, that table's only."""
    owned: dict[str, set[str]] = defaultdict(set)
    query = (select(Assignment.table_code, Assignment.group_key)
             .where(Assignment.campaign_id == campaign.id, Assignment.unit_id == unit.id))
    if table_code is not None:
        query = query.where(Assignment.table_code == table_code)
    for table_code, group_key in session.execute(query):
        owned[table_code].add(group_key)
    return owned


def default_assignments(campaign: Campaign, units: list[Unit]) -> list[Assignment]:
    """Who fills what, from the outline's owner kinds: every group to every unit of its kind."""
    out = []
    for table in campaign.outline.tables:
        for unit in units:
            if table.is_list:
                if unit.kind in table.owner:
                    out.append(Assignment(campaign_id=campaign.id, unit_id=unit.id,
                                          table_code=table.code, group_key="rows"))
                continue
            for gkey, group in table.groups:
                if unit.kind in group.owner:
                    out.append(Assignment(campaign_id=campaign.id, unit_id=unit.id,
                                          table_code=table.code, group_key=gkey))
    return out


@dataclass
class CellView:
    """What a page shows for one cell of a unit's table."""

    cell: Cell
    editable: bool
    owned: bool  # the unit's group (inputs, and its fixed and derived cells)
    text: str = ""
    error: str | None = None
    warning: str | None = None
    version: int = 0  # of the stored value, sent back with a change to detect lost updates

    @property
    def column(self):
        return self.cell.column

    @property
    def dom_id(self) -> str:
        return f"cell-{self.cell.row_key}-{self.column.key}"

    @property
    def name(self) -> str:
        return f"cell:{self.cell.row_key}:{self.column.key}"

    @property
    def shown(self) -> tuple:
        """What the page draws of the cell that a value can change (its css class follows from these)."""
        return self.text, self.error, self.warning, self.version


@dataclass
class RowView:
    row: LayoutRow
    cells: list[CellView] = field(default_factory=list)

    @property
    def dom_id(self) -> str:
        return f"row-{self.row.block}-{self.row.key}"

    def cell(self, column_key: str) -> CellView:
        return next(cv for cv in self.cells if cv.column.key == column_key)


@dataclass
class Saved:
    """The outcome of a one-cell save."""

    changed: bool  # a value was stored (with its audit event); False: it was already the stored one
    cells: list[CellView]  # the saved cell, then the cells of its layout row whose view the save changed


class UnitTable:
    """A unit's part of one grid table: its stored values laid out, with derived cells and flags.

    With ``row_key`` only that row is read (its values in every block, which its rules read): what
    a one-cell save needs. Such a part knows nothing of the other rows and refuses to answer for them.
    """

    def __init__(self, session: Session, campaign: Campaign, unit: Unit, table: Table,
                 groups: set[str] | None = None, row_key: str | None = None):
        self.session, self.campaign, self.unit, self.table = session, campaign, unit, table
        self.row_key = row_key
        self.groups = owned_groups(session, campaign, unit, table.code)[table.code] if groups is None else groups
        self.ownership = Ownership.of(table, self.groups, unit.code)
        self.layout: Layout = shared_layout(table, campaign.frame)
        self.changes = 0  # values changed through this object (for import summaries)
        self._stored: dict[tuple[str, str], StoredValue] | None = None
        self._state: CampaignUnit | None = None  # the part's state, once read under the write lock
        self._check_findings: dict[str, list[Finding]] | None = None

    @property
    def stored(self) -> dict[tuple[str, str], StoredValue]:
        """The stored values by (row key, column key), read when first needed and again under the
        write lock (a save reads them once, after taking the lock)."""
        if self._stored is None:
            self._read()
        return self._stored

    def _read(self, rows=None) -> None:
        """``rows``: the values already read under the lock (workflow.LockedPart.values)."""
        if rows is None:
            params = {"campaign_id": self.campaign.id, "unit_id": self.unit.id, "table_code": self.table.code}
            if self.row_key is None:
                rows = self.session.execute(_READ_TABLE, params)
            else:
                rows = self.session.execute(_READ_ROW, {**params, "row_key": self.row_key})
        self._stored = {(row_key, col_key): StoredValue(id, num, text, version)
                        for id, row_key, col_key, num, text, version in rows}

    def _require_read(self, row_key: str) -> None:
        """A part read for one row answers for that row only (the others would look empty)."""
        if self.row_key is not None and row_key != self.row_key:
            raise LookupError(f"row {row_key} of {self.table.code} was not read (this part holds row {self.row_key})")

    def begin_write(self, via: str, locked: LockedPart | None = None) -> None:
        """Lock the unit's part, check it may be written, and re-read its values, so that checks see
        what others just saved. ``locked``: the caller took the lock already, and read the part's
        state and this part's row under it (workflow.lock_table_part)."""
        if locked is None:
            self._state = begin_write(self.session, self.campaign, self.unit, via)
            self._read()
        else:
            self._state = check_open(self.session, self.campaign, locked.state, via)
            self._read(locked.values)

    def owns(self, row_key: str, column_key: str) -> bool:
        return self.ownership.owns(row_key, column_key)

    @functools.cached_property
    def unit_kind(self) -> str | None:
        """The compiling unit's kind, read only for a table whose targets depend on it (``by_kind``)."""
        return self.campaign.compiler_kind if any(c.kind.reads_unit_kind for c in self.table.columns) else None

    def numbers(self, row_key: str) -> dict[str, int | None]:
        """The unit's numbers in one row, with its fixed 1 in the "Tổng số" of the cells it owns."""
        self._require_read(row_key)

        def value_of(key: str) -> int | None:
            stored = self.stored.get((row_key, key))
            return stored.num if stored else None

        return self.ownership.numbers(row_key, value_of)

    def row_view(self, lrow: LayoutRow, typed: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None) -> RowView:
        """The row as shown; ``typed`` keeps what the clerk typed in cells refused with ``errors``."""
        typed, errors = typed or {}, errors or {}
        numbers = self.numbers(lrow.key)
        values = row_values(self.table.columns, numbers, lrow.key, self.unit_kind)
        block = self.table.blocks[lrow.block]
        warnings: dict[str, str] = {}
        for breach in check_rules(block, values):
            for key in breach.columns:
                if breach.rule.level == "warning":
                    warnings.setdefault(key, breach.message)
                else:  # stored before a rule existed, or by an older version: show it
                    errors.setdefault(key, breach.message)
        for finding in self.check_findings.get(lrow.key, []):  # the outline's checks across tables, units, periods
            (warnings if finding.level == "warning" else errors).setdefault(finding.col_key, finding.message)
        view = RowView(lrow)
        for cell in lrow.cells:
            c = cell.column
            owned = self.owns(lrow.key, c.key) and not cell.total
            cv = CellView(cell, editable=owned and c.is_input, owned=owned)
            if c.key in typed:
                cv.text = typed[c.key]
            elif c.is_derived:
                cv.text = c.kind.show(values[c.key]) if owned else ""
            elif not c.is_input and c.is_numeric:  # a unit count's 1, a target
                cv.text = c.kind.show(values[c.key])
            else:
                stored = self.stored.get((lrow.key, c.key))
                cv.text = show(c, stored.num, stored.text) if stored else ""
            cv.version = self.version(lrow.key, c.key)
            cv.error = errors.get(c.key)
            cv.warning = None if cv.error else warnings.get(c.key)
            view.cells.append(cv)
        return view

    @property
    def check_findings(self) -> dict[str, list[Finding]]:
        """The findings of the outline's checks (same, covers, outlier) at this table's cells of
        the unit, by row key; read once, again after a value is stored."""
        if self._check_findings is None:
            self._check_findings = defaultdict(list)
            for finding in unit_check_findings(self.session, self.campaign, self.unit):
                if finding.table_code == self.table.code:
                    self._check_findings[finding.row_key].append(finding)
        return self._check_findings

    def check_errors(self, new: dict[tuple[str, str], Parsed]) -> dict[tuple[str, str], str]:
        """The outline's error checks that ``new`` values (row key, column key) would break at their cells."""
        if not self.campaign.outline.checks:
            return {}
        changes = {(self.table.code, r, c): p.num for (r, c), p in new.items() if self.table.column(c).is_numeric}
        return {(f.row_key, f.col_key): f.message
                for f in unit_check_findings(self.session, self.campaign, self.unit, changes)
                if f.level == "error" and f.table_code == self.table.code and (f.row_key, f.col_key) in new}

    def rows(self) -> list[RowView]:
        return [self.row_view(r) for r in self.layout.rows if self.row_key in (None, r.key)]

    @functools.cached_property
    def notes(self) -> dict[tuple[str | None, str | None], list[str]]:
        """The compiler's open return notes on this table, by (row key, column key); None: any."""
        out: dict[tuple[str | None, str | None], list[str]] = defaultdict(list)
        if self._state is not None and not self._state.return_reason:
            return out  # open notes are those of a return, resolved at the next submission
        query = select(ReturnNote).where(
            ReturnNote.campaign_id == self.campaign.id, ReturnNote.unit_id == self.unit.id,
            ReturnNote.table_code == self.table.code, ReturnNote.resolved_at.is_(None))
        if self.row_key is not None:  # the notes at this row, or at a whole column
            query = query.where(or_(ReturnNote.row_key == self.row_key, ReturnNote.row_key.is_(None)))
        for note in self.session.scalars(query.order_by(ReturnNote.id)):
            out[(note.row_key, note.col_key)].append(note.text)
        return out

    def notes_at(self, row_key: str, column_key: str) -> list[str]:
        """Return notes that point at this cell: at it, at its row, or at its column."""
        return (self.notes.get((row_key, column_key), []) + self.notes.get((row_key, None), [])
                + self.notes.get((None, column_key), []))

    def input_column(self, row_key: str, column_key: str):
        """The column of a cell this unit may fill; raises NotOwned for any other cell."""
        self._require_read(row_key)
        try:
            column = self.table.column(column_key)
            self.layout.find(row_key, column_key)
        except KeyError:
            raise NotOwned(f"{row_key}/{column_key}") from None
        if not self.ownership.may_enter(row_key, column_key):
            raise NotOwned(f"{row_key}/{column_key}")
        return column

    def check(self, row_key: str, column_key: str, raw: object) -> Parsed:
        """Parse and check one value against the row's hard rules; raises ValueProblem or NotOwned."""
        column = self.input_column(row_key, column_key)
        parsed = parse_input(column, raw)
        if column.is_numeric:
            numbers = self.numbers(row_key)
            numbers[column_key] = parsed.num
            block = self.table.block_of(column_key)
            for breach in check_rules(block, row_values(self.table.columns, numbers, row_key), level="error"):
                if column_key in breach.columns:
                    raise ValueProblem(breach.message)
            for message in self.check_errors({(row_key, column_key): parsed}).values():
                raise ValueProblem(message)
        return parsed

    def store(self, row_key: str, column_key: str, parsed: Parsed, user: User | None, via: str) -> bool:
        """Write a checked value (and its audit event); False when nothing changed."""
        current = self.stored.get((row_key, column_key))
        old = _value_of(current)
        if old == _value_of(parsed):
            return False
        column = self.table.column(column_key)
        user_id = user.id if user else None
        value = {"num": parsed.num, "text": parsed.text, "updated_by_id": user_id, "updated_at": utcnow()}
        # written at once, without ORM objects (statements built once: see _WRITE_CELL)
        if current is None:
            new = self.session.execute(_INSERT_CELL, {
                **value, "campaign_id": self.campaign.id, "unit_id": self.unit.id, "table_code": self.table.code,
                "row_key": row_key, "col_key": column_key, "group_key": self.table.group_key_of(column_key),
                "version": 1})
            self.stored[(row_key, column_key)] = StoredValue(new.inserted_primary_key[0], parsed.num, parsed.text, 1)
        else:
            self.session.execute(_UPDATE_CELL, {**value, "cell_id": current.id, "version": current.version + 1})
            current.num, current.text, current.version = parsed.num, parsed.text, current.version + 1
        self._check_findings = None  # judged again with the new value
        self.changes += 1
        self.session.execute(_INSERT_AUDIT, {
            "at": value["updated_at"], "user_id": user_id, "campaign_id": self.campaign.id, "unit_id": self.unit.id,
            "action": "cell", "via": via, "table_code": self.table.code, "row_key": row_key, "col_key": column_key,
            "old": show(column, *old) or None, "new": show(column, parsed.num, parsed.text) or None,
            "ip": current_origin()})
        return True

    def version(self, row_key: str, column_key: str) -> int:
        """The stored version of a cell (0: never stored), sent with the page to detect lost updates."""
        stored = self.stored.get((row_key, column_key))
        return stored.version if stored else 0

    def save(self, row_key: str, column_key: str, raw: object, user: User | None, via: str,
             expected_version: int | None = None, commit: bool = True, locked: LockedPart | None = None) -> Saved:
        """Check and store one value; raises ValueProblem (nothing stored), NotOwned, Refused (the
        part is locked; rolled back) or Conflict (``expected_version`` is not the stored one and the
        value sent is not the one stored now: a retry of a save that went through is no conflict).

        Returns the saved cell's view and those of its row that the save changed (derived rates,
        rule messages), computed before the transaction ends. ``commit``: commit if something
        changed, else roll back (either ends the lock), also on ValueProblem, NotOwned and Conflict;
        without it the caller ends the transaction (and may still draw the part's cells before).
        ``locked``: the lock the caller took, with what it read (see begin_write).
        """
        self.begin_write(via, locked)
        try:
            column = self.input_column(row_key, column_key)
            current = self.stored.get((row_key, column_key))
            try:
                same = _value_of(current) == _value_of(parsed := parse_input(column, raw))
            except ValueProblem:
                same = False
            if not same and expected_version is not None and expected_version != self.version(row_key, column_key):
                # changed meanwhile (a typing mistake too: the redrawn cell must not carry the new version)
                raise Conflict(current, show(column, *_value_of(current)))
            if not same:  # the value stored already (a retry) is not checked again
                parsed = self.check(row_key, column_key, raw)  # ValueProblem: a typing mistake, a broken rule
        except (ValueProblem, NotOwned, Conflict):
            if commit:
                self.session.rollback()  # release the lock
            raise
        lrow = self.layout.find_row(row_key, column_key)
        before = self.row_view(lrow)
        changed = self.store(row_key, column_key, parsed, user, via)
        after = self.row_view(lrow)
        cells = [after.cell(column_key)] + [
            cv for old, cv in zip(before.cells, after.cells) if cv.column.key != column_key and cv.shown != old.shown]
        if commit:
            self.session.commit() if changed else self.session.rollback()  # either ends the lock
        return Saved(changed, cells)

    def save_many(self, raw: dict[tuple[str, str], object], user: User | None, via: str,
                  commit: bool = True, versions: dict[tuple[str, str], int] | None = None
                  ) -> dict[tuple[str, str], str]:
        """Check every value, then store all of them or none; returns the refused cells' messages.

        Values are checked together: a row's rules see the other new values of the same row. With
        ``versions`` (the versions the page showed), a cell changed meanwhile by someone else is
        refused unless the value sent is the one now stored. Raises Refused when the part is locked.
        """
        self.begin_write(via)
        errors: dict[tuple[str, str], str] = {}
        self.conflicts: set[tuple[str, str]] = set()  # refused because changed meanwhile: redrawn as stored
        parsed: dict[tuple[str, str], Parsed] = {}
        for key, value in raw.items():
            column = self.input_column(*key)
            shown, current = (versions or {}).get(key), self.stored.get(key)
            stale = shown is not None and shown != self.version(*key)
            try:
                parsed[key] = parse_input(column, value)
            except ValueProblem as exc:
                problem = str(exc)
            else:
                problem = None
                if not stale or current is None or _value_of(current) == _value_of(parsed[key]):
                    continue  # to store: unchanged meanwhile, or what is stored now
            if stale:  # changed meanwhile (a typing mistake too: the redrawn cell must not carry the new version)
                errors[key] = conflict_message(show(column, *_value_of(current)))
                self.conflicts.add(key)
            else:
                errors[key] = problem
        by_row: dict[str, dict[str, Parsed]] = defaultdict(dict)
        for (row_key, col_key), p in parsed.items():
            by_row[row_key][col_key] = p
        for row_key, new in by_row.items():
            numbers = self.numbers(row_key)
            numbers.update({k: p.num for k, p in new.items() if self.table.column(k).is_numeric})
            values = row_values(self.table.columns, numbers, row_key)
            for block in self.table.blocks:
                for breach in check_rules(block, values, level="error"):
                    for key in breach.columns:
                        if key in new and (row_key, key) not in errors:
                            errors[(row_key, key)] = breach.message
        for key, message in self.check_errors(parsed).items():
            errors.setdefault(key, message)
        if errors:
            if commit:
                self.session.rollback()  # release the lock
            return errors
        changed = False
        for (row_key, col_key), p in parsed.items():
            changed |= self.store(row_key, col_key, p, user, via)
        if commit:
            self.session.commit() if changed else self.session.rollback()  # either ends the lock
        return {}


# A part's reads and writes of values, built once (a save builds no statement).
_CELL, _AUDIT = CellValue.__table__, AuditEvent.__table__
_READ_TABLE = (select(_CELL.c.id, _CELL.c.row_key, _CELL.c.col_key, _CELL.c.num, _CELL.c.text, _CELL.c.version)
               .where(_CELL.c.campaign_id == bindparam("campaign_id"), _CELL.c.unit_id == bindparam("unit_id"),
                      _CELL.c.table_code == bindparam("table_code")))
_READ_ROW = _READ_TABLE.where(_CELL.c.row_key == bindparam("row_key"))
_INSERT_CELL = _CELL.insert()
_UPDATE_CELL = _CELL.update().where(_CELL.c.id == bindparam("cell_id"))
_INSERT_AUDIT = _AUDIT.insert()


def _value_of(value: StoredValue | Parsed | None) -> tuple[int | None, str | None]:
    """(number, text) of a stored or parsed value; (None, None) for a cell never stored."""
    return (value.num, value.text) if value is not None else (None, None)


ROW_GONE = "Văn bản này không còn trong danh mục (có thể vừa bị xóa)."  # row_gone() of a list of documents


def row_gone(table: Table) -> str:
    """Why a list row cannot be edited or removed: someone removed it meanwhile."""
    return f"{this_row(table)} không còn trong danh mục (có thể vừa bị xóa)."


class RowGone(Refused):
    """The document was removed meanwhile: nothing to edit or remove (only this row is refused,
    not the whole part)."""


def conflict_message(current: str, what: str = "Ô này") -> str:
    """Why a change was not stored: ``what`` ("Ô này", a list row: values.this_row) changed meanwhile to ``current``."""
    return (f"{what} vừa được người khác sửa thành «{current or 'trống'}»; giá trị của bạn chưa được lưu. "
            f"Xem lại rồi nhập lại nếu vẫn muốn thay.")




def _describe(table: Table, data: dict | None) -> str | None:
    """A list row as one line of text for the audit trail."""
    if not data:
        return None
    return " | ".join(show(c, None, data.get(c.key)) for c in table.columns if c.is_input)


class OverQuota(Exception):
    """A list row the outline's quota refuses (a third "Tập thể" where 2 are allowed per unit):
    nothing was stored, the lock released. ``column``: the quota's column; ``str()``: the message."""

    def __init__(self, column: str, message: str):
        self.column = column
        super().__init__(message)


class UnitList:
    """A unit's rows of a list table (table I): added, edited and removed one at a time."""

    def __init__(self, session: Session, campaign: Campaign, unit: Unit, table: Table,
                 groups: set[str] | None = None):
        self.session, self.campaign, self.unit, self.table = session, campaign, unit, table
        self.groups = owned_groups(session, campaign, unit)[table.code] if groups is None else groups
        self.rows: list[ListRow] = list(session.scalars(
            select(ListRow).where(ListRow.campaign_id == campaign.id, ListRow.unit_id == unit.id,
                                  ListRow.table_code == table.code).order_by(ListRow.id)))
        self.changes = 0
        self._writing = False

    @property
    def editable(self) -> bool:
        return "rows" in self.groups

    @property
    def input_columns(self):
        return [c for c in self.table.columns if c.is_input]

    def parse(self, raw: dict[str, object]) -> tuple[dict[str, str] | None, dict[str, str]]:
        """(data, errors) for one row; (None, {}) when the row is entirely blank (no document)."""
        data: dict[str, str] = {}
        errors: dict[str, str] = {}
        for c in self.input_columns:
            try:
                parsed = parse_input(c, raw.get(c.key))
            except ValueProblem as exc:
                errors[c.key] = str(exc)
                continue
            if parsed.text is not None:
                data[c.key] = parsed.text
        if not data and not errors:
            return None, {}
        for c in self.input_columns:
            if c.required and c.key not in data and c.key not in errors:
                errors[c.key] = REQUIRED_IN_ROW
        return (None if errors else data), errors

    def row(self, row_id: int) -> ListRow:
        for r in self.rows:
            if r.id == row_id:
                return r
        raise NotOwned(f"list row {row_id}")

    def _require_editable(self, via: str) -> None:
        if not self.editable:
            raise NotOwned(self.table.code)
        if not self._writing:  # once per transaction: the lock is held until commit or rollback
            begin_write(self.session, self.campaign, self.unit, via)
            self._writing = True

    def quota_usage(self) -> list[tuple[str, int, int]]:
        """(category, rows of it, at most) for each category of the table's quota (none without one)."""
        quota = self.table.quota
        if quota is None:
            return []
        return [(category, sum(1 for r in self.rows if r.data.get(quota.column) == category), n)
                for category, n in quota.per_unit]

    def check_quota(self, categories: set | None = None) -> None:
        """Under the part's lock, the unit's rows as they stand in this transaction against the quota
        (of ``categories`` only when given: an edit that leaves a row's category alone is never
        refused for it); on a breach roll back (nothing stored, the lock released) and raise OverQuota.
        Writers of several rows at once (a whole page, a template) check once, after all of them."""
        quota = self.table.quota
        if quota is None:
            return
        stored = self.session.scalars(select(ListRow.data).where(
            ListRow.campaign_id == self.campaign.id, ListRow.unit_id == self.unit.id,
            ListRow.table_code == self.table.code))
        problem = quota.breach(list(stored), categories)
        if problem:
            self.session.rollback()
            self._writing = False
            raise OverQuota(quota.column, problem)

    def _category(self, data: dict | None) -> set:
        return {data.get(self.table.quota.column)} if data and self.table.quota else set()

    def add(self, data: dict[str, str], user: User | None, via: str, commit: bool = True,
            check_quota: bool = True) -> ListRow:
        """Add a document; one already listed with exactly these fields is returned instead of
        added twice (a page sending its addition again after a lost answer must not duplicate it:
        the assembly counts such rows as one document anyway). Raises OverQuota for a row over the
        table's quota (``check_quota`` False: the caller checks the whole list once, check_quota())."""
        self._require_editable(via)
        for existing in self.session.scalars(select(ListRow).where(  # under the lock: what is stored now
                ListRow.campaign_id == self.campaign.id, ListRow.unit_id == self.unit.id,
                ListRow.table_code == self.table.code)):
            if existing.data == data:
                self._end(commit)
                return existing
        row = ListRow(campaign_id=self.campaign.id, unit_id=self.unit.id, table_code=self.table.code,
                      data=data, updated_by_id=user.id if user else None)
        self.session.add(row)
        self.session.flush()  # the row's id, so that its history starts with its addition
        if check_quota:
            self.check_quota(self._category(data))
        self.rows.append(row)
        self._audit("list_add", None, data, user, via, row_key=str(row.id))
        self._end(commit)
        return row

    def update(self, row: ListRow, data: dict[str, str], user: User | None, via: str, commit: bool = True,
               expected_version: int | None = None, check_quota: bool = True) -> bool:
        """Replace a row's data; raises Conflict when ``expected_version`` (the page's) is not the stored
        one, OverQuota when the row moves to a category already at its quota (see add)."""
        self._require_editable(via)
        self._reread(row, expected_version, data)
        if row.data == data:
            return False
        old = row.data
        row.data = dict(data)
        if check_quota and self._category(data) != self._category(old):
            self.session.flush()
            self.check_quota(self._category(data))
        row.version += 1
        row.updated_by_id = user.id if user else None
        self._audit("list_edit", old, data, user, via, row_key=str(row.id))
        self._end(commit)
        return True

    def delete(self, row: ListRow, user: User | None, via: str, commit: bool = True,
               expected_version: int | None = None) -> None:
        """Remove a row; raises Conflict when ``expected_version`` (the page's) is not the stored one:
        nobody removes a document someone else has just corrected without seeing the correction."""
        self._require_editable(via)
        self._reread(row, expected_version)
        self._audit("list_delete", row.data, None, user, via, row_key=str(row.id))
        self.session.delete(row)
        self.rows.remove(row)
        self._end(commit)

    def shown(self, row: ListRow) -> str:
        """A row as one line, as the audit trail and conflict messages show it."""
        return _describe(self.table, row.data) or ""

    def _reread(self, row: ListRow, expected_version: int | None, data: dict[str, str] | None = None) -> None:
        """The row as stored now, under the part's lock: what others saved, not what this request
        first read. RowGone when someone removed it meanwhile; Conflict when ``expected_version``
        (the page's) is not the stored one, unless what is stored is already ``data`` (an edit sent
        again after its answer was lost is no conflict with itself)."""
        try:
            self.session.refresh(row)
        except InvalidRequestError:  # no longer in the database
            self.session.rollback()
            raise RowGone(row_gone(self.table)) from None
        if expected_version is not None and expected_version != row.version and row.data != data:
            raise Conflict(None, self.shown(row))

    def _end(self, commit: bool) -> None:
        if commit:
            self.session.commit()
            self._writing = False

    def _audit(self, action, old, new, user, via, row_key=None) -> None:
        self.changes += 1
        self.session.add(AuditEvent(
            user_id=user.id if user else None, campaign_id=self.campaign.id, unit_id=self.unit.id,
            action=action, via=via, table_code=self.table.code, row_key=row_key,
            old=_describe(self.table, old), new=_describe(self.table, new)))


def unit_part(session: Session, campaign: Campaign, unit: Unit, table: Table,
              groups: set[str] | None = None, row_key: str | None = None) -> UnitTable | UnitList:
    """A unit's part of a table; ``row_key``: of a grid table, that row only (see UnitTable)."""
    if table.is_list:
        return UnitList(session, campaign, unit, table, groups)
    return UnitTable(session, campaign, unit, table, groups, row_key)


def list_cells(part: UnitList, row: ListRow | None, form=None, errors=None) -> list[CellView]:
    """The input cells of one list row (or of the blank new row), keeping typed values with errors."""
    key = str(row.id) if row else "new"
    prefix = f"row:{key}:" if row else "new:"
    form = form or {}
    row_errors = (errors or {}).get(key, {})
    views = []
    for i, c in enumerate(part.input_columns):
        cell = Cell(0, i + 1, 1, c, key)
        cv = CellView(cell, editable=part.editable, owned=True, error=row_errors.get(c.key))
        if prefix + c.key in form:
            cv.text = form[prefix + c.key]
        elif row:
            cv.text = show(c, None, row.data.get(c.key))
        views.append(cv)
    return views
