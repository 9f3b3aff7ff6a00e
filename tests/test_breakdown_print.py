"""The "… theo ĐV" breakdown sheets print: whole periods per page, the title on every page, each
block under its own header; and no breakdown for a table that a single unit fills."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import openpyxl
import pytest

from conftest import in_app, under_ci
from webapp.domain.layout import FIRST_TABLE_ROW, build_breakdown
from webapp.domain.outline import Frame, shipped_outline
from webapp.domain.ownership import breakdown_tables, fills_numbers, number_fillers
from webapp.domain.parts import Part
from webapp.domain.workbook import breakdown_sheet_name, write_appendix
from webapp.domain.workbook.breakdown import HEADER_LIMIT, page_title

OUTLINE = shipped_outline("kl49")
COMMUNES = [f"Xã {n}" for n in ("Một", "Hai", "Ba")]
DISTRICT = "Ủy ban nhân dân huyện"
SINGLE_UNIT = {"II.1.4", "II.1.6", "II.1.7", "II.1.8"}  # kl49's tables the district committee or the union fill alone


def title_of(table) -> str:
    return f"{table.title.rstrip(': ')} – chi tiết theo đơn vị"


def kl49_assignments():
    """(unit, table, group) as kl49's owners give them: communes, the district committee, the
    labour union, the learning association, the front (only notes)."""
    kinds = {**{name: "xa" for name in COMMUNES}, DISTRICT: "ubnd_huyen", "LĐLĐ": "ldld_huyen",
             "Hội Khuyến học": "hkh_huyen", "MTTQ": "doan_the"}
    return [(unit, table.code, key) for unit, kind in kinds.items() for table in OUTLINE.tables
            if not table.is_list for key, group in table.groups if kind in group.owner]


# --- which tables get a breakdown ----------------------------------------------------------------

def test_a_table_one_unit_fills_gets_no_breakdown():
    fillers = number_fillers(OUTLINE.tables, kl49_assignments())
    assert fillers["II.1.4"] == {DISTRICT} and fillers["II.1.8"] == {"LĐLĐ"}
    assert "MTTQ" not in fillers["III"]  # asked only for a note: not a row of blanks
    assert fillers["III"] == {*COMMUNES, "Hội Khuyến học"}
    assert fillers["I"] == set()  # a list has no breakdown by unit
    kept = [t.code for t in breakdown_tables(OUTLINE.tables, fillers)]
    assert kept == ["II.1.1", "II.1.2", "II.1.3", "II.1.5", "III"]
    # two units filling it: it has one again
    fillers["II.1.4"].add("Xã Một")
    assert "II.1.4" in [t.code for t in breakdown_tables(OUTLINE.tables, fillers)]
    assert not fills_numbers(OUTLINE.table("III"), {"ghi_chu"}) and fills_numbers(OUTLINE.table("III"), {"huyen"})


def appendix(years, fillers=None, units=(*COMMUNES, DISTRICT)) -> openpyxl.Workbook:
    out = io.BytesIO()
    write_appendix(out, OUTLINE, list(years), Part(), {"campaign_code": "t"},
                   [(name, Part()) for name in units], fillers)
    out.seek(0)
    return openpyxl.load_workbook(out)


def test_the_workbook_has_no_sheet_for_a_table_one_unit_fills():
    fillers = number_fillers(OUTLINE.tables, kl49_assignments())
    names = appendix(range(2019, 2024), fillers).sheetnames
    for table in OUTLINE.tables:
        want = table.code in {"II.1.1", "II.1.2", "II.1.3", "II.1.5", "III"}
        assert (breakdown_sheet_name(table) in names) == want, table.code
    # fillers not known: every unit fills every table; a single unit breaks nothing down
    assert "II.1.4 theo ĐV" in appendix([2023]).sheetnames
    assert not [n for n in appendix([2023], units=[DISTRICT]).sheetnames if n.endswith("theo ĐV")]


# --- print setup, read back with openpyxl -----------------------------------------------------

def ranges(ws) -> list[tuple[int, int, int, int]]:
    """The print ranges as (first row, first col, last row, last col), 1-based."""
    out = []
    for area in ws.print_area if isinstance(ws.print_area, list) else ws.print_area.split(","):
        cells = area.split("!")[-1].replace("$", "")
        first, last = cells.split(":")
        a, b = openpyxl.utils.cell.coordinate_to_tuple(first), openpyxl.utils.cell.coordinate_to_tuple(last)
        out.append((a[0], a[1], b[0], b[1]))
    return out


@pytest.mark.parametrize("years", [range(2019, 2024), range(2005, 2025)])
def test_each_print_range_is_whole_periods_under_their_own_header_with_the_title(years):
    frame = Frame(tuple(years))
    wb = appendix(years)
    for table in breakdown_tables(OUTLINE.tables, {t.code: COMMUNES + [DISTRICT] for t in OUTLINE.tables}):
        ws = wb[breakdown_sheet_name(table)]
        layout = build_breakdown(table, frame, [(n, None) for n in (*COMMUNES, DISTRICT)], "Toàn huyện")
        starts = {p.columns[0].col + 1: p for p in layout.periods}  # 1-based
        ends = {p.columns[-1].col + 1: p for p in layout.periods}
        got = ranges(ws)
        # every range: the rows from the header to the total row, whole periods side by side
        assert all((r0, r1) == (FIRST_TABLE_ROW + 1, layout.total.row + 1) for r0, _, r1, _ in got)
        assert got[0][1] == 1 and all(c0 in starts for _, c0, _, _ in got[1:]), (table.code, got)
        assert all(c1 in ends for _, _, _, c1 in got), (table.code, got)
        assert got[-1][3] == layout.width and len(got) <= len(layout.periods)
        covered = [c for _, c0, _, c1 in got for c in range(max(c0, 3), c1 + 1)]
        assert covered == list(range(3, layout.width + 1))  # each period once, in order
        # each block's own header rows repeat (they hold every period's header), the unit names too
        assert ws.print_title_rows == f"${FIRST_TABLE_ROW + 1}:${layout.number_row + 1}"
        assert ws.print_title_cols == ("$A:$B" if len(got) > 1 else None)
        # each range fitted to the page width on its own; no manual break splits anything
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)  # 1: the default
        assert not ws.col_breaks.brk and not ws.row_breaks.brk
        # the title in the page header, whole, on every page (the cell A1 keeps it for the screen)
        assert ws.oddHeader.left.text == title_of(table) and ws["A1"].value == title_of(table)
        assert ws.page_setup.orientation == "landscape"


def test_a_title_too_long_for_a_page_header_is_shortened_at_a_word():
    assert page_title("1.1. A & B") == '&L&12&"Times New Roman,Bold"1.1. A && B'
    long = page_title("Tiêu đề " * 60)
    assert len(long) <= HEADER_LIMIT and long.endswith("đề…")


# --- the printed result, with LibreOffice -------------------------------------------------------

SOFFICE, PDFTOTEXT = shutil.which("soffice"), shutil.which("pdftotext")


@pytest.fixture
def libreoffice():
    """LibreOffice and pdftotext (poppler-utils): skipped without them, a failure under CI, where
    .ci/run installs them."""
    missing = [name for name, path in (("libreoffice-calc", SOFFICE), ("poppler-utils", PDFTOTEXT)) if not path]
    if missing and under_ci():
        pytest.fail(f"needs {', '.join(missing)}: required under CI", pytrace=False)
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install -y {' '.join(missing)})")


def pdf_pages(xlsx, tmp_path) -> list[str]:
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx)],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / (xlsx.stem + ".pdf")
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True, timeout=120).stdout
    return text.split("\f")[:-1]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)  # pdftotext spaces out some letters ("đơn v ị")


def check_breakdown_pages(pages: list[str], outline, frame: Frame) -> int:
    """Every page of a breakdown sheet begins with its table's whole title and shows whole periods:
    each period label on it with all its column numbers, and no column number without its period."""
    tables = {squeeze(title_of(t)): t for t in outline.tables if t.has_breakdown}
    numbers = {}
    for table in tables.values():
        layout = build_breakdown(table, frame, [], "")
        at = {h.col: h.text for h in layout.numbers}
        numbers[table.code] = {p.label: "".join(at[b.col] for b in p.columns) for p in layout.periods}
    count = 0
    for n, page in enumerate(pages, start=1):
        flat = squeeze(page)
        if not ("STT" in flat and "Đơnvị" in flat):
            continue  # the cover, a table sheet
        count += 1
        title = next((t for t in tables if flat.startswith(t)), None)
        assert title is not None, f"page {n} does not begin with a whole title: {page[:160]!r}"
        table = tables[title]
        labels = re.findall(r"Năm \d{4}", page)
        assert labels, f"page {n} ({table.code}) names no period: a lone column"
        line = next(squeeze(line) for line in page.splitlines() if re.match(r"\s*A\s+B\s", line))
        assert line == "AB" + "".join(numbers[table.code][label] for label in labels), (n, table.code, line)
    return count


@pytest.mark.libreoffice
def test_libreoffice_prints_whole_periods_with_the_title_on_every_page(app, tmp_path, libreoffice):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["campaign-create", "kl49-20y", "--outline", "kl49", "--name", "Tổng kết 20 năm",
                               "--years", "2005-2024", "--deadline", "2030-05-15", "--compiler", "ln-btg"])
    assert made.exit_code == 0, made.output
    printed = {}
    for code in ("kl49-2024", "kl49-20y"):
        path = tmp_path / f"{code}.xlsx"
        assert runner.invoke(args=["export", code, "-o", str(path)]).exit_code == 0
        sheets = openpyxl.load_workbook(path).sheetnames
        assert not SINGLE_UNIT & {n.removesuffix(" theo ĐV") for n in sheets if n.endswith(" theo ĐV")}
        with in_app() as session:
            from sqlalchemy import select

            from webapp.models import Campaign
            frame = session.scalar(select(Campaign).where(Campaign.code == code)).frame
        pages = pdf_pages(path, tmp_path)
        printed[code] = (len(pages), check_breakdown_pages(pages, OUTLINE, frame))
    # the demo: 5 breakdown sheets, 2 periods a page (1.3 and 1.5: one); was 43 pages, 32 of them breakdowns
    assert printed["kl49-2024"][1] == 3 + 3 + 5 + 5 + 3, printed
    assert printed["kl49-20y"][1] == 10 + 10 + 20 + 20 + 10, printed
