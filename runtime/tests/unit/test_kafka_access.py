"""KAFKA_SECURITY_PROTOCOL and its companions: what each protocol makes of the settings
for aiokafka and for FastStream, and the settings that cannot work refused at start."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import ValidationError
from switchboard_devtools.certificates import make_certificates
from switchboard_runtime.kafka_access import faststream_security, kafka_access
from switchboard_runtime.settings import CommonSettings


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> str:
    authority, _ = make_certificates(tmp_path_factory.mktemp("tls"))
    return str(authority.cert)


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    settings = CommonSettings()
    assert kafka_access(settings) == {"security_protocol": "PLAINTEXT"}
    assert faststream_security(settings) is None


def test_sasl_ssl_logs_in_over_tls_checking_the_given_ca(ca: str) -> None:
    settings = CommonSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="workitem",
        kafka_sasl_password="s3cret",
        kafka_ssl_cafile=ca,
    )
    access = kafka_access(settings)
    context = access.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert access == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "workitem",
        "sasl_plain_password": "s3cret",
    }
    security = faststream_security(settings)
    assert isinstance(security, SASLScram512)
    assert (security.username, security.password, security.use_ssl) == ("workitem", "s3cret", True)


@pytest.mark.parametrize(
    ("mechanism", "kind"),
    [("SCRAM-SHA-256", SASLScram256), ("SCRAM-SHA-512", SASLScram512)],
)
def test_sasl_plaintext_logs_in_without_tls(mechanism: str, kind: type[BaseSecurity]) -> None:
    settings = CommonSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="u",
        kafka_sasl_password="p",
    )
    assert "ssl_context" not in kafka_access(settings)
    assert kafka_access(settings)["sasl_mechanism"] == mechanism
    security = faststream_security(settings)
    assert type(security) is kind
    assert not security.use_ssl


def test_plain_over_sasl_ssl_logs_in_over_tls(ca: str) -> None:
    settings = CommonSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="u",
        kafka_sasl_password="p",
        kafka_ssl_cafile=ca,
    )
    security = faststream_security(settings)
    assert type(security) is SASLPlaintext
    assert security.use_ssl


def test_plain_without_tls_is_refused_since_it_sends_the_password_as_it_is() -> None:
    with pytest.raises(ValidationError, match="PLAIN sends the password as it is"):
        CommonSettings(
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_sasl_mechanism="PLAIN",
            kafka_sasl_username="u",
            kafka_sasl_password="p",
        )


def test_ssl_alone_is_tls_without_a_login(ca: str) -> None:
    settings = CommonSettings(kafka_security_protocol="SSL", kafka_ssl_cafile=ca)
    access = kafka_access(settings)
    assert set(access) == {"security_protocol", "ssl_context"}
    security = faststream_security(settings)
    assert type(security) is BaseSecurity
    assert security.use_ssl


@pytest.mark.parametrize(
    "given",
    [
        {"kafka_security_protocol": "SASL_SSL"},
        {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "workitem"},
        {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_password": "p"},
    ],
)
def test_a_sasl_protocol_without_username_and_password_is_refused(given: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="set KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        CommonSettings(**given)  # type: ignore[arg-type]


def test_a_client_certificate_needs_its_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE"):
        CommonSettings(kafka_security_protocol="SSL", kafka_ssl_certfile=str(tmp_path / "c"))


def test_an_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValidationError, match="kafka_security_protocol"):
        CommonSettings(kafka_security_protocol="TLS")


def test_the_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, ca: str
) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "router")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "pw")
    monkeypatch.setenv("KAFKA_SSL_CAFILE", ca)
    settings = CommonSettings()
    assert settings.kafka_sasl_password is not None
    assert "pw" not in repr(settings)  # a secret, never printed
    assert kafka_access(settings)["sasl_plain_username"] == "router"
