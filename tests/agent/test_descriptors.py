"""Every metric the agent sends has a descriptor the server accepts, and node_exporter's
HELP and TYPE where node_exporter sends the metric too."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

from infracast.agent.collectors import FAMILIES, HostPaths
from infracast.agent.collectors.descriptors import COUNTER, GAUGE, describe, unit_of
from infracast.agent.metric_descriptors import MetricDescriber
from infracast.agent.runner import sample_collectors
from infracast.server.services.descriptor_validation import checked_descriptors

CAPTURED = Path(__file__).parent / "captured_host"
CAPTURED_HOST = HostPaths(procfs=str(CAPTURED / "proc"), sysfs=str(CAPTURED / "sys"), rootfs="/")
HOSTS = {"this host": HostPaths(), "captured host": CAPTURED_HOST}


def metrics_sent(paths: HostPaths) -> set[str]:
    """Metric names of two collections by every collector (the second brings the rates
    and ratios that need a previous collection)."""
    collectors = [make(paths) for make in FAMILIES.values()]
    names = set()
    for _ in range(2):
        names |= {sample.metric for sample in sample_collectors(collectors).samples}
    return names


@pytest.mark.parametrize("host", list(HOSTS))
def test_every_metric_the_collectors_send_is_described(host):
    sent = metrics_sent(HOSTS[host])
    assert len(sent) > 50  # the collectors did run
    undescribed = sorted(metric for metric in sent if describe(metric) is None)
    assert not undescribed, f"add these to agent/collectors/descriptors.py: {undescribed}"


@pytest.mark.parametrize("host", list(HOSTS))
def test_the_descriptors_sent_pass_the_servers_validation(host):
    describer = MetricDescriber()
    collectors = [make(HOSTS[host]) for make in FAMILIES.values()]
    first_tick = sample_collectors(collectors).samples
    first = describer.new_descriptors(first_tick)
    later = describer.new_descriptors(sample_collectors(collectors).samples)
    assert describer.new_descriptors(first_tick) == []  # each metric once
    assert {d.metric for d in later}.isdisjoint(d.metric for d in first)
    checked = checked_descriptors([*first, *later], "hello")
    assert len(checked) == len(first) + len(later)
    by_name = {d.metric: d for d in checked}
    assert by_name["node_vmstat_pgfault"].type == "counter"  # no _total, still a counter
    assert by_name["node_memory_MemTotal_bytes"].unit == "bytes"
    assert describe("infracast_node_cpu_utilization_ratio").unit == "ratio"


def test_type_and_unit_follow_the_kernel_field_not_only_the_name():
    assert describe("node_vmstat_pgmajfault").type == COUNTER
    assert describe("node_vmstat_nr_free_pages").type == GAUGE
    assert describe("node_netstat_Tcp_CurrEstab").type == GAUGE
    assert describe("node_netstat_TcpExt_ListenOverflows").type == COUNTER
    assert describe("node_memory_HugePages_Total") == (GAUGE, "", "Memory information field HugePages_Total.")
    assert describe("node_sockstat_TCP_mem_bytes").unit == "bytes"
    assert describe("node_network_transmit_queue_length").type == GAUGE
    assert describe("node_network_receive_bytes_total") == (
        COUNTER, "bytes", "Network device statistic receive_bytes.")
    assert describe("no_such_metric") is None
    assert [unit_of(m) for m in ("a_seconds_total", "a_bytes", "a_ratio", "a_total", "a_bytes_free",
                                 "a_hertz", "a_bits")] == [
        "seconds", "bytes", "ratio", "", "", "hertz", "bits"]


EXPOSITION = re.compile(r"^# (HELP|TYPE) (\S+) (.*)$", re.MULTILINE)


def test_help_and_type_are_node_exporters(tmp_path):
    from tests.conftest import free_port
    from tests.tsdb_servers import Daemon, binary

    address = f"127.0.0.1:{free_port()}"
    daemon = Daemon([binary("prometheus-node-exporter"), f"--web.listen-address={address}",
                     "--collector.processes", "--collector.conntrack"],
                    tmp_path / "node-exporter.log", f"http://{address}/metrics")
    try:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
            exposition = response.read().decode()
    finally:
        daemon.stop()
    helps = {name: text for kind, name, text in EXPOSITION.findall(exposition) if kind == "HELP"}
    types = {name: text for kind, name, text in EXPOSITION.findall(exposition) if kind == "TYPE"}
    compared = 0
    for metric in sorted(metrics_sent(HostPaths()) & helps.keys()):
        description = describe(metric)
        assert description is not None
        assert description.help == helps[metric], metric
        if types[metric] != "untyped":  # vmstat and netstat fields: typed by what they count
            assert description.type == types[metric], metric
        compared += 1
    assert compared > 100
