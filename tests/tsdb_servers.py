"""Real TSDB servers from Debian's packages, on loopback ports chosen at run time.

prometheus (with its remote-write receiver), victoria-metrics and
prometheus-node-exporter are installed by .ci/run; where they are missing locally the
tests that need them skip, saying which binary is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port


def binary(name: str) -> str:
    """The binary's path; skips the test where it is missing, and fails it in CI."""
    path = shutil.which(name)
    if path is None:
        message = (f"{name} is not installed (Debian package; .ci/run installs it: "
                   "apt-get install -y prometheus victoria-metrics prometheus-node-exporter)")
        if os.environ.get("CI"):
            pytest.fail(message + ", and CI must run this test")
        pytest.skip(message)
    return path


class Daemon:
    """A child process whose output goes to a file, stopped by stop()."""

    def __init__(self, args: list[str], log_path: Path, ready_url: str, timeout_s: float = 60) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{args[0]} exited:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"{args[0]} not ready at {ready_url}:\n{log_path.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class Tsdb:
    """A Prometheus-compatible server: its PromQL base URL and remote-write URL."""

    def __init__(self, daemon: Daemon, url: str, write_url: str, flush_path: str = "") -> None:
        self.daemon = daemon
        self.url = url
        self.write_url = write_url
        self._flush_path = flush_path

    def make_searchable(self) -> None:
        """VictoriaMetrics makes new samples searchable within about a second; tests that
        count them at once ask it to flush (Prometheus serves its head block at once)."""
        if self._flush_path:
            with urllib.request.urlopen(self.url + self._flush_path, timeout=30):
                pass

    def query(self, promql: str, at_s: float | None = None) -> list[dict]:
        params = {"query": promql}
        if at_s is not None:
            params["time"] = f"{at_s:.3f}"
        body = urllib.parse.urlencode(params).encode()
        with urllib.request.urlopen(f"{self.url}/api/v1/query", body, timeout=30) as reply:
            answer = json.load(reply)
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def server_env(self) -> dict[str, str]:
        return {"INFRACAST_STORE": "prometheus", "INFRACAST_PROMETHEUS_URL": self.url,
                "INFRACAST_PROMETHEUS_WRITE_URL": self.write_url}


def start_node_exporter(directory: Path) -> tuple[Daemon, str]:
    port = free_port()
    address = f"127.0.0.1:{port}"
    daemon = Daemon([binary("prometheus-node-exporter"), f"--web.listen-address={address}",
                     "--collector.disable-defaults", "--collector.filesystem", "--collector.meminfo",
                     "--collector.loadavg"],
                    directory / "node-exporter.log", f"http://{address}/metrics")
    return daemon, address


def start_prometheus(directory: Path, scrape_targets: list[str] = (), rule_files: list[Path] = (),
                     interval: str = "1s", port: int = 0) -> Tsdb:
    executable = binary("prometheus")
    port = port or free_port()
    config = directory / "prometheus.yml"
    lines = [f"global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}"]
    if rule_files:
        lines.append("rule_files:\n" + "".join(f"  - {path}\n" for path in rule_files))
    if scrape_targets:
        lines.append("scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ["
                     + ", ".join(f'"{t}"' for t in scrape_targets) + "]")
    config.write_text("\n".join(lines) + "\n")
    url = f"http://127.0.0.1:{port}"
    daemon = Daemon([executable, f"--config.file={config}", f"--storage.tsdb.path={directory / 'data'}",
                     f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver",
                     "--log.level=warn"],
                    directory / "prometheus.log", f"{url}/-/ready")
    return Tsdb(daemon, url, f"{url}/api/v1/write")


def start_victoria_metrics(directory: Path) -> Tsdb:
    executable = binary("victoria-metrics")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # No latency offset (it hides the last 30 s from queries by default) and one sample kept
    # per (series, timestamp): a resent batch stores once, as the Store protocol promises.
    daemon = Daemon([executable, f"-storageDataPath={directory / 'vm-data'}",
                     f"-httpListenAddr=127.0.0.1:{port}", "-search.latencyOffset=0s",
                     "-dedup.minScrapeInterval=1ms", "-loggerLevel=WARN"],
                    directory / "victoria-metrics.log", f"{url}/health")
    return Tsdb(daemon, url, f"{url}/api/v1/write", "/internal/force_flush")
