"""Start infracast-server for a benchmark and wait until it is ready."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

SERVER = str(Path(sys.executable).parent / "infracast-server")


def start_server(*args: str, server: str = SERVER) -> tuple[subprocess.Popen, str]:
    """The server process on a free loopback port, and its address, once it reports ready
    (`server`: another build's infracast-server, for side-by-side runs)."""
    process = subprocess.Popen([server, "--listen", "127.0.0.1:0", *args],
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    address = None
    for line in process.stderr:
        found = re.search(r"listening on (\S+)", line)
        address = address or (found.group(1) if found else None)
        if "server ready" in line:
            break
    # Keep draining the log so the server never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
    if address is None:
        raise RuntimeError("infracast-server exited before it was ready")
    return process, address
