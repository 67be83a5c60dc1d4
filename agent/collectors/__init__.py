"""One collector per metric family, named as node_exporter names its collectors;
`default_collectors` builds them."""

from __future__ import annotations

from collections.abc import Callable

from infracast.agent.collectors.arp import ArpCollector
from infracast.agent.collectors.base import Collector, NoData, Sample
from infracast.agent.collectors.cgroups import CgroupsCollector
from infracast.agent.collectors.conntrack import ConntrackCollector
from infracast.agent.collectors.cpu import CpuCollector
from infracast.agent.collectors.disk import DiskCollector
from infracast.agent.collectors.entropy import EntropyCollector
from infracast.agent.collectors.filefd import FilefdCollector
from infracast.agent.collectors.filesystem import FilesystemCollector
from infracast.agent.collectors.host_files import ON_HOST, HostPaths
from infracast.agent.collectors.load import LoadCollector
from infracast.agent.collectors.memory import MemoryCollector
from infracast.agent.collectors.netclass import NetclassCollector
from infracast.agent.collectors.netdev import NetdevCollector
from infracast.agent.collectors.netstat import NetstatCollector
from infracast.agent.collectors.pressure import PressureCollector
from infracast.agent.collectors.processes import ProcessesCollector
from infracast.agent.collectors.sockstat import SockstatCollector
from infracast.agent.collectors.softnet import SoftnetCollector
from infracast.agent.collectors.stat import StatCollector
from infracast.agent.collectors.timex import TimexCollector
from infracast.agent.collectors.udp_queues import UdpQueuesCollector
from infracast.agent.collectors.uname import UnameCollector
from infracast.agent.collectors.vmstat import VmstatCollector

FAMILIES: dict[str, Callable[[HostPaths], Collector]] = {
    "cpu": CpuCollector,
    "stat": StatCollector,
    "meminfo": MemoryCollector,
    "vmstat": VmstatCollector,
    "pressure": PressureCollector,
    "filesystem": FilesystemCollector,
    "diskstats": DiskCollector,
    "netdev": NetdevCollector,
    "netclass": NetclassCollector,
    "netstat": NetstatCollector,
    "sockstat": SockstatCollector,
    "softnet": SoftnetCollector,
    "udp_queues": UdpQueuesCollector,
    "arp": ArpCollector,
    "conntrack": ConntrackCollector,
    "filefd": FilefdCollector,
    "entropy": EntropyCollector,
    "timex": TimexCollector,
    "loadavg": LoadCollector,
    "processes": ProcessesCollector,
    "uname": UnameCollector,
    "cgroups": CgroupsCollector,
}
# Per-container series multiply with the containers: only on request.
DEFAULT_FAMILIES = tuple(name for name in FAMILIES if name != "cgroups")
# The names these families had before they were named as node_exporter's collectors.
ALIASES = {"memory": "meminfo", "swap": "vmstat", "disk": "diskstats", "network": "netdev",
           "load": "loadavg"}


def resolve_families(names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Family names with old names mapped to current ones, each once; ValueError if unknown."""
    resolved = tuple(dict.fromkeys(ALIASES.get(name, name) for name in names))
    unknown = sorted(set(resolved) - FAMILIES.keys())
    if unknown:
        raise ValueError(f"unknown collector(s) {', '.join(unknown)}; known: {', '.join(FAMILIES)}")
    return resolved


def default_collectors(names: list[str] | None = None, paths: HostPaths = ON_HOST) -> list[Collector]:
    """Collectors for the named families (the default ones if none are named)."""
    return [FAMILIES[name](paths) for name in resolve_families(names or DEFAULT_FAMILIES)]


__all__ = ["DEFAULT_FAMILIES", "FAMILIES", "Collector", "HostPaths", "NoData", "Sample",
           "default_collectors", "resolve_families"]
