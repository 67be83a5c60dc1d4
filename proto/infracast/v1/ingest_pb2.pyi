from infracast.v1 import series_pb2 as _series_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PushRequest(_message.Message):
    __slots__ = ("hello", "batch")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    batch: Batch
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., batch: _Optional[_Union[Batch, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("node", "labels", "agent_version", "agent_id", "allocatable_cpu_cores", "allocatable_memory_bytes", "metrics")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NODE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATABLE_CPU_CORES_FIELD_NUMBER: _ClassVar[int]
    ALLOCATABLE_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    node: str
    labels: _containers.ScalarMap[str, str]
    agent_version: str
    agent_id: str
    allocatable_cpu_cores: float
    allocatable_memory_bytes: float
    metrics: _containers.RepeatedCompositeFieldContainer[_series_pb2.MetricDescriptor]
    def __init__(self, node: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., agent_version: _Optional[str] = ..., agent_id: _Optional[str] = ..., allocatable_cpu_cores: _Optional[float] = ..., allocatable_memory_bytes: _Optional[float] = ..., metrics: _Optional[_Iterable[_Union[_series_pb2.MetricDescriptor, _Mapping]]] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ("sequence", "series", "metrics")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    series: _containers.RepeatedCompositeFieldContainer[_series_pb2.SeriesSamples]
    metrics: _containers.RepeatedCompositeFieldContainer[_series_pb2.MetricDescriptor]
    def __init__(self, sequence: _Optional[int] = ..., series: _Optional[_Iterable[_Union[_series_pb2.SeriesSamples, _Mapping]]] = ..., metrics: _Optional[_Iterable[_Union[_series_pb2.MetricDescriptor, _Mapping]]] = ...) -> None: ...

class PushResponse(_message.Message):
    __slots__ = ("ack",)
    ACK_FIELD_NUMBER: _ClassVar[int]
    ack: Ack
    def __init__(self, ack: _Optional[_Union[Ack, _Mapping]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("highest_sequence", "samples_stored", "samples_skipped")
    HIGHEST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_STORED_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    highest_sequence: int
    samples_stored: int
    samples_skipped: int
    def __init__(self, highest_sequence: _Optional[int] = ..., samples_stored: _Optional[int] = ..., samples_skipped: _Optional[int] = ...) -> None: ...
