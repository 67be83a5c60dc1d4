"""Memory per series of the in-memory windows, fresh and full, for sizing a server.

    python bench/store_memory.py [--series 2000] [--raw-window 6h] [--retention 14d] [--interval 10s]

Fills a MemoryStore the way a long-running server holds it: each series gets
`--retention` of history in one write (at 5-minute spacing, which ages into one
aggregate per bucket, as samples at any spacing would), then `--raw-window` of raw
samples at `--interval`, one sample per series per append, as agents send them.
Prints the process's RSS growth per series with one sample each (a server that just
started) and with full windows (a server that has run for the retention), beside the
size of the arrays alone.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np
import psutil

from infracast.common.durations import parse_duration
from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesWrite
from infracast.server.store.memory import BUCKET_MS, MemoryLimits, MemoryStore


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--raw-window", default="6h")
    parser.add_argument("--retention", default="14d")
    parser.add_argument("--interval", default="10s")
    args = parser.parse_args()
    raw_ms = int(parse_duration(args.raw_window) * 1000)
    retention_ms = int(parse_duration(args.retention) * 1000)
    interval_ms = int(parse_duration(args.interval) * 1000)
    limits = MemoryLimits(raw_window_ms=raw_ms, downsampled_window_ms=retention_ms)
    store = MemoryStore(limits)
    keys = [SeriesKey.of(f"bench_metric_{i % 50}", {"node": f"node-{i // 100:04d}", "index": str(i)})
            for i in range(args.series)]
    now = int(time.time() * 1000)
    rng = np.random.default_rng(0)

    before = rss()
    store.append_now([SeriesWrite(k, np.array([now - retention_ms]), np.array([1.0])) for k in keys])
    fresh = (rss() - before) / args.series

    old_times = np.arange(now - retention_ms + BUCKET_MS, now - raw_ms, BUCKET_MS, dtype=np.int64)
    raw_times = np.arange(now - raw_ms, now, interval_ms, dtype=np.int64)
    started = time.perf_counter()
    for key in keys:  # history as a replay or back-fill brings it
        store.append_now([SeriesWrite(key, old_times, rng.random(len(old_times)))])
    for stamp in raw_times:  # the raw window as agents send it: one sample per series per batch
        store.append_now([SeriesWrite(key, np.array([stamp]), rng.random(1)) for key in keys])
    fill_s = time.perf_counter() - started
    full = (rss() - before) / args.series

    buckets = retention_ms // BUCKET_MS
    raw_samples = min(raw_ms // interval_ms, limits.max_raw_samples)
    bound = raw_samples * 16 + buckets * 12  # int64 + float64 raw; float64 sum + int32 count per bucket
    summary = store.summary(keys[0])
    print(f"{args.series} series; raw window {args.raw_window} at {args.interval} "
          f"({raw_samples} samples), retention {args.retention} ({buckets} buckets); "
          f"filled in {fill_s:.1f}s; first series holds {summary.sample_count if summary else 0} points")
    print(f"fresh (one sample each): {fresh / 1024:8.2f} KiB per series")
    print(f"full windows:            {full / 1024:8.2f} KiB per series "
          f"(computed arrays alone: {bound / 1024:.1f} KiB; ratio {full / bound:.2f})")
    print(f"=> 1,000 series: {full * 1000 / 2**20:.0f} MiB; 100,000 series: {full * 100_000 / 2**30:.1f} GiB")


if __name__ == "__main__":
    main()
