"""How many RPCs are served at once: agent streams and everything else counted apart, and
health checks never counted.

grpc's own `maximum_concurrent_rpcs` counts every RPC alike and refuses the one over the
limit before looking at its method, so 3,000 streams that sent a hello and nothing else
made kubelet's health checks and real agents' streams fail with RESOURCE_EXHAUSTED. Here:

- `IngestService/Push` streams are limited to `max_streams` (one per agent: an agent's new
  stream replaces its old one, a stream without a hello or without batches is closed by
  the ingest service), refused with a RetryInfo hint so agents back off;
- `Health/Check` and `Health/List` are never counted: they are quick, and a probe refused
  for capacity makes kubelet restart a server that is merely busy;
- every other RPC (queries, status, reflection, Health/Watch streams) counts against
  `max_rpcs`.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from infracast.server.errors import retry_details

PUSH = "/infracast.v1.IngestService/Push"
UNCOUNTED = frozenset({"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/List"})
# A refused agent tries again after this, jittered up to twice as long so that a fleet
# refused at once does not come back at once (its own backoff is shorter).
STREAM_RETRY_S = 5.0
RPC_RETRY_S = 1.0


class _Slots:
    def __init__(self, limit: int, what: str, setting: str, retry_s: float) -> None:
        self.limit, self.used = limit, 0
        self.what, self.setting, self.retry_s = what, setting, retry_s

    def refusal(self) -> tuple[str, float]:
        """The message and the retry delay to send."""
        retry_s = round(self.retry_s * random.uniform(1.0, 2.0), 1)
        return (f"the server is serving {self.used} {self.what}, its limit ({self.setting}="
                f"{self.limit}); retry in {retry_s:g}s", retry_s)


class ConcurrencyLimitInterceptor(aio.ServerInterceptor):
    def __init__(self, max_streams: int, max_rpcs: int) -> None:
        self.streams = _Slots(max_streams, "agent streams", "INFRACAST_MAX_STREAMS", STREAM_RETRY_S)
        self.rpcs = _Slots(max_rpcs, "RPCs besides agent streams", "INFRACAST_MAX_CONCURRENT_RPCS",
                           RPC_RETRY_S)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or details.method in UNCOUNTED:
            return handler
        slots = self.streams if details.method == PUSH else self.rpcs
        return _limited(handler, slots)


async def _refuse(slots: _Slots, context: aio.ServicerContext) -> None:
    message, retry_s = slots.refusal()
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    await context.abort(code, message, trailing_metadata=retry_details(code, message, retry_s))


def _limited(handler: grpc.RpcMethodHandler, slots: _Slots) -> grpc.RpcMethodHandler:
    """The handler, holding one of `slots` while it runs, or refusing when none is free."""
    if handler.unary_unary:
        inner_unary = handler.unary_unary

        async def unary(request: Any, context: aio.ServicerContext) -> Any:
            if slots.used >= slots.limit:
                await _refuse(slots, context)
            slots.used += 1
            try:
                return await inner_unary(request, context)
            finally:
                slots.used -= 1

        return grpc.unary_unary_rpc_method_handler(unary, handler.request_deserializer,
                                                   handler.response_serializer)
    if handler.unary_stream or handler.stream_stream:
        inner = handler.unary_stream or handler.stream_stream

        async def stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            if slots.used >= slots.limit:
                await _refuse(slots, context)
            slots.used += 1
            try:
                # Every stream handler is an async generator here (server/rpc/write_streams.py).
                async for response in inner(request, context):
                    yield response
            finally:
                slots.used -= 1

        wrap = (grpc.unary_stream_rpc_method_handler if handler.unary_stream
                else grpc.stream_stream_rpc_method_handler)
        return wrap(stream, handler.request_deserializer, handler.response_serializer)
    return handler  # stream-unary: none is served
