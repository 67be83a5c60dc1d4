"""What every metric the collectors send means: its type, unit and help, in one table.

node_exporter's HELP text and TYPE where node_exporter has the metric (its "untyped" vmstat
and netstat fields are declared counters or gauges by what the kernel field is: pgfault
only grows, Tcp_CurrEstab goes up and down), cAdvisor's for the container_* series, ours
for the infracast_* ones. The unit is the base unit the name ends in (_bytes, _seconds,
_ratio, _hertz, _bits), empty for counts. Families whose metric names come from the file
read (meminfo, vmstat, netstat, sockstat, netdev) are described by pattern. The server uses the type to
forecast counters as rates, and the unit to bound answers; tests/agent/test_descriptors.py
fails when a collector sends a metric this table does not describe.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

GAUGE = "gauge"
COUNTER = "counter"


class Description(NamedTuple):
    type: str  # GAUGE or COUNTER
    unit: str  # bytes, seconds, ratio, ...; empty for counts of things
    help: str


def unit_of(metric: str) -> str:
    """The base unit a Prometheus-style name ends in, before any _total."""
    for unit in ("bytes", "seconds", "ratio", "hertz", "bits"):
        if metric.removesuffix("_total").endswith("_" + unit):
            return unit
    return ""


# metric -> (type, help); the unit comes from the name (unit_of).
METRICS: dict[str, tuple[str, str]] = {
    # cpu
    "node_cpu_seconds_total": (COUNTER, "Seconds the CPUs spent in each mode."),
    "node_cpu_guest_seconds_total": (COUNTER, "Seconds the CPUs spent in guests (VMs) for each mode."),
    "infracast_node_cpu_utilization_ratio": (
        GAUGE, "Share of the node's CPU time spent busy (not idle or iowait) since the previous collection."),
    "infracast_node_cpu_count": (GAUGE, "Number of CPUs the node has."),
    # stat
    "node_boot_time_seconds": (GAUGE, "Node boot time, in unixtime."),
    "node_context_switches_total": (COUNTER, "Total number of context switches."),
    "node_forks_total": (COUNTER, "Total number of forks."),
    "node_intr_total": (COUNTER, "Total number of interrupts serviced."),
    "node_procs_running": (GAUGE, "Number of processes in runnable state."),
    "node_procs_blocked": (GAUGE, "Number of processes blocked waiting for I/O to complete."),
    # meminfo (the node_memory_* fields are patterns below)
    "infracast_node_memory_used_bytes": (
        GAUGE, "Memory in use, MemTotal - MemAvailable: what to compare with the node's allocatable memory."),
    # pressure
    "node_pressure_cpu_waiting_seconds_total": (
        COUNTER, "Total time in seconds that processes have waited for CPU time"),
    "node_pressure_io_waiting_seconds_total": (
        COUNTER, "Total time in seconds that processes have waited due to IO congestion"),
    "node_pressure_io_stalled_seconds_total": (
        COUNTER, "Total time in seconds no process could make progress due to IO congestion"),
    "node_pressure_memory_waiting_seconds_total": (
        COUNTER, "Total time in seconds that processes have waited for memory"),
    "node_pressure_memory_stalled_seconds_total": (
        COUNTER, "Total time in seconds no process could make progress due to memory congestion"),
    # filesystem
    "node_filesystem_size_bytes": (GAUGE, "Filesystem size in bytes."),
    "node_filesystem_free_bytes": (GAUGE, "Filesystem free space in bytes."),
    "node_filesystem_avail_bytes": (GAUGE, "Filesystem space available to non-root users in bytes."),
    "infracast_node_filesystem_used_bytes": (GAUGE, "Filesystem space in use (size - free) in bytes."),
    "node_filesystem_files": (GAUGE, "Filesystem total file nodes."),
    "node_filesystem_files_free": (GAUGE, "Filesystem total free file nodes."),
    "node_filesystem_readonly": (GAUGE, "Filesystem read-only status."),
    "node_filesystem_device_error": (
        GAUGE, "Whether an error occurred while getting statistics for the given device."),
    # diskstats
    "node_disk_reads_completed_total": (COUNTER, "The total number of reads completed successfully."),
    "node_disk_reads_merged_total": (COUNTER, "The total number of reads merged."),
    "node_disk_read_bytes_total": (COUNTER, "The total number of bytes read successfully."),
    "node_disk_read_time_seconds_total": (COUNTER, "The total number of seconds spent by all reads."),
    "node_disk_writes_completed_total": (COUNTER, "The total number of writes completed successfully."),
    "node_disk_writes_merged_total": (COUNTER, "The number of writes merged."),
    "node_disk_written_bytes_total": (COUNTER, "The total number of bytes written successfully."),
    "node_disk_write_time_seconds_total": (
        COUNTER, "This is the total number of seconds spent by all writes."),
    "node_disk_io_now": (GAUGE, "The number of I/Os currently in progress."),
    "node_disk_io_time_seconds_total": (COUNTER, "Total seconds spent doing I/Os."),
    "node_disk_io_time_weighted_seconds_total": (COUNTER, "The weighted # of seconds spent doing I/Os."),
    "node_disk_discards_completed_total": (COUNTER, "The total number of discards completed successfully."),
    "node_disk_discards_merged_total": (COUNTER, "The total number of discards merged."),
    "node_disk_discarded_sectors_total": (COUNTER, "The total number of sectors discarded successfully."),
    "node_disk_discard_time_seconds_total": (
        COUNTER, "This is the total number of seconds spent by all discards."),
    "node_disk_flush_requests_total": (COUNTER, "The total number of flush requests completed successfully"),
    "node_disk_flush_requests_time_seconds_total": (
        COUNTER, "This is the total number of seconds spent by all flush requests."),
    # netclass
    "node_network_up": (GAUGE, "Value is 1 if operstate is 'up', 0 otherwise."),
    "node_network_carrier": (GAUGE, "Network device property: carrier"),
    "node_network_carrier_changes_total": (COUNTER, "Network device property: carrier_changes_total"),
    "node_network_carrier_up_changes_total": (COUNTER, "Network device property: carrier_up_changes_total"),
    "node_network_carrier_down_changes_total": (
        COUNTER, "Network device property: carrier_down_changes_total"),
    "node_network_mtu_bytes": (GAUGE, "Network device property: mtu_bytes"),
    "node_network_speed_bytes": (GAUGE, "Network device property: speed_bytes"),
    "node_network_transmit_queue_length": (GAUGE, "Network device property: transmit_queue_length"),
    # sockstat (per-protocol fields are patterns below)
    "node_sockstat_sockets_used": (GAUGE, "Number of IPv4 sockets in use."),
    # softnet
    "node_softnet_processed_total": (COUNTER, "Number of processed packets"),
    "node_softnet_dropped_total": (COUNTER, "Number of dropped packets"),
    "node_softnet_times_squeezed_total": (COUNTER, "Number of times processing packets ran out of quota"),
    # conntrack, filefd, loadavg
    "node_nf_conntrack_entries": (
        GAUGE, "Number of currently allocated flow entries for connection tracking."),
    "node_nf_conntrack_entries_limit": (GAUGE, "Maximum size of connection tracking table."),
    "node_filefd_allocated": (GAUGE, "File descriptor statistics: allocated."),
    "node_filefd_maximum": (GAUGE, "File descriptor statistics: maximum."),
    "node_load1": (GAUGE, "1m load average."),
    "node_load5": (GAUGE, "5m load average."),
    "node_load15": (GAUGE, "15m load average."),
    # conntrack statistics (node_exporter types these kernel counters as gauges; kept for parity)
    "node_nf_conntrack_stat_found": (GAUGE, "Number of searched entries which were successful."),
    "node_nf_conntrack_stat_invalid": (GAUGE, "Number of packets seen which can not be tracked."),
    "node_nf_conntrack_stat_ignore": (
        GAUGE, "Number of packets seen which are already connected to a conntrack entry."),
    "node_nf_conntrack_stat_insert": (GAUGE, "Number of entries inserted into the list."),
    "node_nf_conntrack_stat_insert_failed": (
        GAUGE, "Number of entries for which list insertion was attempted but failed."),
    "node_nf_conntrack_stat_drop": (GAUGE, "Number of packets dropped due to conntrack failure."),
    "node_nf_conntrack_stat_early_drop": (
        GAUGE, "Number of dropped conntrack entries to make room for new ones, "
               "if maximum table size was reached."),
    "node_nf_conntrack_stat_search_restart": (
        GAUGE, "Number of conntrack table lookups which had to be restarted due to hashtable resizes."),
    # timex
    "node_timex_offset_seconds": (GAUGE, "Time offset in between local system and reference clock."),
    "node_timex_frequency_adjustment_ratio": (GAUGE, "Local clock frequency adjustment."),
    "node_timex_maxerror_seconds": (GAUGE, "Maximum error in seconds."),
    "node_timex_estimated_error_seconds": (GAUGE, "Estimated error in seconds."),
    "node_timex_status": (GAUGE, "Value of the status array bits."),
    "node_timex_loop_time_constant": (GAUGE, "Phase-locked loop time constant."),
    "node_timex_tick_seconds": (GAUGE, "Seconds between clock ticks."),
    "node_timex_pps_frequency_hertz": (GAUGE, "Pulse per second frequency."),
    "node_timex_pps_jitter_seconds": (GAUGE, "Pulse per second jitter."),
    "node_timex_pps_shift_seconds": (GAUGE, "Pulse per second interval duration."),
    "node_timex_pps_stability_hertz": (
        GAUGE, "Pulse per second stability, average of recent frequency changes."),
    "node_timex_pps_jitter_total": (COUNTER, "Pulse per second count of jitter limit exceeded events."),
    "node_timex_pps_calibration_total": (COUNTER, "Pulse per second count of calibration intervals."),
    "node_timex_pps_error_total": (COUNTER, "Pulse per second count of calibration errors."),
    "node_timex_pps_stability_exceeded_total": (
        COUNTER, "Pulse per second count of stability limit exceeded events."),
    "node_timex_tai_offset_seconds": (GAUGE, "International Atomic Time (TAI) offset."),
    "node_timex_sync_status": (
        GAUGE, "Is clock synchronized to a reliable server (1 = yes, 0 = no)."),
    # udp_queues, arp, entropy
    "node_udp_queues": (GAUGE, "Number of allocated memory in the kernel for UDP datagrams in bytes."),
    "node_arp_entries": (GAUGE, "ARP entries by device"),
    "node_entropy_available_bits": (GAUGE, "Bits of available entropy."),
    "node_entropy_pool_size_bits": (GAUGE, "Bits of entropy pool."),
    # processes, uname
    "node_processes_pids": (GAUGE, "Number of PIDs"),
    "node_processes_threads": (GAUGE, "Allocated threads in system"),
    "node_processes_max_processes": (GAUGE, "Number of max PIDs limit"),
    "node_processes_max_threads": (GAUGE, "Limit of threads in the system"),
    "node_processes_state": (GAUGE, "Number of processes in each state."),
    "node_uname_info": (GAUGE, "Labeled system information as provided by the uname system call."),
    # cgroups, as cAdvisor describes them
    "container_cpu_usage_seconds_total": (COUNTER, "Cumulative cpu time consumed in seconds."),
    "container_cpu_cfs_throttled_seconds_total": (
        COUNTER, "Total time duration the container has been throttled."),
    "container_memory_usage_bytes": (
        GAUGE, "Current memory usage in bytes, including all memory regardless of when it was accessed"),
    "container_memory_working_set_bytes": (GAUGE, "Current working set in bytes."),
    "container_spec_memory_limit_bytes": (GAUGE, "Memory limit for the container."),
    # the runner
    "node_scrape_collector_success": (GAUGE, "node_exporter: Whether a collector succeeded."),
    "node_scrape_collector_duration_seconds": (GAUGE, "node_exporter: Duration of a collector scrape."),
}

# Gauges among the /proc/net/{netstat,snmp,snmp6} fields; every other field counts events.
NETSTAT_GAUGES = frozenset({"Tcp_CurrEstab", "Ip_Forwarding", "Tcp_MaxConn", "Tcp_RtoMin", "Tcp_RtoMax",
                            "Tcp_RtoAlgorithm", "Ip_DefaultTTL"})


def _meminfo(match: re.Match[str]) -> Description:
    return Description(GAUGE, unit_of(match[0]), f"Memory information field {match[1]}.")


def _vmstat(match: re.Match[str]) -> Description:
    # nr_* fields are current amounts (nr_free_pages); the others count events since boot.
    kind = GAUGE if match[1].startswith("nr_") else COUNTER
    return Description(kind, "", f"/proc/vmstat information field {match[1]}.")


def _netstat(match: re.Match[str]) -> Description:
    kind = GAUGE if f"{match[1]}_{match[2]}" in NETSTAT_GAUGES else COUNTER
    return Description(kind, "", f"Statistic {match[1]}{match[2]}.")


def _sockstat(match: re.Match[str]) -> Description:
    return Description(GAUGE, unit_of(match[0]), f"Number of {match[1]} sockets in state {match[2]}.")


def _netdev(match: re.Match[str]) -> Description:
    return Description(COUNTER, unit_of(match[0]), f"Network device statistic {match[1]}.")


# Families whose names come from the file they read, tried in order after METRICS.
PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Description]], ...] = (
    (re.compile(r"^node_memory_(\w+)$"), _meminfo),
    (re.compile(r"^node_vmstat_(\w+)$"), _vmstat),
    (re.compile(r"^node_netstat_([A-Za-z0-9]+)_(\w+)$"), _netstat),
    (re.compile(r"^node_sockstat_([A-Z0-9]+)_(\w+)$"), _sockstat),
    (re.compile(r"^node_network_((?:receive|transmit)_[a-z]+)_total$"), _netdev),
)


def describe(metric: str) -> Description | None:
    """The metric's description; None if no collector is known to send it."""
    known = METRICS.get(metric)
    if known is not None:
        return Description(known[0], unit_of(metric), known[1])
    for pattern, description in PATTERNS:
        match = pattern.match(metric)
        if match is not None:
            return description(match)
    return None
