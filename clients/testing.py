"""Test helpers for code that talks to infracast: a real server in a background thread.

    with running_server() as server:
        with InfracastClient(server.address) as client:
            ...

The server is the real one (grpc.aio, real sockets on 127.0.0.1, port 0), run on
its own event loop in a daemon thread so synchronous test code can call it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from infracast.server.app import App, create_server
from infracast.server.config import ServerConfig


class ServerThread:
    def __init__(self, config: ServerConfig | None = None) -> None:
        # No rate limit by default: tests make many calls quickly (the limiter has its own tests).
        self.config = config or ServerConfig(listen="127.0.0.1:0", grace_period_s=1.0, rate_limit=0.0)
        self.app: App | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="infracast-server", daemon=True)

    @property
    def address(self) -> str:
        assert self.app is not None, "server not started"
        return self.app.address

    def start(self, timeout_s: float = 120.0) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError("the server did not become ready")
        if self._error is not None:
            raise RuntimeError("the server failed to start") from self._error
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.loop is not None and self._stop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.app = create_server(self.config)
        await self.app.start()
        self._ready.set()
        await self._stop.wait()
        await self.app.stop(self.config.grace_period_s)


@contextmanager
def running_server(config: ServerConfig | None = None) -> Iterator[ServerThread]:
    server = ServerThread(config).start()
    try:
        yield server
    finally:
        server.stop()
