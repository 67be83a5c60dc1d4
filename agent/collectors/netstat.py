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
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept

# node_exporter's --collector.netstat.fields default, then the TCP memory and queue drops.
FIELDS = re.compile(
    r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
    r"TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPMemoryPressures|TCPAbortOnMemory|"
    r"PruneCalled|TCPBacklogDrop|TCPRcvQDrop|TCPOFODrop)|"
    r"Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|"
    r"Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
)


def select_columns(header: str) -> list[tuple[int, str]]:
    """(position in the values line, metric) of the FIELDS columns of one "Tcp: names" line."""
    protocol, _, names = header.partition(":")
    return [(position, "node_netstat_" + key) for position, key in
            enumerate((f"{protocol}_{name}" for name in names.split()), start=1) if FIELDS.match(key)]


def parse_netstat(text: str, selections: dict[str, list[tuple[int, str]]]) -> dict[str, float]:
    """node_netstat_Protocol_Field -> value from netstat/snmp's pairs of lines ("Tcp: names",
    "Tcp: values"), FIELDS only; `selections` caches each header line's columns, since the
    same headers come back every collection (a regex per counter cost more than the rest)."""
    found = {}
    lines = text.splitlines()
    for header, values in zip(lines[::2], lines[1::2], strict=False):
        selected = selections.get(header)
        if selected is None:
            selected = selections[header] = select_columns(header)
        columns = values.split()
        for position, metric in selected:
            found[metric] = float(columns[position])
    return found


def parse_snmp6(text: str, selections: dict[str, str | None] | None = None) -> dict[str, float]:
    """node_netstat_Protocol6_Field -> value from snmp6's "Icmp6InMsgs 1" lines (the protocol
    ends at its 6), FIELDS only; `selections` caches each name's metric (None: not sent)."""
    selections = {} if selections is None else selections
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key not in selections:
            protocol, six, name = key.partition("6")
            field = f"{protocol}6_{name}"
            selections[key] = "node_netstat_" + field if six and FIELDS.match(field) else None
        metric = selections[key]
        if metric is not None:
            found[metric] = float(value)
    return found


class NetstatCollector:
    name = "netstat"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths
        self._columns: dict[str, list[tuple[int, str]]] = {}
        self._snmp6_names: dict[str, str | None] = {}

    def collect(self) -> list[Sample]:
        counters = parse_netstat(read_kept(self.paths.proc("net", "netstat")), self._columns)
        counters |= parse_netstat(read_kept(self.paths.proc("net", "snmp")), self._columns)
        with contextlib.suppress(FileNotFoundError):  # IPv6 disabled: IPv4 counters alone
            counters |= parse_snmp6(read_kept(self.paths.proc("net", "snmp6")), self._snmp6_names)
        return [Sample(metric, value) for metric, value in counters.items()]
