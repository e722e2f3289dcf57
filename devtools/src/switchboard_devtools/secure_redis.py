"""A Redis that only speaks TLS and only lets its ACL user in, for the tests of transport
security: a throwaway certificate authority and a server certificate for 127.0.0.1 made
with ``cryptography``, and Debian's ``redis-server`` (Redis 7, built with TLS) started on
a free port with its plain port closed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from redis import Redis

from switchboard_devtools.embedded import ManagedProcess, free_port, wait_until

USER = "switchboard"


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


def make_certificates(directory: Path, host: str = "127.0.0.1") -> tuple[Pem, Pem]:
    """A certificate authority and a server certificate it signed for ``host`` (an IP)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("switchboard test CA"))
        .issuer_name(_name("switchboard test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return _write(directory, "ca", ca, ca_key), _write(directory, "server", server, key)


class SecureRedis:
    """``redis-server`` with TLS only and one ACL user (the default user is off)."""

    def __init__(self, binary: str = "redis-server") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="switchboard-tls-redis-"))
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.ca, self._server = make_certificates(self.dir)
        acl = self.dir / "users.acl"
        acl.write_text(f"user default off\nuser {USER} on >{self.password} ~* &* +@all\n")
        self._proc = ManagedProcess(
            "redis-tls",
            [
                binary,
                *("--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1"),
                *("--tls-cert-file", str(self._server.cert)),
                *("--tls-key-file", str(self._server.key)),
                *("--tls-ca-cert-file", str(self.ca.cert), "--tls-auth-clients", "no"),
                *("--aclfile", str(acl), "--save", "", "--appendonly", "no"),
                *("--dir", str(self.dir)),
            ],
            self.dir / "redis.log",
        )

    @property
    def url(self) -> str:
        """The server's ``rediss://`` URL, without credentials."""
        return f"rediss://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        client = Redis.from_url(
            self.url,
            username=USER,
            password=self.password,
            ssl_ca_certs=str(self.ca.cert),
            socket_timeout=1,
            socket_connect_timeout=1,
        )
        try:
            return bool(client.ping())
        except Exception:
            return False
        finally:
            client.close()

    def start(self) -> SecureRedis:
        self._proc.start()
        wait_until(self._answers, self._proc, 30)
        return self

    def stop(self) -> None:
        self._proc.stop()

    def __enter__(self) -> SecureRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
