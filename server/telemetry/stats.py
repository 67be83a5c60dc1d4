"""Counters the services keep about themselves, read by the Status RPC and the metrics."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ServerStats:
    active_streams: int = 0
    batches_stored: int = 0
    samples_stored: int = 0
    samples_skipped: int = 0
    rejected_batches: Counter[str] = field(default_factory=Counter)  # by status code name
    forecasts: Counter[str] = field(default_factory=Counter)  # by model name
    forecast_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Telemetry hooks in here to record a latency histogram.
    on_forecast: Callable[[str, float], None] | None = None

    def record_forecast(self, model: str, seconds: float) -> None:
        with self.lock:
            self.forecasts[model] += 1
            self.forecast_seconds += seconds
        if self.on_forecast is not None:
            self.on_forecast(model, seconds)
