"""Paging, swapping, page faults and OOM kills from /proc/vmstat (node_vmstat_*), with
node_exporter's default field selection."""

from __future__ import annotations

import re

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_text

# node_exporter's --collector.vmstat.fields default.
FIELDS = re.compile(r"^(oom_kill|pgpg|pswp|pg.*fault).*")


def parse_vmstat(vmstat: str, fields: re.Pattern[str] = FIELDS) -> dict[str, float]:
    found = {}
    for line in vmstat.splitlines():
        name, _, value = line.partition(" ")
        if fields.match(name):
            found["node_vmstat_" + name] = float(value)
    return found


class VmstatCollector:
    name = "vmstat"

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        return [Sample(metric, value)
                for metric, value in parse_vmstat(read_text(self.paths.proc("vmstat"))).items()]
