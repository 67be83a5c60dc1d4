"""Containers run with podman and runc, as root, removed with their volumes afterwards."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

# crun fails on some kernels' cgroup setups; podman's default open-file limit exceeds the
# hard limit (20,000) of some test machines (deploy/images/build-with-podman.sh alike).
GLOBAL_OPTIONS = ("--runtime", "runc", "--cgroup-manager=cgroupfs")
LIMITS = ("--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096")


class Podman:
    def __init__(self, executable: str) -> None:
        self.executable = executable

    def run(self, *args: str, check: bool = True, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([self.executable, *GLOBAL_OPTIONS, *args], capture_output=True,
                                text=True, timeout=timeout_s)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}{result.stderr}")
        return result

    def inspect(self, name: str) -> dict:
        return json.loads(self.run("container", "inspect", name).stdout)[0]

    def logs(self, name: str) -> str:
        result = self.run("logs", name, check=False)
        return result.stdout + result.stderr

    @contextmanager
    def container(self, role: str, image: str, *options: str) -> Iterator[str]:
        """A detached container on the host's network; its name. Removed, with its anonymous
        volumes, however the block ends."""
        name = f"infracast-test-{role}-{uuid.uuid4().hex[:8]}"
        try:
            self.run("run", "--detach", "--name", name, "--network", "host", *LIMITS, *options, image)
            yield name
        finally:
            self.run("rm", "--force", "--volumes", "--time", "5", name, check=False)
