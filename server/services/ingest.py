"""IngestService: the agents' Push stream."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from grpc import aio

from infracast.server.auth import current_identity
from infracast.server.errors import (
    DeadlineExceeded,
    InfracastError,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
    quoted,
)
from infracast.server.live_streams import LiveStream, LiveStreams
from infracast.server.nodes import NodeRegistry
from infracast.server.series import LABEL_NAME, METRIC_NAME, NODE_LABEL, SeriesKey
from infracast.server.stats import ServerStats
from infracast.server.store.base import CommitFailed, SeriesWrite, Store
from infracast.v1 import ingest_pb2, ingest_pb2_grpc, series_pb2

log = logging.getLogger(__name__)


MAX_NODE_LABELS = 64
# While the store cannot write, agents are told to resend after about this long; spread
# out so that a fleet does not come back in step.
STORE_RETRY_AFTER_S = 2.0


@dataclass(frozen=True)
class IngestLimits:
    max_labels: int = 32
    max_label_length: int = 1024
    max_metric_name_length: int = 256
    max_label_name_length: int = 256
    max_series_per_agent: int = 20_000
    max_series: int = 1_000_000
    max_future_skew_ms: int = 600_000
    retention_ms: int = 14 * 86_400_000
    # A stream holds a connection and a slot of the stream limit: one that sends no hello,
    # or no batch for this long (agents send one every interval), is closed.
    hello_timeout_s: float = 10.0
    stream_idle_timeout_s: float = 300.0


@dataclass
class DecodedBatch:
    writes: list[SeriesWrite]
    gaps: int  # NaN samples skipped
    new_keys: list[SeriesKey]  # series the store did not hold, validated


def decode_batch(batch: ingest_pb2.Batch, node: str, limits: IngestLimits = IngestLimits(),
                 now_ms: int | None = None,
                 held: Callable[[SeriesKey], bool] = lambda key: False) -> DecodedBatch:
    """Validate a batch and turn it into store writes; NaN samples are gaps and are skipped.

    A series the store already `held` was validated when it arrived first: only its node
    label is checked again. Samples are checked for the whole batch at once (a batch is
    mostly series of one sample each, and numpy's cost is per call). Raises
    InvalidArgument naming the offending series, the limit and its value, so nothing of
    a bad batch is stored.
    """
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    keys: list[SeriesKey] = []
    new_keys: list[SeriesKey] = []
    times: list[int] = []
    values: list[float] = []
    ends: list[int] = []
    for position, samples in enumerate(batch.series):
        where = partial(_where, batch.sequence, position, samples.key)  # formatted only for errors
        key = _key_of(samples.key, node, where)
        if not held(key):
            key = _validated_key(key, samples.key, where, limits)
            new_keys.append(key)
        if len(samples.timestamps_ms) != len(samples.values):
            raise InvalidArgument(
                f"{where()}: {len(samples.timestamps_ms)} timestamps but {len(samples.values)} values"
            )
        keys.append(key)
        times.extend(samples.timestamps_ms)
        values.extend(samples.values)
        ends.append(len(times))
    all_times = np.array(times, dtype=np.int64)
    all_values = np.array(values, dtype=np.float64)
    bad = (all_times <= 0) | (all_times > now_ms + limits.max_future_skew_ms) \
        | (all_times < now_ms - limits.retention_ms) | np.isinf(all_values)
    if bad.any():
        position = int(np.searchsorted(ends, int(np.argmax(bad)), side="right"))
        start = ends[position - 1] if position else 0
        _refuse_samples(partial(_where, batch.sequence, position, batch.series[position].key),
                        all_times[start : ends[position]], all_values[start : ends[position]],
                        now_ms, limits)
    missing = np.isnan(all_values)
    gaps = int(missing.sum())
    writes: list[SeriesWrite] = []
    start = 0
    for key, end in zip(keys, ends, strict=True):
        timestamps, series_values = all_times[start:end], all_values[start:end]
        if gaps and missing[start:end].any():
            present = ~missing[start:end]
            timestamps, series_values = timestamps[present], series_values[present]
        writes.append(SeriesWrite(key, timestamps, series_values))
        start = end
    return DecodedBatch(writes, gaps, new_keys)


def _refuse_samples(where: Callable[[], str], timestamps: np.ndarray, values: np.ndarray,
                    now_ms: int, limits: IngestLimits) -> None:
    """Raise for the first rule the samples of one series break, saying which and its limit."""
    if timestamps.min() <= 0:
        raise InvalidArgument(f"{where()}: timestamps must be positive milliseconds since the epoch")
    if timestamps.max() > now_ms + limits.max_future_skew_ms:
        raise InvalidArgument(
            f"{where()}: a timestamp is {(timestamps.max() - now_ms) / 1000:.0f}s in the future; "
            f"at most {limits.max_future_skew_ms / 1000:.0f}s is allowed (check the node's clock)")
    if timestamps.min() < now_ms - limits.retention_ms:
        raise InvalidArgument(
            f"{where()}: a timestamp is older than the retention of "
            f"{limits.retention_ms / 86_400_000:g} days")
    if np.isinf(values).any():
        raise InvalidArgument(f"{where()}: values must be finite (NaN marks a gap; ±Inf is refused)")
    raise AssertionError("a sample was refused but breaks no rule")


def _where(sequence: int, position: int, key: series_pb2.SeriesKey) -> str:
    return f"batch {sequence}, series {position} ({quoted(key.metric, quotes=False) or 'no metric name'})"


def _key_of(key: series_pb2.SeriesKey, node: str, where: Callable[[], str]) -> SeriesKey:
    """The store key of a series as sent, with the stream's node as its node label."""
    labels = dict(key.labels)
    if labels.setdefault(NODE_LABEL, node) != node:
        raise InvalidArgument(
            f"{where()}: node label {quoted(labels[NODE_LABEL])} differs from this stream's node "
            f"{node!r}; an agent writes only its own node's series"
        )
    return SeriesKey.of(key.metric, labels)


def _validated_key(key: SeriesKey, sent: series_pb2.SeriesKey, where: Callable[[], str],
                   limits: IngestLimits) -> SeriesKey:
    """The key of a series the store does not hold yet, checked, with interned strings."""
    if len(key.metric) > limits.max_metric_name_length:
        raise InvalidArgument(f"{where()}: the metric name is {len(key.metric)} characters long; at "
                              f"most {limits.max_metric_name_length} are allowed (max_metric_name_length)")
    if not METRIC_NAME.match(key.metric):
        raise InvalidArgument(f"{where()}: metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*")
    if len(sent.labels) > limits.max_labels:
        raise InvalidArgument(
            f"{where()}: {len(sent.labels)} labels; at most {limits.max_labels} are allowed")
    for name, value in sent.labels.items():
        if len(name) > limits.max_label_name_length:
            raise InvalidArgument(
                f"{where()}: label name {quoted(name)} is {len(name)} characters long; at most "
                f"{limits.max_label_name_length} are allowed (max_label_name_length)")
        if not LABEL_NAME.match(name) or name.startswith("__"):
            raise InvalidArgument(f"{where()}: label name {quoted(name)} is not allowed")
        if len(value) > limits.max_label_length:
            raise InvalidArgument(f"{where()}: label {name} is {len(value)} characters long; "
                                  f"at most {limits.max_label_length} are allowed")
    return SeriesKey.interned(key.metric, key.label_map)


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, store: Store, limits: IngestLimits = IngestLimits(),
                 stats: ServerStats | None = None, nodes: NodeRegistry | None = None) -> None:
        self._store = store
        self._nodes = nodes or NodeRegistry()
        self._limits = limits
        self.stats = stats or ServerStats()
        self._draining = asyncio.Event()
        self.live = LiveStreams()

    def drain(self) -> None:
        """Refuse new streams and end open ones after their current batch, telling each
        agent to reconnect at once (to another replica behind the Service)."""
        self._draining.set()

    async def Push(
        self, request_iterator: AsyncIterator[ingest_pb2.PushRequest], context: aio.ServicerContext
    ) -> AsyncIterator[ingest_pb2.PushResponse]:
        if self._draining.is_set():
            raise Unavailable("server is shutting down; reconnect", retry_after_s=0.0)
        self.stats.active_streams += 1
        try:
            async for response in self._serve_stream(request_iterator):
                yield response
        except InfracastError as error:
            self.stats.rejected_batches[error.code.name] += 1
            raise
        finally:
            self.stats.active_streams -= 1

    @property
    def draining(self) -> bool:
        return self._draining.is_set()

    async def _serve_stream(
        self, request_iterator: AsyncIterator[ingest_pb2.PushRequest]
    ) -> AsyncIterator[ingest_pb2.PushResponse]:
        requests = aiter(request_iterator)
        first = await self._next_request(
            requests, None, self._limits.hello_timeout_s,
            f"no hello within {self._limits.hello_timeout_s:g}s of opening the stream; closing it")
        hello = self._checked_hello(first)
        identity = current_identity.get()
        if identity is not None and identity.node is not None and identity.node != hello.node:
            raise PermissionDenied(
                f"this token may only push series of node {identity.node!r}, not {quoted(hello.node)}")
        agent = hello.agent_id or hello.node
        log.info("agent %s (node %s, version %s) connected", agent, hello.node, hello.agent_version)
        self._nodes.connected(hello.node, hello.agent_version, dict(hello.labels),
                              hello.allocatable_cpu_cores, hello.allocatable_memory_bytes)
        node = hello.node
        del hello, first  # their messages would stay alive as long as the stream
        live = self.live.open(node, agent, identity)
        try:
            async for response in self._serve_batches(requests, node, live):
                yield response
        finally:
            self.live.close(live)
            self._nodes.disconnected(node)

    async def _serve_batches(
        self, requests: AsyncIterator[ingest_pb2.PushRequest], node: str, live: LiveStream
    ) -> AsyncIterator[ingest_pb2.PushResponse]:
        highest = 0
        while True:
            request = await self._next_request(
                requests, live, self._limits.stream_idle_timeout_s,
                f"no batch for {self._limits.stream_idle_timeout_s:g}s (stream_idle_timeout; an agent "
                "sends one every interval): closing this idle stream")
            if request is None:
                return
            if request.WhichOneof("message") != "batch":
                raise InvalidArgument("hello may be sent only once, as the first message")
            if request.batch.sequence == 0:
                raise InvalidArgument("batch.sequence must be 1 or more: an ack of 0 means "
                                      "nothing is stored yet")
            # Per stream, not per agent: an agent that restarts may number batches from 1
            # again, and acking its old high-water mark would drop batches never stored.
            highest = max(highest, request.batch.sequence)
            ack = await self._store_batch(request.batch, node)
            # The batch and its decoded arrays go now, not when the next batch arrives: a
            # thousand idle streams would otherwise each hold their last batch.
            del request
            ack.highest_sequence = highest
            yield ingest_pb2.PushResponse(ack=ack)

    async def _store_batch(self, batch: ingest_pb2.Batch, node: str) -> ingest_pb2.Ack:
        # Decoding runs on a worker thread so that health checks and queries keep being
        # answered between batches (the event loop is otherwise busy with every one).
        decoded = await asyncio.to_thread(decode_batch, batch, node, self._limits, None,
                                          self._store.has_series)
        self._admit(node, decoded.new_keys)
        try:
            result = await self._store.append(decoded.writes)
        except CommitFailed as error:
            # Retryable: the agent keeps the batch and resends it after the hint.
            raise Unavailable(f"the store cannot write now ({error}); nothing of batch "
                              f"{batch.sequence} was stored: resend it later",
                              retry_after_s=STORE_RETRY_AFTER_S * random.uniform(0.5, 1.5)) from None
        self.stats.batches_stored += 1
        self.stats.samples_stored += result.stored
        self.stats.samples_skipped += result.skipped + decoded.gaps
        return ingest_pb2.Ack(samples_stored=result.stored, samples_skipped=result.skipped + decoded.gaps)

    def _admit(self, node: str, new_keys: list[SeriesKey]) -> None:
        """Refuse a batch that would create more series than allowed, for the agent's node or
        in all."""
        unseen = {key for key in new_keys if not self._store.has_series(key)}  # a batch in between
        if not unseen:
            return
        held = self._store.node_series_count(node)
        if held + len(unseen) > self._limits.max_series_per_agent:
            raise ResourceExhausted(
                f"node {node} would have {held + len(unseen)} series; at most "
                f"{self._limits.max_series_per_agent} per agent are allowed")
        if self._store.series_count + len(unseen) > self._limits.max_series:
            raise ResourceExhausted(
                f"the server holds {self._store.series_count} series; at most "
                f"{self._limits.max_series} are allowed")

    async def _next_request(
        self, requests: AsyncIterator[ingest_pb2.PushRequest], live: LiveStream | None, timeout_s: float,
        too_late: str,
    ) -> ingest_pb2.PushRequest | None:
        """The next request; None when the agent closed the stream. Raises Unavailable on
        drain, DeadlineExceeded after `timeout_s` without one, and what ended `live`
        (replaced by the agent's newer stream, its token revoked or expired)."""
        reading = asyncio.ensure_future(anext(requests, None))
        draining = asyncio.ensure_future(self._draining.wait())
        waits: set[asyncio.Future[Any]] = {reading, draining}
        if live is not None:
            waits.add(live.ended)
        try:
            done, _ = await asyncio.wait(waits, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            draining.cancel()
        # An ended stream stores nothing more, even if a message arrived at the same time.
        if live is not None and live.ended.done():
            reading.cancel()
            raise live.ended.result()
        if reading in done:
            return reading.result()
        reading.cancel()
        if draining in done:
            raise Unavailable("server is shutting down; reconnect", retry_after_s=0.0)
        raise DeadlineExceeded(too_late)

    @staticmethod
    def _checked_hello(first: ingest_pb2.PushRequest | None) -> ingest_pb2.Hello:
        if first is None:
            raise InvalidArgument("empty stream: send a hello first")
        if first.WhichOneof("message") != "hello":
            raise InvalidArgument("the first message of a Push stream must be a hello, not a batch")
        hello = first.hello
        if not hello.node.strip():
            raise InvalidArgument("hello.node is empty: set the node name (flag --node or NODE_NAME)")
        if len(hello.node) > 253 or any(not ch.isprintable() for ch in hello.node):
            raise InvalidArgument("hello.node must be at most 253 printable characters")
        for field, most in (("agent_id", 253), ("agent_version", 128)):  # both are logged
            text = getattr(hello, field)
            if len(text) > most or not text.isprintable():
                raise InvalidArgument(f"hello.{field} must be at most {most} printable characters")
        if len(hello.labels) > MAX_NODE_LABELS:
            raise InvalidArgument(
                f"hello carries {len(hello.labels)} node labels; at most {MAX_NODE_LABELS} are allowed")
        for name, value in hello.labels.items():
            if len(name) > 317 or len(value) > 63:
                raise InvalidArgument(f"hello label {name[:64]!r} is too long (as in Kubernetes, "
                                      "names of at most 317 characters, values of at most 63)")
        for field in ("allocatable_cpu_cores", "allocatable_memory_bytes"):
            value = getattr(hello, field)
            if not (math.isfinite(value) and value >= 0):
                raise InvalidArgument(f"hello.{field} must be a finite number >= 0, got {value}")
        return hello
