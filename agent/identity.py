"""Who the agent is: its node name and an id that survives restarts."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Mapping
from pathlib import Path

AGENT_NAMESPACE = uuid.UUID("5b0e6c0e-4d38-4a57-9d53-6f2a8b1c9e11")
MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))


def node_name(flag: str | None, env: Mapping[str, str]) -> str:
    """--node, else NODE_NAME (the Kubernetes downward API), else the host name."""
    return flag or env.get("NODE_NAME") or socket.gethostname()


def agent_id(node: str, machine_id_files=MACHINE_ID_FILES) -> str:
    """A stable id derived from the machine id and node name (no state file needed)."""
    machine = ""
    for path in machine_id_files:
        try:
            machine = path.read_text().strip()
            break
        except OSError:
            continue
    return str(uuid5(AGENT_NAMESPACE, f"{machine}/{node}"))


def uuid5(namespace: uuid.UUID, name: str) -> uuid.UUID:
    """uuid.uuid5 through CPython's built-in SHA-1: uuid.uuid5 imports hashlib, which maps
    OpenSSL's libcrypto (3.5 MiB of the agent's RSS) for this one hash."""
    from _sha1 import sha1  # type: ignore[import-not-found]  # built into CPython, no OpenSSL

    return uuid.UUID(bytes=sha1(namespace.bytes + name.encode()).digest()[:16], version=5)
