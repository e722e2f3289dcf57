"""How a service reaches Kafka and who it is there: the KAFKA_SECURITY_PROTOCOL,
KAFKA_SASL_* and KAFKA_SSL_* settings every service shares (part of CommonSettings;
docs/security.md), and the combinations refused before anything connects."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


class KafkaAccessSettings(BaseSettings):
    """Kafka transport security and login (see switchboard_runtime.kafka_access)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    kafka_security_protocol: KafkaSecurityProtocol = Field(
        "PLAINTEXT",
        description="How the service talks to Kafka: PLAINTEXT, SSL (TLS; with "
        "KAFKA_SSL_CERTFILE also mutual TLS), SASL_PLAINTEXT or SASL_SSL (a SASL login, "
        "over TLS with SASL_SSL). See docs/security.md.",
    )
    kafka_sasl_mechanism: KafkaSaslMechanism = Field(
        "SCRAM-SHA-512",
        description="SASL mechanism of KAFKA_SASL_USERNAME's login (SASL_* protocols only); "
        "PLAIN only over SASL_SSL, since it sends the password as it is.",
    )
    kafka_sasl_username: str | None = Field(
        None, description="The service's Kafka user (its ACL principal is User:<name>)."
    )
    kafka_sasl_password: SecretStr | None = Field(
        None, description="Password of KAFKA_SASL_USERNAME."
    )
    kafka_ssl_cafile: str | None = Field(
        None,
        description="CA certificate (PEM) that signed the brokers' certificates (SSL and "
        "SASL_SSL); unset: the system's trusted CAs.",
    )
    kafka_ssl_certfile: str | None = Field(
        None,
        description="Client certificate (PEM) for mutual TLS; with SSL the broker takes "
        "the service's principal from it. Needs KAFKA_SSL_KEYFILE.",
    )
    kafka_ssl_keyfile: str | None = Field(
        None, description="Private key (PEM, unencrypted) of KAFKA_SSL_CERTFILE."
    )

    @model_validator(mode="after")
    def _kafka_login_complete(self) -> KafkaAccessSettings:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} logs in: set "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        if self.kafka_security_protocol == "SASL_PLAINTEXT" and self.kafka_sasl_mechanism == (
            "PLAIN"
        ):
            raise ValueError(
                "KAFKA_SASL_MECHANISM=PLAIN sends the password as it is, and "
                "SASL_PLAINTEXT has no TLS: use SASL_SSL, or a SCRAM mechanism"
            )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError("set KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE together (or neither)")
        return self
