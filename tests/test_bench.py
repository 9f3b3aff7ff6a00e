"""The export benchmark keeps working: run at a tiny size through its main function.

No timing is asserted here (speed targets are the benchmark's own verdict, run by hand).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "export_bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("export_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def figure(out: str, label: str) -> float:
    """The first number after ``label:`` on its line (thousands separated by commas)."""
    match = re.search(rf"^{re.escape(label)}:\s+([\d,]+(?:\.\d+)?)", out, re.MULTILINE)
    assert match, f"no '{label}' figure in:\n{out}"
    return float(match.group(1).replace(",", ""))


def test_the_benchmark_prints_its_figures_at_a_tiny_size(tmp_path, capsys):
    bench = load_bench()
    code = bench.main(["--units", "6", "--repeat", "1", "--db", str(tmp_path / "bench.sqlite")])
    out = capsys.readouterr().out
    assert code in (0, 1), out  # 1 only says the ratio is above the limit: not judged here
    assert figure(out, "units") == 6
    for label in ("values stored", "cells written", "export", "raw write", "ratio export/raw", "peak memory"):
        assert figure(out, label) > 0, label
    assert re.search(r"^appendix page:\s+(\d+\.\d+ s|not available)", out, re.MULTILINE), out
    assert (tmp_path / "bench.sqlite").exists()  # --db keeps the database


LOAD = Path(__file__).resolve().parent.parent / "bench" / "load.py"
LAST_LINE = re.compile(r"saves/s (\d+\.\d+) bare (\d+\.\d+) ratio (\d+\.\d+) p95 (\d+\.\d+) ms "
                       r"bare_p95 (\d+\.\d+) ms lost (\d+)")


def test_the_load_benchmark_runs_two_clerks_on_sqlite_and_loses_nothing():
    """bench/load.py end to end for a couple of seconds: its own scratch database and gunicorn servers,
    two clerks signing in and saving through the real endpoint, the bare endpoint in the same run."""
    import subprocess

    done = subprocess.run([sys.executable, str(LOAD), "--db", "sqlite", "--clerks", "2", "--think", "0",
                           "--duration", "2", "--workers", "2"], capture_output=True, text=True, timeout=300)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    last = out.strip().splitlines()[-1]
    match = LAST_LINE.fullmatch(last)
    assert match, last
    app, bare, ratio, p95, bare_p95, lost = match.groups()
    assert float(app) > 0 and float(bare) > 0 and float(p95) > 0 and float(bare_p95) > 0
    assert abs(float(ratio) - float(app) / float(bare)) < 0.01
    assert lost == "0"
    assert re.search(r"^app : \d+ saves in .* p50 .* p95 .* p99 ", out, re.MULTILINE), out
