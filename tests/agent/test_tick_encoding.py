"""The hand-encoded Batch equals the one protobuf builds message by message."""

from infracast.agent.collectors import Sample
from infracast.agent.tick_encoding import TickEncoder, varint
from infracast.v1 import ingest_pb2, series_pb2

SAMPLES = [
    Sample("node_load1", 0.25),
    Sample("node_cpu_seconds_total", 12345.67, {"cpu": "0", "mode": "idle"}),
    Sample("node_filesystem_size_bytes", 2.7e11, {"device": "/dev/vda", "fstype": "ext4",
                                                  "mountpoint": "/srv/data set é"}),
    Sample("node_vmstat_oom_kill", float("nan")),
    Sample("node_network_speed_bytes", -125000.0, {"device": "eth0"}),
]


def expected(timestamp_ms, samples):
    return ingest_pb2.Batch(series=[
        series_pb2.SeriesSamples(key=series_pb2.SeriesKey(metric=s.metric, labels=s.labels),
                                 timestamps_ms=[timestamp_ms], values=[s.value])
        for s in samples])


def test_encoded_batch_equals_the_message_built_field_by_field():
    encoder = TickEncoder()
    for timestamp_ms in (1, 127, 128, 1_796_064_568_409, 2**62):  # one to nine varint bytes
        batch = encoder.batch(timestamp_ms, SAMPLES)
        want = expected(timestamp_ms, SAMPLES)
        assert len(batch.series) == len(SAMPLES)
        for got, wanted in zip(batch.series, want.series, strict=True):
            assert got.key == wanted.key and list(got.timestamps_ms) == [timestamp_ms]
            assert got.values[0] == wanted.values[0] or got.values[0] != got.values[0]  # NaN stays NaN
    # Cached keys: a second tick re-uses them and still encodes the new values.
    later = encoder.batch(5, [Sample("node_load1", 9.5)])
    assert later.series[0].values[0] == 9.5 and later.series[0].key.metric == "node_load1"


def test_varint():
    for value in (0, 1, 127, 128, 300, 2**35 + 7):
        field = series_pb2.SeriesSamples(timestamps_ms=[value]).SerializeToString()
        assert field == b"\x12" + varint(len(varint(value))) + varint(value)
