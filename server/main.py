"""infracast-server: config -> build -> serve -> stop on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Sequence

from infracast.common.log_setup import configure_logging
from infracast.server.app import create_server
from infracast.server.config import ServerConfig, load_config
from infracast.server.store.database_file import UnusableDatabaseFile
from infracast.server.store.sample_log import DataDirectoryLocked
from infracast.server.telemetry.export import TraceContextFilter

log = logging.getLogger("infracast.server")


async def run(config: ServerConfig) -> None:
    app = create_server(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _on_signal, stop, signum)
    try:
        await app.start()
    except Exception:
        # Already serving (e.g. a damaged log found in the replay): stop cleanly, so the
        # reason is the one line the operator reads, not the server's teardown noise.
        await app.stop(grace_s=0)
        raise
    await stop.wait()
    log.info("stopping: finishing in-flight RPCs for up to %.0fs", config.grace_period_s)
    for signum in (signal.SIGTERM, signal.SIGINT):
        # A second signal during the grace period ends the process at once.
        loop.add_signal_handler(signum, _exit_now, signum)
    await app.stop()


def _on_signal(stop: asyncio.Event, signum: int) -> None:
    log.info("received %s", signal.Signals(signum).name)
    stop.set()


def _exit_now(signum: int) -> None:
    # os._exit, not sys.exit: unwinding would wait for worker threads and open RPCs, the
    # very thing the operator asked to skip. Acknowledged samples are already committed.
    log.warning("received %s again: exiting without waiting", signal.Signals(signum).name)
    logging.shutdown()
    os._exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    config = load_config(argv)
    configure_logging(config.log_level, config.log_format, (TraceContextFilter(),), config.log_file)
    # Fewer, larger young-generation collections: series objects are long-lived, and each
    # collection pass pauses every RPC on the event loop.
    gc.set_threshold(50_000, 20, 100)
    try:
        asyncio.run(run(config))
    except (OSError, DataDirectoryLocked, UnusableDatabaseFile) as error:
        log.error("cannot start: %s", error)
        sys.exit(1)


if __name__ == "__main__":
    main()
