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


class KeptFiles:
    """Files read every collection at fixed paths (/proc/stat, /proc/meminfo, ...), kept
    open and read again from offset 0 with pread: /proc generates a file's contents anew
    on every read from its start, and open and close were 40 % of the time a collection
    spent in system calls. Regular files (captured hosts in tests) are never kept, as they
    may be replaced; a file that fails is closed and opened afresh next time. Not for paths
    that come and go (processes, interfaces, cgroups): their descriptors would pile up."""

    def __init__(self) -> None:
        self._fds: dict[str, int] = {}

    def read(self, path: str) -> bytes:
        fd = self._fds.get(path)
        if fd is None:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            if os.fstat(fd).st_size != 0:  # a regular file, not a generated one
                try:
                    return _read_from(fd)
                finally:
                    os.close(fd)
            self._fds[path] = fd
        try:
            return _read_from(fd)
        except OSError:
            del self._fds[path]
            os.close(fd)
            raise

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


def _read_from(fd: int) -> bytes:
    data = os.pread(fd, READ_SIZE, 0)
    if len(data) < READ_SIZE:
        return data
    chunks = [data]
    while chunk := os.pread(fd, READ_SIZE, sum(map(len, chunks))):
        chunks.append(chunk)
    return b"".join(chunks)


KEPT_FILES = KeptFiles()


def read_kept(path: str) -> str:
    """A file at a fixed path, read every collection (see KeptFiles)."""
    return KEPT_FILES.read(path).decode()


def read_optional(path: str, what: str) -> str:
    """A file that only some kernels have: NoData (not a failure) when it is absent."""
    try:
        return read_kept(path)
    except FileNotFoundError:
        raise NoData(f"{what}: {path} does not exist") from None


# The paths when the agent runs on the host itself.
ON_HOST = HostPaths()
