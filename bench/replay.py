"""How long a restarted server takes to become ready with N samples in its data directory.

    python bench/replay.py [--samples 1000000] [--series 1000]

Writes the samples through the store's own log (recent enough to stay raw), then
starts infracast-server on that directory and times it until readiness (the
named services turn SERVING only after the replay).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from infracast.server.series import SeriesKey
from infracast.server.store.base import SampleBatch, SeriesWrite
from infracast.server.store.sample_log import SampleLog

SERVER = str(Path(sys.executable).parent / "infracast-server")


async def fill(directory: Path, samples: int, series: int) -> None:
    per_series = samples // series
    log = SampleLog(directory, raw_window_ms=7 * 86_400_000, retention_ms=14 * 86_400_000)
    log.open()
    log.start()
    end = int(time.time() * 1000)
    timestamps = end - 10_000 * np.arange(per_series, dtype=np.int64)[::-1]
    values = np.random.default_rng(0).normal(size=per_series)
    for start in range(0, series, 50):
        await log.write(SampleBatch.of_writes(
            [SeriesWrite(SeriesKey.of("replay_value", {"series": str(i)}), timestamps, values)
             for i in range(start, min(start + 50, series))]))
    log.close()


def time_to_ready(directory: Path) -> tuple[float, str]:
    started = time.perf_counter()
    process = subprocess.Popen([SERVER, "--listen", "127.0.0.1:0", "--data-dir", str(directory),
                                "--raw-window", "7d"], stderr=subprocess.PIPE, text=True)
    replayed = ""
    assert process.stderr is not None
    for line in process.stderr:
        if "replayed" in line:
            replayed = re.sub(r"^.*?: ", "", line.strip())
        if "server ready" in line:
            break
    ready = time.perf_counter() - started
    process.terminate()
    process.wait(60)
    process.stderr.close()
    return ready, replayed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        asyncio.run(fill(Path(directory), args.samples, args.series))
        size = sum(p.stat().st_size for p in Path(directory).iterdir()) / 2**20
        print(f"wrote {args.samples:,} samples of {args.series:,} series in "
              f"{time.perf_counter() - started:.1f}s ({size:.0f} MiB on disk)")
        ready, replayed = time_to_ready(Path(directory))
        print(f"server: {replayed}")
        print(f"start to readiness: {ready:.1f} s (target: under 30 s)")


if __name__ == "__main__":
    main()
