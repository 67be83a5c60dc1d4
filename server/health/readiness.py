"""Health: liveness on the empty service name, readiness per infracast service.

Kubernetes native gRPC probes and grpcurl call grpc.health.v1.Health/Check.
"" is SERVING while the process serves; the named services are NOT_SERVING
until the store is open and the kernels are compiled, and again from the start
of a graceful shutdown. IngestService is also NOT_SERVING while the store cannot
commit (a full disk): its pushes are answered UNAVAILABLE then. ForecastService
(the pod's readiness probe) stays SERVING: queries are answered from memory, and
the pod stays reachable for the agents whose retries find out when writes work again.
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


INGEST_SERVICE = READINESS_SERVICES[0]


class Readiness:
    def __init__(self) -> None:
        self.servicer = HealthServicer()
        self._ready = False
        self._stopping = False
        self._store_writable = True

    async def starting(self) -> None:
        await self.servicer.set("", SERVING)
        for name in READINESS_SERVICES:
            await self.servicer.set(name, NOT_SERVING)

    async def ready(self) -> None:
        self._ready = True
        for name in READINESS_SERVICES:
            await self.servicer.set(name, self._status(name))

    async def store_writable(self, writable: bool) -> None:
        self._store_writable = writable
        if self._ready and not self._stopping:
            await self.servicer.set(INGEST_SERVICE, self._status(INGEST_SERVICE))

    async def stopping(self) -> None:
        self._stopping = True
        await self.servicer.enter_graceful_shutdown()

    def _status(self, name: str) -> int:
        return NOT_SERVING if name == INGEST_SERVICE and not self._store_writable else SERVING
