"""StatusService: the detailed health operators read."""

from __future__ import annotations

from collections.abc import Callable

from grpc import aio

from infracast.server.health.status import State, StatusReport
from infracast.server.services.codec import duration_message
from infracast.v1 import status_pb2, status_pb2_grpc

_STATES = {
    State.STARTING: status_pb2.COMPONENT_STATE_STARTING,
    State.READY: status_pb2.COMPONENT_STATE_READY,
    State.DEGRADED: status_pb2.COMPONENT_STATE_DEGRADED,
    State.STOPPING: status_pb2.COMPONENT_STATE_STOPPING,
}


class StatusServicer(status_pb2_grpc.StatusServiceServicer):
    def __init__(self, report: Callable[[], StatusReport]) -> None:
        self._report = report

    async def GetStatus(
        self, request: status_pb2.GetStatusRequest, context: aio.ServicerContext
    ) -> status_pb2.GetStatusResponse:
        report = self._report()
        return status_pb2.GetStatusResponse(
            version=report.version,
            profile=report.profile,
            started_timestamp_ms=report.started_ms,
            uptime=duration_message(int(report.uptime_s * 1000)),
            components=[status_pb2.ComponentStatus(name=c.name, state=_STATES[c.state], detail=c.detail)
                        for c in report.components],
            counts=report.counts,
            configuration=report.configuration,
            nodes=[status_pb2.NodeStatus(
                name=n.name, agent_connected=n.open_streams > 0, in_cluster=n.in_cluster,
                last_connected_timestamp_ms=n.last_connected_ms, agent_version=n.agent_version,
                labels=n.labels, allocatable_cpu_cores=n.allocatable_cpu_cores,
                allocatable_memory_bytes=n.allocatable_memory_bytes) for n in report.nodes],
        )
