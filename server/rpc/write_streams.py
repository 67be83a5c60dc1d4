"""Streaming handlers that answer with `await context.write(...)` turned into async generators.

grpc.aio allows both styles for a response stream, but interceptors that wrap the
handler (OpenTelemetry's among them: open-telemetry/opentelemetry-python-contrib#3066,
grpc/grpc#28728) expect an async generator and fail with "'async for' requires an object
with __aiter__ method, got coroutine". grpc_health's Health.Watch is written in the
write style, so without this adapter Watch answers UNKNOWN. Installed innermost, it lets
every other interceptor see generators only.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc import aio


class _WriteCapture:
    """The servicer context, except that write() hands each message to the generator."""

    def __init__(self, context: aio.ServicerContext, messages: asyncio.Queue) -> None:
        self._context = context
        self._messages = messages

    async def write(self, message: Any) -> None:
        await self._messages.put(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _as_generator(behavior: Callable[..., Any]) -> Callable[..., AsyncIterator[Any]]:
    async def generator(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
        messages: asyncio.Queue = asyncio.Queue(maxsize=1)  # a write waits until the last was sent
        task = asyncio.ensure_future(behavior(request, _WriteCapture(context, messages)))
        try:
            while True:
                getter = asyncio.ensure_future(messages.get())
                done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                yield getter.result()
            while not messages.empty():  # written just before the handler returned
                yield messages.get_nowait()
            task.result()  # raises what the handler raised
        finally:
            task.cancel()

    return generator


class WriteStreamsAsGenerators(aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        if handler.unary_stream and not inspect.isasyncgenfunction(handler.unary_stream):
            return grpc.unary_stream_rpc_method_handler(
                _as_generator(handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.stream_stream and not inspect.isasyncgenfunction(handler.stream_stream):
            return grpc.stream_stream_rpc_method_handler(
                _as_generator(handler.stream_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        return handler
