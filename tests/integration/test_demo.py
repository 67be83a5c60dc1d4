"""`infracast demo` runs end to end and stops cleanly."""

import re
import subprocess

import pytest

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
    assert len(re.findall(r"^sim-node-\d\d ", out, re.MULTILINE)) >= 10
    # The misbehaving nodes show up with the exhaustion they are heading for.
    assert re.search(r"^sim-node-06 .* memory in \d+[dh]( \d+[hm])? \(p \d+%\)", out, re.MULTILINE), out
    assert re.search(r"^sim-node-03 .* disk / in \d+[dh]( \d+[hm])? \(p \d+%\)", out, re.MULTILINE), out
    burst = re.search(r"^sim-node-10\s+(\d+)%", out, re.MULTILINE)
    assert burst and int(burst.group(1)) >= 80, out
    stopped = re.search(r"demo stopped: (\d+) agents delivered (\d+) samples", out)
    assert stopped and int(stopped.group(1)) == 11 and int(stopped.group(2)) > 10 * 864 * 6
    assert "Traceback" not in result.stderr
