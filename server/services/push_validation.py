"""What a Push stream must hold, checked without grpc: the hello, and each batch turned into
store writes (refused whole, naming the series and the rule, if any of it is bad)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import partial

import numpy as np
from google.protobuf.message import DecodeError

from infracast.server.errors import InvalidArgument, quoted
from infracast.server.metadata.descriptors import MetricDescriptor
from infracast.server.series import LABEL_NAME, METRIC_NAME, NODE_LABEL, SeriesKey
from infracast.server.store.base import SampleBatch, SeriesWrite
from infracast.v1 import ingest_pb2, series_pb2

MAX_NODE_LABELS = 64


@dataclass(frozen=True)
class IngestLimits:
    max_labels: int = 32
    max_label_length: int = 1024
    max_metric_name_length: int = 256
    max_label_name_length: int = 256
    max_series_per_agent: int = 20_000
    max_series: int = 1_000_000
    max_future_skew_ms: int = 600_000
    retention_ms: int = 14 * 86_400_000
    # A stream holds a connection and a slot of the stream limit: one that sends no hello,
    # or no batch for this long (agents send one every interval), is closed.
    hello_timeout_s: float = 10.0
    stream_idle_timeout_s: float = 300.0


DEFAULT_LIMITS = IngestLimits()


@dataclass
class DecodedBatch:
    samples: SampleBatch  # NaN gaps dropped
    gaps: int  # NaN samples skipped
    new_keys: list[SeriesKey]  # series the store did not hold, validated
    # Key bytes first seen in this batch and the position of the series they name, for the
    # stream's cache (wire_batch.KnownKeys) once the batch is stored; only series with
    # samples in it.
    learned: list[tuple[bytes, int]] = dataclass_field(default_factory=list)
    # The batch's metric descriptors, checked (metadata first seen after the hello).
    descriptors: list[MetricDescriptor] = dataclass_field(default_factory=list)

    @property
    def writes(self) -> list[SeriesWrite]:
        """One write per series, for stores that take those (and for tests)."""
        return self.samples.writes()


def decode_batch(batch: ingest_pb2.Batch, node: str, limits: IngestLimits = IngestLimits(),
                 now_ms: int | None = None,
                 held: Callable[[SeriesKey], bool] = lambda key: False) -> DecodedBatch:
    """Validate a batch and turn it into store writes; NaN samples are gaps and are skipped.

    A series the store already `held` was validated when it arrived first: only its node
    label is checked again. Samples are checked for the whole batch at once (a batch is
    mostly series of one sample each, and numpy's cost is per call). Raises
    InvalidArgument naming the offending series, the limit and its value, so nothing of
    a bad batch is stored.
    """
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    keys: list[SeriesKey] = []
    new_keys: list[SeriesKey] = []
    times: list[int] = []
    values: list[float] = []
    ends: list[int] = []
    for position, samples in enumerate(batch.series):
        where = partial(series_at, batch.sequence, position, samples.key)  # formatted only for errors
        key = key_of(samples.key, node, where)
        if not held(key):
            key = validated_key(key, samples.key, where, limits)
            new_keys.append(key)
        if len(samples.timestamps_ms) != len(samples.values):
            raise InvalidArgument(
                f"{where()}: {len(samples.timestamps_ms)} timestamps but {len(samples.values)} values"
            )
        keys.append(key)
        times.extend(samples.timestamps_ms)
        values.extend(samples.values)
        ends.append(len(times))
    all_times = np.array(times, dtype=np.int64)
    all_values = np.array(values, dtype=np.float64)
    check_samples(all_times, all_values, np.array(ends, dtype=np.int64), now_ms, limits,
                  lambda position: partial(series_at, batch.sequence, position, batch.series[position].key))
    columns, gaps = without_gaps(keys, all_times, all_values, np.array(ends, dtype=np.int64))
    return DecodedBatch(columns, gaps, new_keys)


def without_gaps(keys: Sequence[SeriesKey], times: np.ndarray, values: np.ndarray,
                 ends: np.ndarray) -> tuple[SampleBatch, int]:
    """The batch's columns with NaN gaps dropped in one pass over the batch: (the
    samples, how many gaps)."""
    present = ~np.isnan(values)
    gaps = len(values) - int(np.count_nonzero(present))
    if gaps:
        times, values = times[present], values[present]
        kept = np.zeros(len(present) + 1, dtype=np.int64)
        np.cumsum(present, out=kept[1:])
        ends = kept[ends]
    return SampleBatch(keys, ends, times, values), gaps


def check_samples(times: np.ndarray, values: np.ndarray, ends: np.ndarray, now_ms: int,
                  limits: IngestLimits, where_of: Callable[[int], Callable[[], str]]) -> None:
    """Check a whole batch's samples at once (numpy's cost is per call, and a batch is
    mostly series of one sample each); raise for the first series at fault, named by
    `where_of(position)`. `ends[i]` is where series i's samples end."""
    bad = (times <= 0) | (times > now_ms + limits.max_future_skew_ms) \
        | (times < now_ms - limits.retention_ms) | np.isinf(values)
    if bad.any():
        position = int(np.searchsorted(ends, int(np.argmax(bad)), side="right"))
        start = int(ends[position - 1]) if position else 0
        _refuse_samples(where_of(position), times[start : ends[position]], values[start : ends[position]],
                        now_ms, limits)


def _refuse_samples(where: Callable[[], str], timestamps: np.ndarray, values: np.ndarray,
                    now_ms: int, limits: IngestLimits) -> None:
    """Raise for the first rule the samples of one series break, saying which and its limit."""
    if timestamps.min() <= 0:
        raise InvalidArgument(f"{where()}: timestamps must be positive milliseconds since the epoch")
    if timestamps.max() > now_ms + limits.max_future_skew_ms:
        raise InvalidArgument(
            f"{where()}: a timestamp is {(timestamps.max() - now_ms) / 1000:.0f}s in the future; "
            f"at most {limits.max_future_skew_ms / 1000:.0f}s is allowed (check the node's clock)")
    if timestamps.min() < now_ms - limits.retention_ms:
        raise InvalidArgument(
            f"{where()}: a timestamp is older than the retention of "
            f"{limits.retention_ms / 86_400_000:g} days")
    if np.isinf(values).any():
        raise InvalidArgument(f"{where()}: values must be finite (NaN marks a gap; ±Inf is refused)")
    raise AssertionError("a sample was refused but breaks no rule")


def series_at(sequence: int, position: int, key: series_pb2.SeriesKey) -> str:
    return f"batch {sequence}, series {position} ({quoted(key.metric, quotes=False) or 'no metric name'})"


def key_of(key: series_pb2.SeriesKey, node: str, where: Callable[[], str]) -> SeriesKey:
    """The store key of a series as sent, with the stream's node as its node label."""
    labels = dict(key.labels)
    if labels.setdefault(NODE_LABEL, node) != node:
        raise InvalidArgument(
            f"{where()}: node label {quoted(labels[NODE_LABEL])} differs from this stream's node "
            f"{node!r}; an agent writes only its own node's series"
        )
    return SeriesKey.of(key.metric, labels)


def validated_key(key: SeriesKey, sent: series_pb2.SeriesKey, where: Callable[[], str],
                   limits: IngestLimits) -> SeriesKey:
    """The key of a series the store does not hold yet, checked, with interned strings."""
    if len(key.metric) > limits.max_metric_name_length:
        raise InvalidArgument(f"{where()}: the metric name is {len(key.metric)} characters long; at "
                              f"most {limits.max_metric_name_length} are allowed (max_metric_name_length)")
    if not METRIC_NAME.match(key.metric):
        raise InvalidArgument(f"{where()}: metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*")
    if len(sent.labels) > limits.max_labels:
        raise InvalidArgument(
            f"{where()}: {len(sent.labels)} labels; at most {limits.max_labels} are allowed")
    for name, value in sent.labels.items():
        if len(name) > limits.max_label_name_length:
            raise InvalidArgument(
                f"{where()}: label name {quoted(name)} is {len(name)} characters long; at most "
                f"{limits.max_label_name_length} are allowed (max_label_name_length)")
        if not LABEL_NAME.match(name) or name.startswith("__"):
            raise InvalidArgument(f"{where()}: label name {quoted(name)} is not allowed")
        if len(value) > limits.max_label_length:
            raise InvalidArgument(f"{where()}: label {name} is {len(value)} characters long; "
                                  f"at most {limits.max_label_length} are allowed")
    return SeriesKey.interned(key.metric, key.label_map)


def parsed_request(data: bytes) -> ingest_pb2.PushRequest:
    """A PushRequest from its bytes (Push hands requests over undecoded: see wire_batch)."""
    try:
        return ingest_pb2.PushRequest.FromString(data)
    except DecodeError as error:
        raise InvalidArgument(f"the request could not be decoded: {error}") from None


def checked_hello(first: ingest_pb2.PushRequest | None) -> ingest_pb2.Hello:
    """The stream's hello, checked: it names the node every later batch writes for."""
    if first is None:
        raise InvalidArgument("empty stream: send a hello first")
    if first.WhichOneof("message") is None:
        raise InvalidArgument("the first message of a Push stream must be a hello; this one is empty")
    if first.WhichOneof("message") != "hello":
        raise InvalidArgument("the first message of a Push stream must be a hello, not a batch")
    hello = first.hello
    if not hello.node.strip():
        raise InvalidArgument("hello.node is empty: set the node name (flag --node or NODE_NAME)")
    if len(hello.node) > 253 or any(not ch.isprintable() for ch in hello.node):
        raise InvalidArgument("hello.node must be at most 253 printable characters")
    for field, most in (("agent_id", 253), ("agent_version", 128)):  # both are logged
        text = getattr(hello, field)
        if len(text) > most or not text.isprintable():
            raise InvalidArgument(f"hello.{field} must be at most {most} printable characters")
    if len(hello.labels) > MAX_NODE_LABELS:
        raise InvalidArgument(
            f"hello carries {len(hello.labels)} node labels; at most {MAX_NODE_LABELS} are allowed")
    for name, value in hello.labels.items():
        if len(name) > 317 or len(value) > 63:
            raise InvalidArgument(f"hello label {name[:64]!r} is too long (as in Kubernetes, "
                                  "names of at most 317 characters, values of at most 63)")
    for field in ("allocatable_cpu_cores", "allocatable_memory_bytes"):
        value = getattr(hello, field)
        if not (math.isfinite(value) and value >= 0):
            raise InvalidArgument(f"hello.{field} must be a finite number >= 0, got {value}")
    return hello
