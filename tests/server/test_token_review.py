"""TokenReviewer: whose a projected token is, asked of the API server once a minute at most.

The review function is the one part swapped here (it would call the Kubernetes API); the
integration test tests/integration/test_agent_service_account.py drives the real one.
"""

import pytest

from infracast.server.security.token_review import NODE_NAME, Review, ReviewUnavailable, TokenReviewer

AGENTS = "system:serviceaccount:infracast:infracast-agent"
GOOD, BAD = "h.good.s", "h.bad.s"  # shaped like JWTs, as projected tokens are


class Api:
    def __init__(self) -> None:
        self.asked: list[str] = []
        self.down = False

    def review(self, token: str) -> Review:
        self.asked.append(token)
        if self.down:
            raise ReviewUnavailable("503 Service Unavailable")
        if token == GOOD:
            return Review(True, AGENTS, {NODE_NAME: ["node-a"]})
        return Review(False, error="invalid bearer token")


def test_answers_are_cached_for_a_minute_and_failures_are_not():
    api, now = Api(), [0.0]
    reviewer = TokenReviewer(api.review, "infracast/infracast-agent", clock=lambda: now[0])
    agent, _ = reviewer.agent(GOOD)
    assert agent is not None and agent.node == "node-a" and GOOD not in agent.name
    refused, reason = reviewer.agent(BAD)
    assert refused is None and reason == "the Kubernetes API did not accept the token (invalid bearer token)"
    now[0] = 59.0
    reviewer.agent(GOOD)
    reviewer.agent(BAD)
    assert api.asked == [GOOD, BAD]
    now[0] = 61.0
    api.down = True
    with pytest.raises(ReviewUnavailable):
        reviewer.agent(GOOD)  # expired: asked again, and the failure is not remembered
    api.down = False
    assert reviewer.agent(GOOD)[0] is not None
    assert api.asked == [GOOD, BAD, GOOD, GOOD]


def test_tokens_not_shaped_like_jwts_and_reviews_over_the_limit_never_reach_the_api():
    api, waits = Api(), [0.0, 2.5]
    reviewer = TokenReviewer(api.review, "infracast/infracast-agent", limit=lambda: waits.pop(0))
    refused, reason = reviewer.agent("plain-secret-0123456789")
    assert refused is None and reason.startswith("unknown token")
    assert reviewer.agent(GOOD)[0] is not None
    with pytest.raises(ReviewUnavailable, match=r"too many token reviews at once; retry in 2\.5s"):
        reviewer.agent(BAD)
    assert api.asked == [GOOD]
