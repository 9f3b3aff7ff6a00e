"""A district that is not the demo sets itself up without code (issue 13), from an empty database:
its list of units and accounts, the shipped outline, a campaign; a clerk signs in with the printed
password (the password change comes first), fills a cell, imports a template; the compiler exports.
A second version of the outline is loaded later and the first campaign does not move; the campaign
is copied to the next period. Every step goes through the commands of the contract or the pages."""

from __future__ import annotations

import datetime as dt

import openpyxl
from sqlalchemy import func, select

from conftest import in_app, login, post_as_page
from webapp.domain.outline import OUTLINE_DIR
from webapp.models import Assignment, Campaign, CellValue

LIST = """\ufeffcode;name;kind;parent;phone;username;full_name;role
td;Huyện Tam Đường;huyen;;;;;
td-hu;Ban Tuyên giáo Huyện ủy Tam Đường;huyen_uy;td;0213 3875 001;td-btg;Lò Văn Minh;compiler
td-hu;Ban Tuyên giáo Huyện ủy Tam Đường;huyen_uy;td;0213 3875 001;td-admin;Quản trị;admin
td-bh;Xã Bình Lư;xa;td;;td-bh;Tẩn Thị Mai;clerk
td-sh;Xã Sơn Bình;xa;td;;td-sh;Vàng A Sử;clerk
td-ubnd;Ủy ban nhân dân huyện Tam Đường;ubnd_huyen;td;;td-ubnd;Nguyễn Văn Hùng;clerk
"""


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_district_sets_itself_up_and_runs_two_periods(empty_app, tmp_path):
    today = dt.date.today()
    units_file = tmp_path / "danh-sach.csv"
    units_file.write_text(LIST, encoding="utf-8")

    # 1. the list: one line per account created, USERNAME<TAB>PASSWORD; loading it again creates nothing
    code, out, err = cli(empty_app, "import-units", str(units_file))
    assert code == 0, err
    passwords = dict(line.split("\t") for line in out.splitlines())
    assert sorted(passwords) == ["td-admin", "td-bh", "td-btg", "td-sh", "td-ubnd"]
    assert cli(empty_app, "import-units", str(units_file))[:2] == (0, "")

    # 2. the shipped outlines are there after `db upgrade` (kl49 among them: version 1, and version 2
    #    with the narrative report's sections)
    code, out, _ = cli(empty_app, "outlines")
    shipped = [line for line in out.splitlines() if line.startswith("kl49\t")]
    assert code == 0 and [line.split("\t")[1] for line in shipped] == ["1", "2"]
    assert shipped[1].startswith("kl49\t2\tPHỤ LỤC BÁO CÁO SƠ KẾT 5 NĂM")

    # 3. the campaign: by default every unit of a kind the outline names, below the compiler's district
    deadline = today + dt.timedelta(days=10)
    code, out, err = cli(empty_app, "campaign-create", "td-2024", "--outline", "kl49", "--name",
                         "Sơ kết 5 năm Kết luận 49-KL/TW", "--years", "2019-2023", "--deadline",
                         deadline.isoformat(), "--compiler", "td-hu")
    assert (code, out) == (0, "td-2024\n"), err
    assert cli(empty_app, "units", "td-2024")[1].splitlines() == [
        "td-bh\tXã Bình Lư", "td-sh\tXã Sơn Bình", "td-ubnd\tỦy ban nhân dân huyện Tam Đường"]

    # 4. a clerk signs in with the printed password: the password change comes first
    clerk = empty_app.test_client()
    login(clerk, "td-bh", passwords["td-bh"])  # asserts the sign-in's redirect
    assert clerk.get("/").headers["Location"].endswith("/password")
    assert clerk.post("/password", data={"current": passwords["td-bh"], "new": "mat-khau-moi-1",
                                         "confirm": "mat-khau-moi-1"}).status_code == 302
    home = clerk.get("/")
    assert home.status_code == 200 and "td-2024" in home.get_data(as_text=True)
    table = "/campaigns/td-2024/tables/II.1.5"
    saved = post_as_page(clerk, f"{table}/cells/2021/xa_tong", {"value": "24"})
    assert saved.status_code == 200, saved.get_data(as_text=True)

    # 5. the other commune fills its template offline; the import goes through the contract's command
    template = tmp_path / "td-sh.xlsx"
    assert cli(empty_app, "template", "td-2024", "td-sh", "-o", str(template))[0] == 0
    book = openpyxl.load_workbook(template)
    sheet = book["II.1.5"]
    cell = next(c for row in sheet.iter_rows() for c in row if c.protection.locked is False)
    cell.value = 17
    book.save(template)
    code, _, err = cli(empty_app, "import-xlsx", "td-2024", "td-sh", str(template))
    assert code == 0, err

    # 6. the compiler exports: the two communes' figures are in the assembled workbook
    export = tmp_path / "phu-luc.xlsx"
    assert cli(empty_app, "export", "td-2024", "-o", str(export))[0] == 0
    assembled = openpyxl.load_workbook(export)["II.1.5"]
    numbers = [c.value for row in assembled.iter_rows() for c in row if isinstance(c.value, int)]
    assert {17, 24} <= set(numbers)  # each commune's figure, summed per cell (different years here)
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "td-2024"))
        stored = sorted(v.num for v in session.scalars(select(CellValue).where(CellValue.campaign_id == campaign.id)))
        assert stored == [17, 24]

    # 7. the province sends a corrected outline: version 3; the running campaign keeps version 2
    text = (OUTLINE_DIR / "kl49.yaml").read_text(encoding="utf-8")
    second = tmp_path / "kl49-v3.yaml"
    second.write_text(text.replace("\nversion: 2\n", "\nversion: 3\n", 1)
                      .replace("1.5. Kết quả đào tạo bồi dưỡng cán bộ cơ sở:",
                               "1.5. Kết quả đào tạo, bồi dưỡng cán bộ, công chức cơ sở:"), encoding="utf-8")
    assert cli(empty_app, "outline-check", str(second))[:2] == (0, "")
    assert cli(empty_app, "outline-load", str(second))[:2] == (0, "kl49\t3\n")
    assert [line.split("\t")[:2] for line in cli(empty_app, "outlines")[1].splitlines()
            if line.startswith("kl49\t")] == [["kl49", "1"], ["kl49", "2"], ["kl49", "3"]]
    compiler = empty_app.test_client()
    login(compiler, "td-btg", passwords["td-btg"])
    compiler.post("/password", data={"current": passwords["td-btg"], "new": "mat-khau-moi-2",
                                     "confirm": "mat-khau-moi-2"})
    page = compiler.get("/campaigns/td-2024/appendix").get_data(as_text=True)
    assert "1.5. Kết quả đào tạo bồi dưỡng cán bộ cơ sở:" in page and "công chức cơ sở:" not in page

    # 8. next period: same outline version, units and assignments
    code, out, err = cli(empty_app, "campaign-copy", "td-2024", "td-2025", "--years", "2020-2024",
                         "--deadline", (today + dt.timedelta(days=30)).isoformat())
    assert (code, out) == (0, "td-2025\n"), err
    with in_app() as session:
        old, new = (session.scalar(select(Campaign).where(Campaign.code == c)) for c in ("td-2024", "td-2025"))
        assert (new.outline_code, new.outline_version, new.year_from, new.year_to) == ("kl49", 2, 2020, 2024)
        assert [u.code for u in new.units] == [u.code for u in old.units]

        def assignments(campaign):
            return sorted(session.execute(select(Assignment.unit_id, Assignment.table_code, Assignment.group_key)
                                          .where(Assignment.campaign_id == campaign.id)).all())
        assert assignments(new) == assignments(old) and assignments(old)
        assert session.scalar(select(func.count()).select_from(CellValue)
                              .where(CellValue.campaign_id == new.id)) == 0
    # and a new campaign takes the newest version unless told otherwise
    assert cli(empty_app, "campaign-create", "td-2026", "--outline", "kl49", "--name", "Tổng kết",
               "--years", "2021-2025", "--deadline", (today + dt.timedelta(days=40)).isoformat(),
               "--compiler", "td-hu")[0] == 0
    with in_app() as session:
        assert session.scalar(select(Campaign.outline_version).where(Campaign.code == "td-2026")) == 3
