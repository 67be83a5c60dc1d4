"""Collectors on captured host files (tests/agent/captured_host, read through HostPaths as a
DaemonSet's host mounts would be), their parsers on captured text, and all of them once
against this machine's real /proc and /sys."""

import os
import threading
import time
from pathlib import Path

import pytest

from infracast.agent.collectors import (
    DEFAULT_FAMILIES,
    FAMILIES,
    HostPaths,
    NoData,
    default_collectors,
    resolve_families,
)
from infracast.agent.collectors.arp import parse_arp
from infracast.agent.collectors.cgroups import CgroupsCollector
from infracast.agent.collectors.conntrack import parse_conntrack_stat
from infracast.agent.collectors.cpu import CpuCollector, cpu_utilization, parse_cpu_times
from infracast.agent.collectors.disk import parse_diskstats
from infracast.agent.collectors.filesystem import FilesystemCollector, parse_mounts
from infracast.agent.collectors.memory import parse_meminfo
from infracast.agent.collectors.netdev import parse_netdev
from infracast.agent.collectors.netstat import parse_netstat, parse_snmp6
from infracast.agent.collectors.pressure import PressureCollector, parse_pressure
from infracast.agent.collectors.processes import parse_process_stat
from infracast.agent.collectors.sockstat import parse_sockstat
from infracast.agent.collectors.timex import STA_NANO, TimexCollector, timex_samples
from infracast.agent.collectors.udp_queues import parse_udp_queues
from infracast.agent.collectors.vmstat import parse_vmstat
from infracast.agent.runner import sample_collectors
from infracast.server.series import LABEL_NAME, METRIC_NAME

CAPTURED = Path(__file__).parent / "captured_host"
HOST = HostPaths(procfs=str(CAPTURED / "proc"), sysfs=str(CAPTURED / "sys"), rootfs="/")


def by_series(samples):
    return {(s.metric, tuple(sorted(s.labels.items()))): s.value for s in samples}


def collect(family, **kwargs):
    return by_series(FAMILIES[family](HOST, **kwargs).collect())


# -- parsers on captured text ------------------------------------------------------------

def test_meminfo_names_every_field_as_node_exporter_does():
    fields = parse_meminfo("MemTotal:       24684084 kB\nActive(anon):       1704 kB\n"
                           "HugePages_Total:       0\nHugepagesize:       2048 kB\n")
    assert fields == {"node_memory_MemTotal_bytes": 24684084 * 1024.0,
                      "node_memory_Active_anon_bytes": 1704 * 1024.0,
                      "node_memory_HugePages_Total": 0.0,
                      "node_memory_Hugepagesize_bytes": 2048 * 1024.0}


def test_cpu_times_per_cpu_in_seconds_without_the_total_line():
    stat = ("cpu  300 0 30 900 3 0 5 2 7 1\ncpu0 100 1 10 300 1 0 2 1 4 0\n"
            "cpu1 200 0 20 600 2 0 3 1 3 1\nctxt 9\n")
    per_cpu = parse_cpu_times(stat, ticks_per_s=100)
    assert list(per_cpu) == ["0", "1"]
    assert per_cpu["0"] == [1.0, 0.01, 0.1, 3.0, 0.01, 0.0, 0.02, 0.01, 0.04, 0.0]


def test_cpu_utilization_from_mode_totals():
    before = {"user": 10.0, "system": 5.0, "idle": 80.0, "iowait": 5.0}
    after = {"user": 16.0, "system": 7.0, "idle": 90.0, "iowait": 7.0}
    assert cpu_utilization(before, after) == pytest.approx(8 / 20)
    assert cpu_utilization(after, after) is None


def test_process_stat_with_parentheses_and_spaces_in_the_name():
    line = b"4242 (my (odd) name) R 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 12 0 2 0 0 0\n"
    assert parse_process_stat(line) == ("R", 12)


def test_pressure_totals_are_seconds():
    assert parse_pressure("some avg10=1.00 avg60=0.50 avg300=0.10 total=2500000\n"
                          "full avg10=0.00 avg60=0.00 avg300=0.00 total=1000\n") == {
        "some": 2.5, "full": 0.001}


def test_diskstats_scaled_as_node_exporter_and_its_default_exclusions():
    text = ("   7       0 loop0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
            " 254       0 vda 10 2 8 1500 20 3 16 2500 1 3000 4000 5 6 7 800 9 900\n"
            " 254       1 vda1 10 2 8 1500 20 3 16 2500 1 3000 4000\n")
    disks = parse_diskstats(text)
    assert list(disks) == ["vda"]
    values = dict(disks["vda"])
    assert values["node_disk_read_bytes_total"] == 8 * 512
    assert values["node_disk_read_time_seconds_total"] == 1.5
    assert values["node_disk_io_now"] == 1
    assert values["node_disk_discarded_sectors_total"] == 7  # sectors, not bytes, in node_exporter
    assert values["node_disk_flush_requests_time_seconds_total"] == 0.9


def test_netdev_columns_come_from_the_header():
    devices = parse_netdev((CAPTURED / "proc/net/dev").read_text())
    lo = dict(devices["lo"])
    assert len(lo) == 16
    assert {"node_network_receive_multicast_total", "node_network_transmit_colls_total",
            "node_network_transmit_carrier_total"} <= lo.keys()


def test_snmp6_protocol_ends_at_its_six():
    names: dict = {}
    text = "Ip6InOctets 128\nUdpLite6InErrors 3\nIcmp6InMsgs 1\nIp6InReceives 9\n"
    for _ in range(2):  # the second time from the cache of names
        assert parse_snmp6(text, names) == {"node_netstat_Ip6_InOctets": 128.0,
                                            "node_netstat_UdpLite6_InErrors": 3.0,
                                            "node_netstat_Icmp6_InMsgs": 1.0}
    assert names["Ip6InReceives"] is None


def test_netstat_pairs_of_lines_with_the_selected_columns_cached():
    columns: dict = {}
    text = "Tcp: RtoMin CurrEstab InSegs\nTcp: 200 7 1000\nTcpExt: TCPHPHits ListenDrops\nTcpExt: 5 2\n"
    for _ in range(2):
        assert parse_netstat(text, columns) == {"node_netstat_Tcp_CurrEstab": 7.0,
                                                "node_netstat_Tcp_InSegs": 1000.0,
                                                "node_netstat_TcpExt_ListenDrops": 2.0}


def test_sockstat_memory_in_pages_and_bytes():
    found = parse_sockstat("sockets: used 27\nTCP: inuse 1 orphan 0 tw 193 alloc 3 mem 194\n",
                           page_bytes=4096)
    assert found["node_sockstat_sockets_used"] == 27
    assert found["node_sockstat_TCP_tw"] == 193
    assert found["node_sockstat_TCP_mem_bytes"] == 194 * 4096


def test_vmstat_default_fields_and_reclaim_counters():
    vmstat = ("nr_free_pages 5\npgmajfault 7\noom_kill 1\npgfault 9\npswpin 2\nworkingset_refault_file 3\n"
              "workingset_nodes 4\npgscan_direct 11\npgscan_anon 6\nallocstall_normal 2\n"
              "compact_stall 1\ncompact_success 1\n")
    assert parse_vmstat(vmstat) == {
        "node_vmstat_pgmajfault": 7.0, "node_vmstat_oom_kill": 1.0, "node_vmstat_pgfault": 9.0,
        "node_vmstat_pswpin": 2.0, "node_vmstat_workingset_refault_file": 3.0,
        "node_vmstat_pgscan_direct": 11.0, "node_vmstat_allocstall_normal": 2.0,
        "node_vmstat_compact_stall": 1.0}


def test_conntrack_statistics_summed_over_cpus_by_header_name():
    stat = parse_conntrack_stat((CAPTURED / "proc/net/stat/nf_conntrack").read_text())
    assert stat == {"node_nf_conntrack_stat_found": 0x11, "node_nf_conntrack_stat_invalid": 3,
                    "node_nf_conntrack_stat_ignore": 0, "node_nf_conntrack_stat_insert": 0x111,
                    "node_nf_conntrack_stat_insert_failed": 1, "node_nf_conntrack_stat_drop": 3,
                    "node_nf_conntrack_stat_early_drop": 5, "node_nf_conntrack_stat_search_restart": 4}


def test_udp_queues_sum_the_hexadecimal_queue_column():
    assert parse_udp_queues((CAPTURED / "proc/net/udp").read_text()) == (0x200, 0x1000 + 0x340)
    assert parse_udp_queues((CAPTURED / "proc/net/udp6").read_text()) == (0, 0)


def test_arp_entries_per_device():
    assert parse_arp((CAPTURED / "proc/net/arp").read_text()) == {"eth0": 2, "docker0": 1}


def test_timex_scaled_as_node_exporter_does():
    fields = {"offset": 1500, "freq": -655360, "maxerror": 16000000, "esterror": 250, "status": 0x1,
              "constant": 7, "tick": 10000, "ppsfreq": 65536, "jitter": 20, "shift": 3,
              "stabil": 131072, "jitcnt": 1, "calcnt": 2, "errcnt": 3, "stbcnt": 4, "tai": 37}
    found = {s.metric: s.value for s in timex_samples(0, fields)}
    assert len(found) == 17 and found["node_timex_sync_status"] == 1.0
    assert found["node_timex_offset_seconds"] == 0.0015  # microseconds without STA_NANO
    assert found["node_timex_frequency_adjustment_ratio"] == pytest.approx(1 - 10e-6)
    assert found["node_timex_maxerror_seconds"] == 16.0
    assert found["node_timex_pps_frequency_hertz"] == pytest.approx(1e-6)
    assert found["node_timex_tai_offset_seconds"] == 37.0
    nano = {s.metric: s.value for s in timex_samples(5, fields | {"status": STA_NANO})}
    assert nano["node_timex_sync_status"] == 0.0 and nano["node_timex_offset_seconds"] == 1.5e-6


def test_timex_reads_this_hosts_clock():
    found = {s.metric: s.value for s in TimexCollector().collect()}
    assert found["node_timex_tick_seconds"] > 0 and found["node_timex_sync_status"] in (0.0, 1.0)


def test_mounts_keep_network_and_memory_file_systems_and_drop_pseudo_ones():
    mounts = {m.mountpoint: m for m in parse_mounts((CAPTURED / "proc/1/mounts").read_text())}
    assert set(mounts) == {"/", "/run", "/srv/data set", "/mnt/nfs", "/mnt/cifs", "/mnt/sshfs",
                           "/mnt/ceph"}
    assert [mounts[p].fstype for p in ("/mnt/nfs", "/mnt/cifs", "/mnt/sshfs", "/mnt/ceph")] == [
        "nfs4", "cifs", "fuse.sshfs", "ceph"]
    assert mounts["/srv/data set"].read_only and not mounts["/"].read_only
    assert mounts["/run"].device == "tmpfs"


def test_mounts_seen_inside_a_container_are_named_as_on_the_host():
    mounts = parse_mounts("/dev/sda1 /host/data xfs rw 0 0\noverlay / overlay rw 0 0\n"
                          "/dev/sda2 /host xfs rw 0 0\n", rootfs="/host")
    assert [m.mountpoint for m in mounts] == ["/data", "/"]


# -- collectors reading the captured host tree -------------------------------------------

def test_meminfo_collector_reads_every_field_under_the_host_procfs():
    samples = collect("meminfo")
    meminfo_lines = (CAPTURED / "proc/meminfo").read_text().count("\n")
    assert len(samples) == meminfo_lines + 1  # and infracast_node_memory_used_bytes
    assert samples[("infracast_node_memory_used_bytes", ())] == (24684084 - 23465632) * 1024


def test_stat_collector():
    samples = collect("stat")
    assert samples[("node_boot_time_seconds", ())] == 1796062820
    assert samples[("node_forks_total", ())] == 78214
    assert samples[("node_intr_total", ())] == 2365256
    assert ("node_procs_blocked", ()) in samples


def test_saturation_collectors():
    assert collect("filefd") == {("node_filefd_allocated", ()): 1368, ("node_filefd_maximum", ()): 2466170}
    conntrack = collect("conntrack")
    assert conntrack[("node_nf_conntrack_entries", ())] == 0
    assert conntrack[("node_nf_conntrack_entries_limit", ())] == 262144
    assert conntrack[("node_nf_conntrack_stat_early_drop", ())] == 5 and len(conntrack) == 2 + 8
    pressure = collect("pressure")
    assert pressure[("node_pressure_cpu_waiting_seconds_total", ())] == 433.478732
    assert pressure[("node_pressure_io_stalled_seconds_total", ())] == 7.146387
    assert len(pressure) == 5
    vmstat = collect("vmstat")
    assert vmstat[("node_vmstat_pgmajfault", ())] == 3375 and vmstat[("node_vmstat_oom_kill", ())] == 0
    assert collect("udp_queues") == {
        ("node_udp_queues", (("ip", "v4"), ("queue", "tx"))): 0x200,
        ("node_udp_queues", (("ip", "v4"), ("queue", "rx"))): 0x1340,
        ("node_udp_queues", (("ip", "v6"), ("queue", "tx"))): 0,
        ("node_udp_queues", (("ip", "v6"), ("queue", "rx"))): 0}
    assert collect("entropy") == {("node_entropy_available_bits", ()): 256,
                                  ("node_entropy_pool_size_bits", ()): 256}
    assert collect("arp")[("node_arp_entries", (("device", "docker0"),))] == 1


def test_processes_by_state_with_the_limits():
    samples = collect("processes")
    states = {labels[0][1]: value for (metric, labels), value in samples.items()
              if metric == "node_processes_state"}
    assert states == {"D": 1, "I": 1, "R": 1, "S": 1, "Z": 0}
    assert samples[("node_processes_pids", ())] == 4
    assert samples[("node_processes_threads", ())] == 1 + 12 + 1 + 3
    pid_max = float((CAPTURED / "proc/sys/kernel/pid_max").read_text())
    assert samples[("node_processes_max_processes", ())] == pid_max


def test_netclass_up_and_what_each_interface_can_tell():
    samples = collect("netclass")
    assert samples[("node_network_up", (("device", "eth0"),))] == 1.0
    assert samples[("node_network_up", (("device", "lo"),))] == 0.0  # operstate "unknown"
    assert samples[("node_network_speed_bytes", (("device", "eth0"),))] == 10000 * 125000
    assert ("node_network_speed_bytes", (("device", "lo"),)) not in samples
    assert samples[("node_network_mtu_bytes", (("device", "lo"),))] == 65536
    assert samples[("node_network_carrier_up_changes_total", (("device", "eth0"),))] == 3
    assert samples[("node_network_carrier_down_changes_total", (("device", "eth0"),))] == 2


def test_uname_info():
    ((metric, labels), value), = collect("uname").items()
    assert metric == "node_uname_info" and value == 1.0
    assert dict(labels).keys() == {"domainname", "machine", "nodename", "release", "sysname", "version"}
    assert dict(labels)["release"] == os.uname().release


def test_cgroup_v2_cpu_and_memory_per_container():
    samples = collect("cgroups")
    container = (("id", "/kubepods.slice/pod1.slice/cri-containerd-abc.scope"),)
    assert samples[("container_cpu_usage_seconds_total", container)] == 2.5
    assert samples[("container_cpu_cfs_throttled_seconds_total", container)] == 0.15
    assert samples[("container_memory_usage_bytes", container)] == 104857600
    assert samples[("container_memory_working_set_bytes", container)] == 104857600 - 4857600
    assert samples[("container_spec_memory_limit_bytes", container)] == 209715200
    assert samples[("container_spec_memory_limit_bytes", (("id", "/kubepods.slice"),))] == 0.0


def test_filesystem_under_the_host_root_with_readonly_and_inodes(tmp_path):
    statted = []

    def statvfs(path):
        statted.append(path)
        return os.statvfs("/")

    paths = HostPaths(procfs=HOST.procfs, sysfs=HOST.sysfs, rootfs=str(tmp_path))
    samples = by_series(FilesystemCollector(paths, statvfs=statvfs).collect())
    assert str(tmp_path / "mnt/nfs") in statted and str(tmp_path / "srv/data set") in statted
    data = (("device", "/dev/vdb"), ("fstype", "xfs"), ("mountpoint", "/srv/data set"))
    assert samples[("node_filesystem_readonly", data)] == 1.0
    assert samples[("node_filesystem_files", data)] == os.statvfs("/").f_files
    assert ("node_filesystem_files_free", data) in samples


def test_a_hanging_network_mount_is_an_error_and_skipped_until_it_returns():
    release = threading.Event()

    def statvfs(path):
        if path == "/mnt/nfs":
            release.wait(10)
        return os.statvfs("/")

    collector = FilesystemCollector(HOST, statvfs=statvfs, timeout_s=0.2)
    nfs = (("device", "server:/export"), ("fstype", "nfs4"), ("mountpoint", "/mnt/nfs"))
    started = time.monotonic()
    first = by_series(collector.collect())
    assert first[("node_filesystem_device_error", nfs)] == 1.0
    root = (("device", "/dev/vda"), ("fstype", "ext4"), ("mountpoint", "/"))
    assert ("node_filesystem_size_bytes", root) in first
    second = by_series(collector.collect())  # still stuck: not statted again, no second wait
    assert second[("node_filesystem_device_error", nfs)] == 1.0
    assert time.monotonic() - started < 2.0
    release.set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "/mnt/nfs" in collector._stuck:
        time.sleep(0.01)
    assert by_series(collector.collect())[("node_filesystem_device_error", nfs)] == 0.0


def test_filesystem_reports_an_unreadable_mount_and_keeps_the_rest():
    def statvfs(path):
        if path == "/mnt/cifs":
            raise OSError(5, "Input/output error")
        return os.statvfs("/")

    samples = FilesystemCollector(HOST, statvfs=statvfs).collect()
    errors = {s.labels["mountpoint"]: s.value for s in samples if s.metric == "node_filesystem_device_error"}
    assert errors["/mnt/cifs"] == 1.0 and errors["/"] == 0.0
    sized = {s.labels["mountpoint"] for s in samples if s.metric == "node_filesystem_size_bytes"}
    assert "/mnt/cifs" not in sized


def test_a_kernel_without_psi_or_conntrack_has_no_data_not_a_failure(tmp_path):
    (tmp_path / "proc").mkdir()
    bare = HostPaths(procfs=str(tmp_path / "proc"))
    for family in ("pressure", "conntrack"):
        with pytest.raises(NoData):
            FAMILIES[family](bare).collect()
    tick = sample_collectors([PressureCollector(bare)])
    success = by_series(tick.samples)[("node_scrape_collector_success", (("collector", "pressure"),))]
    assert tick.failed == [] and success == 0.0


def test_every_default_collector_reads_the_captured_host():
    tick = sample_collectors(default_collectors(paths=HOST))
    assert tick.failed == []
    successes = {s.labels["collector"]: s.value for s in tick.samples
                 if s.metric == "node_scrape_collector_success"}
    assert successes == dict.fromkeys(DEFAULT_FAMILIES, 1.0)


# -- this machine ------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_collector_reads_this_host_with_valid_names(name):
    (collector,) = default_collectors([name])
    try:
        samples = collector.collect()
    except NoData:
        pytest.skip(f"this host has no data for {name}")
    assert samples or name in ("diskstats", "cgroups")  # a container may have no block devices
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


def test_one_broken_collector_is_reported_and_the_others_still_send():
    class Broken:
        name = "broken"

        def collect(self):
            raise OSError("permission denied reading /proc/whatever")

    load, = default_collectors(["loadavg"])
    tick = sample_collectors([Broken(), load])
    assert tick.failed == ["broken"]
    by_name = {(s.metric, s.labels.get("collector")): s.value for s in tick.samples}
    assert by_name[("node_scrape_collector_success", "broken")] == 0.0
    assert by_name[("node_scrape_collector_success", "loadavg")] == 1.0
    assert ("node_load1", None) in by_name


def test_old_family_names_still_work_and_unknown_ones_are_refused():
    assert resolve_families(["memory", "swap", "disk", "network", "load", "cpu"]) == (
        "meminfo", "vmstat", "diskstats", "netdev", "loadavg", "cpu")
    with pytest.raises(ValueError, match="unknown collector"):
        default_collectors(["cpu", "gpu"])
    assert "cgroups" in FAMILIES and "cgroups" not in DEFAULT_FAMILIES
    assert isinstance(CgroupsCollector(HOST).collect(), list)


def test_netstat_fields_add_tcp_memory_pressure_and_queue_drops():
    from infracast.agent.collectors.netstat import FIELDS
    for kept in ("TcpExt_TCPBacklogDrop", "TcpExt_TCPMemoryPressures", "TcpExt_PruneCalled",
                 "TcpExt_ListenOverflows", "Tcp_CurrEstab"):
        assert FIELDS.match(kept), kept
    assert not FIELDS.match("TcpExt_TCPHPHits") and not FIELDS.match("TcpExt_TCPMemoryPressuresChrono")


def test_kept_files_are_read_afresh_and_regular_files_are_not_kept(tmp_path):
    from infracast.agent.collectors.host_files import KeptFiles
    kept = KeptFiles()
    first = kept.read("/proc/uptime")
    time.sleep(0.05)
    assert kept.read("/proc/uptime") != first  # the same descriptor, a newly generated text
    assert list(kept._fds) == ["/proc/uptime"]
    captured = tmp_path / "stat"
    captured.write_text("one\n")
    assert kept.read(str(captured)) == b"one\n"
    (tmp_path / "new").write_text("two\n")
    (tmp_path / "new").replace(captured)  # replaced, as a test fixture may do
    assert kept.read(str(captured)) == b"two\n" and str(captured) not in kept._fds
    kept.close()
    assert not kept._fds
