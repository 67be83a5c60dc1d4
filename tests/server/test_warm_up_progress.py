"""The warm-up's progress: a line per step, and a heartbeat while a step runs long."""

import asyncio
import logging
import threading

from infracast.server.health import warm_up_progress
from infracast.server.health.warm_up_progress import WarmUpProgress


def test_a_long_step_is_reported_while_it_runs(monkeypatch, caplog):
    monkeypatch.setattr(warm_up_progress, "HEARTBEAT_S", 0.1)
    progress = WarmUpProgress()
    release = threading.Event()

    def slow_warm_up():  # stands in for a compile: a step that lasts until released
        progress(0, 2, "seasonal models")
        release.wait(10)
        progress(1, 2, "counter rates")
        progress(2, 2, "done")

    async def start():
        loop = asyncio.get_running_loop()
        warming = loop.run_in_executor(None, slow_warm_up)
        loop.call_later(0.5, release.set)
        await progress.log_until_done(warming)

    with caplog.at_level(logging.INFO, logger="infracast.server"):
        asyncio.run(start())
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("warming up forecast kernels: 0/2 steps done, now seasonal models")
    heartbeats = [line for line in lines
                  if line.startswith("still compiling forecast kernels (seasonal models")]
    assert len(heartbeats) >= 2, lines
    assert any(line.startswith("forecast kernels ready: 2/2 steps in") for line in lines)
    state = progress.state
    assert (state.done, state.total, state.step) == (2, 2, "done") and state.elapsed_s >= 0.4
