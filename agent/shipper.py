"""The shipper owns the Push stream: sending, acknowledgements, the buffer and the backoff.

Every submitted batch gets the next sequence number and stays buffered until the
server acknowledges a sequence at least as high. After a reconnect, everything
still buffered is sent again (the server stores idempotently, so a resend never
duplicates). The buffer is bounded in batches and bytes: when full, the oldest
batch is dropped and counted, so sampling never blocks and memory never grows
without bound. With a spool, the buffer is also on disk and survives a restart.

Metric descriptors (type, unit, help) go once per metric per stream: every stream's hello
carries all those known when it opens (reconnects included), and a batch written later
carries those described since. They are never part of a buffered or spooled batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
from grpc import aio

from infracast.agent.backoff import Backoff
from infracast.common.channels import TlsOptions, open_aio_channel
from infracast.v1 import ingest_pb2, ingest_pb2_grpc, series_pb2

if TYPE_CHECKING:  # sqlite3 is imported only by agents that spool
    from infracast.agent.spool import Spool

log = logging.getLogger(__name__)

# The server refused the batch itself: resending it can never succeed.
DROP_BATCH_CODES = frozenset({grpc.StatusCode.INVALID_ARGUMENT})
# A server that answers but refuses the stream, each a state of its own in the log; any
# other failure is the one state UNREACHABLE (gone, restarting, a connection broken mid-
# write, which grpc's client reports as "INTERNAL: Internal error from Core").
REFUSALS = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
                      grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNIMPLEMENTED,
                      grpc.StatusCode.FAILED_PRECONDITION})
UNREACHABLE = "unreachable"

# No HTTP/2 BDP probing on the agent's channel. The probe only sizes the window for what the
# agent receives (small acks); what it sends is paced by the server's window, so it bought
# nothing here, yet its pings kept grpc's event-engine threads waking ~20 times a second on
# an idle stream. Without it, 3 side-by-side runs of bench/agent_threads.py at a 10 s
# interval: event-engine wake-ups 18.6-27.2/s -> 11.3-12.9/s, agent CPU per collection
# 0.66x-0.76x of the agent with it.
AGENT_CHANNEL_OPTIONS: tuple[tuple[str, Any], ...] = (("grpc.http2.bdp_probe", 0),)


@dataclass
class ShipperStats:
    batches_acked: int = 0
    samples_acked: int = 0
    batches_dropped: int = 0
    samples_dropped: int = 0
    batches_rejected: int = 0
    reconnects: int = 0


def retry_hint_s(error: aio.AioRpcError) -> float | None:
    """The server's google.rpc.RetryInfo delay, if its status carries one."""
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        # Imported here: only a server that pushes back needs them (1 MiB of RSS otherwise).
        from google.rpc import error_details_pb2, status_pb2

        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                hint = error_details_pb2.RetryInfo()
                detail.Unpack(hint)
                return hint.retry_delay.ToNanoseconds() / 1e9
    return None


class Shipper:
    def __init__(
        self,
        target: str,
        hello: ingest_pb2.Hello,
        *,
        max_buffered_batches: int = 360,
        max_buffered_bytes: int = 64 * 1024 * 1024,
        max_in_flight: int = 16,
        backoff: Backoff | None = None,
        spool: Spool | None = None,
        tls: TlsOptions | None = None,
        token_file: Path | None = None,
        channel_options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self.target = target
        self.hello = hello
        self.max_buffered_batches = max_buffered_batches
        self.max_buffered_bytes = max_buffered_bytes
        self.spool = spool
        self.tls = tls
        self.token_file = token_file
        self.channel_options = (*AGENT_CHANNEL_OPTIONS, *channel_options)  # the caller's win
        self.max_in_flight = max_in_flight
        self.backoff = backoff or Backoff()
        self.stats = ShipperStats()
        self.acked_sequence = 0
        self.connected = False
        # Called with each acknowledged batch (tests and benchmarks record them).
        self.on_acked: Callable[[ingest_pb2.Batch], None] | None = None
        self._pending: deque[ingest_pb2.Batch] = deque()
        # Metric name -> descriptor, in the order described; the open stream has sent the
        # first _described_on_stream of them.
        self._descriptors: dict[str, series_pb2.MetricDescriptor] = {}
        self._described_on_stream = 0
        self._pending_bytes = 0
        self._next_sequence = 1
        self._changed = asyncio.Event()
        self._closing = False
        # The connection's state, logged once per change: (UNREACHABLE or a refusal's code,
        # since when), or
        # None while acks arrive (and before the first attempt).
        self._down: tuple[str, float] | None = None
        self._failures = 0  # attempts failed since the stream was last up
        self._ever_up = False
        if spool is not None:
            for batch in spool.load():  # batches a previous run never got acknowledged
                self._pending.append(batch)
                self._pending_bytes += batch.ByteSize()
            if self._pending:
                self._next_sequence = self._pending[-1].sequence + 1
                log.info("resending %d spooled batches", len(self._pending))

    @property
    def buffered_batches(self) -> int:
        return len(self._pending)

    def describe(self, descriptors: list[series_pb2.MetricDescriptor]) -> None:
        """Metric descriptors to send: in the hello of every later stream, and on the open
        stream with its next batch. A metric described again keeps its place and new text."""
        for descriptor in descriptors:
            self._descriptors[descriptor.metric] = descriptor

    def _hello_with_descriptors(self) -> ingest_pb2.Hello:
        hello = ingest_pb2.Hello()
        hello.CopyFrom(self.hello)
        hello.metrics.extend(self._descriptors.values())
        self._described_on_stream = len(self._descriptors)
        return hello

    def submit(self, series: list[series_pb2.SeriesSamples]) -> int:
        """Queue samples for sending; never blocks. Returns the batch's sequence number."""
        return self.submit_batch(ingest_pb2.Batch(series=series))

    def submit_batch(self, batch: ingest_pb2.Batch) -> int:
        """Queue a batch (its sequence is set here); never blocks. Returns the sequence number."""
        batch.sequence = self._next_sequence
        self._next_sequence += 1
        self._pending.append(batch)
        self._pending_bytes += batch.ByteSize()
        if self.spool is not None:
            self.spool.add(batch)
        while len(self._pending) > 1 and (len(self._pending) > self.max_buffered_batches
                                          or self._pending_bytes > self.max_buffered_bytes):
            oldest = self._popleft()
            self.stats.batches_dropped += 1
            self.stats.samples_dropped += sum(len(s.values) for s in oldest.series)
            if self.spool is not None:
                self.spool.remove(oldest.sequence)
            log.warning("buffer full: dropped batch %d (%d dropped so far)", oldest.sequence,
                        self.stats.batches_dropped)
        self._changed.set()
        return batch.sequence

    def _popleft(self) -> ingest_pb2.Batch:
        batch = self._pending.popleft()
        self._pending_bytes -= batch.ByteSize()
        return batch

    async def flush(self, timeout: float) -> bool:
        """Wait until every submitted batch is acknowledged; False on timeout."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._pending:
                    await self._wait_for_change()
                return True
        return not self._pending

    async def run(self) -> None:
        """Keep a stream open until close(); reconnect with backoff when it breaks."""
        while not self._closing:
            delay = 0.0
            try:
                await self._session()
            except aio.AioRpcError as error:
                delay = self._after_error(error)
            except Exception as error:
                # A broken stream surfaces in several shapes; none may stop the shipping.
                delay = self.backoff.next_delay()
                self._went_down(UNREACHABLE, str(error) or type(error).__name__, delay)
            finally:
                self.connected = False
            if self._closing:
                break
            self.stats.reconnects += 1
            if delay:
                await self._sleep(delay)

    async def close(self) -> None:
        self._closing = True
        self._changed.set()

    def _after_error(self, error: aio.AioRpcError) -> float:
        code = error.code()
        if code in DROP_BATCH_CODES and self._pending:
            rejected = self._popleft()
            if self.spool is not None:
                self.spool.remove(rejected.sequence)
            self.stats.batches_rejected += 1
            log.error("server rejected batch %d, dropping it: %s", rejected.sequence, error.details())
            return 0.0
        if code == grpc.StatusCode.CANCELLED and self._closing:
            return 0.0
        hint = retry_hint_s(error)
        delay = self.backoff.next_delay() if hint is None else hint
        self._went_down(code.name if code in REFUSALS else UNREACHABLE, f"{code.name}: {error.details()}",
                        delay, hinted=hint is not None)
        return delay

    def _went_down(self, state: str, reason: str, delay: float, hinted: bool = False) -> None:
        """Log the loss of the stream once, and again only if its state changes (from
        unreachable to refused, say); each retry alone is a debug line (a server away for
        an hour is one warning, not 700 tracebacks)."""
        self._failures += 1
        how = (f"retrying in {delay:.1f}s as the server asked" if hinted else
               f"retrying with backoff ({delay:.1f}s, growing to {self.backoff.maximum:g}s)")
        if self._down is not None and self._down[0] == state:
            log.debug("attempt %d to reach %s failed (%s); %s", self._failures, self.target, reason, how)
            return
        if self._down is not None:
            what = "still no stream to"
        else:
            what = "lost the stream to" if self._ever_up else "cannot open a stream to"
        self._down = (state, self._down[1] if self._down else time.monotonic())
        log.warning("%s %s (%s); %s", what, self.target, reason, how)

    def _came_up(self) -> None:
        if self._down is not None:
            log.info("%s %s after %.1fs and %d failed attempts",
                     "reconnected to" if self._ever_up else "connected to", self.target,
                     time.monotonic() - self._down[1], self._failures)
        elif not self._ever_up:
            log.info("connected to %s", self.target)
        self._down, self._failures, self._ever_up = None, 0, True

    async def _session(self) -> None:
        async with open_aio_channel(self.target, self.tls, self.channel_options) as channel:
            call = ingest_pb2_grpc.IngestServiceStub(channel).Push(metadata=self._metadata())
            reader = asyncio.create_task(self._read_acks(call))
            try:
                await self._write(call, ingest_pb2.PushRequest(hello=self._hello_with_descriptors()), reader)
                await self._write_batches(call, reader)
            finally:
                if not reader.done():
                    reader.cancel()
                    call.cancel()
                # The reader's error is the stream's, raised above already (or moot once the
                # writer failed): retrieved here so that asyncio does not log it again as
                # "Task exception was never retrieved" with its traceback.
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader

    async def _write_batches(self, call: aio.StreamStreamCall, reader: asyncio.Task) -> None:
        sent = self.acked_sequence
        while not self._closing:
            if reader.done():
                reader.result()  # raises the stream's error
                return
            # Pending batches are in sequence order and the sent ones come first; at most
            # max_in_flight of them, so this scan stays short however long the backlog.
            in_flight = 0
            while in_flight < len(self._pending) and self._pending[in_flight].sequence <= sent:
                in_flight += 1
            if in_flight < len(self._pending) and in_flight < self.max_in_flight:
                batch = self._pending[in_flight]
                request = ingest_pb2.PushRequest(batch=batch)  # a copy: the buffered batch stays as is
                if len(self._descriptors) > self._described_on_stream:
                    request.batch.metrics.extend(list(self._descriptors.values())[self._described_on_stream:])
                    self._described_on_stream = len(self._descriptors)
                await self._write(call, request, reader)
                sent = batch.sequence
                continue
            await self._wait_for_change(reader)
        with contextlib.suppress(aio.AioRpcError, asyncio.InvalidStateError):
            await call.done_writing()

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        """The bearer token, read afresh for every stream so a rotated token is picked up."""
        if self.token_file is None:
            return ()
        return (("authorization", f"Bearer {self.token_file.read_text().strip()}"),)

    @staticmethod
    async def _write(call: aio.StreamStreamCall, request: ingest_pb2.PushRequest,
                     reader: asyncio.Task) -> None:
        try:
            await call.write(request)
        except (asyncio.InvalidStateError, aio.AioRpcError):
            # The server ended the RPC between our writes; its status (read by the
            # reader) says why, e.g. INVALID_ARGUMENT for the batch it refused, where the
            # failed write says only "INTERNAL: Internal error from Core".
            await reader
            raise ConnectionError("the server ended the stream") from None

    async def _read_acks(self, call: aio.StreamStreamCall) -> None:
        async for response in call:
            highest = response.ack.highest_sequence
            if not self.connected:
                self._came_up()
            self.connected = True
            self.backoff.reset()
            while self._pending and self._pending[0].sequence <= highest:
                batch = self._popleft()
                self.stats.batches_acked += 1
                self.stats.samples_acked += sum(len(s.values) for s in batch.series)
                if self.on_acked is not None:
                    self.on_acked(batch)
            if self.spool is not None:
                self.spool.remove_through(highest)
            self.acked_sequence = max(self.acked_sequence, highest)
            self._changed.set()
        raise ConnectionError("server closed the stream")

    async def _wait_for_change(self, reader: asyncio.Task | None = None) -> None:
        self._changed.clear()
        waiter = asyncio.create_task(self._changed.wait())
        waits = {waiter} | ({reader} if reader is not None else set())
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while not self._closing:
                    self._changed.clear()
                    await self._changed.wait()
