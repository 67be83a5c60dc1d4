"""`infracast top` against a real server: one snapshot when piped, and the live view through a
real terminal (tmux), where keys sort, filter and quit."""

import re
import subprocess
import time

import numpy as np
import pytest

from tests.clients.terminal import Terminal, needs_tmux
from tests.conftest import executable
from tests.integration.feed import feed_series

NOW_MS = int(time.time() * 1000)
GIB = 1024.0**3
POINTS = 360  # six hours a minute apart: enough history to look a day ahead


@pytest.fixture
def fleet(server):
    times = NOW_MS - 60_000 * np.arange(POINTS)[::-1]
    rng = np.random.default_rng(5)
    minutes = np.arange(POINTS)
    nodes = {
        # The disk (1000 GiB) loses 1 GiB a minute from 500 GiB free: 86 % used, empty about 2h20m
        # after the last sample.
        "filling": dict(cpu=0.3, disk=(500 - minutes) * GIB),
        # Busy but safe; its CPU jumps in the last minutes (an anomaly).
        "busy": dict(cpu=0.85, disk=np.full(POINTS, 300 * GIB), jump=True),
        "calm": dict(cpu=0.1, disk=np.full(POINTS, 400 * GIB)),
    }
    for node, shape in nodes.items():
        cpu = shape["cpu"] + rng.normal(0, 0.01, POINTS)
        if shape.get("jump"):
            cpu[-3:] = 0.99
        disk = shape["disk"] + rng.normal(0, 0.05 * GIB, POINTS)
        feed_series(server.address, node, "infracast_node_cpu_utilization_ratio", {}, times, cpu)
        feed_series(server.address, node, "node_memory_MemTotal_bytes", {}, times, np.full(POINTS, 16 * GIB))
        feed_series(server.address, node, "node_memory_MemAvailable_bytes", {}, times,
                    8 * GIB + rng.normal(0, 0.01 * GIB, POINTS))
        feed_series(server.address, node, "node_filesystem_size_bytes", {"mountpoint": "/"}, times,
                    np.full(POINTS, 1000 * GIB))
        feed_series(server.address, node, "node_filesystem_avail_bytes", {"mountpoint": "/"}, times, disk)
    return server


def _rows(text: str) -> list[str]:
    return [line.split()[0] for line in text.splitlines() if re.match(r"^(filling|busy|calm) ", line)]


def test_piped_top_prints_one_snapshot_most_urgent_first(fleet):
    result = subprocess.run([executable("infracast"), "--server", fleet.address, "top"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert _rows(out) == ["filling", "busy", "calm"], out
    filling = next(line for line in out.splitlines() if line.startswith("filling"))
    assert re.search(r"disk / in 2h [12]\dm, at .* \(p 100%\)", filling), filling
    assert re.search(r"^filling\s+30%\s+50%\s+8[56]%", filling), filling
    busy = next(line for line in out.splitlines() if line.startswith("busy"))
    assert "anomaly" in busy and "none within 1d" in busy
    assert "legend:" in out and "q quit" not in out  # no keys to press in a snapshot
    assert "\x1b[" not in out and result.stderr == ""  # no colours, no spinner when piped


@needs_tmux
def test_live_top_sorts_filters_and_quits_with_keys(fleet):
    terminal = Terminal([executable("infracast"), "--server", fleet.address, "top", "--refresh", "1s"])
    try:
        screen = terminal.wait_for(lambda s: len(_rows(s)) == 3)
        assert _rows(screen) == ["filling", "busy", "calm"], screen
        assert "sorted by urgency" in screen and "CPU LAST HOUR" in screen and "legend:" in screen
        assert any(block in screen for block in "▁▂▃▄▅▆▇█")  # the sparklines
        terminal.keys("s")  # urgency -> cpu
        screen = terminal.wait_for(lambda s: "sorted by cpu" in s)
        assert _rows(screen) == ["busy", "filling", "calm"], screen
        terminal.keys("f")  # all -> at risk
        screen = terminal.wait_for(lambda s: "showing at risk" in s)
        assert _rows(screen) == ["filling"], screen
        terminal.keys("f", "/", "c", "a", "Enter")  # anomalous, then find "ca": nothing; Esc clears
        screen = terminal.wait_for(lambda s: "showing anomalous" in s and "node contains ca" in s)
        assert _rows(screen) == [], screen
        terminal.keys("Escape", "/", "b", "u", "Enter")
        screen = terminal.wait_for(lambda s: "node contains bu" in s)
        assert _rows(screen) == ["busy"], screen
        terminal.keys("q")
        screen = terminal.wait_for(lambda s: "COMMAND-EXITED" in s, timeout_s=30)
        assert "COMMAND-EXITED-0" in screen
    finally:
        terminal.close()


@needs_tmux
def test_ctrl_c_quits_live_top_as_q_does(fleet):
    terminal = Terminal([executable("infracast"), "--server", fleet.address, "top"])
    try:
        terminal.wait_for(lambda s: len(_rows(s)) == 3)
        terminal.keys("C-c")
        screen = terminal.wait_for(lambda s: "COMMAND-EXITED" in s, timeout_s=30)
        assert "COMMAND-EXITED-130" in screen and "Traceback" not in screen, screen
    finally:
        terminal.close()


def test_a_node_too_young_to_judge_is_not_shown_as_safe():
    from infracast.clients.top.fleet import NodeView
    from infracast.clients.top.view import _exhaustion

    assert _exhaustion(NodeView("vm", unjudged=True), 7 * 86400).plain == "history too short to see 7d"
    assert _exhaustion(NodeView("old"), 7 * 86400).plain == "none within 7d"
