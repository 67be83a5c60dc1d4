"""The images built and run, not only linted: podman (with runc) builds Dockerfile.server and
Dockerfile.agent on a Debian bookworm base made by debootstrap (deploy/images/), then runs
them the way production does: read-only root, the images' non-root user, TLS and tokens.

Needs root, podman, runc and debootstrap (.ci/run installs them); without them the tests are
skipped locally and fail in CI. From nothing, the module takes about 8 minutes on 2 busy
cores (debootstrap, pip, the kernels' warm-up); later runs reuse the base image and
podman's layer cache: under 4 minutes after a code change, under a minute otherwise.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from infracast.clients.client import InfracastClient
from infracast.clients.errors import ServerUnavailable
from infracast.common.channels import TlsOptions
from tests.conftest import free_port, wait_until
from tests.deploy.podman import Podman
from tests.deploy.tools import missing, tool
from tests.integration.certificates import make_pki

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
NODE = "image-test-node"
QUERY_TOKEN = "query-token-for-the-image-test"
AGENT_TOKEN = "agent-token-for-the-image-test"
SECRETS = "/etc/infracast"  # where the containers see the test's TLS files and tokens


@dataclass(frozen=True)
class Images:
    server: str
    agent: str


@dataclass(frozen=True)
class ServerContainer:
    name: str
    address: str
    health_address: str


@pytest.fixture(scope="module")
def podman() -> Podman:
    if os.geteuid() != 0:
        missing("building and running the images with debootstrap and runc needs root")
    for needed in ("runc", "debootstrap"):
        tool(needed)
    return Podman(tool("podman"))


@pytest.fixture(scope="module")
def images(podman: Podman) -> Images:
    built = subprocess.run([str(ROOT / "deploy" / "images" / "build-with-podman.sh"), "test"],
                           capture_output=True, text=True, timeout=1100)
    assert built.returncode == 0, built.stderr[-8000:]
    ids = dict(line.split() for line in built.stdout.splitlines())
    return Images(server=ids["server"], agent=ids["agent"])


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TLS files and tokens, readable by the containers' user (uid 10001)."""
    directory = tmp_path_factory.mktemp("secrets")
    make_pki(directory)
    (directory / "tokens").write_text(f"{QUERY_TOKEN} query\n{AGENT_TOKEN} ingest {NODE}\n")
    (directory / "agent-token").write_text(AGENT_TOKEN + "\n")
    directory.chmod(0o755)
    for path in directory.iterdir():
        path.chmod(0o644)
    return directory


@contextmanager
def server_container(podman: Podman, images: Images, secrets: Path) -> Iterator[ServerContainer]:
    """The server image as production runs it: read-only root, writable volumes only for the
    store and the kernel cache (as the StatefulSet's), TLS and tokens; free loopback ports."""
    listen, health, metrics = (f"127.0.0.1:{free_port()}" for _ in range(3))
    with podman.container(
        "server", images.server, "--read-only",
        # Anonymous volumes start as copies of the image's directories (owner and the warmed
        # kernels included), like the initContainer's copy into an emptyDir in Kubernetes.
        "--volume", "/var/lib/infracast", "--volume", "/opt/infracast/numba-cache",
        "--volume", f"{secrets}:{SECRETS}:ro",
        "--env", f"INFRACAST_LISTEN={listen}", "--env", f"INFRACAST_HEALTH_LISTEN={health}",
        "--env", f"INFRACAST_METRICS_LISTEN={metrics}", "--env", "INFRACAST_KUBERNETES=off",
        "--env", f"INFRACAST_TLS_CERT={SECRETS}/server.pem",
        "--env", f"INFRACAST_TLS_KEY={SECRETS}/server.key",
        "--env", f"INFRACAST_TOKENS_FILE={SECRETS}/tokens",
    ) as name:
        running = ServerContainer(name, listen, health)
        try:
            wait_until(lambda: serving(podman, running), timeout_s=180,
                       message="the server container to report ForecastService SERVING")
        except BaseException:
            print(podman.logs(name))
            raise
        yield running


def serving(podman: Podman, server: ServerContainer) -> bool:
    state = podman.inspect(server.name)["State"]
    assert state["Running"], f"the server container exited {state['ExitCode']}:\n{podman.logs(server.name)}"
    try:
        with InfracastClient(server.health_address, timeout_s=2.0) as health:
            return health.health("infracast.v1.ForecastService") == "SERVING"
    except ServerUnavailable:
        return False


def query_client(server: ServerContainer, secrets: Path) -> InfracastClient:
    return InfracastClient(server.address, timeout_s=30.0, tls=TlsOptions(ca=secrets / "ca.pem"),
                           token=QUERY_TOKEN)


@pytest.fixture(scope="module")
def server(podman: Podman, images: Images, secrets: Path) -> Iterator[ServerContainer]:
    with server_container(podman, images, secrets) as running:
        yield running


def test_server_container_serves_on_a_read_only_root_as_non_root_and_passes_its_healthcheck(
        podman: Podman, server: ServerContainer):
    config = podman.inspect(server.name)
    assert config["HostConfig"]["ReadonlyRootfs"] is True
    assert podman.run("exec", server.name, "id", "-u").stdout.strip() == "10001"
    refused = podman.run("exec", server.name, "touch", "/opt/infracast/written", check=False)
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    # The image's own HEALTHCHECK (the CLI inside the container, on the health port).
    assert config["Config"]["Healthcheck"]["Test"][0] == "CMD"
    checked = podman.run("healthcheck", "run", server.name, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # Ready without compiling: the kernels warmed at build time load from the image's cache.
    assert "server ready" in podman.logs(server.name)


def test_agent_container_streams_series_that_the_server_container_answers_for(
        podman: Podman, images: Images, secrets: Path, server: ServerContainer):
    with podman.container(
        "agent", images.agent, "--read-only", "--volume", f"{secrets}:{SECRETS}:ro",
        "--env", f"INFRACAST_SERVER={server.address}", "--env", f"INFRACAST_NODE={NODE}",
        "--env", "INFRACAST_INTERVAL=1s", "--env", "INFRACAST_KUBERNETES=off",
        "--env", f"INFRACAST_TLS_CA={SECRETS}/ca.pem",
        "--env", f"INFRACAST_TOKEN_FILE={SECRETS}/agent-token",
    ) as agent, query_client(server, secrets) as client:
        def samples() -> dict[str, int]:
            assert podman.inspect(agent)["State"]["Running"], podman.logs(agent)
            found, _ = client.list_series(f'{{node="{NODE}"}}')
            return {s.series.metric: s.sample_count for s in found}

        first = wait_until(lambda: {"node_load1", "node_memory_MemAvailable_bytes"} <= samples().keys()
                           and samples(), timeout_s=120, message="the agent container's series")
        assert any(name.startswith("node_filesystem_") for name in first)
        # Twenty samples a second apart: a forecast sees up to 5 times that far.
        wait_until(lambda: samples()["node_load1"] >= max(20, first["node_load1"] + 2), timeout_s=90,
                   message="the agent container to keep streaming")
        # A forecast runs the numba kernels inside the read-only server container.
        forecast = client.forecast(f'node_load1{{node="{NODE}"}}', horizon="1m")
        assert len(forecast.mean) > 0
        assert all(value >= 0 for value in forecast.mean)
        podman.run("stop", "--time", "30", agent)
        assert podman.inspect(agent)["State"]["ExitCode"] == 0, podman.logs(agent)


def test_server_container_stops_gracefully_on_sigterm(podman: Podman, images: Images, secrets: Path):
    with server_container(podman, images, secrets) as running:
        started = time.monotonic()
        podman.run("stop", "--time", "30", running.name)
        stopped_s = time.monotonic() - started
        state = podman.inspect(running.name)["State"]
        # tini passes SIGTERM on: the server drains and exits 0 well before podman's SIGKILL.
        assert state["ExitCode"] == 0, podman.logs(running.name)
        assert stopped_s < 25
