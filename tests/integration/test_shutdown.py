"""Graceful stop and its limits, on a real server process: what may hold it open, and
how an operator cuts it short."""

import re
import signal
import subprocess
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from infracast.clients.client import InfracastClient
from infracast.v1 import ingest_pb2_grpc
from tests.conftest import ServerProcess, wait_until

pytestmark = pytest.mark.slow
STOPPING = re.compile("stopping: finishing in-flight RPCs")


def watch_health(address: str, seen: list[int], closed: threading.Event) -> grpc.Channel:
    """Open a Health.Watch stream (an RPC that stays in flight) and record what it says."""
    channel = grpc.insecure_channel(address)
    stream = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""))

    def read() -> None:
        try:
            for answer in stream:
                seen.append(answer.status)
        except grpc.RpcError:
            pass
        closed.set()

    threading.Thread(target=read, daemon=True).start()
    return channel


def test_a_second_signal_ends_the_grace_period_at_once():
    server = ServerProcess("--grace-period", "60s")
    try:
        server.wait_ready()
        seen: list[int] = []
        closed = threading.Event()
        channel = watch_health(server.address, seen, closed)
        wait_until(lambda: health_pb2.HealthCheckResponse.SERVING in seen, 10, 0.05, "the Watch open")
        assert seen[-1] == health_pb2.HealthCheckResponse.SERVING

        server.process.send_signal(signal.SIGTERM)
        server.wait_for_log(STOPPING, timeout_s=10)
        # The open Watch is an in-flight RPC: a graceful stop waits for it (up to 60 s).
        with pytest.raises(subprocess.TimeoutExpired):
            server.process.wait(1.0)

        second = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(10)
        elapsed = time.monotonic() - second
        channel.close()
    finally:
        server.stop()
    assert code == 1
    assert elapsed < 3.0, f"took {elapsed:.1f}s to exit after the second signal"
    assert any("received SIGTERM again: exiting without waiting" in line for line in server.log)


def test_a_stream_that_never_says_hello_does_not_hold_the_stop():
    server = ServerProcess("--grace-period", "60s")
    try:
        server.wait_ready()
        channel = grpc.insecure_channel(server.address)
        silent = threading.Event()

        def requests():
            silent.wait()  # connect, then send nothing at all until the test ends
            yield from ()

        call = ingest_pb2_grpc.IngestServiceStub(channel).Push(requests())
        answers: list = []
        reader = threading.Thread(target=lambda: answers.append(_first_error(call)), daemon=True)
        reader.start()
        with InfracastClient(server.address) as client:  # the stream is open, waiting for a hello
            wait_until(lambda: client.status().counts["active_streams"] == 1, 10, 0.05, "the stream open")

        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(20)
        elapsed = time.monotonic() - started
        reader.join(5)
        silent.set()
        channel.close()
    finally:
        server.stop()
    assert code == 0
    assert elapsed < 5.0, f"graceful stop took {elapsed:.1f}s with a silent stream open"
    assert answers == [grpc.StatusCode.UNAVAILABLE]


def _first_error(call) -> grpc.StatusCode | None:
    try:
        for _ in call:
            pass
    except grpc.RpcError as error:
        return error.code()
    return None
