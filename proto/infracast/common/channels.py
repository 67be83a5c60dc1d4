"""gRPC channels to an infracast server, plaintext or TLS (with a client certificate for mTLS)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc import aio


@dataclass(frozen=True)
class TlsOptions:
    """TLS for a client: the CA that signs the server's certificate (None: the system's roots),
    and optionally this client's certificate and key for mutual TLS."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        if (self.cert is None) != (self.key is None):
            raise ValueError("a client certificate needs its key, and a key its certificate")
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca.read_bytes() if self.ca else None,
            private_key=self.key.read_bytes() if self.key else None,
            certificate_chain=self.cert.read_bytes() if self.cert else None,
        )


def open_channel(target: str, tls: TlsOptions | None = None) -> grpc.Channel:
    return grpc.secure_channel(target, tls.credentials()) if tls else grpc.insecure_channel(target)


def open_aio_channel(target: str, tls: TlsOptions | None = None,
                     options: Sequence[tuple[str, Any]] = ()) -> aio.Channel:
    if tls:
        return aio.secure_channel(target, tls.credentials(), options=options)
    return aio.insecure_channel(target, options=options)
