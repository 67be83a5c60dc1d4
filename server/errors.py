"""Domain errors and the one place that maps them to gRPC status codes.

    InfracastError            INTERNAL (generic message to the client, traceback logged)
    ├── InvalidArgument       INVALID_ARGUMENT
    ├── NotFound              NOT_FOUND
    ├── FailedPrecondition    FAILED_PRECONDITION
    ├── PermissionDenied      PERMISSION_DENIED
    ├── Unauthenticated       UNAUTHENTICATED
    ├── ResourceExhausted     RESOURCE_EXHAUSTED
    ├── Aborted               ABORTED
    ├── DeadlineExceeded      DEADLINE_EXCEEDED
    └── Unavailable           UNAVAILABLE

Servicers raise these; ErrorMappingInterceptor turns them into statuses, so a
handler never builds a status itself and an unexpected exception never leaks
its internals to a client.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc import aio

log = logging.getLogger(__name__)

# Text a client sent is echoed in messages at most this long; a whole status message at
# most MAX_MESSAGE_CHARS. A status travels as HTTP/2 metadata, which clients limit (8 KiB
# by default): a megabyte selector echoed in full came back as a metadata-size error.
ECHO_CHARS = 100
MAX_MESSAGE_CHARS = 1000


def quoted(text: str, limit: int = ECHO_CHARS, quotes: bool = True) -> str:
    """Client-sent text for an error message: quoted (unless told not to), and cut to
    `limit` characters with its full length said."""
    if len(text) <= limit:
        return repr(text) if quotes else text
    cut = text[:limit]
    return (repr(cut) if quotes else cut) + f"... ({len(text)} characters)"


def capped(message: str) -> str:
    """A status message no longer than MAX_MESSAGE_CHARS, whatever echoes it holds."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 40] + f"... (message cut from {len(message)} characters)"


class InfracastError(Exception):
    code = grpc.StatusCode.INTERNAL

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        # Sent as google.rpc.RetryInfo in the status details, which clients honour.
        self.retry_after_s = retry_after_s


class InvalidArgument(InfracastError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(InfracastError):
    code = grpc.StatusCode.NOT_FOUND


class FailedPrecondition(InfracastError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(InfracastError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(InfracastError):
    code = grpc.StatusCode.UNAUTHENTICATED


class Aborted(InfracastError):
    code = grpc.StatusCode.ABORTED


class DeadlineExceeded(InfracastError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class ResourceExhausted(InfracastError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(InfracastError):
    code = grpc.StatusCode.UNAVAILABLE


def retry_details(code: grpc.StatusCode, message: str, retry_after_s: float) -> tuple:
    """Trailing metadata carrying a google.rpc.Status with RetryInfo."""
    hint = error_details_pb2.RetryInfo()
    hint.retry_delay.FromNanoseconds(round(retry_after_s * 1e9))
    detail = any_pb2.Any()
    detail.Pack(hint)
    status = status_pb2.Status(code=code.value[0], message=message, details=[detail])
    return (("grpc-status-details-bin", status.SerializeToString()),)


async def _abort_for(error: BaseException, context: aio.ServicerContext, method: str) -> None:
    if isinstance(error, InfracastError) and type(error) is not InfracastError:
        message = capped(str(error))
        trailing = (() if error.retry_after_s is None
                    else retry_details(error.code, message, error.retry_after_s))
        await context.abort(error.code, message, trailing_metadata=trailing)
    log.error("unexpected error in %s", method, exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error; the server log has details")


class _Undecodable:
    """Stands in for a request whose bytes did not decode, so the handler can refuse it
    with INVALID_ARGUMENT (gRPC itself would answer UNKNOWN)."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as error:  # protobuf raises DecodeError and a few others
            return _Undecodable(error)

    return deserialize


def _refuse_undecodable(request: Any) -> None:
    if isinstance(request, _Undecodable):
        raise InvalidArgument(f"the request could not be decoded: {request.error}")


class _Requests:
    """The request stream, read with context.read() rather than grpc's own iterator: that
    iterator's frame keeps the last message alive until the next one arrives, so a
    thousand quiet agent streams would each pin their last batch (measured: 72 MiB).
    A plain __anext__ (not a generator) keeps nothing once it has returned."""

    def __init__(self, context: aio.ServicerContext) -> None:
        self._context = context

    def __aiter__(self) -> _Requests:
        return self

    async def __anext__(self) -> Any:
        request = await self._context.read()
        if request is aio.EOF:
            raise StopAsyncIteration
        _refuse_undecodable(request)
        return request


def _is_abort(error: BaseException) -> bool:
    # context.abort() raises this to end the RPC; it must pass through untouched.
    return isinstance(error, aio.AbortError)


class ErrorMappingInterceptor(aio.ServerInterceptor):
    """Wraps every handler so domain errors become statuses with their messages."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        if handler.unary_unary:
            inner_unary = handler.unary_unary

            async def unary(request: Any, context: aio.ServicerContext) -> Any:
                try:
                    _refuse_undecodable(request)
                    return await inner_unary(request, context)
                except Exception as error:
                    if _is_abort(error):
                        raise
                    await _abort_for(error, context, method)

            return grpc.unary_unary_rpc_method_handler(
                unary,
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            inner_server_stream = handler.unary_stream

            async def server_stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
                try:
                    _refuse_undecodable(request)
                    async for response in inner_server_stream(request, context):
                        yield response
                except Exception as error:
                    if _is_abort(error):
                        raise
                    await _abort_for(error, context, method)

            return grpc.unary_stream_rpc_method_handler(
                server_stream,
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream:
            inner_stream = handler.stream_stream

            async def stream(
                requests: AsyncIterator[Any], context: aio.ServicerContext
            ) -> AsyncIterator[Any]:
                try:
                    # Write-style handlers reach here as generators (server/write_streams.py).
                    # grpc's `requests` iterator is left unread: see _Requests.
                    async for response in inner_stream(_Requests(context), context):
                        yield response
                except Exception as error:
                    if _is_abort(error):
                        raise
                    await _abort_for(error, context, method)

            return grpc.stream_stream_rpc_method_handler(
                stream,
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        return handler
