"""HTTP to a Prometheus-compatible TSDB: the endpoint, its credentials and TLS, one place.

Plain urllib: the PromQL API is a few GET requests returning JSON and remote write one
POST, so no HTTP client library is needed. Calls block; callers run them off the event
loop where it matters.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class TsdbError(OSError):
    """The TSDB refused or failed a request; `status` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class TsdbEndpoint:
    url: str  # base of the PromQL API, without a trailing slash
    write_url: str = ""  # remote write; empty: url + /api/v1/write
    bearer_token_file: Path | None = None
    username: str = ""
    password_file: Path | None = None
    ca_file: Path | None = None
    timeout_s: float = 10.0

    @property
    def remote_write_url(self) -> str:
        return self.write_url or f"{self.url}/api/v1/write"


class TsdbHttp:
    def __init__(self, endpoint: TsdbEndpoint) -> None:
        self.endpoint = endpoint
        self._tls = (ssl.create_default_context(cafile=str(endpoint.ca_file))
                     if endpoint.ca_file is not None else None)

    def _headers(self) -> dict[str, str]:
        # Secrets are read at each request so that a rotated token file takes effect.
        endpoint = self.endpoint
        if endpoint.bearer_token_file is not None:
            return {"Authorization": "Bearer " + endpoint.bearer_token_file.read_text().strip()}
        if endpoint.username and endpoint.password_file is not None:
            pair = f"{endpoint.username}:{endpoint.password_file.read_text().strip()}"
            return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
        return {}

    def api(self, path: str, params: list[tuple[str, str]]) -> Any:
        """GET an /api/v1 endpoint (as a form POST: long selectors fit) and return its data."""
        body = urllib.parse.urlencode(params).encode()
        headers = {**self._headers(), "Content-Type": "application/x-www-form-urlencoded"}
        answer = json.loads(self._send(f"{self.endpoint.url}{path}", body, headers))
        if answer.get("status") != "success":
            raise TsdbError(f"{path}: {answer.get('errorType')}: {answer.get('error')}")
        return answer["data"]

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> bytes:
        return self._send(url, body, {**self._headers(), **headers})

    def _send(self, url: str, body: bytes, headers: dict[str, str]) -> bytes:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.endpoint.timeout_s, context=self._tls) as reply:
                return reply.read()
        except urllib.error.HTTPError as error:
            detail = error.read(2000).decode(errors="replace").strip()
            raise TsdbError(f"{url}: HTTP {error.code}: {detail}", error.code,
                            _retry_after(error.headers.get("Retry-After"))) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TsdbError(f"{url}: {reason}") from None


def _retry_after(text: str | None) -> float | None:
    try:
        return max(float(text), 0.0) if text else None
    except ValueError:
        return None  # an HTTP date: rare from TSDBs, the backoff applies instead
