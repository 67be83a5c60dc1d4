"""IngestService: the agents' Push stream."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import grpc
from grpc import aio

from infracast.server.errors import (
    DeadlineExceeded,
    InfracastError,
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
from infracast.server.services.descriptor_validation import DescriptorLimits, checked_descriptors
from infracast.server.services.ingest_worker import IngestWorker
from infracast.server.services.push_validation import (
    DEFAULT_LIMITS,
    DecodedBatch,
    IngestLimits,
    checked_hello,
    parsed_request,
)
from infracast.server.services.wire_batch import KnownKeys, load_kernels, read_batch
from infracast.server.store.base import AppendResult, CommitFailed, StagingStore, Store
from infracast.server.telemetry.stats import ServerStats
from infracast.v1 import ingest_pb2, ingest_pb2_grpc

log = logging.getLogger(__name__)


# While the store cannot write, agents are told to resend after about this long; spread
# out so that a fleet does not come back in step.
STORE_RETRY_AFTER_S = 2.0


def _store_retry_hint() -> float:
    """When to resend after the store could not write: jittered, so agents do not return at once."""
    return STORE_RETRY_AFTER_S * random.uniform(0.5, 1.5)


class PushRequestBytes(bytes):
    """A Push request as received, undecoded. A class of its own (one copy of the bytes)
    so that a test can find any the server keeps: plain bytes are invisible to gc."""


def add_ingest_service(servicer: IngestServicer, server: aio.Server) -> None:
    """Register IngestService with Push requests handed over as bytes: batches are read by
    wire_batch (a numba kernel, off the GIL) rather than by protobuf on the event loop."""
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.Push, request_deserializer=PushRequestBytes,
        response_serializer=ingest_pb2.PushResponse.SerializeToString)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name, {"Push": handler}),))


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, store: Store, limits: IngestLimits = DEFAULT_LIMITS,
                 stats: ServerStats | None = None, nodes: NodeRegistry | None = None,
                 metadata: MetricRegistry | None = None) -> None:
        self._store = store
        self.metadata = metadata if metadata is not None else MetricRegistry()  # an empty one is falsy
        # The embedded and memory stores append to memory in the worker; others whole.
        self._staging = store if isinstance(store, StagingStore) else None
        # Loaded (or compiled) now, before the warm-up releases the compiler's pages, not at
        # the first batch.
        load_kernels()
        self._nodes = nodes or NodeRegistry()
        self._limits = limits
        # Metric names as long as series may have (max_metric_name_length): a descriptor
        # refused for a name the series may have would refuse the agent's hello.
        self._descriptor_limits = DescriptorLimits(max_metric_name_length=limits.max_metric_name_length)
        self.stats = stats or ServerStats()
        self._draining = asyncio.Event()
        self._worker = IngestWorker()
        self.live = LiveStreams()

    def drain(self) -> None:
        """Refuse new streams and end open ones after their current batch, telling each
        agent to reconnect at once (to another replica behind the Service)."""
        self._draining.set()

    async def Push(
        self, request_iterator: AsyncIterator[bytes], context: aio.ServicerContext
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

    def close(self) -> None:
        """Stop the worker thread (after the server stopped)."""
        self._worker.close()

    @property
    def draining(self) -> bool:
        return self._draining.is_set()

    async def _serve_stream(
        self, request_iterator: AsyncIterator[bytes]
    ) -> AsyncIterator[ingest_pb2.PushResponse]:
        requests = aiter(request_iterator)
        # One wait for the drain a stream, not one a request: a task made and cancelled per
        # request cost the event loop as much as reading the request.
        draining = asyncio.ensure_future(self._draining.wait())
        try:
            async for response in self._serve_requests(requests, draining):
                yield response
        finally:
            draining.cancel()

    async def _serve_requests(
        self, requests: AsyncIterator[bytes], draining: asyncio.Future[Any]
    ) -> AsyncIterator[ingest_pb2.PushResponse]:
        first = await self._next_request(
            requests, draining, None, self._limits.hello_timeout_s,
            f"no hello within {self._limits.hello_timeout_s:g}s of opening the stream; closing it")
        hello = checked_hello(None if first is None else parsed_request(first))
        identity = current_identity.get()
        if identity is not None and identity.node is not None and identity.node != hello.node:
            raise PermissionDenied(
                f"this token may only push series of node {identity.node!r}, not {quoted(hello.node)}")
        agent = hello.agent_id or hello.node
        if hello.metrics:  # an agent's few hundred take a millisecond or two: off the event loop
            descriptors = await asyncio.to_thread(checked_descriptors, hello.metrics, "hello",
                                                   self._descriptor_limits)
            await self._describe(descriptors, f"agent {agent}", "hello")
        log.info("agent %s (node %s, version %s) connected", agent, hello.node, hello.agent_version)
        self._nodes.connected(hello.node, hello.agent_version, dict(hello.labels),
                              hello.allocatable_cpu_cores, hello.allocatable_memory_bytes)
        node = hello.node
        del hello, first  # their messages would stay alive as long as the stream
        live = self.live.open(node, agent, identity)
        try:
            async for response in self._serve_batches(requests, draining, node, live):
                yield response
        finally:
            self.live.close(live)
            self._nodes.disconnected(node)

    async def _serve_batches(
        self, requests: AsyncIterator[bytes], draining: asyncio.Future[Any], node: str, live: LiveStream
    ) -> AsyncIterator[ingest_pb2.PushResponse]:
        highest = 0
        known = KnownKeys(capacity=self._limits.max_series_per_agent)
        while True:
            request = await self._next_request(
                requests, draining, live, self._limits.stream_idle_timeout_s,
                f"no batch for {self._limits.stream_idle_timeout_s:g}s (stream_idle_timeout; an agent "
                "sends one every interval): closing this idle stream")
            if request is None:
                return
            sequence, ack = await self._store_batch(request, node, known)
            # The batch's bytes go now, not when the next batch arrives: a thousand idle
            # streams would otherwise each hold their last batch.
            del request
            # Per stream, not per agent: an agent that restarts may number batches from 1
            # again, and acking its old high-water mark would drop batches never stored.
            highest = max(highest, sequence)
            ack.highest_sequence = highest
            yield ingest_pb2.PushResponse(ack=ack)

    async def _store_batch(self, request: bytes, node: str, known: KnownKeys) -> tuple[int, ingest_pb2.Ack]:
        """Store one batch: its sequence number and its ack."""
        # One hop to the worker thread per batch: decoding (off the GIL in its kernel) and,
        # with the embedded store, the memory append. The event loop meanwhile keeps
        # answering health checks and queries; the SQLite writer commits after.
        sequence, decoded, result = await self._worker.run(
            partial(self._decode_and_stage, request, node, known))
        if decoded.descriptors:  # committed before the samples, so no acked sample lacks its meaning
            await self._describe(decoded.descriptors, f"node {node}", f"batch {sequence}")
            if self._staging is not None:
                result = await self._worker.run(partial(self._staging.append_to_memory, decoded.samples))
        try:
            if self._staging is None or result is None:
                result = await self._store.append(decoded.writes)
            else:
                await self._staging.commit(decoded.samples, result)
        except CommitFailed as error:
            # Retryable: the agent keeps the batch and resends it after the hint.
            raise Unavailable(f"the store cannot write now ({error}); nothing of batch "
                              f"{sequence} was stored: resend it later",
                              retry_after_s=_store_retry_hint()) from None
        known.learn(decoded, held=self._store.has_series)
        self.stats.batches_stored += 1
        self.stats.samples_stored += result.stored
        self.stats.samples_skipped += result.skipped + decoded.gaps
        return sequence, ingest_pb2.Ack(samples_stored=result.stored,
                                        samples_skipped=result.skipped + decoded.gaps)

    def _decode_and_stage(self, request: bytes, node: str,
                          known: KnownKeys) -> tuple[int, DecodedBatch, AppendResult | None]:
        """In a worker thread: the batch checked and decoded, admitted, and with a store
        that stages (the embedded one) appended to memory; its commit is awaited after."""
        sequence, decoded = read_batch(request, node, self._limits, known, held=self._store.has_series)
        self._admit(node, decoded.new_keys)
        # A batch carrying descriptors (rare: a metric's first batch) is appended after
        # they are recorded: were they refused, none of its samples may be in memory.
        if self._staging is None or decoded.descriptors:
            return sequence, decoded, None
        return sequence, decoded, self._staging.append_to_memory(decoded.samples)

    async def _describe(self, descriptors: list[MetricDescriptor], sender: str, what: str) -> None:
        identity = current_identity.get()  # a node-bound credential may not redefine metrics
        try:
            await self.metadata.record(descriptors, sender, identity.node if identity else None)
        except CommitFailed as error:
            raise Unavailable(f"the store cannot write metric descriptors now ({error}); nothing of "
                              f"the {what} was stored: send it again later",
                              retry_after_s=_store_retry_hint()) from None

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
        self, requests: AsyncIterator[bytes], draining: asyncio.Future[Any], live: LiveStream | None,
        timeout_s: float, too_late: str,
    ) -> bytes | None:
        """The next request; None when the agent closed the stream. Raises Unavailable on
        drain (once `draining` is done), DeadlineExceeded after `timeout_s` without one,
        and what ended `live` (replaced by the agent's newer stream, its token revoked or
        expired).

        The read is awaited in this task, and a drain or the stream's end interrupts it by
        cancelling the task: a task made per request to race them cost the event loop as
        much as the read itself.
        """
        task = asyncio.current_task()
        assert task is not None
        stops = [draining] if live is None else [draining, live.ended]
        reading = True

        def interrupt(_: asyncio.Future[Any]) -> None:
            nonlocal reading
            if reading:  # not once the read returned (the request it got is served), nor twice
                reading = False
                task.cancel()

        for stop in stops:
            stop.add_done_callback(interrupt)
        answered = False
        request = None
        try:
            async with asyncio.timeout(timeout_s):
                request = await anext(requests, None)
            answered = True
        except TimeoutError:
            pass
        except asyncio.CancelledError:
            if not any(stop.done() for stop in stops):
                raise  # cancelled from elsewhere (the call ended)
            task.uncancel()
        finally:
            reading = False
            for stop in stops:
                stop.remove_done_callback(interrupt)
        # An ended stream stores nothing more, even if a message arrived at the same time.
        if live is not None and live.ended.done():
            raise live.ended.result()
        if answered:
            return request
        if draining.done():
            raise Unavailable("server is shutting down; reconnect", retry_after_s=0.0)
        raise DeadlineExceeded(too_late)
