"""A real terminal for tests: a detached tmux session whose screen is read with capture-pane."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid

import pytest

TMUX = shutil.which("tmux")
needs_tmux = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed (.ci/run installs it in CI): terminal output cannot be "
                         "looked at through a real terminal")


class Terminal:
    def __init__(self, command: list[str], width: int = 160, height: int = 45) -> None:
        # A private server socket: nothing of the user's own tmux is touched.
        self.socket = f"infracast-test-{uuid.uuid4().hex[:8]}"
        line = shlex.join(command) + "; echo COMMAND-EXITED-$?; sleep 600"
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height), "-s", "t", line)

    def _tmux(self, *args: str) -> str:
        # Without the runner's COLUMNS/LINES, programs in the pane see the pane's own size.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        return subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True,
                              check=True, timeout=30, env=env).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def wait_for(self, predicate, timeout_s: float = 90.0) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            screen = self.screen()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"the terminal never showed what was expected; it shows:\n{screen}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True, timeout=30)
