"""TokenReviewer: whose a projected token is, asked of the API server once a minute at most.

The review function is the one part swapped here (it would call the Kubernetes API); the
integration test tests/integration/test_agent_service_account.py drives the real one.
"""

import pytest

from infracast.server.token_review import NODE_NAME, Review, ReviewUnavailable, TokenReviewer

AGENTS = "system:serviceaccount:infracast:infracast-agent"


class Api:
    def __init__(self) -> None:
        self.asked: list[str] = []
        self.down = False

    def review(self, token: str) -> Review:
        self.asked.append(token)
        if self.down:
            raise ReviewUnavailable("503 Service Unavailable")
        if token == "good":
            return Review(True, AGENTS, {NODE_NAME: ["node-a"]})
        return Review(False, error="invalid bearer token")


def test_answers_are_cached_for_a_minute_and_failures_are_not():
    api, now = Api(), [0.0]
    reviewer = TokenReviewer(api.review, "infracast/infracast-agent", clock=lambda: now[0])
    agent, _ = reviewer.agent("good")
    assert agent is not None and agent.node == "node-a" and "good" not in agent.name
    refused, reason = reviewer.agent("bad")
    assert refused is None and reason == "the Kubernetes API did not accept the token (invalid bearer token)"
    now[0] = 59.0
    reviewer.agent("good")
    reviewer.agent("bad")
    assert api.asked == ["good", "bad"]
    now[0] = 61.0
    api.down = True
    with pytest.raises(ReviewUnavailable):
        reviewer.agent("good")  # expired: asked again, and the failure is not remembered
    api.down = False
    assert reviewer.agent("good")[0] is not None
    assert api.asked == ["good", "bad", "good", "good"]
