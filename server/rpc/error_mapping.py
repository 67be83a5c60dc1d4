"""The one place domain errors become gRPC statuses: every handler is wrapped so an
InfracastError subclass aborts with its code, its message (capped) and any retry hint,
and anything else with INTERNAL and a logged traceback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from infracast.server.errors import InfracastError, capped, retry_details
from infracast.server.rpc.request_stream import Requests, refuse_undecodable, tolerant

log = logging.getLogger(__name__)


async def _abort_for(error: BaseException, context: aio.ServicerContext, method: str) -> None:
    if isinstance(error, InfracastError) and type(error) is not InfracastError:
        message = capped(str(error))
        trailing = (() if error.retry_after_s is None
                    else retry_details(error.code, message, error.retry_after_s))
        await context.abort(error.code, message, trailing_metadata=trailing)
    log.error("unexpected error in %s", method, exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error; the server log has details")


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
                    refuse_undecodable(request)
                    return await inner_unary(request, context)
                except Exception as error:
                    if _is_abort(error):
                        raise
                    await _abort_for(error, context, method)

            return grpc.unary_unary_rpc_method_handler(
                unary,
                request_deserializer=tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            inner_server_stream = handler.unary_stream

            async def server_stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
                try:
                    refuse_undecodable(request)
                    async for response in inner_server_stream(request, context):
                        yield response
                except Exception as error:
                    if _is_abort(error):
                        raise
                    await _abort_for(error, context, method)

            return grpc.unary_stream_rpc_method_handler(
                server_stream,
                request_deserializer=tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream:
            inner_stream = handler.stream_stream

            async def stream(
                requests: AsyncIterator[Any], context: aio.ServicerContext
            ) -> AsyncIterator[Any]:
                try:
                    # Write-style handlers reach here as generators (server/rpc/write_streams.py).
                    # grpc's `requests` iterator is left unread: see request_stream.Requests.
                    async for response in inner_stream(Requests(context), context):
                        yield response
                except Exception as error:
                    if _is_abort(error):
                        raise
                    await _abort_for(error, context, method)

            return grpc.stream_stream_rpc_method_handler(
                stream,
                request_deserializer=tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        return handler
