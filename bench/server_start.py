"""Cold and warm start of infracast-server: time until readiness, with and without numba's cache.

    python bench/server_start.py [--runs 3]

Cold: an empty NUMBA_CACHE_DIR, so every kernel compiles. Warm: the same directory
again, so kernels load from the cache (what a restarted server or a pre-warmed image does).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER = str(Path(sys.executable).parent / "infracast-server")


def time_to_ready(cache_dir: str) -> tuple[float, float]:
    """Seconds from exec to 'listening' (liveness) and to 'server ready' (readiness)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    started = time.perf_counter()
    process = subprocess.Popen([SERVER, "--listen", "127.0.0.1:0"], stderr=subprocess.PIPE,
                               text=True, env=env)
    listening = None
    assert process.stderr is not None
    for line in process.stderr:
        if listening is None and re.search("listening on", line):
            listening = time.perf_counter() - started
        if "server ready" in line:
            ready = time.perf_counter() - started
            break
    else:
        raise RuntimeError("server exited before it was ready")
    process.terminate()
    process.wait(30)
    process.stderr.close()
    return listening or ready, ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'start':8s}{'listening (s)':>16s}{'ready (s)':>12s}")
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as cache_dir:
            cold = time_to_ready(cache_dir)
            warm = time_to_ready(cache_dir)
        print(f"{'cold':8s}{cold[0]:16.2f}{cold[1]:12.2f}")
        print(f"{'warm':8s}{warm[0]:16.2f}{warm[1]:12.2f}"
              f"   (run {run + 1}: ready {cold[1] / warm[1]:.1f}x sooner)")


if __name__ == "__main__":
    main()
