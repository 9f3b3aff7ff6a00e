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
