"""The work item service on an Apache Kafka that lets in only its SCRAM users (over TLS)
or certified clients, as far as the ACL layout says (secure_kafka.py, kafka_acls.py):
as its own user it creates and consumes work items end to end; a desktop-side user's
forged lifecycle event is refused by the broker; with a wrong password or an untrusted
broker certificate it stays up, not ready, and says why, instead of crash-looping."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAuthorizationFailedError
from switchboard_devtools.secure_kafka import ADMIN, SecureKafka
from switchboard_devtools.testing import (
    Brokers,
    eventually,
    serving,
)
from switchboard_devtools.testing_auth import bearer
from switchboard_devtools.testing_secure_kafka import secure_kafka_with_layout, values_on
from switchboard_schemas.topics import ALL_TOPICS, WORKITEM_COMMANDS, WORKITEM_EVENTS
from workitem.main import create_app

from .conftest import command, encode, workitem_settings

pytestmark = pytest.mark.integration

PREFIX = "secure"  # the consumer groups the ACLs name: secure-<service>
# one tenant for the module, whose Redis keys no other test shares: each service started
# here finds the state the previous one left with the group's committed offsets
TENANT = f"sasl{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    with secure_kafka_with_layout(tmp_path_factory.mktemp("secure-kafka"), PREFIX) as broker:
        yield broker


@pytest_asyncio.fixture(scope="module")
async def topics(kafka: SecureKafka) -> AsyncIterator[None]:
    """Created by the operator (the services' users may not create topics)."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka_config(ADMIN))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, 3, 1) for t in ALL_TOPICS])
    finally:
        await admin.close()
    yield


def settings_for(brokers: Brokers, access: dict[str, Any]) -> Any:
    return workitem_settings(
        brokers,
        **access,
        consumer_group_prefix=PREFIX,
        tenant_id=TENANT,
    )


async def events_on(kafka: SecureKafka, topic: str) -> list[dict[str, Any]]:
    """The CloudEvents on ``topic``, read to its end offsets as the admin."""
    return [json.loads(value or b"{}") for value in await values_on(kafka, topic)]


async def send_as(kafka: SecureKafka, user: str, topic: str, event: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(**kafka.aiokafka_config(user), request_timeout_ms=10_000)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, encode(event), key=event["data"]["work_item_id"].encode()
        )
    finally:
        await producer.stop()


async def readiness(http: httpx.AsyncClient) -> dict[str, Any]:
    answer = await http.get("/health/ready")
    return {**answer.json(), "http_status": answer.status_code}


async def _found(http: httpx.AsyncClient, wid: str) -> bool:
    return (await http.get(f"/v1/workitems/{wid}")).status_code == 200


@pytest.mark.parametrize("transport", ["scram", "mutual-tls"])
async def test_the_service_runs_the_lifecycle_as_its_own_kafka_user(
    brokers: Brokers, kafka: SecureKafka, topics: None, transport: str
) -> None:
    settings = settings_for(brokers, kafka.service_settings("workitem", transport))
    async with (
        serving(create_app(settings)) as url,
        httpx.AsyncClient(headers=bearer(), base_url=url) as http,
    ):
        ready = await eventually(lambda: _status_is(http, 200), timeout=60)
        assert ready, await readiness(http)
        created = await http.post("/v1/workitems", json={"type": "task", "description": "SASL"})
        assert created.status_code == 201, created.text
        wid = created.json()["work_item_id"]

        async def published() -> bool:  # the outbox relay produced it, as workitem
            events = await events_on(kafka, WORKITEM_EVENTS)
            return any(e.get("subject") == wid and e["type"] == "workitem.created" for e in events)

        assert await eventually(published, timeout=30)
        by_command = str(uuid.uuid4())  # the desktop gateway may send commands
        await send_as(
            kafka,
            "desktop",
            WORKITEM_COMMANDS,
            command(
                "workitem.create",
                {"work_item_id": by_command, "type": "task"},
                tenantid=settings.tenant_id,
            ),
        )
        assert await eventually(lambda: _found(http, by_command), timeout=30)


async def test_the_broker_refuses_a_forged_completion_from_the_desktop_user(
    brokers: Brokers, kafka: SecureKafka, topics: None
) -> None:
    settings = settings_for(brokers, kafka.service_settings("workitem"))
    async with (
        serving(create_app(settings)) as url,
        httpx.AsyncClient(headers=bearer(), base_url=url) as http,
    ):
        assert await eventually(lambda: _status_is(http, 200), timeout=60), await readiness(http)
        created = await http.post("/v1/workitems", json={"type": "task"})
        wid = created.json()["work_item_id"]
        forged = command("workitem.completed", {"work_item_id": wid}, subject=wid)
        with pytest.raises(TopicAuthorizationFailedError):
            await send_as(kafka, "desktop", WORKITEM_EVENTS, forged)
        assert forged["id"] not in [e.get("id") for e in await events_on(kafka, WORKITEM_EVENTS)]
        assert (await http.get(f"/v1/workitems/{wid}")).json()["status"] != "completed"


async def _status_is(http: httpx.AsyncClient, code: int) -> bool:
    return (await http.get("/health/ready")).status_code == code


@pytest.mark.parametrize(
    ("access", "reason"),
    [
        pytest.param(
            {"kafka_sasl_password": "wrong"},
            "SaslAuthenticationFailed: [Error 58] SaslAuthenticationFailed: Authentication "
            "failed during authentication due to invalid credentials",
            id="wrong-password",
        ),
        pytest.param(
            {"kafka_sasl_username": "nobody", "kafka_sasl_password": "x"},
            "invalid credentials with SASL mechanism SCRAM-SHA-512",
            id="unknown-user",
        ),
        pytest.param({"kafka_ssl_cafile": None}, "CERTIFICATE_VERIFY_FAILED", id="untrusted-ca"),
    ],
)
async def test_wrong_kafka_access_leaves_the_service_up_and_not_ready_saying_why(
    brokers: Brokers,
    kafka: SecureKafka,
    topics: None,
    access: dict[str, Any],
    reason: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    settings = settings_for(brokers, {**kafka.service_settings("workitem"), **access})
    async with (
        serving(create_app(settings)) as url,
        httpx.AsyncClient(headers=bearer(), base_url=url) as http,
    ):

        def said() -> list[str]:
            printed = capfd.readouterr()
            lines = (printed.out + printed.err).splitlines()
            return [line for line in lines if "startup_waiting_for_brokers" in line]

        lines = await eventually(said, timeout=30)  # it tried, and says why it failed
        assert reason in lines[0], lines[0]
        for _ in range(2):  # and then, and after a retry, it is still not ready
            ready = await readiness(http)
            assert ready["http_status"] == 503
            assert ready["checks"]["kafka"] == "failing", ready
            assert (await http.get("/health/live")).status_code == 200  # up, not crashing
            await eventually(said, timeout=30)
