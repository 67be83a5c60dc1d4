"""A stand-in for the Kubernetes API server, for the few paths infracast calls.

There is no Kubernetes API server to be had on these machines (no cluster, no kind, no
envtest binaries), so this small HTTP server answers GET /api/v1/nodes and
GET /api/v1/nodes/{name} with bodies shaped exactly like the real API's (v1 Node and
NodeList, and v1 Status for errors, as `kubectl get --raw` prints them), checks the
bearer token the way the API server does, and records every request. The infracast code
under test talks to it through the official `kubernetes` client and a real kubeconfig.
"""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TOKEN = "fake-api-token"


def node_object(name: str, labels: dict[str, str], cpu: str, memory: str) -> dict:
    """A v1 Node as the API returns it (trimmed of nothing infracast might read)."""
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "uid": f"8f0c3a4e-0000-4000-8000-{abs(hash(name)) % 10**12:012d}",
            "resourceVersion": "48213",
            "creationTimestamp": "2026-11-01T09:12:44Z",
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", **labels},
            "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                            "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"],
                 "providerID": f"gce://infracast-test/europe-west1-b/{name}"},
        "status": {
            "capacity": {"cpu": "4", "ephemeral-storage": "101430960Ki", "hugepages-2Mi": "0",
                         "memory": "16393916Ki", "pods": "110"},
            "allocatable": {"cpu": cpu, "ephemeral-storage": "93478772582", "hugepages-2Mi": "0",
                            "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True",
                            "lastHeartbeatTime": "2026-11-29T10:00:00Z",
                            "lastTransitionTime": "2026-11-01T09:13:20Z",
                            "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
            "addresses": [{"type": "InternalIP", "address": "10.132.0.7"},
                          {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": "3c1d0e5f", "systemUUID": "3c1d0e5f", "bootID": "b0f1",
                         "kernelVersion": "6.1.0-27-cloud-amd64",
                         "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "containerRuntimeVersion": "containerd://1.7.24",
                         "kubeletVersion": "v1.31.4", "kubeProxyVersion": "v1.31.4",
                         "operatingSystem": "linux", "architecture": "amd64"},
        },
    }


def status_object(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    """A v1 Status, the body of every error answer."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def token_review(request: dict, tokens: dict[str, tuple[str, str | None]]) -> dict:
    """A TokenReview answered as the API server answers one for a pod-bound projected token."""
    spec = request.get("spec", {})
    known = tokens.get(spec.get("token", ""))
    status: dict = {"user": {}}
    if known is None:
        status["error"] = "[invalid bearer token, token lookup failed]"
    elif "infracast" not in spec.get("audiences", []):
        status["error"] = "token audiences [\"infracast\"] is invalid for the target audiences"
    else:
        username, node = known
        extra = {"authentication.kubernetes.io/pod-name": ["infracast-agent-x7k2p"]}
        if node is not None:
            extra["authentication.kubernetes.io/node-name"] = [node]
        status = {"authenticated": True, "audiences": ["infracast"],
                  "user": {"username": username, "uid": "6f1c2d3e", "extra": extra,
                           "groups": ["system:serviceaccounts", "system:authenticated"]}}
    return {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}


class FakeKubernetesApi:
    def __init__(self, nodes: list[dict], tls: tuple[Path, Path] | None = None) -> None:
        """`tls`: (certificate, key) to serve HTTPS, as the in-cluster API address needs."""
        self.nodes = {node["metadata"]["name"]: node for node in nodes}
        self.requests: list[str] = []
        # Projected service-account tokens TokenReview accepts: token -> (username, node or None).
        self.service_account_tokens: dict[str, tuple[str, str | None]] = {}
        self.reviews_fail = False  # answer TokenReviews with 503, as an overloaded API server
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.requests.append(self.path)
                path = self.path.split("?")[0]
                scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
                # The scheme is case-insensitive (RFC 7235); the in-cluster loader sends "bearer".
                if scheme.lower() != "bearer" or token != TOKEN:
                    self._answer(401, status_object(401, "Unauthorized", "Unauthorized"))
                elif path == "/api/v1/nodes":
                    self._answer(200, {"kind": "NodeList", "apiVersion": "v1",
                                       "metadata": {"resourceVersion": "48213"},
                                       "items": list(api.nodes.values())})
                elif path.startswith("/api/v1/nodes/") and path.count("/") == 4:
                    name = path.rsplit("/", 1)[1]
                    if name in api.nodes:
                        self._answer(200, api.nodes[name])
                    else:
                        self._answer(404, status_object(404, "NotFound", f'nodes "{name}" not found',
                                                        {"name": name, "kind": "nodes"}))
                else:
                    self._answer(404, status_object(404, "NotFound", "the server could not find "
                                                    "the requested resource"))

            def do_POST(self) -> None:
                api.requests.append(f"POST {self.path}")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
                if scheme.lower() != "bearer" or token != TOKEN:
                    self._answer(401, status_object(401, "Unauthorized", "Unauthorized"))
                elif self.path.split("?")[0] != "/apis/authentication.k8s.io/v1/tokenreviews":
                    self._answer(404, status_object(404, "NotFound", "the server could not find "
                                                    "the requested resource"))
                elif api.reviews_fail:
                    self._answer(503, status_object(503, "ServiceUnavailable", "etcd is not answering"))
                else:
                    self._answer(201, token_review(body, api.service_account_tokens))

            def _answer(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeKubernetesApi:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def write_kubeconfig(self, path: Path, token: str = TOKEN) -> Path:
        """A kubeconfig as kubectl writes one, pointing at this server."""
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
        }))
        return path
