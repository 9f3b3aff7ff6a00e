"""List quotas (`quota: {column, per_unit}` of a list table): at most so many rows of a category per
unit, refused wherever a list row is added, edited or imported, shown on the list page. Exercised on
the shipped outline khenthuong (seed 001) and its demo campaign khenthuong-2020, where Lộc Hòa (ln-02)
has proposed 2 collectives (its quota) and 1 individual."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from conftest import in_app, login, post_as_page
from webapp.domain.layout import build_layout
from webapp.domain.outline import OutlineError, read_outline, shipped_outline
from webapp.models import AuditEvent, Campaign, ListRow, Unit

CODE = "khenthuong-2020"
BASE = f"/campaigns/{CODE}/tables/IV"
MESSAGE = "Mỗi đơn vị đề nghị tối đa 2 Tập thể."
HTMX = {"HX-Request": "true"}


def nomination(loai: str, ten: str = "Chi hội Khuyến học ấp 3") -> dict[str, str]:
    return {"loai": loai, "ten": ten, "don_vi": "Xã Lộc Hòa", "thanh_tich": "Vận động 40 hộ đạt Gia đình học tập",
            "hinh_thuc": "Giấy khen của Chủ tịch UBND huyện"}


def rows_of(code: str = "ln-02") -> list[tuple[int, dict]]:
    with in_app() as session:
        return [(r.id, r.data) for r in session.scalars(
            select(ListRow).join(Unit, Unit.id == ListRow.unit_id).join(Campaign, Campaign.id == ListRow.campaign_id)
            .where(Unit.code == code, Campaign.code == CODE).order_by(ListRow.id))]


def kinds(code: str = "ln-02") -> list[str]:
    return [data["loai"] for _, data in rows_of(code)]


# --- the outline ----------------------------------------------------------------------------------

QUOTA_OUTLINE = """\
code: q
version: 1
title: Q
unit_kinds: {xa: Xã}
tables:
  - code: L
    kind: list
    title: Danh sách
    owner: [xa]
    quota:
      column: COLUMN
      per_unit: PER_UNIT
    columns:
      - {key: loai, label: Loại, type: choice, choices: [Tập thể, Cá nhân]}
      - {key: ten, label: Tên, type: text}
"""


def quota_outline(column: str, per_unit: str) -> str:
    return QUOTA_OUTLINE.replace("COLUMN", column).replace("PER_UNIT", per_unit)


def test_a_quota_is_read_from_a_list_table():
    quota = shipped_outline("khenthuong").table("IV").quota
    assert (quota.column, quota.per_unit) == ("loai", (("Tập thể", 2), ("Cá nhân", 2)))
    assert quota.breach([{"loai": "Tập thể"}] * 3) == MESSAGE
    assert quota.breach([{"loai": "Tập thể"}] * 2 + [{"loai": "Cá nhân"}]) is None
    plain = read_outline(quota_outline("loai", '{"Cá nhân": 1}')).table("L").quota
    assert plain.breach([{"loai": "Cá nhân"}] * 2) == "Mỗi đơn vị có tối đa 1 dòng «Cá nhân»."
    assert shipped_outline("kl49").table("I").quota is None  # kl49's list is unchanged


@pytest.mark.parametrize("column, per_unit, message", [
    ("ten", '{"Tập thể": 2}', "dòng 11: tables[0] (L) > quota > column: cột 'ten' phải là cột chọn (type: choice)"),
    ("nope", '{"Tập thể": 2}', "dòng 11: tables[0] (L) > quota > column: cột 'nope' không có trong bảng"),
    ("loai", '{"Hộ gia đình": 2}', "dòng 12: tables[0] (L) > quota > per_unit: 'Hộ gia đình' không phải một lựa "
                                  "chọn của cột 'loai' (Tập thể, Cá nhân)"),
    ("loai", '{"Tập thể": 0}', "dòng 12: tables[0] (L) > quota > per_unit > Tập thể: số dòng tối đa phải là số "
                               "nguyên từ 1 trở lên, đang là '0'"),
    ("loai", '{"Tập thể": two}', "dòng 12: tables[0] (L) > quota > per_unit > Tập thể: số dòng tối đa"),
])
def test_a_wrong_quota_is_named_with_its_line(column, per_unit, message):
    with pytest.raises(OutlineError) as caught:
        read_outline(quota_outline(column, per_unit))
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems


def test_a_quota_belongs_to_a_list_table_only():
    text = quota_outline("loai", '{"Tập thể": 1}').replace(
        "quota:\n", "quota:\n      nope: 1\n")
    with pytest.raises(OutlineError) as caught:
        read_outline(text)
    assert "dòng 11: tables[0] (L) > quota: khóa không được biết 'nope'" in caught.value.problems


# --- entry ----------------------------------------------------------------------------------------

def test_the_service_refuses_a_third_collective_and_stores_nothing(app):
    from webapp.entry.service import OverQuota, UnitList

    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == CODE))
        unit = session.scalar(select(Unit).where(Unit.code == "ln-02"))
        part = UnitList(session, campaign, unit, campaign.outline.table("IV"))
        with pytest.raises(OverQuota) as caught:
            part.add(nomination("Tập thể"), None, "web")
        assert str(caught.value) == MESSAGE and caught.value.column == "loai"
    assert kinds() == ["Tập thể", "Tập thể", "Cá nhân"]
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == CODE))
        unit = session.scalar(select(Unit).where(Unit.code == "ln-02"))
        part = UnitList(session, campaign, unit, campaign.outline.table("IV"))
        part.add(nomination("Cá nhân", "Thị Bé"), None, "web")  # the second individual is within the quota
    assert kinds() == ["Tập thể", "Tập thể", "Cá nhân", "Cá nhân"]


def test_adding_a_third_collective_by_post_is_refused_with_the_quota(app, clerk):
    fields = {f"new:{k}": v for k, v in nomination("Tập thể").items()}
    response = clerk.post(f"{BASE}/rows", data=fields, headers=HTMX)
    assert response.status_code == 422 and MESSAGE in response.get_data(as_text=True)
    response = clerk.post(f"{BASE}/rows", data=fields)  # without a script: the page again, what was typed kept
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and MESSAGE in page and "Chi hội Khuyến học ấp 3" in page
    assert kinds() == ["Tập thể", "Tập thể", "Cá nhân"]
    with in_app() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "list_add",
                                                       AuditEvent.table_code == "IV", AuditEvent.via == "web")) is None
    # an individual is still welcome
    response = clerk.post(f"{BASE}/rows", data={f"new:{k}": v for k, v in nomination("Cá nhân").items()},
                          headers=HTMX)
    assert response.status_code == 200
    assert kinds() == ["Tập thể", "Tập thể", "Cá nhân", "Cá nhân"]


def test_an_edit_into_a_full_category_is_refused_other_edits_are_not(app, clerk):
    (first, first_data), _, (third, third_data) = rows_of()
    response = post_as_page(clerk, f"{BASE}/rows/{third}",
                            data={f"row:{third}:{k}": v for k, v in {**third_data, "loai": "Tập thể"}.items()},
                            headers=HTMX)
    assert response.status_code == 422 and MESSAGE in response.get_data(as_text=True)
    assert kinds() == ["Tập thể", "Tập thể", "Cá nhân"]
    # a collective at the quota may still be corrected
    response = post_as_page(clerk, f"{BASE}/rows/{first}",
                            data={f"row:{first}:{k}": v for k, v in {**first_data, "chuc_vu": "—"}.items()},
                            headers=HTMX)
    assert response.status_code == 200 and rows_of()[0][1]["chuc_vu"] == "—"


def test_the_whole_page_save_checks_the_list_as_it_would_stand(app, clerk):
    (first, first_data), (second, second_data), (third, third_data) = rows_of()
    page_fields = {}
    for row_id, data in rows_of():
        page_fields.update({f"row:{row_id}:{k}": v for k, v in data.items()})
    # the first collective becomes an individual and the individual a collective: a swap, within the quota
    swap = {**page_fields, f"row:{first}:loai": "Cá nhân", f"row:{third}:loai": "Tập thể"}
    response = post_as_page(clerk, BASE, data=swap)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert kinds() == ["Cá nhân", "Tập thể", "Tập thể"]
    # a third collective among the edits and the new row: nothing of it is stored
    page_fields = {}
    for row_id, data in rows_of():
        page_fields.update({f"row:{row_id}:{k}": v for k, v in data.items()})
    over = {**page_fields, f"row:{first}:loai": "Tập thể", f"row:{first}:chuc_vu": "X"}
    response = post_as_page(clerk, BASE, data=over)
    assert response.status_code == 422 and MESSAGE in response.get_data(as_text=True)
    assert kinds() == ["Cá nhân", "Tập thể", "Tập thể"] and "chuc_vu" not in rows_of()[0][1]


def test_the_list_page_shows_the_quota_and_how_much_is_used(app, clerk):
    page = clerk.get(BASE).get_data(as_text=True)
    assert "tối đa 2 Tập thể (đã có <strong>2</strong>), tối đa 2 Cá nhân (đã có <strong>1</strong>)." in page


# --- the template ---------------------------------------------------------------------------------

def import_with(code: str, change) -> tuple[list[str] | None, int]:
    """Write ``code``'s template, let ``change(sheet, layout rows)`` fill it, import it; (the errors
    of a refused import or None, the number of changes)."""
    from webapp.exchange import ImportRefused, import_unit_template, write_unit_template

    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == CODE))
        unit = session.scalar(select(Unit).where(Unit.code == code))
        out = io.BytesIO()
        write_unit_template(session, campaign, unit, out)
        table = campaign.outline.table("IV")
        wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
        layout = build_layout(table, campaign.years, list_rows=5)

        def put(n: int, data: dict[str, str]) -> None:
            for cell in layout.rows[n].cells:
                if cell.column.key in data:
                    wb[table.sheet].cell(cell.row + 1, cell.col + 1).value = data[cell.column.key]

        change(put)
        filled = io.BytesIO()
        wb.save(filled)
        filled.seek(0)
        try:
            return None, import_unit_template(session, campaign, unit, None, filled)
        except ImportRefused as refused:
            return refused.errors, 0


def test_an_import_over_the_quota_is_refused_whole(app):
    errors, _ = import_with("ln-02", lambda put: (put(2, {"loai": "Tập thể"}), put(3, nomination("Cá nhân"))))
    assert errors == [f"IV: {MESSAGE}"]
    assert kinds() == ["Tập thể", "Tập thể", "Cá nhân"]  # neither the edit nor the new row


def test_an_import_within_the_quota_is_stored(app):
    errors, changed = import_with("ln-02", lambda put: (put(0, {"loai": "Cá nhân"}), put(2, {"loai": "Tập thể"}),
                                                        put(3, nomination("Cá nhân", "Lê Văn Tư"))))
    assert errors is None and changed == 3
    assert kinds() == ["Cá nhân", "Tập thể", "Tập thể", "Cá nhân"]
