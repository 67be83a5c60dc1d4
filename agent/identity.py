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
    return str(uuid.uuid5(AGENT_NAMESPACE, f"{machine}/{node}"))
