"""Health: liveness on the empty service name, readiness per infracast service.

Kubernetes native gRPC probes and grpcurl call grpc.health.v1.Health/Check.
"" is SERVING while the process serves; the named services are NOT_SERVING
until the store is open and the kernels are compiled, and again from the start
of a graceful shutdown.
"""

from __future__ import annotations

from grpc_health.v1 import health, health_pb2

from infracast.v1 import forecast_pb2, ingest_pb2

READINESS_SERVICES = (
    ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name,
    forecast_pb2.DESCRIPTOR.services_by_name["ForecastService"].full_name,
)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Readiness:
    def __init__(self) -> None:
        self.servicer = health.aio.HealthServicer()

    async def starting(self) -> None:
        await self.servicer.set("", SERVING)
        for name in READINESS_SERVICES:
            await self.servicer.set(name, NOT_SERVING)

    async def ready(self) -> None:
        for name in READINESS_SERVICES:
            await self.servicer.set(name, SERVING)

    async def stopping(self) -> None:
        await self.servicer.enter_graceful_shutdown()
