"""Health: liveness on the empty service name, readiness per infracast service.

Kubernetes native gRPC probes and grpcurl call grpc.health.v1.Health/Check.
"" is SERVING while the process serves; the named services are NOT_SERVING
until the store is open and the kernels are compiled, and again from the start
of a graceful shutdown.
"""

from __future__ import annotations

from grpc import aio
from grpc_health.v1 import health, health_pb2

from infracast.v1 import forecast_pb2, ingest_pb2

READINESS_SERVICES = (
    ingest_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name,
    forecast_pb2.DESCRIPTOR.services_by_name["ForecastService"].full_name,
)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class HealthServicer(health.aio.HealthServicer):
    """grpcio-health-checking's servicer, plus the List method it leaves unimplemented (its
    base raises NotImplementedError: INTERNAL and a traceback on every call)."""

    async def List(self, request: health_pb2.HealthListRequest,
                   context: aio.ServicerContext) -> health_pb2.HealthListResponse:
        # _server_status is the base class's table of statuses; it has no public reader.
        return health_pb2.HealthListResponse(statuses={
            name: health_pb2.HealthCheckResponse(status=status)
            for name, status in self._server_status.items()})


class Readiness:
    def __init__(self) -> None:
        self.servicer = HealthServicer()

    async def starting(self) -> None:
        await self.servicer.set("", SERVING)
        for name in READINESS_SERVICES:
            await self.servicer.set(name, NOT_SERVING)

    async def ready(self) -> None:
        for name in READINESS_SERVICES:
            await self.servicer.set(name, SERVING)

    async def stopping(self) -> None:
        await self.servicer.enter_graceful_shutdown()
