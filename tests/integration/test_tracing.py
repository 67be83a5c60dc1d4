"""Every RPC is traced (the OpenTelemetry gRPC instrumentation) and logs carry its trace id."""

import asyncio
import logging

from grpc import aio
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from infracast.server.app import create_server
from infracast.server.config import ServerConfig
from infracast.server.telemetry.export import Telemetry, TraceContextFilter
from infracast.v1 import forecast_pb2, forecast_pb2_grpc, ingest_pb2, ingest_pb2_grpc


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(TraceContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_rpcs_make_spans_and_their_logs_carry_the_trace_id():
    exporter = InMemorySpanExporter()
    records = Records()
    logger = logging.getLogger("infracast.server.services.ingest")
    logger.addHandler(records)
    logger.setLevel(logging.INFO)

    async def scenario():
        app = create_server(ServerConfig(listen="127.0.0.1:0", grace_period_s=0.5, rate_limit=0.0),
                            Telemetry("test", span_exporter=exporter))
        await app.start()
        try:
            async with aio.insecure_channel(app.address) as channel:
                await forecast_pb2_grpc.ForecastServiceStub(channel).ListSeries(
                    forecast_pb2.ListSeriesRequest(), timeout=10)
                call = ingest_pb2_grpc.IngestServiceStub(channel).Push()
                await call.write(ingest_pb2.PushRequest(hello=ingest_pb2.Hello(node="traced")))
                await call.done_writing()
                async for _ in call:
                    pass
        finally:
            await app.stop(0.5)

    try:
        asyncio.run(scenario())
    finally:
        logger.removeHandler(records)
    names = {span.name for span in exporter.get_finished_spans()}
    assert {"/infracast.v1.ForecastService/ListSeries", "/infracast.v1.IngestService/Push"} <= names
    push_span = next(s for s in exporter.get_finished_spans() if s.name.endswith("/Push"))
    connected = [r for r in records.records if "connected" in r.getMessage()]
    assert connected and connected[0].trace_id == format(push_span.context.trace_id, "032x")
