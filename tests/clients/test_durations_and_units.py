import pytest

from infracast.clients.units import format_value
from infracast.common.durations import format_duration, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("10s", 10), ("500ms", 0.5), ("5m", 300), ("1h30m", 5400), ("2d", 172800), ("1w", 604800),
    ("90", 90), ("1.5h", 5400),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["ten seconds", "5 m", "1h-30m", "10x", ""])
def test_bad_durations_explain_the_format(text):
    with pytest.raises(ValueError, match=r"e\.g\. 500ms"):
        parse_duration(text)


def test_format_duration():
    assert format_duration(45) == "45s"
    assert format_duration(5400) == "1h 30m"
    assert format_duration(3 * 86400 + 4 * 3600 + 5) == "3d 4h"


def test_format_value_by_unit():
    assert format_value("node_memory_MemAvailable_bytes", 3 * 1024**3, False) == "3.0 GiB"
    assert format_value("infracast_node_cpu_utilization_ratio", 0.25, False) == "25.0%"
    assert format_value("node_network_receive_bytes_total", 12.0, True) == "12 B/s"
    assert format_value("node_network_receive_bytes_total", 2048.0, counter_rate=False) == "2.0 KiB"
    assert format_value("node_cpu_seconds_total", 264.7, counter_rate=False) == "264.7"


def test_format_value_follows_the_servers_word_on_counters():
    """A declared counter without the _total suffix is answered as a rate, a declared gauge
    with it as a value: the answer's rate_of_counter decides "/s", not the name."""
    assert format_value("node_vmstat_pgfault", 12.0, counter_rate=True) == "12/s"
    assert format_value("app_level_total", 1200.0, counter_rate=False) == "1200"
    assert format_value("node_disk_read_bytes_total", 2048.0, counter_rate=True, unit="bytes") == "2.0 KiB/s"
    assert format_value("app_used", 0.5, counter_rate=False, unit="ratio") == "50.0%"
    # A declared unit beats the name's suffix.
    assert format_value("app_cache_total", 3 * 1024**3, counter_rate=False, unit="bytes") == "3.0 GiB"
    assert format_value("app_size_bytes", 0.5, counter_rate=False, unit="ratio") == "50.0%"
