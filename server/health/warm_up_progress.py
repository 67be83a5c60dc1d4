"""Progress of the kernel warm-up, for the log and for anyone watching a start (the demo).

The first start on a machine compiles every kernel (about half a minute on a new
machine, longer on a busy one); later starts load them from the cache in a second or two.
The warm-up thread records and logs each step; the event loop adds a heartbeat while
a long step runs.
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

    def __call__(self, done: int, total: int, step: str) -> None:
        """The warm-up's progress callback (called from the executor thread)."""
        with self._lock:
            if done == 0:
                self._started = time.monotonic()
            self._state = WarmUpState(done, total, step, time.monotonic() - self._started)
        if step == "done":
            log.info("forecast kernels ready: %d/%d steps in %.1fs", done, total, self._state.elapsed_s)
        else:
            log.info("warming up forecast kernels: %d/%d steps done, now %s (%.0fs)", done, total, step,
                     self._state.elapsed_s)

    @property
    def state(self) -> WarmUpState:
        with self._lock:
            if self._state.step == "done":  # the time it took, not the time since
                return self._state
            return WarmUpState(self._state.done, self._state.total, self._state.step,
                               time.monotonic() - self._started)

    async def log_until_done(self, finished: asyncio.Future) -> None:
        """While a step runs long (compiling), say so every HEARTBEAT_S: a start never looks hung."""
        while not finished.done():
            await asyncio.wait([finished], timeout=HEARTBEAT_S)
            state = self.state
            if not finished.done() and state.total:
                log.info("still compiling forecast kernels (%s, step %d of %d, %.0fs so far; the first start "
                         "on a machine compiles them, later starts load them from the cache)",
                         state.step, state.done + 1, state.total, state.elapsed_s)
