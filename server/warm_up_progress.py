"""Progress of the kernel warm-up, for the log and for anyone watching a start (the demo).

The first start on a machine compiles every kernel (about half a minute on a new
machine, longer on a busy one); later starts load them from the cache in a second or two.
The warm-up thread records each step; the event loop logs a line per step and a
heartbeat while a long step runs, so a start never looks hung.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("infracast.server")

HEARTBEAT_S = 5.0


@dataclass(frozen=True)
class WarmUpState:
    done: int
    total: int
    step: str  # what is compiling (or loading) now; "done" at the end
    elapsed_s: float


class WarmUpProgress:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._state = WarmUpState(0, 0, "starting", 0.0)
        self.changed = threading.Event()

    def __call__(self, done: int, total: int, step: str) -> None:
        """The warm-up's progress callback (called from the executor thread)."""
        with self._lock:
            self._state = WarmUpState(done, total, step, time.monotonic() - self._started)
        self.changed.set()

    @property
    def state(self) -> WarmUpState:
        with self._lock:
            return WarmUpState(self._state.done, self._state.total, self._state.step,
                               time.monotonic() - self._started)

    async def log_until_done(self, finished: asyncio.Future) -> None:
        """A log line per finished step, and every HEARTBEAT_S while one runs."""
        last_logged, last_done = time.monotonic(), -1
        while not finished.done():
            await asyncio.wait([finished], timeout=0.5)
            state = self.state
            now = time.monotonic()
            if state.total and (state.done != last_done or now - last_logged >= HEARTBEAT_S):
                if state.step != "done":
                    log.info("warming up forecast kernels: %d/%d done, now %s (%.0fs; the first start on "
                             "a machine compiles them)", state.done, state.total, state.step, state.elapsed_s)
                last_logged, last_done = now, state.done
