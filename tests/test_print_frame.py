"""The official form of the printed workbook (issue 15, point 2): the issuing body's header, the
headings in the seed's order, footnotes for reconstructed headers, the basis, place and date and the
signature block; every cell the templates use stays where it was; the cover is optional."""

from __future__ import annotations

import datetime as dt
import random
import re
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import login  # noqa: E402
from test_workbook import OUTLINE, YEARS, expected, fill_randomly, identity, owned_for  # noqa: E402

from webapp.domain.importer import read_template  # noqa: E402
from webapp.domain.layout import build_layout  # noqa: E402
from webapp.domain.outline import OUTLINE_DIR, load_outline, shipped_outline  # noqa: E402
from webapp.domain.parts import Part  # noqa: E402
from webapp.domain.workbook import COVER_SHEET, write_appendix, write_template  # noqa: E402

OLD_TEMPLATE = Path(__file__).parent / "data" / "kl49_xa_template_before_issue15.xlsx"
PARTY = {"campaign_code": "kl49-2024", "compiler": "Ban Tuyên giáo Huyện ủy Lộc Ninh",
         "issuer_parent": "ĐẢNG BỘ TỈNH BÌNH PHƯỚC", "issuer_name": "HUYỆN ỦY LỘC NINH", "issuer_is_party": True,
         "report_number": "125-BC/HU", "report_date": dt.date(2024, 5, 20), "report_place": "Lộc Ninh",
         "signer_title": "T/M BAN THƯỜNG VỤ\nPHÓ BÍ THƯ", "signer_name": "Nguyễn Văn An",
         "basis": "Số liệu tổng hợp từ phần đã nộp và đã được chấp nhận của 11 đơn vị."}
STATE = {**PARTY, "issuer_parent": "UBND HUYỆN LỘC NINH", "issuer_name": "HỘI KHUYẾN HỌC HUYỆN",
         "issuer_is_party": False, "signer_title": "", "report_date": None, "basis": None}
FOOTNOTE = "(*)"


def plain(text: str | None) -> str:
    """A header/footer section's text without its formatting codes."""
    return re.sub(r"&(?:[BIU]|\d+)", "", text or "")


def below(ws, row: int) -> list[str]:
    """Every text of the sheet below 1-based ``row``."""
    return [str(c.value) for r in ws.iter_rows(min_row=row + 1) for c in r if c.value not in (None, "")]


def appendix(tmp_path, cover, **kw) -> openpyxl.Workbook:
    path = tmp_path / "phuluc.xlsx"
    write_appendix(path, OUTLINE, YEARS, Part(), cover, [], **kw)
    return openpyxl.load_workbook(path)


def test_a_party_bodys_header_kem_theo_and_first_page_only(tmp_path):
    wb = appendix(tmp_path, PARTY)
    first = wb[OUTLINE.tables[0].sheet]
    assert first.HeaderFooter.differentFirst
    left, right, centre = (plain(first.firstHeader.left.text), plain(first.firstHeader.right.text),
                           plain(first.firstHeader.center.text))
    assert left.split("\n")[:3] == ["ĐẢNG BỘ TỈNH BÌNH PHƯỚC", "HUYỆN ỦY LỘC NINH", "*"]
    assert right.strip().startswith("ĐẢNG CỘNG SẢN VIỆT NAM") and "CỘNG HÒA" not in right
    assert OUTLINE.title in centre and "(Kèm theo Báo cáo số 125-BC/HU ngày 20/5/2024)" in centre
    assert centre.index(OUTLINE.title) < centre.index("Kèm theo")
    assert "Trang &P/&N" in (first.oddFooter.center.text or "")  # every page numbered
    assert not first.oddHeader.left.text  # the head of the document is printed once, above its first page
    assert first.page_setup.firstPageNumber in (None, 1) and first.page_setup.useFirstPageNumber  # (LibreOffice)
    for table in OUTLINE.tables[1:]:
        ws = wb[table.sheet]
        assert not ws.HeaderFooter.differentFirst and not ws.oddHeader.left.text, table.code
        assert "Kèm theo" not in plain(ws.oddHeader.center.text), table.code
        assert ws["A1"].value == table.title


def test_a_state_body_prints_the_state_motto_and_signs_for_its_body(tmp_path):
    wb = appendix(tmp_path, STATE)
    first = wb[OUTLINE.tables[0].sheet]
    right = plain(first.firstHeader.right.text)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in right and "Độc lập - Tự do - Hạnh phúc" in right
    assert "ĐẢNG CỘNG SẢN" not in right and "*" not in plain(first.firstHeader.left.text)
    assert "(Kèm theo Báo cáo số 125-BC/HU ngày …/…/……)" in plain(first.firstHeader.center.text)
    ws = wb[OUTLINE.tables[-1].sheet]
    texts = below(ws, build_layout(OUTLINE.tables[-1], YEARS).last_row + 1)
    assert "TM. HỘI KHUYẾN HỌC HUYỆN" in texts and "Lộc Ninh, ngày … tháng … năm …" in texts


def test_headings_print_in_the_seeds_order_above_the_title(tmp_path):
    wb = appendix(tmp_path, PARTY)
    table = OUTLINE.table("II.1.1")
    ws = wb[table.sheet]
    centre = plain(ws.oddHeader.center.text)  # on every page of the table
    positions = [centre.index(h) for h in table.headings]
    assert positions == sorted(positions)
    assert ws["A1"].value == table.title and ws["A2"].value == "\n".join(table.headings)  # no cell moves
    assert ws.row_dimensions[2].hidden  # printed once, above the title, not reversed below it


def test_the_end_of_the_appendix_has_place_date_and_signature(tmp_path):
    wb = appendix(tmp_path, PARTY)
    last = OUTLINE.tables[-1]
    ws = wb[last.sheet]
    layout_end = build_layout(last, YEARS).last_row + 1
    texts = below(ws, layout_end)
    assert texts.index("Lộc Ninh, ngày 20 tháng 5 năm 2024") < texts.index("T/M BAN THƯỜNG VỤ") \
        < texts.index("PHÓ BÍ THƯ") < texts.index("Nguyễn Văn An")
    place = next(c for r in ws.iter_rows(min_row=layout_end + 1) for c in r if c.value == texts[texts.index(
        "Lộc Ninh, ngày 20 tháng 5 năm 2024")])
    assert place.font.i and place.font.name == "Times New Roman"
    name_row = next(c.row for r in ws.iter_rows() for c in r if c.value == "Nguyễn Văn An")
    area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
    assert int(re.findall(r"\$(\d+)", area)[-1]) >= name_row  # printed
    for table in OUTLINE.tables[:-1]:  # the signature ends the appendix, not each table
        assert "Nguyễn Văn An" not in below(wb[table.sheet], 0)
    for table in OUTLINE.tables:  # what is counted is said on every table
        assert PARTY["basis"] in below(wb[table.sheet], 2), table.code


def test_reconstructed_headers_are_marked_and_footnoted(tmp_path):
    wb = appendix(tmp_path, PARTY)
    ws = wb["II.1.3"]
    layout = build_layout(OUTLINE.table("II.1.3"), YEARS)
    marked = [h for b in layout.blocks for h in b.header if h.inferred]
    assert marked
    for h in marked:
        assert ws.cell(h.row + 1, h.col + 1).value == h.text + "*"
    plain_header = next(h for b in layout.blocks for h in b.header if not h.inferred and h.column is not None)
    assert ws.cell(plain_header.row + 1, plain_header.col + 1).value == plain_header.text
    assert any(t.startswith(FOOTNOTE) for t in below(ws, layout.last_row + 1))
    assert any(t.startswith(FOOTNOTE) for t in below(wb["II.1.2"], 3))  # the whole table reconstructed
    assert not any(t.startswith(FOOTNOTE) for t in below(wb["II.1.1"], 0))


def test_templates_print_the_footnotes_below_what_the_importer_reads(tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(path, OUTLINE, YEARS, Part(), owned_for("xa"), identity())
    wb = openpyxl.load_workbook(path)
    layout = build_layout(OUTLINE.table("II.1.3"), YEARS)
    assert any(t.startswith(FOOTNOTE) for t in below(wb["II.1.3"], layout.last_row + 1))
    assert not any(t.startswith(FOOTNOTE) for t in below(wb["II.1.1"], 0))
    # a reconstructed list: the footnote sits after the blank rows and the template still imports
    kt = shipped_outline("khenthuong")
    owned = {"IV": {"rows"}}
    ident = {**identity(), "outline": kt.ident, "outline_digest": kt.digest}
    write_template(path, kt, YEARS, Part(), owned, ident)
    ws = openpyxl.load_workbook(path)["IV"]
    last = build_layout(kt.table("IV"), YEARS).last_row + 1
    assert any(t.startswith(FOOTNOTE) for t in below(ws, last))
    part, errors = read_template(path, kt, YEARS, owned, {**expected(), "outline": kt.ident}, "XA01")
    assert errors == [] and part.lists.get("IV", []) == []


def test_every_cell_of_a_template_made_before_stays_at_its_address():
    old = openpyxl.load_workbook(OLD_TEMPLATE)
    import io
    buffer = io.BytesIO()
    write_template(buffer, OUTLINE, YEARS, Part(), owned_for("xa"), identity())
    new = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    for table in OUTLINE.tables:
        layout = build_layout(table, YEARS)
        marked = {(h.row + 1, h.col + 1) for b in layout.blocks for h in b.header if h.inferred}
        filled = {(c.row + 1, c.col + 1) for c in layout.cells if c.column.is_input}  # the old one was filled in
        for row in old[table.sheet].iter_rows(max_row=layout.last_row + 1):
            for cell in row:
                if cell.value is None or (cell.row, cell.column) in filled \
                        or table.is_list and cell.row > layout.blocks[0].number_row + 1:
                    continue
                want = cell.value + "*" if (cell.row, cell.column) in marked else cell.value
                got = new[table.sheet].cell(cell.row, cell.column).value
                assert got == want, (table.code, cell.coordinate)


def test_a_template_handed_out_before_still_imports(tmp_path):
    owned = owned_for("xa")
    # handed out for a campaign on kl49@1 (kl49.yaml is version 2 since, with the same tables)
    v1 = load_outline(OUTLINE_DIR / "kl49-v1.yaml")
    old, errors = read_template(OLD_TEMPLATE, v1, YEARS, owned, {**expected(), "outline": v1.ident}, "XA01")
    assert errors == []
    path = tmp_path / "new.xlsx"
    write_template(path, OUTLINE, YEARS, Part(), owned, identity())
    filled = fill_randomly(path, owned, random.Random(15))  # the same values as the old one holds
    new, errors = read_template(path, OUTLINE, YEARS, owned, expected(), "XA01")
    assert errors == []
    assert old.numbers == new.numbers and old.texts == new.texts and old.lists == new.lists
    assert {k: v for k, v in new.numbers.items() if v is not None} == \
        {k: v for k, v in filled.numbers.items() if v is not None}


def test_the_cover_is_optional(tmp_path):
    assert appendix(tmp_path, PARTY).sheetnames[0] == COVER_SHEET
    names = appendix(tmp_path, PARTY, with_cover=False).sheetnames
    assert COVER_SHEET not in names and names[0] == OUTLINE.tables[0].sheet


def test_every_font_in_the_files_is_times_new_roman(tmp_path):
    write_appendix(tmp_path / "a.xlsx", shipped_outline("muctieu"), [2024, 2025], Part(), PARTY, [])
    write_template(tmp_path / "t.xlsx", OUTLINE, YEARS, Part(), owned_for("xa"), identity())
    for name in ("a.xlsx", "t.xlsx"):
        with zipfile.ZipFile(tmp_path / name) as z:
            styles = z.read("xl/styles.xml").decode()
            assert set(re.findall(r'<name val="([^"]+)"', styles)) == {"Times New Roman"}, name
            for chart in [n for n in z.namelist() if n.startswith("xl/charts/")]:
                faces = set(re.findall(r'typeface="([^"]+)"', z.read(chart).decode()))
                assert faces == {"Times New Roman"}, chart


# --- the campaign's fields, the command line and the web ------------------------------------------

def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_the_export_prints_the_campaigns_fields_and_the_cover_is_optional(app, tmp_path):
    out = tmp_path / "a.xlsx"
    assert cli(app, "export", "kl49-2024", "-o", str(out)).exit_code == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == COVER_SHEET
    first = wb[OUTLINE.tables[0].sheet]
    assert plain(first.firstHeader.left.text).split("\n")[:2] == ["ĐẢNG BỘ TỈNH BÌNH PHƯỚC", "HUYỆN ỦY LỘC NINH"]
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in plain(first.firstHeader.right.text)
    texts = below(wb[OUTLINE.tables[-1].sheet], build_layout(OUTLINE.tables[-1], YEARS).last_row + 1)
    assert "T/M BAN THƯỜNG VỤ" in texts and "PHÓ BÍ THƯ" in texts
    assert any(t.startswith("Lộc Ninh, ngày") for t in texts)
    result = cli(app, "export", "kl49-2024", "-o", str(out), "--no-cover")
    assert result.exit_code == 0
    assert COVER_SHEET not in openpyxl.load_workbook(out).sheetnames
    assert cli(app, "export", "kl49-2024", "-o", str(out), "--cover").exit_code == 0
    assert openpyxl.load_workbook(out).sheetnames[0] == COVER_SHEET


@pytest.mark.parametrize("query, has_cover", [("", True), ("?cover=1", True), ("?cover=0", False)])
def test_the_web_export_leaves_the_cover_out_when_asked(app, query, has_cover):
    import io
    response = login(app.test_client(), "admin").get(f"/campaigns/kl49-2024/export.xlsx{query}")
    assert response.status_code == 200
    assert (COVER_SHEET in openpyxl.load_workbook(io.BytesIO(response.data)).sheetnames) == has_cover


def test_lines_under_a_title_stay_under_it(tmp_path):
    cdht = shipped_outline("cdht")  # "Tính đến ngày 30/9/2024" is printed under its table's title
    owned = {t.code: set() for t in cdht.tables}
    write_template(tmp_path / "c.xlsx", cdht, YEARS, Part(), owned, {**identity(), "outline": cdht.ident})
    ws = openpyxl.load_workbook(tmp_path / "c.xlsx")["CDHT1"]
    assert ws["A2"].value == "Tính đến ngày 30/9/2024" and not ws.row_dimensions[2].hidden
    assert not ws.oddHeader.center.text


def test_the_header_keeps_within_excels_limit_leaving_out_the_least_needed_first():
    from webapp.domain.workbook.official import Issuer, first_page_header
    issuer = Issuer.of(PARTY)
    header, lines = first_page_header(issuer, ("II. " + "Rất dài " * 30, "1. Mục"), "PHỤ LỤC " * 10)
    assert len(header) <= 255 and "PHỤ LỤC" not in header and "Kèm theo" not in header
    assert "II. Rất dài" in header and "1. Mục" not in header and header.count("…") == 1
    header, lines = first_page_header(issuer, (), "PHỤ LỤC A & B")
    assert "PHỤ LỤC A && B" in header and lines == 6  # 3 lines of the issuer, a blank, the title, the report


def test_the_compilers_pages_offer_the_export_without_the_cover(app):
    page = login(app.test_client(), "admin").get("/campaigns/kl49-2024/appendix").get_data(as_text=True)
    assert "/campaigns/kl49-2024/export.xlsx?cover=0" in page and "Xuất Excel để in" in page


def test_a_reconstructed_list_header_is_marked_too(tmp_path):
    kt = shipped_outline("khenthuong")
    write_template(tmp_path / "k.xlsx", kt, YEARS, Part(), {"IV": {"rows"}}, {**identity(), "outline": kt.ident})
    ws = openpyxl.load_workbook(tmp_path / "k.xlsx")["IV"]
    for h in build_layout(kt.table("IV"), YEARS).blocks[0].header:
        assert ws.cell(h.row + 1, h.col + 1).value == h.text + ("*" if h.column.inferred else "")
    assert ws["B4"].value.endswith("*") and ws["A4"].value == "TT"
