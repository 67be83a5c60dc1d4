"""How the server reads requests: bytes that do not decode become INVALID_ARGUMENT (gRPC
itself would answer UNKNOWN), and a request stream is read so that it pins nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grpc import aio

from infracast.server.errors import InvalidArgument


class Undecodable:
    """Stands in for a request whose bytes did not decode, so the handler can refuse it
    with INVALID_ARGUMENT (gRPC itself would answer UNKNOWN)."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as error:  # protobuf raises DecodeError and a few others
            return Undecodable(error)

    return deserialize


def refuse_undecodable(request: Any) -> None:
    if isinstance(request, Undecodable):
        raise InvalidArgument(f"the request could not be decoded: {request.error}")


class Requests:
    """The request stream, read with context.read() rather than grpc's own iterator: that
    iterator's frame keeps the last message alive until the next one arrives, so a
    thousand quiet agent streams would each pin their last batch (measured: 72 MiB).
    A plain __anext__ (not a generator) keeps nothing once it has returned."""

    def __init__(self, context: aio.ServicerContext) -> None:
        self._context = context

    def __aiter__(self) -> Requests:
        return self

    async def __anext__(self) -> Any:
        request = await self._context.read()
        if request is aio.EOF:
            raise StopAsyncIteration
        refuse_undecodable(request)
        return request
