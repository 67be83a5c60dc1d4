"""Shared fixtures: a real in-process server, and helpers to run real processes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infracast.clients.client import InfracastClient
from infracast.clients.testing import ServerThread, running_server

BIN = Path(sys.executable).parent
LISTENING = re.compile(r"listening on (\S+)")


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with running_server() as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> Iterator[InfracastClient]:
    with InfracastClient(server.address, timeout_s=30.0) as connected:
        yield connected


def free_port() -> int:
    """A loopback port nothing listens on now (for servers restarted on the same address)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def executable(name: str) -> str:
    """A console script installed beside this interpreter (the project's own entry points)."""
    path = BIN / name
    assert path.exists(), f"{name} is not installed next to {sys.executable}"
    return str(path)


class ServerProcess:
    """infracast-server as a real child process on a free loopback port.

    A thread drains its log continuously, so the pipe never fills and blocks it.
    """

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [executable("infracast-server"), "--listen", "127.0.0.1:0", *args],
            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
        )
        self.log: list[str] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        self.address = self.wait_for_log(LISTENING, timeout_s=60).group(1)

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def wait_for_log(self, pattern: re.Pattern[str], timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(self.log):
                found = pattern.search(line)
                if found:
                    return found
            if self.process.poll() is not None and not self._reader.is_alive():
                raise RuntimeError("server exited early:\n" + "".join(self.log))
            time.sleep(0.05)
        raise TimeoutError(f"server did not log {pattern.pattern!r}:\n" + "".join(self.log))

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        self.wait_for_log(re.compile("server ready"), timeout_s)

    def stop(self, timeout_s: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            code = self.process.wait(timeout_s)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        assert self.process.stderr is not None
        self.process.stderr.close()
        return code


@pytest.fixture
def server_process() -> Iterator[ServerProcess]:
    running = ServerProcess()
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def wait_until(condition, timeout_s: float = 30.0, interval_s: float = 0.1, message: str = ""):
    """Poll until condition() is truthy and return its value; fail with message on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    pytest.fail(f"timed out after {timeout_s}s waiting for {message or condition}")


def fill_database(store, full: bool) -> None:
    """Make an EmbeddedStore's database full, as a full disk would (SQLITE_FULL), or not.

    No page may be added while full (SQLite keeps max_page_count >= the current count).

    Called only while the writer is idle: it owns the connection otherwise."""
    store.log._connection.execute(f"PRAGMA max_page_count={1 if full else 1_073_741_823}")
