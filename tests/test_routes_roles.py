"""Every route of the app, called by every role: who gets through, who is turned away, and that a
refused POST changes nothing.

``EXPECTED`` is the one table of who may use what: (endpoint, method) → the roles that get through
(200, or a 302 that is not to the sign-in page). Everyone else gets 403 or 404, and anonymous
visitors are sent to the sign-in page (except for the sign-in page itself). A route added to the app
without a line here fails ``test_every_route_has_an_expectation``.

The walk runs for each outline of ``SCENARIOS``: kl49's demo (clerks of Xã Lộc Hòa ln-02 and Xã
Lộc An ln-03, the compiler ln-btg), the mini town of tests/outlines/mini.yaml (clerks of two lower
secondary schools, the compiler dx-btg) and the demo's cdht-2024 (seed 003: a table whose rows are
the communes, each clerk writing its own row; no list table and no breakdown by unit, so those
routes are not called for it); the cells, tables and rows it writes are the scenario's. Roles:
anonymous, the two clerks, the compiler, the administrator (admin) and a compiler of another unit. ``clerk`` in the table means "a clerk, for their own unit": every call that reads
or writes a unit's part names its target unit, and a clerk of any other unit must be turned away.
The calls that touch a unit's part are made for both units (``?unit=``), and for clerks also without
``?unit=`` (their own part) and, for list rows, with the other unit's row id.

ln-03's part is accepted in the demo; the test opens both units' parts first, so that nothing but
the access rules can stop a write to them.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import openpyxl
import pytest
from sqlalchemy import func, select, update

from conftest import CURRENT, MINI_CAMPAIGN, in_app, login, stored, unit_id
from webapp.domain.layout import build_layout
from webapp.models import (ANSWER, DRAFT, PART_OPEN, AuditEvent, Campaign, CampaignUnit, CellValue, ListRow,
                           NarrativeAnswer, ReturnNote, Unit, User, UserSession)

ANON, CLERK, COMPILER, ADMIN = "anonymous", "clerk", "compiler", "admin"
OUTSIDER = "compiler of another unit"  # a compiler account, but not of the campaign's compiling unit
EVERYONE = frozenset({ANON, CLERK, COMPILER, ADMIN, OUTSIDER})
SIGNED_IN = frozenset({CLERK, COMPILER, ADMIN, OUTSIDER})
STAFF = frozenset({COMPILER, ADMIN})


@dataclass
class Scenario:
    """What the walk needs of one outline's campaign: its two clerks' units (of one kind, so that
    both fill the same column), a grid table with a number column both fill (``col`` in the rows
    ``rows``; None: the rows are the units, each fills its own), the list table, a valid list row as
    typed (None: the outline has no list, the list routes are not called), the values written."""

    name: str
    campaign: str
    campaign_name: str  # a piece of the campaign's name, shown on the home page of those who see it
    units: tuple[str, str]  # the units whose parts the unit-specific routes are called for
    compiler: str
    table: str  # a grid table both units fill
    rows: tuple[str, str] | None  # two of its row keys; None: a table of unit rows (each unit's own)
    col: str  # a number column both fill
    list_table: str | None
    valid_row: dict[str, str] | None
    edit: tuple[str, str] | None  # a field of the valid row changed by an edit
    values: tuple[str, str, str] = ("500", "501", "502")  # written to ``col``; every rule still holds
    submitted: str = ""  # a third unit whose part is submitted (a decision on several units)
    login_user: str = ""  # signs in on a fresh client (anonymous POST /login)
    reset_user: str = ""  # the account whose password the administrator resets and sessions ends
    spare: str = ""  # a unit with a clerk account of the same code that no other call uses: edited, deactivated
    returnable: str = ""  # a unit whose part the compiler returns (made submitted when it is open)
    users: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        # username → role; the two clerks are of two different units
        self.users = {"anonymous": ANON, self.units[0]: CLERK, self.units[1]: CLERK, self.compiler: COMPILER,
                      "admin": ADMIN, "btg-khac": OUTSIDER}

    @property
    def base(self) -> str:
        return f"/campaigns/{self.campaign}"

    def rows_of(self, unit: str) -> tuple[str, ...]:
        """The rows of ``table`` whose ``col`` the unit fills that the walk writes: the scenario's two,
        or the unit's own row of a table whose rows are the units."""
        return self.rows if self.rows is not None else (unit,)


SCENARIOS = {
    "kl49": Scenario(
        "kl49", "kl49-2024", "Sơ kết 5 năm", ("ln-02", "ln-03"), "ln-btg", "II.1.5", ("2019", "2020"), "xa_tong",
        "I", {"the_loai": "Nghị quyết", "so_hieu": "07-NQ/ĐU", "ngay_ban_hanh": "12/06/2019",
              "trich_yeu": "Về công tác khuyến học", "co_quan": "Đảng ủy xã"}, ("so_hieu", "99-NQ/ĐU"),
        submitted="ln-10", login_user="ln-11", reset_user="ln-16", spare="ln-15", returnable="ln-03"),
    "mini": Scenario(
        "mini", MINI_CAMPAIGN, "phổ cập giáo dục", ("dx-thcs-1", "dx-thcs-2"), "dx-btg", "B1", ("2021", "2022"),
        "hs_tong", "DS", {"ten_truong": "Trường THCS Tân Phú", "muc_do": "Mức độ 2",
                          "ngay_cong_nhan": "12/06/2023", "so_quyet_dinh": "07/QĐ-UBND"}, ("so_quyet_dinh", "99/QĐ-UBND"),
        values=("5000", "5001", "5002"), submitted="dx-thcs-3", login_user="dx-th-2", reset_user="dx-th-4",
        spare="dx-th-3", returnable="dx-thcs-3"),
    # seed 003's tables of unit rows: each commune fills its own row; no list, no breakdown by unit
    "cdht": Scenario(
        "cdht", "cdht-2024", "“Công dân học tập” năm 2024", ("ln-02", "ln-03"), "ln-btg", "CDHT1", None, "n1_dat",
        None, None, None, submitted="ln-10", login_user="ln-11", reset_user="ln-16", spare="ln-15",
        returnable="ln-03"),
}
# The walk's outlines: kl49 and mini (rows of periods and named rows, lists) and cdht (unit rows, no
# list). mhht's and muctieu's tables are of kl49's shape (periods): test_any_outline.py runs them.
ROLE_CASES = ("kl49", "mini", "cdht")
assert set(SCENARIOS) == set(ROLE_CASES)
S = SCENARIOS["kl49"]  # the scenario of the test running (set by the ``scenario`` fixture)


@pytest.fixture(params=ROLE_CASES)
def scenario(request):
    """Each outline's campaign in turn, on a fresh copy of its database; ``S`` is its scenario."""
    global S
    S = SCENARIOS[request.param]
    request.getfixturevalue("mini_app" if request.param == "mini" else "app")
    yield S
    S = SCENARIOS["kl49"]


PUBLIC = {"auth.login", "serving.healthz"}  # what an anonymous visitor gets without being sent to sign in

# (endpoint, method) → the roles that get through. "clerk": only for the clerk's own unit.
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("auth.login", "GET"): EVERYONE,  # signed-in users are sent on to the home page
    ("auth.login", "POST"): EVERYONE,
    ("serving.healthz", "GET"): EVERYONE,  # a monitor's: no sign-in, no data beyond the schema revision
    ("auth.logout", "POST"): SIGNED_IN,
    ("auth.change_password", "GET"): SIGNED_IN,
    ("auth.change_password", "POST"): SIGNED_IN,
    ("entry.home", "GET"): SIGNED_IN,
    # a unit's part: its clerk, the compiler (reads and corrects), the administrator (reads only)
    ("entry.table", "GET"): frozenset({CLERK, COMPILER, ADMIN}),
    ("entry.save", "POST"): frozenset({CLERK, COMPILER}),
    ("entry.save_cell", "POST"): frozenset({CLERK, COMPILER}),
    ("entry.add_row", "POST"): frozenset({CLERK, COMPILER}),
    ("entry.edit_row", "POST"): frozenset({CLERK, COMPILER}),
    ("entry.delete_row", "POST"): frozenset({CLERK, COMPILER}),
    ("entry.submit", "GET"): frozenset({CLERK}),
    ("entry.submit", "POST"): frozenset({CLERK}),
    ("xlsx.template", "GET"): frozenset({CLERK, COMPILER, ADMIN}),
    ("xlsx.upload", "GET"): frozenset({CLERK, COMPILER}),  # administrators do not enter values
    ("xlsx.upload", "POST"): frozenset({CLERK, COMPILER}),
    ("review.cell_history", "GET"): frozenset({CLERK, COMPILER, ADMIN}),
    ("narrate.unit_page", "GET"): frozenset({CLERK, COMPILER, ADMIN}),  # staff are sent on to their desk
    ("narrate.save_answer", "POST"): frozenset({CLERK}),
    ("narrate.upload", "GET"): frozenset({CLERK}),  # a unit's report in Word: its clerk only
    ("narrate.upload", "POST"): frozenset({CLERK}),  # compilers write the draft, not a unit's answer
    ("narrate.compile_page", "GET"): frozenset({COMPILER, ADMIN}),
    ("narrate.save_draft", "POST"): frozenset({COMPILER, ADMIN}),
    # the campaign desk: compiler and administrator
    ("xlsx.export", "GET"): STAFF,
    ("xlsx.report", "GET"): STAFF,
    ("review.appendix", "GET"): STAFF,
    ("review.cell", "GET"): STAFF,
    ("review.breakdown_first", "GET"): STAFF,
    ("review.breakdown", "GET"): STAFF,
    ("review.quality", "GET"): STAFF,
    ("review.dashboard", "GET"): STAFF,
    ("review.not_done_csv", "GET"): STAFF,
    ("review.unit_page", "GET"): STAFF,
    ("review.changes", "GET"): STAFF,
    ("admin.units", "GET"): STAFF | {OUTSIDER},  # units and accounts: not a campaign's
    # the compiler's decisions
    ("review.accept", "POST"): frozenset({COMPILER}),
    ("review.return_part", "POST"): frozenset({COMPILER}),
    ("review.reopen", "POST"): frozenset({COMPILER}),
    ("review.extend", "POST"): frozenset({COMPILER}),
    ("review.decide", "POST"): frozenset({COMPILER}),
    ("review.campaign_status", "POST"): frozenset({COMPILER}),
    ("review.submit_feed", "POST"): frozenset({COMPILER}),  # the district's part of the province campaign
    # setting up campaigns: any compiler creates campaigns of their own unit; a campaign's set-up is
    # its compiling unit's compiler's and the administrator's (a compiler of another unit is turned away)
    ("admin.campaign_create", "GET"): STAFF | {OUTSIDER},
    ("admin.campaign_create", "POST"): STAFF | {OUTSIDER},
    ("admin.campaign_units", "GET"): STAFF | {OUTSIDER},
    ("admin.campaign_settings", "GET"): STAFF,
    ("admin.campaign_settings", "POST"): STAFF,
    ("admin.campaign_status", "POST"): STAFF,
    ("admin.campaign_assignments", "GET"): STAFF,
    ("admin.campaign_assignments", "POST"): STAFF,
    ("admin.campaign_add_unit", "POST"): STAFF,
    ("admin.campaign_remove_unit", "POST"): STAFF,
    ("admin.campaign_copy", "GET"): STAFF,
    ("admin.campaign_copy", "POST"): STAFF,
    # outlines are the installation's, like units: staff read them, the administrator loads them
    ("admin.outlines", "GET"): STAFF | {OUTSIDER},
    ("admin.outline_view", "GET"): STAFF | {OUTSIDER},
    ("admin.outline_file", "GET"): STAFF | {OUTSIDER},
    ("admin.outline_upload", "GET"): frozenset({ADMIN}),
    ("admin.outline_upload", "POST"): frozenset({ADMIN}),
    ("admin.outline_save", "POST"): frozenset({ADMIN}),
    # administrator only
    ("admin.units_list_template", "GET"): frozenset({ADMIN}),
    ("admin.import_units", "GET"): frozenset({ADMIN}),
    ("admin.import_units", "POST"): frozenset({ADMIN}),
    ("admin.reset_password", "POST"): frozenset({ADMIN}),
    ("admin.end_all_sessions", "POST"): frozenset({ADMIN}),
    # units and accounts one by one (webapp/admin/accounts.py): the forms too are the administrator's
    ("admin.new_unit", "GET"): frozenset({ADMIN}),
    ("admin.new_unit", "POST"): frozenset({ADMIN}),
    ("admin.edit_unit", "GET"): frozenset({ADMIN}),
    ("admin.edit_unit", "POST"): frozenset({ADMIN}),
    ("admin.deactivate_unit", "POST"): frozenset({ADMIN}),
    ("admin.activate_unit", "POST"): frozenset({ADMIN}),
    ("admin.new_user", "GET"): frozenset({ADMIN}),
    ("admin.new_user", "POST"): frozenset({ADMIN}),
    ("admin.edit_user", "GET"): frozenset({ADMIN}),
    ("admin.edit_user", "POST"): frozenset({ADMIN}),
    ("admin.deactivate_user", "POST"): frozenset({ADMIN}),
    ("admin.activate_user", "POST"): frozenset({ADMIN}),
}

# Departures from EXPECTED that are known bugs, each pinned by an xfail(strict=True) test below:
# (endpoint, method, role). The walk skips them so that it checks everything else.
KNOWN_BUGS: set[tuple[str, str, str]] = set()

# Calls that change what later calls see (a submission locks the part, sign-out ends the session):
# made last.
LAST = [("entry.submit", "POST"), ("auth.change_password", "POST"), ("auth.logout", "POST")]

NEW_PASSWORD = "mat-khau-moi-2024"


# --- building the calls ---------------------------------------------------------------------------

@dataclass
class Call:
    """One request. ``target`` is the unit whose part it reads or writes (None: no unit's);
    ``make`` builds the arguments of ``client.open`` just before the request (row ids and uploaded
    files depend on what earlier calls did)."""

    label: str
    target: str | None
    make: Callable[[], dict]
    fresh: bool = False  # on a new client (signed in as the caller, if any) instead of the shared one
    clerk_only: bool = False  # without ?unit=: only a clerk's request names a unit this way


def cell_version(unit_code: str, row: str) -> str:
    """The version a unit's table page shows for the scenario's cell in ``row`` (0: never stored),
    which a change carries."""
    cell = stored(unit_code, S.table, row, S.col)
    return str(cell.version if cell else 0)


def list_row_version(row_id: int) -> str:
    from webapp.models import ListRow

    with in_app() as session:
        row = session.get(ListRow, row_id)
        return str(row.version if row else 0)


def other_unit(code: str) -> str:
    return S.units[1] if code == S.units[0] else S.units[0]


def campaign_of(session) -> Campaign:
    return session.scalar(select(Campaign).where(Campaign.code == S.campaign))


def list_row_id(unit_code: str) -> int:
    """A row of ``unit_code``'s list table (added if the unit has none, e.g. after a deletion)."""
    from webapp.domain.values import parse_input

    uid = unit_id(unit_code)
    with in_app() as session:
        row = session.scalar(select(ListRow.id).where(ListRow.unit_id == uid, ListRow.table_code == S.list_table)
                             .order_by(ListRow.id))
        if row is None:
            campaign = campaign_of(session)
            table = campaign.outline.table(S.list_table)
            data = {k: parse_input(table.column(k), v).text for k, v in {**S.valid_row, S.edit[0]: f"1/{unit_code}"}.items()}
            new = ListRow(campaign_id=campaign.id, unit_id=uid, table_code=S.list_table, data=data)
            session.add(new)
            session.commit()
            row = new.id
        return row


def changed_template(unit_code: str) -> bytes:
    """The unit's Excel template with one value changed (the scenario's cell, raised by 7): an upload
    that would store something if it got through. Made once per unit and test (openpyxl is slow): a
    template is the unit's whole part, valid whatever was stored since."""
    app = CURRENT["app"]
    made = TEMPLATES.setdefault(id(app), {})
    if unit_code not in made:
        made[unit_code] = _changed_template(unit_code)
    return made[unit_code]


TEMPLATES: dict[int, dict[str, bytes]] = {}


def _changed_template(unit_code: str) -> bytes:
    from webapp.exchange import write_unit_template

    with in_app() as session:
        campaign = campaign_of(session)
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        out = io.BytesIO()
        write_unit_template(session, campaign, unit, out)
        frame = campaign.frame
        table = campaign.outline.table(S.table)
    address = build_layout(table, frame).find(S.rows_of(unit_code)[0], S.col).address
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    cell = wb[table.sheet][address]
    assert not cell.protection.locked
    cell.value = (cell.value or 0) + 7
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def htmx() -> dict[str, str]:
    return {"HX-Request": "true"}


def unit_calls(user: str, build: Callable[[str, dict], dict], label: str) -> list[Call]:
    """A unit-specific call for each of the two communes (``?unit=``) and, for a clerk, for their
    own unit without ``?unit=``. ``build(unit_code, query)`` returns the request's arguments."""
    calls = [Call(f"{label} ?unit={t}", t, lambda t=t: build(t, {"unit": t})) for t in S.units]
    if S.users[user] == CLERK:
        calls.append(Call(f"{label} (own unit)", user, lambda: build(user, {}), clerk_only=True))
    return calls


def row_calls(user: str, build: Callable[[str, int, dict], dict], label: str) -> list[Call]:
    """Like unit_calls for a list row route; a clerk also posts the other unit's row id to their
    own part's URL."""
    calls = unit_calls(user, lambda t, q: build(t, list_row_id(t), q), label)
    if S.users[user] == CLERK:
        other = other_unit(user)
        calls.append(Call(f"{label} (row of {other}, no ?unit=)", other,
                          lambda: build(user, list_row_id(other), {}), clerk_only=True))
    return calls


NARRATED = "p1_ii_1"  # an answered section of kl49@2 (the only outline with narrative sections)


def word_report(section_code: str, text: str) -> bytes:
    """A unit's report as a .docx: the heading of ``section_code`` of the campaign's outline, then ``text``."""
    import docx

    with in_app() as session:
        section = next(s for s in campaign_of(session).outline.all_sections() if s.code == section_code)
    document = docx.Document()
    document.add_heading(f"{section.number} {section.title}", level=2)
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def narrative_version(unit_code: str | None, kind: str) -> str:
    """The version the narrative page shows for a unit's answer (or, unit None, the draft)."""
    with in_app() as session:
        unit = (session.scalar(select(Unit.id).where(Unit.code == unit_code)) if unit_code
                else campaign_of(session).compiler_unit_id)
        found = session.scalar(select(NarrativeAnswer.version).where(
            NarrativeAnswer.unit_id == unit, NarrativeAnswer.section_code == NARRATED, NarrativeAnswer.kind == kind))
        return str(found or 0)


def calls_for(endpoint: str, method: str, user: str) -> list[Call]:
    """The requests made for one route by one user."""
    def one(label, target=None, **kwargs):
        return [Call(label, target, lambda: {"method": method, **kwargs})]

    def per_unit(path, label, versions=None, cells=None, **kwargs):
        """``versions(target unit)``: the version fields the page would send with the change;
        ``cells(target unit)``: the fields of the cells it changes (in the unit's rows)."""
        def build(t, q):
            call = {"method": method, "path": path(t) if callable(path) else path, "query_string": q, **kwargs}
            if cells:
                call["data"] = {**call.get("data", {}), **cells(t)}
            if versions:
                call["data"] = {**call.get("data", {}), **versions(t)}
            return call
        return unit_calls(user, build, label)

    def if_listed(calls):
        """The calls of a list route: none when the outline has no list table."""
        return calls() if L is not None else []

    def if_broken_down(calls):
        """The calls of a breakdown route: none when the table has no breakdown by unit (its rows are
        the units: it is its own breakdown)."""
        with in_app() as session:
            has = campaign_of(session).outline.table(T).has_breakdown
        return calls() if has else []

    def if_narrated(calls):
        """The calls of a narrative report route: none when the outline has no sections."""
        with in_app() as session:
            has = bool(campaign_of(session).outline.sections)
        return calls() if has else []

    C, T, L, col, v = S.base, S.table, S.list_table, S.col, S.values
    r0 = S.rows_of(S.units[0])[0]  # the row of a call that names no unit (the drill-down)
    match endpoint, method:
        case "auth.login", "GET":
            return one("sign-in page", path="/login")
        case "auth.login", "POST":
            data = {"username": S.login_user, "password": "demo123"}
            return [Call("sign in", None, lambda: {"method": "POST", "path": "/login", "data": data},
                         fresh=user == "anonymous")]
        case "serving.healthz", "GET":
            return one("health check", path="/healthz")
        case "auth.logout", "POST":
            return one("sign out", path="/logout")
        case "auth.change_password", "GET":
            return one("password page", path="/password")
        case "auth.change_password", "POST":
            return one("change password", path="/password",
                       data={"current": "demo123", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        case "entry.home", "GET":
            return one("home", path="/")
        case "entry.table", "GET":
            return per_unit(f"{C}/tables/{T}", f"table {T}") + if_listed(
                lambda: per_unit(f"{C}/tables/{L}", f"table {L}"))
        case "entry.save_cell", "POST":
            return per_unit(lambda t: f"{C}/tables/{T}/cells/{S.rows_of(t)[0]}/{col}", "cell save", data={"value": v[0]},
                            versions=lambda t: {"version": cell_version(t, S.rows_of(t)[0])})
        case "entry.save", "POST":
            return (per_unit(f"{C}/tables/{T}", "plain table save",
                             cells=lambda t: {f"cell:{r}:{col}": x for r, x in zip(S.rows_of(t), v[1:])},
                             versions=lambda t: {f"v:{r}:{col}": cell_version(t, r) for r in S.rows_of(t)})
                    + if_listed(lambda: per_unit(f"{C}/tables/{L}", "plain list save",
                                                 data={f"new:{k}": x for k, x in S.valid_row.items()})))
        case "entry.add_row", "POST":
            return if_listed(lambda: per_unit(f"{C}/tables/{L}/rows", "add list row",
                                              data={f"new:{k}": x for k, x in S.valid_row.items()}, headers=htmx()))
        case "entry.edit_row", "POST":
            return if_listed(lambda: row_calls(user, lambda t, rid, q: {
                "method": "POST", "path": f"{C}/tables/{L}/rows/{rid}", "query_string": q, "headers": htmx(),
                "data": {**{f"row:{rid}:{k}": x for k, x in {**S.valid_row, S.edit[0]: S.edit[1]}.items()},
                         f"v:row:{rid}": list_row_version(rid)}},
                "edit list row"))
        case "entry.delete_row", "POST":
            return if_listed(lambda: row_calls(user, lambda t, rid, q: {
                "method": "POST", "path": f"{C}/tables/{L}/rows/{rid}/delete", "query_string": q,
                "headers": htmx(), "data": {f"v:row:{rid}": list_row_version(rid)}}, "delete list row"))
        case "entry.submit", "GET":
            return one("pre-submission check", target=own_unit(user), path=f"{C}/submit")
        case "entry.submit", "POST":
            return one("submit", target=own_unit(user), path=f"{C}/submit", data={"confirm_gaps": "y"})
        case "narrate.unit_page", "GET":
            return if_narrated(lambda: per_unit(f"{C}/narrative", "narrative report"))
        case "narrate.save_answer", "POST":
            return if_narrated(lambda: per_unit(f"{C}/narrative/{NARRATED}", "narrative answer", headers=htmx(),
                                                versions=lambda t: {"value": "<p>Trả lời</p>",
                                                                    "version": narrative_version(t, ANSWER)}))
        case "narrate.upload", "GET":
            return if_narrated(lambda: per_unit(f"{C}/narrative/upload", "report upload page"))
        case "narrate.upload", "POST":
            return if_narrated(lambda: unit_calls(user, lambda t, q: {
                "method": "POST", "path": f"{C}/narrative/upload", "query_string": q,
                "content_type": "multipart/form-data",
                "data": {"document": (io.BytesIO(word_report(NARRATED, f"Báo cáo của {t}")), "bao-cao.docx")}},
                "report upload"))
        case "narrate.compile_page", "GET":
            return if_narrated(lambda: one("narrative desk", path=f"{C}/narrative/compile"))
        case "narrate.save_draft", "POST":
            return if_narrated(lambda: [Call("narrative draft", None, lambda: {
                "method": method, "path": f"{C}/narrative/draft/{NARRATED}", "headers": htmx(),
                "data": {"value": "<p>Dự thảo</p>", "version": narrative_version(None, DRAFT)}})])
        case "xlsx.template", "GET":
            return per_unit(f"{C}/template.xlsx", "Excel template")
        case "xlsx.upload", "GET":
            return per_unit(f"{C}/import", "upload page")
        case "xlsx.upload", "POST":
            return unit_calls(user, lambda t, q: {
                "method": "POST", "path": f"{C}/import", "query_string": q, "content_type": "multipart/form-data",
                "data": {"workbook": (io.BytesIO(changed_template(t)), f"mau-{t}.xlsx")}}, "upload template")
        case "review.cell_history", "GET":
            return unit_calls(user, lambda t, q: {"method": "GET", "path": f"{C}/tables/{T}/history",
                                                  "query_string": {**q, "row": S.rows_of(t)[0], "col": col}},
                              "cell history")
        case "xlsx.export", "GET":
            return one("appendix workbook", path=f"{C}/export.xlsx")
        case "xlsx.report", "GET":
            return one("district report", path=f"{C}/report.docx")
        case "review.appendix", "GET":
            return one("assembled appendix", path=f"{C}/appendix")
        case "review.cell", "GET":
            return one("drill-down", path=f"{C}/appendix/{T}/cell", query_string={"row": r0, "col": col})
        case "review.breakdown_first", "GET":
            return if_broken_down(lambda: one("breakdown tab", path=f"{C}/breakdown"))
        case "review.breakdown", "GET":
            return if_broken_down(lambda: one("breakdown", path=f"{C}/breakdown/{T}", query_string={"row": r0, "sort": col}))
        case "review.quality", "GET":
            return (one("data quality", path=f"{C}/quality", query_string={"sort": "cell", "level": "warning"})
                    + one("data quality (.xlsx)", path=f"{C}/quality.xlsx")
                    + one("data quality (.csv)", path=f"{C}/quality.csv"))
        case "review.dashboard", "GET":
            return one("progress", path=f"{C}/dashboard")
        case "review.not_done_csv", "GET":
            return one("units not done (CSV)", path=f"{C}/dashboard/chua-xong.csv")
        case "review.unit_page", "GET":
            return [Call(f"unit page {t}", t, lambda t=t: {"method": "GET", "path": f"{C}/units/{t}"}) for t in S.units]
        case "review.changes", "GET":
            return one("change log", path=f"{C}/changes") + [
                Call(f"change log ?unit={t}", t, lambda t=t: {"method": "GET", "path": f"{C}/changes",
                                                              "query_string": {"unit": t}}) for t in S.units]
        case "review.accept" | "review.return_part" | "review.reopen" | "review.extend", "POST":
            action = endpoint.split(".")[1].replace("return_part", "return")
            data = {"review.return_part": {"reason": "Kiểm tra lại số liệu", "table": T,
                                              "row": "", "col": ""},
                    "review.extend": {"until": ""}}.get(endpoint, {})
            return [Call(f"{action} {t}", t, lambda t=t: {"method": "POST", "path": f"{C}/units/{t}/{action}",
                                                          "data": data}) for t in S.units]
        case "review.decide", "POST":
            return one("decide on several units", path=f"{C}/decide",
                       data={"action": "accept", "units": [S.submitted, *S.units]})
        case "review.campaign_status", "POST":
            return one("campaign status", path=f"{C}/status", data={"status": "open"})
        case "review.submit_feed", "POST":  # kl49-2024 feeds Lộc Ninh's part of the demo province's campaign
            return one("submit to the province", path=f"{C}/feeds/kl49-tinh-2024/submit") if S.name == "kl49" else []
        case "admin.units", "GET":
            return one("units and accounts", path="/admin/units")
        case "admin.end_all_sessions", "POST":
            return [Call(f"end the sessions of {S.reset_user}", None,
                         lambda: {"method": "POST", "path": f"/admin/users/{user_id(S.reset_user)}/end-sessions"})]
        case "admin.reset_password", "POST":
            return [Call(f"reset the password of {S.reset_user}", None,
                         lambda: {"method": "POST", "path": f"/admin/users/{user_id(S.reset_user)}/reset-password"})]
        case "admin.new_unit", "GET":
            return one("add-unit form", path="/admin/units/new")
        case "admin.new_unit", "POST":
            return one("add a unit", path="/admin/units/new", data={
                "code": "walk-unit", "name": "Đơn vị thử", "kind": "huyen", "parent": "", "phone": "", "sort_order": ""})
        case "admin.edit_unit", "GET":
            return [Call(f"edit form of unit {S.spare}", None,
                         lambda: {"method": "GET", "path": f"/admin/units/{unit_id(S.spare)}/edit"})]
        case "admin.edit_unit", "POST":
            return [Call(f"edit unit {S.spare}", None, lambda: {
                "method": "POST", "path": f"/admin/units/{unit_id(S.spare)}/edit",
                "data": unit_form_data(S.spare, phone="0271 0000 000")})]
        case "admin.deactivate_unit" | "admin.activate_unit", "POST":
            action = endpoint.split(".")[1].split("_")[0]
            return [Call(f"{action} unit {S.spare}", None,
                         lambda: {"method": "POST", "path": f"/admin/units/{unit_id(S.spare)}/{action}"})]
        case "admin.new_user", "GET":
            return one("add-account form", path="/admin/users/new")
        case "admin.new_user", "POST":
            return [Call("add an account", None, lambda: {"method": "POST", "path": "/admin/users/new", "data": {
                "username": "walk-user", "full_name": "", "role": "clerk", "unit": str(unit_id(S.units[0]))}})]
        case "admin.edit_user", "GET":
            return [Call(f"edit form of account {S.spare}", None,
                         lambda: {"method": "GET", "path": f"/admin/users/{user_id(S.spare)}/edit"})]
        case "admin.edit_user", "POST":
            return [Call(f"edit account {S.spare}", None, lambda: {
                "method": "POST", "path": f"/admin/users/{user_id(S.spare)}/edit",
                "data": {"full_name": "Người thử", "role": "clerk", "unit": str(unit_id(S.spare))}})]
        case "admin.deactivate_user" | "admin.activate_user", "POST":
            action = endpoint.split(".")[1].split("_")[0]
            return [Call(f"{action} account {S.spare}", None,
                         lambda: {"method": "POST", "path": f"/admin/users/{user_id(S.spare)}/{action}"})]
        case "admin.campaign_create", "GET":
            return one("create a campaign", path="/admin/campaigns/new")
        case "admin.campaign_create", "POST":  # the no-script button that ticks the default units: stores nothing
            return one("create form, default units", path="/admin/campaigns/new", data={"recompute": "1"})
        case "admin.campaign_units", "GET":
            return [Call("default units", None, lambda: {"method": "GET", "path": "/admin/campaigns/new/units",
                                                         "headers": htmx(), "query_string": new_campaign_query()})]
        case "admin.campaign_settings", "GET":
            return one("campaign settings", path=f"/admin{C}/settings")
        case "admin.campaign_settings", "POST":
            return [Call("save the settings as shown", None, lambda: {"method": "POST", "path": f"/admin{C}/settings",
                                                                      "data": shown_settings()})]
        case "admin.campaign_status", "POST":
            return one("campaign status (set-up page)", path=f"/admin{C}/status", data={"status": "open"})
        case "admin.campaign_assignments", "GET":
            return one("assignment grid", path=f"/admin{C}/assignments")
        case "admin.campaign_assignments", "POST":
            return [Call("save the grid as shown", None, lambda: {"method": "POST", "path": f"/admin{C}/assignments",
                                                                  "data": {"a": shown_ticks()}})]
        case "admin.campaign_add_unit", "POST":
            return [Call("add a unit", None, lambda: {"method": "POST", "path": f"/admin{C}/units/add",
                                                      "data": {"unit": str(unit_id(new_unit()))}})]
        case "admin.campaign_remove_unit", "POST":
            return [Call("remove a unit", None, lambda: {
                "method": "POST", "path": f"/admin{C}/units/{new_unit(in_campaign=True)}/remove"})]
        case "admin.campaign_copy", "GET":
            return one("copy page", path=f"/admin{C}/copy")
        case "admin.campaign_copy", "POST":
            return [Call("copy the campaign", None, lambda: {"method": "POST", "path": f"/admin{C}/copy",
                                                             "data": copy_form()})]
        case "admin.outlines", "GET":
            return one("stored outlines", path="/admin/outlines")
        case "admin.outline_view", "GET":
            return one("a stored outline's preview", path="/admin/outlines/kl49/1")
        case "admin.outline_file", "GET":
            return one("a stored outline's file", path="/admin/outlines/kl49/1/file")
        case "admin.outline_upload", "GET":
            return one("outline upload page", path="/admin/outlines/upload")
        case "admin.outline_upload", "POST":  # a preview: stores nothing
            return [Call("preview an outline", None, lambda: {
                "method": "POST", "path": "/admin/outlines/upload", "content_type": "multipart/form-data",
                "data": {"file": (io.BytesIO(next_outline_version().encode()), "v2.yaml")}})]
        case "admin.outline_save", "POST":
            return [Call("store an outline", None, lambda: outline_save_call(next_outline_version()))]
        case "admin.units_list_template", "GET":
            return one("list template", path="/admin/units/list.xlsx")
        case "admin.import_units", "GET":
            return one("list upload page", path="/admin/units/import")
        case "admin.import_units", "POST":
            return [Call("load a list of units", None, lambda: {
                "method": "POST", "path": "/admin/units/import", "content_type": "multipart/form-data",
                "data": {"listfile": (io.BytesIO("code,name,kind\nwalk-list,Đơn vị thử danh sách,huyen\n".encode()),
                                      "ds.csv")}})]
    raise AssertionError(f"no calls written for {endpoint} {method}: add them to calls_for()")


def new_campaign_query() -> dict[str, str]:
    """The create form's outline and compiling unit (the scenario campaign's)."""
    with in_app() as session:
        campaign = campaign_of(session)
        return {"outline": f"{campaign.outline_code}@{campaign.outline_version}",
                "compiler": str(campaign.compiler_unit_id)}


def shown_settings() -> dict[str, str]:
    """The settings form as the page shows it: saving it changes nothing."""
    with in_app() as session:
        campaign = campaign_of(session)
        return {"name": campaign.name, "description": campaign.description,
                "deadline": campaign.deadline.strftime("%d/%m/%Y"),
                "issuer_is_party": "party" if campaign.issuer_is_party else "state"}


def shown_ticks() -> list[str]:
    """The grid's ticks as the page shows them: saving them changes nothing."""
    from webapp.models import Assignment

    with in_app() as session:
        campaign = campaign_of(session)
        return [f"{u}|{t}|{g}" for u, t, g in session.execute(
            select(Assignment.unit_id, Assignment.table_code, Assignment.group_key)
            .where(Assignment.campaign_id == campaign.id))]


NEW_UNITS = iter(range(1, 10**6))


def new_unit(in_campaign: bool = False) -> str:
    """The code of a new unit beside the scenario's first (same parent and kind), for one call of its
    own; with ``in_campaign`` already a reporting unit of the campaign that has stored nothing."""
    with in_app() as session:
        campaign = campaign_of(session)
        like = session.scalar(select(Unit).where(Unit.code == S.units[0]))
        unit = Unit(code=f"moi-{next(NEW_UNITS)}", name="Đơn vị mới", kind=like.kind, parent_id=like.parent_id,
                    sort_order=90)
        session.add(unit)
        session.flush()
        if in_campaign:
            session.add(CampaignUnit(campaign_id=campaign.id, unit_id=unit.id))
        session.commit()
        return unit.code


COPIES = iter(range(1, 10**6))


def copy_form() -> dict[str, str]:
    """A copy of the campaign for the next period under a code of its own."""
    import datetime as dt

    from conftest import DEMO_TODAY

    return {"code": f"ban-sao-{next(COPIES)}", "name": "Kỳ sau", "year_from": "2030", "year_to": "2030",
            "deadline": (DEMO_TODAY + dt.timedelta(days=30)).strftime("%d/%m/%Y")}


VERSIONS = iter(range(2, 10**6))


def next_outline_version() -> str:
    """kl49's file as a new version of its own (each call a higher one)."""
    from webapp.domain.outline import OUTLINE_DIR

    text = (OUTLINE_DIR / "kl49.yaml").read_text(encoding="utf-8")
    return text.replace("version: 1", f"version: {next(VERSIONS)}", 1)


def outline_save_call(text: str) -> dict:
    import hashlib

    return {"method": "POST", "path": "/admin/outlines/save",
            "data": {"text": text, "digest": hashlib.sha256(text.encode()).hexdigest(), "filename": "v2.yaml"}}


def unit_form_data(code: str, **changes) -> dict[str, str]:
    """What a unit's edit form sends: its details as stored, with ``changes``."""
    with in_app() as session:
        u = session.scalar(select(Unit).where(Unit.code == code))
        return {"name": u.name, "kind": u.kind, "parent": str(u.parent_id or ""), "phone": u.phone or "",
                "sort_order": str(u.sort_order), **changes}


def own_unit(user: str) -> str | None:
    return user if S.users[user] == CLERK else None


def user_id(username: str) -> int:
    with in_app() as session:
        return session.scalar(select(User.id).where(User.username == username))


# --- what a forbidden call must not change --------------------------------------------------------

def db_state():
    """Everything a POST could change: values, list rows, audit events by kind, the parts' and the
    campaign's status, return notes, accounts, sign-in sessions."""
    with in_app() as session:
        return {
            "values": session.execute(select(CellValue.id, CellValue.unit_id, CellValue.table_code, CellValue.row_key,
                                             CellValue.col_key, CellValue.num, CellValue.text, CellValue.version)
                                      .order_by(CellValue.id)).all(),
            "narrative": session.execute(select(NarrativeAnswer.id, NarrativeAnswer.unit_id, NarrativeAnswer.kind,
                                                NarrativeAnswer.section_code, NarrativeAnswer.html,
                                                NarrativeAnswer.version).order_by(NarrativeAnswer.id)).all(),
            "list rows": session.execute(select(ListRow.id, ListRow.unit_id, ListRow.data, ListRow.version)
                                         .order_by(ListRow.id)).all(),
            "audit events": dict(session.execute(select(AuditEvent.action, func.count())
                                                 .group_by(AuditEvent.action)).all()),
            "parts": session.execute(select(CampaignUnit.unit_id, CampaignUnit.status, CampaignUnit.revision,
                                            CampaignUnit.return_reason, CampaignUnit.extended_until,
                                            CampaignUnit.submitted_at, CampaignUnit.decided_at)
                                     .order_by(CampaignUnit.unit_id)).all(),
            "campaigns": session.execute(select(Campaign.id, Campaign.status)).all(),
            "return notes": session.scalar(select(func.count()).select_from(ReturnNote)),
            "accounts": session.execute(select(User.id, User.password_hash, User.must_change_password, User.active)
                                        .order_by(User.id)).all(),
            "sign-in sessions": session.execute(select(UserSession.id, UserSession.user_id, UserSession.ended_at)
                                                .order_by(UserSession.id)).all(),
        }


def differences(before: dict, after: dict) -> list[str]:
    return [key for key in before if before[key] != after[key]]


# --- the walk -------------------------------------------------------------------------------------

def app_routes(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_an_expectation(app):
    endpoints = {endpoint for endpoint, _ in app_routes(app)}
    assert endpoints == {endpoint for endpoint, _ in EXPECTED}, (
        "routes without an expectation: " + ", ".join(sorted(endpoints - {e for e, _ in EXPECTED}))
        + "; expectations without a route: " + ", ".join(sorted({e for e, _ in EXPECTED} - endpoints)))
    assert app_routes(app) == set(EXPECTED)


def allowed(role: str, user: str, call: Call, key: tuple[str, str]) -> bool:
    if role not in EXPECTED[key]:
        return False
    return role != CLERK or call.target is None or call.target == user


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def add_outsider() -> None:
    """A compiler of another district's committee, on the same installation."""
    with in_app() as session:
        unit = Unit(code="btg-khac", name="Ban Tuyên giáo Huyện ủy Bù Đốp", kind="huyen_uy", sort_order=99)
        user = User(username="btg-khac", full_name="Cán bộ tổng hợp huyện khác", role="compiler", unit=unit)
        user.set_password("demo123")
        session.add_all([unit, user])
        session.commit()


def test_every_route_with_every_role(scenario):
    app = CURRENT["app"]
    add_outsider()
    with in_app() as session:  # only the access rules may stop a write to either unit's part
        session.execute(update(CampaignUnit).where(CampaignUnit.unit_id.in_([unit_id(u) for u in scenario.units]))
                        .values(status=PART_OPEN))
        session.commit()
    clients = {user: (app.test_client() if role == ANON else login(app.test_client(), user))
               for user, role in scenario.users.items()}
    login(app.test_client(), scenario.reset_user)  # a session of the account whose sessions only admin may end
    routes = sorted(app_routes(app), key=lambda key: (key in LAST, LAST.index(key) if key in LAST else 0, key))
    failures: list[str] = []
    seen = {"allowed": 0, "denied": 0, "anonymous": 0, "unchanged": 0}
    for key in routes:
        endpoint, method = key
        # for each user, its calls; those that must be refused are made first, so that a refused
        # call sees the state an allowed one would have changed (a list row before it is deleted)
        plan = []
        for user, role in scenario.users.items():
            for call in calls_for(endpoint, method, user):
                if call.clerk_only and role != CLERK:
                    continue
                plan.append((allowed(role, user, call, key), user, role, call))
        plan.sort(key=lambda item: item[0])
        for ok, user, role, call in plan:
            if (endpoint, method, role) in KNOWN_BUGS:
                continue
            where = f"{method} {endpoint} [{call.label}] as {user}"
            client = clients[user]
            if call.fresh:
                client = app.test_client() if role == ANON else login(app.test_client(), user)
            kwargs = call.make()
            watch = method == "POST" and not ok
            before = db_state() if watch else None
            response = client.open(**kwargs)
            status = response.status_code
            if role == ANON and endpoint not in PUBLIC:
                seen["anonymous"] += 1
                if not is_login_redirect(response):
                    failures.append(f"{where}: {status}, expected a redirect to the sign-in page")
            elif ok:
                seen["allowed"] += 1
                if status not in (200, 302) or (is_login_redirect(response) and endpoint != "auth.logout"):
                    failures.append(f"{where}: {status} {response.headers.get('Location', '')}, expected 200/302")
            else:
                seen["denied"] += 1
                if status not in (403, 404):
                    failures.append(f"{where}: {status} {response.headers.get('Location', '')}, expected 403/404")
            if watch:
                changed = differences(before, db_state())
                if changed:
                    failures.append(f"{where}: answered {status} and changed: {', '.join(changed)}")
                else:
                    seen["unchanged"] += 1
    assert not failures, "\n".join(failures)
    # the walk did exercise every kind of outcome
    assert min(seen.values()) > 10, seen


# --- bugs this walk found (fixed since; kept as regression tests) -------------------------------

def test_a_compiler_of_another_unit_sees_no_campaign_of_this_one(scenario):
    app = CURRENT["app"]
    add_outsider()
    outsider = login(app.test_client(), "btg-khac")
    home = outsider.get("/").get_data(as_text=True)
    assert scenario.campaign not in home and scenario.campaign_name not in home
    assert scenario.campaign in login(app.test_client(), scenario.compiler).get("/").get_data(as_text=True)
    assert scenario.campaign in login(app.test_client(), "admin").get("/").get_data(as_text=True)


def test_the_administrator_cannot_upload_a_units_values(scenario):
    """The upload route once let the administrator store a unit's values (recorded as the unit's own
    upload), although administrators do not enter values anywhere else."""
    admin = login(CURRENT["app"].test_client(), "admin")
    unit = scenario.units[0]
    before = db_state()
    response = admin.post(f"{scenario.base}/import", query_string={"unit": unit}, content_type="multipart/form-data",
                          data={"workbook": (io.BytesIO(changed_template(unit)), f"mau-{unit}.xlsx")})
    changed = differences(before, db_state())
    assert response.status_code == 403 and not changed, (response.status_code, changed)


def test_a_return_without_the_optional_row_and_column_fields(scenario):
    """Found by this walk (a 500: .strip() on the None of a missing optional field), fixed since."""
    compiler = login(CURRENT["app"].test_client(), scenario.compiler)
    unit = scenario.returnable  # accepted (kl49), submitted (mini): both may be returned
    with in_app() as session:  # an open part (cdht's demo submits none) is submitted first
        session.execute(update(CampaignUnit).where(
            CampaignUnit.campaign_id == campaign_of(session).id, CampaignUnit.unit_id == unit_id(unit),
            CampaignUnit.status == PART_OPEN).values(status="submitted"))
        session.commit()
    response = compiler.post(f"{scenario.base}/units/{unit}/return", data={"reason": "Kiểm tra lại số liệu"})
    assert response.status_code == 302
    with in_app() as session:
        assert session.get(CampaignUnit, (campaign_of(session).id, unit_id(unit))).status == PART_OPEN
