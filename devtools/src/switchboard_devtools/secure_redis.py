"""A Redis that only speaks TLS and only lets its ACL user in, for the tests of transport
security: a throwaway certificate authority and a server certificate for 127.0.0.1 made
with ``cryptography``, and Debian's ``redis-server`` (Redis 7, built with TLS) started on
a free port with its plain port closed.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from types import TracebackType

from redis import Redis

from switchboard_devtools.certificates import Pem, make_certificates
from switchboard_devtools.embedded import ManagedProcess, free_port, wait_until

USER = "switchboard"
__all__ = ["USER", "Pem", "SecureRedis", "make_certificates"]


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
