"""What an operator scraping the router's /metrics sees, with the work item service
feeding it: its own families only, waiting items per queue and priority, agents, offers."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from router.config import RouterSettings
from router.main import create_app as create_router
from switchboard_devtools.testing import Brokers, eventually, serving_ready
from switchboard_devtools.testing_metrics import (
    COMMAND_FAMILIES,
    COMMON_FAMILIES,
    DEADLINE_FAMILIES,
    OUTBOX_FAMILIES,
    scrape,
    service_families,
    value,
)
from switchboard_schemas.topics import AGENT_COMMANDS
from workitem.config import WorkItemSettings
from workitem.main import create_app as create_workitem

from .conftest import agent_command

pytestmark = pytest.mark.integration

ROUTER_FAMILIES = {
    "switchboard_router_waiting_items",
    "switchboard_router_oldest_waiting_age_seconds",
    "switchboard_router_agents_available",
    "switchboard_router_agents",
    "switchboard_router_queues_unreported",
}
WAITING, STAFFED = f"metrics-{uuid.uuid4().hex[:6]}", f"metrics-{uuid.uuid4().hex[:6]}"
# a tenant of its own: the session's other routers follow the same topics and Redis
TENANT = f"metrics{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Running:
    workitems: httpx.AsyncClient
    router: httpx.AsyncClient
    producer: AIOKafkaProducer

    async def create(self, queue: str, priority: int, item_type: str = "task") -> None:
        item = {
            "type": item_type,
            "channel": "phone" if item_type == "call" else "form",
            "queue": queue,
            "priority": priority,
            "description": "Scraped.",
        }
        response = await self.workitems.post("/v1/workitems", json=item)
        assert response.status_code == 201, response.text


@pytest_asyncio.fixture(scope="module")
async def running(
    brokers: Brokers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Running]:
    routing = tmp_path_factory.mktemp("metrics") / "routing.yaml"
    routing.write_text(json.dumps({"queues": {WAITING: {}, STAFFED: {}}}))
    env: dict[str, Any] = {
        "kafka_bootstrap_servers": brokers.kafka_bootstrap_servers,
        "redis_url": brokers.redis_url,
        "kafka_topic_partitions": 3,
        "consumer_group_prefix": f"metrics-{uuid.uuid4().hex[:8]}",
        "tenant_id": TENANT,
    }
    apps = [
        create_workitem(WorkItemSettings(**env)),
        create_router(RouterSettings(**env, routing_config=routing, offer_timeout_seconds=120)),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=brokers.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            clients = []
            for app in apps:
                clients.append(await stack.enter_async_context(serving_ready(app)))
            yield Running(clients[0], clients[1], producer)
    finally:
        await producer.stop()


async def test_only_the_router_families_are_exported(running: Running) -> None:
    families = await scrape(running.router)

    expected = COMMON_FAMILIES | COMMAND_FAMILIES | OUTBOX_FAMILIES | DEADLINE_FAMILIES
    assert service_families(families) == expected | ROUTER_FAMILIES
    assert value(families, "switchboard_redis_up") == 1.0
    assert value(families, "switchboard_router_queues_unreported") == 0


async def test_waiting_items_are_counted_per_queue_and_priority(running: Running) -> None:
    for priority in (2, 2, 5):
        await running.create(WAITING, priority)

    async def counted() -> dict[str, float | None]:
        families = await scrape(running.router)
        waiting = {
            p: value(families, "switchboard_router_waiting_items", queue=WAITING, priority=p)
            for p in ("1", "2", "5")
        }
        return waiting if waiting == {"1": 0, "2": 2, "5": 1} else {}

    await eventually(counted, timeout=20)
    families = await scrape(running.router)
    age = value(families, "switchboard_router_oldest_waiting_age_seconds", queue=WAITING)
    assert age is not None
    assert 0 < age < 60
    route = {"method": "GET", "route": "/metrics", "status": "200"}
    assert value(families, "switchboard_http_requests_total", **route)


async def test_an_offer_shows_as_a_pending_offer_deadline(running: Running) -> None:
    agent = f"agent-{uuid.uuid4().hex[:8]}"
    status = {"agent_id": agent, "status": "available", "queues": [STAFFED]}
    event = json.dumps(agent_command("agent.status", status, tenantid=TENANT)).encode()
    await running.producer.send_and_wait(AGENT_COMMANDS, event, key=agent.encode())

    async def voice_free(expected: float) -> bool:
        families = await scrape(running.router)
        free = value(families, "switchboard_router_agents_available", queue=STAFFED, kind="voice")
        return free == expected

    await eventually(lambda: voice_free(1), timeout=20)
    before = await offers(running)
    await running.create(STAFFED, 3, item_type="call")

    await eventually(lambda: voice_free(0), timeout=20)  # its one voice slot is offered
    assert await offers(running) >= before + 1
    assert await agents(running) == {"available": 1, "away": 0, "offline": 0}

    status["status"] = "offline"
    event = json.dumps(agent_command("agent.status", status, tenantid=TENANT)).encode()
    await running.producer.send_and_wait(AGENT_COMMANDS, event, key=agent.encode())

    async def offline() -> bool:
        return await agents(running) == {"available": 0, "away": 0, "offline": 1}

    await eventually(offline, timeout=20)


async def agents(running: Running) -> dict[str, float]:
    families = await scrape(running.router)
    return {s.labels["status"]: s.value for s in families["switchboard_router_agents"].samples}


async def offers(running: Running) -> float:
    families = await scrape(running.router)
    samples = families["switchboard_deadlines_pending"].samples
    return sum(s.value for s in samples if s.labels["kind"] == "offer")
