"""`infracast demo` runs end to end and stops cleanly."""

import re
import subprocess

import pytest

from tests.clients.terminal import Terminal, needs_tmux
from tests.conftest import executable

pytestmark = pytest.mark.slow


def test_demo_runs_for_its_duration_and_exits_zero():
    result = subprocess.run(
        [executable("infracast"), "demo", "--duration", "6s", "--nodes", "10", "--interval", "1s"],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "NODE" in out and "SOONEST EXHAUSTION" in out
    assert re.search(r"forecast kernels ready: 8/8 steps \(\d+\.\ds\)", out), out  # the warm-up's progress
    assert len(re.findall(r"^sim-node-\d\d ", out, re.MULTILINE)) >= 10
    # The misbehaving nodes show up with the exhaustion they are heading for.
    assert re.search(r"^sim-node-06 .* memory in (\d+d )?\d+[hm]", out, re.MULTILINE), out
    assert re.search(r"^sim-node-03 .* disk / in (\d+d )?\d+[hm]", out, re.MULTILINE), out
    burst = re.search(r"^sim-node-10\s+(\d+)%", out, re.MULTILINE)
    assert burst and int(burst.group(1)) >= 80, out
    stopped = re.search(r"demo stopped: (\d+) agents delivered (\d+) samples", out)
    assert stopped and int(stopped.group(1)) == 11 and int(stopped.group(2)) > 10 * 864 * 6
    assert "Traceback" not in result.stderr


@needs_tmux
def test_demo_on_a_terminal_shows_top_live_and_q_stops_it():
    terminal = Terminal([executable("infracast"), "demo", "--nodes", "10", "--interval", "1s"])
    try:
        screen = terminal.wait_for(lambda s: "infracast top" in s and "sim-node-03" in s, timeout_s=180)
        assert "SOONEST EXHAUSTION" in screen and "legend:" in screen
        rows = [line for line in screen.splitlines() if line.startswith("sim-node-")]
        assert rows and rows[0].startswith("sim-node-03") and "disk / in" in rows[0], screen
        terminal.keys("q")
        screen = terminal.wait_for(lambda s: "COMMAND-EXITED" in s, timeout_s=60)
        assert "COMMAND-EXITED-0" in screen and re.search(r"demo stopped: 11 agents delivered \d+ samples",
                                                          screen), screen
    finally:
        terminal.close()
