"""`infracast plot`: the PNG is a real image of a sensible size, and the terminal chart is readable
in a real terminal (tmux)."""

import re
import struct
import subprocess
import time

import numpy as np
import pytest

from tests.clients.terminal import Terminal, needs_tmux
from tests.conftest import executable
from tests.integration.feed import feed_series

NOW_MS = int(time.time() * 1000)
DISK = 'node_filesystem_avail_bytes{node="plot-node",mountpoint="/"}'


def cli(server, *args):
    return subprocess.run([executable("infracast"), "--server", server.address, *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def fed(server):
    times = NOW_MS - 60_000 * np.arange(240)[::-1]
    # 400 GiB free, losing 1 GiB a minute: empty about 400 minutes after the last sample.
    avail = (400 - np.arange(240) * 1.0 + np.random.default_rng(3).normal(0, 0.2, 240)) * 1024.0**3
    feed_series(server.address, "plot-node", "node_filesystem_avail_bytes", {"mountpoint": "/"}, times, avail)
    return server


def test_png_is_a_valid_image_of_a_sensible_size(fed, tmp_path):
    path = tmp_path / "disk.png"
    result = cli(fed, "plot", DISK, "--horizon", "8h", "--below", "0", "--png", str(path))
    assert result.returncode == 0, result.stderr
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert 800 <= width <= 2000 and 400 <= height <= 1200, (width, height)
    assert 20_000 < len(data) < 2_000_000
    import matplotlib.image

    pixels = matplotlib.image.imread(path)
    assert pixels.shape[:2] == (height, width)
    assert pixels[..., :3].std() > 0.05  # drawn on, not a blank canvas


def test_a_horizon_beyond_the_history_is_shortened_and_said(fed):
    result = cli(fed, "plot", DISK, "--horizon", "30d", "--width", "100", "--height", "25")
    assert result.returncode == 0, result.stderr
    assert "horizon shortened to 19h" in result.stdout and "asked 30d" in result.stdout


@needs_tmux
def test_the_terminal_chart_through_a_real_terminal(fed):
    terminal = Terminal([executable("infracast"), "--server", fed.address, "plot", DISK, "--horizon", "8h",
                         "--below", "0"], width=140, height=40)
    try:
        screen = terminal.wait_for(lambda s: "COMMAND-EXITED" in s)
    finally:
        terminal.close()
    assert "COMMAND-EXITED-0" in screen, screen
    assert DISK.replace('{node="plot-node",mountpoint="/"}', "") in screen
    assert "model:" in screen
    assert "GiB" in screen and "local time" in screen
    assert "history" in screen and "forecast" in screen and "80% interval" in screen
    assert "threshold 0 B" in screen
    crossing = next(line for line in screen.splitlines() if "crossing in" in line)
    assert re.search(r"crossing in 2h [34]\dm \(p 100%\)", crossing), crossing
    assert any(ch in screen for ch in "⠁⠂⠄⡀⢀⠈⠐⠠⣀⠉"), "no braille line drawn"


def test_plot_and_top_give_their_numbers_as_json_and_csv(fed):
    import csv
    import io
    import json

    chart = json.loads(cli(fed, "plot", DISK, "--horizon", "4h", "--below", "0", "-o", "json").stdout)
    assert len(chart["history"]) >= 200 and chart["forecast"]["model"]["name"]
    assert chart["crossing"]["will_cross"]
    rows = list(csv.DictReader(io.StringIO(cli(fed, "plot", DISK, "--horizon", "4h", "-o", "csv").stdout)))
    kinds = [row["kind"] for row in rows]
    assert kinds.count("forecast") == len(chart["forecast"]["mean"]) and kinds[0] == "history"
    fleet = json.loads(cli(fed, "top", "--output", "json").stdout)
    (node,) = fleet["nodes"]
    assert node["node"] == "plot-node" and node["exhaustion"]["resource"] == "disk /"
    assert abs(node["exhaustion"]["in_seconds"] - 160 * 60) < 900
    table = list(csv.DictReader(io.StringIO(cli(fed, "top", "-o", "csv").stdout)))
    assert table[0]["node"] == "plot-node" and table[0]["exhaustion"] == "disk /"
