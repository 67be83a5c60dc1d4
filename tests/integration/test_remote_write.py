"""Remote write's retry rules: what a TSDB refuses for good is dropped with its reason;
an unreachable or overloaded TSDB is retried until it takes the samples."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import numpy as np
import pytest

from infracast.server.series import SeriesKey
from infracast.server.store import remote_write
from infracast.server.store.base import SeriesWrite
from infracast.server.store.prometheus import PrometheusStore
from infracast.server.store.tsdb_http import TsdbEndpoint, TsdbHttp
from tests.conftest import free_port
from tests.tsdb_servers import binary, start_prometheus

pytestmark = pytest.mark.slow


def writes(node: str, timestamps_ms) -> list[SeriesWrite]:
    times = np.asarray(timestamps_ms, dtype=np.int64)
    return [SeriesWrite(SeriesKey.of("rw_probe", {"node": node}), times, np.arange(len(times), dtype=float))]


def test_samples_the_tsdb_refuses_for_good_are_dropped_with_its_reason(tmp_path, caplog):
    prometheus = start_prometheus(tmp_path)
    try:
        store = PrometheusStore(TsdbHttp(TsdbEndpoint(prometheus.url)))
        now = int(time.time() * 1000)
        assert asyncio.run(store.append(writes("now", [now]))).stored == 1  # the head starts now
        with caplog.at_level(logging.WARNING):
            year_2000 = 946_684_800_000  # far before Prometheus' head block: HTTP 400 "out of bounds"
            result = asyncio.run(store.append(writes("old", [year_2000, year_2000 + 1000])))
        assert (result.stored, result.skipped) == (0, 2)
        assert "out of bounds" in caplog.text and "dropped 2 samples" in caplog.text
        assert store.writer.retries == 0  # a 400 is not retried
    finally:
        prometheus.daemon.stop()


def test_an_unreachable_tsdb_is_retried_until_it_accepts(tmp_path):
    binary("prometheus")  # before anything starts: skipped where it is missing
    port = free_port()
    store = PrometheusStore(TsdbHttp(TsdbEndpoint(f"http://127.0.0.1:{port}", timeout_s=5)))
    now = int(time.time() * 1000)

    async def scenario():
        appending = asyncio.create_task(store.append(writes("late", [now - 2000, now - 1000])))
        await asyncio.sleep(1.0)
        assert not appending.done(), "nothing may be acknowledged while the TSDB is down"
        return appending

    loop = asyncio.new_event_loop()
    try:
        appending = loop.run_until_complete(scenario())
        prometheus = start_prometheus(tmp_path, port=port)  # up at last, where the store writes
        try:
            result = loop.run_until_complete(asyncio.wait_for(appending, 60))
            assert (result.stored, result.skipped) == (2, 0)
            assert store.writer.retries >= 1
            (series,) = prometheus.query("count_over_time(rw_probe[5m])")
            assert series["metric"]["node"] == "late" and series["value"][1] == "2"
        finally:
            prometheus.daemon.stop()
    finally:
        loop.close()


class _Throttling(BaseHTTPRequestHandler):
    """A fake TSDB (the real ones cannot be made to answer 429 or 503 on demand)."""

    answers: ClassVar[list[tuple[int, dict[str, str]]]] = []
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self):
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        status, headers = self.answers.pop(0) if self.answers else (204, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_429_and_5xx_are_retried_with_the_same_body_and_a_retry_after_honoured():
    _Throttling.answers = [(429, {"Retry-After": "0.3"}), (503, {}), (500, {})]
    _Throttling.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        store = PrometheusStore(TsdbHttp(TsdbEndpoint(f"http://127.0.0.1:{server.server_port}")))
        started = time.monotonic()
        result = asyncio.run(store.append(writes("busy", [1000, 2000, 3000])))
        assert time.monotonic() - started >= 0.3 * 0.8  # the Retry-After was waited for
        assert (result.stored, result.skipped) == (3, 0)
        assert len(_Throttling.bodies) == 4 and len(set(_Throttling.bodies)) == 1
        (series,) = remote_write.decode(_Throttling.bodies[0]).timeseries
        assert [s.timestamp for s in series.samples] == [1000, 2000, 3000]
    finally:
        server.shutdown()
        server.server_close()
