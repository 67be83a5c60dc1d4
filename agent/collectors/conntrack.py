"""Connection-tracking entries against their limit (node_nf_conntrack_entries,
node_nf_conntrack_entries_limit): a full table drops new connections."""

from __future__ import annotations

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_optional

WHY_ABSENT = "the nf_conntrack module is not loaded"


class ConntrackCollector:
    name = "conntrack"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        entries = read_optional(self.paths.proc("sys", "net", "netfilter", "nf_conntrack_count"), WHY_ABSENT)
        limit = read_optional(self.paths.proc("sys", "net", "netfilter", "nf_conntrack_max"), WHY_ABSENT)
        return [Sample("node_nf_conntrack_entries", float(entries)),
                Sample("node_nf_conntrack_entries_limit", float(limit))]
