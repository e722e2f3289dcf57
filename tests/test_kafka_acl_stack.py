"""All four services on an Apache Kafka that lets in only its SCRAM users over TLS, each
service as its own user with no more than the shipped ACL layout grants
(switchboard_devtools.kafka_acls): an agent signs in through the desktop gateway, is
offered an item created over HTTP, accepts, ends and completes it, and the work item
service records it archived; a callback becomes an outbound offer; a malformed command
on each command topic reaches that topic's dead-letter topic, written by its consumer.
Any grant the layout lacks shows here as a service that never gets ready, an offer never
made, or a dead letter never written."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from callback.config import CallbackSettings
from callback.main import create_app as create_callback
from desktop.config import DesktopSettings
from desktop.main import create_app as create_desktop
from router.config import RouterSettings
from router.main import create_app as create_router
from switchboard_devtools.secure_kafka import ADMIN, SecureKafka
from switchboard_devtools.testing import (
    Brokers,
    eventually,
    serving_ready,
)
from switchboard_devtools.testing_auth import bearer
from switchboard_devtools.testing_secure_kafka import secure_kafka_with_layout, values_on
from switchboard_schemas.topics import (
    AGENT_COMMANDS,
    ALL_TOPICS,
    CALLBACK_COMMANDS,
    WORKITEM_COMMANDS,
    dlq_topic,
)
from workitem.config import WorkItemSettings
from workitem.main import create_app as create_workitem

from .conftest import QUEUES, routing_yaml
from .test_desktop_e2e import messages, next_of

pytestmark = pytest.mark.integration

PREFIX = "acl"  # the consumer groups the grants name: acl-<service>
QUEUE = QUEUES[-1]  # no other test in this module's stack uses it


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    with secure_kafka_with_layout(tmp_path_factory.mktemp("acl-kafka"), PREFIX) as broker:
        yield broker


@pytest_asyncio.fixture(scope="module")
async def services(
    brokers: Brokers, kafka: SecureKafka, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """The topics made by the operator, then each service started as its own user."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka_config(ADMIN))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, 3, 1) for t in ALL_TOPICS])
    finally:
        await admin.close()
    common: dict[str, Any] = {
        "redis_url": brokers.redis_url,
        "tenant_id": f"acl{uuid.uuid4().hex[:8]}",
        "consumer_group_prefix": PREFIX,
        "log_format": "json",
    }
    routing = routing_yaml(tmp_path_factory.mktemp("acl-routing") / "routing.yaml")
    apps = {
        "workitem": create_workitem(
            WorkItemSettings(**common, **kafka.service_settings("workitem"))
        ),
        "router": create_router(
            RouterSettings(**common, **kafka.service_settings("router"), routing_config=routing)
        ),
        "callback": create_callback(
            CallbackSettings(
                **common, **kafka.service_settings("callback"), default_phone_region="US"
            )
        ),
        "desktop": create_desktop(
            DesktopSettings(
                **common, **kafka.service_settings("desktop"), desktop_heartbeat_seconds=1
            )
        ),
    }
    async with contextlib.AsyncExitStack() as running:
        clients = {
            name: await running.enter_async_context(serving_ready(app, timeout=90))
            for name, app in apps.items()
        }
        yield clients


async def command(
    desktop: httpx.AsyncClient, agent: str, ce_type: str, data: dict[str, Any]
) -> None:
    answer = await desktop.post(
        "/v1/desktop/commands",
        json={"type": ce_type, "data": data},
        headers={**bearer(agent, ["agent"]), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 202, answer.text


async def status_of(workitems: httpx.AsyncClient, wid: str) -> str:
    return str((await workitems.get(f"/v1/workitems/{wid}")).json().get("status"))


async def test_an_item_runs_its_lifecycle_with_each_service_as_its_own_user(
    services: dict[str, httpx.AsyncClient],
) -> None:
    desktop, workitems = services["desktop"], services["workitem"]
    agent = f"agent-{uuid.uuid4().hex[:8]}"
    headers = bearer(agent, ["agent"])
    async with desktop.stream("GET", "/v1/desktop/events", headers=headers) as response:
        stream = messages(response)
        await next_of(stream, "snapshot")
        await command(desktop, agent, "agent.status", {"status": "available", "queues": [QUEUE]})
        created = await workitems.post(
            "/v1/workitems", json={"type": "task", "queue": QUEUE, "description": "ACL"}
        )
        assert created.status_code == 201, created.text
        wid = created.json()["work_item_id"]
        offer = (await next_of(stream, "offer.made"))["data"]["data"]
        assert (offer["work_item_id"], offer["agent_id"]) == (wid, agent)
        ids = {"work_item_id": wid}
        await command(desktop, agent, "offer.accept", {**ids, "offer_id": offer["offer_id"]})
        await next_of(stream, "workitem.accepted")
        await command(desktop, agent, "item.end", ids)
        await command(desktop, agent, "item.complete", {**ids, "disposition_code": "resolved"})
        await next_of(stream, "workitem.completed")
        assert await eventually(lambda: _is(workitems, wid, "archived"), timeout=30)

        callback = await services["callback"].post(
            "/v1/callbacks", json={"customer_phone": "+14155550123", "queue": QUEUE}
        )
        assert callback.status_code == 201, callback.text
        attempt = callback.json()["attempts"][0]["work_item_id"]
        outbound = (await next_of(stream, "offer.made"))["data"]["data"]
        assert (outbound["work_item_id"], outbound["agent_id"]) == (attempt, agent)


async def _is(workitems: httpx.AsyncClient, wid: str, status: str) -> bool:
    return await status_of(workitems, wid) == status


@pytest.mark.parametrize("topic", [AGENT_COMMANDS, WORKITEM_COMMANDS, CALLBACK_COMMANDS])
async def test_a_malformed_command_reaches_its_dead_letter_topic_as_its_consumer(
    kafka: SecureKafka, services: dict[str, httpx.AsyncClient], topic: str
) -> None:
    marker = uuid.uuid4().hex
    producer = AIOKafkaProducer(**kafka.aiokafka_config("desktop"))
    await producer.start()
    try:
        await producer.send_and_wait(topic, f"not json {marker}".encode(), key=marker.encode())
    finally:
        await producer.stop()

    async def dead_lettered() -> bool:
        return any(marker.encode() in value for value in await values_on(kafka, dlq_topic(topic)))

    assert await eventually(dead_lettered, timeout=30)
