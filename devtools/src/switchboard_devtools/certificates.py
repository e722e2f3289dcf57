"""Throwaway TLS certificates for the tests of transport security, made with
``cryptography``: a certificate authority, a server certificate it signed for a
loopback IP, and client certificates (for mutual TLS) named by their common name.
Each is written as PEM files, the key readable by its owner only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> Pem:
    pem = Pem(directory / f"{stem}.crt", directory / f"{stem}.key")
    pem.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pem.key.chmod(0o600)
    return pem


def _builder(
    subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )


def make_certificates(directory: Path, host: str = "127.0.0.1") -> tuple[Pem, Pem]:
    """A certificate authority and a server certificate it signed for ``host`` (an IP)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        _builder("switchboard test CA", _name("switchboard test CA"), ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        _builder(host, ca.subject, key)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return _write(directory, "ca", ca, ca_key), _write(directory, "server", server, key)


def make_client_certificate(directory: Path, ca: Pem, common_name: str) -> Pem:
    """A client certificate for ``common_name`` signed by ``ca`` (made by
    ``make_certificates``), written as ``client-<common_name>.crt`` and ``.key``."""
    authority = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _builder(common_name, authority.subject, key).sign(ca_key, hashes.SHA256())
    return _write(directory, f"client-{common_name}", cert, key)
