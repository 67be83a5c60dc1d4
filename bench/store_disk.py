"""Bytes on disk per sample of the durable log, for node-like series.

    python bench/store_disk.py [--series 700] [--values node] [--raw-window 6h] [--interval 10s]
    python bench/code_before.py REV bench/store_disk.py ...   # the same, on REV's log

Writes `--raw-window` of samples at `--interval` for each series through SampleLog, one
commit per scrape (every series' sample of that instant, as agents' batches bring them),
the writer compacting as it does in a server (after each minute of samples' time; the
run is faster than real time), then closes (a checkpoint: the write-ahead log folded into the file). Prints
the file's size per sample, and its size less free pages (what SQLite reuses for the
next commits before growing the file) per sample, beside the target of 2 bytes. Values
as bench/store_memory.py (bench/node_like_series.py).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from node_like_series import ALL_KINDS, MIXES, values

from infracast.common.durations import parse_duration
from infracast.server.series import SeriesKey
from infracast.server.store.base import SampleBatch, SeriesWrite
from infracast.server.store.sample_log import SampleLog

TARGET_BYTES = 2.0


async def fill(log: SampleLog, keys: list[SeriesKey], times: np.ndarray, columns: np.ndarray,
               compact_every: int) -> None:
    for row, stamp in enumerate(times):
        if row % compact_every == compact_every - 1 or row == len(times) - 1:
            # The writer compacts after this commit, as a server's does once a minute.
            log._last_compaction = -math.inf
        stamps = np.array([stamp])
        await log.write(SampleBatch.of_writes(
            [SeriesWrite(key, stamps, columns[row, i: i + 1]) for i, key in enumerate(keys)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=700)
    parser.add_argument("--values", default="node", choices=(*MIXES, *ALL_KINDS))
    parser.add_argument("--raw-window", default="6h")
    parser.add_argument("--interval", default="10s")
    args = parser.parse_args()
    raw_ms = int(parse_duration(args.raw_window) * 1000)
    interval_ms = int(parse_duration(args.interval) * 1000)
    kinds = MIXES.get(args.values, (args.values,))
    now = int(time.time() * 1000)
    times = np.arange(now - raw_ms + interval_ms, now + 1, interval_ms, dtype=np.int64)
    rng = np.random.default_rng(0)
    columns = np.stack([values(kinds[i % len(kinds)], len(times), rng, i) for i in range(args.series)],
                       axis=1)
    keys = [SeriesKey.of(f"node_metric_{i % 50}", {"node": f"node-{i // 100:04d}", "index": str(i)})
            for i in range(args.series)]
    samples = len(times) * args.series
    with tempfile.TemporaryDirectory(prefix="infracast-disk-") as folder:
        # A raw window an hour longer than the samples span: every one stays raw.
        log = SampleLog(Path(folder), raw_window_ms=raw_ms + 3_600_000, retention_ms=14 * 86_400_000,
                        compact_every_s=3600.0)
        log.open()
        log.start()
        started, cpu = time.perf_counter(), time.process_time()
        asyncio.run(fill(log, keys, times, columns, max(1, 60_000 // interval_ms)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        log.close()
        size = log.size_bytes
        connection = sqlite3.connect(log.path)
        page_size, pages, free = (connection.execute(f"PRAGMA {name}").fetchone()[0]
                                  for name in ("page_size", "page_count", "freelist_count"))
        connection.close()
    used = (pages - free) * page_size
    print(f"{args.series} series of {args.values} values ({', '.join(kinds)}), {args.raw_window} at "
          f"{args.interval}: {samples:,} samples in {len(times)} commits, {elapsed:.1f} s "
          f"({samples / elapsed:,.0f} samples/s, {cpu / samples * 1e6:.1f} us CPU a sample, machine shared)")
    print(f"on disk: {size / 2**20:.2f} MiB = {size / samples:.2f} bytes a sample; less free pages "
          f"{used / 2**20:.2f} MiB = {used / samples:.2f} bytes a sample (target < {TARGET_BYTES:.0f})")


if __name__ == "__main__":
    main()
