"""Agents in Kubernetes authenticate with their pod's own service-account token.

Each agent pod mounts a projected token for the audience "infracast" (deploy/kubernetes/
agent.yaml); the kubelet rotates it. The server asks the API server's TokenReview
whether a token is genuine and whose it is: a token of the agents' service account, bound
to a pod on node N, may push node N's series and nothing else. No secret is shared
between nodes, so a compromised node cannot write another node's series.

The pod's node comes from the review's `authentication.kubernetes.io/node-name` extra,
which Kubernetes 1.30 and later add for pod-bound tokens. Answers are cached for a minute
per token (by digest), so a reconnecting fleet does not call the API once per stream.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

AUDIENCE = "infracast"
NODE_NAME = "authentication.kubernetes.io/node-name"
CACHE_SECONDS = 60.0
MAX_CACHED = 10_000
# A fleet reconnecting at once (a server restart) is reviewed within a minute or so; a
# caller inventing tokens cannot make the API server do more than this.
REVIEWS_PER_SECOND = 20.0
REVIEW_BURST = 200.0


@dataclass(frozen=True)
class Review:
    """What the API server said of a token."""

    authenticated: bool
    username: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class ReviewedAgent:
    name: str  # service account, node and a digest of the token: safe to log
    node: str


class ReviewUnavailable(Exception):
    """The API server could not be asked (the caller should retry)."""


def token_expiry(token: str) -> float | None:
    """The "exp" claim (epoch seconds) of a JWT-shaped token, or None. Read without checking
    the signature: only a token TokenReview accepted is asked, and a stream opened with it
    ends at this time (a projected token is rotated by the kubelet well before)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):  # json's and unicode's errors are ValueErrors
        return None
    expiry = claims.get("exp") if isinstance(claims, dict) else None
    return float(expiry) if isinstance(expiry, int | float) and not isinstance(expiry, bool) else None


def kubernetes_review(api_client) -> Callable[[str], Review]:
    """TokenReview through the official client (imported only when a cluster is there)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    api = client.AuthenticationV1Api(api_client)

    def review(token: str) -> Review:
        body = client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token, audiences=[AUDIENCE]))
        try:
            status = api.create_token_review(body, _request_timeout=10).status
        except (ApiException, HTTPError) as error:
            raise ReviewUnavailable(str(getattr(error, "reason", None) or error)) from error
        if status is None:  # the API server always fills it; without it nothing was decided
            raise ReviewUnavailable("the token review came back without a status")
        user = status.user
        return Review(bool(status.authenticated), (user and user.username) or "",
                      (user and user.extra) or {}, status.error or "")

    return review


class TokenReviewer:
    """Which agent (and so which node) a projected token belongs to, if any."""

    def __init__(self, review: Callable[[str], Review], service_account: str,
                 limit: Callable[[], float] = lambda: 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`limit`: seconds to wait before the next review may go to the API (0: now), so
        that a flood of made-up tokens cannot flood the API server."""
        namespace, _, name = service_account.partition("/")
        self.username = f"system:serviceaccount:{namespace}:{name}"
        self._review = review
        self._limit = limit
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, ReviewedAgent | None, str]] = OrderedDict()
        self._lock = threading.Lock()

    def agent(self, token: str) -> tuple[ReviewedAgent | None, str]:
        """The token's agent, or None and why not. Raises ReviewUnavailable."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        with self._lock:
            cached = self._cache.get(digest)
            if cached is not None and cached[0] > now:
                self._cache.move_to_end(digest)
                return cached[1], cached[2]
        if token.count(".") != 2:
            return None, "unknown token (neither in the tokens file nor a service-account token)"
        with self._lock:  # reviews run on worker threads; the limiter is not thread-safe
            wait = self._limit()
        if wait > 0:
            raise ReviewUnavailable(f"too many token reviews at once; retry in {wait:.1f}s")
        agent, reason = self._judge(self._review(token), digest)
        with self._lock:
            self._cache[digest] = (now + CACHE_SECONDS, agent, reason)
            self._cache.move_to_end(digest)
            while len(self._cache) > MAX_CACHED:
                self._cache.popitem(last=False)
        return agent, reason

    def _judge(self, review: Review, digest: str) -> tuple[ReviewedAgent | None, str]:
        if not review.authenticated:
            return None, f"the Kubernetes API did not accept the token ({review.error or 'no reason given'})"
        if review.username != self.username:
            return None, f"{review.username} is not the agents' service account ({self.username})"
        nodes = review.extra.get(NODE_NAME) or []
        if not nodes:
            return None, ("the token is not bound to a pod on a node: mount a projected service-account "
                          "token (Kubernetes 1.30 or later names the node in it)")
        return ReviewedAgent(f"{review.username}@{nodes[0]} ({digest[:8]})", nodes[0]), ""
