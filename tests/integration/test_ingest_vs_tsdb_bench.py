"""bench/ingest_vs_tsdb.py at a tiny size: it runs the three servers and prints every row."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tsdb_servers import binary

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest_vs_tsdb.py"
ROWS = ("series", "samples stored (all phases)", "fixed load: samples/s", "fixed load: server cores",
        "fixed load: server CPU per sample, us", "saturation: samples/s", "saturation: server cores",
        "saturation: server CPU per sample, us", "saturation: generator cores",
        "saturation: machine cores busy", "RSS after the load, MiB", "RSS per active series, KiB",
        "bytes on disk per sample")
NUMBER = r"[\d,]+(\.\d+)?x?"


def test_bench_prints_every_row_for_every_system() -> None:
    binary("victoria-metrics")
    binary("prometheus")
    run = subprocess.run([sys.executable, str(BENCH), "--series", "200", "--series-per-node", "50",
                          "--interval", "1", "--fixed-seconds", "2", "--saturation-seconds", "1",
                          "--connections", "2"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    header = next(line for line in lines if "victoria-metrics" in line and "infracast/VM" in line)
    assert header.split() == ["infracast", "victoria-metrics", "prometheus", "infracast/VM", "infracast/Prom"]
    for row in ROWS:
        line = next((line for line in lines if line.startswith(row)), None)
        assert line is not None, f"no row {row!r} in:\n{run.stdout}"
        cells = line[48:].split()
        assert len(cells) == 5, line
        assert all(re.fullmatch(NUMBER, cell) for cell in cells[:3]), line
        # A ratio is nan where a server used no CPU tick (10 ms) in a phase this short.
        assert all(re.fullmatch(NUMBER, cell) or cell == "nanx" for cell in cells[3:]), line
    stored = next(line for line in lines if line.startswith("samples stored"))[48:].split()[:3]
    # Every system stored samples, at least the creation round and the fixed load's.
    assert all(int(cell.replace(",", "")) >= 200 * 3 for cell in stored), stored
