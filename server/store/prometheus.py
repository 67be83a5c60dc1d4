"""The Prometheus-compatible store: samples go out by remote write, windows come back by
PromQL. The TSDB (Prometheus, VictoriaMetrics, Mimir, Thanos, Cortex) holds every
sample; a replica holds only a cache of recently read windows, so replicas are
interchangeable and as many run as the load needs.

A window is read as two range queries of `avg_over_time(series[step])` at `step`: the
recent `raw_window` at the configured step (the mean of the samples in each step, so a
step shorter than the scrape interval yields no repeated points, only gaps), and the
`retention` before it at 5 minutes, the embedded store's downsampled resolution. The
cache keeps each window and, when asked again, reads only the points since the last
one; the older part is read again every 5 minutes.

Labels are kept as the TSDB has them (see promql.py); `node` has no special meaning here
beyond the agents' own series carrying it.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from infracast.server.errors import FailedPrecondition, InvalidArgument, Unavailable
from infracast.server.selector import Selector
from infracast.server.series import SeriesKey
from infracast.server.store.base import AppendResult, SeriesSummary, SeriesWrite, Window
from infracast.server.store.promql import key_promql, matrix_arrays, selector_promql, series_key
from infracast.server.store.remote_write import RemoteWriter
from infracast.server.store.tsdb_http import TsdbError, TsdbHttp

DOWNSAMPLED_STEP_MS = 300_000
MAX_POINTS_PER_QUERY = 10_000  # Prometheus refuses more than 11,000 points a series


@dataclass(frozen=True)
class PromQLReach:
    """How far back windows reach, and at which resolutions."""

    step_ms: int = 15_000
    raw_window_ms: int = 6 * 3_600_000
    retention_ms: int = 14 * 86_400_000


@dataclass
class _Cached:
    timestamps_ms: np.ndarray
    values: np.ndarray
    read_at_ms: int  # when the recent part was last read
    full_read_at_ms: int  # when the older part was last read


@dataclass
class CacheStats:
    hits: int = 0  # answered from the cache alone
    tail_reads: int = 0  # only the points since the cached ones were read
    full_reads: int = 0


class PrometheusStore:
    def __init__(self, http: TsdbHttp, reach: PromQLReach | None = None, cache_series: int = 2000,
                 clock=time.time) -> None:
        self.http = http
        self.reach = reach or PromQLReach()
        self.writer = RemoteWriter(http)
        self.cache_stats = CacheStats()
        self._cache_size = cache_series
        self._cache: OrderedDict[SeriesKey, _Cached] = OrderedDict()
        self._selected: dict[str, tuple[int, list[SeriesKey]]] = {}
        self._lock = threading.Lock()
        self._clock = clock
        # Series this replica has written: the ingest limits count them (per replica).
        self._written: set[SeriesKey] = set()
        self._by_node: dict[str, int] = {}

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- writes ---------------------------------------------------------------------------

    async def append(self, writes: list[SeriesWrite]) -> AppendResult:
        """Returns once the TSDB accepted the samples (or refused them for good: skipped).
        Idempotent as far as the TSDB is: Prometheus ignores a repeated identical sample,
        VictoriaMetrics with -dedup.minScrapeInterval keeps one."""
        count = sum(len(write.values) for write in writes)
        if not count:
            return AppendResult(0, 0)
        try:
            outcome = await self.writer.write(writes)
        except TsdbError as error:  # not acknowledged: the agent sends the batch again
            raise Unavailable(f"the TSDB did not take the samples: {error}", retry_after_s=1.0) from None
        for write in writes:
            key = write.key
            if key not in self._written:
                self._written.add(key)
                node = key.node
                if node is not None:
                    self._by_node[node] = self._by_node.get(node, 0) + 1
        return AppendResult(count, 0) if outcome.accepted else AppendResult(0, count)

    async def write_derived(self, writes: list[SeriesWrite]) -> bool:
        """Series the server derives itself (rule results, replica heartbeats): written to the
        TSDB like agents' samples but not counted against the agents' series limits. False
        when the TSDB refused them for good (logged); raises TsdbError when it is down."""
        return (await self.writer.write(writes)).accepted

    def has_series(self, key: SeriesKey) -> bool:
        return key in self._written

    def node_series_count(self, node: str) -> int:
        return self._by_node.get(node, 0)

    @property
    def series_count(self) -> int:
        """Series this replica wrote (the TSDB may hold many more)."""
        return len(self._written)

    # -- reads ----------------------------------------------------------------------------

    def select(self, selector: Selector) -> list[SeriesKey]:
        """Series seen within the raw window, by /api/v1/series; cached for one step."""
        now = self._now_ms()
        query = selector_promql(selector)
        with self._lock:
            cached = self._selected.get(query)
        if cached is not None and now - cached[0] < self.reach.step_ms:
            return cached[1]
        found = self._api("/api/v1/series", [
            ("match[]", query), ("start", _seconds(now - self.reach.raw_window_ms)), ("end", _seconds(now))])
        keys = sorted({series_key(labels) for labels in found})
        # The TSDB's regex engine (RE2) and ours agree on the common syntax; filtering again
        # keeps our answer exact where they might not.
        keys = [key for key in keys if selector.matches(key)]
        with self._lock:
            if len(self._selected) > 1000:
                self._selected.clear()
            self._selected[query] = (now, keys)
        return keys

    async def instant_query(self, promql: str) -> list[dict]:
        """An instant query's result vector (for the replicas' heartbeats)."""
        data = await asyncio.to_thread(self._api, "/api/v1/query", [("query", promql)])
        return data["result"]

    def labels(self) -> list[str]:
        """Label names the TSDB knows (/api/v1/labels)."""
        return list(self._api("/api/v1/labels", []))

    def window(self, key: SeriesKey) -> Window | None:
        now = self._now_ms()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
        if cached is not None and now - cached.read_at_ms < self.reach.step_ms:
            self.cache_stats.hits += 1
        elif (cached is not None and len(cached.timestamps_ms)
              and now - cached.full_read_at_ms < DOWNSAMPLED_STEP_MS):
            self.cache_stats.tail_reads += 1
            start = int(cached.timestamps_ms[-1])  # read again: it may have been partial
            times, values = self._range(key, start, now, self.reach.step_ms)
            keep = cached.timestamps_ms < start
            cached = _Cached(np.concatenate([cached.timestamps_ms[keep], times]),
                             np.concatenate([cached.values[keep], values]), now, cached.full_read_at_ms)
        else:
            self.cache_stats.full_reads += 1
            cached = self._read_all(key, now)
        self._remember(key, cached)
        if not len(cached.timestamps_ms):
            return None
        return Window(key, cached.timestamps_ms.copy(), cached.values.copy())

    def summary(self, key: SeriesKey) -> SeriesSummary | None:
        """From the (cached) window; sample_count counts its points, one per step at most."""
        window = self.window(key)
        if window is None:
            return None
        return SeriesSummary(key, len(window.timestamps_ms), int(window.timestamps_ms[0]),
                             int(window.timestamps_ms[-1]), float(window.values[-1]))

    def _read_all(self, key: SeriesKey, now: int) -> _Cached:
        reach = self.reach
        raw_start = now - reach.raw_window_ms
        old_times, old_values = self._range(key, now - reach.retention_ms, raw_start - 1, DOWNSAMPLED_STEP_MS)
        times, values = self._range(key, raw_start, now, reach.step_ms)
        return _Cached(np.concatenate([old_times, times]), np.concatenate([old_values, values]), now, now)

    def _range(self, key: SeriesKey, start_ms: int, end_ms: int,
               step_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Means over each step from start to end, points stamped at step multiples."""
        first = math.ceil(start_ms / step_ms) * step_ms
        if first > end_ms:
            return np.empty(0, dtype=np.int64), np.empty(0)
        query = f"avg_over_time({key_promql(key)}[{step_ms}ms])"
        parts_t, parts_v = [], []
        while first <= end_ms:
            last = min(end_ms, first + (MAX_POINTS_PER_QUERY - 1) * step_ms)
            result = self._api("/api/v1/query_range", [
                ("query", query), ("start", _seconds(first)), ("end", _seconds(last)),
                ("step", f"{step_ms / 1000:g}")])
            times, values = matrix_arrays(result["result"])
            parts_t.append(times)
            parts_v.append(values)
            first = last + step_ms
        return np.concatenate(parts_t), np.concatenate(parts_v)

    def _api(self, path: str, params: list[tuple[str, str]]):
        try:
            return self.http.api(path, params)
        except TsdbError as error:
            if error.status == 400:  # e.g. a regular expression RE2 does not take
                raise InvalidArgument(f"the TSDB refused the query: {error}") from None
            if error.status == 422:
                raise FailedPrecondition(f"the TSDB could not run the query: {error}") from None
            raise Unavailable(f"the TSDB did not answer: {error}", retry_after_s=1.0) from None

    def _remember(self, key: SeriesKey, cached: _Cached) -> None:
        if not self._cache_size:
            return
        with self._lock:
            self._cache[key] = cached
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    async def close(self) -> None:
        return None


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.3f}"
