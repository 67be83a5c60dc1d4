"""Where the host's /proc, /sys and root file system are, and reading their files cheaply."""

from __future__ import annotations

import os
from dataclasses import dataclass

from infracast.agent.collectors.base import NoData

READ_SIZE = 1 << 16


@dataclass(frozen=True)
class HostPaths:
    """node_exporter's --path.procfs, --path.sysfs and --path.rootfs."""

    procfs: str = "/proc"
    sysfs: str = "/sys"
    rootfs: str = "/"

    def proc(self, *parts: str) -> str:
        return os.path.join(self.procfs, *parts)

    def sys(self, *parts: str) -> str:
        return os.path.join(self.sysfs, *parts)

    def root(self, path: str) -> str:
        """A host path (e.g. a mount point) as this process sees it."""
        return os.path.join(self.rootfs, path.lstrip("/"))


def read_bytes(path: str) -> bytes:
    """The whole file. os.open/os.read: about a third of open().read()'s cost on /proc,
    which matters when the processes collector reads every /proc/PID/stat."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, READ_SIZE)
        if len(data) < READ_SIZE:
            return data
        chunks = [data]
        while chunk := os.read(fd, READ_SIZE):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: str) -> str:
    return read_bytes(path).decode()


def read_optional(path: str, what: str) -> str:
    """A file that only some kernels have: NoData (not a failure) when it is absent."""
    try:
        return read_text(path)
    except FileNotFoundError:
        raise NoData(f"{what}: {path} does not exist") from None


# The paths when the agent runs on the host itself.
ON_HOST = HostPaths()
