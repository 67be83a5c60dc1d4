"""Collectors against this machine's real psutil, and a stand-in where a failure is needed."""

import os
import time
import types

import pytest

from infracast.agent.collectors import FAMILIES, default_collectors
from infracast.agent.collectors.cpu import CpuCollector, cpu_utilization
from infracast.agent.collectors.filesystem import FilesystemCollector
from infracast.agent.runner import sample_collectors
from infracast.server.series import LABEL_NAME, METRIC_NAME

EXPECTED = {
    "cpu": {"node_cpu_seconds_total"},
    "memory": {"node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes"},
    "swap": {"node_memory_SwapTotal_bytes", "node_memory_SwapFree_bytes"},
    "filesystem": {"node_filesystem_size_bytes", "node_filesystem_avail_bytes",
                   "node_filesystem_files", "node_filesystem_files_free"},
    "disk": set(),  # a container may expose no block devices
    "network": {"node_network_receive_bytes_total", "node_network_transmit_drop_total"},
    "load": {"node_load1", "node_load5", "node_load15"},
    "processes": {"node_processes_pids", "node_procs_running"},
}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_collector_reads_this_host_with_node_exporter_names(name):
    (collector,) = default_collectors([name])
    samples = collector.collect()
    metrics = {s.metric for s in samples}
    assert EXPECTED[name] <= metrics
    for sample in samples:
        assert METRIC_NAME.match(sample.metric)
        assert all(LABEL_NAME.match(label) for label in sample.labels)
        assert sample.value == sample.value  # not NaN


def test_cpu_utilisation_needs_two_samples_and_stays_in_range():
    collector = CpuCollector()
    first = {s.metric for s in collector.collect()}
    assert "infracast_node_cpu_utilization_ratio" not in first
    # /proc/stat counts 10 ms ticks, and on tickless kernels its idle time can even step
    # back between reads: the collector then sends nothing for that interval. Sample
    # until an interval shows time passing, as an agent's next scrape would.
    second: list = []
    deadline = time.monotonic() + 5
    while not second and time.monotonic() < deadline:
        time.sleep(0.02)
        second = [s for s in collector.collect() if s.metric == "infracast_node_cpu_utilization_ratio"]
    assert len(second) == 1 and 0.0 <= second[0].value <= 1.0


def test_cpu_utilization_from_mode_totals():
    before = {"user": 10.0, "system": 5.0, "idle": 80.0, "iowait": 5.0}
    after = {"user": 16.0, "system": 7.0, "idle": 90.0, "iowait": 7.0}
    assert cpu_utilization(before, after) == pytest.approx(8 / 20)
    assert cpu_utilization(after, after) is None


def test_one_broken_collector_is_reported_and_the_others_still_send():
    class Broken:
        name = "broken"

        def collect(self):
            raise OSError("permission denied reading /proc/whatever")

    load, = default_collectors(["load"])
    tick = sample_collectors([Broken(), load])
    assert tick.failed == ["broken"]
    by_name = {(s.metric, s.labels.get("collector")): s.value for s in tick.samples}
    assert by_name[("node_scrape_collector_success", "broken")] == 0.0
    assert by_name[("node_scrape_collector_success", "load")] == 1.0
    assert ("node_load1", None) in by_name


def test_filesystem_reports_an_unreadable_mount_and_keeps_the_rest():
    partitions = [
        types.SimpleNamespace(device="/dev/sda1", mountpoint="/", fstype="ext4"),
        types.SimpleNamespace(device="nfs:/share", mountpoint="/mnt/share", fstype="ext4"),
        types.SimpleNamespace(device="proc", mountpoint="/proc", fstype="proc"),
    ]
    stand_in = types.SimpleNamespace(disk_partitions=lambda all: partitions)

    def statvfs(path):
        if path == "/mnt/share":
            raise OSError(5, "Input/output error")
        return os.statvfs("/")

    samples = FilesystemCollector(ps=stand_in, statvfs=statvfs).collect()
    errors = {s.labels["mountpoint"]: s.value for s in samples if s.metric == "node_filesystem_device_error"}
    assert errors == {"/": 0.0, "/mnt/share": 1.0}
    assert {s.labels["mountpoint"] for s in samples if s.metric == "node_filesystem_size_bytes"} == {"/"}


def test_filesystem_under_a_host_root_reports_host_paths():
    partitions = [types.SimpleNamespace(device="/dev/sda1", mountpoint="/host/data", fstype="xfs"),
                  types.SimpleNamespace(device="overlay", mountpoint="/", fstype="ext4")]
    stand_in = types.SimpleNamespace(disk_partitions=lambda all: partitions)
    samples = FilesystemCollector(ps=stand_in, statvfs=lambda p: os.statvfs("/"), host_root="/host").collect()
    assert {s.labels["mountpoint"] for s in samples} == {"/data"}


def test_unknown_collector_names_are_refused():
    with pytest.raises(ValueError, match="unknown collector"):
        default_collectors(["cpu", "gpu"])
