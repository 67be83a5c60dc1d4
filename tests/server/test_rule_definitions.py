"""Forecast rules files: what parses, what is refused, and how series spread over replicas."""

from collections import Counter
from pathlib import Path

import pytest

from infracast.server.rules.definitions import RuleError, load_rules
from infracast.server.rules.replicas import owner
from infracast.server.series import SeriesKey

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "infracast-rules.yaml"


def test_the_shipped_rules_load():
    disk, memory = load_rules(SHIPPED)
    assert (disk.name, disk.threshold, disk.rising) == ("filesystem-full", 0, False)
    assert disk.horizon_ms == 7 * 86400_000
    assert disk.probability_within_ms == (4 * 3600_000, 86400_000) and disk.quantiles == (0.1, 0.9)
    assert memory.capacity_percent == 10


@pytest.mark.parametrize("text, says", [
    ("rules: [{name: a, selector: 'm{'}]", "cannot parse selector"),
    ("rules: [{name: a, selector: m, threshold: 1, capacity_percent: 5}]", "not both"),
    ("rules: [{name: a, selector: m, horizon: 1h, probability_within: [2h]}]", "beyond the horizon"),
    ("rules: [{name: a, selector: m, direction: up}]", "rising or falling"),
    ("rules: [{name: a, selector: m, treshold: 1}]", "unknown field(s) treshold"),
    ("rules: [{name: a, selector: m}, {name: a, selector: n}]", "unique: a"),
    ("rules: [{name: 'a b', selector: m}]", "name must be"),
    ("rules: [{name: a, selector: m, level: 100}]", "level"),
    ("rule: []", "list under 'rules'"),
])
def test_bad_rules_are_refused_naming_the_rule_and_field(tmp_path, text, says):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(RuleError) as refused:
        load_rules(path)
    assert says in str(refused.value)


def test_series_spread_over_replicas_and_only_a_leaving_replicas_series_move():
    keys = [SeriesKey.of("node_filesystem_avail_bytes", {"instance": f"h{i}:9100"}) for i in range(3000)]
    three = ["a", "b", "c"]
    shares = Counter(owner(key, three) for key in keys)
    assert all(800 < shares[r] < 1200 for r in three), shares
    moved = [key for key in keys if owner(key, three) != "c" and owner(key, ["a", "b"]) != owner(key, three)]
    assert not moved  # series of a and b stay where they were when c leaves
