"""Export benchmark: a province-sized campaign, the assembled appendix page and the workbook export,
measured against XlsxWriter alone writing as many cells.

    .venv/bin/python bench/export_bench.py [--units 250] [--repeat 3] [--db PATH]
    .venv/bin/python bench/export_bench.py --db postgres|sqlite --units 250,2500,10000 [--repeat 3]

The second form (a database kind, or several sizes) runs every size in subprocesses, so that no two
share a heap: one builds the campaign (a scratch PostgreSQL database on 127.0.0.1:5432, user
postgres, TEST_POSTGRES_URL, dropped at the end; or an SQLite file in a temporary folder), one
exports it ``--repeat`` times, one writes the same cells with raw XlsxWriter ``--repeat`` times; each
reports its best time and its peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``). Targets:
the export within RATIO_LIMIT of the raw write at every size, and its peak RSS within
MEMORY_LIMIT of the smallest size's export. The raw write's process holds the cells it writes (read
back from the exported file before its clock starts): its RSS includes that list.

Builds a fresh SQLite database (schema by the Alembic migrations), a kl49 campaign over 2019–2023
with ``--units`` reporting units (mostly communes, a few of each district kind) and a value in every
input cell they own, bulk-inserted. Then, interleaved ``--repeat`` times so that a noisy shared machine
disturbs all three alike: GET /campaigns/<code>/appendix as a compiler (when the route exists), the
workbook export end to end (``exchange.write_campaign_appendix``), and the raw write: XlsxWriter,
no formats, writing the cells the export wrote, at the same places with the same kinds of value.
Both write in memory (XlsxWriter's ``in_memory``: no temporary file per sheet). Prints the figures and
the ratio export / raw (best of the repetitions). The export pauses Python's cyclic garbage collector
while it runs (workbook.collector_paused), so the raw write is timed both ways, with the collector on
and paused alike; the run exits 1 when either ratio is above RATIO_LIMIT.

Run by hand, not by CI (tests/test_bench.py runs it at a tiny size to keep it working).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.cell.read_only import EmptyCell
import xlsxwriter
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from webapp import create_app  # noqa: E402
from webapp.domain.outline import Block, Column, Outline, shipped_outline  # noqa: E402
from webapp.domain.checks import check_rules  # noqa: E402
from webapp.domain.workbook import collector_paused  # noqa: E402
from webapp.entry.service import default_assignments  # noqa: E402
from webapp.exchange import write_campaign_appendix  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import (ROLE_COMPILER, Assignment, Campaign, CellValue, ListRow, Unit,  # noqa: E402
                           User)

RATIO_LIMIT = 2.0
MEMORY_LIMIT = 1.5  # peak RSS of an export against that of the smallest size
MEMORY_CEILING_MB = 150  # peak RSS of an export at any size (issue 16)
CAMPAIGN_CODE = "bench-kl49"
YEARS = (2019, 2023)
DISTRICT_KINDS = ("ubnd_huyen", "ldld_huyen", "hkh_huyen", "doan_the")
COMPILER_LOGIN, COMPILER_PASSWORD = "bench-compiler", "bench123"
NOTE_SHARE = 0.15  # share of (unit, row) pairs with a note in a note column
LIST_ROWS = (1, 3)  # table I rows per unit


@dataclass
class Figures:
    units: int = 0
    values: int = 0  # stored cell values
    list_rows: int = 0
    cells: dict[str, int] = field(default_factory=dict)  # exported non-empty cells by kind
    styled_blanks: int = 0  # exported cells with a format and no value (the printed frame's borders)
    sheets: int = 0
    page: list[float] | None = None  # None: the route is not there (yet)
    export: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    raw_paused: list[float] = field(default_factory=list)  # the raw write with the collector paused too
    maxrss_mb: float = 0.0
    export_peak_mb: float = 0.0

    @property
    def cells_total(self) -> int:
        return sum(self.cells.values()) + self.styled_blanks

    @property
    def ratio(self) -> float:
        return min(self.export) / min(self.raw)

    @property
    def ratio_paused(self) -> float:
        return min(self.export) / min(self.raw_paused)

    @property
    def ok(self) -> bool:
        """Judged on the stricter of the two ratios: the export pauses the collector, the plain raw
        write does not, so both comparisons must hold."""
        return max(self.ratio, self.ratio_paused) <= RATIO_LIMIT


# ------------------------------------------------------------------------------------ the campaign

def _app(path: Path | str) -> Flask:
    url = path if isinstance(path, str) else f"sqlite:///{path}"
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                       "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench"})


def unit_kinds(n: int) -> list[str]:
    """``n`` reporting units: several of each district kind (one per 50 units), communes for the rest."""
    per_kind = max(1, n // 50)
    communes = n - per_kind * len(DISTRICT_KINDS)
    if communes < 1:
        raise SystemExit(f"--units: at least {len(DISTRICT_KINDS) + 1} (one commune and each district kind)")
    return ["xa"] * communes + [k for k in DISTRICT_KINDS for _ in range(per_kind)]


def build_campaign(session: Session, n_units: int, rng: random.Random) -> Figures:
    """The province, its reporting units, a compiler account, the campaign and every owned value."""
    outline = shipped_outline("kl49")
    province = Unit(code="bench-tinh", name="Tỉnh Bình Phước", kind="tinh", sort_order=0)
    compiler_unit = Unit(code="bench-btg", name="Ban Tuyên giáo Tỉnh ủy Bình Phước", kind="tinh_uy",
                         parent=province, sort_order=n_units + 1)
    units = []
    for i, kind in enumerate(unit_kinds(n_units), start=1):
        label = "Xã" if kind == "xa" else outline.unit_kinds[kind]
        units.append(Unit(code=f"bench-{i:04d}", name=f"{label} {_place(rng)} {i:03d}", kind=kind,
                          parent=province, sort_order=i))
    session.add_all([province, compiler_unit, *units])
    compiler = User(username=COMPILER_LOGIN, full_name="Cán bộ tổng hợp", role=ROLE_COMPILER, unit=compiler_unit)
    compiler.set_password(COMPILER_PASSWORD)
    session.add(compiler)
    campaign = Campaign(code=CAMPAIGN_CODE, name="Sơ kết 5 năm thực hiện Kết luận số 49-KL/TW (đo hiệu năng)",
                        outline_code=outline.code, outline_version=outline.version, year_from=YEARS[0],
                        year_to=YEARS[1], compiler_unit=compiler_unit, deadline=dt.date(2024, 5, 15), units=units)
    session.add(campaign)
    session.flush()

    assignments = default_assignments(campaign, units)
    session.execute(insert(Assignment), [
        {"campaign_id": a.campaign_id, "unit_id": a.unit_id, "table_code": a.table_code, "group_key": a.group_key}
        for a in assignments])
    owned: dict[int, dict[str, set[str]]] = {}
    for a in assignments:
        owned.setdefault(a.unit_id, {}).setdefault(a.table_code, set()).add(a.group_key)
    values, rows = [], []
    for unit in units:
        values.extend(_unit_values(campaign, outline, unit, owned.get(unit.id, {}), rng))
        rows.extend(_unit_list_rows(campaign, outline, unit, owned.get(unit.id, {}), rng))
    session.execute(insert(CellValue), values)
    if rows:
        session.execute(insert(ListRow), rows)
    session.commit()
    return Figures(units=len(units), values=len(values), list_rows=len(rows))


PLACES = ["Lộc Hòa", "Tân Thành", "Thanh Lương", "Minh Hưng", "Phước Tín", "Đồng Nơ", "Bù Gia Mập",
          "Thiện Hưng", "Hưng Phước", "Tân Tiến", "Lộc Khánh", "Đắk Ơ", "Phú Riềng", "Long Hà"]


def _place(rng: random.Random) -> str:
    return rng.choice(PLACES)


def _unit_values(campaign: Campaign, outline: Outline, unit: Unit, owned: dict[str, set[str]],
                 rng: random.Random) -> list[dict]:
    """A valid value for every input cell the unit owns in the grid tables (notes now and then)."""
    out = []
    years = campaign.years
    for table in outline.tables:
        groups = owned.get(table.code, set())
        if table.is_list or not groups:
            continue
        for block in table.blocks:
            columns = [c for c in block.columns if c.is_input and table.group_key_of(c.key) in groups]
            for spec in block.row_specs(years):
                for key, (num, text) in _row_values(block, columns, rng).items():
                    out.append({"campaign_id": campaign.id, "unit_id": unit.id, "table_code": table.code,
                                "row_key": spec.key, "col_key": key, "group_key": table.group_key_of(key),
                                "num": num, "text": text})
    return out


def _row_values(block: Block, columns: list[Column], rng: random.Random) -> dict[str, tuple]:
    """(num, text) by column key for one row; numbers obey every rule of the block (errors and warnings)."""
    nums: dict[str, int] = {}
    texts: dict[str, str] = {}
    for c in columns:
        if c.type == "count":
            nums[c.key] = rng.randint(0, 5000)
        elif c.type == "yesno":
            nums[c.key] = int(rng.random() < 0.6)
        elif c.type == "text" and rng.random() < NOTE_SHARE:
            texts[c.key] = rng.choice(["Số liệu ước tính", "Theo báo cáo của Trung tâm học tập cộng đồng",
                                       "Có điều chỉnh so với báo cáo năm trước"])
        elif c.type in ("choice", "date"):
            texts[c.key] = _list_text(c, rng)
    for _ in range(len(block.rules) + 1):  # a fix may break an earlier rule: go round again
        breaches = check_rules(block, nums)
        if not breaches:
            break
        for breach in breaches:
            _make_hold(breach.rule, nums, rng)
    assert not check_rules(block, nums, level="error"), "bench data breaks a hard rule"
    return {**{k: (v, None) for k, v in nums.items()}, **{k: (None, t) for k, t in texts.items()}}


def _make_hold(rule, nums: dict[str, int], rng: random.Random) -> None:
    right = nums[rule.right]
    if rule.op == "<=":
        nums[rule.left] = rng.randint(0, right)
    elif rule.op == "<":
        nums[rule.left], nums[rule.right] = (rng.randint(0, right - 1), right) if right else (0, 1)
    elif rule.op == ">=":
        nums[rule.left] = right + rng.randint(0, 500)
    else:
        nums[rule.left] = right + rng.randint(1, 500)


def _list_text(c: Column, rng: random.Random) -> str:
    if c.type == "choice":
        return rng.choice(c.choices)
    if c.type == "date":
        return dt.date(rng.randint(2019, 2023), rng.randint(1, 12), rng.randint(1, 28)).isoformat()
    text = f"{rng.randint(1, 999)}-KH/{rng.choice(['ĐU', 'UBND', 'MTTQ', 'HKH'])} về công tác khuyến học"
    return text[:c.max_length]


def _unit_list_rows(campaign: Campaign, outline: Outline, unit: Unit, owned: dict[str, set[str]],
                    rng: random.Random) -> list[dict]:
    """A few complete rows of each list table the unit fills (table I: its documents)."""
    out = []
    for table in outline.tables:
        if table.is_list and "rows" in owned.get(table.code, set()):
            for _ in range(rng.randint(*LIST_ROWS)):
                data = {c.key: _list_text(c, rng) for c in table.columns if c.is_input}
                out.append({"campaign_id": campaign.id, "unit_id": unit.id, "table_code": table.code, "data": data})
    return out


# ---------------------------------------------------------------------------------------- measuring

def count_cells(workbook: bytes) -> tuple[dict[str, int], int, list[tuple[str, list[tuple[int, int, object]]]]]:
    """The cells the export wrote (read back with openpyxl) by kind, its styled blank cells, and per
    sheet every written cell as the raw write writes it: text as text; numbers, dates and formulas as
    numbers (a formula's cached value is a number or blank); a styled blank (a bordered empty cell of
    the printed frame, written with write_blank and a format) as a plain number, since XlsxWriter
    drops a blank without a format and the raw write must write the same number of cells."""
    wb = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True)
    kinds = {"numbers": 0, "strings": 0, "formulas": 0}
    blanks = 0
    sheets = []
    for ws in wb.worksheets:
        cells = []
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell, EmptyCell):  # padding of a row, not in the file
                    continue
                value = cell.value
                if value is None:
                    blanks += 1
                    cells.append((cell.row - 1, cell.column - 1, 0))
                    continue
                if isinstance(value, str):
                    kind = "formulas" if value.startswith("=") else "strings"
                else:
                    kind = "numbers"  # numbers and dates
                kinds[kind] += 1
                written = value if kind == "strings" or isinstance(value, (int, float)) else 1.0
                cells.append((cell.row - 1, cell.column - 1, written))
        sheets.append((ws.title, cells))
    wb.close()
    return kinds, blanks, sheets


def raw_write(sheets: list[tuple[str, list[tuple[int, int, object]]]]) -> float:
    """Seconds XlsxWriter alone takes to write these cells (plain write_number/write_string, no formats)."""
    gc.collect()  # every timed run starts from the same heap (the collector stays on, as in production)
    start = time.perf_counter()
    wb = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})  # as the export: no temporary file per sheet
    for name, cells in sheets:
        ws = wb.add_worksheet(name)
        for row, col, value in cells:
            if isinstance(value, str):
                ws.write_string(row, col, value)
            else:
                ws.write_number(row, col, value)
    wb.close()
    return time.perf_counter() - start


def export_once(app: Flask) -> tuple[float, bytes]:
    """Seconds for one end-to-end export in a fresh app context (as a request would), and the file."""
    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.code == CAMPAIGN_CODE))
        out = io.BytesIO()
        gc.collect()
        start = time.perf_counter()
        write_campaign_appendix(db.session, campaign, out, dt.datetime(2024, 5, 20, 8, 30))
        return time.perf_counter() - start, out.getvalue()


def page_once(client) -> float | None:
    """Seconds for GET /campaigns/<code>/appendix; None when the route does not exist (404)."""
    gc.collect()
    start = time.perf_counter()
    response = client.get(f"/campaigns/{CAMPAIGN_CODE}/appendix")
    elapsed = time.perf_counter() - start
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise RuntimeError(f"appendix page: HTTP {response.status_code}")
    return elapsed


def measure(app: Flask, figures: Figures, repeat: int) -> None:
    client = app.test_client()
    login = client.post("/login", data={"username": COMPILER_LOGIN, "password": COMPILER_PASSWORD})
    if login.status_code != 302:
        raise RuntimeError(f"compiler login: HTTP {login.status_code}")
    # Warm-up (imports, outline, templates), and the file whose cells the raw write reproduces.
    has_page = page_once(client) is not None
    _, workbook = export_once(app)
    figures.cells, figures.styled_blanks, sheets = count_cells(workbook)
    figures.sheets = len(sheets)
    raw_write(sheets)
    figures.page = [] if has_page else None
    for _ in range(repeat):  # interleaved: machine noise falls on all three alike
        if has_page:
            figures.page.append(page_once(client))
        figures.export.append(export_once(app)[0])
        figures.raw.append(raw_write(sheets))
        with collector_paused():  # as the export runs: disclosed beside the ratio
            figures.raw_paused.append(raw_write(sheets))
    # Python's peak allocation during one export: measured apart, tracemalloc slows everything down.
    tracemalloc.start()
    export_once(app)
    figures.export_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    figures.maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(n_units: int, repeat: int, db_path: Path | None = None, seed: int = 49) -> Figures:
    """Build the campaign in a fresh database (``db_path``, or a temporary one) and measure."""
    with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp:
        path = db_path or Path(tmp) / "bench.sqlite"
        if path.exists():
            raise SystemExit(f"--db {path}: exists; the benchmark builds a fresh database")
        app = _app(path)
        with app.app_context():
            upgrade()
            figures = build_campaign(db.session, n_units, random.Random(seed))
        try:
            measure(app, figures, repeat)
        finally:
            with app.app_context():
                db.engine.dispose()
    return figures


def report(f: Figures, repeat: int) -> list[str]:
    def secs(times: list[float]) -> str:
        return f"{min(times):.3f} s (median {statistics.median(times):.3f} s)"

    kinds = ", ".join(f"{k} {v:,}" for k, v in f.cells.items())
    verdict = f"limit {RATIO_LIMIT:.2f} for both: {'ok' if f.ok else 'TOO SLOW'}"
    return [
        f"export benchmark: kl49, years {YEARS[0]}–{YEARS[1]}, best of {repeat} interleaved repetitions",
        f"units:            {f.units:,}",
        f"values stored:    {f.values:,} cell values, {f.list_rows:,} list rows",
        f"cells written:    {f.cells_total:,} in {f.sheets} sheets ({kinds}, styled blanks {f.styled_blanks:,}): "
        f"every cell of the exported file, read back with openpyxl; the raw write writes as many, "
        f"a plain number where the export wrote a bordered blank",
        f"appendix page:    {secs(f.page) if f.page else 'not available'}",
        f"export:           {secs(f.export)}",
        f"raw write:        {secs(f.raw)}",
        f"raw write paused: {secs(f.raw_paused)} (Python's cyclic collector paused, as the export runs)",
        f"ratio export/raw: {f.ratio:.2f}; against the paused raw write {f.ratio_paused:.2f} ({verdict})",
        f"peak memory:      {f.maxrss_mb:.0f} MB max RSS of the process; {f.export_peak_mb:.1f} MB "
        f"Python peak during one export (tracemalloc)",
    ]


# ------------------------------------------------------------------ sizes, each in its own processes

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _child(*args: str) -> dict:
    """Run this script's ``args`` step in a subprocess; its last stdout line is a JSON object."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])}: exit {done.returncode}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child_build(url: str, n_units: int) -> dict:
    app = _app(url)
    with app.app_context():
        upgrade()
        figures = build_campaign(db.session, n_units, random.Random(49))
        db.session.execute(text("ANALYZE"))  # fresh statistics after the bulk load
        db.session.commit()
        db.engine.dispose()
    return {"values": figures.values, "list_rows": figures.list_rows}


def child_export(url: str, out: str, repeat: int) -> dict:
    app = _app(url)
    export_once(app)  # warm-up: imports, the outline, the first queries
    times = []
    for _ in range(repeat):
        seconds, workbook = export_once(app)
        times.append(seconds)
    Path(out).write_bytes(workbook)
    with app.app_context():
        db.engine.dispose()
    return {"seconds": min(times), "maxrss_mb": _maxrss_mb()}


def child_raw(workbook: str, repeat: int) -> dict:
    _, _, sheets = count_cells(Path(workbook).read_bytes())
    cells = sum(len(c) for _, c in sheets)
    times = [raw_write(sheets) for _ in range(repeat)]
    return {"seconds": min(times), "maxrss_mb": _maxrss_mb(), "cells": cells, "sheets": len(sheets)}


def run_sizes(kind: str, sizes: list[int], repeat: int) -> list[dict]:
    """Every size in fresh processes (build, export, raw write): best times and peak RSS of each."""
    results = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp:
            if kind == "postgres":
                import psycopg

                admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
                name = f"exportbench_{uuid.uuid4().hex[:10]}"
                admin.execute(f'CREATE DATABASE "{name}"')
                url = f"{PG_ADMIN_URL.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
            else:
                url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
            try:
                built = _child("--child-build", url, str(n))
                out = str(Path(tmp) / "appendix.xlsx")
                export = _child("--child-export", url, out, str(repeat))
                raw = _child("--child-raw", out, str(repeat))
            finally:
                if kind == "postgres":
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    admin.close()
        results.append({"units": n, **built, "export": export, "raw": raw})
        r = results[-1]
        print(f"units {n:>6,}: {r['values']:,} values, {raw['cells']:,} cells in {raw['sheets']} sheets; "
              f"export {export['seconds']:.2f} s, raw {raw['seconds']:.2f} s, ratio "
              f"{export['seconds'] / raw['seconds']:.2f}; peak RSS export {export['maxrss_mb']:.0f} MB, "
              f"raw {raw['maxrss_mb']:.0f} MB", flush=True)
    return results


def sizes_verdict(results: list[dict]) -> tuple[bool, str]:
    base = results[0]["export"]["maxrss_mb"]
    worst_ratio = max(r["export"]["seconds"] / r["raw"]["seconds"] for r in results)
    worst_memory = max(r["export"]["maxrss_mb"] for r in results) / base
    largest = max(r["export"]["maxrss_mb"] for r in results)
    ok = worst_ratio <= RATIO_LIMIT and worst_memory <= MEMORY_LIMIT and largest <= MEMORY_CEILING_MB
    return ok, (f"worst ratio export/raw {worst_ratio:.2f} (limit {RATIO_LIMIT:.2f}); largest export peak RSS "
                f"{largest:.0f} MB (limit {MEMORY_CEILING_MB}), {worst_memory:.2f}× that at "
                f"{results[0]['units']:,} units (limit {MEMORY_LIMIT:.2f}): {'ok' if ok else 'OVER'}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("--child-"):  # one step of run_sizes, in its own process
        step, *rest = argv
        result = {"--child-build": lambda: child_build(rest[0], int(rest[1])),
                  "--child-export": lambda: child_export(rest[0], rest[1], int(rest[2])),
                  "--child-raw": lambda: child_raw(rest[0], int(rest[1]))}[step]()
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", default="250", help="reporting units (default 250), or several: 250,2500,10000")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each measurement (default 3)")
    parser.add_argument("--db", help="postgres or sqlite: each size in its own processes and database; "
                                     "else a new SQLite file to build and keep")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat: at least 1")
    sizes = [int(n) for n in args.units.split(",")]
    if args.db in ("postgres", "sqlite") or len(sizes) > 1:
        print(f"export benchmark by size ({args.db or 'sqlite'}), best of {args.repeat}, each step in its own process",
              flush=True)
        ok, verdict = sizes_verdict(run_sizes(args.db or "sqlite", sizes, args.repeat))
        print(verdict)
        return 0 if ok else 1
    figures = run(sizes[0], args.repeat, Path(args.db) if args.db else None)
    print("\n".join(report(figures, args.repeat)), flush=True)
    return 0 if figures.ok else 1


if __name__ == "__main__":
    sys.exit(main())
