"""Connection-tracking entries against their limit (node_nf_conntrack_entries,
node_nf_conntrack_entries_limit): a full table drops new connections; and the per-CPU
statistics of /proc/net/stat/nf_conntrack summed over CPUs (node_nf_conntrack_stat_*),
whose drop, early_drop and insert_failed count what a full table already cost."""

from __future__ import annotations

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept, read_optional

WHY_ABSENT = "the nf_conntrack module is not loaded"
# The columns node_exporter sends (it reads more of them than it sends).
STAT_COLUMNS = ("found", "invalid", "ignore", "insert", "insert_failed", "drop", "early_drop",
                "search_restart")


def parse_conntrack_stat(text: str) -> dict[str, float]:
    """node_nf_conntrack_stat_<column> -> the sum over CPU lines of that hexadecimal column;
    the column names come from the header, as kernels add and reorder them."""
    lines = text.splitlines()
    names = lines[0].split()
    totals = dict.fromkeys(names, 0)
    for line in lines[1:]:
        for name, value in zip(names, line.split(), strict=False):
            totals[name] += int(value, 16)
    return {f"node_nf_conntrack_stat_{name}": float(totals[name]) for name in STAT_COLUMNS
            if name in totals}


class ConntrackCollector:
    name = "conntrack"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        entries = read_optional(self.paths.proc("sys", "net", "netfilter", "nf_conntrack_count"), WHY_ABSENT)
        limit = read_optional(self.paths.proc("sys", "net", "netfilter", "nf_conntrack_max"), WHY_ABSENT)
        samples = [Sample("node_nf_conntrack_entries", float(entries)),
                   Sample("node_nf_conntrack_entries_limit", float(limit))]
        try:
            stat = read_kept(self.paths.proc("net", "stat", "nf_conntrack"))
        except FileNotFoundError:  # older kernels, or no access: the entries alone
            return samples
        return samples + [Sample(metric, value) for metric, value in parse_conntrack_stat(stat).items()]
