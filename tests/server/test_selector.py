import pytest

from infracast.server.selector import SelectorError, parse_selector
from infracast.server.series import SeriesKey

DISK = SeriesKey.of("node_filesystem_avail_bytes", {"node": "n1", "mountpoint": "/"})
DATA = SeriesKey.of("node_filesystem_avail_bytes", {"node": "n1", "mountpoint": "/data"})
LOAD = SeriesKey.of("node_load1", {"node": "n2"})


@pytest.mark.parametrize(
    ("text", "matching"),
    [
        ("", {DISK, DATA, LOAD}),
        ("node_load1", {LOAD}),
        ('node_filesystem_avail_bytes{node="n1",mountpoint="/"}', {DISK}),
        ('node_filesystem_avail_bytes{mountpoint!="/"}', {DATA}),
        ('{node=~"n.*"}', {DISK, DATA, LOAD}),
        ('{__name__=~"node_load.*"}', {LOAD}),
        ('{node!~"n1"}', {LOAD}),
        ('{mountpoint=""}', {LOAD}),  # a missing label matches the empty string
        ('{node=~"n"}', set()),  # regexes are anchored, as in Prometheus
        (' node_load1 { node = "n2" } ', {LOAD}),
    ],
)
def test_selector_matches_like_prometheus(text, matching):
    selector = parse_selector(text)
    assert {key for key in (DISK, DATA, LOAD) if selector.matches(key)} == matching


def test_escaped_quotes_in_values():
    key = SeriesKey.of("m", {"path": 'a"b'})
    assert parse_selector(r'm{path="a\"b"}').matches(key)


def test_metric_name_is_available_for_fast_lookup():
    assert parse_selector('node_load1{node="a"}').metric == "node_load1"
    assert parse_selector('{node="a"}').metric is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("node_load1{", "expected metric"),
        ('node_load1{node="a"', "expected metric"),
        ("{node=a}", 'label="value"'),
        ('{node="a" mountpoint="/"}', "expected ','"),
        ('{node=~"("}', "bad regular expression"),
        ("1metric", "expected metric"),
    ],
)
def test_bad_selectors_say_what_is_wrong(text, says):
    with pytest.raises(SelectorError, match=says):
        parse_selector(text)


def test_series_key_prints_in_prometheus_syntax():
    assert str(DISK) == 'node_filesystem_avail_bytes{mountpoint="/",node="n1"}'


def test_regexes_have_prometheus_re2_semantics():
    newline = SeriesKey.of("m", {"path": "a\nb"})
    assert parse_selector('m{path=~"a.b"}').matches(newline)  # Prometheus: (?s:...)
    with pytest.raises(SelectorError, match="bad regular expression"):
        parse_selector(r'{node=~"(a)\\1"}')  # backreferences are not RE2


def test_errors_echo_at_most_a_hundred_characters_of_the_selector():
    text = "{" + "x" * 1_000_000
    with pytest.raises(SelectorError) as raised:
        parse_selector(text)
    assert len(str(raised.value)) < 400
    assert "(1000001 characters)" in str(raised.value)
