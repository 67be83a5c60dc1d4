"""One thread for ingest's per-batch work, answering the event loop a group at a time.

asyncio.to_thread wakes the event loop once per call (a byte through its self-pipe and a
GIL hand-over): at thousands of batches a second that was ~12 % of the server's CPU. Here
the results of the calls that finish while the loop is busy wait in one list, and the
loop is woken once for all of them. One thread also makes a batch's admission check and
its memory append one step for every stream, instead of racing between workers.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_Call = tuple[Callable[[], Any], asyncio.Future, asyncio.AbstractEventLoop]

_STOP = None


class IngestWorker:
    def __init__(self, name: str = "ingest-worker") -> None:
        self._name = name
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._finished: list[tuple[asyncio.Future, Any, BaseException | None]] = []
        self._finished_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def run(self, call: Callable[[], T]) -> T:
        """call() in the worker thread; its result or exception here."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._started()
        self._calls.put((call, future, loop))
        return await future

    def close(self) -> None:
        """End the thread once the calls queued before are done."""
        with self._start_lock:
            if self._thread is not None:
                self._calls.put(_STOP)
                self._thread = None

    def _started(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while (item := self._calls.get()) is not _STOP:
            call, future, loop = item
            del item
            outcome: tuple[asyncio.Future, Any, BaseException | None]
            try:
                outcome = (future, call(), None)
            except BaseException as error:  # handed to the awaiting stream, as to_thread does
                outcome = (future, None, error)
            # Nothing of the call (a batch's bytes) may outlive its answer: once the loop
            # has it, the stream acks and waits, and this thread may not run again for a
            # while (test_stream_memory).
            del call, future
            with self._finished_lock:
                wake = not self._finished
                self._finished.append(outcome)
            del outcome
            if wake:  # otherwise the loop has not yet run the wake-up already sent
                try:
                    loop.call_soon_threadsafe(self._settle)
                except RuntimeError:  # the loop closed: nobody is waiting any more
                    with self._finished_lock:
                        self._finished.clear()
            del loop

    def _settle(self) -> None:
        with self._finished_lock:
            finished, self._finished = self._finished, []
        for future, result, error in finished:
            if future.done():  # the stream ended meanwhile (cancelled)
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
