"""A throwaway certificate authority for TLS tests: CA, server (127.0.0.1/localhost) and client."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key, path: Path) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def make_pki(directory: Path) -> dict[str, Path]:
    """Paths of ca.pem, server.pem, server.key, client.pem and client.key."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("infracast test CA"))
          .issuer_name(_name("infracast test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now)
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    paths = {"ca": directory / "ca.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for role, names in (("server", [x509.DNSName("localhost"),
                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                        ("client", [x509.DNSName("agent.test")])):
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (x509.CertificateBuilder().subject_name(_name(f"infracast test {role}"))
                       .issuer_name(ca.subject).public_key(key.public_key())
                       .serial_number(x509.random_serial_number()).not_valid_before(now)
                       .not_valid_after(now + datetime.timedelta(days=1))
                       .add_extension(x509.SubjectAlternativeName(names), critical=False)
                       .sign(ca_key, hashes.SHA256()))
        paths[role] = directory / f"{role}.pem"
        paths[role].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        paths[f"{role}_key"] = _write_key(key, directory / f"{role}.key")
    return paths
