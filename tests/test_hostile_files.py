"""Hostile files and formula injection.

Every hostile upload, through the web page and the command line, is one clear Vietnamese refusal
that changes nothing in the database, decided before openpyxl parses anything (zip bombs: from the
sizes the archive declares). Text written to a workbook or to the CSV list never acts as a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import random
import re
import struct
import subprocess
import sys
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from markupsafe import escape
from sqlalchemy import func, select

from conftest import in_app, login
from test_workbook import identity, owned_for, with_unit_counts
from webapp.domain import archive
from webapp.domain.archive import (MAX_ENTRIES, MAX_FILE_BYTES, MAX_PART_BYTES, MAX_RATIO, MAX_UNPACKED_BYTES,
                                   archive_problem)
from webapp.domain.importer import FORMULA_INPUT, XML_FORBIDDEN, read_template
from webapp.domain.layout import build_layout
from webapp.domain.outline import shipped_outline
from webapp.domain.parts import Part
from webapp.domain.workbook import META_SHEET, write_appendix, write_template
from webapp.models import PART_OPEN, AuditEvent, Campaign, CampaignUnit, CellValue, ListRow, Unit
from webapp.workflow import campaign_today

OUTLINE = shipped_outline("kl49")
YEARS = [2019, 2020, 2021, 2022, 2023]
CAMPAIGN = "kl49-2024"
BASE = f"/campaigns/{CAMPAIGN}"
SOFFICE = "/usr/bin/soffice"
PROJECT = Path(__file__).resolve().parent.parent
UNIT, UNIT_NAME = "ln-16", "Xã Lộc Khánh"  # a commune the demo leaves open and empty
SHEET = "xl/worksheets/sheet1.xml"  # table I
INFLATED = "xl/worksheets/sheet9.xml"  # table II.1.8, which a commune does not fill
FORMULA_LIKE = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)"]


# ------------------------------------------------------------------------------------ hostile files

@functools.cache
def genuine() -> bytes:
    """A commune's template as the app writes it (the zip the hostile files are made from)."""
    owned = owned_for("xa")
    out = io.BytesIO()
    write_template(out, OUTLINE, YEARS, with_unit_counts(Part(), owned), owned, identity())
    return out.getvalue()


def rebuilt(replace: dict[str, bytes | None] = {}, add: dict[str, bytes] = {}, stored: bool = False,
            big: tuple[str, int] | None = None) -> bytes:
    """The genuine template with entries replaced (None: removed) or added; ``big``: an entry of
    that many MB of spaces inside a sheet's XML, deflated on the fly (a few hundred KB)."""
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(io.BytesIO(genuine())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in replace or (big and info.filename == big[0]):
                continue
            dst.writestr(info, src.read(info))
        for name, data in {**replace, **add}.items():
            if data is not None:
                dst.writestr(name, data, compress_type=method)
        if big:
            with dst.open(big[0], "w") as entry:
                entry.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                            b'spreadsheetml/2006/main"><sheetData>')
                spaces = b" " * (1024 * 1024)
                for _ in range(big[1]):
                    entry.write(spaces)
                entry.write(b"</sheetData></worksheet>")
    return out.getvalue()


def sheet_parts(data: bytes) -> dict[str, str]:
    """Sheet name → its part in the archive, as workbook.xml and its relationships say."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        targets = dict(re.findall(r'<Relationship [^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"',
                                  z.read("xl/_rels/workbook.xml.rels").decode()))
        sheets = re.findall(r'<sheet [^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', z.read("xl/workbook.xml").decode())
    return {name: "xl/" + targets[rid].removeprefix("/xl/") for name, rid in sheets}


def inflated(data: bytes, parts: dict[str, tuple[float, int | None]]) -> bytes:
    """``data`` with about that many MB of empty cells ``<c r=".." s="0"/>`` added to sheets,
    deflated (about 12:1): part → (MB, where). Where None: in new rows of 26 cells (A to Z) after
    the sheet's last row; a row number: inside that row, right of every column of the layout."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            xml = src.read(info)
            if info.filename in parts:
                mb, row = parts[info.filename]
                xml = _with_empty_cells(xml, int(mb * 1024 * 1024), row)
            dst.writestr(info, xml)
    return out.getvalue()


def _with_empty_cells(xml: bytes, budget: int, row: int | None) -> bytes:
    junk = []
    if row is None:
        last = max(int(r) for r in re.findall(rb'<row r="(\d+)"', xml))
        for r in range(last + 1, 1_048_577):
            junk.append(f'<row r="{r}">'.encode() + b"".join(b'<c r="%s%d" s="0"/>' % (bytes([65 + c]), r)
                                                              for c in range(26)) + b"</row>")
            budget -= len(junk[-1])
            if budget <= 0:
                break
        return xml.replace(b"</sheetData>", b"".join(junk) + b"</sheetData>", 1)
    letters = [openpyxl.utils.get_column_letter(c).encode() for c in range(41, 16385)]  # AO to XFD
    while budget > 0:  # across the row, and again (the same addresses) until the MB are used up
        junk.append(b"".join(b'<c r="%s%d" s="0"/>' % (col, row) for col in letters))
        budget -= len(junk[-1])
    cells = b"".join(junk)
    cells = cells[:cells.rfind(b"<c ", 0, len(cells) + budget + 1)]  # whole cells, to the MB asked
    at = re.search(rb'<row r="%d"[^>]*>.*?(</row>)' % row, xml, flags=re.S).start(1)
    return xml[:at] + cells + xml[at:]


def plain_zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data, compress_type=zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    return out.getvalue()


BILLION_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!DOCTYPE worksheet [<!ENTITY a "ha">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
      '<row r="1"><c r="A1" t="inlineStr"><is><t>&j;</t></is></c></row></sheetData></worksheet>'
).encode()


@functools.cache
def hostile(kind: str) -> bytes:
    rng = random.Random(kind)
    if kind == "empty":
        return b""
    if kind == "random":
        return b"\x00" + rng.randbytes(64 * 1024)
    if kind == "pdf":
        return b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    if kind == "docx":
        return plain_zip({"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>",
                          "word/document.xml": b"<w:document/>"})
    if kind == "zip_without_parts":
        return plain_zip({"readme.txt": "Báo cáo của xã".encode(), "data/bang.csv": b"1,2,3"})
    if kind == "xls":  # an OLE2 compound file: Excel 97-2003, or an .xlsx with a password to open
        return archive.OLE2_MAGIC + bytes(4096)
    if kind == "ods":
        return plain_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                          "content.xml": b"<office:document-content/>"})
    if kind == "too_large":  # a real template padded with an incompressible image past 10 MB
        return rebuilt(add={"xl/media/image1.png": rng.randbytes(MAX_FILE_BYTES)}, stored=True)
    if kind == "bomb_total":  # 200 MB of a sheet in 200 KB
        return rebuilt(big=(SHEET, 200))
    if kind == "bomb_ratio":  # 50 MB: under the total, but compressed 1000:1
        return rebuilt(big=(SHEET, 50))
    if kind == "bomb_entries":
        return rebuilt(add={f"xl/media/x{i}.xml": b"" for i in range(MAX_ENTRIES)})
    if kind == "xml_bomb":
        return rebuilt(replace={SHEET: BILLION_LAUGHS})
    if kind == "inflated_sheet":  # a sheet of 98 MB of empty cells: 8 MB compressed, 12:1, inside every global limit
        return inflated(genuine(), {INFLATED: (98, None)})
    if kind == "many_sheets":  # 5,000 sheets listed, all the same part: 200 KB that openpyxl would open 5,000 times
        return rebuilt(replace={"xl/workbook.xml": _listing_many_sheets(5000)})
    raise ValueError(kind)


def _listing_many_sheets(n: int) -> bytes:
    with zipfile.ZipFile(io.BytesIO(genuine())) as z:
        xml = z.read("xl/workbook.xml")
    one = re.search(rb"<sheet [^>]*/>", xml).group(0)
    copies = b"".join(re.sub(rb'name="[^"]*"', b'name="S%d"' % i, one).replace(b'sheetId="', b'sheetId="9%d' % i, 1)
                      for i in range(n))
    return xml.replace(b"</sheets>", copies + b"</sheets>", 1)


def _evading(variant: str) -> bytes:
    """The many-sheets file with its parts written the ways a regular expression would miss."""
    with zipfile.ZipFile(io.BytesIO(genuine())) as z:
        types = z.read("[Content_Types].xml")
    workbook = _listing_many_sheets(5000)
    if variant == "escaped content type":
        types = types.replace(b"sheet.main+xml", b"sheet.main&#43;xml")
    elif variant == "single quotes":
        types = re.sub(rb'<Override PartName="/xl/workbook.xml" ContentType="([^"]+)"',
                       rb"<Override ContentType='\1' PartName='/xl/workbook.xml'", types)
    elif variant == "default content type only":
        types = re.sub(rb'<Override PartName="/xl/workbook.xml"[^>]*/>', b"", types).replace(
            b'<Default Extension="xml" ContentType="application/xml"/>',
            b'<Default Extension="xml" ContentType="application/vnd.openxmlformats-officedocument.'
            b'spreadsheetml.sheet.main+xml"/>')
    elif variant == "prefixed elements":
        workbook = re.sub(rb"<(/?)(sheets?)\b", rb"<\1a-b:\2", workbook).replace(
            b"<workbook ", b'<workbook xmlns:a-b="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ', 1)
    return rebuilt(replace={"xl/workbook.xml": workbook, "[Content_Types].xml": types})


MESSAGES = {
    "empty": archive.EMPTY,
    "random": archive.NOT_A_WORKBOOK,
    "pdf": archive.PDF,
    "docx": archive.WORD,
    "zip_without_parts": archive.NOT_A_WORKBOOK,
    "xls": archive.OLD_OR_LOCKED,
    "ods": archive.ODS,
    "too_large": archive.TOO_LARGE.format(size="10,0 MB", limit=10),
    "bomb_total": archive.SUSPICIOUS.format(what=archive.TOO_BIG_UNPACKED.format(size="{total}", limit=100)),
    "bomb_ratio": archive.SUSPICIOUS.format(what=archive.TOO_COMPRESSED.format(name=SHEET, ratio="{ratio}",
                                                                               limit=100)),
    "bomb_entries": archive.SUSPICIOUS.format(what=archive.TOO_MANY_ENTRIES.format(limit=MAX_ENTRIES)),
    "xml_bomb": XML_FORBIDDEN,
    "many_sheets": archive.SUSPICIOUS.format(what=archive.TOO_MANY_SHEETS.format(count="{count}",
                                                                                limit=archive.MAX_SHEETS)),
    "inflated_sheet": archive.SUSPICIOUS.format(what=archive.TOO_BIG_PART.format(name=INFLATED, size="{size}",
                                                                                 limit=MAX_PART_BYTES // (1024 * 1024))),
}
KINDS = list(MESSAGES)


def message(kind: str) -> str:
    """The refusal expected for a hostile file (a bomb's figures as its archive declares them)."""
    if kind == "many_sheets":
        return MESSAGES[kind].format(count=5000 + len(sheet_parts(genuine())))
    if kind == "inflated_sheet":
        with zipfile.ZipFile(io.BytesIO(hostile(kind))) as z:
            return MESSAGES[kind].format(size=archive.size_text(z.getinfo(INFLATED).file_size))
    if not kind.startswith("bomb_"):
        return MESSAGES[kind]
    with zipfile.ZipFile(io.BytesIO(hostile(kind))) as z:
        sheet, total = z.getinfo(SHEET), sum(i.file_size for i in z.infolist())
    ratio = f"{sheet.file_size // sheet.compress_size:,}".replace(",", ".")
    return MESSAGES[kind].format(total=archive.size_text(total), ratio=ratio)


def db_state():
    """The rows an import could change: counts, and the values themselves."""
    with in_app() as session:
        counts = tuple(session.scalar(select(func.count()).select_from(model))
                       for model in (CellValue, ListRow, AuditEvent))
        values = session.execute(select(CellValue.unit_id, CellValue.table_code, CellValue.row_key,
                                        CellValue.col_key, CellValue.num, CellValue.text, CellValue.version)
                                 .order_by(CellValue.id)).all()
        rows = session.execute(select(ListRow.id, ListRow.data).order_by(ListRow.id)).all()
    return counts, values, rows


@pytest.fixture
def clerk(app):
    """The clerk of UNIT, whose part is open for writing: the demo's deadline (two weeks after the
    day it was loaded) has passed when the tests run, and a clerk's writes stop at the deadline."""
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN))
        campaign.deadline = campaign_today() + dt.timedelta(days=30)
        part = session.scalar(select(CampaignUnit).join(Unit, Unit.id == CampaignUnit.unit_id)
                              .where(CampaignUnit.campaign_id == campaign.id, Unit.code == UNIT))
        assert part.status == PART_OPEN and not part.return_reason
        session.commit()
    return login(app.test_client(), UNIT)


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def upload(client, data: bytes, unit: str | None = None):
    query = f"?unit={unit}" if unit else ""
    return client.post(f"{BASE}/import{query}", data={"workbook": (io.BytesIO(data), f"{UNIT}.xlsx")},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_file_is_refused_by_the_reader_with_one_message(kind):
    part, errors = read_template(io.BytesIO(hostile(kind)), OUTLINE, YEARS, owned_for("xa"),
                                 {"campaign": "kl49-2024", "unit": "XA01", "outline": OUTLINE.ident})
    assert errors == [message(kind)] and part == Part()


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_upload_is_refused_and_stores_nothing(app, clerk, kind):
    before = db_state()
    response = upload(clerk, hostile(kind))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Chưa nhận tệp: 1 lỗi" in html and str(escape(message(kind))) in html
    assert db_state() == before


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_file_on_the_command_line_is_one_line_on_stderr(app, tmp_path, kind):
    path = tmp_path / f"{UNIT}.xlsx"
    path.write_bytes(hostile(kind))
    before = db_state()
    result = cli(app, "import-xlsx", CAMPAIGN, UNIT, str(path))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [message(kind)]
    assert "Traceback" not in result.output
    assert db_state() == before


def test_a_path_that_cannot_be_read_is_not_a_workbook(tmp_path):
    assert archive_problem(tmp_path) == archive.NOT_A_WORKBOOK


def test_openpyxl_parses_with_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_a_zip_bomb_is_refused_in_bounded_memory():
    """200 MB declared: refused from the central directory, allocating a few hundred KB at most
    (openpyxl would have gone through 200 MB of XML)."""
    bomb = hostile("bomb_total")
    assert len(bomb) < MAX_FILE_BYTES // 20
    with zipfile.ZipFile(io.BytesIO(bomb)) as z:
        assert z.getinfo(SHEET).file_size > 200 * 1024 * 1024
    owned = owned_for("xa")
    expected = {"campaign": "kl49-2024", "unit": "XA01", "outline": OUTLINE.ident}
    read_template(io.BytesIO(bomb), OUTLINE, YEARS, owned, expected)  # imports warmed up
    source = io.BytesIO(bomb)
    tracemalloc.start()
    try:
        _, errors = read_template(source, OUTLINE, YEARS, owned, expected)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert errors == [message("bomb_total")]
    assert peak < 1024 * 1024, peak  # about 70 KB: the end of the file and the directory


def test_a_zip_bomb_upload_is_refused_in_bounded_memory(app, clerk):
    bomb = hostile("bomb_total")
    assert upload(clerk, bomb).status_code == 422  # templates compiled, session loaded
    tracemalloc.start()
    try:
        response = upload(clerk, bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 422
    assert peak < 4 * 1024 * 1024, peak  # the request, the page and the ~200 KB upload itself (0.8 MB)


def test_a_body_over_the_limit_is_a_message_on_the_upload_page(app, clerk, compiler):
    assert app.config["MAX_CONTENT_LENGTH"] > MAX_FILE_BYTES  # a file just under the limit reaches the reader
    before = db_state()
    big = b"PK" + bytes(app.config["MAX_CONTENT_LENGTH"])
    for client, unit in ((clerk, None), (compiler, UNIT)):
        response = upload(client, big, unit)
        assert response.status_code == 413
        html = response.get_data(as_text=True)
        assert f"Nộp tệp Excel – {UNIT_NAME}" in html and "Tệp quá lớn (10,1 MB); chỉ nhận tệp tối đa 10 MB" in html
        assert 'type="file"' in html  # the form, to choose another file
    assert db_state() == before
    # elsewhere (no upload page), the generic error page
    response = clerk.post(f"{BASE}/tables/II.1.5", data={"x": "y" * app.config["MAX_CONTENT_LENGTH"]})
    assert response.status_code == 413 and "Tệp quá lớn" in response.get_data(as_text=True)


def timed_read(data: bytes, owned, expected):
    """read_template of ``data``: (part, errors, seconds, Python's peak allocation in bytes)."""
    tracemalloc.start()
    try:
        started = time.perf_counter()
        part, errors = read_template(io.BytesIO(data), OUTLINE, YEARS, owned, expected)
        return part, errors, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_sheet_inflated_with_empty_cells_inside_the_global_limits_is_refused_quickly():
    """The audit's file: a genuine template whose sheet II.1.8 (a commune does not fill it) holds
    98 MB of empty cells, 8 MB compressed (12:1): under 10 MB, 100 MB and 100:1. openpyxl took
    40 s and 1.8 GB to load it; the part's declared size refuses it from the central directory."""
    data = hostile("inflated_sheet")
    assert sheet_parts(data)["II.1.8"] == INFLATED
    size, entries, total, ratio = archive_stats(data)
    assert size < MAX_FILE_BYTES and entries < MAX_ENTRIES and total < MAX_UNPACKED_BYTES and ratio < MAX_RATIO / 4
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.getinfo(INFLATED).file_size > 90 * 1024 * 1024
    owned = owned_for("xa")
    expected = {"campaign": "kl49-2024", "unit": "XA01", "outline": OUTLINE.ident}
    read_template(io.BytesIO(data), OUTLINE, YEARS, owned, expected)  # imports warmed up
    _, errors, seconds, peak = timed_read(data, owned, expected)
    assert errors == [message("inflated_sheet")]
    assert "II.1.8" not in errors[0] and "98,0 MB" in errors[0] and "tối đa 4 MB" in errors[0]
    assert peak < 1024 * 1024, peak  # the directory, as for a zip bomb
    assert seconds < 10, seconds  # about 10 ms; generous, the machine is shared


def test_a_sheet_inflated_up_to_the_part_limit_is_read_in_bounded_memory():
    """Just under every limit, the costliest place for empty cells: inside a row the layout reads
    (right of its columns), where the reader cannot stop before them. The file is an ordinary
    template: read, with nothing to complain about, while openpyxl streams the sheet row by row
    (read-only) and never loads the sheets of other tables at all."""
    data = genuine()
    table = OUTLINE.table("II.1.3")  # the largest grid sheet
    part = sheet_parts(data)[table.sheet]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        room = (MAX_PART_BYTES - z.getinfo(part).file_size) / (1024 * 1024) - 0.01
    row = build_layout(table, YEARS).rows[0].row + 1
    worst = inflated(data, {part: (room, row)})
    with zipfile.ZipFile(io.BytesIO(worst)) as z:
        assert MAX_PART_BYTES - 32 * 1024 < z.getinfo(part).file_size <= MAX_PART_BYTES
    assert archive_problem(io.BytesIO(worst)) is None
    owned = owned_for("xa")
    expected = {"campaign": "kl49-2024", "unit": "XA01", "outline": OUTLINE.ident}
    read, errors = read_template(io.BytesIO(data), OUTLINE, YEARS, owned, expected)
    assert errors == []
    again, errors, seconds, peak = timed_read(worst, owned, expected)
    assert errors == [] and again == read
    assert peak < 256 * 1024 * 1024, peak  # about 120 MB: one row of 250,000 cells in the parser
    assert seconds < 60, seconds  # about 3 s under tracemalloc, 1 s without; generous


def test_empty_cells_below_a_grid_are_never_parsed():
    """Rows below a grid's layout cost nothing: openpyxl stops reading the sheet after the layout's
    last row (here 3.9 MB of rows below II.1.8, read in well under a second)."""
    data = genuine()
    parts = sheet_parts(data)
    worst = inflated(data, {parts["II.1.8"]: (3.9, None)})
    owned = owned_for("xa")
    expected = {"campaign": "kl49-2024", "unit": "XA01", "outline": OUTLINE.ident}
    started = time.perf_counter()
    read, errors = read_template(io.BytesIO(worst), OUTLINE, YEARS, owned, expected)
    assert errors == [] and read == read_template(io.BytesIO(data), OUTLINE, YEARS, owned, expected)[0]
    assert time.perf_counter() - started < 30


# --- the archive checks themselves -----------------------------------------------------------------

def archive_stats(data: bytes) -> tuple[int, int, int, float]:
    """Size, entries, declared uncompressed total, worst ratio of an entry."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
    return (len(data), len(infos), sum(i.file_size for i in infos),
            max(i.file_size / max(i.compress_size, 1) for i in infos))


def assert_comfortably_within_limits(data: bytes) -> None:
    size, entries, total, ratio = archive_stats(data)
    assert archive_problem(io.BytesIO(data)) is None
    assert size < MAX_FILE_BYTES / 100 and entries < MAX_ENTRIES / 20 and total < MAX_UNPACKED_BYTES / 100
    assert ratio < MAX_RATIO / 4  # every entry, not only those above the floor


def test_the_apps_own_files_are_far_within_the_limits(app, tmp_path):
    for code in ("ln-02", "ln-ubnd", "ln-mttq"):
        path = tmp_path / f"{code}.xlsx"
        assert cli(app, "template", CAMPAIGN, code, "-o", str(path)).exit_code == 0
        assert_comfortably_within_limits(path.read_bytes())
    path = tmp_path / "appendix.xlsx"
    assert cli(app, "export", CAMPAIGN, "-o", str(path)).exit_code == 0
    assert_comfortably_within_limits(path.read_bytes())


@pytest.mark.skipif(not os.path.exists(SOFFICE), reason="LibreOffice is not installed")
def test_a_template_saved_again_by_libreoffice_is_far_within_the_limits(tmp_path):
    path = tmp_path / "mau.xlsx"
    path.write_bytes(genuine())
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "lo"), str(path)],
                   check=True, capture_output=True, timeout=180)
    assert_comfortably_within_limits((tmp_path / "lo" / "mau.xlsx").read_bytes())


def test_a_part_over_the_limit_is_refused_whatever_its_name():
    """openpyxl finds a sheet through relationships, so any entry may be one: the limit holds for all."""
    just_under = rebuilt(add={"xl/media/image1.png": random.Random(1).randbytes(MAX_PART_BYTES)})
    assert archive_problem(io.BytesIO(just_under)) is None
    over = rebuilt(add={"xl/media/image1.png": random.Random(1).randbytes(MAX_PART_BYTES + 1)})
    assert archive_problem(io.BytesIO(over)) == archive.SUSPICIOUS.format(
        what=archive.TOO_BIG_PART.format(name="xl/media/image1.png", size="4,0 MB", limit=4))


def test_small_entries_may_compress_beyond_the_ratio():
    """A repetitive part under the floor (here 900 KB at 1000:1) is no bomb."""
    data = rebuilt(add={"xl/styles2.xml": b" " * (900 * 1024)})
    assert archive_problem(io.BytesIO(data)) is None


def test_an_end_record_that_understates_the_entries_is_caught_before_zipfile_parses(monkeypatch):
    """zipfile parses the whole central directory whatever the end record's count says: its size
    is bounded too, so a directory of many small entries cannot fill memory."""
    data = bytearray(plain_zip({f"{i}": b"" for i in range(6000)}))
    at = data.rfind(archive.EOCD)
    data[at + 8:at + 12] = struct.pack("<2H", 5, 5)  # "5 entries"

    def never(*args, **kwargs):
        raise AssertionError("zipfile must not parse this directory")

    monkeypatch.setattr(archive.zipfile, "ZipFile", never)
    assert archive_problem(io.BytesIO(bytes(data))) == MESSAGES["bomb_entries"]


def test_a_zip64_end_record_is_read_as_zipfile_reads_it():
    data = genuine()
    at = data.rfind(archive.EOCD)
    eocd = bytearray(data[at:])
    directory_bytes, directory_at = struct.unpack("<2L", eocd[12:20])
    zip64 = struct.pack("<4sQ2H2L4Q", archive.ZIP64_EOCD, 44, 45, 45, 0, 0, 10 ** 6, 10 ** 6,
                        directory_bytes, directory_at)
    locator = struct.pack("<4sLQL", archive.ZIP64_LOCATOR, 0, at, 1)
    assert archive_problem(io.BytesIO(data[:at] + zip64 + locator + bytes(eocd))) == MESSAGES["bomb_entries"]


def test_a_stream_that_cannot_seek_is_read_up_to_the_limit_only():
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes):
            self.inner, self.served = io.BytesIO(data), 0

        def readable(self):
            return True

        def readinto(self, buffer):
            n = self.inner.readinto(buffer)
            self.served += n
            return n

    expected = {"campaign": "kl49-2024", "unit": "XA01", "outline": OUTLINE.ident}
    assert read_template(Pipe(genuine()), OUTLINE, YEARS, owned_for("xa"), expected)[1] == []
    endless = Pipe(bytes(3 * MAX_FILE_BYTES))
    _, errors = read_template(endless, OUTLINE, YEARS, owned_for("xa"), expected)
    assert errors == [archive.TOO_LARGE.format(size="10,0 MB", limit=10)]
    assert endless.served == MAX_FILE_BYTES + 1


# --- other hostile content, through the web as well as the command line ------------------------------

def address(table, row, col):
    return build_layout(OUTLINE.table(table), YEARS).find(row, col).address


def with_meta(data: bytes, key: str, value: str) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for row in wb[META_SHEET].iter_rows():
        if row[0].value == key:
            row[1].value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def with_cells(data: bytes, changes) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for sheet, where, value in changes:
        wb[sheet][where] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("key, value, message", [
    ("unit", "ln-03", f"Mẫu này là của đơn vị khác (ln-03 – {UNIT_NAME}), không phải của đơn vị {UNIT}"),
    ("campaign", "kl49-2019", "Mẫu này thuộc đợt báo cáo khác (kl49-2019), không phải đợt kl49-2024"),
    ("outline", "kl49@0", f"Mẫu này được lập theo phiên bản đề cương khác (kl49@0), không phải {OUTLINE.ident}"),
])
def test_a_template_of_another_unit_campaign_or_outline_is_refused_on_upload(app, clerk, key, value, message):
    data = with_meta(clerk.get(f"{BASE}/template.xlsx").data, key, value)
    data = with_cells(data, [("II.1.5", address("II.1.5", "2019", "xa_tong"), 33)])  # valid, not stored
    before = db_state()
    response = upload(clerk, data)
    assert response.status_code == 422 and str(escape(message)) in response.get_data(as_text=True)
    assert db_state() == before


def test_formulas_where_values_belong_are_refused_on_upload_and_on_the_command_line(app, clerk, tmp_path):
    places = [("II.1.5", address("II.1.5", "2020", "xa_tong"), "=SUM(C7:C8)"),
              ("II.1.1", address("II.1.1", "2020", "xa_dat"), '=IF(1,"Có","Không")'),
              ("I", "B6", "Kế hoạch"), ("I", "C6", "1-KH"), ("I", "D6", "03/05/2024"),
              ("I", "E6", '=HYPERLINK("http://x","Trích yếu")'), ("I", "F6", "Cơ quan")]
    data = with_cells(clerk.get(f"{BASE}/template.xlsx").data, places)
    expected = [f"II.1.1!{places[1][1]}: {FORMULA_INPUT}", f"II.1.5!{places[0][1]}: {FORMULA_INPUT}",
                f"I!E6: {FORMULA_INPUT}"]
    before = db_state()
    response = upload(clerk, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for line in expected:
        where, _, message = line.partition(": ")
        assert f'<strong class="where">{where}</strong>: {message}' in html
    path = tmp_path / f"{UNIT}.xlsx"
    path.write_bytes(data)
    result = cli(app, "import-xlsx", CAMPAIGN, UNIT, str(path))
    assert result.exit_code == 1 and sorted(result.stderr.splitlines()) == sorted(expected)
    assert db_state() == before


WHERE_MESSAGE = re.compile(r"^[^!\s]+![A-Z]{1,3}[0-9]+: \S")  # a contract line: Sheet!Cell: message


def with_date_serial(data: bytes, serial: float) -> bytes:
    """A document in the first row of table I whose date cell (formatted dd/mm/yyyy, as the template
    writes it) holds ``serial``: 1e10 is far past any date openpyxl can convert."""
    return with_cells(data, [("I", "B6", "Kế hoạch"), ("I", "C6", "1-KH"), ("I", "D6", serial),
                             ("I", "E6", "Trích yếu"), ("I", "F6", "Cơ quan")])


def test_a_date_serial_out_of_every_range_warns_nothing_from_the_reader(clerk):
    data = with_date_serial(clerk.get(f"{BASE}/template.xlsx").data, 1e10)
    owned = owned_for("xa")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, errors = read_template(io.BytesIO(data), OUTLINE, YEARS, owned,
                                  {"campaign": CAMPAIGN, "unit": UNIT, "outline": OUTLINE.ident})
    assert [str(w.message) for w in caught] == []
    assert errors == ["I!D6: Ngày không hợp lệ; nhập theo dạng ngày/tháng/năm, ví dụ 03/05/2024"]


def test_import_xlsx_prints_only_sheet_cell_lines_on_stderr(app, clerk, tmp_path):
    """The real command, in its own process: openpyxl's warning about the serial must not reach stderr."""
    path = tmp_path / f"{UNIT}.xlsx"
    path.write_bytes(with_date_serial(clerk.get(f"{BASE}/template.xlsx").data, 1e10))
    before = db_state()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "test"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "import-xlsx", CAMPAIGN, UNIT, str(path)],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and done.stdout == ""
    assert lines and all(WHERE_MESSAGE.match(line) for line in lines), done.stderr
    assert lines[0].startswith("I!D6: ")
    assert db_state() == before


# ------------------------------------------------------------------------------------ formula injection

def hostile_part(owned) -> Part:
    """Notes and a document of table I that look like formulas."""
    part = with_unit_counts(Part(), owned)
    for year, text in zip(YEARS, FORMULA_LIKE):
        part.texts[("III", str(year), "ghi_chu")] = text
    part.texts[("II.1.3", "2019", "ghi_chu_1")] = FORMULA_LIKE[0]
    part.lists["I"] = [{"the_loai": "Kế hoạch", "so_hieu": FORMULA_LIKE[1], "ngay_ban_hanh": "2024-05-03",
                        "trich_yeu": FORMULA_LIKE[0], "co_quan": FORMULA_LIKE[3]},
                       {"the_loai": "Khác", "so_hieu": FORMULA_LIKE[2], "ngay_ban_hanh": "2023-01-02",
                        "trich_yeu": "Văn bản thường", "co_quan": "Đảng ủy xã"}]
    return part


def string_cells(path_or_file) -> tuple[dict[str, set[str]], list[str]]:
    """Every text value by data type across the workbook ('s' text, 'f' formula)."""
    wb = openpyxl.load_workbook(path_or_file)
    by_type: dict[str, set[str]] = {"s": set(), "f": set()}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type in by_type and isinstance(cell.value, str):
                    by_type[cell.data_type].add(cell.value)
    return by_type, wb.sheetnames


def assert_text_never_formula(by_type, texts) -> None:
    """Each text is in some text cell, and in no formula (as a cell holding it as a formula would be)."""
    for text in texts:
        assert any(text in value for value in by_type["s"]), text
        formula = "=" + text.removeprefix("=")
        assert not any(formula in value for value in by_type["f"]), text


def test_the_template_writes_formula_like_text_as_text_and_reads_it_back_unchanged(tmp_path):
    owned = owned_for("xa")
    part = hostile_part(owned)
    path = tmp_path / "mau.xlsx"
    unit = {**identity(), "unit_name": '=HYPERLINK("http://x","Xã")'}
    write_template(path, OUTLINE, YEARS, part, owned, unit)
    wb = openpyxl.load_workbook(path)
    for year, text in zip(YEARS, FORMULA_LIKE):
        cell = wb["III"][address("III", str(year), "ghi_chu")]
        assert (cell.value, cell.data_type) == (text, "s")
    list_cells = [wb["I"][a] for a in ("C6", "E6", "F6", "C7")]
    assert [(c.value, c.data_type) for c in list_cells] == [
        (FORMULA_LIKE[1], "s"), (FORMULA_LIKE[0], "s"), (FORMULA_LIKE[3], "s"), (FORMULA_LIKE[2], "s")]
    by_type, _ = string_cells(path)
    assert_text_never_formula(by_type, FORMULA_LIKE + [unit["unit_name"]])
    read, errors = read_template(path, OUTLINE, YEARS, owned,
                                 {"campaign": "kl49-2024", "unit": "XA01", "outline": OUTLINE.ident})
    assert errors == [] and read == part


def test_the_appendix_writes_formula_like_text_as_text(tmp_path):
    owned = owned_for("xa")
    part = hostile_part(owned)
    names = ['=HYPERLINK("http://x","Xã A")', "+Xã B", "-Xã C", "@Xã D"]
    cover = {"campaign_code": "kl49-2024", "campaign_name": "=1+1", "compiler": "@Ban Tuyên giáo",
             "units_total": 4, "units_submitted": 0, "missing_units": names, "total_label": "=Toàn huyện"}
    path = tmp_path / "phu-luc.xlsx"
    write_appendix(path, OUTLINE, YEARS, part, cover, [(name, part) for name in names])
    by_type, sheets = string_cells(path)
    assert any(s.endswith("theo ĐV") for s in sheets)
    assert_text_never_formula(by_type, FORMULA_LIKE + names + ["=1+1", "@Ban Tuyên giáo", "=Toàn huyện"])
    for text in names + ["=1+1", "=Toàn huyện"]:
        assert text in by_type["s"]  # whole cells: the breakdown names, the cover, the total label


def test_formula_like_notes_round_trip_through_the_app_and_export_as_text(app, clerk, compiler):
    data = clerk.get(f"{BASE}/template.xlsx").data
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for year, text in zip(YEARS, FORMULA_LIKE):
        cell = wb["III"][address("III", str(year), "ghi_chu")]
        cell.value, cell.data_type = text, "s"  # typed as text in Excel ('=… or a text-formatted cell)
    for where, text in (("B6", "Kế hoạch"), ("C6", FORMULA_LIKE[1]), ("D6", "03/05/2024"),
                        ("E6", FORMULA_LIKE[0]), ("F6", FORMULA_LIKE[3])):
        cell = wb["I"][where]
        cell.value, cell.data_type = text, "s"
    out = io.BytesIO()
    wb.save(out)
    response = upload(clerk, out.getvalue())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with in_app() as session:
        uid = session.scalar(select(Unit.id).where(Unit.code == UNIT))
        notes = dict(session.execute(select(CellValue.row_key, CellValue.text).where(
            CellValue.unit_id == uid, CellValue.table_code == "III", CellValue.col_key == "ghi_chu")).all())
        rows = session.scalars(select(ListRow.data).where(ListRow.unit_id == uid, ListRow.table_code == "I")).all()
    assert notes == {str(year): text for year, text in zip(YEARS, FORMULA_LIKE)}
    assert {"so_hieu": FORMULA_LIKE[1], "trich_yeu": FORMULA_LIKE[0], "co_quan": FORMULA_LIKE[3]}.items() \
        <= [r for r in rows if r["so_hieu"] == FORMULA_LIKE[1]][0].items()
    # the template written from the stored values holds them as text, and imports back unchanged
    again = clerk.get(f"{BASE}/template.xlsx").data
    by_type, _ = string_cells(io.BytesIO(again))
    assert_text_never_formula(by_type, FORMULA_LIKE)
    before = db_state()
    assert upload(clerk, again).status_code == 302
    assert db_state() == before
    # the assembled appendix, with a unit and the campaign named like formulas
    with in_app() as session:
        session.scalar(select(Unit).where(Unit.code == UNIT)).name = '=HYPERLINK("http://x","Lộc Hòa")'
        session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN)).name = "=1+1"
        session.commit()
    response = compiler.get(f"{BASE}/export.xlsx")
    assert response.status_code == 200
    by_type, _ = string_cells(io.BytesIO(response.data))
    assert_text_never_formula(by_type, FORMULA_LIKE + ['=HYPERLINK("http://x","Lộc Hòa")', "=1+1"])


def test_the_csv_of_late_units_neutralises_formula_like_cells(app, compiler):
    def download():
        text = compiler.get(f"{BASE}/dashboard/chua-xong.csv").get_data(as_text=True)
        return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]

    codes = [r[0] for r in download()]
    names = FORMULA_LIKE + ["\t=1+1", "\r=1+1"]
    assert len(codes) > len(names)
    with in_app() as session:
        for code, name in zip(codes, names):
            unit = session.scalar(select(Unit).where(Unit.code == code))
            unit.name, unit.phone = name, "+84 271 3866 016"
        session.commit()
    rows = {r[0]: r for r in download()}
    for code, name in zip(codes, names):
        assert rows[code][1] == "'" + name and rows[code][6] == "'+84 271 3866 016"
    untouched = rows[codes[len(names)]]
    assert not untouched[1].startswith("'") and untouched[3].isdigit() and untouched[4].isdigit()


@pytest.mark.parametrize("variant", ["escaped content type", "single quotes", "default content type only",
                                     "prefixed elements"])
def test_many_sheets_are_counted_however_the_parts_are_written(variant):
    """The sheets are counted where openpyxl would find them, parsed as XML, not matched as text."""
    data = _evading(variant)
    assert archive.archive_problem(io.BytesIO(data)) == archive.SUSPICIOUS.format(
        what=archive.TOO_MANY_SHEETS.format(count=5000 + len(sheet_parts(genuine())), limit=archive.MAX_SHEETS))
