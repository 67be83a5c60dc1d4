"""Selectors and keys as PromQL, the store settings' validation, remote write's wire form."""

import numpy as np
import pytest

from infracast.server.config import load_config
from infracast.server.selector import parse_selector
from infracast.server.series import SeriesKey
from infracast.server.store import remote_write
from infracast.server.store.base import SeriesWrite
from infracast.server.store.promql import key_promql, selector_promql, series_key


@pytest.mark.parametrize("ours, promql", [
    ("node_load1", '{__name__="node_load1"}'),
    ('node_load1{instance=~"a.*",job!="x"}', '{__name__="node_load1",instance=~"a.*",job!="x"}'),
    ('{mountpoint!="/"}', '{mountpoint!="/",__name__=~".+"}'),  # alone it would match everything
    ("", '{__name__=~".+"}'),
    ('m{path="C:\\\\dir \\"x\\""}', '{__name__="m",path="C:\\\\dir \\"x\\""}'),
])
def test_selectors_become_promql_matchers(ours, promql):
    assert selector_promql(parse_selector(ours)) == promql


def test_keys_round_trip_with_their_labels_unchanged():
    key = SeriesKey.of("node_filesystem_avail_bytes",
                       {"instance": "h:9100", "job": "node", "mountpoint": "/"})
    assert key_promql(key) == ('{__name__="node_filesystem_avail_bytes",instance="h:9100",job="node",'
                               'mountpoint="/"}')
    assert series_key({"__name__": key.metric, **key.label_map}) == key


def test_remote_write_sorts_labels_and_keeps_samples_exact():
    key = SeriesKey.of("m", {"A": "1", "node": "n"})  # "A" sorts before "__name__"
    body = remote_write.encode([SeriesWrite(key, np.array([1000, 2000]), np.array([0.5, -1e300]))])
    (series,) = remote_write.decode(body).timeseries
    assert [(label.name, label.value) for label in series.labels] == [("A", "1"), ("__name__", "m"),
                                                                       ("node", "n")]
    assert [(s.timestamp, s.value) for s in series.samples] == [(1000, 0.5), (2000, -1e300)]


@pytest.mark.parametrize("env, says", [
    ({"INFRACAST_STORE": "prometheus"}, "needs INFRACAST_PROMETHEUS_URL"),
    ({"INFRACAST_STORE": "prometheus", "INFRACAST_PROMETHEUS_URL": "prometheus:9090"}, "not an http"),
    ({"INFRACAST_PROMETHEUS_URL": "http://p:9090"}, "INFRACAST_STORE=embedded"),
    ({"INFRACAST_STORE": "prometheus", "INFRACAST_PROMETHEUS_URL": "http://p:9090",
      "INFRACAST_PROMETHEUS_USERNAME": "u"}, "go together"),
    ({"INFRACAST_STORE": "prometheus", "INFRACAST_PROMETHEUS_URL": "http://p:9090",
      "INFRACAST_PROMETHEUS_CA": "/nonexistent.pem"}, "not a readable file"),
])
def test_store_settings_are_checked_at_start(env, says, capsys):
    with pytest.raises(SystemExit) as exited:
        load_config([], env)
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_prometheus_store_settings_load():
    config = load_config([], {"INFRACAST_STORE": "prometheus", "INFRACAST_PROMETHEUS_URL": "https://p:9090/",
                              "INFRACAST_PROMETHEUS_STEP": "30s"})
    assert config.store == "prometheus" and config.prometheus_url == "https://p:9090"
    assert config.prometheus_step_s == 30
