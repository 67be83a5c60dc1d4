"""OpenTelemetry for the server: metrics scraped from /metrics, traces of every RPC,
and both exported over OTLP when an endpoint is configured.

Counters the services already keep (ServerStats, the forecast cache, the store)
are read by observable instruments when scraped, so the hot paths pay nothing;
forecast latency is a histogram recorded per forecast, by model. Log records
carry the trace and span ids of the RPC they belong to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from wsgiref.simple_server import WSGIServer

from grpc import aio
from opentelemetry import trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from prometheus_client import CollectorRegistry, start_http_server

from infracast.server.answers.forecast_cache import ForecastCache
from infracast.server.telemetry.stats import ServerStats

LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]


class Telemetry:
    """One per server: its own meter provider and registry, so servers never share metrics."""

    def __init__(self, version: str, otlp_endpoint: str = "",
                 span_exporter: SpanExporter | None = None) -> None:
        resource = Resource.create({"service.name": "infracast-server", "service.version": version})
        self.registry = CollectorRegistry()
        readers: list[MetricReader] = [
            PrometheusMetricReader(registry=self.registry, scope_info_enabled=False)]
        self.tracer_provider = TracerProvider(resource=resource)
        if otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=otlp_endpoint)))
            self.tracer_provider.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
        if span_exporter is not None:
            self.tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
        self.provider = MeterProvider(metric_readers=readers, resource=resource)
        self.meter = self.provider.get_meter("infracast.server")
        self._http: WSGIServer | None = None

    def server_interceptor(self) -> aio.ServerInterceptor:
        """Starts a span for every RPC (the OpenTelemetry gRPC instrumentation)."""
        return aio_server_interceptor(tracer_provider=self.tracer_provider)

    def observe(self, stats: ServerStats, cache: ForecastCache, series_count: Callable[[], int],
                store_commits: Callable[[], int], store_bytes: Callable[[], int],
                store_failed_commits: Callable[[], int] = lambda: 0,
                store_failing: Callable[[], int] = lambda: 0,
                descriptor_refusals: Mapping[str, int] | None = None) -> None:
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
            "infracast.store.failed_commits", [value(store_failed_commits)], unit="{commit}",
            description="durable log transactions that failed (a full disk, an I/O error)")
        meter.create_observable_up_down_counter(
            "infracast.store.failing", [value(store_failing)], unit="1",
            description="1 while the durable log's commits fail and ingest answers UNAVAILABLE")
        meter.create_observable_up_down_counter("infracast.store.size", [value(store_bytes)], unit="By",
                                                description="bytes of the durable log on disk")
        meter.create_observable_counter(
            "infracast.metadata.refused_descriptors",
            [lambda options: [Observation(n, {"reason": reason}) for reason, n in
                              list((descriptor_refusals or {}).items())]],
            unit="{descriptor}",
            description="metric descriptors of node-bound senders left out, by reason: a type or "
                        "unit conflicting with the declared one, or over the node's quota of names")
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
        self.tracer_provider.shutdown()


class TraceContextFilter(logging.Filter):
    """Adds trace_id and span_id of the current span (if any) to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True
