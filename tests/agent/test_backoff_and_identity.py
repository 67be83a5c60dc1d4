import random
import uuid

from infracast.agent.backoff import Backoff
from infracast.agent.identity import AGENT_NAMESPACE, agent_id, node_name, uuid5


def test_backoff_grows_with_jitter_up_to_a_cap_and_resets():
    backoff = Backoff(initial=0.1, maximum=2.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(10)]
    for attempt, delay in enumerate(delays):
        ceiling = min(2.0, 0.1 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 2.0 and delays[-1] >= 1.0
    backoff.reset()
    assert backoff.next_delay() <= 0.1


def test_node_name_precedence():
    assert node_name("flag", {"NODE_NAME": "env"}) == "flag"
    assert node_name(None, {"NODE_NAME": "env"}) == "env"
    assert node_name(None, {})  # the host name


def test_agent_id_is_stable_and_per_node(tmp_path):
    machine = tmp_path / "machine-id"
    machine.write_text("abc123\n")
    assert agent_id("n1", (machine,)) == agent_id("n1", (machine,))
    assert agent_id("n1", (machine,)) != agent_id("n2", (machine,))


def test_uuid5_without_hashlib_is_the_standard_one():
    for name in ("", "abc/n1", "0123456789abcdef/ip-10-0-0-1.ec2.internal", "nœud/ü"):
        assert uuid5(AGENT_NAMESPACE, name) == uuid.uuid5(AGENT_NAMESPACE, name)
