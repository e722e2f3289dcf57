"""The ACL layout (switchboard_devtools.kafka_acls) on an Apache Kafka with SCRAM and
mutual-TLS listeners and the StandardAuthorizer (secure_kafka.py), through raw aiokafka
clients: each service's user writes its own topics, the broker refuses a desktop user's
forged lifecycle event, and a wrong password is refused at connect; ``sb-topic`` logs in
with the services' settings."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAuthorizationFailedError
from aiokafka.helpers import create_ssl_context
from switchboard_devtools.kafka_acls import LAYOUT
from switchboard_devtools.secure_kafka import ADMIN, SecureKafka
from switchboard_devtools.testing_secure_kafka import secure_kafka_with_layout, values_on
from switchboard_schemas.topics import ALL_TOPICS, WORKITEM_EVENTS

pytestmark = pytest.mark.integration

SERVICES = [access.service for access in LAYOUT]


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    with secure_kafka_with_layout(tmp_path_factory.mktemp("secure-kafka"), "switchboard") as broker:
        yield broker


def scram(kafka: SecureKafka, user: str, password: str | None = None) -> dict[str, Any]:
    return kafka.aiokafka_config(user, password)


def mutual_tls(kafka: SecureKafka, user: str) -> dict[str, Any]:
    return kafka.mutual_tls_config(user)


@pytest_asyncio.fixture(scope="module")
async def topics(kafka: SecureKafka) -> AsyncIterator[None]:
    admin = AIOKafkaAdminClient(**scram(kafka, ADMIN))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, 1, 1) for t in ALL_TOPICS])
    finally:
        await admin.close()
    yield


async def send(config: dict[str, Any], topic: str, event: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(**config, acks="all", request_timeout_ms=10_000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, json.dumps(event).encode(), key=b"k")
    finally:
        await producer.stop()


async def ids_on(kafka: SecureKafka, topic: str) -> list[str]:
    """The CloudEvent ids on ``topic``, read to its end offset as the admin."""
    return [json.loads(value or b"{}").get("id", "") for value in await values_on(kafka, topic)]


def event(ce_type: str) -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "type": ce_type, "source": "test"}


@pytest.mark.parametrize("access", LAYOUT, ids=SERVICES)
async def test_each_service_user_writes_the_topics_it_owns(
    kafka: SecureKafka, topics: None, access: Any
) -> None:
    for topic in access.writes:
        sent = event("test.owned")
        await send(scram(kafka, access.service), topic, sent)
        assert sent["id"] in await ids_on(kafka, topic), topic


@pytest.mark.parametrize("ce_type", ["workitem.completed", "workitem.created"])
@pytest.mark.parametrize("transport", ["scram", "mutual-tls"])
async def test_the_broker_refuses_a_forged_lifecycle_event_from_the_desktop_user(
    kafka: SecureKafka, topics: None, ce_type: str, transport: str
) -> None:
    config = scram(kafka, "desktop") if transport == "scram" else mutual_tls(kafka, "desktop")
    forged = event(ce_type)
    with pytest.raises(TopicAuthorizationFailedError):
        await send(config, WORKITEM_EVENTS, forged)
    assert forged["id"] not in await ids_on(kafka, WORKITEM_EVENTS)


async def test_a_certified_service_writes_its_own_events_over_mutual_tls(
    kafka: SecureKafka, topics: None
) -> None:
    sent = event("workitem.created")
    await send(mutual_tls(kafka, "workitem"), WORKITEM_EVENTS, sent)
    assert sent["id"] in await ids_on(kafka, WORKITEM_EVENTS)


async def test_an_unknown_password_is_refused_at_connect(
    kafka: SecureKafka, topics: None, caplog: pytest.LogCaptureFixture
) -> None:
    producer = AIOKafkaProducer(**scram(kafka, "workitem", password="not-the-password"))
    with pytest.raises(KafkaConnectionError):
        await producer.start()
    await producer.stop()
    said = [r.getMessage() for r in caplog.records if r.name == "aiokafka"]
    assert any("invalid credentials with SASL mechanism SCRAM-SHA-512" in s for s in said), said


async def test_a_client_without_a_certificate_is_refused_on_the_tls_listener(
    kafka: SecureKafka, topics: None
) -> None:
    context = create_ssl_context(cafile=str(kafka.ca.cert))
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.ssl_bootstrap, security_protocol="SSL", ssl_context=context
    )
    with pytest.raises((KafkaError, ssl.SSLError, OSError)):
        await producer.start()
    await producer.stop()


def sb_topic(
    kafka: SecureKafka, user: str, *args: str, **changed: str
) -> subprocess.CompletedProcess[str]:
    """``sb-topic *args`` with ``user``'s service settings in its environment."""
    settings = {k.upper(): str(v) for k, v in kafka.service_settings(user).items()}
    env = {**os.environ, **settings, **changed}
    command = [sys.executable, "-m", "switchboard_devtools.topic_tool", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


async def test_sb_topic_logs_in_with_the_service_settings(kafka: SecureKafka, topics: None) -> None:
    sent = sb_topic(kafka, "workitem", "send", WORKITEM_EVENTS, "workitem.created", "{}")
    assert sent.returncode == 0, sent.stderr
    event_id = json.loads(sent.stdout)["sent"]
    assert event_id in await ids_on(kafka, WORKITEM_EVENTS)
    tailed = sb_topic(kafka, ADMIN, "tail", WORKITEM_EVENTS, "--from-beginning", "--count", "1")
    assert tailed.returncode == 0, tailed.stderr
    assert json.loads(tailed.stdout.splitlines()[0])["value"]["specversion"] == "1.0"


async def test_sb_topic_says_in_one_line_that_the_password_is_refused(
    kafka: SecureKafka, topics: None
) -> None:
    args = ("send", WORKITEM_EVENTS, "workitem.created", "{}")
    refused = sb_topic(kafka, "workitem", *args, KAFKA_SASL_PASSWORD="not-the-password")
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "invalid credentials" in refused.stderr, refused.stderr
