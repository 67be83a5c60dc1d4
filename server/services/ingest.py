"""IngestService: the agents' Push stream."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

from grpc import aio

from infracast.server.errors import (
    DeadlineExceeded,
    InfracastError,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
    quoted,
)
from infracast.server.fleet.live_streams import LiveStream, LiveStreams
from infracast.server.fleet.nodes import NodeRegistry
from infracast.server.metadata.descriptors import MetricDescriptor
from infracast.server.metadata.registry import MetricRegistry
from infracast.server.security.auth import current_identity
from infracast.server.series import SeriesKey
from infracast.server.services.descriptor_validation import checked_descriptors
from infracast.server.services.push_validation import (
    DEFAULT_LIMITS,
    IngestLimits,
    checked_hello,
    decode_batch,
)
from infracast.server.store.base import CommitFailed, Store
from infracast.server.telemetry.stats import ServerStats
from infracast.v1 import ingest_pb2, ingest_pb2_grpc

log = logging.getLogger(__name__)


# While the store cannot write, agents are told to resend after about this long; spread
# out so that a fleet does not come back in step.
STORE_RETRY_AFTER_S = 2.0


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, store: Store, limits: IngestLimits = DEFAULT_LIMITS,
                 stats: ServerStats | None = None, nodes: NodeRegistry | None = None,
                 metadata: MetricRegistry | None = None) -> None:
        self._store = store
        self.metadata = metadata if metadata is not None else MetricRegistry()  # an empty one is falsy
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
        hello = checked_hello(first)
        identity = current_identity.get()
        if identity is not None and identity.node is not None and identity.node != hello.node:
            raise PermissionDenied(
                f"this token may only push series of node {identity.node!r}, not {quoted(hello.node)}")
        agent = hello.agent_id or hello.node
        if hello.metrics:  # an agent's few hundred take a millisecond or two: off the event loop
            descriptors = await asyncio.to_thread(checked_descriptors, hello.metrics, "hello")
            await self._describe(descriptors, f"agent {agent}", "hello")
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
        descriptors = checked_descriptors(batch.metrics, f"batch {batch.sequence}") if batch.metrics else []
        decoded = await asyncio.to_thread(decode_batch, batch, node, self._limits, None,
                                          self._store.has_series)
        self._admit(node, decoded.new_keys)
        if descriptors:  # committed before the samples, so no acked sample lacks its meaning
            await self._describe(descriptors, f"node {node}", f"batch {batch.sequence}")
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

    async def _describe(self, descriptors: list[MetricDescriptor], sender: str, what: str) -> None:
        try:
            await self.metadata.record(descriptors, sender)
        except CommitFailed as error:
            raise Unavailable(f"the store cannot write metric descriptors now ({error}); nothing of "
                              f"the {what} was stored: send it again later",
                              retry_after_s=STORE_RETRY_AFTER_S * random.uniform(0.5, 1.5)) from None

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
