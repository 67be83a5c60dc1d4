"""Decode and validation alone, per sample: a Push request's bytes to store writes.

    python bench/ingest_decode.py [--series 100] [--points-per-series 1] [--seconds 3]

Side by side in one process, on the same serialized requests of series the stream
already sent (the steady state of an agent's stream):
- protobuf: PushRequest.FromString, then push_validation.decode_batch (the path every
  batch took before the wire kernel, and still the fallback);
- wire: wire_batch.read_batch (numba kernel + the stream's known keys).
Prints microseconds per batch and nanoseconds per sample, and the ratio. One thread: it
measures CPU per sample, not what the GIL lets through.
"""

from __future__ import annotations

import argparse
import time

from infracast.server.services.push_validation import DEFAULT_LIMITS, decode_batch
from infracast.server.services.wire_batch import KnownKeys, read_batch
from infracast.v1 import ingest_pb2, series_pb2


def requests(series: int, points: int, count: int, now_ms: int) -> list[bytes]:
    made = []
    for index in range(count):
        start = now_ms - 3_600_000 + index * points
        times = [start + k for k in range(points)]
        values = [float(index * k) for k in range(points)]
        batch = ingest_pb2.Batch(sequence=index + 1, series=[
            series_pb2.SeriesSamples(
                key=series_pb2.SeriesKey(metric="node_network_receive_bytes_total",
                                         labels={"device": f"eth{s}", "instance": "10.0.0.1:9100"}),
                timestamps_ms=times, values=values)
            for s in range(series)])
        made.append(ingest_pb2.PushRequest(batch=batch).SerializeToString())
    return made


def timed(decode, batches: list[bytes], seconds: float) -> float:
    """Seconds per batch, over as many passes as fit in `seconds`."""
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for data in batches:
            decode(data)
        done += len(batches)
    return (time.perf_counter() - started) / done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--points-per-series", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    now_ms = int(time.time() * 1000)
    batches = requests(args.series, args.points_per_series, 50, now_ms)
    samples = args.series * args.points_per_series
    held: set = set()
    known = KnownKeys(DEFAULT_LIMITS.max_series_per_agent)

    def protobuf(data: bytes) -> None:
        decoded = decode_batch(ingest_pb2.PushRequest.FromString(data).batch, "n1", DEFAULT_LIMITS,
                               now_ms, held.__contains__)
        held.update(decoded.new_keys)

    def wire(data: bytes) -> None:
        _, decoded = read_batch(data, "n1", DEFAULT_LIMITS, known, now_ms, held.__contains__)
        known.learn(decoded)

    for decode in (protobuf, wire):  # warm up: compile, learn the keys
        decode(batches[0])
    print(f"batches of {args.series} series x {args.points_per_series} samples, "
          f"{len(batches[0]):,} bytes each")
    print(f"{'path':10s}{'us/batch':>12s}{'ns/sample':>12s}")
    results = {}
    for name, decode in (("protobuf", protobuf), ("wire", wire)):
        per_batch = timed(decode, batches, args.seconds)
        results[name] = per_batch
        print(f"{name:10s}{per_batch * 1e6:12.1f}{per_batch / samples * 1e9:12.0f}")
    print(f"\nwire / protobuf: {results['wire'] / results['protobuf']:.2f}x the CPU per sample")


if __name__ == "__main__":
    main()
