"""Traces and metrics leave the server over OTLP/gRPC.

The receiver is a real gRPC server speaking the OTLP collector services (the protobuf
services from opentelemetry-proto, which is what an OpenTelemetry Collector serves on
:4317); it records what arrives. No collector binary can be installed here, so this
stands in for one, on loopback; the server under test is the real process.
"""

import threading
from concurrent import futures

import grpc
import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from infracast.clients.client import InfracastClient
from tests.conftest import ServerProcess, wait_until

pytestmark = pytest.mark.slow


class Receiver(trace_service_pb2_grpc.TraceServiceServicer, metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self) -> None:
        self.span_names: list[str] = []
        self.metric_names: set[str] = set()
        self.service_names: set[str] = set()
        self._lock = threading.Lock()

    def Export(self, request, context):  # both services name their one method Export
        with self._lock:
            if isinstance(request, trace_service_pb2.ExportTraceServiceRequest):
                for resource_spans in request.resource_spans:
                    self._resource(resource_spans.resource)
                    for scope in resource_spans.scope_spans:
                        self.span_names.extend(span.name for span in scope.spans)
                return trace_service_pb2.ExportTraceServiceResponse()
            for resource_metrics in request.resource_metrics:
                self._resource(resource_metrics.resource)
                for scope in resource_metrics.scope_metrics:
                    self.metric_names.update(metric.name for metric in scope.metrics)
            return metrics_service_pb2.ExportMetricsServiceResponse()

    def _resource(self, resource) -> None:
        for attribute in resource.attributes:
            if attribute.key == "service.name":
                self.service_names.add(attribute.value.string_value)


def test_traces_and_metrics_reach_an_otlp_receiver():
    receiver = Receiver()
    collector = grpc.server(futures.ThreadPoolExecutor(4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, collector)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(receiver, collector)
    port = collector.add_insecure_port("127.0.0.1:0")
    collector.start()
    server = ServerProcess("--otlp-endpoint", f"http://127.0.0.1:{port}",
                           env={"OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_METRIC_EXPORT_INTERVAL": "500"})
    try:
        server.wait_ready()
        with InfracastClient(server.address, timeout_s=10) as client:
            client.list_series()
            client.status()
        wait_until(lambda: "/infracast.v1.StatusService/GetStatus" in receiver.span_names, timeout_s=20,
                   message="no span reached the receiver")
        wait_until(lambda: {"infracast.store.series", "infracast.ingest.streams"} <= receiver.metric_names,
                   timeout_s=20, message="the store and ingest gauges did not reach the receiver")
    finally:
        server.stop()
        collector.stop(0)
    assert "/infracast.v1.ForecastService/ListSeries" in receiver.span_names
    assert "/infracast.v1.StatusService/GetStatus" in receiver.span_names
    assert "infracast-server" in receiver.service_names
