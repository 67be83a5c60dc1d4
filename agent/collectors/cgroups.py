"""Per-cgroup (per-container) CPU and memory from cgroup v2, named as cAdvisor (the
kubelet's /metrics/cadvisor) names them, with the cgroup path as `id`. Opt-in (not in the
default collectors): a node with hundreds of containers sends hundreds of series each."""

from __future__ import annotations

import os

from infracast.agent.collectors.base import NoData, Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_text


def parse_flat_keyed(text: str) -> dict[str, int]:
    """cgroup v2's "key value" files (cpu.stat, memory.stat)."""
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value:
            found[key] = int(value)
    return found


def cgroup_samples(cgroup_id: str, files: dict[str, str]) -> list[Sample]:
    """Samples of one cgroup from its files' contents (cpu.stat, memory.current,
    memory.stat, memory.max; any may be missing when its controller is not enabled)."""
    labels = {"id": cgroup_id}
    samples = []
    if "cpu.stat" in files:
        cpu = parse_flat_keyed(files["cpu.stat"])
        samples.append(Sample("container_cpu_usage_seconds_total", cpu["usage_usec"] / 1e6, labels))
        if "throttled_usec" in cpu:
            samples.append(Sample("container_cpu_cfs_throttled_seconds_total",
                                  cpu["throttled_usec"] / 1e6, labels))
    if "memory.current" in files:
        usage = float(files["memory.current"])
        samples.append(Sample("container_memory_usage_bytes", usage, labels))
        inactive_file = parse_flat_keyed(files.get("memory.stat", "")).get("inactive_file", 0)
        # What the kubelet evicts on: usage less the page cache it can drop first.
        samples.append(Sample("container_memory_working_set_bytes", max(usage - inactive_file, 0.0), labels))
    if "memory.max" in files:
        limit = files["memory.max"].strip()
        samples.append(Sample("container_spec_memory_limit_bytes",
                              0.0 if limit == "max" else float(limit), labels))
    return samples


class CgroupsCollector:
    name = "cgroups"
    FILES = ("cpu.stat", "memory.current", "memory.stat", "memory.max")

    def __init__(self, paths: HostPaths = ON_HOST) -> None:
        self.paths = paths

    def collect(self) -> list[Sample]:
        root = self.paths.sys("fs", "cgroup")
        if not os.path.exists(os.path.join(root, "cgroup.controllers")):
            root = self.paths.sys("fs", "cgroup", "unified")  # systemd's hybrid layout
            if not os.path.exists(os.path.join(root, "cgroup.controllers")):
                raise NoData(f"no cgroup v2 hierarchy under {self.paths.sys('fs', 'cgroup')}")
        samples = []
        for directory, _, _ in os.walk(root):
            if directory == root:
                continue  # the root cgroup is the whole node, already covered
            files = {}
            for name in self.FILES:
                try:
                    files[name] = read_text(os.path.join(directory, name))
                except OSError:
                    continue  # controller not enabled here, or the cgroup just went away
            samples += cgroup_samples("/" + os.path.relpath(directory, root), files)
        return samples
