"""File system space and inodes per mount point (node_filesystem_*)."""

from __future__ import annotations

import os
import re
from types import ModuleType

import psutil

from infracast.agent.collectors.base import Sample

# node_exporter's default exclusions: pseudo and container-internal file systems.
IGNORED_FSTYPES = re.compile(
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
    r"iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|"
    r"squashfs|erofs|sysfs|tracefs)$"
)
IGNORED_MOUNTPOINTS = re.compile(
    r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
)


class FilesystemCollector:
    name = "filesystem"

    def __init__(self, ps: ModuleType = psutil, statvfs=os.statvfs, host_root: str = "/") -> None:
        self.ps = ps
        self.statvfs = statvfs
        # In a container the host's mounts are seen under host_root (e.g. /host).
        self.host_root = host_root

    def collect(self) -> list[Sample]:
        samples: list[Sample] = []
        seen: set[str] = set()
        failures = []
        for partition in self.ps.disk_partitions(all=False):
            mountpoint = partition.mountpoint
            if self.host_root != "/":
                if not mountpoint.startswith(self.host_root):
                    continue
                mountpoint = "/" + mountpoint[len(self.host_root):].lstrip("/")
            if (mountpoint in seen or IGNORED_FSTYPES.match(partition.fstype)
                    or IGNORED_MOUNTPOINTS.match(mountpoint)):
                continue
            seen.add(mountpoint)
            try:
                stats = self.statvfs(partition.mountpoint)
            except OSError as error:
                failures.append(f"{mountpoint}: {error.strerror or error}")
                samples.append(Sample("node_filesystem_device_error", 1.0,
                                      {"device": partition.device, "mountpoint": mountpoint,
                                       "fstype": partition.fstype}))
                continue
            labels = {"device": partition.device, "mountpoint": mountpoint,
                      "fstype": partition.fstype}
            size = stats.f_blocks * stats.f_frsize
            free = stats.f_bfree * stats.f_frsize
            samples += [
                Sample("node_filesystem_size_bytes", float(size), labels),
                Sample("node_filesystem_free_bytes", float(free), labels),
                Sample("node_filesystem_avail_bytes", float(stats.f_bavail * stats.f_frsize), labels),
                # No node_exporter counterpart (it leaves size - free to PromQL).
                Sample("infracast_node_filesystem_used_bytes", float(size - free), labels),
                Sample("node_filesystem_files", float(stats.f_files), labels),
                Sample("node_filesystem_files_free", float(stats.f_ffree), labels),
                Sample("node_filesystem_device_error", 0.0, labels),
            ]
        if failures and not any(s.metric == "node_filesystem_size_bytes" for s in samples):
            raise OSError("no file system could be read: " + "; ".join(failures))
        return samples
