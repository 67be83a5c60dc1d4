"""Memory per series of the in-memory windows, fresh and full, for sizing a server.

    python bench/store_memory.py [--series 2100] [--values node] [--raw-window 6h]
                                 [--retention 14d] [--interval 10s]
    python bench/code_before.py REV bench/store_memory.py ...   # the same, on REV's store

Fills a MemoryStore the way a long-running server holds it: each series gets
`--retention` of history in one write (at 5-minute spacing, which ages into one
aggregate per bucket, as samples at any spacing would), then `--raw-window` of raw
samples at `--interval`, one sample per series per append, as agents send them.
Values (bench/node_like_series.py): `node` spreads the series evenly over the node-like
kinds (real recorded NAB series among them), `agent` over those an agent sends (all but
NAB's); a kind's name gives only that kind; `random` is incompressible noise, the worst
case.

Prints the process's RSS growth per series with one sample each (a server that just
started) and with full windows (a server that has run for the retention), beside the
target (1/5 of the 92.5 KiB plain arrays took). The store's code paths run once on a
throwaway series first, so loading its compiled kernels (once per process, shared with
the forecasts' in a server) is not counted per series.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import sys
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from node_like_series import ALL_KINDS, MIXES, values

from infracast.common.durations import parse_duration
from infracast.server.series import SeriesKey
from infracast.server.store.base import SeriesWrite
from infracast.server.store.memory import BUCKET_MS, MemoryLimits, MemoryStore

BEFORE_KIB = 92.5  # plain arrays, measured by this bench before compression (README)


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def warm_up(limits: MemoryLimits) -> int:
    """Run every store path once on a throwaway store; return the RSS that took."""
    before = rss()
    store = MemoryStore(limits)
    key = SeriesKey.of("warm_up", {})
    times = np.arange(1, 20_000, dtype=np.int64) * 60_000
    store.append_now([SeriesWrite(key, times[:10_000], np.random.default_rng(1).random(10_000))])
    for stamp in times[10_000:10_500]:
        store.append_now([SeriesWrite(key, np.array([stamp]), np.array([1.5]))])
    store.append_now([SeriesWrite(key, times[10_400:10_450], np.ones(50))])
    store.window(key)
    store.summary(key)
    del store
    return rss() - before


def give_back_freed() -> None:
    """Hand memory freed so far back to the system (glibc), or the series measured next
    would fill it unseen (reading NAB's files frees much)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=2100)
    parser.add_argument("--values", default="node", choices=(*MIXES, *ALL_KINDS))
    parser.add_argument("--raw-window", default="6h")
    parser.add_argument("--retention", default="14d")
    parser.add_argument("--interval", default="10s")
    args = parser.parse_args()
    raw_ms = int(parse_duration(args.raw_window) * 1000)
    retention_ms = int(parse_duration(args.retention) * 1000)
    interval_ms = int(parse_duration(args.interval) * 1000)
    limits = MemoryLimits(raw_window_ms=raw_ms, downsampled_window_ms=retention_ms)
    kinds = MIXES.get(args.values, (args.values,))
    kernels = warm_up(limits)
    store = MemoryStore(limits)
    keys = [SeriesKey.of(f"bench_metric_{i % 50}", {"node": f"node-{i // 100:04d}", "index": str(i)})
            for i in range(args.series)]
    now = int(time.time() * 1000)
    rng = np.random.default_rng(0)
    old_times = np.arange(now - retention_ms + BUCKET_MS, now - raw_ms, BUCKET_MS, dtype=np.int64)
    raw_times = np.arange(now - raw_ms, now, interval_ms, dtype=np.int64)
    # Every series' values made up front, so the measured growth is the store's alone.
    history = [values(kinds[i % len(kinds)], len(old_times) + len(raw_times), rng, i)
               for i in range(args.series)]
    raw_values = np.stack([h[len(old_times):] for h in history], axis=1)  # [time, series]

    give_back_freed()
    before = rss()
    store.append_now([SeriesWrite(k, np.array([now - retention_ms]), h[:1])
                      for k, h in zip(keys, history, strict=True)])
    fresh = (rss() - before) / args.series

    started = time.perf_counter()
    for key, series_values in zip(keys, history, strict=True):  # history as a replay or back-fill brings it
        store.append_now([SeriesWrite(key, old_times, series_values[: len(old_times)])])
    for row, stamp in enumerate(raw_times):  # the raw window as agents send it: a sample per series a batch
        stamps = np.array([stamp])
        store.append_now([SeriesWrite(key, stamps, raw_values[row, i: i + 1]) for i, key in enumerate(keys)])
    fill_s = time.perf_counter() - started
    full = (rss() - before) / args.series

    buckets = retention_ms // BUCKET_MS
    raw_samples = min(raw_ms // interval_ms, limits.max_raw_samples)
    summary = store.summary(keys[0])
    print(f"{args.series} series of {args.values} values ({', '.join(kinds)}); raw window {args.raw_window} "
          f"at {args.interval} ({raw_samples} samples), retention {args.retention} ({buckets} buckets); "
          f"filled in {fill_s:.1f}s; first series holds {summary.sample_count if summary else 0} points; "
          f"store code warm-up {kernels / 2**20:.0f} MiB once")
    print(f"fresh (one sample each): {fresh / 1024:8.2f} KiB per series")
    print(f"full windows:            {full / 1024:8.2f} KiB per series "
          f"(target <= {BEFORE_KIB / 5:.1f} KiB, 1/5 of {BEFORE_KIB} KiB before; "
          f"{BEFORE_KIB * 1024 / full:.1f}x smaller)")
    print(f"=> 1,000 series: {full * 1000 / 2**20:.0f} MiB; 100,000 series: {full * 100_000 / 2**30:.1f} GiB")


if __name__ == "__main__":
    main()
