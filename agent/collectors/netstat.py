"""Protocol counters from /proc/net/{netstat,snmp,snmp6} (node_netstat_*), with
node_exporter's default field selection: listen-queue overflows, retransmits, SYN
cookies, errors, established connections; and the TCP counters of memory pressure and of
queues that overflowed (TCPMemoryPressures, TCPAbortOnMemory, PruneCalled, TCPBacklogDrop,
TCPRcvQDrop, TCPOFODrop), the same names as node_exporter with --collector.netstat.fields
set to FIELDS."""

from __future__ import annotations

import contextlib
import re

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_text

# node_exporter's --collector.netstat.fields default, then the TCP memory and queue drops.
FIELDS = re.compile(
    r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
    r"TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPMemoryPressures|TCPAbortOnMemory|"
    r"PruneCalled|TCPBacklogDrop|TCPRcvQDrop|TCPOFODrop)|"
    r"Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|"
    r"Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
)


def parse_netstat(text: str) -> dict[str, float]:
    """Protocol_Field -> value from netstat/snmp's pairs of lines ("Tcp: names", "Tcp: values")."""
    found = {}
    lines = text.splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        protocol, _, names = names.partition(":")
        for name, value in zip(names.split(), values.partition(":")[2].split(), strict=False):
            found[f"{protocol}_{name}"] = float(value)
    return found


def parse_snmp6(text: str) -> dict[str, float]:
    """Protocol_Field -> value from snmp6's "Icmp6InMsgs 1" lines (the protocol ends at its 6)."""
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        protocol, six, name = key.partition("6")
        if six:
            found[f"{protocol}6_{name}"] = float(value)
    return found


class NetstatCollector:
    name = "netstat"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        counters = parse_netstat(read_text(self.paths.proc("net", "netstat")))
        counters |= parse_netstat(read_text(self.paths.proc("net", "snmp")))
        with contextlib.suppress(FileNotFoundError):  # IPv6 disabled: IPv4 counters alone
            counters |= parse_snmp6(read_text(self.paths.proc("net", "snmp6")))
        return [Sample("node_netstat_" + key, value) for key, value in sorted(counters.items())
                if FIELDS.match(key)]
