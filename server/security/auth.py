"""Bearer-token authentication and per-service permissions, as one interceptor.

Tokens live in a file (a Kubernetes Secret mounted as a file works), one per line:

    <token> <permissions> [node]      # permissions: ingest, query, or ingest,query

`ingest` allows IngestService, `query` ForecastService and StatusService; health and
reflection need no token. A token bound to a node may only push that node's
series. The file is re-read when it changes, so tokens rotate without a restart, and an
agent stream opened with a token the new file revokes (or takes the ingest permission or
the node from) is ended with UNAUTHENTICATED; a stream opened with a projected token ends
when the token expires.
With INFRACAST_AGENT_SERVICE_ACCOUNT, an ingest token that is not in the file may be an
agent pod's projected service-account token: server/security/token_review.py asks Kubernetes whose
it is and binds it to the pod's node.
Refusals are audit-logged with the method, the peer and the reason, never the token.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc import aio

from infracast.server.security.token_review import ReviewUnavailable, TokenReviewer, token_expiry

audit = logging.getLogger("infracast.audit")

PERMISSIONS = ("ingest", "query")
RELOAD_EVERY_S = 2.0
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
REQUIRED = {"/infracast.v1.IngestService/": "ingest", "/infracast.v1.ForecastService/": "query",
            "/infracast.v1.StatusService/": "query"}


@dataclass(frozen=True)
class Identity:
    name: str  # a short digest of the token, safe to log
    permissions: frozenset[str]
    node: str | None
    # Where a stream finds its token again to re-check it: the tokens file's entry
    # (by the token's full digest), or a reviewed projected token valid until its expiry.
    digest: str = field(default="", repr=False)
    reviewed: bool = False
    expires_at: float | None = None  # epoch seconds (a projected token's "exp")


# The caller of the RPC being served (None when authentication is off).
current_identity: contextvars.ContextVar[Identity | None] = contextvars.ContextVar(
    "current_identity", default=None)


class TokenFileError(ValueError):
    pass


def parse_tokens(text: str, source: str = "tokens file") -> dict[str, Identity]:
    tokens: dict[str, Identity] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) not in (2, 3):
            raise TokenFileError(f"{source} line {number}: expected '<token> <permissions> [node]'")
        token, permissions = fields[0], frozenset(fields[1].split(","))
        unknown = permissions - set(PERMISSIONS)
        if unknown:
            raise TokenFileError(f"{source} line {number}: unknown permission {sorted(unknown)[0]!r}; "
                                 f"use {', '.join(PERMISSIONS)}")
        if len(token) < 16:
            raise TokenFileError(f"{source} line {number}: tokens must be at least 16 characters")
        digest = hashlib.sha256(token.encode()).hexdigest()
        tokens[token] = Identity("token-" + digest[:8], permissions,
                                 fields[2] if len(fields) == 3 else None, digest)
    return tokens


class TokenStore:
    """The tokens of a file, re-read when its modification time changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tokens = parse_tokens(path.read_text(), str(path))
        self._by_digest = {identity.digest: identity for identity in self._tokens.values()}
        self._mtime = os.stat(path).st_mtime_ns
        self._checked = time.monotonic()
        self.generation = 0  # counts the reloads, so watchers see a change however it came

    def lookup(self, token: str) -> Identity | None:
        self.reload_if_due()
        return self._tokens.get(token)

    def current(self, identity: Identity) -> Identity | None:
        """What the file says now of the token `identity` was found for (None: revoked)."""
        return self._by_digest.get(identity.digest)

    def reload_if_due(self) -> None:
        now = time.monotonic()
        if now - self._checked < RELOAD_EVERY_S:
            return
        self._checked = now
        try:
            mtime = os.stat(self.path).st_mtime_ns
            if mtime != self._mtime:
                self._tokens = parse_tokens(self.path.read_text(), str(self.path))
                self._by_digest = {identity.digest: identity for identity in self._tokens.values()}
                self._mtime = mtime
                self.generation += 1
                audit.info("reloaded %d tokens from %s", len(self._tokens), self.path)
        except (OSError, TokenFileError) as error:  # keep the last good tokens
            audit.error("cannot reload tokens from %s: %s", self.path, error)


def _refusal(handler: grpc.RpcMethodHandler, code: grpc.StatusCode, message: str) -> grpc.RpcMethodHandler:
    async def refuse(request, context: aio.ServicerContext):
        await context.abort(code, message)

    async def refuse_stream(requests, context: aio.ServicerContext):
        await context.abort(code, message)
        yield  # never reached: makes this a stream handler like the one it replaces

    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(refuse, handler.request_deserializer,
                                                   handler.response_serializer)
    if handler.unary_stream:  # e.g. KEDA's StreamIsActive
        return grpc.unary_stream_rpc_method_handler(refuse_stream, handler.request_deserializer,
                                                    handler.response_serializer)
    if handler.stream_stream:
        return grpc.stream_stream_rpc_method_handler(refuse_stream, handler.request_deserializer,
                                                     handler.response_serializer)
    return handler


class AuthInterceptor(aio.ServerInterceptor):
    """`kubernetes_agents`: ingest tokens not in the file are agents' service-account tokens,
    checked by `reviewer` (server/security/token_review.py) once the cluster connection sets it."""

    def __init__(self, tokens: TokenStore, kubernetes_agents: bool = False) -> None:
        self._tokens = tokens
        self._kubernetes_agents = kubernetes_agents
        self.reviewer: TokenReviewer | None = None

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method = details.method
        if handler is None or method.startswith(OPEN_SERVICES):
            return handler
        needed = next((p for prefix, p in REQUIRED.items() if method.startswith(prefix)), "query")
        metadata = dict(details.invocation_metadata or ())
        header = metadata.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        identity = self._tokens.lookup(token) if token else None
        reason = "no bearer token" if not token else "unknown token"
        if identity is None and token and needed == "ingest" and self._kubernetes_agents:
            if self.reviewer is None:
                return _refusal(handler, grpc.StatusCode.UNAVAILABLE,
                                "the server is not connected to the Kubernetes API yet; retry")
            try:
                agent, reason = await asyncio.to_thread(self.reviewer.agent, token)
            except ReviewUnavailable as error:
                audit.error("cannot review a token for %s: %s", method, error)
                return _refusal(handler, grpc.StatusCode.UNAVAILABLE,
                                f"cannot verify the token with the Kubernetes API now ({error}); retry")
            expires_at = token_expiry(token)
            if agent is not None and expires_at is not None and expires_at <= time.time():
                agent, reason = None, "the token has expired"  # its review may be cached
            if agent is not None:
                identity = Identity(agent.name, frozenset({"ingest"}), agent.node,
                                    reviewed=True, expires_at=expires_at)
        if identity is None:
            audit.warning("refused %s: %s", method, reason)
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED,
                            f"{reason}: send 'authorization: Bearer <token>'")
        if needed not in identity.permissions:
            audit.warning("refused %s for %s: lacks %s permission", method, identity.name, needed)
            return _refusal(handler, grpc.StatusCode.PERMISSION_DENIED,
                            f"this token lacks the {needed} permission")
        current_identity.set(identity)
        return handler

    def revocation(self, identity: Identity) -> str | None:
        """Why a stream opened as `identity` may push no more since the tokens file changed,
        or None. Reviewed tokens are not in the file: they end at their expiry instead."""
        if identity.reviewed:
            return None
        now = self._tokens.current(identity)
        if now is None:
            return "the token was revoked"
        if "ingest" not in now.permissions:
            return "the token no longer has the ingest permission"
        if now.node != identity.node:
            return f"the token is now bound to node {now.node!r}"
        return None

    async def watch_tokens(self, on_change: Callable[[], object]) -> None:
        """Re-read the tokens file every RELOAD_EVERY_S and call `on_change` when it changed
        (however the reload came about), so open streams re-check their tokens."""
        seen = self._tokens.generation
        while True:
            await asyncio.sleep(RELOAD_EVERY_S)
            self._tokens.reload_if_due()
            if self._tokens.generation != seen:
                seen = self._tokens.generation
                on_change()
