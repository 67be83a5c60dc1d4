"""Per-client rate limits on queries: a token bucket per caller.

The caller is its token's identity when authentication is on, else its address.
A call that finds the bucket empty gets RESOURCE_EXHAUSTED with a google.rpc.RetryInfo
saying when a token will be there. Health checks and ingest streams are not limited
(agents are bounded by their own batching and by the server's flow control).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from infracast.server.errors import retry_details
from infracast.server.security.auth import OPEN_SERVICES, current_identity

MAX_CALLERS = 100_000


class TokenBuckets:
    """rate tokens per second up to burst, one bucket per caller (least recently used dropped)."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, caller: str) -> float:
        """0 if a call may proceed now, else the seconds until it may."""
        now = self._clock()
        tokens, last = self._buckets.pop(caller, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[caller] = (tokens, now)
        while len(self._buckets) > MAX_CALLERS:
            self._buckets.popitem(last=False)
        return wait


def caller_of(context: aio.ServicerContext) -> str:
    identity = current_identity.get()
    if identity is not None:
        return identity.name
    peer = context.peer() or "unknown"
    return peer.rsplit(":", 1)[0]  # the address without the port: one bucket per host


class RateLimitInterceptor(aio.ServerInterceptor):
    def __init__(self, buckets: TokenBuckets) -> None:
        self._buckets = buckets

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or not handler.unary_unary or details.method.startswith(OPEN_SERVICES):
            return handler
        inner = handler.unary_unary
        buckets = self._buckets

        async def limited(request: Any, context: aio.ServicerContext) -> Any:
            wait = buckets.take(caller_of(context))
            if wait > 0:
                message = (f"rate limit of {buckets.rate:g} calls/s (burst {buckets.burst:g}) reached; "
                           f"retry in {wait:.2f}s")
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, message,
                                    trailing_metadata=retry_details(
                                        grpc.StatusCode.RESOURCE_EXHAUSTED, message, wait))
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(limited, handler.request_deserializer,
                                                   handler.response_serializer)
