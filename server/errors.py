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

Servicers raise these; ErrorMappingInterceptor (error_mapping.py) turns them into
statuses with the code each class carries, so a handler never builds a status itself
and an unexpected exception never leaks its internals to a client.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

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
