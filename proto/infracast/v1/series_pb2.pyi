from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MetricType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_TYPE_UNSPECIFIED: _ClassVar[MetricType]
    METRIC_TYPE_GAUGE: _ClassVar[MetricType]
    METRIC_TYPE_COUNTER: _ClassVar[MetricType]
METRIC_TYPE_UNSPECIFIED: MetricType
METRIC_TYPE_GAUGE: MetricType
METRIC_TYPE_COUNTER: MetricType

class SeriesKey(_message.Message):
    __slots__ = ("metric", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    METRIC_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    metric: str
    labels: _containers.ScalarMap[str, str]
    def __init__(self, metric: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SeriesSamples(_message.Message):
    __slots__ = ("key", "timestamps_ms", "values")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_MS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    key: SeriesKey
    timestamps_ms: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, key: _Optional[_Union[SeriesKey, _Mapping]] = ..., timestamps_ms: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class MetricDescriptor(_message.Message):
    __slots__ = ("metric", "type", "unit", "help")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    HELP_FIELD_NUMBER: _ClassVar[int]
    metric: str
    type: MetricType
    unit: str
    help: str
    def __init__(self, metric: _Optional[str] = ..., type: _Optional[_Union[MetricType, str]] = ..., unit: _Optional[str] = ..., help: _Optional[str] = ...) -> None: ...
