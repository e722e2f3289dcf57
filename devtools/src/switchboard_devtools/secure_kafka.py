"""An Apache Kafka that lets in only its SCRAM users or certified clients, and only as
far as its ACLs say, for the tests of Kafka security (docs/security.md).

One KRaft node (``ApacheKafka``) whose plain port is closed. It listens on:

| listener     | protocol                      | who connects, as which principal            |
|--------------|-------------------------------|---------------------------------------------|
| ``SASL_SSL`` | TLS + SASL/SCRAM-SHA-512      | clients, as ``User:<SCRAM name>``; also the |
|              |                               | broker itself (inter-broker), as the admin  |
| ``SSL``      | mutual TLS (client cert)      | clients, as ``User:<CN of their cert>``     |
| CONTROLLER   | SASL_PLAINTEXT, PLAIN         | the broker to its controller, as the admin  |

The certificates are made at start (``certificates.make_certificates``); the SCRAM users
(the admin and those asked for) are written into the storage as it is formatted
(``kafka-storage format --add-scram``). ``StandardAuthorizer`` is on, the admin is its
only super user, and a resource without ACLs is denied to everyone else.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiokafka.helpers import create_ssl_context

from switchboard_devtools.apache_kafka import ApacheKafka
from switchboard_devtools.apache_kafka_config import HOST, KafkaNode, port_apart_from
from switchboard_devtools.apache_kafka_fetch import KAFKA_VERSION
from switchboard_devtools.certificates import make_certificates, make_client_certificate

ADMIN = "admin"
MECHANISM = "SCRAM-SHA-512"
SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


def _jaas(module: str, user: str, password: str, *extra: str) -> str:
    return f'{module} required username="{user}" password="{password}"{"".join(extra)};'


class SecureKafka(ApacheKafka):
    """One node with SASL_SSL (SCRAM-SHA-512) and mutual-TLS listeners and ACLs on.
    ``users``: SCRAM users to create besides the admin, each with a random password
    (``passwords``) and a client certificate for the SSL listener (``client_pem``)."""

    def __init__(
        self,
        directory: Path | None = None,
        users: Iterable[str] = (),
        version: str = KAFKA_VERSION,
        start_timeout: float = 90.0,
    ) -> None:
        super().__init__(directory, version=version, start_timeout=start_timeout)
        names = [ADMIN, *users]
        self.passwords = {name: secrets.token_hex(16) for name in names}  # no , = ] in them
        self.ssl_port = port_apart_from(self.nodes)  # the SSL listener's
        tls = self.directory / "tls"
        tls.mkdir(parents=True, exist_ok=True)
        self.ca, server = make_certificates(tls, HOST)
        self.client_pem = {name: make_client_certificate(tls, self.ca, name) for name in names}
        keystore = tls / "server.pem"  # Kafka's PEM key store: the key, then the chain
        keystore.write_bytes(server.key.read_bytes() + server.cert.read_bytes())
        keystore.chmod(0o600)
        self.properties.update(self._security(keystore))

    @property
    def ssl_bootstrap(self) -> str:
        return f"{HOST}:{self.ssl_port}"

    def _security(self, keystore: Path) -> dict[str, str]:
        admin = self.passwords[ADMIN]
        return {
            "sasl.enabled.mechanisms": MECHANISM,
            "sasl.mechanism.inter.broker.protocol": MECHANISM,
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": _jaas(
                SCRAM_MODULE, ADMIN, admin
            ),
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": _jaas(
                PLAIN_MODULE, ADMIN, admin, f' user_{ADMIN}="{admin}"'
            ),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca.cert),
            "listener.name.ssl.ssl.client.auth": "required",
            "ssl.principal.mapping.rules": "RULE:^CN=(.*?)$/$1/,DEFAULT",
            "authorizer.class.name": AUTHORIZER,
            "super.users": f"User:{ADMIN}",
            "allow.everyone.if.no.acl.found": "false",
        }

    def _node_properties(self, node: KafkaNode) -> dict[str, str]:
        listeners = {
            "SASL_SSL": f"{HOST}:{node.port}",
            "SSL": f"{HOST}:{self.ssl_port}",
        }
        return {
            **super()._node_properties(node),
            "listeners": ",".join(
                [f"{name}://{at}" for name, at in listeners.items()]
                + [f"CONTROLLER://{HOST}:{node.controller_port}"]
            ),
            "advertised.listeners": ",".join(f"{n}://{at}" for n, at in listeners.items()),
            "listener.security.protocol.map": "SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:SASL_PLAINTEXT",
            "inter.broker.listener.name": "SASL_SSL",
        }

    def _format_arguments(self) -> list[str]:
        arguments = []
        for name, password in self.passwords.items():
            arguments += ["--add-scram", f"{MECHANISM}=[name={name},password={password}]"]
        return arguments

    def _answers(self, node: KafkaNode, expected: int) -> bool:
        from confluent_kafka.admin import AdminClient  # noqa: PLC0415 - only a probe needs it

        admin = AdminClient({**self.librdkafka_config(ADMIN), "log_level": 0})
        try:
            return node.node_id in admin.list_topics(timeout=2).brokers
        except Exception:
            return False

    def librdkafka_config(self, user: str, password: str | None = None) -> dict[str, Any]:
        """confluent-kafka settings that log in over SASL_SSL as ``user``."""
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": MECHANISM,
            "sasl.username": user,
            "sasl.password": self.passwords[user] if password is None else password,
            "ssl.ca.location": str(self.ca.cert),
        }

    def aiokafka_config(self, user: str, password: str | None = None) -> dict[str, Any]:
        """aiokafka client arguments that log in over SASL_SSL as ``user``."""
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": MECHANISM,
            "sasl_plain_username": user,
            "sasl_plain_password": self.passwords[user] if password is None else password,
            "ssl_context": create_ssl_context(cafile=str(self.ca.cert)),
        }

    def mutual_tls_config(self, user: str) -> dict[str, Any]:
        """aiokafka client arguments that connect to the SSL listener with ``user``'s
        client certificate."""
        pem = self.client_pem[user]
        context = create_ssl_context(
            cafile=str(self.ca.cert), certfile=str(pem.cert), keyfile=str(pem.key)
        )
        return {
            "bootstrap_servers": self.ssl_bootstrap,
            "security_protocol": "SSL",
            "ssl_context": context,
        }

    def service_settings(self, user: str, transport: str = "scram") -> dict[str, Any]:
        """A service's Kafka settings (CommonSettings fields) as ``user``: over SASL_SSL
        (``scram``) or mutual TLS (``mutual-tls``)."""
        if transport == "mutual-tls":
            pem = self.client_pem[user]
            return {
                "kafka_bootstrap_servers": self.ssl_bootstrap,
                "kafka_security_protocol": "SSL",
                "kafka_ssl_cafile": str(self.ca.cert),
                "kafka_ssl_certfile": str(pem.cert),
                "kafka_ssl_keyfile": str(pem.key),
            }
        return {
            "kafka_bootstrap_servers": self.bootstrap_servers,
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": MECHANISM,
            "kafka_sasl_username": user,
            "kafka_sasl_password": self.passwords[user],
            "kafka_ssl_cafile": str(self.ca.cert),
        }
