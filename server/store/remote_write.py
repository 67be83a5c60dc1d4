"""Prometheus remote write (1.0): WriteRequest protobuf, snappy block-compressed, POSTed.

The messages are those of prometheus/prompb (types.proto, remote.proto), built here from
a descriptor with the protobuf runtime, so no generated code and no second API package
sit in proto/. Retries follow the protocol's rules: 5xx, 429 and no answer are retried
with jittered exponential backoff (a Retry-After is honoured); any other 4xx means the
TSDB will never take the data, so it is dropped with the TSDB's reason logged.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from infracast.server.store.base import SeriesWrite
from infracast.server.store.tsdb_http import TsdbError, TsdbHttp

log = logging.getLogger(__name__)

HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "infracast",
}
FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0


def _messages():
    F = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="infracast_prompb_remote.proto", package="prometheus",
                                              syntax="proto3")

    def message(name: str, *fields: tuple[str, int, int, int, str]) -> None:
        added = file.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            added.field.add(name=field_name, number=number, type=kind, label=label,
                            type_name=type_name or None)

    one, many = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    message("Label", ("name", 1, F.TYPE_STRING, one, ""), ("value", 2, F.TYPE_STRING, one, ""))
    message("Sample", ("value", 1, F.TYPE_DOUBLE, one, ""), ("timestamp", 2, F.TYPE_INT64, one, ""))
    message("TimeSeries", ("labels", 1, F.TYPE_MESSAGE, many, ".prometheus.Label"),
            ("samples", 2, F.TYPE_MESSAGE, many, ".prometheus.Sample"))
    message("WriteRequest", ("timeseries", 1, F.TYPE_MESSAGE, many, ".prometheus.TimeSeries"))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"prometheus.{name}"))
            for name in ("WriteRequest", "TimeSeries")}


_MESSAGES = _messages()
WriteRequest = _MESSAGES["WriteRequest"]


def encode(writes: list[SeriesWrite]) -> bytes:
    """A snappy-compressed WriteRequest; labels sorted by name, __name__ among them."""
    request = WriteRequest()
    for write in writes:
        series = request.timeseries.add()
        labels = sorted([("__name__", write.key.metric), *write.key.labels])
        for name, value in labels:
            series.labels.add(name=name, value=value)
        for timestamp, value in zip(write.timestamps_ms.tolist(), write.values.tolist(), strict=True):
            series.samples.add(value=value, timestamp=timestamp)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def decode(body: bytes):
    """A WriteRequest from its wire form (for tests and tools)."""
    request = WriteRequest()
    request.ParseFromString(bytes(cramjam.snappy.decompress_raw(body)))
    return request


@dataclass(frozen=True)
class WriteOutcome:
    accepted: bool  # False: the TSDB refused it for good (a 4xx), and it was dropped
    reason: str = ""
    attempts: int = 1


class RemoteWriter:
    def __init__(self, http: TsdbHttp, give_up_after_s: float = 60.0) -> None:
        self._http = http
        self._give_up_after_s = give_up_after_s
        self.retries = 0
        self.dropped_samples = 0

    async def write(self, writes: list[SeriesWrite]) -> WriteOutcome:
        """Send until the TSDB accepted the samples or refused them for good.

        Raises TsdbError when it kept failing (5xx, 429, unreachable) past the deadline:
        the caller then must not acknowledge, so the agent sends the batch again.
        """
        body = await asyncio.to_thread(encode, writes)
        url = self._http.endpoint.remote_write_url
        deadline = time.monotonic() + self._give_up_after_s
        backoff = FIRST_BACKOFF_S
        attempts = 0
        while True:
            attempts += 1
            try:
                await asyncio.to_thread(self._http.post, url, body, HEADERS)
                return WriteOutcome(True, attempts=attempts)
            except TsdbError as error:
                if 400 <= error.status < 500 and error.status != 429:
                    count = sum(len(w.values) for w in writes)
                    self.dropped_samples += count
                    log.warning("remote write dropped %d samples: the TSDB refused them: %s", count, error)
                    return WriteOutcome(False, str(error), attempts)
                wait = error.retry_after_s if error.retry_after_s is not None else backoff
                wait = min(wait, MAX_BACKOFF_S) * random.uniform(0.8, 1.2)
                if time.monotonic() + wait > deadline:
                    raise
                self.retries += 1
                log.info("remote write failed (%s); retrying in %.1fs", error, wait)
                await asyncio.sleep(wait)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
