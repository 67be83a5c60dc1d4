"""Paging, swapping, page faults and OOM kills from /proc/vmstat (node_vmstat_*): node_exporter's
default field selection, and the memory reclaim counters that come before an OOM kill
(pages scanned and stolen by kswapd and in direct reclaim, allocation stalls, refaults of
evicted pages, compaction stalls), the same names as node_exporter with
--collector.vmstat.fields set to FIELDS."""

from __future__ import annotations

import re

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_kept

# node_exporter's --collector.vmstat.fields default, then the reclaim counters.
FIELDS = re.compile(r"^(oom_kill|pgpg|pswp|pg.*fault|pgscan_(kswapd|direct)|pgsteal_(kswapd|direct)|"
                    r"allocstall_|workingset_refault_|compact_(stall|fail)|thp_fault_fallback).*")


def parse_vmstat(vmstat: str, fields: re.Pattern[str] = FIELDS,
                 names: dict[str, str | None] | None = None) -> dict[str, float]:
    """node_vmstat_<field> -> value for the fields matching `fields`; `names` caches each
    field's metric (None: not sent), as the same 190-odd fields come back every collection."""
    names = {} if names is None else names
    found = {}
    for line in vmstat.splitlines():
        name, _, value = line.partition(" ")
        if name not in names:
            names[name] = "node_vmstat_" + name if fields.match(name) else None
        metric = names[name]
        if metric is not None:
            found[metric] = float(value)
    return found


class VmstatCollector:
    name = "vmstat"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths
        self._names: dict[str, str | None] = {}

    def collect(self) -> list[Sample]:
        return [Sample(metric, value) for metric, value in
                parse_vmstat(read_kept(self.paths.proc("vmstat")), names=self._names).items()]
