"""The agent's series against Debian's prometheus-node-exporter on this same machine: every
node_* metric the agent sends, node_exporter sends too, with the same label names and the
same label values (the same CPUs and modes, devices, mount points, file system types...).

node_exporter runs with the agent's exclusions spelled out (its upstream defaults; Debian's
package excludes more mount points and lo) and with its processes collector on (off by
default), and with the agent's wider selections of vmstat and netstat fields. .ci/run
installs the package; elsewhere the test is skipped when it is missing.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections import defaultdict

import pytest

from infracast.agent.collectors import default_collectors
from infracast.agent.collectors.disk import IGNORED_DEVICES
from infracast.agent.collectors.filesystem import IGNORED_FSTYPES, IGNORED_MOUNTPOINTS
from infracast.agent.collectors.netstat import FIELDS as NETSTAT_FIELDS
from infracast.agent.collectors.vmstat import FIELDS as VMSTAT_FIELDS
from infracast.agent.runner import sample_collectors

EXPORTER = shutil.which("prometheus-node-exporter")
pytestmark = pytest.mark.skipif(EXPORTER is None, reason="prometheus-node-exporter is not installed "
                                "(apt-get install -y prometheus-node-exporter; .ci/run does)")

LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
# The issue's list, which both must send on any Linux host with PSI and conntrack.
REQUIRED = {
    "node_memory_MemAvailable_bytes", "node_memory_Active_anon_bytes", "node_memory_HugePages_Total",
    "node_filesystem_readonly", "node_filesystem_files", "node_filesystem_files_free",
    "node_network_up", "node_boot_time_seconds", "node_uname_info", "node_processes_state",
    "node_filefd_allocated", "node_filefd_maximum", "node_vmstat_pgmajfault", "node_vmstat_oom_kill",
    "node_cpu_seconds_total", "node_load1", "node_disk_io_time_seconds_total",
    "node_network_receive_bytes_total", "node_netstat_Tcp_CurrEstab", "node_sockstat_TCP_mem_bytes",
    # Families added for saturation and clock signals (issue 16).
    "node_timex_sync_status", "node_timex_maxerror_seconds", "node_timex_offset_seconds",
    "node_udp_queues", "node_entropy_available_bits", "node_vmstat_pgscan_direct",
    "node_vmstat_allocstall_normal", "node_netstat_TcpExt_TCPBacklogDrop",
    "node_network_carrier_up_changes_total",
}
# Present only where the kernel has them (PSI, nf_conntrack).
WHERE_AVAILABLE = {"node_pressure_cpu_waiting_seconds_total", "node_nf_conntrack_entries",
                   "node_nf_conntrack_entries_limit", "node_nf_conntrack_stat_drop",
                   "node_nf_conntrack_stat_early_drop", "node_arp_entries"}


def parse_exposition(text: str) -> dict[str, dict[frozenset, float]]:
    series: dict[str, dict[frozenset, float]] = defaultdict(dict)
    for line in text.splitlines():
        found = LINE.match(line)
        if found and not line.startswith("#"):
            labels = frozenset(LABEL.findall(found.group(2) or ""))
            series[found.group(1)][labels] = float(found.group(3))
    return series


@pytest.fixture(scope="module")
def node_exporter():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [EXPORTER, f"--web.listen-address=127.0.0.1:{port}", "--collector.processes",
         f"--collector.filesystem.mount-points-exclude={IGNORED_MOUNTPOINTS.pattern}",
         f"--collector.filesystem.fs-types-exclude={IGNORED_FSTYPES.pattern}",
         f"--collector.diskstats.device-exclude={IGNORED_DEVICES.pattern}",
         "--collector.netdev.device-exclude=^$",
         f"--collector.vmstat.fields={VMSTAT_FIELDS.pattern}",
         f"--collector.netstat.fields={NETSTAT_FIELDS.pattern}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/metrics"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = response.read().decode()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)
    yield parse_exposition(body)
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def agent():
    series: dict[str, dict[frozenset, float]] = defaultdict(dict)
    for sample in sample_collectors(default_collectors()).samples:
        series[sample.metric][frozenset(sample.labels.items())] = sample.value
    return series


def test_every_node_metric_of_the_agent_is_node_exporters_with_the_same_series(agent, node_exporter):
    ours = {m for m in agent if m.startswith("node_") and not m.startswith("node_scrape_collector")}
    missing = sorted(ours - node_exporter.keys())
    assert not missing, f"node_exporter sends no {missing}"
    for metric in sorted(ours - {"node_processes_state"}):
        assert set(agent[metric]) == set(node_exporter[metric]), metric
    # States: the agent always sends D, I, R, S, Z (zero included) so a forecast of D or Z
    # has a series; node_exporter sends the states it saw. Processes change state between
    # the two reads, so only the label names and the well-known values are compared.
    exporter_states = {dict(labels)["state"] for labels in node_exporter["node_processes_state"]}
    agent_states = {dict(labels)["state"] for labels in agent["node_processes_state"]}
    assert exporter_states & {"R", "S", "D", "I", "Z"} <= agent_states


def test_the_issues_metrics_are_sent_by_both(agent, node_exporter):
    assert not REQUIRED - agent.keys() and not REQUIRED - node_exporter.keys()
    for metric in WHERE_AVAILABLE & node_exporter.keys():
        assert metric in agent


def test_values_that_do_not_move_are_equal(agent, node_exporter):
    for metric in ("node_memory_MemTotal_bytes", "node_filefd_maximum", "node_processes_max_processes",
                   "node_uname_info", "node_filesystem_size_bytes", "node_filesystem_files",
                   "node_filesystem_readonly", "node_network_mtu_bytes", "node_network_up",
                   "node_nf_conntrack_entries_limit", "node_entropy_pool_size_bits",
                   "node_timex_sync_status", "node_timex_status", "node_timex_tick_seconds",
                   "node_timex_loop_time_constant", "node_timex_tai_offset_seconds",
                   "node_network_carrier_up_changes_total", "node_network_carrier_down_changes_total"):
        assert agent.get(metric) == node_exporter.get(metric), metric
    assert agent["node_boot_time_seconds"][frozenset()] == pytest.approx(
        node_exporter["node_boot_time_seconds"][frozenset()], abs=1.0)
