"""File system space, inodes and read-only state per mount point (node_filesystem_*), with
node_exporter's default exclusions of pseudo file systems and mount points.

Mounts come from the host's /proc/1/mounts (so tmpfs, NFS, CIFS, FUSE and CephFS are seen
as node_exporter sees them, which psutil's all=False would skip); each is statted under
the host's root. A network file system can hang statvfs: it is statted in a thread with a
deadline, and a mount that missed it is reported as an error and skipped until that
statvfs returns (node_exporter's "stuck mounts")."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from typing import NamedTuple

from infracast.agent.collectors.base import Sample
from infracast.agent.collectors.host_files import ON_HOST, HostPaths, read_text

# node_exporter's default --collector.filesystem.fs-types-exclude and mount-points-exclude.
IGNORED_FSTYPES = re.compile(
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
    r"iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|"
    r"squashfs|erofs|sysfs|tracefs)$"
)
IGNORED_MOUNTPOINTS = re.compile(
    r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
)
# Where statvfs waits on a server: statted with a deadline.
NETWORK_FSTYPES = re.compile(r"^(nfs4?|cifs|smb3?|ceph|glusterfs|9p|fuse(\..*)?|afs)$")
STAT_TIMEOUT_S = 5.0
OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


class Mount(NamedTuple):
    device: str
    mountpoint: str
    fstype: str
    read_only: bool


def _unescape(field: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash as \\040-style octal."""
    return OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(mounts: str, rootfs: str = "/") -> list[Mount]:
    """Mounts to report, later mounts on the same point winning (they hide earlier ones);
    mount points under `rootfs` are given as the host sees them."""
    found: dict[str, Mount] = {}
    prefix = rootfs.rstrip("/")
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        device, mountpoint, fstype = _unescape(fields[0]), _unescape(fields[1]), fields[2]
        if prefix and (mountpoint == prefix or mountpoint.startswith(prefix + "/")):
            mountpoint = mountpoint[len(prefix):] or "/"
        if IGNORED_FSTYPES.match(fstype) or IGNORED_MOUNTPOINTS.match(mountpoint):
            continue
        found.pop(mountpoint, None)
        found[mountpoint] = Mount(device, mountpoint, fstype, "ro" in fields[3].split(","))
    return list(found.values())


def filesystem_samples(mount: Mount, stats: os.statvfs_result) -> list[Sample]:
    labels = {"device": mount.device, "fstype": mount.fstype, "mountpoint": mount.mountpoint}
    size = float(stats.f_blocks * stats.f_frsize)
    free = float(stats.f_bfree * stats.f_frsize)
    return [
        Sample("node_filesystem_size_bytes", size, labels),
        Sample("node_filesystem_free_bytes", free, labels),
        Sample("node_filesystem_avail_bytes", float(stats.f_bavail * stats.f_frsize), labels),
        # No node_exporter counterpart (it leaves size - free to PromQL).
        Sample("infracast_node_filesystem_used_bytes", size - free, labels),
        Sample("node_filesystem_files", float(stats.f_files), labels),
        Sample("node_filesystem_files_free", float(stats.f_ffree), labels),
        Sample("node_filesystem_readonly", float(mount.read_only), labels),
        Sample("node_filesystem_device_error", 0.0, labels),
    ]


class FilesystemCollector:
    name = "filesystem"

    def __init__(self, paths: HostPaths = ON_HOST,
                 statvfs: Callable[[str], os.statvfs_result] = os.statvfs,
                 timeout_s: float = STAT_TIMEOUT_S) -> None:
        self.paths = paths
        self.statvfs = statvfs
        self.timeout_s = timeout_s
        self._stuck: set[str] = set()
        self._stuck_lock = threading.Lock()

    def _mounts_text(self) -> str:
        try:
            return read_text(self.paths.proc("1", "mounts"))
        except OSError:  # no access to PID 1 (not the host's PID namespace): our own view
            return read_text(self.paths.proc("self", "mounts"))

    def _stat_with_deadline(self, mount: Mount, path: str) -> os.statvfs_result:
        result: list[os.statvfs_result | OSError] = []

        def stat() -> None:
            try:
                result.append(self.statvfs(path))
            except OSError as error:
                result.append(error)
            with self._stuck_lock:
                self._stuck.discard(mount.mountpoint)

        worker = threading.Thread(target=stat, name=f"statvfs {path}", daemon=True)
        with self._stuck_lock:
            self._stuck.add(mount.mountpoint)
        worker.start()
        worker.join(self.timeout_s)
        if not result:
            raise TimeoutError(f"statvfs did not return within {self.timeout_s:g}s")
        if isinstance(result[0], OSError):
            raise result[0]
        return result[0]

    def collect(self) -> list[Sample]:
        samples: list[Sample] = []
        failures = []
        for mount in parse_mounts(self._mounts_text(), self.paths.rootfs):
            path = self.paths.root(mount.mountpoint)
            try:
                if mount.mountpoint in self._stuck:
                    raise TimeoutError("an earlier statvfs has not returned yet")
                if NETWORK_FSTYPES.match(mount.fstype):
                    stats = self._stat_with_deadline(mount, path)
                else:
                    stats = self.statvfs(path)
            except OSError as error:
                failures.append(f"{mount.mountpoint}: {error.strerror or error}")
                samples.append(Sample("node_filesystem_device_error", 1.0,
                                      {"device": mount.device, "fstype": mount.fstype,
                                       "mountpoint": mount.mountpoint}))
                continue
            samples += filesystem_samples(mount, stats)
        if failures and not any(s.metric == "node_filesystem_size_bytes" for s in samples):
            raise OSError("no file system could be read: " + "; ".join(failures))
        return samples
