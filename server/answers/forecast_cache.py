"""Caches between the store and the engine, so repeated and frequent questions are cheap.

Two levels:
  answers  a bounded LRU of finished forecasts keyed by the question and the series'
           last sample: the same question before new data arrives costs nothing;
  fits     the model chosen for each series and horizon, with its parameters: when
           new samples arrive, the kernels re-run that model over the new data
           (refresh) instead of fitting every candidate again (refit), until enough
           new history has accumulated to choose anew.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

from infracast.server.forecast.engine import SeriesForecast

REFIT_SHARE = 0.1  # choose the model again once the history has moved on by this share


@dataclass
class CacheStats:
    answer_hits: int = 0
    refreshes: int = 0
    refits: int = 0


@dataclass(frozen=True)
class _Fit:
    info: np.ndarray
    last_timestamp_ms: int
    span_ms: int


class ForecastCache:
    def __init__(self, max_answers: int = 4096, max_fits: int = 100_000) -> None:
        self._answers: OrderedDict[Hashable, SeriesForecast] = OrderedDict()
        self._fits: OrderedDict[Hashable, _Fit] = OrderedDict()
        self._max_answers = max_answers
        self._max_fits = max_fits
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def get_or_compute(
        self,
        question: Hashable,
        model_key: Hashable,
        timestamps_ms: np.ndarray,
        compute: Callable[[np.ndarray | None], SeriesForecast],
    ) -> SeriesForecast:
        """The cached answer to `question` for data ending at timestamps_ms[-1], or
        compute(refresh) with the series' earlier fit (None to choose a model anew)."""
        last, span = int(timestamps_ms[-1]), int(timestamps_ms[-1] - timestamps_ms[0])
        answer_key = (question, last, len(timestamps_ms))
        with self._lock:
            cached = self._answers.get(answer_key)
            if cached is not None:
                self._answers.move_to_end(answer_key)
                self.stats.answer_hits += 1
                return cached
            fit = self._fits.get(model_key)
        refresh = None
        if fit is not None and 0 <= last - fit.last_timestamp_ms < REFIT_SHARE * max(fit.span_ms, 1):
            refresh = fit.info
        result = compute(refresh)
        with self._lock:
            if refresh is None:
                self.stats.refits += 1
                self._fits[model_key] = _Fit(result.forecast.fit, last, span)
                self._fits.move_to_end(model_key)
                while len(self._fits) > self._max_fits:
                    self._fits.popitem(last=False)
            else:
                self.stats.refreshes += 1
            self._answers[answer_key] = result
            while len(self._answers) > self._max_answers:
                self._answers.popitem(last=False)
        return result
