"""Who a service is to Kafka and how it reaches it, from the KAFKA_SECURITY_PROTOCOL,
KAFKA_SASL_* and KAFKA_SSL_* settings (docs/security.md): as aiokafka keyword arguments
for every client the runtime makes, as a FastStream security object for its consumers,
and, when a client cannot bootstrap, the reason (aiokafka only logs it).

| KAFKA_SECURITY_PROTOCOL | TLS (ssl_context)          | SASL login                    |
|-------------------------|----------------------------|-------------------------------|
| PLAINTEXT               | no                         | no                            |
| SSL                     | yes; client cert if set    | no (principal from the cert)  |
| SASL_PLAINTEXT          | no                         | KAFKA_SASL_MECHANISM          |
| SASL_SSL                | yes                        | KAFKA_SASL_MECHANISM          |
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from aiokafka.conn import create_conn
from aiokafka.helpers import create_ssl_context
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)

from switchboard_runtime.kafka_settings import KafkaAccessSettings

_SASL = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


def uses_tls(settings: KafkaAccessSettings) -> bool:
    return settings.kafka_security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(settings: KafkaAccessSettings) -> bool:
    return settings.kafka_security_protocol.startswith("SASL_")


def ssl_context(settings: KafkaAccessSettings) -> ssl.SSLContext | None:
    """The TLS context (checking the brokers' certificates against KAFKA_SSL_CAFILE,
    presenting KAFKA_SSL_CERTFILE if set), or None for a protocol without TLS."""
    if not uses_tls(settings):
        return None
    context: ssl.SSLContext = create_ssl_context(
        cafile=settings.kafka_ssl_cafile,
        certfile=settings.kafka_ssl_certfile,
        keyfile=settings.kafka_ssl_keyfile,
    )
    return context


def _password(settings: KafkaAccessSettings) -> str:
    secret = settings.kafka_sasl_password
    return secret.get_secret_value() if secret else ""


def kafka_access(settings: KafkaAccessSettings) -> dict[str, Any]:
    """Keyword arguments of an aiokafka producer, consumer, admin or client."""
    access: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if uses_tls(settings):
        access["ssl_context"] = ssl_context(settings)
    if uses_sasl(settings):
        access["sasl_mechanism"] = settings.kafka_sasl_mechanism
        access["sasl_plain_username"] = settings.kafka_sasl_username
        access["sasl_plain_password"] = _password(settings)
    return access


def faststream_security(settings: KafkaAccessSettings) -> BaseSecurity | None:
    """The same, as the ``security`` of a FastStream KafkaBroker (None: PLAINTEXT)."""
    context, tls = ssl_context(settings), uses_tls(settings)
    if uses_sasl(settings):
        login = _SASL[settings.kafka_sasl_mechanism]
        user = settings.kafka_sasl_username or ""
        return login(user, _password(settings), ssl_context=context, use_ssl=tls)
    return BaseSecurity(ssl_context=context, use_ssl=True) if tls else None


def _hosts(bootstrap_servers: str) -> list[tuple[str, int]]:
    hosts = []
    for server in bootstrap_servers.split(","):
        host, colon, port = server.strip().rpartition(":")
        if not colon or "]" in port:  # no port given (a bare name, or [v6] alone)
            host, port = server.strip(), ""
        hosts.append((host.strip("[]"), int(port) if port.isdigit() else 9092))
    return hosts


async def _probe(host: str, port: int, access: dict[str, Any], timeout: float) -> str | None:
    """Why ``host:port`` cannot be connected to (None: it can)."""
    try:
        async with asyncio.timeout(timeout):
            conn = await create_conn(host, port, request_timeout_ms=5000, **access)
    except Exception as exc:
        return f"{host}:{port}: {type(exc).__name__}: {exc}"
    conn.close()
    return None


async def bootstrap_failure(
    bootstrap_servers: str, access: dict[str, Any], timeout: float = 5.0
) -> str | None:
    """Why no server of ``bootstrap_servers`` can be connected to with ``access``
    (``kafka_access`` of the settings), e.g. ``SaslAuthenticationFailed: ... invalid
    credentials`` or ``SSLCertVerificationError: ...``; None once one can. The servers
    are tried at once, so a list of dead ones costs one timeout, not one each."""
    probes = [_probe(host, port, access, timeout) for host, port in _hosts(bootstrap_servers)]
    reasons = await asyncio.gather(*probes)
    if any(reason is None for reason in reasons):
        return None
    return "; ".join(r for r in reasons if r)
