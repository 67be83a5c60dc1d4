import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from infracast.v1 import series_pb2 as _series_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Aggregation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGGREGATION_UNSPECIFIED: _ClassVar[Aggregation]
    AGGREGATION_SUM: _ClassVar[Aggregation]
    AGGREGATION_AVG: _ClassVar[Aggregation]
    AGGREGATION_MAX: _ClassVar[Aggregation]
    AGGREGATION_MIN: _ClassVar[Aggregation]

class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIRECTION_UNSPECIFIED: _ClassVar[Direction]
    DIRECTION_RISING: _ClassVar[Direction]
    DIRECTION_FALLING: _ClassVar[Direction]

class ThresholdSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    THRESHOLD_SOURCE_UNSPECIFIED: _ClassVar[ThresholdSource]
    THRESHOLD_SOURCE_NODE_ALLOCATABLE_MEMORY: _ClassVar[ThresholdSource]
    THRESHOLD_SOURCE_NODE_ALLOCATABLE_CPU: _ClassVar[ThresholdSource]

class Sensitivity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SENSITIVITY_UNSPECIFIED: _ClassVar[Sensitivity]
    SENSITIVITY_STANDARD: _ClassVar[Sensitivity]
    SENSITIVITY_LOW_FALSE_POSITIVES: _ClassVar[Sensitivity]
    SENSITIVITY_LOW_FALSE_NEGATIVES: _ClassVar[Sensitivity]
AGGREGATION_UNSPECIFIED: Aggregation
AGGREGATION_SUM: Aggregation
AGGREGATION_AVG: Aggregation
AGGREGATION_MAX: Aggregation
AGGREGATION_MIN: Aggregation
DIRECTION_UNSPECIFIED: Direction
DIRECTION_RISING: Direction
DIRECTION_FALLING: Direction
THRESHOLD_SOURCE_UNSPECIFIED: ThresholdSource
THRESHOLD_SOURCE_NODE_ALLOCATABLE_MEMORY: ThresholdSource
THRESHOLD_SOURCE_NODE_ALLOCATABLE_CPU: ThresholdSource
SENSITIVITY_UNSPECIFIED: Sensitivity
SENSITIVITY_STANDARD: Sensitivity
SENSITIVITY_LOW_FALSE_POSITIVES: Sensitivity
SENSITIVITY_LOW_FALSE_NEGATIVES: Sensitivity

class ForecastRequest(_message.Message):
    __slots__ = ("selector", "horizon", "levels", "aggregation")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    HORIZON_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_FIELD_NUMBER: _ClassVar[int]
    selector: str
    horizon: _duration_pb2.Duration
    levels: _containers.RepeatedScalarFieldContainer[float]
    aggregation: Aggregation
    def __init__(self, selector: _Optional[str] = ..., horizon: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., levels: _Optional[_Iterable[float]] = ..., aggregation: _Optional[_Union[Aggregation, str]] = ...) -> None: ...

class PhysicalLimits(_message.Message):
    __slots__ = ("lower", "upper", "reason", "applied")
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    lower: float
    upper: float
    reason: str
    applied: bool
    def __init__(self, lower: _Optional[float] = ..., upper: _Optional[float] = ..., reason: _Optional[str] = ..., applied: _Optional[bool] = ...) -> None: ...

class ForecastResponse(_message.Message):
    __slots__ = ("series", "timestamps_ms", "mean", "intervals", "model", "step", "last_timestamp_ms", "last_value", "limits")
    SERIES_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_MS_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    INTERVALS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    LAST_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_VALUE_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    series: _series_pb2.SeriesKey
    timestamps_ms: _containers.RepeatedScalarFieldContainer[int]
    mean: _containers.RepeatedScalarFieldContainer[float]
    intervals: _containers.RepeatedCompositeFieldContainer[PredictionInterval]
    model: ModelInfo
    step: _duration_pb2.Duration
    last_timestamp_ms: int
    last_value: float
    limits: PhysicalLimits
    def __init__(self, series: _Optional[_Union[_series_pb2.SeriesKey, _Mapping]] = ..., timestamps_ms: _Optional[_Iterable[int]] = ..., mean: _Optional[_Iterable[float]] = ..., intervals: _Optional[_Iterable[_Union[PredictionInterval, _Mapping]]] = ..., model: _Optional[_Union[ModelInfo, _Mapping]] = ..., step: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., last_timestamp_ms: _Optional[int] = ..., last_value: _Optional[float] = ..., limits: _Optional[_Union[PhysicalLimits, _Mapping]] = ...) -> None: ...

class PredictionInterval(_message.Message):
    __slots__ = ("level", "lower", "upper")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    level: float
    lower: _containers.RepeatedScalarFieldContainer[float]
    upper: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, level: _Optional[float] = ..., lower: _Optional[_Iterable[float]] = ..., upper: _Optional[_Iterable[float]] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "reason", "parameters", "observations", "residual_std", "rate_of_counter", "season_length", "season_period", "backtest_mae", "backtest_mase")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    RESIDUAL_STD_FIELD_NUMBER: _ClassVar[int]
    RATE_OF_COUNTER_FIELD_NUMBER: _ClassVar[int]
    SEASON_LENGTH_FIELD_NUMBER: _ClassVar[int]
    SEASON_PERIOD_FIELD_NUMBER: _ClassVar[int]
    BACKTEST_MAE_FIELD_NUMBER: _ClassVar[int]
    BACKTEST_MASE_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    parameters: _containers.ScalarMap[str, float]
    observations: int
    residual_std: float
    rate_of_counter: bool
    season_length: int
    season_period: _duration_pb2.Duration
    backtest_mae: float
    backtest_mase: float
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ..., parameters: _Optional[_Mapping[str, float]] = ..., observations: _Optional[int] = ..., residual_std: _Optional[float] = ..., rate_of_counter: _Optional[bool] = ..., season_length: _Optional[int] = ..., season_period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., backtest_mae: _Optional[float] = ..., backtest_mase: _Optional[float] = ...) -> None: ...

class TimeToThresholdRequest(_message.Message):
    __slots__ = ("selector", "threshold", "direction", "horizon", "level", "threshold_source", "capacity_percent", "aggregation")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    HORIZON_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_SOURCE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_FIELD_NUMBER: _ClassVar[int]
    selector: str
    threshold: float
    direction: Direction
    horizon: _duration_pb2.Duration
    level: float
    threshold_source: ThresholdSource
    capacity_percent: float
    aggregation: Aggregation
    def __init__(self, selector: _Optional[str] = ..., threshold: _Optional[float] = ..., direction: _Optional[_Union[Direction, str]] = ..., horizon: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., level: _Optional[float] = ..., threshold_source: _Optional[_Union[ThresholdSource, str]] = ..., capacity_percent: _Optional[float] = ..., aggregation: _Optional[_Union[Aggregation, str]] = ...) -> None: ...

class TimeToThresholdResponse(_message.Message):
    __slots__ = ("series", "will_cross", "crossing_timestamp_ms", "earliest_timestamp_ms", "latest_timestamp_ms", "time_remaining", "already_crossed", "last_value", "horizon", "level", "model", "probability", "threshold", "searched", "reach_limited", "limits")
    SERIES_FIELD_NUMBER: _ClassVar[int]
    WILL_CROSS_FIELD_NUMBER: _ClassVar[int]
    CROSSING_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    EARLIEST_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    LATEST_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    TIME_REMAINING_FIELD_NUMBER: _ClassVar[int]
    ALREADY_CROSSED_FIELD_NUMBER: _ClassVar[int]
    LAST_VALUE_FIELD_NUMBER: _ClassVar[int]
    HORIZON_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    SEARCHED_FIELD_NUMBER: _ClassVar[int]
    REACH_LIMITED_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    series: _series_pb2.SeriesKey
    will_cross: bool
    crossing_timestamp_ms: int
    earliest_timestamp_ms: int
    latest_timestamp_ms: int
    time_remaining: _duration_pb2.Duration
    already_crossed: bool
    last_value: float
    horizon: _duration_pb2.Duration
    level: float
    model: ModelInfo
    probability: float
    threshold: float
    searched: _duration_pb2.Duration
    reach_limited: bool
    limits: PhysicalLimits
    def __init__(self, series: _Optional[_Union[_series_pb2.SeriesKey, _Mapping]] = ..., will_cross: _Optional[bool] = ..., crossing_timestamp_ms: _Optional[int] = ..., earliest_timestamp_ms: _Optional[int] = ..., latest_timestamp_ms: _Optional[int] = ..., time_remaining: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., already_crossed: _Optional[bool] = ..., last_value: _Optional[float] = ..., horizon: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., level: _Optional[float] = ..., model: _Optional[_Union[ModelInfo, _Mapping]] = ..., probability: _Optional[float] = ..., threshold: _Optional[float] = ..., searched: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., reach_limited: _Optional[bool] = ..., limits: _Optional[_Union[PhysicalLimits, _Mapping]] = ...) -> None: ...

class ListThresholdCrossingsRequest(_message.Message):
    __slots__ = ("selector", "threshold", "direction", "within", "level", "capacity_percent", "min_probability", "page_size", "page_token")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    WITHIN_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MIN_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    selector: str
    threshold: float
    direction: Direction
    within: _duration_pb2.Duration
    level: float
    capacity_percent: float
    min_probability: float
    page_size: int
    page_token: str
    def __init__(self, selector: _Optional[str] = ..., threshold: _Optional[float] = ..., direction: _Optional[_Union[Direction, str]] = ..., within: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., level: _Optional[float] = ..., capacity_percent: _Optional[float] = ..., min_probability: _Optional[float] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListThresholdCrossingsResponse(_message.Message):
    __slots__ = ("crossings", "examined", "skipped", "next_page_token")
    CROSSINGS_FIELD_NUMBER: _ClassVar[int]
    EXAMINED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    crossings: _containers.RepeatedCompositeFieldContainer[TimeToThresholdResponse]
    examined: int
    skipped: _containers.RepeatedCompositeFieldContainer[SkippedSeries]
    next_page_token: str
    def __init__(self, crossings: _Optional[_Iterable[_Union[TimeToThresholdResponse, _Mapping]]] = ..., examined: _Optional[int] = ..., skipped: _Optional[_Iterable[_Union[SkippedSeries, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SkippedSeries(_message.Message):
    __slots__ = ("series", "reason")
    SERIES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    series: _series_pb2.SeriesKey
    reason: str
    def __init__(self, series: _Optional[_Union[_series_pb2.SeriesKey, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ListSeriesRequest(_message.Message):
    __slots__ = ("selector", "limit")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    selector: str
    limit: int
    def __init__(self, selector: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListSeriesResponse(_message.Message):
    __slots__ = ("series", "truncated")
    SERIES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    series: _containers.RepeatedCompositeFieldContainer[SeriesInfo]
    truncated: bool
    def __init__(self, series: _Optional[_Iterable[_Union[SeriesInfo, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...

class SeriesInfo(_message.Message):
    __slots__ = ("key", "sample_count", "first_timestamp_ms", "last_timestamp_ms", "last_value", "descriptor")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTOR_FIELD_NUMBER: _ClassVar[int]
    key: _series_pb2.SeriesKey
    sample_count: int
    first_timestamp_ms: int
    last_timestamp_ms: int
    last_value: float
    descriptor: _series_pb2.MetricDescriptor
    def __init__(self, key: _Optional[_Union[_series_pb2.SeriesKey, _Mapping]] = ..., sample_count: _Optional[int] = ..., first_timestamp_ms: _Optional[int] = ..., last_timestamp_ms: _Optional[int] = ..., last_value: _Optional[float] = ..., descriptor: _Optional[_Union[_series_pb2.MetricDescriptor, _Mapping]] = ...) -> None: ...

class DetectAnomaliesRequest(_message.Message):
    __slots__ = ("selector", "window", "threshold", "sensitivity")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    selector: str
    window: _duration_pb2.Duration
    threshold: float
    sensitivity: Sensitivity
    def __init__(self, selector: _Optional[str] = ..., window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., threshold: _Optional[float] = ..., sensitivity: _Optional[_Union[Sensitivity, str]] = ...) -> None: ...

class DetectAnomaliesResponse(_message.Message):
    __slots__ = ("series", "scores", "threshold", "anomalous_count", "model", "step", "events", "enough_history", "history_samples", "required_samples")
    SERIES_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ANOMALOUS_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    ENOUGH_HISTORY_FIELD_NUMBER: _ClassVar[int]
    HISTORY_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    series: _series_pb2.SeriesKey
    scores: _containers.RepeatedCompositeFieldContainer[AnomalyScore]
    threshold: float
    anomalous_count: int
    model: ModelInfo
    step: _duration_pb2.Duration
    events: _containers.RepeatedCompositeFieldContainer[AnomalyEvent]
    enough_history: bool
    history_samples: int
    required_samples: int
    def __init__(self, series: _Optional[_Union[_series_pb2.SeriesKey, _Mapping]] = ..., scores: _Optional[_Iterable[_Union[AnomalyScore, _Mapping]]] = ..., threshold: _Optional[float] = ..., anomalous_count: _Optional[int] = ..., model: _Optional[_Union[ModelInfo, _Mapping]] = ..., step: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., events: _Optional[_Iterable[_Union[AnomalyEvent, _Mapping]]] = ..., enough_history: _Optional[bool] = ..., history_samples: _Optional[int] = ..., required_samples: _Optional[int] = ...) -> None: ...

class AnomalyEvent(_message.Message):
    __slots__ = ("start_timestamp_ms", "end_timestamp_ms", "peak_timestamp_ms", "peak_score", "expected_low", "expected_high", "value")
    START_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    PEAK_TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    PEAK_SCORE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_LOW_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_HIGH_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    start_timestamp_ms: int
    end_timestamp_ms: int
    peak_timestamp_ms: int
    peak_score: float
    expected_low: float
    expected_high: float
    value: float
    def __init__(self, start_timestamp_ms: _Optional[int] = ..., end_timestamp_ms: _Optional[int] = ..., peak_timestamp_ms: _Optional[int] = ..., peak_score: _Optional[float] = ..., expected_low: _Optional[float] = ..., expected_high: _Optional[float] = ..., value: _Optional[float] = ...) -> None: ...

class AnomalyScore(_message.Message):
    __slots__ = ("timestamp_ms", "value", "expected", "score", "anomalous", "expected_low", "expected_high", "learning")
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    ANOMALOUS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_LOW_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_HIGH_FIELD_NUMBER: _ClassVar[int]
    LEARNING_FIELD_NUMBER: _ClassVar[int]
    timestamp_ms: int
    value: float
    expected: float
    score: float
    anomalous: bool
    expected_low: float
    expected_high: float
    learning: bool
    def __init__(self, timestamp_ms: _Optional[int] = ..., value: _Optional[float] = ..., expected: _Optional[float] = ..., score: _Optional[float] = ..., anomalous: _Optional[bool] = ..., expected_low: _Optional[float] = ..., expected_high: _Optional[float] = ..., learning: _Optional[bool] = ...) -> None: ...
