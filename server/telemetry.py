"""OpenTelemetry metrics of the server, scraped in Prometheus text format from /metrics.

Counters the services already keep (ServerStats, the forecast cache, the store)
are read by observable instruments when scraped, so the hot paths pay nothing;
forecast latency is a histogram recorded per forecast, by model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, start_http_server

from infracast.server.forecast_cache import ForecastCache
from infracast.server.stats import ServerStats

LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]


class Telemetry:
    """One per server: its own meter provider and registry, so servers never share metrics."""

    def __init__(self, version: str) -> None:
        self.registry = CollectorRegistry()
        reader = PrometheusMetricReader(registry=self.registry, scope_info_enabled=False)
        self.provider = MeterProvider(
            metric_readers=[reader],
            resource=Resource.create({"service.name": "infracast-server", "service.version": version}))
        self.meter = self.provider.get_meter("infracast.server")
        self._http = None

    def observe(self, stats: ServerStats, cache: ForecastCache, series_count: Callable[[], int],
                store_commits: Callable[[], int]) -> None:
        meter = self.meter

        def value(read: Callable[[], float]) -> Callable[[CallbackOptions], Iterable[Observation]]:
            return lambda options: [Observation(read())]

        meter.create_observable_counter("infracast.ingest.samples", [value(lambda: stats.samples_stored)],
                                        unit="{sample}", description="samples stored")
        meter.create_observable_counter("infracast.ingest.skipped_samples",
                                        [value(lambda: stats.samples_skipped)], unit="{sample}",
                                        description="samples skipped: duplicates and NaN gaps")
        meter.create_observable_counter("infracast.ingest.batches", [value(lambda: stats.batches_stored)],
                                        unit="{batch}", description="batches stored and acknowledged")
        meter.create_observable_counter(
            "infracast.ingest.rejected_batches",
            [lambda options: [Observation(n, {"code": code}) for code, n in
                              list(stats.rejected_batches.items())]],
            unit="{batch}", description="batches refused, by gRPC status code")
        meter.create_observable_up_down_counter(
            "infracast.ingest.streams", [value(lambda: stats.active_streams)], unit="{stream}",
            description="agent streams open")
        meter.create_observable_up_down_counter("infracast.store.series", [value(series_count)],
                                                unit="{series}", description="series held")
        meter.create_observable_counter("infracast.store.commits", [value(store_commits)],
                                        unit="{commit}", description="durable log transactions")
        meter.create_observable_counter(
            "infracast.forecast.cache",
            [lambda options: [Observation(cache.stats.answer_hits, {"result": "hit"}),
                              Observation(cache.stats.refreshes, {"result": "refresh"}),
                              Observation(cache.stats.refits, {"result": "refit"})]],
            unit="{forecast}", description="forecasts by how the cache served them")
        latency = meter.create_histogram(
            "infracast.forecast.duration", unit="s", description="time to answer a forecast, by model",
            explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_S)
        stats.on_forecast = lambda model, seconds: latency.record(seconds, {"model": model})

    def serve(self, listen: str) -> int:
        """Serve /metrics on HOST:PORT (port 0 picks one); return the port."""
        host, _, port = listen.rpartition(":")
        self._http, _ = start_http_server(int(port), addr=host, registry=self.registry)
        return self._http.server_port

    def close(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        self.provider.shutdown()
