"""The export in flat memory (issue 16, point 6): rows flushed as they are written give the same
sheet, byte for byte; the units' parts read a few hundred at a time are the parts unit_parts gives."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from sqlalchemy import select

from conftest import in_app
from webapp import exchange
from webapp.domain import assembly
from webapp.domain.assembly import assemble, count_basis, stream_unit_parts, unit_parts
from webapp.domain.parts import Counted, Part
from webapp.domain.workbook import BREAKDOWN_SUFFIX, _open, write_appendix
from webapp.models import Campaign
from webapp.review.service import campaign_fillers, completeness


def _sheet_xml(flush_every: int | None) -> dict[str, bytes]:
    """A sheet written out of order within a 40-row window (headers merged after the rows under
    them, heights set late), flushed every ``flush_every`` rows (None: never); every part of the file."""
    out = io.BytesIO()
    wb = _open(out, streamed=True)
    ws = wb.add_worksheet("S")
    bold, plain = wb.add_format({"bold": True, "border": 1}), wb.add_format({"num_format": "0.0"})
    for row in range(3, 200):
        ws.write_number(row, 2, row * 1.5, plain)
        ws.write_string(row, 1, f"đơn vị {row % 7}", bold)
        if row % 5 == 0:
            ws.write_formula(row, 3, f"=SUM(C4:C{row})", plain, row)
            ws.set_row(row - 3, 30)  # a row above, not yet flushed
        if row == 40:
            ws.merge_range(0, 0, 2, 3, "", bold)  # the header, once the first rows are there
            ws.write_string(0, 0, "Tiêu đề", bold)
        if flush_every and row > 40 and row % flush_every == 0:
            ws.flush_rows(row - 3)
    ws.set_row(250, 20)  # a row with only a height, past the data
    wb.close()
    with zipfile.ZipFile(out) as z:
        return {name: z.read(name) for name in z.namelist() if not name.startswith("docProps/")}


@pytest.mark.parametrize("flush_every", [1, 7, 50])
def test_flushed_rows_give_the_same_file(flush_every):
    assert _sheet_xml(flush_every) == _sheet_xml(None)


def test_rows_flushed_only_by_whole_blocks_of_16():
    """A row element's spans are per 16 rows: a block is written out only once all of it is done."""
    wb = _open(io.BytesIO(), streamed=True)
    ws = wb.add_worksheet("S")
    for row in range(40):
        ws.write_number(row, 0, row)
    ws.flush_rows(20)
    assert min(ws.table) == 16 and ws._written_rows == 16
    ws.flush_rows(10)  # nothing left above 10: nothing happens
    assert ws._written_rows == 16
    wb.close()


@pytest.mark.parametrize("counted", list(Counted))
@pytest.mark.parametrize("code", ["kl49-2024", "kl49-tinh-2024"])  # the province's parts: its districts' appendices
def test_streamed_parts_are_the_unit_parts(app, monkeypatch, counted, code):
    monkeypatch.setattr(assembly, "PARTS_AT_ONCE", 2)  # several reads, a unit alone in the last one
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == code))
        ids = [u.id for u in campaign.units]
        parts = unit_parts(session, campaign.id, campaign.outline, campaign.frame, counted=counted)
        seen = 0
        for table in campaign.outline.tables:
            if table.is_list:
                continue
            streamed = list(stream_unit_parts(session, campaign.id, campaign.outline, campaign.frame, ids,
                                              table.code, counted))
            assert [i for i, _ in streamed] == ids
            for unit_id, part in streamed:
                numbers = {k: v for k, v in parts.get(unit_id, Part()).numbers.items() if k[0] == table.code}
                assert part.numbers == numbers, (table.code, unit_id)
                seen += len(numbers)
    assert seen or counted is not Counted.ALL  # every part as it stands: something to compare


def _cells(workbook: bytes) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    return {ws.title: [tuple(c.value for c in row) for row in ws.iter_rows()] + sorted(map(str, ws.merged_cells.ranges))
            for ws in wb.worksheets}


@pytest.mark.parametrize("counted", [Counted.ALL, Counted.SUBMITTED])
@pytest.mark.parametrize("code", ["kl49-2024", "kl49-tinh-2024"])
def test_streamed_export_is_the_listed_one(app, monkeypatch, counted, code):
    """The export reading the parts as it writes holds what write_appendix writes from a list of
    every unit's part (as the export did), cell for cell."""
    monkeypatch.setattr(assembly, "PARTS_AT_ONCE", 2)
    now = dt.datetime(2024, 5, 20, 8, 30)
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == code))
        streamed = io.BytesIO()
        exchange.write_campaign_appendix(session, campaign, streamed, now, counted)
        outline, frame = campaign.outline, campaign.frame
        parts = unit_parts(session, campaign.id, outline, frame, counted=counted)
        state = completeness(session, campaign)
        listed = [(u.unit.name, parts.get(u.unit.id, Part())) for u in state.units if u.counts_in(counted)]
        names = {u.id: u.name for u in campaign.units}
        fillers = {c: {names[i] for i in ids} for c, ids in campaign_fillers(session, campaign).items()}
        cover = exchange.cover_info(campaign, exchange.standings(session, campaign, counted),
                                    count_basis(session, campaign.id, counted).sentence, now)
        out = io.BytesIO()
        write_appendix(out, outline, frame, assemble(session, campaign.id, outline, frame, counted=counted),
                       cover, listed, fillers)
    assert any(name.endswith(BREAKDOWN_SUFFIX) for name in _cells(out.getvalue()))
    assert _cells(streamed.getvalue()) == _cells(out.getvalue())


@pytest.mark.parametrize("counted", list(Counted))
@pytest.mark.parametrize("code", ["kl49-2024", "kl49-tinh-2024"])
def test_standings_in_sql_are_the_units_states(app, counted, code):
    """The cover's standings, read in one statement, say of every unit what its state does."""
    with in_app() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == code))
        expected = [(u.unit.id, u.unit.name, u.status, u.handed_in, u.counts_in(counted))
                    for u in completeness(session, campaign).units]
        got = [(s.unit_id, s.name, s.status, s.handed_in, s.counted)
               for s in exchange.standings(session, campaign, counted)]
    assert got == expected and len({status for *_, status, _, _ in got}) > 1
