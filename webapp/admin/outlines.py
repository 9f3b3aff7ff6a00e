"""Outlines as stored, versioned data: the list of stored versions, uploading a new file (checked,
previewed as a clerk would see its tables, then stored), and the preview of each stored version.

Registered on the admin blueprint (webapp/admin/routes.py), which lets only compilers and
administrators in (clerks: 403). Outlines are the installation's, like units: every compiler sees
them (with the campaigns they compile); only an administrator loads one. A stored version never
changes (webapp/outline_store.py): the same code and version with other content is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import outline_store
from ..domain.expressions import Expr
from ..domain.layout import Layout, build_layout
from ..domain.outline import Column, Frame, FrameUnit, Outline, OutlineCheck, OutlineError, Rule, Table, read_outline_file
from ..domain.values import format_number
from ..extensions import db
from ..models import ROLE_ADMIN, ROLE_COMPILER, AuditEvent, Campaign, OutlineVersion, User
from ..templating import local_today
from .outline_forms import OutlineSaveForm, OutlineUploadForm
from .routes import bp

PREVIEW_YEARS = 5  # a preview shows the periods of a campaign over the five years before this one

VIA_LOADED = {"upgrade": "khi cài đặt, nâng cấp (db upgrade)", "cli": "bằng dòng lệnh (outline-load)"}

OPS_IN_WORDS = {"<=": "không được lớn hơn", ">=": "không được nhỏ hơn", "<": "phải nhỏ hơn", ">": "phải lớn hơn",
                "=": "phải bằng", "!=": "phải khác"}


def require_admin() -> None:
    if current_user.role != ROLE_ADMIN:
        abort(403)


# --- what a preview shows --------------------------------------------------------------------------

@dataclass
class GroupPreview:
    key: str
    label: str
    kinds: list[str]  # the names of the kinds of unit that fill it
    inputs: int  # how many of its columns a unit fills


@dataclass
class RulePreview:
    level: str
    words: str
    message: str


@dataclass
class TablePreview:
    table: Table
    layout: Layout
    anchor: str
    groups: list[GroupPreview] = field(default_factory=list)
    rules: list[RulePreview] = field(default_factory=list)


def column_numbers(layout: Layout) -> dict[str, int]:
    """Each column's number as printed in the table's number row (1, 2, 3=2/1*100 …)."""
    numbers = {}
    for block in layout.blocks:
        for h in block.numbers:
            if h.column is not None:
                numbers[h.column.key] = int(h.text.split("=")[0])
    return numbers


def column_words(column: Column, numbers: dict[str, int]) -> str:
    label = f"{column.group_label} › {column.label}" if column.group_label else column.label
    return f"cột {numbers[column.key]} «{label}»" if column.key in numbers else f"cột «{label}»"


def side_words(table: Table, side: Expr, numbers: dict[str, int]) -> str:
    """One side of a rule: a column in words, or an expression of column numbers ("cột 2+cột 3")."""
    if side.is_key:
        return column_words(table.column(side.keys[0]), numbers)
    return side.excel(lambda key: f"cột {numbers[key]}" if key in numbers else f"«{table.column(key).label}»")


def rule_words(table: Table, rule: Rule, numbers: dict[str, int]) -> str:
    """"Cột 5 «Độ tuổi từ 15 đến 35 › Trong đó: người dân tộc thiểu số» không được lớn hơn cột 4 «…»"."""
    relation = rule.relation
    text = (f"{side_words(table, relation.left, numbers)} {OPS_IN_WORDS[rule.op]} "
            f"{side_words(table, relation.right, numbers)}")
    if relation.tolerance.amount:
        text += f" (cho phép lệch {relation.tolerance})"
    return text[0].upper() + text[1:]


def check_words(outline: Outline, check: OutlineCheck) -> str:
    """An outline-level check in words, for the preview: "Phải bằng nhau: Biểu T1 › Tổng số; Biểu T2 › …"."""
    def cell(table_code: str, column_key: str) -> str:
        column = outline.table(table_code).column(column_key)
        label = f"{column.group_label} › {column.label}" if column.group_label else column.label
        return f"Biểu {table_code} › {label}"

    tolerance = f" (cho phép lệch {check.tolerance})" if check.tolerance.amount else ""
    if check.kind == "same":
        return "Phải bằng nhau ở cùng đơn vị, cùng dòng: " + "; ".join(cell(*c) for c in check.cells) + tolerance
    if check.kind == "covers":
        return (f"{cell(*check.cells[0])} của một đơn vị phải bằng tổng của các đơn vị trực thuộc nó "
                f"trong đợt{tolerance}")
    where = ", ".join(f"Biểu {code}" for code in check.tables) or "mọi biểu"
    factor = format_number(check.factor, 0 if check.factor == int(check.factor) else 2)
    return (f"Số nhập vào gấp hơn {factor} lần, hoặc dưới 1/{factor}, số của chính đơn vị ở kỳ trước "
            f"(dòng năm trước; cùng ô ở đợt trước của cùng đề cương) — {where}")


def kind_names(outline: Outline, kinds) -> list[str]:
    return [outline.unit_kinds.get(k, k) for k in kinds]


def preview_frame(years: list[int]) -> Frame:
    """A campaign's frame for a preview: the years given and three example units (rows: units)."""
    return Frame(tuple(years), tuple(FrameUnit(f"don_vi_{n}", f"Đơn vị {n}") for n in range(1, 4)))


def table_previews(outline: Outline, years: list[int]) -> list[TablePreview]:
    previews = []
    for index, table in enumerate(outline.tables, start=1):
        layout = build_layout(table, preview_frame(years), list_rows=3)
        preview = TablePreview(table, layout, f"bang-{index}")
        numbers = column_numbers(layout)
        if table.is_list:
            preview.groups.append(GroupPreview("rows", "Các dòng của danh sách", kind_names(outline, table.owner),
                                               sum(1 for c in table.columns if c.is_input)))
        for key, group in table.groups:
            label = group.label or " · ".join(c.label for c in group.columns)
            preview.groups.append(GroupPreview(key, label, kind_names(outline, group.owner),
                                               sum(1 for c in group.columns if c.is_input)))
        for block in table.blocks:
            for rule in block.rules:
                preview.rules.append(RulePreview(rule.level, rule_words(table, rule, numbers), rule.message))
        previews.append(preview)
    return previews


def preview_years() -> list[int]:
    this_year = local_today().year
    return list(range(this_year - PREVIEW_YEARS, this_year))


def visible_campaigns(campaigns: list[Campaign]) -> list[Campaign]:
    """The campaigns the signed-in user may see listed: an administrator all, a compiler those their
    unit compiles."""
    if current_user.role == ROLE_COMPILER:
        return [c for c in campaigns if c.compiler_unit_id == current_user.unit_id]
    return campaigns


def loaded_how(rows: list[OutlineVersion]) -> dict[int, str]:
    """Each stored version's row id → who loaded it ("admin", "bằng dòng lệnh …")."""
    users = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({r.loaded_by_id for r in rows if r.loaded_by_id})))}
    vias = dict(db.session.execute(select(AuditEvent.new, AuditEvent.via).where(
        AuditEvent.action == "outline_load")).all())
    out = {}
    for row in rows:
        user = users.get(row.loaded_by_id)
        if user is not None:
            out[row.id] = f"{user.username} ({user.full_name})" if user.full_name else user.username
        else:
            out[row.id] = VIA_LOADED.get(vias.get(row.ident, ""), "")
    return out


def render_preview(outline: Outline, *, row: OutlineVersion | None = None, form: OutlineSaveForm | None = None,
                   conflict: str | None = None, same: OutlineVersion | None = None, filename: str = "",
                   status: int = 200):
    """The preview page of ``outline``: a stored ``row``'s, or an uploaded file's with its save ``form``
    (none when it cannot or need not be stored: ``conflict``, or the ``same`` text already stored)."""
    years = preview_years()
    campaigns = []
    if row is not None:
        campaigns = visible_campaigns(outline_store.campaigns_by_version(db.session).get((row.code, row.version), []))
    versions = [r for r in outline_store.stored_outlines(db.session) if r.code == outline.code]
    body = render_template(
        "admin/outline_preview.html", outline=outline, row=row, form=form, conflict=conflict, same=same,
        filename=filename, years=years, tables=table_previews(outline, years), campaigns=campaigns,
        checks=[(c, check_words(outline, c)) for c in outline.checks],
        versions=versions, loaded=loaded_how([row]) if row else {})
    return make_response(body, status)


def render_upload(form: OutlineUploadForm, problems: list[str] | None = None, filename: str = "", status: int = 200):
    return make_response(render_template("admin/outline_upload.html", form=form, problems=problems or [],
                                         filename=filename), status)


def normalized(text: str) -> str:
    """A text as a form sends it back (line ends as CRLF) and as it was previewed (line ends as LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- views ----------------------------------------------------------------------------------------

@bp.route("/outlines")
def outlines():
    """Every stored outline version: code, version, title, file, loaded when and by whom, the campaigns using it."""
    rows = outline_store.stored_outlines(db.session)
    used = outline_store.campaigns_by_version(db.session)
    campaigns = {row.id: visible_campaigns(used.get((row.code, row.version), [])) for row in rows}
    return render_template("admin/outlines.html", rows=rows, campaigns=campaigns, loaded=loaded_how(rows))


@bp.route("/outlines/<code>/<int:version>")
def outline_view(code: str, version: int):
    """The preview of a stored version's tables, as a clerk sees them."""
    row = outline_store.find(db.session, code, version)
    if row is None:
        abort(404)
    return render_preview(row.outline, row=row)


@bp.route("/outlines/<code>/<int:version>/file")
def outline_file(code: str, version: int):
    """The stored version's file, exactly as loaded: the start of its next version."""
    row = outline_store.find(db.session, code, version)
    if row is None:
        abort(404)
    response = make_response(row.source.encode("utf-8"))
    response.headers["Content-Type"] = "application/yaml; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{row.code}-v{row.version}.yaml"'
    return response


@bp.route("/outlines/upload", methods=["GET", "POST"])
def outline_upload():
    """An administrator uploads an outline file: every mistake listed with its line and place (422),
    nothing stored; or the preview of its tables with the button that stores it."""
    require_admin()
    form = OutlineUploadForm()
    if not form.validate_on_submit():
        return render_upload(form, status=422 if form.is_submitted() else 200)
    upload = form.file.data
    filename = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
    try:
        text, outline = read_outline_file(upload.read(), filename or "<outline>")
    except OutlineError as error:
        return render_upload(form, error.problems, filename, status=422)
    return preview_upload(text, outline, filename)


def preview_upload(text: str, outline: Outline, filename: str, status: int = 200):
    """The preview of a checked file: with the save form, or saying why it is not to be stored."""
    try:
        same = outline_store.stored_as(db.session, outline, text)
    except outline_store.OutlineConflict as conflict:
        return render_preview(outline, conflict=str(conflict), filename=filename, status=409)
    if same is not None:
        return render_preview(outline, same=same, filename=filename, status=status)
    form = OutlineSaveForm(formdata=None, text=text, digest=outline_store.sha256(text), filename=filename)
    return render_preview(outline, form=form, filename=filename, status=status)


@bp.route("/outlines/save", methods=["POST"])
def outline_save():
    """Store exactly the previewed text, checked again; a stored code and version with other content
    is refused with the conflict's message."""
    require_admin()
    form = OutlineSaveForm()
    if not form.validate_on_submit():
        abort(400)
    text = normalized(form.text.data or "")
    filename = (form.filename.data or "")[:200]
    if not text or outline_store.sha256(text) != form.digest.data:
        return render_upload(OutlineUploadForm(formdata=None), [
            "Nội dung gửi lên không khớp với bản đã xem trước (có thể bị cắt hoặc sửa trên đường truyền); "
            "không có gì được lưu. Hãy tải tệp lên lại."], filename, status=400)
    try:
        row, created = outline_store.store_outline(db.session, text, filename, user=current_user, via="web")
    except OutlineError as error:
        db.session.rollback()
        return render_upload(OutlineUploadForm(formdata=None), error.problems, filename, status=422)
    except outline_store.OutlineConflict:
        db.session.rollback()
        _, outline = read_outline_file(text.encode("utf-8"), filename or "<outline>")
        return preview_upload(text, outline, filename)
    db.session.commit()
    if created:
        flash(f"Đã lưu đề cương {row.code} phiên bản {row.version}. Các đợt báo cáo tạo từ nay có thể chọn "
              "phiên bản này; các đợt đã có giữ nguyên phiên bản của mình.", "info")
    else:
        flash(f"Đề cương {row.code} phiên bản {row.version} đã có với đúng nội dung này; không lưu gì mới.", "info")
    return redirect(url_for("admin.outline_view", code=row.code, version=row.version))
