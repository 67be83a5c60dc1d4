"""Client exceptions; gRPC failures are translated into them in one place.

    ClientError
    ├── ServerUnavailable   the server cannot be reached (or is shutting down)
    ├── InvalidRequest      the server refused the arguments (INVALID_ARGUMENT)
    ├── SeriesNotFound      no series matches the selector (NOT_FOUND)
    ├── FailedPrecondition  the question cannot be answered yet, e.g. too little history
    ├── NotAuthorized       no valid token, or one without the permission needed
    └── ServerError         anything else the server answered
"""

from __future__ import annotations

import grpc


class ClientError(Exception):
    """Base of every error the infracast client raises."""


class ServerUnavailable(ClientError):
    pass


class InvalidRequest(ClientError):
    pass


class SeriesNotFound(ClientError):
    pass


class FailedPrecondition(ClientError):
    pass


class NotAuthorized(ClientError):
    pass


class ServerError(ClientError):
    pass


def translate(error: grpc.RpcError, target: str) -> ClientError:
    code = error.code() if hasattr(error, "code") else None
    details = error.details() if hasattr(error, "details") else str(error)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return ServerUnavailable(f"cannot reach the infracast server at {target}: {details}")
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidRequest(details)
    if code == grpc.StatusCode.NOT_FOUND:
        return SeriesNotFound(details)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return FailedPrecondition(details)
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return NotAuthorized(f"{code.name.lower().replace('_', ' ')}: {details}")
    name = code.name if code is not None else "UNKNOWN"
    return ServerError(f"server answered {name}: {details}")
