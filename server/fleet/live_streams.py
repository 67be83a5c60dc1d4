"""The agents' open Push streams, one per agent: a new stream of an agent replaces its old one.

An agent whose connection broke without a FIN (a crashed host, a dropped NAT entry)
reconnects while the server still holds its old stream; clients that open stream after
stream for the same agent would otherwise pile them up until the stream limit refuses
everyone. Streams are also ended from outside their own loop: when their token is revoked
or expires. Each stream waits on its `ended` future beside its next message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from infracast.server.errors import Aborted, InfracastError, Unauthenticated
from infracast.server.security.auth import Identity

log = logging.getLogger(__name__)


@dataclass(eq=False)
class LiveStream:
    node: str
    agent: str
    identity: Identity | None
    ended: asyncio.Future[InfracastError] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    _expiry: asyncio.TimerHandle | None = None

    def end(self, error: InfracastError) -> None:
        """Make the stream raise `error` as soon as it waits for its next message."""
        if not self.ended.done():
            self.ended.set_result(error)


class LiveStreams:
    def __init__(self) -> None:
        self._streams: dict[tuple[str, str], LiveStream] = {}

    def __len__(self) -> int:
        return len(self._streams)

    def open(self, node: str, agent: str, identity: Identity | None) -> LiveStream:
        """Register the stream of `agent` on `node`, ending the one it had open. The node is
        part of the key: a token bound to one node cannot end another node's stream."""
        stream = LiveStream(node, agent, identity)
        old = self._streams.get((node, agent))
        if old is not None:
            log.info("agent %s (node %s) opened a new stream; ending its old one", agent, node)
            old.end(Aborted(f"replaced by a newer stream of agent {agent} (node {node}): an agent "
                            "keeps one stream open"))
        self._streams[(node, agent)] = stream
        if identity is not None and identity.expires_at is not None:
            loop = asyncio.get_running_loop()
            stream._expiry = loop.call_later(
                max(identity.expires_at - time.time(), 0.0), stream.end,
                Unauthenticated("the token has expired: reconnect with the current one"))
        return stream

    def close(self, stream: LiveStream) -> None:
        if stream._expiry is not None:
            stream._expiry.cancel()
        if self._streams.get((stream.node, stream.agent)) is stream:
            del self._streams[(stream.node, stream.agent)]

    def end_revoked(self, revocation: Callable[[Identity], str | None]) -> int:
        """End with UNAUTHENTICATED every stream whose token `revocation` gives a reason for;
        returns how many."""
        ended = 0
        for stream in list(self._streams.values()):
            reason = None if stream.identity is None else revocation(stream.identity)
            if reason is not None:
                log.warning("ending the stream of agent %s (node %s): %s", stream.agent, stream.node,
                            reason)
                stream.end(Unauthenticated(f"{reason}: this stream may push no more"))
                ended += 1
        return ended
