"""Client exceptions; gRPC failures are translated into them in one place.

    ClientError              every error keeps .code (grpc.StatusCode), .message, .details
    ├── ServerUnavailable    the server cannot be reached or is shutting down (UNAVAILABLE)
    ├── TimedOut             no answer within the deadline (DEADLINE_EXCEEDED)
    ├── InvalidRequest       the server refused the arguments (INVALID_ARGUMENT)
    ├── SeriesNotFound       no series matches the selector (NOT_FOUND)
    ├── FailedPrecondition   the question cannot be answered yet, e.g. too little history
    ├── RateLimited          too many requests or a limit reached (RESOURCE_EXHAUSTED)
    ├── NotAuthorized        no valid token, or one without the permission needed
    └── ServerError          anything else the server answered

`details` holds the parsed google.rpc status details the server sent (e.g. RetryInfo);
`retry_after_s` is the server's retry hint, None when it gave none. The mapping follows
python-api-core's from_grpc_error.
"""

from __future__ import annotations

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

_DETAIL_TYPES = (error_details_pb2.RetryInfo, error_details_pb2.ErrorInfo, error_details_pb2.BadRequest,
                 error_details_pb2.QuotaFailure, error_details_pb2.PreconditionFailure,
                 error_details_pb2.ResourceInfo, error_details_pb2.DebugInfo)


class ClientError(Exception):
    """Base of every error the infracast client raises."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None,
                 details: tuple = ()) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details

    @property
    def retry_after_s(self) -> float | None:
        for detail in self.details:
            if isinstance(detail, error_details_pb2.RetryInfo):
                return detail.retry_delay.ToNanoseconds() / 1e9
        return None


class ServerUnavailable(ClientError):
    pass


class TimedOut(ClientError):
    pass


class InvalidRequest(ClientError):
    pass


class SeriesNotFound(ClientError):
    pass


class FailedPrecondition(ClientError):
    pass


class RateLimited(ClientError):
    pass


class NotAuthorized(ClientError):
    pass


class ServerError(ClientError):
    pass


_BY_CODE: dict[grpc.StatusCode, type[ClientError]] = {
    grpc.StatusCode.UNAVAILABLE: ServerUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: TimedOut,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidRequest,
    grpc.StatusCode.NOT_FOUND: SeriesNotFound,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RateLimited,
    grpc.StatusCode.UNAUTHENTICATED: NotAuthorized,
    grpc.StatusCode.PERMISSION_DENIED: NotAuthorized,
}


def status_details(error: grpc.RpcError) -> tuple:
    """The google.rpc status details in the error's trailing metadata, parsed."""
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status()
        try:
            status.ParseFromString(value)
        except DecodeError:
            return ()
        parsed = []
        for detail in status.details:
            for kind in _DETAIL_TYPES:
                if detail.Is(kind.DESCRIPTOR):
                    message = kind()
                    detail.Unpack(message)
                    parsed.append(message)
        return tuple(parsed)
    return ()


def translate(error: grpc.RpcError, target: str, timeout_s: float | None = None) -> ClientError:
    code = error.code() if hasattr(error, "code") else None
    details = error.details() if hasattr(error, "details") else str(error)
    parsed = status_details(error)
    kind = _BY_CODE.get(code, ServerError) if code is not None else ServerError
    if kind is ServerUnavailable:
        message = f"cannot reach the infracast server at {target}: {details}"
    elif kind is TimedOut:
        limit = f" within {timeout_s:g}s" if timeout_s else ""
        message = f"the infracast server at {target} did not answer{limit} (timed out): {details}"
    elif kind is NotAuthorized:
        assert code is not None
        message = f"{code.name.lower().replace('_', ' ')}: {details}"
    elif kind is ServerError:
        message = f"server answered {code.name if code is not None else 'UNKNOWN'}: {details}"
    else:
        message = details or ""
    return kind(message, code, parsed)
